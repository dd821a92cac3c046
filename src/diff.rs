//! Unified diffs: parsed into files, hunks and lines numbered in the new (head) file.
//!
//! Pure: text in, data out. The brief renders the diff from here with new-file line numbers,
//! the builtin reviewer walks added lines from here, and the GitHub renderer will map cited
//! lines to diff positions from here.

use serde::Serialize;

pub mod budget;
pub mod class;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Added,
    Deleted,
    Modified,
    Renamed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Context,
    Added,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: LineKind,
    /// Line number in the new file (context and added lines).
    pub new_line: Option<u32>,
    /// Line number in the old file (context and removed lines).
    pub old_line: Option<u32>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub header: String,
    pub lines: Vec<DiffLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    pub status: FileStatus,
    pub binary: bool,
    pub hunks: Vec<Hunk>,
}

impl FileDiff {
    /// The path to cite: the new path, or the old one for a deleted file.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("")
    }

    pub fn added_lines(&self) -> impl Iterator<Item = (u32, &str)> {
        self.hunks.iter().flat_map(|h| {
            h.lines.iter().filter_map(|l| match (l.kind, l.new_line) {
                (LineKind::Added, Some(n)) => Some((n, l.text.as_str())),
                _ => None,
            })
        })
    }

    pub fn count(&self, kind: LineKind) -> usize {
        self.hunks
            .iter()
            .map(|h| h.lines.iter().filter(|l| l.kind == kind).count())
            .sum()
    }

    /// The hunk that shows every new-file line from `start` to `end` (inclusive) on the right
    /// side, if one does. GitHub places a multi-line comment or suggestion only within one hunk.
    pub fn hunk_spanning(&self, start: u32, end: u32) -> Option<&Hunk> {
        let (start, end) = (start.min(end), start.max(end));
        self.hunks.iter().find(|h| {
            let mut lines = h.lines.iter().filter_map(|l| l.new_line);
            let first = lines.next();
            let last = h.lines.iter().rev().find_map(|l| l.new_line);
            matches!((first, last), (Some(a), Some(b)) if a <= start && end <= b)
        })
    }

    /// Whether `line` of the new file is shown in this diff (added or context).
    pub fn shows_new_line(&self, line: u32) -> bool {
        self.hunks
            .iter()
            .any(|h| h.lines.iter().any(|l| l.new_line == Some(line)))
    }
}

