//! The real agent CLIs (installed from npm by .ci/run at pinned versions) through a full
//! `deep-review review`, each pointed at the scripted model server on 127.0.0.1.
//!
//! Where the binaries are missing these tests say so loudly on stderr; under CI (`CI` set)
//! a missing binary is a failure, not a skip.

use crate::model_server::ModelServer;
use crate::support::*;
use serde_json::json;
use std::path::PathBuf;

pub fn cli_dir() -> Option<PathBuf> {
    cli_dir_with(&["claude", "codex", "gemini"])
}

/// The folder of the pinned agent CLIs when `names` are all in it (`DEEP_REVIEW_CLI_DIR`, else
/// target/agent-clis). Missing under CI is a failure; elsewhere a loud skip.
pub fn cli_dir_with(names: &[&str]) -> Option<PathBuf> {
    let dir = std::env::var_os("DEEP_REVIEW_CLI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/agent-clis/node_modules/.bin"
            ))
        });
    if names.iter().all(|b| dir.join(b).exists()) {
        return Some(dir);
    }
    let msg = format!(
        "agent CLIs {names:?} not found in {} (run .ci/run, or its npm install line)",
        dir.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPED real-CLI test: {msg} !!!!!!!!\n");
    None
}

#[test]
fn three_real_clis_review_a_fixture_repository_through_the_scripted_server() {
    let Some(bin) = cli_dir() else { return };
    let repo = Repo::with_base(&[("src/cache.rs", "pub struct Cache;\n")]);
    repo.write(
        "src/cache.rs",
        "pub struct Cache {\n    map: std::collections::HashMap<String, String>,\n}\n\nimpl Cache {\n    pub fn get(&self, key: &str) -> String {\n        self.map.get(key).unwrap().clone()\n    }\n}\n",
    );
    repo.commit("Add cache lookups");
    let answer = json!({
        "schema": 1,
        "summary": "The lookup panics on a missing key.",
        "verdict": "merge_with_fixes",
        "findings": [{
            "severity": "important",
            "title": "get() panics on a missing key",
            "body": "`self.map.get(key).unwrap()` panics when the key is absent, crashing the caller.",
            "locations": [{"path": "src/cache.rs", "start_line": 7, "end_line": 7, "quote": "self.map.get(key).unwrap().clone()"}],
            "fix": "Return `Option<String>`.",
            "scope": "in_scope",
            "category": "correctness",
            "confidence": 0.9
        }],
        "observations": [],
        "assessments": {"testing": "No test covers a missing key.", "documentation": "Nothing to document.", "commits": "One focused commit."},
        "context_updates": []
    });
    let server = ModelServer::start(answer, "src/cache.rs", repo.path().to_str().unwrap());
    let homes = tempfile::tempdir().unwrap();
    let home = |n: &str| {
        let h = homes.path().join(n);
        std::fs::create_dir_all(&h).unwrap();
        h
    };
    let gemini_home = home("gemini");
    std::fs::create_dir_all(gemini_home.join(".gemini")).unwrap();
    std::fs::write(
        gemini_home.join(".gemini/settings.json"),
        r#"{"security":{"auth":{"selectedType":"gemini-api-key"}},"privacy":{"usageStatisticsEnabled":false},"general":{"disableAutoUpdate":true,"disableUpdateNag":true,"maxAttempts":1},"telemetry":{"enabled":false}}"#,
    )
    .unwrap();
    let base = server.base();
    let codex_args = [
        "model_provider=mock".to_string(),
        "model_providers.mock.name=mock".to_string(),
        format!("model_providers.mock.base_url={base}/v1"),
        "model_providers.mock.wire_api=responses".to_string(),
        "model_providers.mock.request_max_retries=0".to_string(),
        "model_providers.mock.stream_max_retries=0".to_string(),
    ]
    .iter()
    .map(|c| format!("\"-c\", {c:?}"))
    .collect::<Vec<_>>()
    .join(", ");
    let config = format!(
        r#"[review]
timeout = "180s"

[agents.claude]
kind = "claude"
command = ["{bin}/claude"]
model = "opus"
effort = "high"
env = {{ HOME = "{ch}", ANTHROPIC_BASE_URL = "{base}", ANTHROPIC_API_KEY = "sk-ant-test-dummy", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1", DISABLE_TELEMETRY = "1", DISABLE_AUTOUPDATER = "1", DISABLE_ERROR_REPORTING = "1" }}

[agents.codex]
kind = "codex"
command = ["{bin}/codex"]
model = "gpt-5.5"
effort = "high"
args = [{codex_args}]
env = {{ HOME = "{xh}", CODEX_HOME = "{xh}" }}

[agents.gemini]
kind = "gemini"
command = ["{bin}/gemini"]
model = "gemini-2.5-pro"
env = {{ HOME = "{gh}", GEMINI_API_KEY = "test-dummy-key", GOOGLE_GEMINI_BASE_URL = "{base}" }}
"#,
        bin = bin.display(),
        ch = home("claude").display(),
        xh = home("codex").display(),
        gh = gemini_home.display(),
    );
    repo.write(".deep-review.toml", &config);
    let out = repo.run(&[
        "review",
        "--agents",
        "claude,codex,gemini",
        "--format",
        "json",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let agents = v["agents"].as_array().unwrap();
    for a in agents {
        let dir = repo
            .round_dir()
            .join("agents")
            .join(a["name"].as_str().unwrap());
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        assert_eq!(
            a["outcome"]["status"],
            "ok",
            "{:#}\nstderr tail: {}\nanswer: {}\nstream: {}\nrequests: {:?}",
            a["outcome"],
            a["stderr_tail"],
            read("answer.txt"),
            read("stdout.jsonl"),
            server.paths()
        );
    }
    let col = |n: &str| agents.iter().find(|a| a["name"] == n).unwrap().clone();
    // Tool counts come from the real binaries' streams.
    assert_eq!(
        col("claude")["metrics"]["tool_calls_by_name"]["Read"],
        1,
        "{:#}",
        col("claude")["metrics"]
    );
    assert_eq!(
        col("codex")["metrics"]["tool_calls"],
        1,
        "{:#}",
        col("codex")["metrics"]
    );
    assert_eq!(
        col("gemini")["metrics"]["tool_calls_by_name"]["read_file"],
        1,
        "{:#}",
        col("gemini")["metrics"]
    );
    assert!(
        col("claude")["display"]
            .as_str()
            .unwrap()
            .starts_with("Claude Opus"),
        "{}",
        col("claude")["display"]
    );
    assert!(col("claude")["display"]
        .as_str()
        .unwrap()
        .ends_with("(effort: high)"));
    assert_eq!(col("codex")["display"], "Codex GPT 5.5 (effort: high)");
    assert_eq!(col("gemini")["display"], "Gemini 2.5 Pro (effort: default)");
    // One finding, found by all three, parsed from the real binaries' output.
    let f = &v["findings"][0];
    assert_eq!(f["agreement"], 3, "{:#}", v["findings"]);
    assert_eq!(f["locations"][0]["verified"], true);
    let paths = server.paths();
    for needle in ["/v1/messages", "/v1/responses", ":streamGenerateContent"] {
        assert!(
            paths.iter().any(|p| p.contains(needle)),
            "no {needle} request in {paths:?}"
        );
    }
}
