//! The `builtin` reviewer: deterministic checks that need no model and cost nothing.
//!
//! It looks only at the change (diff and commits) and reports what can be known for sure:
//! secrets and conflict markers added, debug leftovers, code changed without tests, public
//! surface changed without docs, large or binary files, and the commit structure. Every
//! finding cites a line that the change added. Its assessments are facts, not opinions, and
//! they feed the testing, documentation and commit-structure sections of the report.

use super::AgentRun;
use super::AgentSpec;
use super::Outcome;
use super::RunContext;
use crate::change::Change;
use crate::change::Commit;
use crate::diff::FileDiff;
use crate::diff::FileStatus;
use crate::diff::LineKind;
use crate::finding::Answer;
use crate::finding::Assessments;
use crate::finding::Finding;
use crate::finding::Location;
use crate::finding::Observation;
use crate::finding::ObservationKind;
use crate::finding::Scope;
use crate::finding::Severity;
use crate::secrets;

/// Added text files larger than this many lines are reported.
const LARGE_FILE_LINES: usize = 2000;
/// A commit touching more lines than this should explain itself in a body.
const NON_TRIVIAL_LINES: usize = 30;
const SUBJECT_MAX: usize = 72;

/// The builtin reviewer: deterministic checks, in-process, needing no model.
pub struct Builtin;

impl super::Adapter for Builtin {
    fn kind(&self) -> super::AgentKind {
        super::AgentKind::Builtin
    }

    fn run<'a>(
        &'a self,
        spec: &'a AgentSpec,
        ctx: &'a RunContext,
    ) -> super::adapter::BoxFuture<'a, AgentRun> {
        Box::pin(async move { run(spec, ctx) })
    }

    fn program(&self, _spec: &AgentSpec) -> Option<String> {
        None
    }
}

pub fn run(spec: &AgentSpec, ctx: &RunContext) -> AgentRun {
    let started = std::time::Instant::now();
    let answer = review(&ctx.change);
    let mut run = AgentRun::new(spec, Outcome::Ok);
    let path = ctx.dirs.agent.join("stdout.txt");
    if let Ok(text) = serde_json::to_string_pretty(&answer) {
        if crate::artifacts::write_or_log(&path, &text) {
            run.stdout_path = path.strip_prefix(&ctx.dirs.round).ok().map(Into::into);
        }
    }
    run.stats.files_read = ctx
        .change
        .files
        .iter()
        .map(|f| f.path().to_string())
        .collect();
    run.answer = Some(answer);
    run.stats.duration_ms = started.elapsed().as_millis() as u64;
    run
}

/// Classifies a path for the tests/docs checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileClass {
    Code,
    Test,
    Docs,
    Other,
}

const CODE_EXTS: &[&str] = &[
    "rs", "go", "py", "js", "jsx", "ts", "tsx", "mjs", "cjs", "java", "kt", "kts", "scala", "c",
    "h", "cc", "cpp", "cxx", "hpp", "cs", "rb", "php", "swift", "m", "mm", "ex", "exs", "erl",
    "hs", "ml", "clj", "lua", "pl", "r", "dart", "zig", "nim", "vue", "svelte", "sh", "bash",
];

fn classify(path: &str) -> FileClass {
    let lower = path.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let in_dir = |d: &str| lower.starts_with(&format!("{d}/")) || lower.contains(&format!("/{d}/"));
    if ["md", "rst", "adoc", "txt"].contains(&ext) || in_dir("docs") || in_dir("doc") {
        return FileClass::Docs;
    }
    let testy = in_dir("test")
        || in_dir("tests")
        || in_dir("__tests__")
        || in_dir("spec")
        || in_dir("testdata")
        || in_dir("fixtures")
        || file.starts_with("test_")
        || file.contains("_test.")
        || file.contains(".test.")
        || file.contains(".spec.")
        || file.contains("_spec.")
        || file.ends_with("tests.rs")
        || file.ends_with("test.java")
        || file.ends_with("tests.cs");
    if testy {
        return FileClass::Test;
    }
    if CODE_EXTS.contains(&ext) {
        return FileClass::Code;
    }
    FileClass::Other
}

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

fn loc(path: &str, line: u32, quote: &str) -> Location {
    Location {
        path: path.to_string(),
        start_line: line,
        end_line: None,
        quote: Some(secrets::redact_line(quote)),
        replacement: None,
    }
}

fn finding(
    severity: Severity,
    title: String,
    body: String,
    location: Location,
    fix: &str,
    category: &str,
) -> Finding {
    Finding {
        severity,
        title,
        body,
        locations: vec![location],
        fix: Some(fix.to_string()),
        scope: Some(Scope::InScope),
        category: Some(category.to_string()),
        confidence: Some(1.0),
    }
}

