//! Whether the change's code comes with tests and its public surface with docs.

use super::finding;
use super::loc;
use super::plural;
use crate::change::Change;
use crate::diff::class::classify;
use crate::diff::class::FileClass;
use crate::diff::FileDiff;
use crate::diff::FileStatus;
use crate::diff::LineKind;
use crate::finding::Finding;
use crate::finding::Severity;

/// Added lines that look like tests inside a code file (Rust unit tests, Go examples).
fn adds_inline_tests(f: &FileDiff) -> bool {
    f.added_lines().any(|(_, l)| {
        let t = l.trim();
        t.starts_with("#[test]")
            || t.starts_with("#[cfg(test)]")
            || t.starts_with("#[tokio::test")
            || t.starts_with("func Test")
            || t.starts_with("def test_")
    })
}

/// Reports code changed without tests, and returns the testing assessment facts.
pub(super) fn check_tests(change: &Change, out: &mut Vec<Finding>) -> String {
    let code: Vec<&FileDiff> = change
        .files
        .iter()
        .filter(|f| classify(f.path()) == FileClass::Code && f.status != FileStatus::Deleted)
        .filter(|f| f.added_lines().next().is_some())
        .collect();
    let tests: Vec<&FileDiff> = change
        .files
        .iter()
        .filter(|f| classify(f.path()) == FileClass::Test)
        .collect();
    let inline: Vec<&FileDiff> = code
        .iter()
        .copied()
        .filter(|f| adds_inline_tests(f))
        .collect();
    let code_lines: usize = code.iter().map(|f| f.count(LineKind::Added)).sum();
    let mut text = String::new();
    if code.is_empty() {
        text.push_str("No source code changed, so no tests were expected.");
        if !tests.is_empty() {
            text.push_str(&format!(
                " {} test file{} changed.",
                tests.len(),
                plural(tests.len())
            ));
        }
        return text;
    }
    text.push_str(&format!(
        "{} source file{} changed (+{code_lines} lines); ",
        code.len(),
        plural(code.len())
    ));
    if tests.is_empty() && inline.is_empty() {
        text.push_str("no test file was added or changed.");
        let first = code[0];
        // Cite the first added line with content; a blank line says nothing.
        let first_line = first
            .added_lines()
            .find(|(_, t)| !t.trim().is_empty())
            .or_else(|| first.added_lines().next());
        if let Some((line, quote)) = first_line {
            let others: Vec<String> = code
                .iter()
                .skip(1)
                .map(|f| format!("`{}`", f.path()))
                .collect();
            let mut body = format!(
                "The change adds or modifies code in `{}`{} but touches no test. Nothing shows that the new behaviour works or keeps working.",
                first.path(),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" (and {})", others.join(", "))
                }
            );
            body.push_str(
                " If the change is covered by existing tests, say which in the description.",
            );
            out.push(finding(
                Severity::Suggestion,
                "Code changed without a test change".to_string(),
                body,
                loc(first.path(), line, quote),
                "Add a test that fails without this change and passes with it.",
                "tests",
            ));
        }
    } else {
        let names: Vec<String> = tests
            .iter()
            .chain(inline.iter())
            .map(|f| format!("`{}`", f.path()))
            .collect();
        text.push_str(&format!("tests changed in {}.", names.join(", ")));
    }
    text
}

/// Public items added (by language convention) on an added line.
fn public_item(path: &str, text: &str) -> bool {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let t = text.trim_start();
    let indent = text.len() - t.len();
    match ext {
        "rs" => [
            "pub fn ",
            "pub struct ",
            "pub enum ",
            "pub trait ",
            "pub type ",
            "pub const ",
            "pub async fn ",
            "pub mod ",
        ]
        .iter()
        .any(|p| t.starts_with(p)),
        "go" => (t.starts_with("func ") || t.starts_with("type ")) && indent == 0 && go_exported(t),
        "js" | "jsx" | "ts" | "tsx" | "mjs" => t.starts_with("export ") && indent == 0,
        "py" => {
            indent == 0
                && (t.starts_with("def ") || t.starts_with("class "))
                && !t[4..].trim_start().starts_with('_')
        }
        "java" | "kt" | "cs" => {
            t.starts_with("public ")
                && (t.contains('(') || t.contains(" class ") || t.contains(" interface "))
        }
        _ => false,
    }
}

