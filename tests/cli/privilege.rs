//! Least privilege: what an agent may run through its shell and what it sees of
//! deep-review's environment. Each trust rule is attacked and the side effect checked absent.

use crate::fake_clis::answering_fake;
use crate::model_server::ModelServer;
use crate::support::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::process::Output;

/// Secrets deep-review may hold, and one unrelated variable.
const PARENT: &[(&str, &str)] = &[
    ("GITHUB_TOKEN", "ghp_parenttoken000000000000000000000000"),
    ("GH_TOKEN", "gho_parenttoken000000000000000000000000"),
    ("OPENAI_API_KEY", "sk-proj-parent"),
    ("ANTHROPIC_API_KEY", "sk-ant-parent"),
    ("GEMINI_API_KEY", "AIza-parent"),
    ("MY_SERVICE_URL", "http://127.0.0.1:9"),
    ("UNRELATED_SETTING", "1"),
];

/// deep-review with exactly PATH (fakes first), HOME, the config pointer and [`PARENT`].
fn run_clean(repo: &Repo, bin: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(repo.path())
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        )
        .env("HOME", repo.path())
        .env(
            "DEEP_REVIEW_CONFIG",
            repo.path().join("no-user-config.toml"),
        );
    for (k, v) in PARENT {
        cmd.env(k, v);
    }
    cmd.output().expect("deep-review runs")
}

fn env_names(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_string()))
        .filter(|k| k != "PWD" && k != "SHLVL" && k != "_" && k != "OLDPWD")
        .collect();
    names.sort();
    names
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn cache_repo() -> Repo {
    let repo = Repo::with_base(&[("src/cache.rs", "pub struct Cache;\n")]);
    repo.write("src/cache.rs", "pub struct Cache {\n    map: std::collections::HashMap<String, String>,\n}\n\nimpl Cache {\n    pub fn get(&self, key: &str) -> String {\n        self.map.get(key).unwrap().clone()\n    }\n}\n");
    repo.commit("Add cache lookups");
    repo
}

/// A command agent that dumps its environment to `dump`, drains the brief and answers.
fn dumping_command(bin: &Path, name: &str, dump: &Path) -> std::path::PathBuf {
    script(
        bin,
        &format!("{name}.sh"),
        &format!(
            "env > '{}'\ncat > /dev/null\necho '{{\"schema\": 1, \"summary\": \"ok\", \"findings\": []}}'",
            dump.display()
        ),
    )
}