/// Runs every check over the change.
pub fn review(change: &Change) -> Answer {
    let mut answer = Answer::empty();
    let mut findings = Vec::new();
    for f in change.files.iter().filter(|f| !f.binary) {
        check_secrets(f, &mut findings);
        check_conflict_markers(f, &mut findings);
        check_debug_leftovers(f, &mut findings);
        check_large_file(f, &mut findings);
    }
    let tests = check_tests(change, &mut findings);
    let docs = check_docs(change, &mut findings);
    let (commits_text, commit_concerns) = check_commits(&change.commits);
    for f in change
        .files
        .iter()
        .filter(|f| f.binary && f.status == FileStatus::Added)
    {
        answer.observations.push(Observation {
            kind: ObservationKind::Concern,
            title: format!("Binary file added: `{}`", f.path()),
            body: "Binary files cannot be reviewed from the diff and stay in the repository's history forever; consider Git LFS or a build step that produces it.".into(),
            scope: Some(Scope::InScope),
            locations: Vec::new(),
        });
    }
    answer.observations.extend(commit_concerns);
    answer.summary = format!(
        "Deterministic checks over {} file{} and {} commit{}: {} finding{}.",
        change.files.len(),
        plural(change.files.len()),
        change.commits.len(),
        plural(change.commits.len()),
        findings.len(),
        plural(findings.len())
    );
    answer.findings = findings;
    answer.assessments = Assessments {
        testing: Some(tests),
        documentation: Some(docs),
        commits: Some(commits_text),
    };
    answer
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn check_secrets(f: &FileDiff, out: &mut Vec<Finding>) {
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

fn check_conflict_markers(f: &FileDiff, out: &mut Vec<Finding>) {
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

fn check_debug_leftovers(f: &FileDiff, out: &mut Vec<Finding>) {
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

fn check_large_file(f: &FileDiff, out: &mut Vec<Finding>) {
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

/// Reports code changed without tests, and returns the testing assessment facts.
fn check_tests(change: &Change, out: &mut Vec<Finding>) -> String {
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
fn check_docs(change: &Change, out: &mut Vec<Finding>) -> String {
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

/// Returns the commit-structure assessment and its concerns.
fn check_commits(commits: &[Commit]) -> (String, Vec<Observation>) {
    let mut concerns = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let concern = |title: String, body: String| Observation {
        kind: ObservationKind::Concern,
        title,
        body,
        scope: Some(Scope::InScope),
        locations: Vec::new(),
    };
    for c in commits {
        let s = c.subject.trim();
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("fixup!")
            || lower.starts_with("squash!")
            || lower.starts_with("amend!")
        {
            notes.push(format!(
                "{} is a `{}` commit",
                c.short(),
                s.split_whitespace().next().unwrap_or("")
            ));
            concerns.push(concern(
                format!("Unsquashed fixup commit {}", c.short()),
                format!("`{s}` should be squashed into its target before merge (`git rebase -i --autosquash`)."),
            ));
        } else if lower.starts_with("wip")
            || lower.contains("[wip]")
            || lower == "tmp"
            || lower == "temp"
        {
            notes.push(format!("{} is a work-in-progress commit", c.short()));
            concerns.push(concern(
                format!("Work-in-progress commit {}", c.short()),
                format!("`{s}` reads as unfinished; squash or reword it so the history explains the change."),
            ));
        }
        if c.parents > 1 {
            notes.push(format!("{} is a merge commit", c.short()));
            concerns.push(concern(
                format!("Merge commit {} inside the change", c.short()),
                format!("`{s}` merges another branch into the change; rebase instead so each commit applies on its own."),
            ));
        }
        if s.chars().count() > SUBJECT_MAX {
            notes.push(format!(
                "{}'s subject is {} characters (more than {SUBJECT_MAX})",
                c.short(),
                s.chars().count()
            ));
            concerns.push(concern(
                format!("Long commit subject in {}", c.short()),
                format!("The subject has {} characters; keep it under {SUBJECT_MAX} so it reads in `git log --oneline` and in GitHub's lists.", s.chars().count()),
            ));
        }
        if s.ends_with('.') {
            notes.push(format!("{}'s subject ends with a period", c.short()));
        }
        if c.body.trim().is_empty() && c.lines_changed > NON_TRIVIAL_LINES && c.parents <= 1 {
            notes.push(format!(
                "{} changes {} lines with no message body",
                c.short(),
                c.lines_changed
            ));
            concerns.push(concern(
                format!("Commit {} has no body", c.short()),
                format!("`{s}` changes {} lines but its message has no body: say why the change is needed and how it works, for the next person who runs `git blame`.", c.lines_changed),
            ));
        }
    }
    let mut text = format!(
        "{} commit{}{}",
        commits.len(),
        plural(commits.len()),
        if commits.is_empty() {
            " (uncommitted changes only).".to_string()
        } else {
            let subjects: Vec<String> = commits
                .iter()
                .map(|c| format!("{} {}", c.short(), c.subject))
                .collect();
            format!(": {}.", subjects.join("; "))
        }
    );
    if notes.is_empty() {
        if !commits.is_empty() {
            text.push_str(" Subjects are concise, non-trivial commits have bodies, and there are no fixup, WIP or merge commits.");
        }
    } else {
        text.push_str(&format!(" Structure: {}.", notes.join("; ")));
    }
    (text, concerns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        assert_eq!(classify("src/lib.rs"), FileClass::Code);
        assert_eq!(classify("tests/cli.rs"), FileClass::Test);
        assert_eq!(classify("pkg/a/a_test.go"), FileClass::Test);
        assert_eq!(classify("web/app.spec.ts"), FileClass::Test);
        assert_eq!(classify("README.md"), FileClass::Docs);
        assert_eq!(classify("docs/guide.html"), FileClass::Docs);
        assert_eq!(classify("Cargo.toml"), FileClass::Other);
    }

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
