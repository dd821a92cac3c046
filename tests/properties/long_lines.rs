//! Long lines: parsing stays linear.

use crate::streams::run;
use crate::streams::Cli;
use deep_review::diff;
use deep_review::finding::parse_answer;
use std::time::Duration;
use std::time::Instant;

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
    let blanks = format!(
        "diff --git a/x b/x\n@@ -1 +1 @@\n x\n{}",
        " \n".repeat(LONG / 2)
    );
    timed("diff::parse on a hunk followed by many blank lines", || {
        let files = diff::parse(&blanks);
        assert_eq!(files[0].hunks[0].lines.len(), 1);
    });
}
