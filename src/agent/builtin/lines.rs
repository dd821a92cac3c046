//! Checks over each file's added lines: secrets, conflict markers, debug leftovers, large files.

use super::finding;
use super::loc;
use crate::diff::class::classify;
use crate::diff::class::FileClass;
use crate::diff::FileDiff;
use crate::diff::FileStatus;
use crate::diff::LineKind;
use crate::finding::Finding;
use crate::finding::Severity;
use crate::secrets;

/// Added text files larger than this many lines are reported.
const LARGE_FILE_LINES: usize = 2000;

pub(super) fn check_secrets(f: &FileDiff, out: &mut Vec<Finding>) {
    for (line, text) in f.added_lines() {
        for hit in secrets::scan_line(text) {
            out.push(finding(
                Severity::Critical,
                format!("{} committed in `{}`", capitalize(hit.kind), f.path()),
                format!(
                    "Line {line} of `{}` adds what looks like a {}. Anything pushed is in the history for good: anyone with read access can use it, and deleting the line later does not remove it.",
                    f.path(),
                    hit.kind
                ),
                loc(f.path(), line, text),
                "Revoke and rotate the credential now, remove it from the change (rewrite the branch so no commit holds it), and load it from the environment or a secret store instead.",
                "security",
            ));
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub(super) fn check_conflict_markers(f: &FileDiff, out: &mut Vec<Finding>) {
    let is_open = |t: &str| t.starts_with("<<<<<<< ") || t == "<<<<<<<";
    let is_close = |t: &str| t.starts_with(">>>>>>> ") || t == ">>>>>>>";
    // One finding per conflict block, at its opening marker. A lone "=======" is a heading
    // underline in Markdown or RST, so only `<<<<<<<` and a `>>>>>>>` outside a block count.
    let mut in_block = false;
    for (line, text) in f.added_lines() {
        let report = if is_open(text) {
            in_block = true;
            true
        } else if is_close(text) {
            let was = in_block;
            in_block = false;
            !was
        } else {
            false
        };
        if report {
            out.push(finding(
                Severity::Important,
                format!("Merge conflict marker left in `{}`", f.path()),
                format!(
                    "Line {line} adds the conflict marker `{}`: a merge or rebase was committed unresolved, so this file will not parse or will behave as neither side intended.",
                    text.trim()
                ),
                loc(f.path(), line, text),
                "Resolve the conflict, keep the intended side, and delete the `<<<<<<<`, `=======` and `>>>>>>>` lines.",
                "correctness",
            ));
        }
    }
}

pub(super) fn check_debug_leftovers(f: &FileDiff, out: &mut Vec<Finding>) {
    let class = classify(f.path());
    if class == FileClass::Docs {
        return;
    }
    let ext = f.path().rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    for (line, text) in f.added_lines() {
        let code = code_only(text, ext);
        let t = code.trim_start();
        let hit = match ext {
            "rs" => t.contains("dbg!(").then_some("dbg!"),
            "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" | "vue" | "svelte" => {
                if t.starts_with("debugger;") || t == "debugger" {
                    Some("debugger")
                } else if t.starts_with("console.log(") && class != FileClass::Test {
                    Some("console.log")
                } else {
                    None
                }
            }
            "py" => {
                if t.contains("pdb.set_trace()") {
                    Some("pdb.set_trace()")
                } else if t.starts_with("breakpoint()") {
                    Some("breakpoint()")
                } else {
                    None
                }
            }
            "rb" => (t.contains("binding.pry") || t.contains("byebug")).then_some("binding.pry"),
            "php" => (t.starts_with("var_dump(") || t.starts_with("dd(")).then_some("var_dump"),
            _ => None,
        };
        if let Some(what) = hit {
            out.push(finding(
                Severity::Suggestion,
                format!("Debug leftover `{what}` in `{}`", f.path()),
                format!(
                    "Line {line} adds `{what}`, which looks like a debugging aid rather than intended behaviour; it will print or pause in production."
                ),
                loc(f.path(), line, text),
                "Remove it, or replace it with the project's logger at an appropriate level.",
                "maintainability",
            ));
        }
    }
}

/// The code of one line with comments cut and string contents blanked, so a debug call
/// that is commented out (`# pdb.set_trace()`, `// dbg!(x)`) or only named in a string is not
/// a leftover. Lines continuing a block comment (`* …`) have no code.
fn code_only(line: &str, ext: &str) -> String {
    let c_like = matches!(
        ext,
        "rs" | "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" | "vue" | "svelte" | "php"
    );
    let hash = matches!(ext, "py" | "rb" | "php");
    let quotes: &[char] = match ext {
        "rs" => &['"'],
        "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" | "vue" | "svelte" => &['"', '\'', '`'],
        _ => &['"', '\''],
    };
    if c_like && line.trim_start().starts_with('*') {
        return String::new();
    }
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = in_quote {
            if c == '\\' {
                chars.next();
            } else if c == q {
                in_quote = None;
                out.push(c);
            }
            continue;
        }
        match c {
            '#' if hash => break,
            '/' if c_like && chars.peek() == Some(&'/') => break,
            '/' if c_like && chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                let mut closed = false;
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        closed = true;
                        break;
                    }
                    prev = d;
                }
                if !closed {
                    break;
                }
                out.push(' ');
            }
            c if quotes.contains(&c) => {
                in_quote = Some(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

pub(super) fn check_large_file(f: &FileDiff, out: &mut Vec<Finding>) {
    if f.status != FileStatus::Added {
        return;
    }
    let added = f.count(LineKind::Added);
    if added > LARGE_FILE_LINES {
        if let Some((line, text)) = f.added_lines().next() {
            out.push(finding(
                Severity::Suggestion,
                format!("Large file added: `{}` ({added} lines)", f.path()),
                format!(
                    "`{}` is a new file of {added} lines. Files this size are rarely read in review; if it is generated or vendored, say so and consider keeping it out of the repository or marking it `linguist-generated`.",
                    f.path()
                ),
                loc(f.path(), line, text),
                "Generate it at build time, move it to Git LFS, or mark it as generated in .gitattributes.",
                "maintainability",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commented_out_debug_calls_are_not_code() {
        assert_eq!(code_only("# pdb.set_trace()", "py").trim(), "");
        assert_eq!(code_only("x = 1  # pdb.set_trace()", "py").trim(), "x = 1");
        assert_eq!(code_only("    // console.log(x)", "js").trim(), "");
        assert_eq!(
            code_only("/* dbg!(x) */ let y = 1;", "rs").trim(),
            "let y = 1;"
        );
        assert_eq!(code_only(" * console.log(x)", "ts").trim(), "");
        assert_eq!(
            code_only("let s = \"// dbg!(x)\"; dbg!(s);", "rs"),
            "let s = \"\"; dbg!(s);"
        );
        assert_eq!(
            code_only("import pdb; pdb.set_trace()", "py"),
            "import pdb; pdb.set_trace()"
        );
        assert_eq!(code_only("console.log('#1')", "js"), "console.log('')");
    }
}
