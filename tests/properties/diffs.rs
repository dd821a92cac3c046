//! The diff parser: no panic on any text, and exact line numbers on real git diffs.

use crate::config;
use deep_review::diff;
use deep_review::diff::FileStatus;
use deep_review::diff::LineKind;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

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

/// A path of one to three segments; `a` and `b` directories test prefix stripping, and the
/// other segments may hold what git quotes or pads (spaces, tabs, newlines, quotes,
/// backslashes, non-ASCII letters).
fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(r#"(a|b|src|[a-z0-9_ü][a-z0-9_. \t\n"\\ü-]{0,6})"#, 1..4)
        .prop_map(|segs| segs.join("/") + ".txt")
}

/// A head that is the base with a few lines replaced, inserted or deleted (so hunks carry
/// context), or unrelated contents, or no file.
fn file_case() -> impl Strategy<Value = FileCase> {
    let edits = prop::collection::vec((any::<usize>(), 0u8..3, content_line()), 1..4);
    (
        path(),
        prop::option::weighted(0.8, contents()),
        prop::option::weighted(0.8, contents()),
        edits,
        0u8..4,
        any::<bool>(),
    )
        .prop_map(|(path, base, other, edits, how, final_newline)| {
            let head = match (how, &base) {
                (0 | 1, Some(b)) => {
                    let mut h = b.clone();
                    for (at, op, line) in edits {
                        let i = at % (h.len() + 1);
                        match op {
                            0 if i < h.len() => h[i] = line,
                            2 if i < h.len() => {
                                h.remove(i);
                            }
                            _ => h.insert(i, line),
                        }
                    }
                    Some(h)
                }
                _ => other,
            };
            FileCase {
                path,
                base,
                head,
                final_newline,
            }
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

/// The old and new line counts a hunk header declares (`@@ -1,3 +1 @@`: 3 and 1).
fn declared(header: &str) -> (usize, usize) {
    let mut parts = header.split_whitespace().skip(1);
    let mut count = |sign: char| {
        let part = parts
            .next()
            .and_then(|p| p.strip_prefix(sign))
            .expect("header");
        part.split_once(',')
            .map_or(1, |(_, n)| n.parse().expect("count"))
    };
    (count('-'), count('+'))
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
        // As deep-review reads git: non-ASCII names raw, the rest C-quoted.
        let mut args = vec!["-c", "core.quotePath=false", "diff", "--cached", "--src-prefix=a/", "--dst-prefix=b/", &unified];
        args.push(if renames { "-M" } else { "--no-renames" });
        let text = git(dir, &args);
        let parsed = diff::parse(&text);
        check_numbering(&parsed)?;
        for d in &parsed {
            for h in &d.hunks {
                prop_assert_eq!(
                    declared(&h.header),
                    (
                        h.lines.iter().filter(|l| l.old_line.is_some()).count(),
                        h.lines.iter().filter(|l| l.new_line.is_some()).count()
                    ),
                    "every line of {} is kept\n{}", h.header, text
                );
            }
        }

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

/// An empty line of context at the end of a hunk is a line of the diff, not the text's
/// final newline.
#[test]
fn an_empty_last_context_line_is_kept() {
    let repo = tempfile::tempdir().expect("tempdir");
    let dir = repo.path();
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("f.txt"), "a\nb\n\nc\nd\ne\nf\n").expect("write");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    std::fs::write(dir.join("f.txt"), "a\nB\n\nc\nd\ne\nf\n").expect("write");
    let text = git(dir, &["diff", "-U1"]);
    let parsed = diff::parse(&text);
    assert!(parsed[0].shows_new_line(3), "{text}{parsed:#?}");
}
