//! The CLI adapters end to end with fake `claude`, `codex` and `gemini` executables first on
//! PATH. Each replays a real transcript line by line with delays, records the argv and stdin
//! it got, and misbehaves on demand (hang with a grandchild, flood stderr, crash mid-stream).

use crate::support::*;
use serde_json::json;
use std::path::Path;
use std::path::PathBuf;

fn answer(title: &str) -> serde_json::Value {
    json!({
        "schema": 1,
        "summary": "One bug.",
        "verdict": "merge_with_fixes",
        "findings": [{
            "severity": "important",
            "title": title,
            "body": "`self.map.get(key).unwrap()` panics when the key is absent.",
            "locations": [{"path": "src/cache.rs", "start_line": 7, "quote": "self.map.get(key).unwrap().clone()"}],
            "category": "correctness"
        }]
    })
}

/// Rewrites a real transcript so its final answer is `answer`.
fn with_answer(kind: &str, answer: &serde_json::Value) -> String {
    let (file, rewrite): (&str, &dyn Fn(&mut serde_json::Value)) = match kind {
        "claude" => ("claude-stream-json-read.stdout", &|v| {
            if v["type"] == "result" {
                v["structured_output"] = answer.clone();
                v["result"] = json!(answer.to_string());
            }
        }),
        "codex" => ("codex-exec-json.stdout", &|v| {
            if v["type"] == "item.completed" && v["item"]["type"] == "agent_message" {
                v["item"]["text"] = json!(answer.to_string());
            }
        }),
        _ => ("gemini-stream-json.stdout", &|v| {
            if v["type"] == "message"
                && v["content"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("Review complete"))
            {
                v["content"] = json!(format!("\n```json\n{answer}\n```\n"));
            }
        }),
    };
    transcript(file)
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            rewrite(&mut v);
            v.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// A fake CLI: records argv and stdin, runs `before`, replays `stdout` with delays, runs `after`.
fn fake(bin_dir: &Path, name: &str, stdout: &str, before: &str, after: &str) -> PathBuf {
    let replay = bin_dir.join(format!("{name}.replay"));
    std::fs::write(&replay, stdout).unwrap();
    let log = bin_dir.join(format!("{name}.argv"));
    let stdin = bin_dir.join(format!("{name}.stdin"));
    script(
        bin_dir,
        name,
        &format!(
            "printf '%s\\n' \"$@\" > '{log}'\ncat > '{stdin}'\n{before}\nwhile IFS= read -r line; do printf '%s\\n' \"$line\"; sleep 0.02; done < '{replay}'\n{after}",
            log = log.display(),
            stdin = stdin.display(),
            replay = replay.display()
        ),
    );
    log
}

fn cache_repo() -> Repo {
    let r = Repo::with_base(&[("src/cache.rs", "pub struct Cache;\n")]);
    r.write(
        "src/cache.rs",
        "pub struct Cache {\n    map: std::collections::HashMap<String, String>,\n}\n\nimpl Cache {\n    pub fn get(&self, key: &str) -> String {\n        self.map.get(key).unwrap().clone()\n    }\n}\n",
    );
    r.commit("Add cache lookups");
    r
}

#[test]
fn clis_on_path_review_by_default_read_only_with_their_tool_counts() {
    let repo = cache_repo();
    let bin = tempfile::tempdir().unwrap();
    let argv: Vec<(String, PathBuf)> = ["claude", "codex", "gemini"]
        .iter()
        .map(|k| {
            (
                k.to_string(),
                fake(
                    bin.path(),
                    k,
                    &with_answer(k, &answer(&format!("{k}: get() panics on a missing key"))),
                    "",
                    "",
                ),
            )
        })
        .collect();
    let out = run_with_path(repo.path(), &["review", "--format", "json"], bin.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let agents = v["agents"].as_array().unwrap();
    let names: Vec<&str> = agents.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["builtin", "claude", "codex", "gemini"]);
    for a in agents {
        assert_eq!(a["outcome"]["status"], "ok", "{a:#?}");
    }
    let col = |n: &str| agents.iter().find(|a| a["name"] == n).unwrap().clone();
    assert_eq!(
        col("claude")["metrics"]["tool_calls_by_name"],
        json!({"Read": 1})
    );
    assert_eq!(
        col("claude")["display"],
        "Claude Opus 5.5 (effort: default)"
    );
    assert_eq!(col("claude")["metrics"]["cost_usd"], json!(0.01128));
    assert_eq!(
        col("codex")["metrics"]["tool_calls_by_name"],
        json!({"shell": 1})
    );
    assert_eq!(col("codex")["metrics"]["files_reviewed"], 1);
    assert_eq!(
        col("gemini")["metrics"]["tool_calls_by_name"],
        json!({"read_file": 1})
    );
    assert_eq!(col("gemini")["display"], "Gemini 2.5 Pro (effort: default)");
    // All three found the same bug: one finding, three names.
    let f = &v["findings"][0];
    assert_eq!(f["agreement"], 3, "{:#?}", v["findings"]);

    // Read-only flags were on each command line, and the brief arrived on stdin.
    let args =
        |k: &str| std::fs::read_to_string(&argv.iter().find(|(n, _)| n == k).unwrap().1).unwrap();
    let claude = args("claude");
    assert!(claude.contains("--permission-mode\ndontAsk\n"), "{claude}");
    assert!(
        claude.contains("--tools\nRead\nGrep\nGlob\n--allowedTools\nRead\nGrep\nGlob\n"),
        "{claude}"
    );
    assert!(
        !claude.contains("\nBash\n") && !claude.contains("\nWrite\n--"),
        "{claude}"
    );
    let codex = args("codex");
    assert!(
        codex.starts_with("exec\n--json\n--sandbox\nread-only\n"),
        "{codex}"
    );
    assert!(
        codex.trim_end().ends_with("\n-"),
        "prompt from stdin: {codex}"
    );
    let gemini = args("gemini");
    assert!(
        gemini.contains("--skip-trust") && gemini.contains("--approval-mode\ndefault"),
        "{gemini}"
    );
    assert!(!gemini.contains("yolo"), "{gemini}");
    for k in ["claude", "codex", "gemini"] {
        let brief = std::fs::read_to_string(bin.path().join(format!("{k}.stdin"))).unwrap();
        assert!(brief.starts_with("# Code review brief"), "{k}: {brief}");
    }
    // The raw stream of each is on disk.
    let raw = std::fs::read_to_string(repo.round_dir().join("agents/codex/stdout.jsonl")).unwrap();
    assert!(raw.contains("\"turn.completed\""));
}

#[test]
fn a_hung_cli_is_killed_with_its_grandchild_and_keeps_what_it_printed() {
    let repo = cache_repo();
    let bin = tempfile::tempdir().unwrap();
    let pidfile = bin.path().join("grandchild.pid");
    let head: String = transcript("codex-exec-json.stdout")
        .lines()
        .take(6)
        .map(|l| format!("{l}\n"))
        .collect();
    fake(
        bin.path(),
        "codex",
        &head,
        "",
        &format!("sleep 600 &\necho $! > '{}'\nwait", pidfile.display()),
    );
    let out = run_with_path(
        repo.path(),
        &[
            "review",
            "--agents",
            "codex",
            "--timeout",
            "2s",
            "--format",
            "json",
        ],
        bin.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "the only agent failed: {}",
        stderr(&out)
    );
    let v = repo.review_json();
    let codex = &v["agents"][0];
    assert_eq!(codex["outcome"]["kind"], "timed_out", "{codex:#?}");
    assert_eq!(
        codex["metrics"]["tool_calls_by_name"],
        json!({"shell": 1}),
        "the stats so far are kept"
    );
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.round_dir().join("agents/codex/run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        run["stats"]["tool_calls"],
        json!({"shell": 1}),
        "the completed shell call before the hang"
    );
    assert_eq!(
        std::fs::read_to_string(repo.round_dir().join("agents/codex/stdout.jsonl")).unwrap(),
        head
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false);
    assert!(!alive, "grandchild {pid} survived");
}

#[test]
fn a_cli_that_hangs_after_its_result_has_answered() {
    let repo = cache_repo();
    let bin = tempfile::tempdir().unwrap();
    for k in ["claude", "codex", "gemini"] {
        // The whole stream, result included, then a hang until the timeout.
        fake(
            bin.path(),
            k,
            &with_answer(k, &answer(&format!("{k}: get() panics on a missing key"))),
            "",
            "sleep 600",
        );
    }
    let out = run_with_path(
        repo.path(),
        &[
            "review",
            "--agents",
            "claude,codex,gemini",
            "--timeout",
            "3s",
            "--format",
            "json",
        ],
        bin.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    for a in v["agents"].as_array().unwrap() {
        assert_eq!(a["outcome"]["status"], "ok", "{a:#?}");
    }
    assert_eq!(v["findings"][0]["agreement"], 3, "{:#?}", v["findings"]);
    let notes = v["notes"].to_string();
    for k in ["claude", "codex", "gemini"] {
        assert!(
            notes.contains(&format!("{k} did not exit within its timeout")),
            "{notes}"
        );
    }
}

#[test]
fn a_stderr_flood_does_not_block_a_cli() {
    let repo = cache_repo();
    let bin = tempfile::tempdir().unwrap();
    fake(
        bin.path(),
        "gemini",
        &with_answer("gemini", &answer("get() panics on a missing key")),
        "head -c 4194304 /dev/zero | tr '\\0' 'w' >&2",
        "",
    );
    let out = run_with_path(
        repo.path(),
        &[
            "review",
            "--agents",
            "gemini",
            "--timeout",
            "60s",
            "--format",
            "json",
        ],
        bin.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["agents"][0]["outcome"]["status"], "ok");
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    let len = std::fs::metadata(repo.round_dir().join("agents/gemini/stderr.txt"))
        .unwrap()
        .len();
    assert_eq!(len, 4_194_304);
}

#[test]
fn a_partial_stream_then_a_crash_keeps_what_arrived() {
    let repo = cache_repo();
    let bin = tempfile::tempdir().unwrap();
    // Everything up to and including the Read tool call and its result, then SIGKILL.
    let full = with_answer("claude", &answer("x"));
    let head: String = full.lines().take(4).map(|l| format!("{l}\n")).collect();
    assert!(head.contains("\"tool_use\""));
    fake(
        bin.path(),
        "claude",
        &head,
        "echo 'about to die' >&2",
        "kill -9 $$",
    );
    let out = run_with_path(
        repo.path(),
        &["review", "--agents", "claude", "--format", "json"],
        bin.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let v = repo.review_json();
    let claude = &v["agents"][0];
    assert_eq!(claude["outcome"]["kind"], "crashed", "{claude:#?}");
    assert!(
        claude["outcome"]["message"]
            .as_str()
            .unwrap()
            .contains("signal 9"),
        "{claude:#?}"
    );
    assert!(claude["stderr_tail"]
        .as_str()
        .unwrap()
        .contains("about to die"));
    assert_eq!(
        std::fs::read_to_string(repo.round_dir().join("agents/claude/stdout.jsonl")).unwrap(),
        head
    );
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.round_dir().join("agents/claude/run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(run["stats"]["tool_calls"], json!({"Read": 1}));
    assert_eq!(run["model"], "claude-opus-5-5");
}

#[test]
fn a_cli_that_is_not_installed_says_how_to_install_it() {
    let repo = cache_repo();
    let empty = tempfile::tempdir().unwrap();
    let out = run_with_path(
        repo.path(),
        &["review", "--agents", "builtin,codex", "--format", "json"],
        empty.path(),
    );
    // 3: the only model reviewer failed, so the builtin's review has no verdict.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let codex = &v["agents"][1]["outcome"];
    assert_eq!(codex["kind"], "not_installed");
    assert!(
        codex["hint"]
            .as_str()
            .unwrap()
            .contains("npm install -g @openai/codex"),
        "{codex}"
    );
}

#[test]
fn a_cli_answer_that_does_not_validate_is_a_failed_run_with_the_raw_answer_kept() {
    let repo = cache_repo();
    let bin = tempfile::tempdir().unwrap();
    fake(
        bin.path(),
        "codex",
        &transcript("codex-exec-json.stdout"),
        "",
        "",
    );
    let out = run_with_path(
        repo.path(),
        &["review", "--agents", "builtin,codex"],
        bin.path(),
    );
    // 3: the only model reviewer failed, so the builtin's review has no verdict.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("failed: malformed answer"),
        "{}",
        stdout(&out)
    );
    let raw = std::fs::read_to_string(repo.round_dir().join("agents/codex/answer.txt")).unwrap();
    assert!(raw.starts_with("Review complete."), "{raw}");
}

#[test]
fn agents_table_shows_found_version_and_credentials_without_the_secret() {
    let repo = cache_repo();
    let bin = tempfile::tempdir().unwrap();
    script(bin.path(), "claude", "echo '2.1.332 (Claude Code)'");
    let out = std::process::Command::new(BIN)
        .arg("agents")
        .current_dir(repo.path())
        .env("DEEP_REVIEW_CONFIG", repo.path().join("none.toml"))
        .env("PATH", format!("{}:/usr/bin:/bin", bin.path().display()))
        .env("HOME", repo.path())
        .env("ANTHROPIC_API_KEY", "sk-ant-super-secret-value-1234567890")
        .env_remove("OPENAI_API_KEY")
        .env_remove("CODEX_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("{name}: {table}"))
            .to_string()
    };
    let claude = row("claude");
    assert!(claude.contains("2.1.332 (Claude Code)"), "{claude}");
    assert!(claude.contains("ANTHROPIC_API_KEY is set"), "{claude}");
    assert!(claude.ends_with("| yes |"), "{claude}");
    assert!(!table.contains("super-secret"), "{table}");
    let codex = row("codex");
    assert!(
        codex.contains("no: `codex` not found")
            && codex.contains("none found")
            && codex.ends_with("| no |"),
        "{codex}"
    );
    assert!(row("builtin").ends_with("| yes |"));
}

/// A fake `kind` CLI in `bin_dir` that runs `before` (e.g. dumps its environment), then
/// replays a real transcript answering one finding. Returns the path of its argv log.
pub fn answering_fake(bin_dir: &Path, kind: &str, before: &str) -> PathBuf {
    let stdout = with_answer(
        kind,
        &answer(&format!("{kind}: get() panics on a missing key")),
    );
    fake(bin_dir, kind, &stdout, before, "")
}

#[test]
fn a_claude_cost_budget_reaches_claude_and_the_retro_shows_spend_against_it() {
    let repo = cache_repo();
    repo.write(
        ".deep-review.toml",
        "[agents.claude]\nkind = \"claude\"\nmax_cost_usd = 0.5\n",
    );
    let bin = tempfile::tempdir().unwrap();
    let argv = answering_fake(bin.path(), "claude", "");
    let out = run_with_path(
        repo.path(),
        &["review", "--agents", "claude", "--format", "json"],
        bin.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let args: Vec<String> = std::fs::read_to_string(&argv)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let at = args
        .iter()
        .position(|a| a == "--max-budget-usd")
        .unwrap_or_else(|| panic!("no --max-budget-usd in {args:?}"));
    assert_eq!(args[at + 1], "0.5");
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let claude = &v["agents"][0];
    assert_eq!(
        claude["metrics"]["budget"]["limits"]["max_cost_usd"],
        json!(0.5),
        "{claude}"
    );
    let report = std::fs::read_to_string(repo.round_dir().join("report.md")).unwrap();
    let row = report
        .lines()
        .find(|l| l.starts_with("| Budget"))
        .unwrap_or_else(|| panic!("no Budget row in {report}"));
    assert!(row.contains("of $0.50"), "{row}");
}
