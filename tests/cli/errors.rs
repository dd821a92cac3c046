//! Bad input: a one-line error that says what to do, exit 2, nothing half-written.

use crate::support::*;

fn assert_clean_failure(out: &std::process::Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err}");
    assert!(stdout(out).is_empty(), "nothing on stdout: {}", stdout(out));
}

#[test]
fn not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["review"]);
    assert_clean_failure(&out, "is not inside a git repository");
    assert!(!dir.path().join(".deep-review").exists());
}

#[test]
fn unknown_ref() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    let out = repo.run(&["review", "--base", "no-such-branch"]);
    assert_clean_failure(&out, "unknown git ref `no-such-branch`");
    assert!(!repo.path().join(".deep-review").exists());
}

#[test]
fn empty_change() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    let out = repo.run(&["review"]);
    assert_clean_failure(&out, "nothing to review");
    assert!(!repo.path().join(".deep-review").exists());
}

#[test]
fn bad_config_names_the_file_and_the_fix() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("Change a");
    repo.write(".deep-review.toml", "[agents.x]\nkind = \"command\"\n");
    let out = repo.run(&["review"]);
    assert_clean_failure(&out, "needs `command = [");
    assert!(stderr(&out).contains(".deep-review.toml"));
    assert!(!repo.path().join(".deep-review").exists());
}

#[test]
fn unknown_agent_name() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("Change a");
    let out = repo.run(&["review", "--agents", "builtin,ghost"]);
    assert_clean_failure(&out, "unknown agent `ghost`");
}

#[test]
fn missing_command_is_a_failed_column_not_an_abort() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("Change a");
    repo.write(
        ".deep-review.toml",
        "[agents.ghost]\nkind = \"command\"\ncommand = [\"/nonexistent/reviewer\"]\n",
    );
    let out = repo.run(&["review", "--format", "json"]);
    // 3: the only model reviewer failed, so the builtin's review has no verdict.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ghost = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "ghost")
        .unwrap()
        .clone();
    assert_eq!(ghost["outcome"]["kind"], "not_installed");
    assert!(ghost["outcome"]["message"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/reviewer"));
}