/// Parses `git diff` output (with or without `--no-prefix`; `a/` and `b/` are stripped).
pub fn parse(text: &str) -> Vec<FileDiff> {
    let mut files: Vec<FileDiff> = Vec::new();
    let mut old_no = 0u32;
    let mut new_no = 0u32;
    let mut in_hunk = false;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix("diff --git ") {
            let (a, b) = split_git_header(rest);
            files.push(FileDiff {
                old_path: a,
                new_path: b,
                status: FileStatus::Modified,
                binary: false,
                hunks: Vec::new(),
            });
            in_hunk = false;
            continue;
        }
        let Some(file) = files.last_mut() else {
            continue;
        };
        if line.starts_with("@@") {
            let (o, n) = parse_hunk_header(line);
            old_no = o;
            new_no = n;
            file.hunks.push(Hunk {
                header: line.to_string(),
                lines: Vec::new(),
            });
            in_hunk = true;
            continue;
        }
        if in_hunk {
            let Some(hunk) = file.hunks.last_mut() else {
                continue;
            };
            let (kind, body) = match line.as_bytes().first() {
                Some(b'+') => (LineKind::Added, &line[1..]),
                Some(b'-') => (LineKind::Removed, &line[1..]),
                Some(b' ') => (LineKind::Context, &line[1..]),
                Some(b'\\') => continue, // "\ No newline at end of file"
                None => (LineKind::Context, ""),
                _ => {
                    in_hunk = false;
                    continue;
                }
            };
            // A hunk header numbering past u32::MAX (only a crafted diff has one) ends the
            // hunk: the lines after it could not be cited anyway.
            let (Some(old_next), Some(new_next)) = (
                old_no.checked_add(u32::from(kind != LineKind::Added)),
                new_no.checked_add(u32::from(kind != LineKind::Removed)),
            ) else {
                in_hunk = false;
                continue;
            };
            let old_line = (kind != LineKind::Added).then_some(old_no);
            let new_line = (kind != LineKind::Removed).then_some(new_no);
            (old_no, new_no) = (old_next, new_next);
            hunk.lines.push(DiffLine {
                kind,
                new_line,
                old_line,
                text: body.to_string(),
            });
            continue;
        }
        if line.starts_with("new file mode") {
            file.status = FileStatus::Added;
            file.old_path = None;
        } else if line.starts_with("deleted file mode") {
            file.status = FileStatus::Deleted;
            file.new_path = None;
        } else if let Some(p) = line.strip_prefix("rename from ") {
            file.status = FileStatus::Renamed;
            file.old_path = Some(unquote(p).0);
        } else if let Some(p) = line.strip_prefix("rename to ") {
            file.status = FileStatus::Renamed;
            file.new_path = Some(unquote(p).0);
        } else if line.starts_with("Binary files ") || line == "GIT binary patch" {
            file.binary = true;
        } else if let Some(p) = line.strip_prefix("+++ ") {
            if let Some(p) = marker_path(p) {
                file.new_path = Some(p);
            }
        } else if let Some(p) = line.strip_prefix("--- ") {
            if let Some(p) = marker_path(p) {
                file.old_path = Some(p);
            }
        }
    }
    // Trailing empty context lines past the header's count come from the final newline of
    // the text (or blank lines between diffs); drop them. Those within it are the file's own
    // empty lines, shown as " ". A header without a readable count drops them all.
    for f in &mut files {
        for h in &mut f.hunks {
            let declared = h
                .header
                .split_whitespace()
                .nth(2)
                .and_then(|p| p.strip_prefix('+'))
                .and_then(|p| p.split_once(',').map_or(Some(1), |(_, n)| n.parse().ok()))
                .unwrap_or(0usize);
            let mut shown = h.lines.iter().filter(|l| l.new_line.is_some()).count();
            while shown > declared
                && matches!(h.lines.last(), Some(l) if l.kind == LineKind::Context && l.text.is_empty())
            {
                h.lines.pop();
                shown -= 1;
            }
        }
    }
    files
}

fn strip_ab(p: &str) -> &str {
    p.strip_prefix("a/")
        .or_else(|| p.strip_prefix("b/"))
        .unwrap_or(p)
}

/// The path of a `---`/`+++` line, or None for `/dev/null`. Git ends the line with a TAB
/// when the name holds a space; a name with a TAB itself is always quoted, so an unquoted
/// name ends at the first TAB.
fn marker_path(p: &str) -> Option<String> {
    let (path, _) = if p.starts_with('"') {
        unquote(p)
    } else {
        let name = p.split('\t').next().unwrap_or(p);
        (name.to_string(), "")
    };
    (path != "/dev/null").then(|| strip_ab(&path).to_string())
}

/// The two names of a `diff --git` header: `a/x b/x`, either side possibly C-quoted. A name
/// with spaces is ambiguous on its own; when both sides are the same path (every change but a
/// rename, and renames carry `rename from`/`to` lines) the header splits in the middle.
fn split_git_header(rest: &str) -> (Option<String>, Option<String>) {
    if rest.starts_with('"') {
        let (a, tail) = unquote(rest);
        let (b, _) = unquote(tail.trim_start_matches(' '));
        return (
            Some(strip_ab(&a).to_string()),
            Some(strip_ab(&b).to_string()),
        );
    }
    if rest.ends_with('"') {
        if let Some(idx) = rest.rfind(" \"") {
            let (b, _) = unquote(&rest[idx + 1..]);
            return (
                Some(strip_ab(&rest[..idx]).to_string()),
                Some(strip_ab(&b).to_string()),
            );
        }
    }
    if rest.len() % 2 == 1 {
        let mid = rest.len() / 2;
        if rest.is_char_boundary(mid) && rest.as_bytes()[mid] == b' ' {
            let (a, b) = (strip_ab(&rest[..mid]), strip_ab(&rest[mid + 1..]));
            if a == b {
                return (Some(a.to_string()), Some(b.to_string()));
            }
        }
    }
    if let Some(idx) = rest.find(" b/") {
        let a = strip_ab(&rest[..idx]).to_string();
        let b = rest[idx + 3..].to_string();
        return (Some(a), Some(b));
    }
    let mut parts = rest.splitn(2, ' ');
    let a = parts.next().map(|s| strip_ab(s).to_string());
    let b = parts.next().map(|s| strip_ab(s).to_string());
    (a, b)
}

