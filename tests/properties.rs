//! Property tests for the parsers that read untrusted text: the diff parser, each agent CLI's
//! stream parser, and the findings JSON. Whatever an agent prints or a PR's diff holds, they
//! must not panic, must stay linear on long lines, and must read well-formed input exactly.
//!
//! `PROPTEST_CASES` sets the case count (default 256; the git-backed diff property runs an
//! sixteenth of it). For a longer hunt: `PROPTEST_CASES=20000 cargo test --test properties`.

use deep_review::agent::claude;
use deep_review::agent::codex;
use deep_review::agent::gemini;
use deep_review::agent::stream::StreamParser;
use deep_review::diff;
use deep_review::diff::FileStatus;
use deep_review::diff::LineKind;
use deep_review::finding::parse_answer;
use deep_review::finding::Answer;
use deep_review::finding::Assessments;
use deep_review::finding::ContextAction;
use deep_review::finding::ContextUpdate;
use deep_review::finding::Finding;
use deep_review::finding::Location;
use deep_review::finding::Observation;
use deep_review::finding::ObservationKind;
use deep_review::finding::Scope;
use deep_review::finding::Severity;
use deep_review::finding::Verdict;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use std::time::Instant;

/// The configured case count (PROPTEST_CASES, default 256), divided for costly properties.
fn config(divisor: u32) -> ProptestConfig {
    let base = ProptestConfig::default();
    ProptestConfig {
        cases: (base.cases / divisor).max(1),
        ..base
    }
}

// ---------------------------------------------------------------------------------------
// The diff parser.

/// Lines that look like diff syntax, so generated text reaches every branch of the parser.
fn diffish_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ab/xyz.]{0,12}".prop_map(|p| format!("diff --git a/{p} b/{p}")),
        (line_no(), line_no(), line_no(), line_no())
            .prop_map(|(a, b, c, d)| format!("@@ -{a},{b} +{c},{d} @@ ctx")),
        (0u32..5, 0u32..5).prop_map(|(a, c)| format!("@@ -{a} +{c} @@")),
        Just("@@ garbage".to_string()),
        "\\PC{0,10}".prop_map(|t| format!("+{t}")),
        "\\PC{0,10}".prop_map(|t| format!("-{t}")),
        "\\PC{0,10}".prop_map(|t| format!(" {t}")),
        Just("\\ No newline at end of file".to_string()),
        Just("new file mode 100644".to_string()),
        Just("deleted file mode 100644".to_string()),
        "\\PC{0,8}".prop_map(|p| format!("rename from {p}")),
        "\\PC{0,8}".prop_map(|p| format!("rename to {p}")),
        "\\PC{0,8}".prop_map(|p| format!("--- a/{p}")),
        "\\PC{0,8}".prop_map(|p| format!("+++ b/{p}")),
        Just("--- /dev/null".to_string()),
        Just("+++ /dev/null".to_string()),
        Just("Binary files a/x and b/x differ".to_string()),
        Just(String::new()),
        any::<String>(),
    ]
}

/// Hunk numbers, with the edges of `u32` well represented.
fn line_no() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..100,
        (0u64..4).prop_map(|d| u64::from(u32::MAX) - d),
        Just(u64::from(u32::MAX) + 1),
        any::<u32>().prop_map(u64::from),
    ]
}

