//! A finding's committable fix ([`Replacement`]) as the reports show it: a diff of the cited
//! head lines (read from the excerpt of a location that shows them all) against the
//! replacement's lines.

use crate::review::ConsolidatedFinding;
use crate::review::Replacement;
use std::fmt::Write as _;

/// The head's lines `r` replaces, from the excerpt of one of `f`'s locations that shows them
/// all; None when none does (a review.json written by hand or by an older version).
pub fn replaced_lines<'a>(f: &'a ConsolidatedFinding, r: &Replacement) -> Option<&'a [String]> {
    f.locations.iter().find_map(|l| {
        let e = l.excerpt.as_ref().filter(|_| l.path == r.path)?;
        let from = r.start_line.checked_sub(e.start_line)? as usize;
        let to = (r.end_line + 1).checked_sub(e.start_line)? as usize;
        e.lines.get(from..to)
    })
}

/// The replacement's lines: none for an empty text (the lines are deleted).
pub fn new_lines(r: &Replacement) -> Vec<&str> {
    if r.text.is_empty() {
        Vec::new()
    } else {
        r.text.split('\n').collect()
    }
}

/// `path:start` or `path:start-end`.
pub fn place(r: &Replacement) -> String {
    if r.end_line > r.start_line {
        format!("{}:{}-{}", r.path, r.start_line, r.end_line)
    } else {
        format!("{}:{}", r.path, r.start_line)
    }
}

/// A fence of backticks longer than any run of backticks in `lines` (at least three).
fn fence_for<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    let longest = lines
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// The Markdown section: a heading line and a ```` ```diff ```` block, the cited head lines as
/// `-`, the replacement as `+`.
pub fn markdown(f: &ConsolidatedFinding, r: &Replacement) -> String {
    let mut out = String::new();
    let current = replaced_lines(f, r);
    let new = new_lines(r);
    let _ = writeln!(out, "**Suggested change** (`{}`, committable):\n", place(r));
    if current.is_none() {
        out.push_str("(The current lines are not in this review.)\n\n");
    }
    let old = current.unwrap_or_default();
    let fence = fence_for(old.iter().map(String::as_str).chain(new.iter().copied()));
    let _ = writeln!(out, "{fence}diff");
    for l in old {
        let _ = writeln!(out, "-{l}");
    }
    for l in &new {
        let _ = writeln!(out, "+{l}");
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

    #[test]
    fn lines_outside_every_excerpt_are_said_to_be_missing_and_an_empty_text_deletes() {
        let f = finding(3, &["one", "two", "three"]);
        assert_eq!(
            replaced_lines(&f, &replacement(4, 5, "x")).unwrap(),
            ["two", "three"]
        );
        assert!(replaced_lines(&f, &replacement(5, 6, "x")).is_none());
        assert!(replaced_lines(&f, &replacement(2, 3, "x")).is_none());
        let mut other = replacement(4, 4, "x");
        other.path = "b.md".into();
        assert!(replaced_lines(&f, &other).is_none());
        let text = markdown(&f, &replacement(6, 7, "x"));
        assert!(
            text.contains("(The current lines are not in this review.)\n\n```diff\n+x\n```\n"),
            "{text}"
        );
        let deleted = markdown(&f, &replacement(4, 4, ""));
        assert!(deleted.ends_with("```diff\n-two\n```\n\n"), "{deleted}");
        assert_eq!(place(&replacement(4, 6, "")), "a.md:4-6");
    }
}
