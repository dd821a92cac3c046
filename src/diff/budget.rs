//! The diff a brief can carry: chosen by value when the whole diff is over the budget.
//!
//! Pure: parsed files in, text out. A diff within the budget is shown whole. Past it, files
//! are ranked (source in the repository's main languages, other source, other files, tests,
//! docs; lockfiles and generated files are only listed) and the budget is filled in passes:
//! first the first hunk of every ranked file with its context trimmed to one line and cut to
//! a share of the budget, then each file's hunks in full, then git's full context.
//! Deleted files, pure renames and hunks that only delete are summarised in a line. Every
//! shown line keeps its exact number in the head file (agents cite them); a trimmed run of
//! context is marked `⋮`. Every file not shown whole is listed with its size, for agents to
//! read in the working tree.

use super::class;
use super::class::FileClass;
use super::render_header;
use super::render_line;
use super::FileDiff;
use super::FileStatus;
use super::Hunk;
use super::LineKind;
use std::fmt::Write as _;

/// Context kept around changed lines when the diff is over the budget.
const TRIMMED_CONTEXT: usize = 1;
/// The share of the budget (in tenths) that the first pass, one hunk per file, may take.
const FIRST_PASS_TENTHS: usize = 6;
/// Bounds on the lines of a file's first hunk in the first pass.
const FIRST_PASS_LINES: (usize, usize) = (8, 80);

/// What the brief carries of a diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Budgeted {
    /// The numbered diff text.
    pub text: String,
    /// One line per file not shown whole: `` `path` (+a −r): why``.
    pub omitted: Vec<String>,
    /// Changed source files (not tests, docs or generated files; not deleted).
    pub source_files: usize,
    /// Of those, how many have at least the start of their first hunk shown.
    pub source_shown: usize,
}

/// How much of one hunk is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Show {
    Hidden,
    /// Only deletes: one line saying how many lines went where.
    Summary,
    /// Context trimmed, and cut after this many lines.
    Cut(usize),
    /// Context trimmed.
    Trimmed,
    /// As git gave it.
    Full,
}

/// The rank of a file: lower is shown first.
fn rank(path: &str, languages: &[String]) -> u8 {
    match class::classify(path) {
        FileClass::Code if languages.contains(&class::extension(path)) => 0,
        FileClass::Code => 1,
        FileClass::Other => 2,
        FileClass::Test => 3,
        FileClass::Docs => 4,
    }
}

