//! The real codex (pinned, from npm) through a full `deep-review review`, with the built-in
//! OpenAI provider pointed at 127.0.0.1 as a user's would be at api.openai.com: which key its
//! requests carry, and what a run that cannot reach its API comes to.

use crate::model_server::ModelServer;
use crate::real_clis::cli_dir;
use crate::support::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::process::Output;

const OPENAI_KEY: &str = "sk-proj-deepreviewtest0123456789abcdef";

fn cache_repo() -> Repo {
    let repo = Repo::with_base(&[("src/cache.rs", "pub struct Cache;\n")]);
    repo.write(
        "src/cache.rs",
        "pub struct Cache {\n    map: std::collections::HashMap<String, String>,\n}\n\nimpl Cache {\n    pub fn get(&self, key: &str) -> String {\n        self.map.get(key).unwrap().clone()\n    }\n}\n",
    );
    repo.commit("Add cache lookups");
    repo
}

/// `[agents.codex]` on the real binary, its built-in provider at `base_url`, its home in
/// `home` (no login there).
fn codex_config(bin: &Path, home: &Path, base_url: &str, timeout: &str) -> String {
    format!(
        r#"[review]
timeout = "{timeout}"

[agents.codex]
kind = "codex"
command = ["{bin}/codex"]
model = "gpt-5.5"
args = ["-c", "openai_base_url={base_url}"]
env = {{ CODEX_HOME = "{home}" }}
"#,
        bin = bin.display(),
        home = home.display(),
    )
}

/// deep-review with PATH, HOME (an empty folder), the config pointer and `vars`: nothing
/// else of the developer's environment (no CODEX_API_KEY, no login).
fn run_with_only(repo: &Repo, home: &Path, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env(
            "DEEP_REVIEW_CONFIG",
            repo.path().join("no-user-config.toml"),
        );
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("deep-review runs")
}

fn codex_column(out: &Output) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", stdout(out), stderr(out)));
    v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "codex")
        .cloned()
        .unwrap()
}

/// Every byte codex sent, as deep-review kept it.
fn agent_files(repo: &Repo) -> String {
    let dir = repo.round_dir().join("agents/codex");
    let mut all = String::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        all.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap_or_default());
    }
    all
}

#[test]
fn only_openai_api_key_set_reaches_codex_exec_as_its_bearer_token() {
    let Some(bin) = cli_dir() else { return };
    let repo = cache_repo();
    let answer = json!({
        "schema": 1, "summary": "Fine.", "verdict": "merge", "findings": [], "observations": [],
        "assessments": {"testing": "-", "documentation": "-", "commits": "-"}, "context_updates": []
    });
    let server = ModelServer::start(answer, "src/cache.rs", repo.path().to_str().unwrap());
    let homes = tempfile::tempdir().unwrap();
    let codex_home = homes.path().join("codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    repo.write(
        ".deep-review.toml",
        &codex_config(&bin, &codex_home, &format!("{}/v1", server.base()), "180s"),
    );
    let vars = [("OPENAI_API_KEY", OPENAI_KEY)];

    // `agents` says where the key comes from, and never shows it.
    let out = run_with_only(&repo, homes.path(), &vars, &["agents"]);
    let table = stdout(&out);
    assert!(
        table.contains("OPENAI_API_KEY is set (passed to codex as CODEX_API_KEY)"),
        "{table}"
    );
    assert!(
        table.contains("- codex: CODEX_API_KEY, CODEX_HOME, HOME, OPENAI_API_KEY, PATH\n"),
        "{table}"
    );
    assert!(!table.contains(OPENAI_KEY), "{table}");

    let out = run_with_only(
        &repo,
        homes.path(),
        &vars,
        &["review", "--agents", "codex", "--format", "json"],
    );
    let codex = codex_column(&out);
    assert_eq!(
        codex["outcome"]["status"],
        "ok",
        "{codex:#}\nrequests: {:?}",
        server.paths()
    );
    let model_requests: Vec<Option<String>> = server
        .paths()
        .iter()
        .zip(server.authorizations())
        .filter(|(p, _)| p.starts_with("POST ") && p.contains("/responses"))
        .map(|(_, a)| a)
        .collect();
    assert!(model_requests.len() >= 2, "{:?}", server.paths());
    for a in &model_requests {
        assert_eq!(a.as_deref(), Some(format!("Bearer {OPENAI_KEY}").as_str()));
    }
    assert!(
        !agent_files(&repo).contains(OPENAI_KEY),
        "the key is never kept"
    );
    assert!(!stderr(&out).contains(OPENAI_KEY));
}

#[test]
fn codex_that_cannot_reach_its_api_fails_as_unreachable_long_before_its_timeout() {
    let Some(bin) = cli_dir() else { return };
    let repo = cache_repo();
    // A port nothing listens on: every connection is refused, as with no network at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let homes = tempfile::tempdir().unwrap();
    let codex_home = homes.path().join("codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    let timeout = std::time::Duration::from_secs(20 * 60);
    repo.write(
        ".deep-review.toml",
        &codex_config(
            &bin,
            &codex_home,
            &format!("http://127.0.0.1:{port}/v1"),
            "20m",
        ),
    );
    let out = run_with_only(
        &repo,
        homes.path(),
        &[("OPENAI_API_KEY", OPENAI_KEY)],
        &["review", "--agents", "codex", "--format", "json"],
    );
    let codex = codex_column(&out);
    let outcome = &codex["outcome"];
    assert_eq!(outcome["status"], "failed", "{codex:#}");
    assert_eq!(outcome["kind"], "unreachable", "{codex:#}");
    assert!(
        outcome["message"]
            .as_str()
            .unwrap()
            .contains("waiting for network"),
        "{outcome:#}"
    );
    assert!(
        outcome["hint"].as_str().unwrap().contains("proxy"),
        "{outcome:#}"
    );
    // Stopped by its stream, not by the timeout (which would say "timed out").
    let ran = std::time::Duration::from_millis(codex["metrics"]["duration_ms"].as_u64().unwrap());
    assert!(ran < timeout / 4, "ran {ran:?} of a {timeout:?} timeout");
    assert!(
        stderr(&out).contains("cannot reach the model API"),
        "{}",
        stderr(&out)
    );
}
