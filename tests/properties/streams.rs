//! The agent CLIs' stream parsers: recorded transcripts cut and garbled, and events with
//! values of any type, are read without a panic.

use crate::apply;
use crate::config;
use crate::edits;
use crate::prefix;
use crate::Edit;
use deep_review::agent::claude;
use deep_review::agent::codex;
use deep_review::agent::gemini;
use deep_review::agent::stream::StreamParser;
use proptest::prelude::*;
use std::path::Path;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Cli {
    Claude,
    Codex,
    Gemini,
}

fn parser(cli: Cli) -> Box<dyn StreamParser> {
    let wd = Path::new("/work/tree");
    match cli {
        Cli::Claude => Box::new(claude::Parser::new(wd)),
        Cli::Codex => Box::new(codex::Parser::new(wd, Some("gpt-5"))),
        Cli::Gemini => Box::new(gemini::Parser::new(wd)),
    }
}

/// Every recorded transcript, with the CLI that printed it.
fn transcripts() -> Vec<(Cli, String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/transcripts");
    let mut out = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("transcripts")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".stdout"))
        .collect();
    names.sort();
    for name in names {
        let cli = match name.split('-').next() {
            Some("claude") => Cli::Claude,
            Some("codex") => Cli::Codex,
            Some("gemini") => Cli::Gemini,
            _ => continue,
        };
        let stdout = std::fs::read_to_string(format!("{dir}/{name}")).expect("stdout");
        let stderr =
            std::fs::read_to_string(format!("{dir}/{}", name.replace(".stdout", ".stderr")))
                .unwrap_or_default();
        out.push((cli, stdout, stderr));
    }
    assert!(out.len() >= 20, "the transcripts are missing");
    out
}

/// Feeds `lines` and finishes, as the supervisor does; returns the tool starts reported.
pub(crate) fn run(cli: Cli, lines: &[String], stderr: &str) -> (usize, Box<dyn StreamParser>) {
    let mut p = parser(cli);
    let mut started = 0;
    for l in lines {
        started += p.feed(l).len();
    }
    let before = p
        .summary()
        .tool_calls
        .values()
        .map(|&n| n as usize)
        .sum::<usize>();
    if matches!(cli, Cli::Claude) {
        assert_eq!(before, started, "each tool call started is counted once");
    }
    p.finish(stderr);
    (started, p)
}

/// Keys the three CLIs' events use, so random objects hit the parsers' paths.
const KEYS: &[&str] = &[
    "type",
    "subtype",
    "model",
    "message",
    "content",
    "usage",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "total_cost_usd",
    "duration_ms",
    "modelUsage",
    "permission_denials",
    "tool_name",
    "is_error",
    "api_error_status",
    "result",
    "errors",
    "structured_output",
    "item",
    "text",
    "command",
    "server",
    "tool",
    "error",
    "status",
    "stats",
    "models",
    "total_tokens",
    "delta",
    "role",
    "parameters",
    "file_path",
    "absolute_path",
    "paths",
    "severity",
    "tool_use_result",
    "file",
    "filePath",
    "name",
    "input",
    "tools",
    "byName",
    "count",
    "tokens",
    "prompt",
    "candidates",
    "cached",
    "response",
    "code",
];

const TYPES: &[&str] = &[
    "system",
    "init",
    "assistant",
    "user",
    "result",
    "tool_use",
    "tool_result",
    "message",
    "item.started",
    "item.completed",
    "turn.completed",
    "turn.failed",
    "error",
    "agent_message",
    "command_execution",
    "mcp_tool_call",
    "web_search",
    "file_change",
    "collab_tool_call",
    "Read",
    "read_file",
    "read_many_files",
    "success",
    "tool_not_registered",
    "assistant",
];

/// Counts near the top of the range, which sums and casts must survive.
fn big() -> impl Strategy<Value = u64> {
    prop::sample::select(vec![
        u64::MAX,
        u64::MAX - 1,
        u64::from(u32::MAX),
        u64::from(u16::MAX) + 1,
        1 << 40,
        429,
        1,
    ])
}

const COUNT_KEYS: &[&str] = &[
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cached",
    "prompt",
    "candidates",
    "count",
    "total_tokens",
    "api_error_status",
    "code",
    "duration_ms",
];

/// An event carrying token counts and statuses where each CLI reads them.
fn counts() -> impl Strategy<Value = serde_json::Value> {
    prop::collection::btree_map(prop::sample::select(COUNT_KEYS), big(), 1..8)
        .prop_map(|m| serde_json::json!(m))
}

fn counts_event() -> impl Strategy<Value = String> {
    (prop::sample::select(TYPES), counts(), counts(), "[a-z-]{1,6}").prop_map(|(t, c, d, name)| {
        serde_json::json!({
            "type": t, "subtype": "error_max_turns", "is_error": true, "status": "success",
            "usage": c, "stats": {"models": {name.clone(): {"tokens": d}}, "tools": {"byName": {name: c}}},
            "error": d, "api_error_status": u64::MAX,
        })
        .to_string()
    })
}

