//! What the HTTP reviewers recover from, and what they fail on clearly: a model without
//! tools, a brief too long for the context, an unknown model, and the Responses API.

use crate::http_model_server::status;
use crate::http_model_server::Format;
use crate::http_model_server::HttpModelServer;
use crate::http_model_server::Reply;
use crate::http_reviewers::*;
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
