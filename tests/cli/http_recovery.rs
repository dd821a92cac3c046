//! What the HTTP reviewers recover from, and what they fail on clearly: a model without
//! tools, a brief too long for the context, an unknown model, and the Responses API; and the
//! limits that hold against a hostile or broken endpoint: no redirect is followed (the key
//! stays with base_url), memory stays bounded, tool calls obey the timeout and Ctrl-C.

use crate::http_model_server::status;
use crate::http_model_server::Format;
use crate::http_model_server::HttpModelServer;
use crate::http_model_server::Reply;
use crate::http_model_server::FORMATS;
use crate::http_reviewers::*;
use crate::support::stderr;
use crate::support::Repo;
use serde_json::json;

#[test]
fn a_model_without_tools_reviews_from_the_brief_alone() {
    let server = HttpModelServer::start(vec![
        // As Ollama answers for a model without tool support.
        status(
            400,
            "registry.ollama.ai/library/gemma:2b does not support tools",
            &[],
        ),
        Format::OpenAi.answer(&answer(), (100, 10)),
    ]);
    let (repo, _outside) = setup(Format::OpenAi, &server, "");
    let out = review(&repo, Some(KEY), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::support::stderr(&out)
    );
    let got = server.received();
    assert_eq!(got.len(), 2);
    assert!(got[0].json().get("tools").is_some());
    assert!(
        got[1].json().get("tools").is_none(),
        "asked again without tools"
    );
    let a = agent(&repo);
    assert_eq!(a["outcome"]["status"], "ok");
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.round_dir().join("agents/m/run.json")).unwrap(),
    )
    .unwrap();
    assert!(
        run["notes"][0]
            .as_str()
            .unwrap()
            .contains("does not take tools"),
        "{run}"
    );
}

#[test]
fn tools_false_sends_no_tools() {
    let server = HttpModelServer::start(vec![Format::Anthropic.answer(&answer(), (100, 10))]);
    let (repo, _outside) = setup(Format::Anthropic, &server, "tools = false\n");
    let out = review(&repo, Some(KEY), &[]);
    assert_eq!(out.status.code(), Some(0));
    let body = server.received()[0].json();
    assert!(body.get("tools").is_none(), "{body}");
    assert!(body["system"].as_str().unwrap().contains("alone"));
}

#[test]
fn a_context_length_refusal_shrinks_the_brief_once_then_fails_clearly() {
    let too_long = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens (context_length_exceeded)";
    // Once: shrunk and answered.
    let server = HttpModelServer::start(vec![
        status(400, too_long, &[]),
        Format::OpenAi.answer(&answer(), (100, 10)),
    ]);
    let (repo, _outside) = setup(Format::OpenAi, &server, "");
    let out = review(&repo, Some(KEY), &[]);
    assert_eq!(out.status.code(), Some(0));
    let got = server.received();
    assert_eq!(got.len(), 2);
    assert!(got[1].body.len() < got[0].body.len());
    assert!(got[1].body.contains("was cut to fit the model's context"));

    // Twice: a clear failure, no third request.
    let server =
        HttpModelServer::start(vec![status(400, too_long, &[]), status(400, too_long, &[])]);
    let (repo, _outside) = setup(Format::OpenAi, &server, "");
    let out = review(&repo, Some(KEY), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(server.received().len(), 2);
    let o = agent(&repo)["outcome"].clone();
    assert!(
        o["message"]
            .as_str()
            .unwrap()
            .contains("does not fit the model's context, even shrunk"),
        "{o}"
    );
}

#[test]
fn an_unknown_model_is_model_unknown() {
    let server = HttpModelServer::start(vec![status(
        404,
        "The model `gpt-9` does not exist or you do not have access to it.",
        &[],
    )]);
    let (repo, _outside) = setup(Format::OpenAi, &server, "");
    let out = review(&repo, Some(KEY), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(agent(&repo)["outcome"]["kind"], "model_unknown");
    assert_eq!(server.received().len(), 1, "a 404 is not retried");
}

#[test]
fn the_responses_api_where_the_endpoint_offers_it() {
    let call = json!({"type": "response.output_item.done", "output_index": 0,
        "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "read_file",
                 "arguments": "{\"path\":\"src/lib.rs\"}", "status": "completed"}});
    let completed = |i: u64, o: u64| {
        json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed",
            "usage": {"input_tokens": i, "output_tokens": o, "input_tokens_details": {"cached_tokens": 0}}}})
    };
    let ev = |v: serde_json::Value| {
        format!(
            "event: {}\ndata: {v}",
            v["type"].as_str().unwrap_or_default()
        )
    };
    let mut answer_events = vec![ev(
        json!({"type": "response.created", "response": {"id": "resp_2"}}),
    )];
    for piece in answer().as_bytes().chunks(50) {
        let text = String::from_utf8_lossy(piece).into_owned();
        answer_events.push(ev(json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": text})));
    }
    answer_events.push(ev(completed(500, 120)));
    let server = HttpModelServer::start(vec![
        Reply::Stream(vec![ev(call), ev(completed(300, 20))]),
        Reply::Stream(answer_events),
    ]);
    let (repo, _outside) = setup(Format::OpenAi, &server, "api = \"responses\"\n");
    let out = review(&repo, Some(KEY), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::support::stderr(&out)
    );
    let got = server.received();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|r| r.path == "/v1/responses"));
    let second = got[1].json();
    let items = second["input"].as_array().unwrap();
    assert!(items.iter().any(|i| i["type"] == "function_call_output"
        && i["call_id"] == "call_1"
        && i["output"].as_str().unwrap().contains("a / b")));
    let m = agent(&repo)["metrics"].clone();
    assert_eq!(m["tool_calls_by_name"]["read_file"], 1);
    assert_eq!(m["tokens"]["input"], 800);
    assert_eq!(m["findings"]["important"], 1);
}

