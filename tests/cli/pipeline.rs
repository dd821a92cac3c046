//! The review pipeline with real subprocess agents: parallel runs, failures, artifacts.

use crate::support::*;
use serde_json::json;
use std::time::Duration;
use std::time::Instant;

fn feature_repo() -> Repo {
    let r = Repo::with_base(&[(
        "src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
    )]);
    r.write(
        "src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\n/// Divides.\npub fn div(a: i32, b: i32) -> i32 {\n    a / b\n}\n",
    );
    r.write(
        "tests/div.rs",
        "#[test]\nfn divides() {\n    assert_eq!(deep::div(4, 2), 2);\n}\n",
    );
    r.commit("Add div\n\nDivision for the calculator.");
    r
}

fn div_finding(severity: &str) -> serde_json::Value {
    json!({
        "severity": severity,
        "title": "Division by zero panics in div",
        "body": "`div` divides by `b` without checking for zero, so `div(1, 0)` panics and takes the caller down.",
        "locations": [{"path": "src/lib.rs", "start_line": 7, "quote": "a / b"}],
        "fix": "Return `Option<i32>` and use `checked_div`.",
        "category": "correctness",
        "confidence": 0.9
    })
}

#[test]
fn four_agents_one_answers_one_hangs_one_crashes_one_babbles() {
    let repo = feature_repo();
    let tools = tempfile::tempdir().unwrap();
    let good = answering_agent(
        tools.path(),
        "good",
        &json!({"schema": 1, "summary": "One real bug.", "verdict": "merge_with_fixes", "findings": [div_finding("important")]}),
    );
    // The hanging agent starts a grandchild that would outlive a naive kill.
    let hang = script(
        tools.path(),
        "hang.sh",
        "echo 'thinking…'\nsleep 600 &\nwait",
    );
    let crash = script(
        tools.path(),
        "crash.sh",
        "cat > /dev/null\necho '{\"schema\": 1, \"summ'\necho 'fatal: model exploded' >&2\nexit 3",
    );
    let garbage = script(
        tools.path(),
        "garbage.sh",
        "cat > /dev/null\necho 'LGTM, ship it!'",
    );
    config(
        &repo,
        &[
            ("good", &good),
            ("hang", &hang),
            ("crash", &crash),
            ("garbage", &garbage),
        ],
        "",
    );

    let started = Instant::now();
    let out = repo.run(&[
        "review",
        "--agents",
        "good,hang,crash,garbage",
        "--timeout",
        "3s",
    ]);
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");

    let review = repo.review_json();
    let agents = review["agents"].as_array().unwrap();
    let outcome =
        |name: &str| agents.iter().find(|a| a["name"] == name).unwrap()["outcome"].clone();
    assert_eq!(outcome("good")["status"], "ok");
    assert_eq!(outcome("hang")["kind"], "timed_out");
    assert_eq!(outcome("crash")["kind"], "crashed");
    assert!(outcome("crash")["message"]
        .as_str()
        .unwrap()
        .contains("status 3"));
    assert_eq!(outcome("garbage")["kind"], "malformed");

    let crash_col = agents.iter().find(|a| a["name"] == "crash").unwrap();
    assert!(crash_col["stderr_tail"]
        .as_str()
        .unwrap()
        .contains("model exploded"));

    let findings = review["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["id"], "I1");
    assert_eq!(findings[0]["members"][0]["agent"], "good");

    // Every byte each agent printed is on disk.
    let round = repo.round_dir();
    let read = |p: &str| std::fs::read_to_string(round.join(p)).unwrap();
    assert!(read("agents/good/stdout.txt").contains("Division by zero"));
    assert_eq!(read("agents/hang/stdout.txt"), "thinking…\n");
    assert!(read("agents/crash/stdout.txt").contains("\"summ"));
    assert!(read("agents/crash/stderr.txt").contains("model exploded"));
    assert_eq!(read("agents/garbage/stdout.txt"), "LGTM, ship it!\n");
    for name in ["good", "hang", "crash", "garbage"] {
        let run: serde_json::Value =
            serde_json::from_str(&read(&format!("agents/{name}/run.json"))).unwrap();
        assert_eq!(run["name"], name);
    }
    assert!(read("brief.md").contains("Division for the calculator."));

    // The report explains all three failures.
    let report = stdout(&out);
    assert!(
        report.contains("### I1. Division by zero panics in div"),
        "{report}"
    );
    assert!(report.contains("failed: timed out"), "{report}");
    assert!(report.contains("failed: crashed"), "{report}");
    assert!(report.contains("failed: malformed answer"), "{report}");
    assert!(report.contains("fatal: model exploded"), "{report}");
    assert_eq!(report, read("report.md"));
    // Progress went to stderr, not stdout.
    assert!(stderr(&out).contains("hang: failed"), "{}", stderr(&out));
    assert!(!report.contains("deep-review: "));
}

#[test]
fn the_brief_reaches_agents_on_stdin_with_untrusted_text_fenced() {
    let repo = feature_repo();
    repo.write("AGENTS.md", "Always run cargo fmt.\n");
    repo.commit("Add agent notes");
    let tools = tempfile::tempdir().unwrap();
    let seen = tools.path().join("seen-brief.md");
    let spy = script(
        tools.path(),
        "spy.sh",
        &format!(
            "cat > '{}'\necho '{{\"schema\":1,\"summary\":\"\",\"findings\":[]}}'",
            seen.display()
        ),
    );
    config(&repo, &[("spy", &spy)], "");
    let out = repo.run(&["review", "--agents", "spy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let brief = std::fs::read_to_string(&seen).unwrap();
    assert!(brief.contains("<<<UNTRUSTED-COMMITS"), "{brief}");
    assert!(brief.contains("<<<UNTRUSTED-DIFF"), "{brief}");
    assert!(brief.contains("Always run cargo fmt."), "{brief}");
    assert!(
        brief.contains("     7 +    a / b"),
        "new-file line numbers: {brief}"
    );
    assert!(brief.contains("\"schema\""), "the findings schema: {brief}");
    assert_eq!(
        brief,
        std::fs::read_to_string(repo.round_dir().join("brief.md")).unwrap()
    );
}

#[test]
fn fail_on_sets_exit_code_one() {
    let repo = feature_repo();
    let tools = tempfile::tempdir().unwrap();
    let good = answering_agent(
        tools.path(),
        "good",
        &json!({"schema": 1, "summary": "", "findings": [div_finding("important")]}),
    );
    config(&repo, &[("good", &good)], "");
    let out = repo.run(&["review", "--agents", "good", "--fail-on", "important"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = repo.run(&["review", "--agents", "good", "--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn every_agent_failing_exits_two_but_keeps_the_review() {
    let repo = feature_repo();
    let tools = tempfile::tempdir().unwrap();
    let garbage = script(tools.path(), "garbage.sh", "cat > /dev/null\necho nope");
    config(&repo, &[("garbage", &garbage)], "");
    let out = repo.run(&["review", "--agents", "garbage"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(repo.round_dir().join("review.json").exists());
    assert!(stdout(&out).contains("failed: malformed answer"));
}

#[test]
fn review_is_excluded_from_git_and_json_format_works() {
    let repo = feature_repo();
    let out = repo.run(&["review", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let exclude = std::fs::read_to_string(repo.path().join(".git/info/exclude")).unwrap();
    assert!(exclude.contains("/.deep-review/"));
    assert!(!repo.path().join(".gitignore").exists());
    // With no CLI and no key, the report says which reviewers are missing and how to enable
    // each; stderr names them on one line and points to `deep-review agents`.
    let err = stderr(&out);
    let unavailable: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("not available"))
        .collect();
    assert_eq!(
        unavailable,
        ["deep-review: not available here: claude, codex, gemini, command; run `deep-review agents` to see why and how to enable each"],
        "{err}"
    );
    for name in ["claude", "codex", "gemini"] {
        assert!(v["unavailable"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["name"] == name));
    }
}

#[test]
fn uncommitted_changes_and_explicit_ranges() {
    let repo = feature_repo();
    repo.write(
        "src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n",
    );
    let out = repo.run(&["review", "--uncommitted", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["change"]["uncommitted"], true);
    // The range runs from the merge-base to the working tree: the committed test file plus
    // the uncommitted edit of lib.rs (which also undoes the committed `div`).
    assert_eq!(v["change"]["files_changed"], 2);
    let brief = std::fs::read_to_string(repo.round_dir().join("brief.md")).unwrap();
    assert!(brief.contains("     2 +    a - b"), "{brief}");

    repo.git(&["checkout", "-q", "--", "src/lib.rs"]);
    // Reviewing an older range from elsewhere checks the head out in a worktree.
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.write("README.md", "# deep\n");
    repo.commit("Add readme");
    let out = repo.run(&[
        "review", "--base", "main", "--head", &head, "--format", "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["change"]["head_sha"], head.as_str());
    assert_eq!(v["change"]["files_changed"], 2);
    assert_eq!(
        repo.git(&["worktree", "list"]).lines().count(),
        1,
        "worktree removed"
    );
}

#[test]
fn first_interrupt_writes_a_partial_review_with_what_arrived() {
    let repo = feature_repo();
    let tools = tempfile::tempdir().unwrap();
    let good = answering_agent(
        tools.path(),
        "good",
        &json!({"schema": 1, "summary": "", "findings": [div_finding("important")]}),
    );
    let hang = script(tools.path(), "hang.sh", "echo 'half a thought'\nsleep 600");
    config(&repo, &[("good", &good), ("hang", &hang)], "");
    let child = std::process::Command::new(BIN)
        .args(["review", "--agents", "good,hang"])
        .current_dir(repo.path())
        .env("DEEP_REVIEW_CONFIG", repo.path().join("none.toml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the good agent has answered, then press Ctrl-C once.
    let run_json = || {
        std::fs::read_dir(repo.path().join(".deep-review/reviews"))
            .ok()
            .and_then(|mut d| d.next())
            .map(|e| e.unwrap().path().join("round-1/agents/good/run.json"))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !run_json().map(|p| p.exists()).unwrap_or(false) {
        assert!(Instant::now() < deadline, "good agent never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sending a signal to our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let review = repo.review_json();
    assert_eq!(review["partial"], true);
    assert_eq!(review["findings"][0]["members"][0]["agent"], "good");
    let hang = review["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "hang")
        .unwrap()
        .clone();
    assert_eq!(hang["outcome"]["kind"], "cancelled");
    let report = stdout(&out);
    assert!(report.contains("**Partial review.**"), "{report}");
    assert_eq!(
        std::fs::read_to_string(repo.round_dir().join("agents/hang/stdout.txt")).unwrap(),
        "half a thought\n"
    );
}

#[test]
fn a_secret_an_agent_quotes_never_reaches_the_review() {
    let repo = feature_repo();
    let tools = tempfile::tempdir().unwrap();
    let token = "ghp_0123456789abcdefghijABCDEFGHIJ0123456789";
    let mut f = div_finding("important");
    f["title"] = json!(format!("Token {token} is hard-coded"));
    f["body"] = json!(format!("The string `{token}` grants repo access."));
    let leaky = answering_agent(
        tools.path(),
        "leaky",
        &json!({"schema": 1, "summary": "", "findings": [f]}),
    );
    config(&repo, &[("leaky", &leaky)], "");
    let out = repo.run(&["review", "--agents", "leaky"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let round = repo.round_dir();
    for file in ["review.json", "report.md", "report.sarif"] {
        let text = std::fs::read_to_string(round.join(file)).unwrap();
        assert!(!text.contains(token), "{file} leaks the token");
        assert!(text.contains("ghp_…[redacted]"), "{file}: {text}");
    }
    assert!(!stdout(&out).contains(token));
}

#[test]
fn reviewing_the_same_branch_again_is_the_next_round() {
    let repo = feature_repo();
    let first = repo.run(&["review", "--format", "json"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    // The same head again: not reviewed unless asked.
    let same = repo.run(&["review", "--format", "json"]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert!(
        stderr(&same).contains("no new commits since round 1"),
        "{}",
        stderr(&same)
    );
    let second = repo.run(&["review", "--format", "json", "--rerun"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&second)).unwrap();
    assert_eq!(v["change"]["round"], 2);
    let round = repo.round_dir();
    assert!(round.ends_with("round-2"), "{round:?}");
    assert!(round.parent().unwrap().join("round-1/review.json").exists());
    let folders = || {
        std::fs::read_dir(repo.path().join(".deep-review/reviews"))
            .unwrap()
            .count()
    };
    assert_eq!(folders(), 1);
    // A new commit on the same branch: the next round of the same review folder.
    repo.write(
        "src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\n    b + a\n}\n",
    );
    repo.commit("Swap operands\n\nFor symmetry.");
    let third = repo.run(&["review", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&third)).unwrap();
    assert_eq!(v["change"]["round"], 3);
    assert_eq!(v["rounds"]["mode"], "incremental");
    assert_eq!(folders(), 1);
}