fn go_exported(t: &str) -> bool {
    // func Name(, func (r *T) Name(, type Name
    let rest = t.trim_start_matches("func ").trim_start_matches("type ");
    let rest = if rest.starts_with('(') {
        rest.split_once(')')
            .map(|(_, r)| r.trim_start())
            .unwrap_or("")
    } else {
        rest
    };
    rest.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

fn has_doc_above(f: &FileDiff, line: u32) -> bool {
    for h in &f.hunks {
        let idx = h.lines.iter().position(|l| l.new_line == Some(line));
        if let Some(i) = idx {
            let mut j = i;
            while j > 0 {
                j -= 1;
                let l = &h.lines[j];
                if l.kind == LineKind::Removed {
                    continue;
                }
                let t = l.text.trim();
                if t.starts_with("#[") || t.starts_with('@') {
                    continue; // attributes and decorators sit between docs and items
                }
                return t.starts_with("///")
                    || t.starts_with("//!")
                    || t.starts_with("/**")
                    || t.starts_with('*')
                    || t.ends_with("*/")
                    || t.starts_with("//")
                    || t.starts_with('#')
                    || t.starts_with("\"\"\"");
            }
            return false;
        }
    }
    false
}

/// Reports public surface changed without docs, and returns the documentation facts.
pub(super) fn check_docs(change: &Change, out: &mut Vec<Finding>) -> String {
    let docs: Vec<&FileDiff> = change
        .files
        .iter()
        .filter(|f| classify(f.path()) == FileClass::Docs)
        .collect();
    let mut undocumented: Vec<(&FileDiff, u32, &str)> = Vec::new();
    let mut public_count = 0;
    for f in change
        .files
        .iter()
        .filter(|f| classify(f.path()) == FileClass::Code)
    {
        for (line, text) in f.added_lines() {
            if public_item(f.path(), text) {
                public_count += 1;
                if !has_doc_above(f, line) {
                    undocumented.push((f, line, text));
                }
            }
        }
    }
    let mut text = if docs.is_empty() {
        "No documentation file changed".to_string()
    } else {
        let names: Vec<String> = docs.iter().map(|f| format!("`{}`", f.path())).collect();
        format!("Documentation changed in {}", names.join(", "))
    };
    text.push_str(&format!(
        "; {public_count} public item{} added, {} without a doc comment.",
        plural(public_count),
        undocumented.len()
    ));
    if docs.is_empty() {
        if let Some((f, line, quote)) = undocumented.first() {
            let rest: Vec<String> = undocumented
                .iter()
                .skip(1)
                .take(5)
                .map(|(f, l, _)| format!("`{}:{l}`", f.path()))
                .collect();
            out.push(finding(
                Severity::Suggestion,
                "Public surface changed without documentation".to_string(),
                format!(
                    "Line {line} of `{}` adds a public item with no doc comment, and no documentation file changed{}. Users of the API learn about it only by reading the code.",
                    f.path(),
                    if rest.is_empty() {
                        String::new()
                    } else {
                        format!(" (also {})", rest.join(", "))
                    }
                ),
                loc(f.path(), *line, quote),
                "Add a doc comment that says what it does and when to use it, and update the README or docs if users call it.",
                "docs",
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_public_items() {
        assert!(public_item("a.rs", "pub fn go() {"));
        assert!(!public_item("a.rs", "fn go() {"));
        assert!(public_item("a.go", "func (c *Client) Close() error {"));
        assert!(!public_item("a.go", "func (c *Client) close() error {"));
        assert!(public_item("a.ts", "export function f() {}"));
        assert!(public_item("a.py", "def handler(event):"));
        assert!(!public_item("a.py", "def _private():"));
    }
}
