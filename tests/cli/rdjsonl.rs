//! `--format rdjsonl`: reviewdog's Diagnostic Format, every line valid against reviewdog's
//! published schema (vendored in tests/fixtures/reviewdog), and the README's GitLab recipe.
//!
//! reviewdog itself is not run: it is not packaged for crates.io, PyPI, npm or Debian, the
//! registries CI reaches.

use crate::sarif::python;
use crate::sarif::review_with_fixes;
use crate::support::*;
use serde_json::json;
use std::path::Path;
use std::path::PathBuf;

fn schema() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/reviewdog/Diagnostic.json"
    ))
}

/// Validates each line of `rdjsonl` against reviewdog's Diagnostic schema; the error, if any.
fn check(py: &Path, rdjsonl: &str) -> Result<(), String> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), rdjsonl).unwrap();
    let script = r#"import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft4Validator(schema)
for n, line in enumerate(open(sys.argv[2]), 1):
    try:
        validator.validate(json.loads(line))
    except Exception as e:
        sys.exit(f"line {n}: {e}")
"#;
    let out = std::process::Command::new(py)
        .args(["-c", script])
        .arg(schema())
        .arg(file.path())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Every line valid, and the validator really applies the schema: a diagnostic with an
/// unknown severity or a line number as text is refused.
fn validate(rdjsonl: &str) {
    let Some(py) = python() else { return };
    check(&py, rdjsonl).unwrap_or_else(|e| panic!("rdjsonl is not valid: {e}\n{rdjsonl}"));
    let bad = json!({"message": "m", "severity": "FATAL"}).to_string();
    assert!(check(&py, &bad).is_err(), "an unknown severity passed");
    let bad = json!({"message": "m", "location": {"path": "a", "range": {"start": {"line": "7"}}}})
        .to_string();
    assert!(check(&py, &bad).is_err(), "a line number as text passed");
}

fn lines(text: &str) -> Vec<serde_json::Value> {
    assert!(text.ends_with('\n'), "newline-terminated: {text:?}");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn rdjsonl_is_reviewdogs_format_with_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    let file = review_with_fixes(dir.path());
    let out = run_in(
        dir.path(),
        &["render", file.to_str().unwrap(), "--format", "rdjsonl"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    validate(&text);
    let review: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let located = review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["status"] == "reported"
                && f["locations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["verified"] == true)
        })
        .count();
    let diagnostics = lines(&text);
    assert_eq!(diagnostics.len(), located, "{text}");
    assert!(diagnostics.len() >= 2, "{text}");

    let security = diagnostics
        .iter()
        .find(|d| d["code"]["value"] == "security")
        .unwrap_or_else(|| panic!("no security diagnostic in {text}"));
    assert_eq!(security["severity"], "WARNING", "important");
    assert_eq!(security["source"]["name"], "deep-review");
    let message = security["message"].as_str().unwrap();
    assert!(
        message.starts_with("I1 [important] get() panics on a missing key"),
        "{message}"
    );
    assert!(
        message.ends_with("Found by a (important), b (critical)."),
        "{message}"
    );
    let place =
        json!({"path": "src/cache.rs", "range": {"start": {"line": 7}, "end": {"line": 7}}});
    assert_eq!(security["location"], place);
    assert_eq!(
        security["suggestions"],
        json!([{"range": place["range"], "text": "        self.map.get(key).cloned().unwrap_or_default()"}])
    );

    let deletion = diagnostics
        .iter()
        .find(|d| d["code"]["value"] == "style")
        .unwrap();
    assert_eq!(deletion["severity"], "INFO");
    assert_eq!(
        deletion["location"]["range"],
        json!({"start": {"line": 6}, "end": {"line": 8}}),
        "placed on the suggestion's lines"
    );
    assert_eq!(
        deletion["related_locations"],
        json!([{"location": place}]),
        "the cited line it no longer sits on"
    );
    assert_eq!(deletion["suggestions"][0]["text"], "");
}

/// The `script` lines of the README's `.gitlab-ci.yml` recipe, reviewdog's left out.
fn gitlab_recipe() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.contains("gitlab-mr-discussion"))
        .expect("the README's GitLab recipe");
    let script = block
        .split("\n  script:\n")
        .nth(1)
        .expect("a script")
        .lines()
        .take_while(|l| l.starts_with("    - "))
        .map(|l| l.trim_start_matches("    - ").to_string())
        .collect::<Vec<_>>();
    assert!(
        script.iter().any(|l| l.starts_with("reviewdog -f=rdjsonl")),
        "{script:?}"
    );
    script
        .into_iter()
        .filter(|l| !l.starts_with("reviewdog "))
        .collect()
}

#[test]
fn the_readmes_gitlab_recipe_writes_valid_rdjsonl() {
    let origin = Repo::with_base(&[("src/app.py", "def main():\n    return 1\n")]);
    origin.write(
        "src/app.py",
        "def main():\n    return 1\n\n\ndef connect():\n    key_id = \"AKIAZ7QRSTUVWX2345AB\"\n    return key_id\n",
    );
    origin.commit("Add connection helper");
    // GitLab's checkout: a clone of the merge request's head, detached.
    let work = tempfile::tempdir().unwrap();
    let clone = work.path().join("mr");
    let head = origin.git(&["rev-parse", "HEAD"]);
    let git = |args: &[&str], dir: &Path| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(
        &["clone", "-q", origin.path().to_str().unwrap(), "mr"],
        work.path(),
    );
    git(&["checkout", "-q", "--detach", head.trim()], &clone);

    let bin_dir = Path::new(BIN).parent().unwrap();
    for line in gitlab_recipe() {
        let out = std::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &line])
            .current_dir(&clone)
            .env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .env(
                "DEEP_REVIEW_CONFIG",
                work.path().join("no-user-config.toml"),
            )
            .env("HOME", work.path())
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .env_remove("GEMINI_API_KEY")
            .output()
            .unwrap();
        assert!(out.status.success(), "`{line}` failed: {}", stderr(&out));
    }
    let text = std::fs::read_to_string(clone.join("deep-review.rdjsonl")).unwrap();
    validate(&text);
    let diagnostics = lines(&text);
    let key = diagnostics
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("AWS access key ID"))
        .unwrap_or_else(|| panic!("the planted key is reported: {text}"));
    assert_eq!(key["severity"], "ERROR", "critical");
    assert_eq!(
        key["location"],
        json!({"path": "src/app.py", "range": {"start": {"line": 6}, "end": {"line": 6}}})
    );
    assert!(
        !text.contains("AKIAZ7QRSTUVWX2345AB"),
        "the secret stays out: {text}"
    );
}