/// Undoes git's C-quoting of a path (`"a/tab\there"`, octal `\303\274` for bytes): returns the
/// name and what follows the closing quote. An unquoted input is returned whole.
pub fn unquote(s: &str) -> (String, &str) {
    let Some(body) = s.strip_prefix('"') else {
        return (s.to_string(), "");
    };
    let bytes = body.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return (String::from_utf8_lossy(&out).into_owned(), &body[i + 1..]),
            b'\\' if i + 1 < bytes.len() => {
                let c = bytes[i + 1];
                i += 2;
                let plain = match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'v' => 0x0b,
                    b'0'..=b'7' => {
                        let mut v = u32::from(c - b'0');
                        let mut k = 0;
                        while k < 2 && i < bytes.len() && (b'0'..=b'7').contains(&bytes[i]) {
                            v = v * 8 + u32::from(bytes[i] - b'0');
                            i += 1;
                            k += 1;
                        }
                        (v & 0xff) as u8
                    }
                    other => other,
                };
                out.push(plain);
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    // No closing quote: take it as written.
    (s.to_string(), "")
}

fn parse_hunk_header(line: &str) -> (u32, u32) {
    // @@ -old[,n] +new[,n] @@ context
    let mut old = 1;
    let mut new = 1;
    for part in line.split_whitespace().skip(1).take(2) {
        let num = |s: &str| s.split(',').next().and_then(|n| n.parse::<u32>().ok());
        if let Some(o) = part.strip_prefix('-') {
            old = num(o).unwrap_or(1).max(1);
        } else if let Some(n) = part.strip_prefix('+') {
            new = num(n).unwrap_or(1).max(1);
        }
    }
    (old, new)
}

/// A path as one line of the brief: a name with a newline or another control character is
/// shown quoted and escaped, so it cannot start a line of its own.
fn shown_path(p: &str) -> std::borrow::Cow<'_, str> {
    if p.chars().any(char::is_control) {
        std::borrow::Cow::Owned(format!("{p:?}"))
    } else {
        std::borrow::Cow::Borrowed(p)
    }
}

/// Renders the diff for a brief: each line prefixed with its new-file number so agents can
/// cite lines that exist.
pub fn render_numbered(files: &[FileDiff]) -> String {
    let mut out = String::new();
    for f in files {
        render_header(f, &mut out);
        if f.binary {
            out.push_str("    (binary file)\n");
            continue;
        }
        for h in &f.hunks {
            out.push_str(&h.header);
            out.push('\n');
            for l in &h.lines {
                render_line(l, &mut out);
            }
        }
    }
    out
}

/// A file's `=== path (status)` line, as the brief shows it.
pub fn render_header(f: &FileDiff, out: &mut String) {
    use std::fmt::Write as _;
    let label = match f.status {
        FileStatus::Added => "added",
        FileStatus::Deleted => "deleted",
        FileStatus::Modified => "modified",
        FileStatus::Renamed => "renamed",
    };
    let _ = match (&f.old_path, &f.new_path, f.status) {
        (Some(o), Some(n), FileStatus::Renamed) => writeln!(
            out,
            "=== {} ({label} from {})",
            shown_path(n),
            shown_path(o)
        ),
        _ => writeln!(out, "=== {} ({label})", shown_path(f.path())),
    };
}