/// The repository's main languages, by extension, from its file list: the most common code
/// extension and any other with at least half as many files.
pub fn main_languages<'a>(paths: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for p in paths {
        let ext = class::extension(p);
        if !class::is_code_extension(&ext) || class::classify(p) != FileClass::Code {
            continue;
        }
        match counts.iter_mut().find(|(e, _)| *e == ext) {
            Some((_, n)) => *n += 1,
            None => counts.push((ext, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = counts.first().map_or(0, |c| c.1);
    counts
        .into_iter()
        .filter(|(_, n)| *n * 2 >= top)
        .map(|(e, _)| e)
        .collect()
}

fn only_deletes(h: &Hunk) -> bool {
    h.lines.iter().all(|l| l.kind != LineKind::Added)
}

/// Renders one hunk as `show` says.
fn render_hunk(h: &Hunk, show: Show, out: &mut String) {
    match show {
        Show::Hidden => {}
        Show::Summary => {
            let removed = h
                .lines
                .iter()
                .filter(|l| l.kind == LineKind::Removed)
                .count();
            let after = h
                .lines
                .iter()
                .take_while(|l| l.kind != LineKind::Removed)
                .filter_map(|l| l.new_line)
                .last();
            let _ = writeln!(out, "{}", h.header);
            let _ = match after {
                Some(n) => writeln!(
                    out,
                    "       ({removed} line{} removed after line {n}; not shown)",
                    plural(removed)
                ),
                None => writeln!(
                    out,
                    "       ({removed} line{} removed; not shown)",
                    plural(removed)
                ),
            };
        }
        Show::Full => {
            out.push_str(&h.header);
            out.push('\n');
            for l in &h.lines {
                render_line(l, out);
            }
        }
        Show::Cut(_) | Show::Trimmed => {
            out.push_str(&h.header);
            out.push('\n');
            let cap = match show {
                Show::Cut(n) => n,
                _ => usize::MAX,
            };
            let changed: Vec<usize> = (0..h.lines.len())
                .filter(|&i| h.lines[i].kind != LineKind::Context)
                .collect();
            let near = |i: usize| {
                let k = changed.partition_point(|&c| c < i);
                let after = changed.get(k).is_some_and(|&c| c - i <= TRIMMED_CONTEXT);
                let before = k > 0 && i - changed[k - 1] <= TRIMMED_CONTEXT;
                after || before
            };
            let mut shown = 0;
            let mut gap = false;
            for (i, l) in h.lines.iter().enumerate() {
                if !near(i) {
                    gap = true;
                    continue;
                }
                if shown == cap {
                    let left = h.lines.len() - i;
                    let _ = writeln!(
                        out,
                        "       ⋮ ({left} more line{} of this hunk not shown; read the file)",
                        plural(left)
                    );
                    return;
                }
                if gap && shown > 0 {
                    out.push_str("       ⋮\n");
                }
                gap = false;
                render_line(l, out);
                shown += 1;
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn hunk_size(h: &Hunk, show: Show) -> usize {
    let mut s = String::new();
    render_hunk(h, show, &mut s);
    s.len()
}

fn header_size(f: &FileDiff) -> usize {
    let mut s = String::new();
    render_header(f, &mut s);
    s.len()
}

/// A file's size as the omitted list gives it.
fn size(f: &FileDiff) -> String {
    format!(
        "`{}` (+{} −{})",
        f.path(),
        f.count(LineKind::Added),
        f.count(LineKind::Removed)
    )
}

/// The diff within `budget` characters. `languages` (extensions, see [`main_languages`]) is
/// asked for only when the diff is over the budget.
pub fn fit(files: &[FileDiff], budget: usize, languages: impl FnOnce() -> Vec<String>) -> Budgeted {
    let mut out = Budgeted::default();
    let kept: Vec<&FileDiff> = files
        .iter()
        .filter(|f| {
            let generated = class::is_generated(f.path());
            if generated {
                out.omitted
                    .push(format!("{}: a lockfile or generated file", size(f)));
            }
            !generated
        })
        .collect();
    for f in &kept {
        if is_source(f) {
            out.source_files += 1;
        }
    }
    let mut whole = String::new();
    for f in &kept {
        whole.push_str(&super::render_numbered(std::slice::from_ref(*f)));
    }
    if whole.len() <= budget {
        out.text = whole;
        out.source_shown = out.source_files;
        return out;
    }
    let languages = languages();
    let plan = plan(&kept, budget, &languages);
    for (f, shows) in kept.iter().zip(&plan) {
        render_file(f, shows, &mut out.text);
        if let Some(why) = left_out(f, shows) {
            out.omitted.push(format!("{}: {why}", size(f)));
        }
        let first = f.hunks.iter().position(|h| !only_deletes(h));
        if is_source(f) && first.is_some_and(|i| shows[i] >= Show::Cut(0)) {
            out.source_shown += 1;
        }
    }
    out
}

/// A changed source file, for the coverage share: code, not a test, still in the tree, with
/// lines added (a pure rename has nothing more to show than its name).
fn is_source(f: &FileDiff) -> bool {
    !f.binary
        && f.status != FileStatus::Deleted
        && class::classify(f.path()) == FileClass::Code
        && f.hunks.iter().any(|h| !only_deletes(h))
}

/// What is said in the text for a file that is only summarised: deleted, binary, or a pure
/// rename.
fn summarised(f: &FileDiff) -> bool {
    f.binary || f.status == FileStatus::Deleted || f.hunks.is_empty()
}

/// How much of each hunk of each file to show, filled in passes in rank order.
fn plan(files: &[&FileDiff], budget: usize, languages: &[String]) -> Vec<Vec<Show>> {
    let mut shows: Vec<Vec<Show>> = files
        .iter()
        .map(|f| vec![Show::Hidden; f.hunks.len()])
        .collect();
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| (rank(files[i].path(), languages), i));
    // Every file's header and summary line is always shown: the listing of what changed.
    let mut used: usize = files.iter().map(|f| header_size(f) + 40).sum();
    let fits = |used: &mut usize, cost: usize| {
        let ok = *used + cost <= budget;
        if ok {
            *used += cost;
        }
        ok
    };
    let ranked: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| !summarised(files[i]))
        .collect();
    // Pass 1: the first hunk that adds something, of every ranked file, trimmed and cut.
    let lines_left = (budget.saturating_sub(used) * FIRST_PASS_TENTHS / 10) / average_line(files);
    let cut = (lines_left / ranked.len().max(1)).clamp(FIRST_PASS_LINES.0, FIRST_PASS_LINES.1);
    for &i in &ranked {
        let f = files[i];
        for (k, h) in f.hunks.iter().enumerate() {
            if only_deletes(h) {
                if fits(&mut used, hunk_size(h, Show::Summary)) {
                    shows[i][k] = Show::Summary;
                }
                continue;
            }
            if fits(&mut used, hunk_size(h, Show::Cut(cut))) {
                shows[i][k] = Show::Cut(cut);
            }
            break;
        }
    }
    // Pass 2: each file's hunks whole, trimmed; pass 3: as git gave them.
    for target in [Show::Trimmed, Show::Full] {
        for &i in &ranked {
            for (k, h) in files[i].hunks.iter().enumerate() {
                let now = shows[i][k];
                if only_deletes(h) {
                    if now == Show::Hidden && fits(&mut used, hunk_size(h, Show::Summary)) {
                        shows[i][k] = Show::Summary;
                    }
                    continue;
                }
                if now >= target {
                    continue;
                }
                let was = hunk_size(h, now);
                let cost = hunk_size(h, target).saturating_sub(was);
                if fits(&mut used, cost) {
                    shows[i][k] = target;
                }
            }
        }
    }
    shows
}

/// Characters per rendered line, over the whole diff.
fn average_line(files: &[&FileDiff]) -> usize {
    let (mut chars, mut lines) = (0usize, 0usize);
    for h in files.iter().flat_map(|f| &f.hunks) {
        for l in &h.lines {
            chars += l.text.len() + 9;
            lines += 1;
        }
    }
    (chars / lines.max(1)).max(1)
}

/// One file as the plan shows it.
fn render_file(f: &FileDiff, shows: &[Show], out: &mut String) {
    render_header(f, out);
    if f.binary {
        out.push_str("    (binary file)\n");
        return;
    }
    if f.status == FileStatus::Deleted {
        let removed = f.count(LineKind::Removed);
        let _ = writeln!(
            out,
            "    (deleted: its {removed} line{} are not shown)",
            plural(removed)
        );
        return;
    }
    for (h, show) in f.hunks.iter().zip(shows) {
        render_hunk(h, *show, out);
    }
}

/// Why a file is listed as not shown whole, or None when it is.
fn left_out(f: &FileDiff, shows: &[Show]) -> Option<String> {
    if summarised(f) {
        return None;
    }
    let total = shows.len();
    let shown = shows.iter().filter(|s| **s != Show::Hidden).count();
    let whole = shows
        .iter()
        .all(|s| matches!(s, Show::Full | Show::Trimmed | Show::Summary));
    if shown == 0 {
        Some("over the brief's size budget".into())
    } else if whole {
        None
    } else if shown == total {
        Some("shown in part (cut to fit the brief's size budget)".into())
    } else {
        Some(format!(
            "{shown} of its {total} hunks shown, in part; read the rest in the working tree"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::parse;

    /// A modified file with `hunks` hunks of `size` added lines each, 3 lines of context.
    fn file(path: &str, hunks: usize, size: usize) -> String {
        let mut t = format!("diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n");
        for k in 0..hunks {
            let start = 1 + k as u32 * 1000;
            let _ = writeln!(t, "@@ -{start},6 +{start},{} @@", 6 + size);
            for c in 0..3 {
                let _ = writeln!(t, " ctx {path} {k} {c}");
            }
            for a in 0..size {
                let _ = writeln!(t, "+added {path} {k} {a}");
            }
            for c in 3..6 {
                let _ = writeln!(t, " ctx {path} {k} {c}");
            }
        }
        t
    }

    #[test]
    fn within_the_budget_the_diff_is_whole() {
        let files = parse(&file("src/a.rs", 2, 5));
        let b = fit(&files, 100_000, || panic!("languages are not needed"));
        assert_eq!(b.text, crate::diff::render_numbered(&files));
        assert!(b.omitted.is_empty());
        assert_eq!((b.source_files, b.source_shown), (1, 1));
    }

    #[test]
    fn source_comes_before_tests_and_docs_and_every_file_gets_its_first_hunk() {
        let mut text = String::new();
        text.push_str(&file("docs/guide.md", 3, 200));
        text.push_str(&file("tests/a_test.rs", 3, 200));
        for n in 0..30 {
            text.push_str(&file(&format!("src/m{n}.rs"), 4, 120));
        }
        text.push_str(&file("scripts/tool.py", 2, 100));
        let files = parse(&text);
        let b = fit(&files, 40_000, || vec!["rs".into()]);
        assert!(b.text.len() <= 40_000, "{}", b.text.len());
        assert_eq!(b.source_files, 31);
        assert_eq!(b.source_shown, 31, "{}", b.text);
        // Every shown line keeps its exact number: line 4 of the first hunk is the first
        // added line, and the second hunk starts at 1001.
        assert!(
            b.text.contains("     4 +added src/m0.rs 0 0\n"),
            "{}",
            b.text
        );
        assert!(b.text.contains("     3  ctx src/m0.rs 0 2\n"));
        assert!(
            !b.text.contains("     2  ctx src/m0.rs 0 1\n"),
            "context is trimmed"
        );
        // The docs and tests come last: their hunks are the ones cut or left out.
        assert!(!b.text.contains("+added docs/guide.md 2 "), "{}", b.text);
        assert!(b
            .omitted
            .iter()
            .any(|o| o.starts_with("`docs/guide.md` (+600 −0): ")));
        assert!(b
            .omitted
            .iter()
            .any(|o| o.starts_with("`src/m29.rs` (+480 −0): ")));
    }

    #[test]
    fn deletions_and_renames_are_summarised_and_generated_files_listed() {
        let text = concat!(
            "diff --git a/old.rs b/old.rs\ndeleted file mode 100644\n--- a/old.rs\n+++ /dev/null\n@@ -1,3 +0,0 @@\n-a\n-b\n-c\n",
            "diff --git a/x.rs b/y.rs\nsimilarity index 100%\nrename from x.rs\nrename to y.rs\n",
            "diff --git a/z.rs b/z.rs\n--- a/z.rs\n+++ b/z.rs\n@@ -1,5 +1,2 @@\n keep\n-gone1\n-gone2\n-gone3\n end\n",
            "diff --git a/Cargo.lock b/Cargo.lock\n--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -1 +1 @@\n-v1\n+v2\n",
        )
        .to_string()
            + &file("src/big.rs", 1, 3000);
        let files = parse(&text);
        let b = fit(&files, 5_000, Vec::new);
        assert!(
            b.text
                .contains("=== old.rs (deleted)\n    (deleted: its 3 lines are not shown)\n"),
            "{}",
            b.text
        );
        assert!(
            b.text.contains("=== y.rs (renamed from x.rs)\n"),
            "{}",
            b.text
        );
        assert!(
            b.text
                .contains("       (3 lines removed after line 1; not shown)\n"),
            "{}",
            b.text
        );
        assert!(
            !b.text.contains("gone1") && !b.text.contains("v2"),
            "{}",
            b.text
        );
        assert!(b.text.contains("⋮ (") && b.text.contains("more lines of this hunk not shown"));
        assert_eq!(
            b.omitted,
            vec![
                "`Cargo.lock` (+1 −1): a lockfile or generated file".to_string(),
                "`src/big.rs` (+3000 −0): shown in part (cut to fit the brief's size budget)"
                    .to_string(),
            ]
        );
    }

    #[test]
    fn main_languages_are_the_common_code_extensions() {
        let paths = [
            "a.go",
            "b.go",
            "c.go",
            "d.go",
            "e.py",
            "f.py",
            "g.rs",
            "README.md",
            "t/x_test.go",
        ];
        assert_eq!(main_languages(paths.into_iter()), vec!["go", "py"]);
    }
}
