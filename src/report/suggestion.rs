//! A finding's committable fix ([`Replacement`]) as the reports show it: a diff of the cited
//! head lines (read from the excerpt of a location that shows them all) against the
//! replacement's lines. [`diff`] works the lines out once; Markdown shows them in a diff
//! block, HTML as a table with both line numbers.

use super::common::place;
use crate::review::ConsolidatedFinding;
use crate::review::Excerpt;
use crate::review::Replacement;
use serde::Serialize;
use std::fmt::Write as _;

/// The excerpt of one of `f`'s locations that shows every head line `r` replaces; None when
/// none does (a review.json written by hand or by an older version).
fn showing<'a>(f: &'a ConsolidatedFinding, r: &Replacement) -> Option<&'a Excerpt> {
    f.locations
        .iter()
        .filter(|l| l.path == r.path)
        .filter_map(|l| l.excerpt.as_ref())
        .find(|e| replaced(e, r).is_some())
}

/// The lines of `e` that `r` replaces, when `e` shows them all.
fn replaced<'a>(e: &'a Excerpt, r: &Replacement) -> Option<&'a [String]> {
    let from = r.start_line.checked_sub(e.start_line)? as usize;
    let to = (r.end_line + 1).checked_sub(e.start_line)? as usize;
    e.lines.get(from..to)
}

/// The replacement's lines: none for an empty text (the lines are deleted).
fn new_lines(r: &Replacement) -> Vec<&str> {
    if r.text.is_empty() {
        Vec::new()
    } else {
        r.text.split('\n').collect()
    }
}

/// What a line of the diff is; serialised as the HTML report's class for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DiffKind {
    /// A head line around the replaced ones, kept.
    #[serde(rename = "ctx")]
    Context,
    /// A head line the replacement replaces.
    #[serde(rename = "del")]
    Removed,
    /// A line of the replacement.
    #[serde(rename = "add")]
    Added,
}

impl DiffKind {
    /// The line's sign in a unified diff.
    pub fn sign(self) -> char {
        match self {
            DiffKind::Context => ' ',
            DiffKind::Removed => '-',
            DiffKind::Added => '+',
        }
    }
}

/// A line of the diff: its number in the head (`old`) and after the change (`new`), where it
/// has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub kind: DiffKind,
    pub old: Option<u32>,
    pub new: Option<u32>,
    pub text: String,
}

/// A suggested change as a diff.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// `path:start` or `path:start-end`: the head lines replaced.
    pub place: String,
    /// Whether the replaced head lines are in the review (in a location's excerpt); when not,
    /// the diff has only the replacement's lines.
    pub shows_current: bool,
    pub lines: Vec<DiffLine>,
}

/// The diff of `r`: up to `context` lines of the excerpt before and after the replaced head
/// lines (as far as the excerpt goes; later ones renumbered by the change in length), the
/// replaced lines, and the replacement's lines.
pub fn diff(f: &ConsolidatedFinding, r: &Replacement, context: u32) -> Diff {
    let new = new_lines(r);
    let excerpt = showing(f, r);
    let at = |e: &Excerpt, n: u32| e.lines[(n - e.start_line) as usize].clone();
    let ctx = |e: &Excerpt, n: u32, new: u32| DiffLine {
        kind: DiffKind::Context,
        old: Some(n),
        new: Some(new),
        text: at(e, n),
    };
    let mut lines = Vec::new();
    if let Some(e) = excerpt {
        let before = r.start_line.saturating_sub(context).max(e.start_line);
        lines.extend((before..r.start_line).map(|n| ctx(e, n, n)));
        lines.extend((r.start_line..=r.end_line).map(|n| DiffLine {
            kind: DiffKind::Removed,
            old: Some(n),
            new: None,
            text: at(e, n),
        }));
    }
    lines.extend(new.iter().zip(r.start_line..).map(|(text, n)| DiffLine {
        kind: DiffKind::Added,
        old: None,
        new: Some(n),
        text: text.to_string(),
    }));
    if let Some(e) = excerpt {
        let last = e.start_line + e.lines.len() as u32 - 1;
        let removed = (r.end_line + 1).saturating_sub(r.start_line);
        let after = (r.end_line + context).min(last);
        lines.extend((r.end_line + 1..=after).map(|n| ctx(e, n, n + new.len() as u32 - removed)));
    }
    Diff {
        place: place(&r.path, r.start_line, r.end_line),
        shows_current: excerpt.is_some(),
        lines,
    }
}

