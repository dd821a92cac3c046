//! The stream parsers over every real transcript in tests/fixtures/transcripts (captured from
//! the real CLIs against a scripted model server; see shared/agent-clis).

use deep_review::agent::cli;
use deep_review::agent::cli::classify;
use deep_review::agent::process::Exit;
use deep_review::agent::stream::StreamParser;
use deep_review::agent::stream::StreamSummary;
use deep_review::agent::AgentKind;
use deep_review::agent::AgentSpec;
use deep_review::agent::FailureKind;
use deep_review::agent::Outcome;
use std::path::Path;
use std::time::Duration;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/transcripts");
const WORKDIR: &str = "/home/dev/demo-repo";

struct Replayed {
    summary: StreamSummary,
    /// Tool calls reported live, in order.
    live: Vec<String>,
    outcome: Option<Outcome>,
}

fn replay(name: &str) -> Replayed {
    let read = |ext: &str| std::fs::read_to_string(format!("{DIR}/{name}.{ext}")).unwrap();
    let kind = match name.split('-').next().unwrap() {
        "claude" => AgentKind::Claude,
        "codex" => AgentKind::Codex,
        "gemini" => AgentKind::Gemini,
        other => panic!("{other}"),
    };
    let workdir = Path::new(WORKDIR);
    // Through the adapter, as a review runs it.
    let adapter = cli::for_kind(kind).unwrap();
    let mut spec = AgentSpec::new(kind.as_str(), kind, Duration::from_secs(60));
    if kind == AgentKind::Codex {
        // codex does not name its model in the stream; the configured one is reported.
        spec.model = Some("gpt-5.1-codex".into());
    }
    let mut parser: Box<dyn StreamParser> = adapter.parser(&spec, workdir);
    let mut live = Vec::new();
    for line in read("stdout").lines() {
        live.extend(parser.feed(line).into_iter().map(|t| t.name));
    }
    parser.finish(&read("stderr"));
    let code: i32 = read("exitcode").trim().parse().unwrap();
    let summary = parser.summary().clone();
    let outcome = classify(adapter, &spec, Exit::Code(code), &summary);
    Replayed {
        summary,
        live,
        outcome,
    }
}

fn tools(r: &Replayed) -> Vec<(String, u32)> {
    r.summary
        .tool_calls
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

fn t(pairs: &[(&str, u32)]) -> Vec<(String, u32)> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn failed_kind(r: &Replayed) -> FailureKind {
    match &r.outcome {
        Some(Outcome::Failed { kind, .. }) => *kind,
        other => panic!("expected a failure, got {other:?}"),
    }
}

const REVIEW_TEXT: &str = "Review complete. README.md says: 'Demo project'. No issues found.";

#[test]
fn every_transcript_has_a_test() {
    let tested = [
        "claude-json-max-turns",
        "claude-json-read",
        "claude-json-verbose",
        "claude-stream-json-bash",
        "claude-stream-json-denied",
        "claude-stream-json-fail401",
        "claude-stream-json-fail429",
        "claude-stream-json-partial",
        "claude-stream-json-read",
        "claude-stream-json-schema",
        "codex-exec-human",
        "codex-exec-json",
        "codex-exec-json-cmd-fails",
        "codex-exec-json-fail429",
        "codex-exec-json-openai-base-url",
        "codex-exec-json-readonly-write",
        "codex-exec-json-schema",
        "gemini-json",
        "gemini-json-fail401",
        "gemini-stream-json",
        "gemini-stream-json-fail401",
        "gemini-stream-json-fail429",
        "gemini-stream-json-plan",
        "gemini-stream-json-shell-not-offered",
        "gemini-stream-json-yolo-shell",
    ];
    for entry in std::fs::read_dir(DIR).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".stdout") {
            assert!(tested.contains(&stem), "transcript {stem} has no test");
            // Replaying never panics and always ends in a classified state.
            let _ = replay(stem);
        }
    }
}