/// deep-review run by hand: its exit code, stderr, and its peak memory (KiB, from wait4, so
/// only this process is measured).
fn review_measured(repo: &Repo) -> (Option<i32>, String, i64) {
    let dir = tempfile::tempdir().unwrap();
    let err_path = dir.path().join("stderr");
    #[allow(clippy::zombie_processes)] // waited for with wait4 below, to read its rusage
    let child = review_command(repo, Some(KEY), &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, by its pid.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    (code, err, usage.ru_maxrss)
}

/// What deep-review may hold at its peak, in KiB: below the 256 MiB the server sends, which
/// a reader without caps holds whole. (A turn cut at 4 MiB is copied several times on its way
/// to answer.txt, run.json and the review, hence not lower.)
const MEMORY_BOUND_KIB: i64 = 200 * 1024;

#[test]
fn a_redirect_is_a_failure_and_the_key_never_follows_it() {
    for f in FORMATS {
        let elsewhere = HttpModelServer::start(vec![f.answer(&answer(), (100, 10))]);
        let target = format!("{}{}", elsewhere.base(), f.path());
        let server =
            HttpModelServer::start(vec![status(307, "moved", &[("Location", target.as_str())])]);
        let (repo, _outside) = setup(f, &server, "");
        let out = review(&repo, Some(KEY), &[]);
        assert_eq!(out.status.code(), Some(2), "{f:?}: {}", stderr(&out));
        let got = elsewhere.received();
        assert!(
            got.is_empty(),
            "{f:?}: the redirect was followed, with headers {:?}",
            got[0].headers
        );
        assert_eq!(
            server.received().len(),
            1,
            "{f:?}: a redirect is not retried"
        );
        let o = agent(&repo)["outcome"].clone();
        let msg = o["message"].as_str().unwrap_or("");
        assert!(
            msg.contains("redirected") && msg.contains(&target),
            "{f:?}: {o}"
        );
        assert!(
            o["hint"].as_str().unwrap_or("").contains("base_url"),
            "{f:?}: {o}"
        );
    }
}

#[test]
fn a_huge_error_body_is_read_only_to_its_cap() {
    let f = Format::OpenAi;
    let server = HttpModelServer::start(vec![Reply::HugeStatus {
        status: 400,
        size: 256 << 20,
    }]);
    let (repo, _outside) = setup(f, &server, "");
    let (code, err, peak) = review_measured(&repo);
    assert_eq!(code, Some(2), "{err}");
    assert!(peak < MEMORY_BOUND_KIB, "deep-review held {peak} KiB");
    let o = agent(&repo)["outcome"].clone();
    assert_eq!(o["status"], "failed", "{o}");
    assert!(
        transcript(&repo).contains("the error body was cut at 64 KiB"),
        "the transcript says so"
    );
}

#[test]
fn a_model_that_never_stops_talking_is_cut_at_the_turn_cap() {
    for f in FORMATS {
        let server = HttpModelServer::start(vec![f.endless(4096, 256 << 20)]);
        let (repo, _outside) = setup(f, &server, "");
        let (code, err, peak) = review_measured(&repo);
        assert_eq!(code, Some(2), "{f:?}: {err}");
        assert!(
            peak < MEMORY_BOUND_KIB,
            "{f:?}: deep-review held {peak} KiB"
        );
        let o = agent(&repo)["outcome"].clone();
        assert_eq!(o["kind"], "crashed", "{f:?}: {o}");
        let msg = o["message"].as_str().unwrap_or("");
        assert!(msg.contains("4 MiB"), "{f:?}: {msg}");
        let t = std::fs::metadata(repo.round_dir().join("agents/m/transcript.txt")).unwrap();
        assert!(
            t.len() < 64 << 20,
            "{f:?}: the transcript is bounded too: {}",
            t.len()
        );
    }
}

/// A turn of `n` greps that match nothing, in the Gemini format.
fn greps(n: usize) -> Reply {
    let calls: Vec<(&str, serde_json::Value)> = (0..n)
        .map(|_| ("grep", json!({"pattern": "nothing-matches-this"})))
        .collect();
    Format::Gemini.tools(&calls, (10, 10))
}

/// A repository with `files` generated files of `lines` lines each, to make greps cost.
fn repo_with_files(
    server: &HttpModelServer,
    files: usize,
    lines: usize,
    timeout: &str,
) -> (Repo, tempfile::TempDir) {
    let (repo, outside) = setup(Format::Gemini, server, "");
    let body = "x\n".repeat(lines);
    for i in 0..files {
        repo.write(&format!("gen/f{i}.txt"), &body);
    }
    repo.commit("generated files");
    let toml = std::fs::read_to_string(repo.path().join(".deep-review.toml")).unwrap();
    repo.write(
        ".deep-review.toml",
        &toml.replace("timeout = \"20s\"", &format!("timeout = \"{timeout}\"")),
    );
    (repo, outside)
}

#[test]
fn a_turn_of_40_greps_runs_16_and_refuses_the_rest() {
    let server =
        HttpModelServer::start(vec![greps(40), Format::Gemini.answer(&answer(), (10, 10))]);
    // 400 files: grep reads them through one git process, not two per file.
    let (repo, _outside) = repo_with_files(&server, 400, 1, "20s");
    let out = review(&repo, Some(KEY), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let a = agent(&repo);
    assert_eq!(a["outcome"]["status"], "ok", "{a}");
    assert_eq!(a["metrics"]["tool_calls"], 40, "every call is counted: {a}");
    let got = server.received();
    assert_eq!(got.len(), 2);
    let results = &got[1].body;
    assert_eq!(results.matches("no matches").count(), 16, "16 ran");
    assert_eq!(
        results
            .matches("refused: too many calls in one turn")
            .count(),
        24,
        "the rest were refused"
    );
    let notes = repo.review_json()["notes"].to_string();
    assert!(notes.contains("too many calls"), "a note says so: {notes}");
}

#[test]
fn tool_calls_stop_at_the_agents_timeout() {
    let server =
        HttpModelServer::start(vec![greps(40), Format::Gemini.answer(&answer(), (10, 10))]);
    // Each grep reads 20 million lines: far more than the 2 s timeout allows for 16.
    let (repo, _outside) = repo_with_files(&server, 10, 2_000_000, "2s");
    let out = review(&repo, Some(KEY), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let a = agent(&repo);
    assert_eq!(a["outcome"]["kind"], "timed_out", "{a}");
    let ran = a["metrics"]["tool_calls"].as_u64().unwrap_or(0);
    assert!(
        (1..16).contains(&ran),
        "the timeout stopped the calls after {ran}: {a}"
    );
    assert_eq!(server.received().len(), 1, "no turn after the timeout");
}

#[test]
fn an_interrupt_during_tool_calls_ends_the_run_promptly() {
    let server =
        HttpModelServer::start(vec![greps(40), Format::Gemini.answer(&answer(), (10, 10))]);
    let (repo, _outside) = repo_with_files(&server, 10, 2_000_000, "300s");
    let mut child = review_command(&repo, Some(KEY), &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let waited = std::time::Instant::now();
    while server.received().is_empty() && waited.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The turn of greps has arrived: the tools are running.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = std::time::Instant::now();
    // SAFETY: signals our own child, by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    assert_eq!(status.code(), Some(130), "{status:?}");
    // 40 greps of 20 million lines would take far longer; the run ends at the next check.
    assert!(
        took < std::time::Duration::from_secs(10),
        "SIGINT took {took:?}"
    );
    let a = agent(&repo);
    assert_eq!(
        a["outcome"]["kind"], "cancelled",
        "the partial review holds it: {a}"
    );
    let ran = a["metrics"]["tool_calls"].as_u64().unwrap_or(0);
    assert!(ran < 16, "{ran} calls ran after the interrupt: {a}");
}