/// The Markdown section: a heading line and a ```` ```diff ```` block, the cited head lines as
/// `-`, the replacement as `+`.
pub fn markdown(f: &ConsolidatedFinding, r: &Replacement) -> String {
    let mut out = String::new();
    let d = diff(f, r, 0);
    let _ = writeln!(out, "**Suggested change** (`{}`, committable):\n", d.place);
    if !d.shows_current {
        out.push_str("(The current lines are not in this review.)\n\n");
    }
    let fence = super::fence_for(d.lines.iter().map(|l| l.text.as_str()));
    let _ = writeln!(out, "{fence}diff");
    for l in &d.lines {
        let _ = writeln!(out, "{}{}", l.kind.sign(), l.text);
    }
    let _ = writeln!(out, "{fence}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::review::Excerpt;
    use crate::review::Status;
    use crate::review::VerifiedLocation;

    fn finding(excerpt_from: u32, lines: &[&str]) -> ConsolidatedFinding {
        ConsolidatedFinding {
            id: "S1".into(),
            severity: Severity::Suggestion,
            title: "t".into(),
            body: String::new(),
            fix: None,
            category: None,
            scope: None,
            confidence: None,
            locations: vec![VerifiedLocation {
                path: "a.md".into(),
                start_line: excerpt_from + 2,
                end_line: excerpt_from + 2,
                verified: true,
                relocated_from: None,
                note: None,
                excerpt: Some(Excerpt {
                    start_line: excerpt_from,
                    lines: lines.iter().map(|l| l.to_string()).collect(),
                }),
            }],
            members: Vec::new(),
            agreement: 1,
            status: Status::Reported,
            drop_reason: None,
            calibration: String::new(),
            replacement: None,
        }
    }

    fn replacement(start: u32, end: u32, text: &str) -> Replacement {
        Replacement {
            path: "a.md".into(),
            start_line: start,
            end_line: end,
            text: text.into(),
        }
    }

    #[test]
    fn the_diff_shows_the_cited_lines_then_the_replacement_in_a_fence_they_cannot_close() {
        let f = finding(3, &["one", "two", "Run ```make``` first", "four"]);
        let r = replacement(5, 5, "Run `make` first.\nThen test.");
        assert_eq!(
            markdown(&f, &r),
            "**Suggested change** (`a.md:5`, committable):\n\n````diff\n-Run ```make``` first\n+Run `make` first.\n+Then test.\n````\n\n"
        );
    }

    /// The diff's lines as `kind old new text`.
    fn shape(d: &Diff) -> Vec<String> {
        d.lines
            .iter()
            .map(|l| format!("{:?} {:?} {:?} {}", l.kind, l.old, l.new, l.text))
            .collect()
    }

    #[test]
    fn lines_outside_every_excerpt_are_said_to_be_missing_and_an_empty_text_deletes() {
        let f = finding(3, &["one", "two", "three"]);
        let d = diff(&f, &replacement(4, 5, "x"), 0);
        assert!(d.shows_current);
        assert_eq!(
            shape(&d),
            [
                "Removed Some(4) None two",
                "Removed Some(5) None three",
                "Added None Some(4) x"
            ]
        );
        assert!(!diff(&f, &replacement(5, 6, "x"), 0).shows_current);
        assert!(!diff(&f, &replacement(2, 3, "x"), 0).shows_current);
        let mut other = replacement(4, 4, "x");
        other.path = "b.md".into();
        assert!(!diff(&f, &other, 0).shows_current);
        let text = markdown(&f, &replacement(6, 7, "x"));
        assert!(
            text.contains("(The current lines are not in this review.)\n\n```diff\n+x\n```\n"),
            "{text}"
        );
        let deleted = markdown(&f, &replacement(4, 4, ""));
        assert!(deleted.ends_with("```diff\n-two\n```\n\n"), "{deleted}");
        assert_eq!(diff(&f, &replacement(4, 6, ""), 0).place, "a.md:4-6");
    }

    #[test]
    fn with_context_the_diff_shows_neighbouring_lines_renumbered_after_the_change() {
        let f = finding(10, &["a", "b", "c", "d", "e", "f"]);
        let d = diff(&f, &replacement(12, 13, "X\nY\nZ"), 2);
        assert_eq!(d.place, "a.md:12-13");
        assert_eq!(
            shape(&d),
            [
                "Context Some(10) Some(10) a",
                "Context Some(11) Some(11) b",
                "Removed Some(12) None c",
                "Removed Some(13) None d",
                "Added None Some(12) X",
                "Added None Some(13) Y",
                "Added None Some(14) Z",
                "Context Some(14) Some(15) e",
                "Context Some(15) Some(16) f",
            ]
        );
        // A deletion at the excerpt's end: context before only.
        assert_eq!(
            shape(&diff(&f, &replacement(15, 15, ""), 2)),
            [
                "Context Some(13) Some(13) d",
                "Context Some(14) Some(14) e",
                "Removed Some(15) None f"
            ]
        );
        // Lines no excerpt shows: the replacement alone.
        let mut elsewhere = replacement(3, 3, "new");
        elsewhere.path = "b.md".into();
        let d = diff(&f, &elsewhere, 2);
        assert!(!d.shows_current);
        assert_eq!(shape(&d), ["Added None Some(3) new"]);
    }
}
