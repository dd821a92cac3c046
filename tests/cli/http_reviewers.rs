//! The HTTP reviewers (`openai`, `anthropic`, `gemini-api`) through the real binary against
//! the scripted model API on 127.0.0.1, in each wire format: tool loops, refusals of reads
//! outside the tree, retries, cut streams, stalls, bad keys and budgets.

use crate::http_model_server::status;
use crate::http_model_server::Format;
use crate::http_model_server::HttpModelServer;
use crate::http_model_server::Reply;
use crate::http_model_server::FORMATS;
use crate::support::*;
use serde_json::json;
use serde_json::Value;
use std::process::Command;
use std::process::Output;
use std::time::Duration;
use std::time::Instant;

pub const KEY_VAR: &str = "DR_TEST_MODEL_KEY";
pub const KEY: &str = "sk-test-7Hq2Zr9LmV4xKp8WnB3cYd6Fs1Tg5Uj0";
/// What the file outside the tree holds; it must never reach the model.
const OUTSIDE: &str = "OUTSIDE-THE-TREE-a8f3e1";

pub fn feature_repo(outside: &std::path::Path) -> Repo {
    let r = Repo::with_base(&[(
        "src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
    )]);
    r.write(
        "src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\n/// Divides.\npub fn div(a: i32, b: i32) -> i32 {\n    a / b\n}\n",
    );
    let secret = outside.join("secret.txt");
    std::fs::write(&secret, format!("{OUTSIDE}\n")).unwrap();
    std::os::unix::fs::symlink(&secret, r.path().join("notes.txt")).unwrap();
    r.commit("Add div\n\nDivision for the calculator.");
    r
}

pub fn answer() -> String {
    json!({"schema": 1, "summary": "One real bug.", "verdict": "merge_with_fixes", "findings": [{
        "severity": "important",
        "title": "Division by zero panics in div",
        "body": "`div` divides by `b` without checking for zero, so `div(1, 0)` panics.",
        "locations": [{"path": "src/lib.rs", "start_line": 7, "quote": "a / b"}],
        "category": "correctness", "confidence": 0.9}]})
    .to_string()
}

/// A repository with one HTTP agent `m` of `format` on `server`, and `extra` in its table.
pub fn setup(format: Format, server: &HttpModelServer, extra: &str) -> (Repo, tempfile::TempDir) {
    let outside = tempfile::tempdir().unwrap();
    let repo = feature_repo(outside.path());
    repo.write(
        ".deep-review.toml",
        &format!(
            "[agents.m]\nkind = \"{}\"\nmodel = \"{}\"\nbase_url = \"{}\"\napi_key_env = \"{KEY_VAR}\"\ntimeout = \"20s\"\n{extra}",
            format.kind(),
            format.model(),
            format.base_url(server)
        ),
    );
    (repo, outside)
}

pub fn review(repo: &Repo, key: Option<&str>, extra_args: &[&str]) -> Output {
    review_command(repo, key, extra_args)
        .output()
        .expect("deep-review runs")
}

/// The `deep-review review --agents m` command [`review`] runs, to spawn it by hand.
pub fn review_command(repo: &Repo, key: Option<&str>, extra_args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["review", "--agents", "m"])
        .args(extra_args)
        .current_dir(repo.path())
        .env(
            "DEEP_REVIEW_CONFIG",
            repo.path().join("no-user-config.toml"),
        )
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove(KEY_VAR);
    if let Some(k) = key {
        cmd.env(KEY_VAR, k);
    }
    cmd
}

pub fn agent(repo: &Repo) -> Value {
    let review = repo.review_json();
    review["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "m")
        .cloned()
        .unwrap()
}

pub fn transcript(repo: &Repo) -> String {
    std::fs::read_to_string(repo.round_dir().join("agents/m/transcript.txt")).unwrap()
}

/// Nothing deep-review wrote holds the key.
fn assert_key_nowhere(repo: &Repo, out: &Output) {
    assert!(!stdout(out).contains(KEY) && !stderr(out).contains(KEY));
    let mut stack = vec![repo.round_dir()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                assert!(!text.contains(KEY), "{} holds the key", p.display());
            }
        }
    }
}