fn diffish_text() -> impl Strategy<Value = String> {
    (prop::collection::vec(diffish_line(), 0..40), any::<bool>())
        .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

/// Within a hunk, new-file numbers rise by one per added or context line, and old-file
/// numbers per removed or context line.
fn check_numbering(files: &[diff::FileDiff]) -> Result<(), TestCaseError> {
    for f in files {
        for h in &f.hunks {
            let news: Vec<u32> = h.lines.iter().filter_map(|l| l.new_line).collect();
            let olds: Vec<u32> = h.lines.iter().filter_map(|l| l.old_line).collect();
            let rising = |v: &[u32]| v.windows(2).all(|w| w[0].checked_add(1) == Some(w[1]));
            prop_assert!(rising(&news), "{news:?}");
            prop_assert!(rising(&olds), "{olds:?}");
            for l in &h.lines {
                match l.kind {
                    LineKind::Added => prop_assert!(l.new_line.is_some() && l.old_line.is_none()),
                    LineKind::Removed => {
                        prop_assert!(l.new_line.is_none() && l.old_line.is_some())
                    }
                    LineKind::Context => {
                        prop_assert!(l.new_line.is_some() && l.old_line.is_some())
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1))]

    #[test]
    fn the_diff_parser_never_panics_on_diff_like_text(text in diffish_text()) {
        let files = diff::parse(&text);
        check_numbering(&files)?;
        let _ = diff::render_numbered(&files);
    }

    #[test]
    fn the_diff_parser_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let text = String::from_utf8_lossy(&bytes);
        let files = diff::parse(&text);
        let _ = diff::render_numbered(&files);
    }
}

/// One file of a generated change: its contents at base and head (`None`: absent).
#[derive(Debug, Clone)]
struct FileCase {
    path: String,
    base: Option<Vec<String>>,
    head: Option<Vec<String>>,
    final_newline: bool,
}

/// Lines from a small vocabulary (so diffs share context), some of which look like diff
/// syntax themselves.
fn content_line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "fn a() {}", "", "    x += 1;", "}", "// ü comment", "\tlet y = 2;", "+plus",
            "-minus", " space", "\\ backslash", "@@ -1 +1 @@", "diff --git a/x b/x",
            "--- a/x", "+++ b/x", "new file mode 100644", "rename to z",
        ])
        .prop_map(str::to_string),
        // No NUL: git would call the file binary.
        1 => "[^\r\n\x00]{0,20}",
    ]
}

fn contents() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(content_line(), 0..30)
}

/// A path of one to three segments; `a` and `b` directories test prefix stripping.
fn path() -> impl Strategy<Value = String> {
    prop::collection::vec("(a|b|src|[a-z0-9_][a-z0-9_.-]{0,6})", 1..4)
        .prop_map(|segs| segs.join("/") + ".txt")
}

fn file_case() -> impl Strategy<Value = FileCase> {
    (
        path(),
        prop::option::weighted(0.8, contents()),
        prop::option::weighted(0.8, contents()),
        any::<bool>(),
    )
        .prop_map(|(path, base, head, final_newline)| FileCase {
            path,
            base,
            head,
            final_newline,
        })
}

fn change() -> impl Strategy<Value = Vec<FileCase>> {
    prop::collection::vec(file_case(), 1..4).prop_map(|files| {
        // One case per path, and no file where another needs a directory.
        let dirs = |p: &str| {
            let parts: Vec<&str> = p.split('/').collect();
            (1..parts.len())
                .map(|i| parts[..i].join("/"))
                .collect::<Vec<_>>()
        };
        let mut seen: Vec<FileCase> = Vec::new();
        for f in files {
            let clash = seen.iter().any(|s| {
                s.path == f.path
                    || dirs(&f.path).contains(&s.path)
                    || dirs(&s.path).contains(&f.path)
            });
            if !clash {
                seen.push(f);
            }
        }
        seen
    })
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Prop")
        .env("GIT_AUTHOR_EMAIL", "prop@example.com")
        .env("GIT_COMMITTER_NAME", "Prop")
        .env("GIT_COMMITTER_EMAIL", "prop@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the generated diff is UTF-8")
}

impl FileCase {
    /// The file's bytes at base or head.
    fn text(&self, head: bool) -> Option<String> {
        let lines = if head { &self.head } else { &self.base };
        lines.as_ref().map(|lines| {
            let mut text = lines.join("\n");
            if self.final_newline && !lines.is_empty() {
                text.push('\n');
            }
            text
        })
    }

