//! Consolidation through the real pipeline: agents that agree, disagree, and hallucinate.

use crate::support::*;
use serde_json::json;

fn repo() -> Repo {
    let r = Repo::with_base(&[("src/cache.rs", "pub struct Cache;\n")]);
    r.write(
        "src/cache.rs",
        "pub struct Cache {\n    map: std::collections::HashMap<String, String>,\n}\n\nimpl Cache {\n    /// Gets a value.\n    pub fn get(&self, key: &str) -> String {\n        self.map.get(key).unwrap().clone()\n    }\n}\n",
    );
    r.write("tests/cache.rs", "#[test]\nfn gets() {}\n");
    r.commit("Add cache lookups\n\nA map-backed cache.");
    r
}

fn answer(findings: serde_json::Value) -> serde_json::Value {
    json!({"schema": 1, "summary": "", "findings": findings})
}

#[test]
fn same_problem_at_overlapping_lines_merges_with_voted_severity_and_reconciliation() {
    let repo = repo();
    let tools = tempfile::tempdir().unwrap();
    let codex = answering_agent(
        tools.path(),
        "codex",
        &answer(json!([{
            "severity": "important",
            "title": "get() panics on a missing key",
            "body": "`self.map.get(key).unwrap()` panics when the key is absent, crashing the caller.",
            "locations": [{"path": "src/cache.rs", "start_line": 8, "quote": "self.map.get(key).unwrap().clone()"}],
            "category": "correctness"
        }])),
    );
    let gemini = answering_agent(
        tools.path(),
        "gemini",
        &answer(json!([{
            "severity": "critical",
            "title": "Unwrap on missing cache key panics",
            "body": "Cache::get calls `unwrap()` on `map.get(key)`; a lookup of a key that is not present panics.",
            "locations": [{"path": "src/cache.rs", "start_line": 7, "end_line": 9}],
            "category": "correctness"
        }])),
    );
    config(&repo, &[("codex", &codex), ("gemini", &gemini)], "");
    let out = repo.run(&["review", "--agents", "codex,gemini", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["id"], "I1");
    assert_eq!(f["severity"], "important", "ties go to the lower severity");
    assert_eq!(f["agreement"], 2);
    let members: Vec<(&str, &str)> = f["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["agent"].as_str().unwrap(),
                m["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        members,
        vec![("codex", "important"), ("gemini", "critical")]
    );
    let rec = v["reconciliation"].as_array().unwrap();
    assert_eq!(rec.len(), 1, "{rec:#?}");
    assert_eq!(rec[0]["agent"], "gemini");
    assert_eq!(rec[0]["from"], "critical");
    assert_eq!(rec[0]["to"], "important");
    assert_eq!(rec[0]["finding"], "I1");
    let gemini_metrics = &v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "gemini")
        .unwrap()["metrics"];
    assert_eq!(gemini_metrics["downgraded"], 1);
    assert_eq!(gemini_metrics["unique_insights"], 0);
    let report = {
        let out = repo.run(&["render", repo.round_dir().to_str().unwrap()]);
        stdout(&out)
    };
    assert!(
        report.contains("Found by codex (important), gemini (critical)"),
        "{report}"
    );
    assert!(
        report.contains(
            "gemini finding 0 “Unwrap on missing cache key panics”: critical → important (I1)"
        ),
        "{report}"
    );
}

#[test]
fn different_problems_at_the_same_lines_stay_apart_and_missing_lines_are_dropped() {
    let repo = repo();
    let tools = tempfile::tempdir().unwrap();
    let a = answering_agent(
        tools.path(),
        "a",
        &answer(json!([{
            "severity": "important",
            "title": "get() panics on a missing key",
            "body": "`unwrap()` on the lookup panics when the key is absent.",
            "locations": [{"path": "src/cache.rs", "start_line": 8}],
            "category": "correctness"
        }, {
            "severity": "important",
            "title": "Stale entries are never evicted",
            "body": "Nothing removes entries; memory grows without bound.",
            "locations": [{"path": "src/cache.rs", "start_line": 400}],
            "category": "resource"
        }])),
    );
    let b = answering_agent(
        tools.path(),
        "b",
        &answer(json!([{
            "severity": "suggestion",
            "title": "Clone of every returned String is wasteful",
            "body": "Returning `&str` avoids allocating a copy of each value on every lookup.",
            "locations": [{"path": "src/cache.rs", "start_line": 8}],
            "category": "performance"
        }, {
            "severity": "critical",
            "title": "SQL injection in query builder",
            "body": "User input flows into a query string.",
            "locations": [{"path": "src/db.rs", "start_line": 3}]
        }])),
    );
    config(&repo, &[("a", &a), ("b", &b)], "");
    let out = repo.run(&["review", "--agents", "a,b", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let by_status = |s: &str| findings.iter().filter(|f| f["status"] == s).count();
    assert_eq!(by_status("reported"), 2, "{findings:#?}");
    assert_eq!(by_status("dropped"), 2, "{findings:#?}");
    let dropped: Vec<&str> = findings
        .iter()
        .filter(|f| f["status"] == "dropped")
        .map(|f| f["drop_reason"].as_str().unwrap())
        .collect();
    assert!(
        dropped
            .iter()
            .any(|r| r.contains("line 400 does not exist")),
        "{dropped:?}"
    );
    assert!(
        dropped
            .iter()
            .any(|r| r.contains("`src/db.rs` does not exist")),
        "{dropped:?}"
    );
    let metrics = |name: &str| {
        v["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()["metrics"]
            .clone()
    };
    assert_eq!(metrics("a")["false_positives"], 1);
    assert_eq!(metrics("b")["false_positives"], 1);
    assert_eq!(
        metrics("b")["coverage_misses"],
        1,
        "b missed the important panic"
    );
}

#[test]
fn a_quote_three_lines_off_is_relocated() {
    let repo = repo();
    let tools = tempfile::tempdir().unwrap();
    let a = answering_agent(
        tools.path(),
        "a",
        &answer(json!([{
            "severity": "important",
            "title": "get() panics on a missing key",
            "body": "`unwrap()` panics.",
            "locations": [{"path": "src/cache.rs", "start_line": 5, "quote": "self.map.get(key).unwrap().clone()"}]
        }])),
    );
    config(&repo, &[("a", &a)], "");
    let out = repo.run(&["review", "--agents", "a", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let loc = &v["findings"][0]["locations"][0];
    assert_eq!(loc["start_line"], 8);
    assert_eq!(loc["relocated_from"], 5);
    assert_eq!(loc["verified"], true);
    assert!(loc["note"].as_str().unwrap().contains("relocated"));
}

#[test]
fn consolidate_command_reads_saved_answers() {
    let repo = repo();
    let tools = tempfile::tempdir().unwrap();
    let f1 = tools.path().join("one.json");
    let f2 = tools.path().join("two.json");
    std::fs::write(&f1, answer(json!([{"severity": "important", "title": "get() panics on a missing key", "body": "unwrap on lookup panics for absent key", "locations": [{"path": "src/cache.rs", "start_line": 8}]}])).to_string()).unwrap();
    std::fs::write(&f2, format!("Here you go:\n```json\n{}\n```\n", answer(json!([{"severity": "suggestion", "title": "Missing key lookup panics via unwrap", "body": "the get lookup unwrap panics for an absent key", "locations": [{"path": "src/cache.rs", "start_line": 8}]}])))).unwrap();
    let out = repo.run(&[
        "consolidate",
        "--agent",
        &format!("one={}", f1.display()),
        "--agent",
        &format!("two={}", f2.display()),
        "--repo",
        repo.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"][0]["severity"], "suggestion");
    assert_eq!(
        v["findings"][0]["members"][1],
        json!({"agent": "two", "index": 0, "severity": "suggestion", "title": "Missing key lookup panics via unwrap"})
    );
    let out = repo.run(&["consolidate", "--agent", "oops"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected NAME=FILE"));
}

#[test]
fn a_partly_valid_finding_is_kept_and_marks_the_bad_citation() {
    let repo = repo();
    let tools = tempfile::tempdir().unwrap();
    let a = answering_agent(
        tools.path(),
        "a",
        &answer(json!([{
            "severity": "important",
            "title": "get() panics on a missing key",
            "body": "`unwrap()` panics.",
            "locations": [
                {"path": "src/cache.rs", "start_line": 8},
                {"path": "src/cache.rs", "start_line": 90}
            ]
        }])),
    );
    config(&repo, &[("a", &a)], "");
    let out = repo.run(&["review", "--agents", "a", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["status"], "reported");
    assert_eq!(f["locations"][0]["verified"], true);
    assert_eq!(f["locations"][1]["verified"], false);
    assert!(f["locations"][1]["note"]
        .as_str()
        .unwrap()
        .contains("line 90 does not exist"));
    assert!(
        f["locations"][1].get("excerpt").is_none(),
        "unverified code is never quoted"
    );
    let md = stdout(&repo.run(&["render", repo.round_dir().to_str().unwrap()]));
    assert!(
        md.contains("`src/cache.rs:90` (citation not verified: line 90 does not exist"),
        "{md}"
    );
}

#[test]
fn consolidate_verifies_against_a_repository_with_a_single_commit() {
    let repo = Repo::new();
    repo.write(
        "src/cache.rs",
        "pub struct Cache;\n\nfn get() {\n    map.get(key).unwrap()\n}\n",
    );
    repo.commit("Initial commit");
    let tools = tempfile::tempdir().unwrap();
    let file = tools.path().join("a.json");
    std::fs::write(&file, answer(json!([
        {"severity": "important", "title": "get() panics", "body": "unwrap on a missing key",
         "locations": [{"path": "src/cache.rs", "start_line": 1, "quote": "map.get(key).unwrap()"}]},
        {"severity": "important", "title": "Imagined bug", "body": "in a file that is not there",
         "locations": [{"path": "src/ghost.rs", "start_line": 1}]}
    ])).to_string()).unwrap();
    let out = repo.run(&[
        "consolidate",
        "--agent",
        &format!("a={}", file.display()),
        "--repo",
        ".",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let f = v["findings"].as_array().unwrap();
    let panic = f.iter().find(|x| x["title"] == "get() panics").unwrap();
    assert_eq!(panic["locations"][0]["verified"], true);
    assert_eq!(
        panic["locations"][0]["start_line"], 4,
        "relocated by its quote"
    );
    let ghost = f.iter().find(|x| x["title"] == "Imagined bug").unwrap();
    assert_eq!(ghost["status"], "dropped");
    assert_eq!(v["change"]["head_sha"].as_str().unwrap().len(), 40);
}