#[test]
fn claude_stream_json_read() {
    let r = replay("claude-stream-json-read");
    assert_eq!(tools(&r), t(&[("Read", 1)]));
    assert_eq!(r.live, vec!["Read"]);
    assert_eq!(
        r.summary.files_read.iter().collect::<Vec<_>>(),
        vec!["README.md"]
    );
    assert_eq!(r.summary.model.as_deref(), Some("claude-opus-5-5"));
    let tokens = r.summary.tokens.clone().unwrap();
    assert_eq!(
        (tokens.input, tokens.output, tokens.cached),
        (2800, 80, 400)
    );
    assert_eq!(r.summary.cost_usd, Some(0.01128));
    assert!(r.outcome.is_none(), "{:?}", r.outcome);
    assert_eq!(r.summary.final_text.as_deref(), Some(REVIEW_TEXT));
}

#[test]
fn claude_stream_json_bash_denied_partial_and_schema() {
    let r = replay("claude-stream-json-bash");
    assert_eq!(tools(&r), t(&[("Bash", 1)]));
    assert_eq!(r.summary.model.as_deref(), Some("claude-sonnet-5-5"));
    assert!(r.outcome.is_none());

    let r = replay("claude-stream-json-denied");
    assert_eq!(tools(&r), t(&[("Bash", 1)]));
    assert_eq!(r.summary.denied, vec!["Bash"]);
    assert!(r.outcome.is_none());

    // With partial messages the stream_event lines are skipped, not miscounted.
    let r = replay("claude-stream-json-partial");
    assert_eq!(tools(&r), t(&[("Bash", 1)]));
    assert_eq!(r.summary.unparsed, 0);
    assert_eq!(r.summary.final_text.as_deref(), Some(REVIEW_TEXT));

    let r = replay("claude-stream-json-schema");
    assert_eq!(tools(&r), t(&[("Bash", 1), ("StructuredOutput", 1)]));
    assert_eq!(
        r.summary.structured,
        Some(serde_json::json!({"verdict": "pass", "findings": []}))
    );
    assert!(r.outcome.is_none());
}

#[test]
fn claude_failures_use_is_error_not_subtype() {
    let r = replay("claude-stream-json-fail401");
    assert_eq!(failed_kind(&r), FailureKind::NotLoggedIn);
    assert_eq!(r.summary.error_status, Some(401));
    if let Some(Outcome::Failed { message, hint, .. }) = &r.outcome {
        assert!(message.contains("Invalid API key"), "{message}");
        assert!(hint.contains("ANTHROPIC_API_KEY"), "{hint}");
    }
    assert_eq!(
        r.summary.model.as_deref(),
        Some("claude-opus-5-5"),
        "not <synthetic>"
    );

    let r = replay("claude-stream-json-fail429");
    assert_eq!(failed_kind(&r), FailureKind::RateLimited);

    let r = replay("claude-json-max-turns");
    assert_eq!(failed_kind(&r), FailureKind::Crashed);
    if let Some(Outcome::Failed { message, .. }) = &r.outcome {
        assert!(message.contains("maximum number of turns"), "{message}");
    }
}

#[test]
fn claude_json_forms() {
    let r = replay("claude-json-read");
    assert!(r.outcome.is_none());
    assert_eq!(r.summary.final_text.as_deref(), Some(REVIEW_TEXT));
    assert_eq!(
        r.summary.model.as_deref(),
        Some("claude-opus-5-5"),
        "from modelUsage"
    );

    let r = replay("claude-json-verbose");
    assert_eq!(tools(&r), t(&[("Grep", 1)]));
    assert!(r.outcome.is_none());
    assert_eq!(r.summary.tokens.clone().unwrap().input, 2800);
}

#[test]
fn codex_json_runs() {
    let r = replay("codex-exec-json");
    assert_eq!(tools(&r), t(&[("shell", 1)]));
    assert_eq!(r.live, vec!["shell"]);
    assert_eq!(
        r.summary.files_read.iter().collect::<Vec<_>>(),
        vec!["README.md"]
    );
    let tokens = r.summary.tokens.clone().unwrap();
    assert_eq!(
        (tokens.input, tokens.output, tokens.cached),
        (2400, 100, 400)
    );
    assert_eq!(
        r.summary.model.as_deref(),
        Some("gpt-5.1-codex"),
        "from argv"
    );
    assert!(r.outcome.is_none());
    assert_eq!(r.summary.final_text.as_deref(), Some(REVIEW_TEXT));

    let r = replay("codex-exec-json-cmd-fails");
    assert_eq!(tools(&r), t(&[("shell", 1)]));
    assert!(
        r.outcome.is_none(),
        "a failing command is not a failing run"
    );

    let r = replay("codex-exec-json-schema");
    assert_eq!(
        r.summary.final_text.as_deref(),
        Some("{\"verdict\": \"pass\", \"findings\": []}")
    );

    // A write the sandbox refused leaves no item at all (AGENT_CLIS.md §2.3).
    let r = replay("codex-exec-json-readonly-write");
    assert_eq!(tools(&r), t(&[]));
    assert!(r.outcome.is_none());

    // "Reconnecting…" errors are notices; the run succeeded.
    let r = replay("codex-exec-json-openai-base-url");
    assert!(r.outcome.is_none(), "{:?}", r.outcome);
    assert_eq!(r.summary.final_text.as_deref(), Some(REVIEW_TEXT));
}