#[test]
fn a_review_with_tool_calls_in_each_format() {
    for f in FORMATS {
        let server = HttpModelServer::start(vec![
            f.tools(
                &[
                    ("read_file", json!({"path": "src/lib.rs", "start_line": 5})),
                    ("grep", json!({"pattern": "a / b", "path": "src/**/*.rs"})),
                ],
                (1200, 40),
            ),
            f.tools(
                &[("list_dir", json!({})), ("git_log", json!({"path": "src"}))],
                (1500, 30),
            ),
            f.answer(&answer(), (1800, 200)),
        ]);
        let (repo, _outside) = setup(f, &server, "");
        let out = review(&repo, Some(KEY), &[]);
        assert_eq!(out.status.code(), Some(0), "{f:?}: {}", stderr(&out));
        let a = agent(&repo);
        assert_eq!(a["outcome"]["status"], "ok", "{f:?}: {a}");
        let m = &a["metrics"];
        assert_eq!(m["findings"]["important"], 1, "{f:?}: {m}");
        assert_eq!(m["tool_calls"], 4, "{f:?}: {m}");
        for tool in ["read_file", "grep", "list_dir", "git_log"] {
            assert_eq!(m["tool_calls_by_name"][tool], 1, "{f:?} {tool}: {m}");
        }
        assert_eq!(m["files_reviewed"], 1, "{f:?}");
        assert_eq!(m["tokens"]["input"], 4500, "{f:?}: {m}");
        assert_eq!(m["tokens"]["output"], 270, "{f:?}: {m}");
        assert!(m["cost_usd"].as_f64().unwrap() > 0.0, "{f:?}: priced: {m}");

        let got = server.received();
        assert_eq!(got.len(), 3, "{f:?}");
        for r in &got {
            assert_eq!(r.path, f.path(), "{f:?}");
            let auth = match f {
                Format::OpenAi => r
                    .header("authorization")
                    .map(|v| v == format!("Bearer {KEY}")),
                Format::Anthropic => r.header("x-api-key").map(|v| v == KEY),
                Format::Gemini => r.header("x-goog-api-key").map(|v| v == KEY),
            };
            assert_eq!(auth, Some(true), "{f:?}: {:?}", r.headers);
        }
        // The brief went first; the tools' answers came back to the model.
        assert!(got[0].body.contains("Division for the calculator"), "{f:?}");
        assert!(got[1].body.contains("a / b"), "{f:?}: read_file's lines");
        assert!(got[1].body.contains("src/lib.rs:7:"), "{f:?}: grep's match");
        assert!(got[2].body.contains("src/"), "{f:?}: list_dir");
        assert!(got[2].body.contains("Add div"), "{f:?}: git_log");

        let t = transcript(&repo);
        assert!(
            t.contains("One real bug."),
            "{f:?}: the stream is on disk: {t}"
        );
        assert!(t.contains("# tool read_file"), "{f:?}");
        let report = std::fs::read_to_string(repo.round_dir().join("report.md")).unwrap();
        assert!(report.contains("Tool calls"), "{f:?}");
        assert_key_nowhere(&repo, &out);
    }
}

#[test]
fn reads_outside_the_tree_are_refused_counted_and_never_sent() {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let passwd_line = passwd.lines().next().unwrap_or("root:x:0:0").to_string();
    for f in FORMATS {
        let server = HttpModelServer::start(vec![
            f.tools(
                &[
                    ("read_file", json!({"path": "../../../../../../etc/passwd"})),
                    ("read_file", json!({"path": "notes.txt"})),
                    ("read_file", json!({"path": "/etc/passwd"})),
                    ("grep", json!({"pattern": "OUTSIDE"})),
                    ("git_blame", json!({"path": "notes.txt"})),
                    ("git_show", json!({"rev": "HEAD~1"})),
                ],
                (100, 10),
            ),
            f.answer(&answer(), (100, 10)),
        ]);
        let (repo, _outside) = setup(f, &server, "");
        let out = review(&repo, Some(KEY), &[]);
        assert_eq!(out.status.code(), Some(0), "{f:?}: {}", stderr(&out));
        let m = agent(&repo)["metrics"].clone();
        assert_eq!(m["tool_calls_by_name"]["read_file"], 3, "{f:?}: {m}");
        assert_eq!(m["tool_calls"], 6, "{f:?}: {m}");
        assert_eq!(m["files_reviewed"], 0, "{f:?}: nothing was read");
        let got = server.received();
        assert_eq!(got.len(), 2, "{f:?}");
        for r in &got {
            assert!(
                !r.body.contains(OUTSIDE),
                "{f:?}: the symlink's target was sent"
            );
            assert!(
                !r.body.contains(&passwd_line),
                "{f:?}: /etc/passwd was sent"
            );
        }
        let results = &got[1].body;
        assert!(results.contains("is outside the reviewed tree"), "{f:?}");
        assert!(results.contains("goes through a symlink"), "{f:?}");
        assert!(
            results.contains("not a commit of the reviewed range"),
            "{f:?}"
        );
    }
}

