//! `deep-review config init|show|validate` on real repositories.

use crate::support::*;
use crate::terminal::redact;
use crate::terminal::run_env;
use std::path::Path;

/// A folder holding only a fake `claude` (the one agent CLI "found on this machine").
fn machine_with_claude() -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    script(bin.path(), "claude", "echo 'claude 9.9.9'");
    bin
}

fn init(repo: &Path, bin: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["config", "init"];
    args.extend_from_slice(extra);
    run_env(
        repo,
        &args,
        &[("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")],
        Some(bin),
    )
}

#[test]
fn init_writes_a_commented_file_for_the_reviewers_found_and_keeps_an_existing_one() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    let bin = machine_with_claude();
    let out = init(repo.path(), bin.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let written = std::fs::read_to_string(repo.path().join(".deep-review.toml")).unwrap();
    insta::assert_snapshot!(
        "config_init",
        format!(
            "--- stderr ---\n{}--- .deep-review.toml ---\n{written}",
            redact(&stderr(&out))
        )
    );
    // What it wrote is valid, and runs builtin and claude by default.
    let check = run_env(repo.path(), &["config", "validate"], &[], Some(bin.path()));
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(
        stdout(&check).contains("by default builtin, claude run"),
        "{}",
        stdout(&check)
    );

    // A second init leaves the file alone, unless --force.
    repo.write(".deep-review.toml", "# mine\n");
    let again = init(repo.path(), bin.path(), &[]);
    assert_eq!(again.status.code(), Some(2));
    insta::assert_snapshot!("config_init_refused", redact(&stderr(&again)));
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".deep-review.toml")).unwrap(),
        "# mine\n"
    );
    let forced = init(repo.path(), bin.path(), &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".deep-review.toml")).unwrap(),
        written
    );
}

#[test]
fn show_names_where_each_value_came_from() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    let tools = tempfile::tempdir().unwrap();
    let mine = script(tools.path(), "mine.sh", "cat");
    repo.write(
        ".deep-review.toml",
        &format!(
            "[review]\nagents = [\"builtin\", \"mine\"]\ntimeout = \"5m\"\n\n[agents.mine]\nkind = \"command\"\ncommand = [\"{}\"]\ntimeout = \"90s\"\nmodel = \"m1\"\n",
            mine.display()
        ),
    );
    let user = tools.path().join("user.toml");
    std::fs::write(
        &user,
        "[review]\nfail_on = \"important\"\ntimeout = \"1h\"\n\n[consolidate]\nseverity_policy = \"highest\"\n\n[agents.local]\nkind = \"openai\"\nmodel = \"qwen\"\nbase_url = \"http://127.0.0.1:11434/v1\"\napi_key_env = \"LOCAL_KEY\"\n",
    )
    .unwrap();
    let user_s = user.display().to_string();
    let vars = [("DEEP_REVIEW_CONFIG", user_s.as_str()), ("LOCAL_KEY", "x")];
    let out = run_env(
        repo.path(),
        &["config", "show", "--judge", "mine"],
        &vars,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("config_show", redact(&stdout(&out)));
    // A flag wins over both files.
    let out = run_env(
        repo.path(),
        &["config", "show", "--timeout", "7s", "--agents", "builtin"],
        &vars,
        None,
    );
    let text = stdout(&out);
    assert!(
        text.contains("| review.timeout | 7s | flag --timeout |"),
        "{text}"
    );
    assert!(
        text.contains("| agents.mine.timeout | 7s | flag --timeout |"),
        "{text}"
    );
    assert!(
        text.contains("| review.agents | builtin | flag --agents |"),
        "{text}"
    );
}

#[test]
fn validate_names_the_file_the_line_and_what_to_do() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    let cases = [
        (
            "valid",
            "[review]\nagents = [\"builtin\"]\nfail_on = \"critical\"\n",
        ),
        ("syntax", "[review]\nagents = [\"builtin\"\n"),
        ("unknown_field", "[review]\nagent = [\"builtin\"]\n"),
        (
            "bad_kind",
            "[review]\ntimeout = \"5m\"\n\n[agents.x]\nkind = \"robot\"\n",
        ),
        (
            "bad_duration",
            "[agents.x]\nkind = \"command\"\ncommand = [\"x\"]\n\n[review]\ntimeout = \"soon\"\n",
        ),
        (
            "unknown_agent",
            "[review]\n# the default selection\nagents = [\"builtin\", \"nope\"]\n",
        ),
    ];
    let mut all = String::new();
    for (name, text) in cases {
        repo.write(".deep-review.toml", text);
        let out = run_env(repo.path(), &["config", "validate"], &[], None);
        let want = if name == "valid" { 0 } else { 2 };
        assert_eq!(out.status.code(), Some(want), "{name}: {}", stderr(&out));
        all.push_str(&format!(
            "--- {name} (exit {want}) ---\n{}{}",
            redact(&stdout(&out)),
            redact(&stderr(&out))
        ));
    }
    // A broken user file is named too, though the repository's is fine.
    let user = repo.path().join("user.toml");
    std::fs::write(&user, "[review]\ntimeout = 5m\n").unwrap();
    let user_s = user.display().to_string();
    repo.write(".deep-review.toml", "[review]\nagents = [\"builtin\"]\n");
    let out = run_env(
        repo.path(),
        &["config", "validate"],
        &[("DEEP_REVIEW_CONFIG", &user_s)],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    all.push_str(&format!(
        "--- user file (exit 2) ---\n{}{}",
        redact(&stdout(&out)),
        redact(&stderr(&out))
    ));
    insta::assert_snapshot!("config_validate", all);
}