fn review_all_ok(repo: &Repo, bin: &Path, agents: &str) {
    let out = run_clean(
        repo,
        bin,
        &["review", "--agents", agents, "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    for a in v["agents"].as_array().unwrap() {
        assert_eq!(a["outcome"]["status"], "ok", "{a:#}");
    }
}

#[test]
fn each_agent_sees_only_its_own_vendor_and_never_a_github_token() {
    let repo = cache_repo();
    let bin = tempfile::tempdir().unwrap();
    let dump = |k: &str| bin.path().join(format!("{k}.env"));
    for k in ["claude", "codex", "gemini"] {
        answering_fake(bin.path(), k, &format!("env > '{}'", dump(k).display()));
    }
    let plain = dumping_command(bin.path(), "plain", &dump("plain"));
    repo.write(
        ".deep-review.toml",
        &format!(
            "[agents.plain]\nkind = \"command\"\ncommand = [\"{}\"]\nenv = {{ PLAIN_FLAG = \"1\" }}\n",
            plain.display()
        ),
    );
    review_all_ok(&repo, bin.path(), "claude,codex,gemini,plain");
    assert_eq!(
        env_names(&dump("claude")),
        sorted(&["HOME", "PATH", "ANTHROPIC_API_KEY"])
    );
    // codex exec reads its key from CODEX_API_KEY: without a codex login it gets OpenAI's.
    assert_eq!(
        env_names(&dump("codex")),
        sorted(&["HOME", "PATH", "OPENAI_API_KEY", "CODEX_API_KEY"])
    );
    assert_eq!(
        env_names(&dump("gemini")),
        sorted(&["HOME", "PATH", "GEMINI_API_KEY"])
    );
    assert_eq!(
        env_names(&dump("plain")),
        sorted(&["HOME", "PATH", "PLAIN_FLAG"])
    );
}

#[test]
fn pass_env_hands_a_command_agent_the_names_it_lists_and_agents_shows_them() {
    let repo = cache_repo();
    let bin = tempfile::tempdir().unwrap();
    let dump = bin.path().join("mine.env");
    let mine = dumping_command(bin.path(), "mine", &dump);
    repo.write(
        ".deep-review.toml",
        &format!(
            "[agents.mine]\nkind = \"command\"\ncommand = [\"{}\"]\npass_env = [\"MY_SERVICE_URL\"]\nenv = {{ MINE_FLAG = \"1\" }}\n",
            mine.display()
        ),
    );
    review_all_ok(&repo, bin.path(), "mine");
    assert_eq!(
        env_names(&dump),
        sorted(&["HOME", "PATH", "MY_SERVICE_URL", "MINE_FLAG"])
    );

    // `agents` says what each would receive, by name only.
    let out = run_clean(&repo, bin.path(), &["agents"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    for line in [
        "- claude: ANTHROPIC_API_KEY, HOME, PATH\n",
        "- codex: CODEX_API_KEY, HOME, OPENAI_API_KEY, PATH\n",
        "- gemini: GEMINI_API_KEY, HOME, PATH\n",
        "- mine: HOME, MINE_FLAG, MY_SERVICE_URL, PATH\n",
    ] {
        assert!(table.contains(line), "{line:?} in {table}");
    }
    for (_, value) in PARENT
        .iter()
        .filter(|(k, _)| k.contains("KEY") || k.contains("TOKEN"))
    {
        assert!(!table.contains(value), "{table}");
    }
}

#[test]
fn config_refuses_shell_forms_that_can_write_and_github_tokens_for_agents() {
    let repo = Repo::new();
    let bad = |text: &str, needles: &[&str]| {
        repo.write(".deep-review.toml", text);
        let out = run_in(repo.path(), &["agents"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}\n{err}");
        assert!(err.contains(".deep-review.toml"), "{err}");
        for n in needles {
            assert!(err.contains(n), "{text}: wanted {n:?} in {err}");
        }
    };
    for entry in [
        "git",
        "find -delete",
        "tree",
        "git grep",
        "git log --output=x",
        "rg --pre=sh",
    ] {
        bad(
            &format!("[agents.c]\nkind = \"claude\"\nallow_bash = [\"{entry}\"]\n"),
            &[
                "agents.c.allow_bash",
                &format!("`{entry}` is not an admitted read-only command"),
                "git log, git show, git diff, git blame, rg, grep, find, ls, cat, head, tail, wc",
                "--output",
            ],
        );
    }
    bad(
        "[agents.m]\nkind = \"command\"\ncommand = [\"x\"]\npass_env = [\"GITHUB_TOKEN\"]\n",
        &[
            "agents.m.pass_env",
            "`GITHUB_TOKEN` is never given to an agent",
        ],
    );
    bad(
        "[agents.m]\nkind = \"command\"\ncommand = [\"x\"]\nenv = { GH_TOKEN = \"x\" }\n",
        &["agents.m.env", "`GH_TOKEN` is never given to an agent"],
    );
    bad(
        "[agents.m]\nkind = \"command\"\ncommand = [\"x\"]\npass_env = [\"NOT-A-NAME\"]\n",
        &["is not an environment variable name"],
    );
    repo.write(
        ".deep-review.toml",
        "[agents.c]\nkind = \"claude\"\nallow_bash = [\"git log\", \"rg\", \"find\"]\n",
    );
    let out = run_in(repo.path(), &["agents"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The pinned real `claude`, or `None` (said loudly) where it is not installed.
fn real_claude() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("DEEP_REVIEW_CLI_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/agent-clis/node_modules/.bin"
            ))
        });
    let bin = dir.join("claude");
    if bin.exists() {
        return Some(bin);
    }
    let msg = format!("real claude not found in {}", dir.display());
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPED real-CLI test: {msg} !!!!!!!!\n");
    None
}

#[test]
fn real_claude_with_allow_bash_git_log_cannot_write_through_it() {
    let Some(claude) = real_claude() else { return };
    let repo = Repo::with_base(&[("src/lib.rs", "pub fn f() {}\n")]);
    // A file whose name is an option: `git log *` would expand to `--output=from-glob`.
    repo.write("--output=from-glob", "");
    repo.write("src/lib.rs", "pub fn f() -> u8 { 1 }\n");
    repo.commit("Return one");
    let outside = tempfile::tempdir().unwrap();
    let pwned = outside.path().join("pwned");
    let attacks = [
        format!("git log --output={} -1", pwned.display()),
        format!("git log -1 --out''put {}", pwned.display()),
        "git log -1 *".to_string(),
        format!("git log -1 --outpu?=x ; touch {}", pwned.display()),
        format!("git log -1 > {}", pwned.display()),
        format!("git log -1 | tee {}", pwned.display()),
        format!("git log -1 --format=%s$(touch {})", pwned.display()),
        format!("find . -delete -name {}", pwned.display()),
    ];
    let allowed = "git log -1 --format=subject:%s";
    let mut commands: Vec<&str> = attacks.iter().map(String::as_str).collect();
    commands.push(allowed);
    let answer = json!({"schema": 1, "summary": "Fine.", "verdict": "merge", "findings": [],
        "observations": [], "assessments": {"testing": "-", "documentation": "-", "commits": "-"},
        "context_updates": []});
    let server = ModelServer::start_bash(answer, repo.path().to_str().unwrap(), &commands);
    let home = tempfile::tempdir().unwrap();
    repo.write(
        ".deep-review.toml",
        &format!(
            "[agents.claude]\nkind = \"claude\"\ncommand = [\"{}\"]\nallow_bash = [\"git log\"]\ntimeout = \"120s\"\nenv = {{ HOME = \"{}\", ANTHROPIC_BASE_URL = \"{}\", ANTHROPIC_API_KEY = \"sk-ant-test-dummy\", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = \"1\", DISABLE_TELEMETRY = \"1\", DISABLE_AUTOUPDATER = \"1\", DISABLE_ERROR_REPORTING = \"1\" }}\n",
            claude.display(),
            home.path().display(),
            server.base()
        ),
    );
    let out = repo.run(&[
        "review",
        "--agents",
        "claude",
        "--uncommitted",
        "--format",
        "json",
    ]);
    let stream = std::fs::read_to_string(repo.round_dir().join("agents/claude/stdout.jsonl"))
        .unwrap_or_default();
    assert_eq!(out.status.code(), Some(0), "{}\n{stream}", stderr(&out));
    // No write happened, inside the tree or outside it.
    assert!(!pwned.exists(), "{stream}");
    assert!(!repo.path().join("from-glob").exists(), "{stream}");
    assert!(!repo.path().join("x").exists(), "{stream}");
    assert!(repo.path().join("src/lib.rs").exists(), "{stream}");
    // Claude reports each attack as a permission denial, and ran the read form.
    let lines: Vec<serde_json::Value> = stream
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let result = lines
        .iter()
        .find(|v| v["type"] == "result")
        .expect("result line");
    let denied: Vec<&str> = result["permission_denials"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["tool_input"]["command"].as_str())
        .collect();
    assert_eq!(
        denied,
        attacks.iter().map(String::as_str).collect::<Vec<_>>(),
        "{stream}"
    );
    let ran = lines
        .iter()
        .filter(|v| v["type"] == "user")
        .any(|v| v.to_string().contains("subject:Return one"));
    assert!(ran, "the admitted read form did not run: {stream}");
}

#[test]
fn acp_and_http_agents_show_credentials_and_environment_by_name_only() {
    let repo = cache_repo();
    let bin = tempfile::tempdir().unwrap();
    repo.write(
        ".deep-review.toml",
        "[agents.gacp]\nkind = \"acp\"\npreset = \"gemini-acp\"\n\n[agents.oc]\nkind = \"acp\"\npreset = \"opencode\"\n\n[agents.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"qwen\"\n\n[agents.opus]\nkind = \"anthropic\"\nmodel = \"claude-opus-4-5\"\n",
    );
    let out = run_clean(&repo, bin.path(), &["agents"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row for {name} in {table}"))
            .to_string()
    };
    assert!(row("gacp").contains("| acp |") && row("gacp").contains("GEMINI_API_KEY is set"));
    assert!(row("oc").contains("none found"), "{}", row("oc"));
    assert!(row("local").contains("HTTP: `http://127.0.0.1:11434/v1`"));
    assert!(row("local").contains("| qwen |"), "{}", row("local"));
    assert!(
        row("opus").contains("ANTHROPIC_API_KEY is set"),
        "{}",
        row("opus")
    );
    // The Gemini preset gets Gemini's variables, not another vendor's; the HTTP kinds run in
    // deep-review and start no process.
    assert!(
        table.contains("- gacp: GEMINI_API_KEY, HOME, PATH\n"),
        "{table}"
    );
    assert!(table.contains("- oc: HOME, PATH\n"), "{table}");
    for (_, value) in PARENT
        .iter()
        .filter(|(k, _)| k.contains("KEY") || k.contains("TOKEN"))
    {
        assert!(!table.contains(value), "{value} in {table}");
    }
}
