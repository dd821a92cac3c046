//! Terminal conventions: shell completions, `-q`, `-v`, `NO_COLOR` and `CLICOLOR_FORCE`.

use crate::support::*;
use std::path::Path;
use std::process::Command;
use std::process::Output;

/// deep-review in `dir` with a bare environment for colour, plus `vars`; `path_first` is put
/// before a PATH without agent CLIs.
pub fn run_env(
    dir: &Path,
    args: &[&str],
    vars: &[(&str, &str)],
    path_first: Option<&Path>,
) -> Output {
    let base = std::env::var("PATH").unwrap_or_default();
    let path = std::env::split_paths(&base)
        .filter(|d| {
            !["claude", "codex", "gemini"]
                .iter()
                .any(|b| d.join(b).exists())
        })
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let path = match path_first {
        Some(p) => format!("{}:{path}", p.display()),
        None => path,
    };
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("DEEP_REVIEW_CONFIG", dir.join("no-user-config.toml"))
        .env("PATH", path)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("DEEP_REVIEW_PROGRESS")
        .envs(vars.iter().copied())
        .output()
        .expect("deep-review runs")
}

/// Times, review IDs and temp paths out of stderr.
pub fn redact(text: &str) -> String {
    let filters = [
        (r"\d{8}-\d{6}-local-[0-9a-f]+", "[ID]"),
        (r"in \d+(\.\d+)?s|in \d+m \d+s", "in [TIME]"),
        (r"/tmp/[^\s`'\x22),]+", "[TMP]"),
        (r"/\S*\.tmp[A-Za-z0-9]{6}\S*", "[TMP]"),
    ];
    let mut out = text.to_string();
    for (re, with) in filters {
        out = regex::Regex::new(re)
            .unwrap()
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

fn feature_repo() -> Repo {
    let repo = Repo::with_base(&[("src/lib.rs", "pub fn a() {}\n")]);
    repo.write(
        "src/lib.rs",
        "pub fn a() {}\n\npub fn b() -> u8 {\n    2\n}\n",
    );
    repo.commit("Add b");
    repo
}

#[test]
fn completions_are_generated_for_every_shell_and_bash_parses_them() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run_env(dir.path(), &["completions", shell], &[], None);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        // Every subcommand and a global flag are offered.
        for word in ["review", "config", "hook", "completions", "quiet"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        let file = dir.path().join(format!("deep-review.{shell}"));
        std::fs::write(&file, &script).unwrap();
        if shell == "bash" {
            let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
            assert!(
                check.status.success(),
                "bash -n: {}",
                String::from_utf8_lossy(&check.stderr)
            );
            // Sourced, it registers the completion function.
            let sourced = Command::new("bash")
                .arg("-c")
                .arg(format!(
                    "source '{}' && complete -p deep-review",
                    file.display()
                ))
                .output()
                .unwrap();
            assert!(
                String::from_utf8_lossy(&sourced.stdout).contains("deep-review"),
                "{}",
                String::from_utf8_lossy(&sourced.stderr)
            );
        }
    }
    let out = run_env(dir.path(), &["completions", "tcsh"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("possible values: bash, elvish, fish, powershell, zsh"));
}

#[test]
fn quiet_leaves_only_errors_on_stderr() {
    let repo = feature_repo();
    let out = run_env(
        repo.path(),
        &["-q", "review", "--agents", "builtin"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("# Deep Review"));
    let normal = run_env(
        repo.path(),
        &["review", "--agents", "builtin", "--rerun"],
        &[],
        None,
    );
    assert!(
        stderr(&normal).contains("builtin: done"),
        "{}",
        stderr(&normal)
    );
    let failed = run_env(
        repo.path(),
        &["review", "--quiet", "--base", "nope"],
        &[],
        None,
    );
    assert_eq!(failed.status.code(), Some(2));
    insta::assert_snapshot!(
        "quiet_stderr",
        format!(
            "--- a review ---\n{}--- an error ---\n{}",
            redact(&stderr(&out)),
            redact(&stderr(&failed))
        )
    );
    let both = run_env(repo.path(), &["-q", "-v", "schema"], &[], None);
    assert_eq!(both.status.code(), Some(2));
    assert!(
        stderr(&both).contains("cannot be used with"),
        "{}",
        stderr(&both)
    );
}

#[test]
fn verbose_streams_each_tool_call_with_its_target_and_the_token_counts() {
    let repo = feature_repo();
    let bin = tempfile::tempdir().unwrap();
    for (name, transcript_file) in [
        ("claude", "claude-stream-json-read.stdout"),
        ("codex", "codex-exec-json.stdout"),
        ("gemini", "gemini-stream-json.stdout"),
    ] {
        // The recorded run, answering with no finding.
        let answer = serde_json::json!({"schema": 1, "summary": "Fine.", "findings": []});
        let lines: Vec<String> = transcript(transcript_file)
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                if v["type"] == "result" {
                    v["structured_output"] = answer.clone();
                    v["result"] = serde_json::json!(answer.to_string());
                }
                if v["item"]["type"] == "agent_message" {
                    v["item"]["text"] = serde_json::json!(answer.to_string());
                }
                v.to_string()
            })
            .collect();
        let replay = bin.path().join(format!("{name}.replay"));
        std::fs::write(&replay, lines.join("\n") + "\n").unwrap();
        script(
            bin.path(),
            name,
            &format!("cat > /dev/null\ncat '{}'", replay.display()),
        );
    }
    let out = run_env(
        repo.path(),
        &["review", "-v", "--agents", "claude"],
        &[],
        Some(bin.path()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("verbose_claude_stderr", redact(&stderr(&out)));
    let out = run_env(
        repo.path(),
        &["review", "--verbose", "--agents", "codex", "--rerun"],
        &[],
        Some(bin.path()),
    );
    let err = stderr(&out);
    assert!(
        err.contains("codex: shell /bin/bash -lc 'cat README.md'"),
        "{err}"
    );
    assert!(
        err.contains("codex: 2.4k tokens in (400 cached), 100 out"),
        "{err}"
    );
    let out = run_env(
        repo.path(),
        &["review", "-v", "--agents", "gemini", "--rerun"],
        &[],
        Some(bin.path()),
    );
    let err = stderr(&out);
    assert!(err.contains("gemini: read_file README.md"), "{err}");
    // Without -v, neither the calls nor the tokens are logged.
    let quiet = run_env(
        repo.path(),
        &["review", "--agents", "codex", "--rerun"],
        &[],
        Some(bin.path()),
    );
    let err = stderr(&quiet);
    assert!(err.contains("codex: done"), "{err}");
    assert!(
        !err.contains("cat README.md") && !err.contains("tokens in"),
        "{err}"
    );
}

/// An SGR sequence: a colour or a style.
fn has_colour(text: &str) -> bool {
    regex::Regex::new(r"\x1b\[[0-9;]*m").unwrap().is_match(text)
}

#[test]
fn clicolor_force_colours_a_pipe_and_no_color_wins() {
    let repo = feature_repo();
    let review = |vars: &[(&str, &str)]| {
        let out = run_env(
            repo.path(),
            &["review", "--agents", "builtin", "--rerun"],
            vars,
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        // The report on stdout is never coloured.
        assert!(!stdout(&out).contains('\x1b'));
        stderr(&out)
    };
    let plain = review(&[]);
    assert!(!plain.contains('\x1b'), "{plain:?}");
    let forced = review(&[("CLICOLOR_FORCE", "1")]);
    assert!(has_colour(&forced), "{forced:?}");
    let no_color = review(&[("NO_COLOR", "1")]);
    assert!(!no_color.contains('\x1b'), "{no_color:?}");
    // NO_COLOR wins over CLICOLOR_FORCE: the live lines are drawn, without colour.
    let both = review(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!has_colour(&both), "{both:?}");
    assert!(both.contains("builtin"), "{both:?}");
    // Errors too.
    let err = run_env(
        repo.path(),
        &["review", "--base", "nope"],
        &[("CLICOLOR_FORCE", "1")],
        None,
    );
    assert!(has_colour(&stderr(&err)), "{:?}", stderr(&err));
    let err = run_env(
        repo.path(),
        &["review", "--base", "nope"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        None,
    );
    assert!(!stderr(&err).contains('\x1b'), "{:?}", stderr(&err));
}

#[test]
fn verbose_shows_an_http_reviewers_tool_calls_and_tokens_turn_by_turn() {
    use crate::http_model_server::Format;
    use crate::http_model_server::HttpModelServer;
    use serde_json::json;
    let f = Format::OpenAi;
    let server = HttpModelServer::start(vec![
        f.tools(
            &[
                ("read_file", json!({"path": "src/lib.rs", "start_line": 5})),
                ("grep", json!({"pattern": "a / b", "path": "src/**/*.rs"})),
            ],
            (1200, 40),
        ),
        f.answer(&crate::http_reviewers::answer(), (1800, 200)),
    ]);
    let (repo, _outside) = crate::http_reviewers::setup(f, &server, "");
    let out = crate::http_reviewers::review(&repo, Some(crate::http_reviewers::KEY), &["-v"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let activity: Vec<&str> = err
        .lines()
        .filter(|l| {
            l.starts_with("deep-review: m: ") && !l.contains(" in ") || l.contains("tokens in")
        })
        .collect();
    assert_eq!(
        activity,
        [
            "deep-review: m: started",
            "deep-review: m: 1.2k tokens in, 40 out",
            "deep-review: m: read_file src/lib.rs",
            "deep-review: m: grep a / b src/**/*.rs",
            "deep-review: m: 3.0k tokens in, 240 out",
        ],
        "{err}"
    );
    assert!(!err.contains(crate::http_reviewers::KEY));
}