/// gemini's `--output-format json`: one object pretty-printed over many lines.
fn gemini_json_mode() -> impl Strategy<Value = String> {
    (counts(), counts(), prop::option::of("\\PC{0,12}")).prop_map(|(c, d, response)| {
        serde_json::to_string_pretty(&serde_json::json!({
            "response": response,
            "stats": {"models": {"m1": {"tokens": c}, "m2": {"tokens": c}},
                      "tools": {"byName": {"read_file": d, "grep": d}}},
        }))
        .unwrap()
    })
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<u64>().prop_map(Value::from),
        3 => big().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        2 => prop::sample::select(TYPES).prop_map(Value::from),
        2 => "\\PC{0,12}".prop_map(Value::from),
        1 => Just(Value::from("/work/tree/src/lib.rs")),
        1 => Just(Value::from("Reconnecting... 1/5")),
        1 => Just(Value::from("error 429 from upstream")),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// A plausible event: an object with a known `type` and random known fields.
fn event_line() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (prop::sample::select(TYPES), prop::collection::vec((prop::sample::select(KEYS), json_value()), 0..6))
            .prop_map(|(t, kv)| {
                let mut m: serde_json::Map<String, serde_json::Value> =
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                m.insert("type".into(), t.into());
                serde_json::Value::Object(m).to_string()
            }),
        2 => json_value().prop_map(|v| v.to_string()),
        1 => json_value().prop_map(|v| format!("[{v}, {v}]")),
        2 => counts_event(),
        1 => gemini_json_mode(),
        1 => "\\PC{0,40}",
        1 => any::<String>(),
    ]
}

fn cli() -> impl Strategy<Value = Cli> {
    prop::sample::select(vec![Cli::Claude, Cli::Codex, Cli::Gemini])
}

#[derive(Debug, Clone)]
enum LineEdit {
    Drop(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Cut(usize, usize),
    Mutate(usize, Vec<Edit>),
}

fn line_edits() -> impl Strategy<Value = Vec<LineEdit>> {
    prop::collection::vec(
        prop_oneof![
            any::<usize>().prop_map(LineEdit::Drop),
            any::<usize>().prop_map(LineEdit::Duplicate),
            (any::<usize>(), any::<usize>()).prop_map(|(a, b)| LineEdit::Swap(a, b)),
            (any::<usize>(), any::<usize>()).prop_map(|(a, b)| LineEdit::Cut(a, b)),
            (any::<usize>(), edits()).prop_map(|(a, e)| LineEdit::Mutate(a, e)),
        ],
        1..8,
    )
}

fn apply_lines(mut lines: Vec<String>, edits: &[LineEdit]) -> Vec<String> {
    for e in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match e {
            LineEdit::Drop(i) => {
                lines.remove(i % n);
            }
            LineEdit::Duplicate(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            LineEdit::Swap(a, b) => lines.swap(a % n, b % n),
            LineEdit::Cut(i, at) => {
                let l = &lines[i % n];
                let cut = prefix(l, at % (l.len() + 1)).to_string();
                lines[i % n] = cut;
            }
            LineEdit::Mutate(i, edits) => {
                let l = apply(&lines[i % n], edits);
                lines[i % n] = l;
            }
        }
    }
    lines
}

proptest! {
    #![proptest_config(config(1))]

    /// A transcript cut anywhere (a killed agent) is read without a panic, by every parser.
    #[test]
    fn truncated_transcripts_never_panic(pick in any::<usize>(), cut in any::<usize>(), any_cli in cli()) {
        let all = transcripts();
        let (own, stdout, stderr) = &all[pick % all.len()];
        let text = prefix(stdout, cut % (stdout.len() + 1));
        let lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        run(*own, &lines, prefix(stderr, cut % (stderr.len() + 1)));
        run(any_cli, &lines, stderr);
    }

    /// Lines dropped, repeated, swapped, cut and garbled are read without a panic.
    #[test]
    fn mutated_transcripts_never_panic(pick in any::<usize>(), edits in line_edits()) {
        let all = transcripts();
        let (own, stdout, stderr) = &all[pick % all.len()];
        let lines = apply_lines(stdout.lines().map(str::to_string).collect(), &edits);
        run(*own, &lines, stderr);
    }

    /// Events of the right shape with values of any type (huge token counts, strings where
    /// numbers belong, nesting) are read without a panic.
    #[test]
    fn arbitrary_events_never_panic(
        c in cli(),
        lines in prop::collection::vec(event_line(), 0..16),
        stderr in prop::collection::vec(prop_oneof![event_line(), Just("{".to_string())], 0..4),
    ) {
        // Multi-line events (gemini's json mode) arrive one line at a time.
        let lines: Vec<String> = lines.iter().flat_map(|l| l.split('\n')).map(str::to_string).collect();
        run(c, &lines, &stderr.join("\n"));
    }
}

/// Token counts are the CLI's word: absurd ones saturate instead of overflowing (a panic in
/// a debug build, a wrapped count in a release one).
#[test]
fn absurd_token_counts_saturate() {
    let max = u64::MAX;
    let claude_line = format!(
        r#"{{"type":"result","subtype":"success","result":"{{}}","usage":{{"input_tokens":{max},"cache_read_input_tokens":{max},"cache_creation_input_tokens":1,"output_tokens":{max}}}}}"#
    );
    let codex_line = format!(
        r#"{{"type":"turn.completed","usage":{{"input_tokens":{max},"output_tokens":1}}}}"#
    );
    let gemini_json = format!(
        "{{\n\"response\": \"{{}}\",\n\"stats\": {{\"models\": {{\"a\": {{\"tokens\": {{\"prompt\": {max}}}}}, \"b\": {{\"tokens\": {{\"prompt\": {max}}}}}}},\n\"tools\": {{\"byName\": {{\"grep\": {{\"count\": {max}}}}}}}}}\n}}"
    );
    let cases = [
        (Cli::Claude, vec![claude_line]),
        (Cli::Codex, vec![codex_line.clone(), codex_line]),
        (
            Cli::Gemini,
            gemini_json.lines().map(str::to_string).collect(),
        ),
    ];
    for (c, lines) in cases {
        let (_, p) = run(c, &lines, "");
        let tokens = p.summary().tokens.clone().expect("tokens");
        assert_eq!(tokens.input, max, "{c:?}");
    }
}
