//! `deep-review hook install|uninstall`, and the hook itself run by a real `git push` to a
//! local bare repository.

use crate::support::*;
use crate::terminal::run_env;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::Output;

/// A clone with a bare `origin` that has its `main`, and a feature branch checked out.
struct Pushing {
    repo: Repo,
    _remote: tempfile::TempDir,
    remote: PathBuf,
}

fn pushing() -> Pushing {
    let repo = Repo::with_base(&[("app.py", "def main():\n    return 1\n")]);
    let remote_dir = tempfile::tempdir().unwrap();
    let remote = remote_dir.path().join("origin.git");
    let init = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&remote)
        .output()
        .unwrap();
    assert!(init.status.success());
    repo.git(&["remote", "add", "origin", &remote.display().to_string()]);
    repo.git(&["push", "-q", "origin", "main"]);
    Pushing {
        repo,
        _remote: remote_dir,
        remote,
    }
}

/// `git push` as a user runs it: the hook finds deep-review where it was installed from.
fn push(p: &Pushing, args: &[&str]) -> Output {
    Command::new("git")
        .arg("push")
        .args(args)
        .current_dir(p.repo.path())
        .env("HOME", p.repo.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env(
            "DEEP_REVIEW_CONFIG",
            p.repo.path().join("no-user-config.toml"),
        )
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("git push runs")
}

fn remote_head(p: &Pushing, branch: &str) -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--verify", "-q", branch])
        .current_dir(&p.remote)
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn hook(p: &Pushing, args: &[&str]) -> Output {
    let mut all = vec!["hook"];
    all.extend_from_slice(args);
    run_env(p.repo.path(), &all, &[], None)
}

const KEY: &str = "def connect():\n    key_id = \"AKIAZ7QRSTUVWX2345AB\"\n    return key_id\n";

#[test]
fn the_hook_reviews_the_pushed_commits_and_lets_the_push_through() {
    let p = pushing();
    let out = hook(&p, &["install"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("it never blocks the push"),
        "{}",
        stderr(&out)
    );
    let installed = p.repo.path().join(".git/hooks/pre-push");
    assert!(installed.exists());

    p.repo.write("keys.py", KEY);
    p.repo.commit("Add the connection");
    let head = p.repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let out = push(&p, &["-q", "origin", "feature"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // The review ran on the pushed commit, with builtin, and its report is on the terminal.
    assert!(
        err.contains("reviewing refs/heads/feature before it is pushed"),
        "{err}"
    );
    assert!(err.contains("with builtin;"), "{err}");
    assert!(err.contains("# Deep Review"), "{err}");
    assert!(err.contains("## Critical Issues\n\n### C1."), "{err}");
    assert!(
        !err.contains("AKIAZ7QRSTUVWX2345AB"),
        "the key is masked: {err}"
    );
    assert_eq!(remote_head(&p, "feature").as_deref(), Some(head.as_str()));

    // A second push reviews only what the remote does not have yet.
    p.repo.write("notes.md", "# Notes\n");
    p.repo.commit("Add notes");
    let out = push(&p, &["-q", "origin", "feature"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("1 commit, 1 file"), "{err}");
}

#[test]
fn with_fail_on_a_finding_at_that_level_blocks_the_push() {
    let p = pushing();
    let out = hook(&p, &["install", "--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    p.repo.write("keys.py", KEY);
    p.repo.commit("Add the connection");
    let out = push(&p, &["-q", "origin", "feature"]);
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("a finding of critical or higher: push blocked"),
        "{err}"
    );
    assert_eq!(remote_head(&p, "feature"), None);
    // Below the level, the push goes on.
    p.repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    p.repo.write("app.py", "def main():\n    return 2\n");
    p.repo.commit("Return two");
    let out = push(&p, &["-q", "origin", "feature"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(remote_head(&p, "feature").is_some());
    // DEEP_REVIEW_SKIP skips the review.
    p.repo.write("keys.py", KEY);
    p.repo.commit("Add the connection again");
    let skipped = Command::new("git")
        .args(["push", "-q", "origin", "feature"])
        .current_dir(p.repo.path())
        .env("HOME", p.repo.path())
        .env("DEEP_REVIEW_SKIP", "1")
        .output()
        .unwrap();
    assert_eq!(skipped.status.code(), Some(0));
    assert!(!stderr(&skipped).contains("Deep Review"));
}

#[test]
fn a_foreign_hook_is_kept_unless_forced_and_uninstall_removes_only_ours() {
    let p = pushing();
    let hooks = p.repo.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let theirs = "#!/bin/sh\necho their hook\n";
    std::fs::write(hooks.join("pre-push"), theirs).unwrap();
    let out = hook(&p, &["install"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not deep-review's"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        theirs
    );
    // Uninstall refuses it too.
    let out = hook(&p, &["uninstall"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        theirs
    );
    // Forced: theirs is kept aside, and put back by uninstall.
    let out = hook(&p, &["install", "--force", "--agents", "builtin"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push.deep-review-backup")).unwrap(),
        theirs
    );
    // Reinstalling over ours needs no --force.
    let out = hook(&p, &["install", "--fail-on", "important"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = hook(&p, &["uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        theirs
    );
    assert!(!hooks.join("pre-push.deep-review-backup").exists());
    let bad = hook(&p, &["install", "--agents", "a;rm -rf /", "--force"]);
    assert_eq!(bad.status.code(), Some(2));
    let unknown = hook(&p, &["install", "--agents", "builtin,nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("unknown agent `nope`"),
        "{}",
        stderr(&unknown)
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        theirs
    );
}

#[test]
fn the_hook_goes_where_git_looks_core_hooks_path_and_worktrees() {
    let p = pushing();
    p.repo.git(&["config", "core.hooksPath", ".githooks"]);
    let out = hook(&p, &["install"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(p.repo.path().join(".githooks/pre-push").exists());
    assert!(!p.repo.path().join(".git/hooks/pre-push").exists());
    let out = hook(&p, &["uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!p.repo.path().join(".githooks/pre-push").exists());

    // From a linked worktree: the repository's common hooks folder, which git runs there too.
    p.repo.git(&["config", "--unset", "core.hooksPath"]);
    let wt_dir = tempfile::tempdir().unwrap();
    let wt = wt_dir.path().join("wt");
    p.repo.git(&[
        "worktree",
        "add",
        "-q",
        &wt.display().to_string(),
        "-b",
        "side",
    ]);
    let out = run_env(&wt, &["hook", "install"], &[], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        p.repo.path().join(".git/hooks/pre-push").exists(),
        "{}",
        stderr(&out)
    );
    std::fs::write(wt.join("keys.py"), KEY).unwrap();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&wt)
            .env("HOME", p.repo.path())
            .env("GIT_AUTHOR_NAME", "A")
            .env("GIT_AUTHOR_EMAIL", "a@example.com")
            .env("GIT_COMMITTER_NAME", "A")
            .env("GIT_COMMITTER_EMAIL", "a@example.com")
            .env("DEEP_REVIEW_CONFIG", wt.join("none.toml"))
            .output()
            .unwrap()
    };
    assert!(git(&["add", "-A"]).status.success());
    assert!(git(&["commit", "-q", "-m", "Add keys"]).status.success());
    let out = git(&["push", "-q", "origin", "side"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("# Deep Review"), "{}", stderr(&out));
}

/// The `entry` of hook `id` in .pre-commit-hooks.yaml.
fn pre_commit_entry(id: &str) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let hook = text
        .split("\n- id: ")
        .find(|h| h.starts_with(&format!("{id}\n")))
        .unwrap_or_else(|| panic!("no hook {id}:\n{text}"));
    assert!(hook.contains("language: system"), "{hook}");
    hook.lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .unwrap()
        .to_string()
}

/// Runs a pre-commit entry as pre-commit does (its args appended), with deep-review on PATH.
fn run_entry(dir: &Path, entry: &str, vars: &[(&str, &str)]) -> Output {
    let bin_dir = Path::new(BIN).parent().unwrap();
    Command::new("sh")
        .arg("-c")
        .arg(format!("{entry} --agents builtin"))
        .current_dir(dir)
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .env("DEEP_REVIEW_CONFIG", dir.join("no-user-config.toml"))
        .envs(vars.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn the_pre_commit_hooks_review_the_pushed_range_and_the_working_tree() {
    let p = pushing();
    let push_entry = pre_commit_entry("deep-review");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    assert!(text.contains("stages: [pre-push]"), "{text}");
    p.repo.write("keys.py", KEY);
    p.repo.commit("Add the connection");
    let from = p.repo.git(&["rev-parse", "main"]).trim().to_string();
    let to = p.repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let out = run_entry(
        p.repo.path(),
        &push_entry,
        &[("PRE_COMMIT_FROM_REF", &from), ("PRE_COMMIT_TO_REF", &to)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("### C1."), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!("..{to}")),
        "{}",
        stderr(&out)
    );

    p.repo.write("app.py", "def main():\n    return 3\n");
    let out = run_entry(
        p.repo.path(),
        &pre_commit_entry("deep-review-uncommitted"),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("working tree"), "{}", stderr(&out));
}
