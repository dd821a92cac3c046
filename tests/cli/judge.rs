//! The judge: a command agent that reads the clusters and calibrates them.

use crate::support::*;
use serde_json::json;

fn scenario(judge_answer: &str) -> (Repo, tempfile::TempDir) {
    let repo = Repo::with_base(&[("src/cache.rs", "pub struct Cache;\n")]);
    repo.write(
        "src/cache.rs",
        "pub struct Cache {\n    map: std::collections::HashMap<String, String>,\n}\n\nimpl Cache {\n    pub fn get(&self, key: &str) -> String {\n        self.map.get(key).unwrap().clone()\n    }\n}\n",
    );
    repo.write("tests/cache.rs", "#[test]\nfn gets() {}\n");
    repo.commit("Add cache lookups\n\nA map-backed cache.");
    let tools = tempfile::tempdir().unwrap();
    let panic = |severity: &str, title: &str| {
        json!({"severity": severity, "title": title,
            "body": "`self.map.get(key).unwrap()` panics when the key is absent, crashing the caller.",
            "locations": [{"path": "src/cache.rs", "start_line": 7}], "category": "correctness"})
    };
    let codex = answering_agent(
        tools.path(),
        "codex",
        &json!({"schema": 1, "summary": "", "findings": [panic("important", "get() panics on a missing key")]}),
    );
    let gemini = answering_agent(
        tools.path(),
        "gemini",
        &json!({"schema": 1, "summary": "", "findings": [
            panic("critical", "Unwrap on a missing cache key panics"),
            {"severity": "suggestion", "title": "Cloning every returned String is wasteful",
             "body": "Returning `&str` avoids allocating a copy on each lookup.",
             "locations": [{"path": "src/cache.rs", "start_line": 6}], "category": "performance", "confidence": 0.9}
        ]}),
    );
    let answer_file = tools.path().join("judge-answer.txt");
    std::fs::write(&answer_file, judge_answer).unwrap();
    let seen = tools.path().join("judge-brief.txt");
    let judge = script(
        tools.path(),
        "judge.sh",
        &format!(
            "cat > '{}'\ncat '{}'",
            seen.display(),
            answer_file.display()
        ),
    );
    config(
        &repo,
        &[("codex", &codex), ("gemini", &gemini), ("referee", &judge)],
        "[review]\nagents = [\"codex\", \"gemini\"]\n",
    );
    (repo, tools)
}

