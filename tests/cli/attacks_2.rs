//! Attacks on the surface added with the HTML report, committable suggestions, GitHub
//! checks, `-v` and the big-diff brief: each test plays the hostile PR or agent and checks
//! that the side effect did not happen.

use crate::support::*;

/// ESC, BEL and the C1 CSI: what a terminal acts on.
fn has_terminal_control(text: &str) -> bool {
    text.chars()
        .any(|c| c == '\x1b' || c == '\x07' || c == '\u{9b}')
}

/// `-v` prints each tool call's target as the agent gave it: a file name from the PR, a
/// pattern or a command a prompt-injected model chose. Escape sequences in them (OSC 52 sets
/// the clipboard, CSI clears the screen, OSC 8 hides a link) must reach the terminal inert.
#[test]
fn verbose_tool_call_targets_cannot_send_escape_sequences_to_the_terminal() {
    use crate::http_model_server::Format;
    use crate::http_model_server::HttpModelServer;
    use serde_json::json;
    let f = Format::OpenAi;
    let server = HttpModelServer::start(vec![
        f.tools(
            &[
                (
                    "read_file",
                    json!({"path": "src/\u{1b}]52;c;cm0gLXJmIH4=\u{7}lib.rs"}),
                ),
                (
                    "grep",
                    json!({"pattern": "\u{1b}[2J\u{1b}[H\u{9b}31mowned", "path": "src"}),
                ),
                ("\u{1b}]0;pwned\u{7}list_files", json!({"path": "."})),
            ],
            (1200, 40),
        ),
        f.answer(&crate::http_reviewers::answer(), (1800, 200)),
    ]);
    let (repo, _outside) = crate::http_reviewers::setup(f, &server, "");
    let out = crate::http_reviewers::review(&repo, Some(crate::http_reviewers::KEY), &["-v"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("m: read_file src/"), "{err}");
    assert!(err.contains("m: grep "), "{err}");
    assert!(
        !has_terminal_control(&err),
        "raw control characters on stderr: {err:?}"
    );
}