/// One diff line as the brief shows it: its new-file number (none for a removed line), the
/// `+`, `-` or ` ` mark, and the text.
pub fn render_line(l: &DiffLine, out: &mut String) {
    use std::fmt::Write as _;
    let (mark, num) = match l.kind {
        LineKind::Added => ('+', l.new_line),
        LineKind::Removed => ('-', None),
        LineKind::Context => (' ', l.new_line),
    };
    let _ = match num {
        Some(n) => writeln!(out, "{n:>6} {mark}{}", l.text),
        None => writeln!(out, "       {mark}{}", l.text),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "diff --git a/src/a.rs b/src/a.rs\nindex 1..2 100644\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,3 +1,4 @@\n fn a() {}\n-fn b() {}\n+fn b() { 1 }\n+fn c() {}\n fn d() {}\ndiff --git a/new.txt b/new.txt\nnew file mode 100644\nindex 0..1\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\ndiff --git a/logo.png b/logo.png\nnew file mode 100644\nBinary files /dev/null and b/logo.png differ\n";

    #[test]
    fn numbers_new_lines() {
        let files = parse(SAMPLE);
        assert_eq!(files.len(), 3);
        let a = &files[0];
        assert_eq!(a.path(), "src/a.rs");
        assert_eq!(a.status, FileStatus::Modified);
        let added: Vec<_> = a.added_lines().collect();
        assert_eq!(added, vec![(2, "fn b() { 1 }"), (3, "fn c() {}")]);
        assert_eq!(a.count(LineKind::Removed), 1);
        assert!(a.shows_new_line(4));
        assert!(!a.shows_new_line(5));
        assert_eq!(files[1].status, FileStatus::Added);
        assert_eq!(files[1].added_lines().count(), 2);
        assert!(files[2].binary);
        assert_eq!(files[2].path(), "logo.png");
    }

    #[test]
    fn a_range_spans_one_hunk_or_none() {
        let two = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,3 @@\n a\n+b\n c\n@@ -20,2 +21,3 @@\n t\n+u\n v\n";
        let f = &parse(two)[0];
        assert!(f.hunk_spanning(1, 3).is_some());
        assert!(
            f.hunk_spanning(3, 1).is_some(),
            "the ends may come in either order"
        );
        assert!(f.hunk_spanning(22, 23).is_some());
        assert!(f.hunk_spanning(3, 21).is_none(), "two hunks are two ranges");
        assert!(f.hunk_spanning(4, 4).is_none(), "between hunks");
    }

    #[test]
    fn names_with_spaces_quotes_and_non_ascii_survive() {
        let text = concat!(
            "diff --git a/src/with space/config.js b/src/with space/config.js\n",
            "new file mode 100644\n--- /dev/null\n+++ b/src/with space/config.js\t\n",
            "@@ -0,0 +1 @@\n+k\n",
            "diff --git a/src/f\u{fc}nf/config.js b/src/f\u{fc}nf/config.js\n",
            "index 1..2 100644\n--- a/src/f\u{fc}nf/config.js\n+++ b/src/f\u{fc}nf/config.js\n",
            "@@ -1 +1 @@\n-a\n+b\n",
            "diff --git \"a/tab\\there.txt\" \"b/tab\\there.txt\"\n",
            "new file mode 100644\n--- /dev/null\n+++ \"b/tab\\there.txt\"\n@@ -0,0 +1 @@\n+x\n",
            "diff --git \"a/new\\nline \\\"q\\\" \\303\\274.txt\" \"b/new\\nline \\\"q\\\" \\303\\274.txt\"\n",
            "deleted file mode 100644\n--- \"a/new\\nline \\\"q\\\" \\303\\274.txt\"\n+++ /dev/null\n@@ -1 +0,0 @@\n-y\n",
            "diff --git a/a b/c d b/a b/c d\nold mode 100644\nnew mode 100755\n",
            "diff --git a/old name b/new name\nsimilarity index 100%\n",
            "rename from old name\nrename to new name\n",
        );
        let paths: Vec<String> = parse(text).iter().map(|f| f.path().to_string()).collect();
        assert_eq!(
            paths,
            vec![
                "src/with space/config.js",
                "src/f\u{fc}nf/config.js",
                "tab\there.txt",
                "new\nline \"q\" \u{fc}.txt",
                "a b/c d",
                "new name",
            ]
        );
        let files = parse(text);
        let brief = render_numbered(&files);
        assert!(
            brief.contains("=== \"tab\\there.txt\" (added)\n"),
            "{brief}"
        );
        assert!(
            brief.contains("=== src/f\u{fc}nf/config.js (modified)\n"),
            "{brief}"
        );
        assert_eq!(files[3].status, FileStatus::Deleted);
        assert_eq!(files[5].old_path.as_deref(), Some("old name"));
    }

    #[test]
    fn renders_with_numbers() {
        let text = render_numbered(&parse(SAMPLE));
        assert!(text.contains("     3 +fn c() {}"), "{text}");
        assert!(text.contains("       -fn b() {}"), "{text}");
        assert!(
            text.contains("=== logo.png (added)\n    (binary file)"),
            "{text}"
        );
    }
}