fn review(repo: &Repo, extra: &[&str]) -> serde_json::Value {
    // Several reviews of one head: each runs (`--rerun`).
    let mut args = vec!["review", "--format", "json", "--rerun"];
    args.extend(extra);
    let out = repo.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn a_valid_judge_answer_recalibrates_refutes_and_writes_the_prose() {
    let answer = json!({
        "judge": 1,
        "severities": [{"finding": "I1", "severity": "critical", "why": "Every miss crashes the service, and misses are routine"}],
        "refuted": [{"finding": "S1", "why": "The String is built anyway by the caller; returning &str would not remove the allocation"}],
        "summary": "The cache panics on every miss; fix that before merging.",
        "verdict_rationale": "a crash on a routine path blocks the merge.",
        "retro": [{"agent": "gemini", "text": "Saw the crash and graded it right; its performance note did not hold."}],
        "context_updates": [{"action": "add", "note": "Cache misses are routine here.", "why": "Callers probe before insert."}]
    })
    .to_string();
    let (repo, tools) = scenario(&format!("My ruling:\n```json\n{answer}\n```\n"));
    let before = review(&repo, &[]);
    assert_eq!(before["findings"][0]["id"], "I1");
    assert_eq!(before["findings"][1]["id"], "S1");

    let v = review(&repo, &["--judge", "referee"]);
    let brief = std::fs::read_to_string(tools.path().join("judge-brief.txt")).unwrap();
    assert!(
        brief.contains("### I1 (important, reported, agreement 2)"),
        "{brief}"
    );
    assert!(
        brief.contains("`gemini` #1 (suggestion): Cloning every returned String is wasteful"),
        "{brief}"
    );
    assert!(!brief.contains("\"type\":\"result\""), "no raw transcripts");

    let findings = v["findings"].as_array().unwrap();
    let crash = findings.iter().find(|f| f["agreement"] == 2).unwrap();
    assert_eq!(crash["id"], "C1");
    assert_eq!(crash["severity"], "critical");
    assert!(
        crash["calibration"]
            .as_str()
            .unwrap()
            .starts_with("Every miss crashes the service"),
        "{crash:#}"
    );
    let refuted = findings.iter().find(|f| f["status"] == "dropped").unwrap();
    assert!(refuted["drop_reason"]
        .as_str()
        .unwrap()
        .starts_with("refuted by the judge (referee)"));
    // Reconciliation: codex's important raised to critical by the judge; gemini's suggestion dropped.
    let rec = v["reconciliation"].as_array().unwrap();
    assert!(
        rec.iter().any(|e| e["agent"] == "codex"
            && e["from"] == "important"
            && e["to"] == "critical"
            && e["reason"].as_str().unwrap().contains("the judge, referee")),
        "{rec:#?}"
    );
    assert!(
        rec.iter()
            .any(|e| e["agent"] == "gemini" && e["from"] == "suggestion" && e.get("to").is_none()),
        "{rec:#?}"
    );
    assert_eq!(v["verdict"], "do_not_merge");
    assert_eq!(
        v["summary"],
        "The cache panics on every miss; fix that before merging."
    );
    assert_eq!(
        v["verdict_rationale"],
        "a crash on a routine path blocks the merge."
    );
    let agents = v["agents"].as_array().unwrap();
    let col = |n: &str| agents.iter().find(|a| a["name"] == n).unwrap().clone();
    assert_eq!(
        col("gemini")["retro"],
        "Saw the crash and graded it right; its performance note did not hold."
    );
    assert_eq!(
        col("gemini")["metrics"]["false_positives"],
        1,
        "refuted counts as a false positive"
    );
    assert_eq!(col("referee")["role"], "judge");
    assert!(col("referee")["metrics"]["duration_ms"].as_u64().is_some());
    assert!(v["context_updates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["agents"] == json!(["referee"])));
    let md = stdout(&repo.run(&["render", repo.round_dir().to_str().unwrap()]));
    assert!(md.contains("| Judge | referee |"), "{md}");
    assert!(md.contains("### Judge: referee"), "{md}");
    // The judge reports no findings of its own: its column leaves the reviewer rows blank
    // and keeps what was measured of its run.
    let row = |label: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {label} |")))
            .unwrap()
            .to_string()
    };
    assert!(row("Findings").ends_with("| — |"), "{}", row("Findings"));
    assert!(
        row("Coverage misses").ends_with("| — |"),
        "{}",
        row("Coverage misses")
    );
    assert!(row("Outcome").ends_with("| ok |"), "{}", row("Outcome"));
}

#[test]
fn a_garbage_judge_answer_leaves_the_deterministic_review_intact() {
    let (repo, _tools) = scenario("Looks great to me!");
    let before = review(&repo, &[]);
    let after = review(&repo, &["--judge", "referee"]);
    assert_eq!(after["findings"], before["findings"]);
    assert_eq!(after["reconciliation"], before["reconciliation"]);
    assert_eq!(after["summary"], before["summary"]);
    let notes = after["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("not valid judge JSON")),
        "{notes:?}"
    );
    let judge = after["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["role"] == "judge")
        .unwrap()
        .clone();
    assert!(
        judge["retro"].as_str().unwrap().contains("ignored"),
        "{judge:#}"
    );
}

#[test]
fn judge_entries_that_name_unknown_findings_are_ignored_with_a_note() {
    let answer = json!({"judge": 1, "summary": "ok", "verdict_rationale": "ok",
        "severities": [{"finding": "I9", "severity": "critical", "why": "made up"}]})
    .to_string();
    let (repo, _tools) = scenario(&answer);
    let v = review(&repo, &["--judge", "referee"]);
    assert_eq!(v["findings"][0]["severity"], "important");
    let notes = v["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("ignored severity for I9")),
        "{notes:?}"
    );
    let out = repo.run(&["review", "--judge", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown judge `nobody`"));
}