#[test]
fn a_429_with_retry_after_then_success() {
    for f in FORMATS {
        let server = HttpModelServer::start(vec![
            status(
                429,
                "Rate limit reached, slow down",
                &[("Retry-After", "1")],
            ),
            f.answer(&answer(), (100, 10)),
        ]);
        let (repo, _outside) = setup(f, &server, "");
        let started = Instant::now();
        let out = review(&repo, Some(KEY), &[]);
        assert_eq!(out.status.code(), Some(0), "{f:?}: {}", stderr(&out));
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{f:?}: Retry-After honoured"
        );
        assert_eq!(agent(&repo)["outcome"]["status"], "ok", "{f:?}");
        assert_eq!(server.received().len(), 2, "{f:?}");
        assert!(transcript(&repo).contains("retrying in 1.0s"), "{f:?}");
    }
}

#[test]
fn a_500_then_success() {
    for f in FORMATS {
        let server = HttpModelServer::start(vec![
            status(500, "internal error", &[]),
            f.answer(&answer(), (100, 10)),
        ]);
        let (repo, _outside) = setup(f, &server, "");
        let out = review(&repo, Some(KEY), &[]);
        assert_eq!(out.status.code(), Some(0), "{f:?}: {}", stderr(&out));
        assert_eq!(agent(&repo)["outcome"]["status"], "ok", "{f:?}");
        assert_eq!(agent(&repo)["metrics"]["findings"]["important"], 1, "{f:?}");
        assert_eq!(server.received().len(), 2, "{f:?}");
    }
}

#[test]
fn a_stream_cut_mid_answer_fails_with_the_reason_and_keeps_what_arrived() {
    for f in FORMATS {
        let server = HttpModelServer::start(vec![f.cut(&answer())]);
        let (repo, _outside) = setup(f, &server, "");
        let out = review(&repo, Some(KEY), &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{f:?}: no model answered: {}",
            stderr(&out)
        );
        let a = agent(&repo);
        assert_eq!(a["outcome"]["kind"], "crashed", "{f:?}: {a}");
        let msg = a["outcome"]["message"].as_str().unwrap();
        assert!(
            msg.contains("connection broke") || msg.contains("stream ended"),
            "{f:?}: {msg}"
        );
        let arrived: String = answer().chars().take(40).collect();
        let t = transcript(&repo);
        // The first half of the answer, as streamed: its title is in it.
        assert!(
            t.contains("Division"),
            "{f:?}: the partial answer is on disk: {t}"
        );
        let kept = std::fs::read_to_string(repo.round_dir().join("agents/m/answer.txt")).unwrap();
        assert!(kept.starts_with(&arrived), "{f:?}: {kept}");
        let run: Value = serde_json::from_str(
            &std::fs::read_to_string(repo.round_dir().join("agents/m/run.json")).unwrap(),
        )
        .unwrap();
        assert!(
            run["answer_text"].as_str().unwrap().starts_with(&arrived),
            "{f:?}"
        );
    }
}

#[test]
fn a_stalled_server_times_out_in_bounded_time() {
    for f in FORMATS {
        let server = HttpModelServer::start(vec![Reply::Stall(Duration::from_secs(120))]);
        let (repo, _outside) = setup(f, &server, "");
        let started = Instant::now();
        let out = review(&repo, Some(KEY), &["--timeout", "2s"]);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(15), "{f:?}: took {took:?}");
        assert_eq!(out.status.code(), Some(2), "{f:?}: {}", stderr(&out));
        assert_eq!(agent(&repo)["outcome"]["kind"], "timed_out", "{f:?}");
    }
}

#[test]
fn a_401_is_a_bad_key_naming_the_variable() {
    for f in FORMATS {
        let server = HttpModelServer::start(vec![status(401, "invalid x-api-key", &[])]);
        let (repo, _outside) = setup(f, &server, "");
        let out = review(&repo, Some(KEY), &[]);
        assert_eq!(out.status.code(), Some(2), "{f:?}: {}", stderr(&out));
        let o = agent(&repo)["outcome"].clone();
        assert_eq!(o["kind"], "not_logged_in", "{f:?}: {o}");
        let msg = o["message"].as_str().unwrap();
        assert!(
            msg.contains("bad key") && msg.contains(KEY_VAR),
            "{f:?}: {msg}"
        );
        assert_eq!(server.received().len(), 1, "{f:?}: a 401 is not retried");
        assert_key_nowhere(&repo, &out);
    }
}

