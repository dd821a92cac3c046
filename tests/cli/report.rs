//! Snapshots of the Markdown report, and re-rendering a saved review.

use crate::support::*;
use serde_json::json;

fn redact(text: &str) -> String {
    let mut settings_filters: Vec<(regex::Regex, &str)> = vec![
        (
            regex::Regex::new(r"\d{8}-\d{6}-local").unwrap(),
            "[ID]-local",
        ),
        (
            regex::Regex::new(r"\| Date \| [^|]+\|").unwrap(),
            "| Date | [DATE] |",
        ),
        (
            regex::Regex::new(r"\| Wall-clock time \| [^|]+\|").unwrap(),
            "| Wall-clock time | [TIME] |",
        ),
        (
            regex::Regex::new(r"\| Duration \|.*").unwrap(),
            "| Duration | [DURATIONS] |",
        ),
        (
            regex::Regex::new(r"Answered in [0-9.]+m? ?[0-9]*s").unwrap(),
            "Answered in [TIME]",
        ),
        (regex::Regex::new(r"/tmp/[^\s`'\x22)]+").unwrap(), "[TMP]"),
        (regex::Regex::new(r"\.tmp[A-Za-z0-9]{6}").unwrap(), "[REPO]"),
    ];
    let mut out = text.to_string();
    for (re, with) in settings_filters.drain(..) {
        out = re.replace_all(&out, with).into_owned();
    }
    out
}

/// A repo whose one commit adds `Cache::get`, which unwraps a map lookup (src/cache.rs line
/// 7), and a temp dir for the agents' scripts.
pub(crate) fn cache_change() -> (Repo, tempfile::TempDir) {
    let repo = Repo::with_base(&[("src/cache.rs", "pub struct Cache;\n")]);
    repo.write(
        "src/cache.rs",
        "pub struct Cache {\n    map: std::collections::HashMap<String, String>,\n}\n\nimpl Cache {\n    pub fn get(&self, key: &str) -> String {\n        self.map.get(key).unwrap().clone()\n    }\n}\n",
    );
    repo.commit("Add cache lookups");
    (repo, tempfile::tempdir().unwrap())
}

fn scenario() -> (Repo, tempfile::TempDir) {
    let (repo, tools) = cache_change();
    let codex = answering_agent(
        tools.path(),
        "codex",
        &json!({
            "schema": 1,
            "summary": "The lookup panics on a missing key.",
            "verdict": "merge_with_fixes",
            "findings": [{
                "severity": "important",
                "title": "get() panics on a missing key",
                "body": "`self.map.get(key).unwrap()` panics when the key is absent, crashing the caller.",
                "locations": [{"path": "src/cache.rs", "start_line": 7, "quote": "self.map.get(key).unwrap().clone()"}],
                "fix": "Return `Option<String>`: `self.map.get(key).cloned()`.",
                "scope": "in_scope",
                "category": "correctness",
                "confidence": 0.9
            }],
            "observations": [{"kind": "strength", "title": "Small, focused change", "body": "One type, one method."}],
            "assessments": {"testing": "No test covers a missing key."},
            "context_updates": [{"action": "add", "note": "Cache lookups must not panic.", "why": "Callers treat misses as normal."}]
        }),
    );
    let gemini = answering_agent(
        tools.path(),
        "gemini",
        &json!({
            "schema": 1,
            "summary": "Unwrap on lookup.",
            "findings": [{
                "severity": "critical",
                "title": "Unwrap on missing cache key panics",
                "body": "Cache::get calls `unwrap()` on `map.get(key)`; a lookup of an absent key panics.",
                "locations": [{"path": "src/cache.rs", "start_line": 6, "end_line": 8}],
                "category": "correctness"
            }]
        }),
    );
    let hang = script(tools.path(), "slow.sh", "sleep 30");
    config(
        &repo,
        &[("codex", &codex), ("gemini", &gemini), ("slow", &hang)],
        "[review]\ntimeout = \"2s\"\n",
    );
    (repo, tools)
}

#[test]
fn markdown_report_snapshot() {
    let (repo, _tools) = scenario();
    let out = repo.run(&["review"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("report_three_agents", redact(&stdout(&out)));
}

#[test]
fn render_reproduces_the_saved_report_in_both_formats() {
    let (repo, _tools) = scenario();
    let out = repo.run(&["review"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let round = repo.round_dir();
    let review_dir = round.parent().unwrap();
    for target in [review_dir, round.as_path(), &round.join("review.json")] {
        let md = repo.run(&["render", target.to_str().unwrap()]);
        assert_eq!(md.status.code(), Some(0), "{}", stderr(&md));
        assert_eq!(stdout(&md), stdout(&out));
    }
    let json = repo.run(&["render", round.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        stdout(&json),
        std::fs::read_to_string(round.join("review.json")).unwrap()
    );
    let bad = repo.run(&["render", repo.path().to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("holds no review.json"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn schema_command_prints_the_json_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["properties"]["schema"]["const"], 1);
    assert_eq!(
        v["properties"]["findings"]["items"]["properties"]["severity"]["enum"],
        json!(["critical", "important", "suggestion"])
    );
}