    /// The file's lines as git numbers them (from 1).
    fn lines(&self, head: bool) -> Vec<String> {
        match self.text(head) {
            Some(t) if !t.is_empty() => t
                .strip_suffix('\n')
                .unwrap_or(&t)
                .split('\n')
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn write_side(dir: &Path, files: &[FileCase], head: bool) {
    for f in files {
        let p = dir.join(&f.path);
        match f.text(head) {
            Some(text) => {
                std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
                std::fs::write(&p, text).expect("write");
            }
            None => {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(16))]

    /// A real `git diff` of random files: every numbered line is that line of the head (or
    /// base) file, and every changed path comes back with its status.
    #[test]
    fn diff_line_numbers_agree_with_the_files(
        files in change(),
        context in 0u32..4,
        renames in any::<bool>(),
    ) {
        let repo = tempfile::tempdir().expect("tempdir");
        let dir = repo.path();
        git(dir, &["init", "-q", "-b", "main"]);
        write_side(dir, &files, false);
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "--allow-empty", "-m", "base"]);
        write_side(dir, &files, true);
        git(dir, &["add", "-A"]);
        let unified = format!("-U{context}");
        let mut args = vec!["diff", "--cached", "--src-prefix=a/", "--dst-prefix=b/", &unified];
        args.push(if renames { "-M" } else { "--no-renames" });
        let text = git(dir, &args);
        let parsed = diff::parse(&text);
        check_numbering(&parsed)?;

        let by_path: BTreeMap<&str, &FileCase> = files.iter().map(|f| (f.path.as_str(), f)).collect();
        let mut seen_paths = Vec::new();
        for d in &parsed {
            for side in [d.old_path.as_deref(), d.new_path.as_deref()].into_iter().flatten() {
                prop_assert!(by_path.contains_key(side), "path `{side}` is not one of {:?}\n{text}", by_path.keys());
                seen_paths.push(side.to_string());
            }
            let head = d.new_path.as_deref().map(|p| by_path[p].lines(true)).unwrap_or_default();
            let base = d.old_path.as_deref().map(|p| by_path[p].lines(false)).unwrap_or_default();
            match d.status {
                FileStatus::Added => prop_assert!(d.old_path.is_none() && by_path[d.path()].base.is_none(), "{d:?}"),
                FileStatus::Deleted => prop_assert!(d.new_path.is_none() && by_path[d.path()].head.is_none(), "{d:?}"),
                FileStatus::Modified => prop_assert_eq!(&d.old_path, &d.new_path),
                FileStatus::Renamed => prop_assert!(renames && d.old_path != d.new_path),
            }
            for h in &d.hunks {
                for l in &h.lines {
                    if let Some(n) = l.new_line {
                        prop_assert_eq!(head.get(n as usize - 1), Some(&l.text), "new line {} of {}\n{}", n, d.path(), text);
                    }
                    if let Some(n) = l.old_line {
                        prop_assert_eq!(base.get(n as usize - 1), Some(&l.text), "old line {} of {}\n{}", n, d.path(), text);
                    }
                }
            }
            // Every added line of the head file is in the diff.
            if d.status == FileStatus::Added {
                prop_assert_eq!(d.added_lines().count(), head.len(), "{}", text);
            }
        }
        // Every file that changed is in the diff.
        for f in &files {
            if f.text(false) != f.text(true) {
                prop_assert!(seen_paths.contains(&f.path), "{} is missing from\n{}", f.path, text);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The findings JSON.

/// Text for answer fields: short (under any field cap), any characters but backticks, so a
/// fenced answer stays one fence.
fn field() -> impl Strategy<Value = String> {
    "[^`]{0,24}"
}

fn non_blank() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][^`]{0,24}"
}

fn location() -> impl Strategy<Value = Location> {
    (
        non_blank(),
        1u32..100_000,
        prop::option::of(0u32..50),
        prop::option::of(field()),
    )
        .prop_map(|(path, start_line, span, quote)| Location {
            path,
            start_line,
            end_line: span.map(|s| start_line + s),
            quote,
        })
}

fn scope() -> impl Strategy<Value = Scope> {
    prop::sample::select(vec![
        Scope::Regression,
        Scope::InScope,
        Scope::PreExisting,
        Scope::Future,
    ])
}

fn finding() -> impl Strategy<Value = Finding> {
    (
        prop::sample::select(vec![
            Severity::Critical,
            Severity::Important,
            Severity::Suggestion,
        ]),
        non_blank(),
        field(),
        prop::collection::vec(location(), 0..3),
        prop::option::of(field()),
        prop::option::of(scope()),
        prop::option::of(field()),
        prop::option::of(0u32..=100),
    )
        .prop_map(
            |(severity, title, body, locations, fix, scope, category, confidence)| Finding {
                severity,
                title,
                body,
                locations,
                fix,
                scope,
                category,
                confidence: confidence.map(|c| f64::from(c) / 100.0),
            },
        )
}

fn observation() -> impl Strategy<Value = Observation> {
    (
        prop::sample::select(vec![ObservationKind::Concern, ObservationKind::Strength]),
        field(),
        field(),
        prop::option::of(scope()),
        prop::collection::vec(location(), 0..2),
    )
        .prop_map(|(kind, title, body, scope, locations)| Observation {
            kind,
            title,
            body,
            scope,
            locations,
        })
}

fn answer() -> impl Strategy<Value = Answer> {
    (
        field(),
        prop::option::of(prop::sample::select(vec![
            Verdict::Merge,
            Verdict::MergeWithFixes,
            Verdict::DoNotMerge,
        ])),
        prop::collection::vec(finding(), 0..4),
        prop::collection::vec(observation(), 0..3),
        (
            prop::option::of(field()),
            prop::option::of(field()),
            prop::option::of(field()),
        ),
        prop::collection::vec(
            (any::<bool>(), field(), field()).prop_map(|(add, note, why)| ContextUpdate {
                action: if add {
                    ContextAction::Add
                } else {
                    ContextAction::Remove
                },
                note,
                why,
            }),
            0..2,
        ),
    )
        .prop_map(
            |(
                summary,
                verdict,
                findings,
                observations,
                (testing, documentation, commits),
                context_updates,
            )| {
                Answer {
                    schema: 1,
                    summary,
                    verdict,
                    findings,
                    observations,
                    assessments: Assessments {
                        testing,
                        documentation,
                        commits,
                    },
                    context_updates,
                }
            },
        )
}

/// How an agent may present its answer around the JSON.
fn wrapped(json: &str, how: u8) -> String {
    match how % 4 {
        0 => json.to_string(),
        1 => format!("Here is my review.\n\n```json\n{json}\n```\n"),
        2 => format!(
            "An example first:\n```json\n{{\"schema\": 1, \"findings\": [{{\"title\": \"\"}}]}}\n```\nThe answer:\n```\n{json}\n```"
        ),
        _ => format!("My answer: {json} (end)"),
    }
}

/// Cuts `s` to at most `n` bytes on a character boundary.
fn prefix(s: &str, n: usize) -> &str {
    let mut n = n.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, String),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let piece = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\"".to_string()),
        Just("```".to_string()),
        Just("null".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("0".to_string()),
        "\\PC{0,4}",
    ];
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), 0usize..8).prop_map(|(at, n)| Edit::Delete(at, n)),
            (any::<usize>(), piece.clone()).prop_map(|(at, s)| Edit::Insert(at, s)),
            (any::<usize>(), piece).prop_map(|(at, s)| Edit::Replace(at, s)),
        ],
        1..6,
    )
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut s = text.to_string();
    for e in edits {
        let at = |i: usize, s: &str| prefix(s, i % (s.len() + 1)).len();
        match e {
            Edit::Delete(i, n) => {
                let a = at(*i, &s);
                let b = prefix(&s, a + n).len().max(a);
                s.replace_range(a..b, "");
            }
            Edit::Insert(i, t) => {
                let a = at(*i, &s);
                s.insert_str(a, t);
            }
            Edit::Replace(i, t) => {
                let a = at(*i, &s);
                let b = s[a..].chars().next().map_or(a, |c| a + c.len_utf8());
                s.replace_range(a..b, t);
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(config(1))]

    #[test]
    fn a_valid_answer_always_parses(a in answer(), pretty in any::<bool>(), how in any::<u8>()) {
        let json = if pretty {
            serde_json::to_string_pretty(&a).unwrap()
        } else {
            serde_json::to_string(&a).unwrap()
        };
        let parsed = parse_answer(&wrapped(&json, how));
        prop_assert_eq!(parsed, Ok(a));
    }

    #[test]
    fn any_prefix_or_mutation_of_an_answer_is_an_answer_or_an_error(
        a in answer(),
        cut in any::<usize>(),
        edits in edits(),
        how in any::<u8>(),
    ) {
        let text = wrapped(&serde_json::to_string(&a).unwrap(), how);
        for t in [prefix(&text, cut % (text.len() + 1)).to_string(), apply(&text, &edits)] {
            match parse_answer(&t) {
                Ok(_) => {}
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }

    #[test]
    fn arbitrary_text_is_an_answer_or_an_error(text in any::<String>(), bytes in prop::collection::vec(any::<u8>(), 0..500)) {
        let _ = parse_answer(&text);
        let _ = parse_answer(&String::from_utf8_lossy(&bytes));
        let _ = parse_answer(&format!("```json\n{text}\n```"));
        let _ = parse_answer(&format!("{{{text}}}"));
    }
}

// ---------------------------------------------------------------------------------------
// The agent CLIs' stream parsers.

#[derive(Debug, Clone, Copy)]
enum Cli {
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
fn run(cli: Cli, lines: &[String], stderr: &str) -> (usize, Box<dyn StreamParser>) {
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

// ---------------------------------------------------------------------------------------
// Long lines: parsing stays linear. An agent may print lines up to the supervisor's 16 MiB
// cap; each parser reads a 4 MiB line well inside a generous bound even in a debug build on a
// loaded machine (a quadratic step would take minutes).

const LONG: usize = 4 * 1024 * 1024;
const BOUND: Duration = Duration::from_secs(30);

fn timed(what: &str, f: impl FnOnce()) {
    let start = Instant::now();
    f();
    let took = start.elapsed();
    assert!(took < BOUND, "{what} took {took:?} for a {LONG}-byte line");
}

#[test]
fn long_lines_are_parsed_in_bounded_time() {
    let word = "x".repeat(LONG);
    let quoted = serde_json::to_string(&word).unwrap();
    let brackets = "[".repeat(LONG);
    let braces = "{".repeat(LONG);
    let fences = "```\n{".repeat(LONG / 5);
    let per_cli: [(Cli, String); 3] = [
        (
            Cli::Claude,
            format!(r#"{{"type":"result","subtype":"success","result":{quoted}}}"#),
        ),
        (
            Cli::Codex,
            format!(
                r#"{{"type":"item.completed","item":{{"type":"agent_message","text":{quoted}}}}}"#
            ),
        ),
        (
            Cli::Gemini,
            format!(r#"{{"type":"message","role":"assistant","delta":true,"content":{quoted}}}"#),
        ),
    ];
    for (c, line) in per_cli {
        timed(&format!("{c:?} on a long event"), || {
            run(c, &[line.clone(), line.clone()], "");
        });
        for junk in [&word, &brackets, &braces] {
            timed(&format!("{c:?} on a long non-JSON line"), || {
                run(c, &[junk.clone(), junk.clone()], junk);
            });
        }
    }
    for text in [&word, &brackets, &braces, &fences, &quoted] {
        timed("parse_answer", || {
            let _ = parse_answer(text);
        });
        timed("diff::parse", || {
            let _ = diff::parse(&format!(
                "diff --git a/x b/x\n@@ -1 +1 @@\n+{text}\n {text}\n"
            ));
        });
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