#[test]
fn a_budget_reached_mid_loop_stops_the_tools_and_asks_for_the_answer() {
    for f in FORMATS {
        let server = HttpModelServer::start(vec![
            f.tools(&[("read_file", json!({"path": "src/lib.rs"}))], (800, 50)),
            f.answer(&answer(), (900, 200)),
            // Never asked for: the loop stopped.
            f.tools(&[("read_file", json!({"path": "src/lib.rs"}))], (1, 1)),
        ]);
        let (repo, _outside) = setup(f, &server, "max_tokens = 1000\n");
        let out = review(&repo, Some(KEY), &[]);
        assert_eq!(out.status.code(), Some(0), "{f:?}: {}", stderr(&out));
        let a = agent(&repo);
        assert_eq!(a["outcome"]["status"], "ok", "{f:?}: {a}");
        let got = server.received();
        assert_eq!(got.len(), 2, "{f:?}");
        assert!(
            got[1]
                .body
                .contains("You have reached the agent's token budget of 1000"),
            "{f:?}"
        );
        let body = got[1].json();
        let choice = match f {
            Format::OpenAi => body["tool_choice"].clone(),
            Format::Anthropic => body["tool_choice"]["type"].clone(),
            Format::Gemini => body["toolConfig"]["functionCallingConfig"]["mode"].clone(),
        };
        assert!(choice == "none" || choice == "NONE", "{f:?}: {body}");
        let b = &a["metrics"]["budget"];
        assert_eq!(b["limits"]["max_tokens"], 1000, "{f:?}: {b}");
        assert!(
            b["reached"]
                .as_str()
                .unwrap()
                .contains("token budget of 1000"),
            "{f:?}"
        );
        let report = std::fs::read_to_string(repo.round_dir().join("report.md")).unwrap();
        let row = report
            .lines()
            .find(|l| l.starts_with("| Budget |"))
            .unwrap_or("");
        assert!(row.contains("1950 of 1000 tokens"), "{f:?}: {row}");
        assert!(
            row.contains("reached the agent's token budget"),
            "{f:?}: {row}"
        );
    }
}

#[test]
fn a_local_openai_compatible_model_without_a_key_reviews_end_to_end() {
    // As with Ollama: `base_url = "http://localhost:11434/v1"`, no key, a local model name.
    let server = HttpModelServer::start(vec![
        Format::OpenAi.tools(&[("read_file", json!({"path": "src/lib.rs"}))], (300, 20)),
        Format::OpenAi.answer(&answer(), (400, 100)),
    ]);
    let outside = tempfile::tempdir().unwrap();
    let repo = feature_repo(outside.path());
    repo.write(
        ".deep-review.toml",
        &format!(
            "[agents.m]\nkind = \"openai\"\nmodel = \"qwen2.5-coder:14b\"\nbase_url = \"{}/v1\"\n",
            server.base()
        ),
    );
    let out = review(&repo, None, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let a = agent(&repo);
    assert_eq!(a["outcome"]["status"], "ok", "{a}");
    assert_eq!(a["metrics"]["tool_calls_by_name"]["read_file"], 1);
    assert!(
        a["metrics"].get("cost_usd").is_none(),
        "a local model has no price"
    );
    let got = server.received();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|r| r.header("authorization").is_none()));
    assert_eq!(got[0].path, "/v1/chat/completions");
    assert_eq!(got[0].json()["model"], "qwen2.5-coder:14b");
    assert_eq!(got[0].json()["stream"], true);
    let report = stdout(&out);
    assert!(report.contains("Division by zero"), "{report}");
}