#[test]
fn codex_failures() {
    let r = replay("codex-exec-json-fail429");
    assert_eq!(failed_kind(&r), FailureKind::RateLimited);
    assert_eq!(r.summary.error_status, Some(429));
    if let Some(Outcome::Failed { message, .. }) = &r.outcome {
        assert!(
            message.starts_with("exited with status 1: exceeded retry limit"),
            "{message}"
        );
    }
    // Human output is not JSON: nothing is counted and nothing is mistaken for an answer.
    let r = replay("codex-exec-human");
    assert_eq!(tools(&r), t(&[]));
    assert!(r.summary.final_text.is_none());
    assert!(r.outcome.is_some(), "no turn.completed, so not a success");
}

#[test]
fn gemini_stream_json_runs() {
    let r = replay("gemini-stream-json");
    assert_eq!(tools(&r), t(&[("read_file", 1)]));
    assert_eq!(
        r.summary.files_read.iter().collect::<Vec<_>>(),
        vec!["README.md"]
    );
    assert_eq!(r.summary.model.as_deref(), Some("gemini-2.5-pro"));
    let tokens = r.summary.tokens.clone().unwrap();
    assert_eq!(
        (tokens.input, tokens.output, tokens.cached),
        (2400, 100, 400)
    );
    assert!(r.outcome.is_none());
    assert_eq!(
        r.summary.final_text.as_deref(),
        Some("Let me read the README first.Review complete. README.md says: 'Demo project'. No issues found.")
    );

    let r = replay("gemini-stream-json-plan");
    assert_eq!(tools(&r), t(&[("read_file", 1)]));

    // With `-m auto`, the main model is the one with the most tokens, not "auto".
    let r = replay("gemini-stream-json-shell-not-offered");
    assert_eq!(tools(&r), t(&[("run_shell_command", 1)]));
    assert_eq!(r.summary.denied.len(), 1, "tool_not_registered");
    assert!(
        r.summary.model.as_deref().is_some_and(|m| m != "auto"),
        "{:?}",
        r.summary.model
    );

    let r = replay("gemini-stream-json-yolo-shell");
    assert_eq!(tools(&r), t(&[("run_shell_command", 1)]));
    assert!(r.summary.denied.is_empty());
}

#[test]
fn gemini_failures_by_exit_code_and_stderr() {
    let r = replay("gemini-stream-json-fail401");
    assert_eq!(failed_kind(&r), FailureKind::NotLoggedIn);
    if let Some(Outcome::Failed { message, hint, .. }) = &r.outcome {
        assert!(message.starts_with("exited with status 145"), "{message}");
        assert!(hint.contains("GEMINI_API_KEY"), "{hint}");
    }
    let r = replay("gemini-stream-json-fail429");
    assert_eq!(failed_kind(&r), FailureKind::RateLimited);

    // json mode: stdout is empty and the error object is on stderr.
    let r = replay("gemini-json-fail401");
    assert_eq!(failed_kind(&r), FailureKind::NotLoggedIn);
    assert_eq!(r.summary.error_status, Some(401));

    let r = replay("gemini-json");
    assert!(r.outcome.is_none(), "{:?}", r.outcome);
    assert_eq!(tools(&r), t(&[("read_file", 1)]));
    assert_eq!(r.summary.final_text.as_deref(), Some(REVIEW_TEXT));
    assert_eq!(r.summary.tokens.clone().unwrap().input, 2400);
}