#[test]
fn a_local_model_server_that_is_not_running_is_unreachable_with_what_to_do() {
    // Ollama not started: nothing listens on the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let outside = tempfile::tempdir().unwrap();
    let repo = feature_repo(outside.path());
    repo.write(
        ".deep-review.toml",
        &format!(
            "[agents.m]\nkind = \"openai\"\nmodel = \"qwen2.5-coder:14b\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\n"
        ),
    );
    let out = review(&repo, None, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(
        err.matches("cannot reach the model API").count(),
        1,
        "{err}"
    );
    let a = agent(&repo);
    assert_eq!(a["outcome"]["kind"], "unreachable", "{a}");
    let msg = a["outcome"]["message"].as_str().unwrap();
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(
        a["outcome"]["hint"]
            .as_str()
            .unwrap()
            .contains("ollama serve"),
        "{a}"
    );
}

#[test]
fn a_key_in_the_config_file_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let repo = feature_repo(outside.path());
    repo.write(
        ".deep-review.toml",
        "[agents.m]\nkind = \"openai\"\nmodel = \"gpt-4o\"\napi_key = \"sk-not-here\"\n",
    );
    let out = review(&repo, None, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("agents.m.api_key") && err.contains("api_key_env"),
        "{err}"
    );
}

#[test]
fn a_missing_key_for_a_vendor_endpoint_fails_before_any_request() {
    let outside = tempfile::tempdir().unwrap();
    let repo = feature_repo(outside.path());
    repo.write(
        ".deep-review.toml",
        "[agents.m]\nkind = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\n",
    );
    let out = review(&repo, None, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let o = agent(&repo)["outcome"].clone();
    assert_eq!(o["kind"], "not_logged_in");
    assert!(
        o["message"]
            .as_str()
            .unwrap()
            .contains("ANTHROPIC_API_KEY is not set"),
        "{o}"
    );
}

#[test]
fn agents_lists_the_http_kinds_with_their_credentials_never_the_key() {
    let outside = tempfile::tempdir().unwrap();
    let repo = feature_repo(outside.path());
    repo.write(
        ".deep-review.toml",
        &format!(
            "[agents.local]\nkind = \"openai\"\nmodel = \"qwen2.5-coder:14b\"\nbase_url = \"http://localhost:11434/v1\"\n\
             [agents.claude-api]\nkind = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\napi_key_env = \"{KEY_VAR}\"\n\
             [agents.gem]\nkind = \"gemini-api\"\nmodel = \"gemini-2.5-pro\"\n"
        ),
    );
    let out = Command::new(BIN)
        .arg("agents")
        .current_dir(repo.path())
        .env(
            "DEEP_REVIEW_CONFIG",
            repo.path().join("no-user-config.toml"),
        )
        .env_remove("GEMINI_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env(KEY_VAR, KEY)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!text.contains(KEY), "{text}");
    let row = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row for {name}: {text}"))
            .to_string()
    };
    let local = row("local");
    assert!(
        local.contains("http://localhost:11434/v1") && local.contains("none needed"),
        "{local}"
    );
    assert!(local.contains("qwen2.5-coder:14b"), "{local}");
    assert!(row("claude-api").contains(&format!("{KEY_VAR} is set")));
    assert!(row("gem").contains("GEMINI_API_KEY is not set"));
}

#[test]
fn a_key_whose_variable_name_says_nothing_is_still_masked() {
    // Neither the name (no KEY, TOKEN, SECRET) nor the value (no known format) marks it as a
    // secret; the reviewer registers it, so a model echoing it is masked on disk.
    let opaque = "opaque-credential-9f8e7d6c5b4a3210";
    let echoed = answer().replace("One real bug.", &format!("One real bug; key {opaque}."));
    let server = HttpModelServer::start(vec![Format::OpenAi.answer(&echoed, (10, 10))]);
    let outside = tempfile::tempdir().unwrap();
    let repo = feature_repo(outside.path());
    repo.write(
        ".deep-review.toml",
        &format!(
            "[agents.m]\nkind = \"openai\"\nmodel = \"gpt-4o\"\nbase_url = \"{}/v1\"\napi_key_env = \"LLM_AUTH\"\n",
            server.base()
        ),
    );
    let out = Command::new(BIN)
        .args(["review", "--agents", "m"])
        .current_dir(repo.path())
        .env(
            "DEEP_REVIEW_CONFIG",
            repo.path().join("no-user-config.toml"),
        )
        .env("LLM_AUTH", opaque)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        server.received()[0].header("authorization"),
        Some(format!("Bearer {opaque}").as_str())
    );
    assert!(!stdout(&out).contains(opaque), "{}", stdout(&out));
    assert!(!transcript(&repo).contains(opaque));
    let answer_txt = std::fs::read_to_string(repo.round_dir().join("agents/m/answer.txt")).unwrap();
    assert!(
        !answer_txt.contains(opaque) && answer_txt.contains("$LLM_AUTH…[redacted]"),
        "{answer_txt}"
    );
}
