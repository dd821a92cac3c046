//! Committable fixes. An agent may give, on one location of a finding, the exact new text of
//! the cited lines (`locations[].replacement`). A consolidated finding keeps one only when it
//! can be committed as it is: its location was verified against the head tree by its quote
//! (and kept the cited span), the lines lie inside one hunk of the change's diff on the right side (where
//! GitHub places a suggestion), the text differs from the head's lines, replacing them leaves
//! a text file (no code fence, no NUL or other control character, no bidirectional text
//! control, no credential, at most [`MAX_REPLACED_LINES`] lines replaced). Of the members' valid replacements the one of the
//! highest-severity member wins; two different ones at that severity mean none. Every
//! replacement left out says why in the review's notes.

use super::verify::Item;
use crate::diff::FileDiff;
use crate::finding::Location;
use crate::finding::Severity;
use crate::review::ConsolidatedFinding;
use crate::review::Replacement;
use crate::review::Status;
use crate::review::VerifiedLocation;
use crate::tree_guard::HeadTree;
use std::collections::HashMap;

/// Most head lines one replacement may replace: a small fix, whose lines all fit in the
/// report's excerpt of its location.
pub const MAX_REPLACED_LINES: u32 = 20;

/// What one member of a consolidated finding proposes.
#[derive(Debug, Clone)]
pub(super) struct Proposal {
    pub(super) agent: String,
    /// Position in the agent's `findings`.
    pub(super) index: usize,
    /// The severity the agent gave.
    pub(super) severity: Severity,
    /// Where it applies (the verified location), or why it cannot be kept.
    pub(super) checked: Result<(Replacement, VerifiedLocation), String>,
}

/// The invisible characters that reorder how text is shown ("Trojan Source",
/// CVE-2021-42574): embeddings, overrides, isolates and the directional marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `path:start-end`.
fn label(path: &str, start: u32, end: u32) -> String {
    if end > start {
        format!("{path}:{start}-{end}")
    } else {
        format!("{path}:{start}")
    }
}

/// Checks `text` against the lines it would replace: `cited` as the agent wrote it, `at` as
/// verification left it, `head` the file's lines at the head, `diff` the change's files.
pub(super) fn check(
    cited: &Location,
    at: &VerifiedLocation,
    text: &str,
    head: Option<&[String]>,
    diff: Option<&[FileDiff]>,
) -> Result<Replacement, String> {
    let place = label(&at.path, at.start_line, at.end_line);
    if !at.verified {
        let why = at.note.as_deref().unwrap_or("not verified");
        return Err(format!("its location `{place}` is not verified ({why})"));
    }
    if cited.quote.as_deref().is_none_or(|q| q.trim().is_empty()) {
        return Err(format!(
            "its location `{place}` has no `quote`, so nothing confirms which lines it replaces"
        ));
    }
    if at.end_line - at.start_line != cited.end() - cited.start_line {
        return Err(format!(
            "the cited lines were cut to `{place}` to fit the file, so it would not replace what it was written for"
        ));
    }
    let count = at.end_line - at.start_line + 1;
    if count > MAX_REPLACED_LINES {
        return Err(format!(
            "it replaces {count} lines; a committable fix replaces at most {MAX_REPLACED_LINES}"
        ));
    }
    if text.contains("```") || text.contains("~~~") {
        return Err("it contains a code fence".into());
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("it contains a NUL or another control character".into());
    }
    if text.chars().any(is_bidi_control) {
        return Err(
            "it contains a bidirectional text control, which makes code read differently from what it does".into(),
        );
    }
    if crate::secrets::mask(text) != text {
        return Err("it holds what looks like a credential".into());
    }
    let Some(diff) = diff else {
        return Err(
            "there is no diff to place it in (the answers were consolidated without the change)"
                .into(),
        );
    };
    let Some(file) = diff.iter().find(|f| f.path() == at.path) else {
        return Err(format!("`{}` is not changed by this change", at.path));
    };
    if file.hunk_spanning(at.start_line, at.end_line).is_none() {
        return Err(format!(
            "`{place}` is not inside one hunk of the diff, where a suggestion can be placed"
        ));
    }
    let Some(head) = head else {
        return Err(format!("`{}` cannot be read at the head", at.path));
    };
    let Some(current) = head.get(at.start_line as usize - 1..at.end_line as usize) else {
        return Err(format!("`{place}` is not in the head file"));
    };
    if head.iter().any(|l| l.contains('\0')) {
        return Err(format!("`{}` is not a text file", at.path));
    }
    if current.iter().any(|l| l.contains('\u{FFFD}')) {
        return Err(format!("`{place}` is not valid UTF-8"));
    }
    if current.join("\n") == text {
        return Err("it is the same as the current lines".into());
    }
    Ok(Replacement {
        path: at.path.clone(),
        start_line: at.start_line,
        end_line: at.end_line,
        text: text.to_string(),
    })
}

/// The replacement a consolidated finding keeps, if any, and a note for each one left out:
/// the highest-severity member's valid replacement; none when two differ at that severity.
pub(super) fn choose(
    id: &str,
    proposals: &[Proposal],
) -> (Option<(Replacement, VerifiedLocation)>, Vec<String>) {
    let mut notes = Vec::new();
    let who = |p: &Proposal| format!("{} (its finding {}, {})", p.agent, p.index, p.severity);
    let mut valid: Vec<(&Proposal, &(Replacement, VerifiedLocation))> = Vec::new();
    for p in proposals {
        match &p.checked {
            Ok(r) => valid.push((p, r)),
            Err(why) => notes.push(format!(
                "{id}: the replacement from {} was dropped: {why}.",
                who(p)
            )),
        }
    }
    let Some(top) = valid.iter().map(|(p, _)| p.severity).max() else {
        return (None, notes);
    };
    let (best, lower): (Vec<_>, Vec<_>) = valid.into_iter().partition(|(p, _)| p.severity == top);
    let (first, first_r) = best[0];
    if let Some((other, _)) = best.iter().find(|(_, r)| r.0 != first_r.0) {
        notes.push(format!(
            "{id}: no replacement: {} and {} propose different ones at the same severity.",
            who(first),
            who(other)
        ));
        return (None, notes);
    }
    for (p, r) in lower {
        if r.0 != first_r.0 {
            notes.push(format!(
                "{id}: the replacement from {} was set aside for the one from {}, the higher severity.",
                who(p),
                who(first)
            ));
        }
    }
    (Some(first_r.clone()), notes)
}

/// The proposal of one member: the replacement on the first of its locations that has one.
fn proposal(item: &Item, tree: Option<&dyn HeadTree>) -> Option<Proposal> {
    let (j, cited) = item
        .finding
        .locations
        .iter()
        .enumerate()
        .find(|(_, l)| l.replacement.is_some())?;
    let text = cited.replacement.as_deref()?;
    let checked = match item.locations.get(j) {
        Some(at) => {
            let head = tree.and_then(|t| t.read_lines(&at.path).ok());
            let diff = tree.and_then(|t| t.diff());
            check(cited, at, text, head.as_deref().map(Vec::as_slice), diff)
                .map(|r| (r, at.clone()))
        }
        None => Err("its location was not checked".into()),
    };
    Some(Proposal {
        agent: item.agent.to_string(),
        index: item.index,
        severity: item.finding.severity,
        checked,
    })
}

/// Whether a location's excerpt shows every line `r` replaces (the report's diff reads them
/// there).
fn shows(l: &VerifiedLocation, r: &Replacement) -> bool {
    l.path == r.path
        && l.excerpt.as_ref().is_some_and(|e| {
            e.start_line <= r.start_line && r.end_line < e.start_line + e.lines.len() as u32
        })
}

/// Gives each finding that is not dropped the replacement its members agree on, and returns
/// the notes saying which replacements were left out and why. A finding keeps its locations;
/// when none of them shows the replaced lines, the replacement's verified location is added.
pub(super) fn attach(
    findings: &mut [ConsolidatedFinding],
    items: &[Item],
    tree: Option<&dyn HeadTree>,
) -> Vec<String> {
    let mut notes = Vec::new();
    // Only the members that propose one, by agent and position.
    let proposing: HashMap<(&str, usize), &Item> = items
        .iter()
        .filter(|i| i.finding.locations.iter().any(|l| l.replacement.is_some()))
        .map(|i| ((i.agent, i.index), i))
        .collect();
    if proposing.is_empty() {
        return notes;
    }
    for f in findings.iter_mut().filter(|f| f.status != Status::Dropped) {
        let proposals: Vec<Proposal> = f
            .members
            .iter()
            .filter_map(|m| proposing.get(&(m.agent.as_str(), m.index)))
            .filter_map(|i| proposal(i, tree))
            .collect();
        if proposals.is_empty() {
            continue;
        }
        let (chosen, why) = choose(&f.id, &proposals);
        notes.extend(why);
        if let Some((r, at)) = chosen {
            if !f.locations.iter().any(|l| shows(l, &r)) {
                f.locations.push(at);
            }
            f.replacement = Some(r);
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::cite;
    use super::super::fixtures::finding;
    use super::super::fixtures::input;
    use super::super::fixtures::located;
    use super::super::fixtures::run;
    use super::super::fixtures::Tree;
    use super::super::pipeline::consolidate;
    use super::super::Options;
    use super::*;
    use crate::review::Excerpt;

    const HEAD: [&str; 6] = [
        "fn get(m: &Map, k: &str) -> String {",
        "    m.get(k).unwrap().clone()",
        "}",
        "",
        "fn put() {}",
        "",
    ];

    fn head() -> Vec<String> {
        HEAD.iter().map(|l| l.to_string()).collect()
    }

    /// A diff whose one hunk shows head lines 1..=3.
    fn diff() -> Vec<FileDiff> {
        crate::diff::parse(
            "diff --git a/src/a.rs b/src/a.rs\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,2 +1,3 @@\n fn get(m: &Map, k: &str) -> String {\n+    m.get(k).unwrap().clone()\n }\n",
        )
    }

    fn verified(start: u32, end: u32) -> VerifiedLocation {
        VerifiedLocation {
            path: "src/a.rs".into(),
            start_line: start,
            end_line: end,
            verified: true,
            relocated_from: None,
            note: None,
            excerpt: Some(Excerpt {
                start_line: 1,
                lines: head()[..5].to_vec(),
            }),
        }
    }

    fn quoted(start: u32, end: u32) -> Location {
        cite("src/a.rs", start, end, Some(HEAD[start as usize - 1]))
    }

    fn run_check(start: u32, end: u32, text: &str) -> Result<Replacement, String> {
        let d = diff();
        check(
            &quoted(start, end),
            &verified(start, end),
            text,
            Some(&head()),
            Some(&d),
        )
    }

    const FIX: &str = "    m.get(k).cloned().unwrap_or_default()";

    #[test]
    fn a_replacement_inside_one_hunk_of_verified_lines_is_kept_with_the_verified_range() {
        let r = run_check(2, 2, FIX).unwrap();
        assert_eq!(
            r,
            Replacement {
                path: "src/a.rs".into(),
                start_line: 2,
                end_line: 2,
                text: FIX.into(),
            }
        );
        // A relocated citation keeps its span: the replacement takes the verified lines.
        let d = diff();
        let mut moved = verified(2, 3);
        moved.relocated_from = Some(1);
        let r = check(
            &cite("src/a.rs", 1, 2, Some(HEAD[1])),
            &moved,
            "    x\n}",
            Some(&head()),
            Some(&d),
        )
        .unwrap();
        assert_eq!((r.start_line, r.end_line), (2, 3));
    }

    #[test]
    fn each_invalid_replacement_says_why() {
        let d = diff();
        let mut unverified = verified(2, 2);
        unverified.verified = false;
        unverified.note = Some("line 2 does not exist".into());
        let err = |r: Result<Replacement, String>| r.unwrap_err();
        assert_eq!(
            err(check(
                &quoted(2, 2),
                &unverified,
                FIX,
                Some(&head()),
                Some(&d)
            )),
            "its location `src/a.rs:2` is not verified (line 2 does not exist)"
        );
        assert_eq!(
            err(check(
                &cite("src/a.rs", 2, 2, None),
                &verified(2, 2),
                FIX,
                Some(&head()),
                Some(&d)
            )),
            "its location `src/a.rs:2` has no `quote`, so nothing confirms which lines it replaces"
        );
        assert_eq!(
            err(check(
                &cite("src/a.rs", 2, 9, Some(HEAD[1])),
                &verified(2, 6),
                FIX,
                Some(&head()),
                Some(&d)
            )),
            "the cited lines were cut to `src/a.rs:2-6` to fit the file, so it would not replace what it was written for"
        );
        assert_eq!(
            err(run_check(2, 5, FIX)),
            "`src/a.rs:2-5` is not inside one hunk of the diff, where a suggestion can be placed"
        );
        assert_eq!(
            err(run_check(5, 5, "fn put() { todo!() }")),
            "`src/a.rs:5` is not inside one hunk of the diff, where a suggestion can be placed"
        );
        assert_eq!(
            err(run_check(2, 2, "```rust\nx\n```")),
            "it contains a code fence"
        );
        assert_eq!(
            err(run_check(2, 2, "a\0b")),
            "it contains a NUL or another control character"
        );
        for bidi in ['\u{202E}', '\u{2066}', '\u{2069}', '\u{200F}', '\u{061C}'] {
            assert_eq!(
                err(run_check(2, 2, &format!("/* a {bidi}*/ b"))),
                "it contains a bidirectional text control, which makes code read differently from what it does"
            );
        }
        assert_eq!(
            err(run_check(2, 2, HEAD[1])),
            "it is the same as the current lines"
        );
        assert_eq!(
            err(run_check(
                2,
                2,
                "    let key = \"ghp_abcdefghijklmnopqrstuvwxyz0123456789\";"
            )),
            "it holds what looks like a credential"
        );
        assert_eq!(
            err(check(
                &quoted(2, 2),
                &verified(2, 2),
                FIX,
                Some(&head()),
                None
            )),
            "there is no diff to place it in (the answers were consolidated without the change)"
        );
        let mut other = verified(2, 2);
        other.path = "src/b.rs".into();
        assert_eq!(
            err(check(
                &cite("src/b.rs", 2, 2, Some("x")),
                &other,
                FIX,
                Some(&head()),
                Some(&d)
            )),
            "`src/b.rs` is not changed by this change"
        );
    }

    #[test]
    fn a_long_range_is_not_a_small_fix() {
        let text: String = (0..30).map(|i| format!("+line {i}\n")).collect();
        let d = crate::diff::parse(&format!(
            "diff --git a/b b/b\n--- a/b\n+++ b/b\n@@ -0,0 +1,30 @@\n{text}"
        ));
        let lines: Vec<String> = (0..30).map(|i| format!("line {i}")).collect();
        let mut at = verified(1, 30);
        at.path = "b".into();
        let r = check(
            &cite("b", 1, 30, Some("line 0")),
            &at,
            "x",
            Some(&lines),
            Some(&d),
        );
        assert_eq!(
            r.unwrap_err(),
            "it replaces 30 lines; a committable fix replaces at most 20"
        );
        at.end_line = 20;
        assert!(check(
            &cite("b", 1, 20, Some("line 0")),
            &at,
            "x",
            Some(&lines),
            Some(&d)
        )
        .is_ok());
    }

    /// A finding of `agent` citing line 2 with its quote, proposing `text` there.
    fn proposing(severity: Severity, title: &str, text: &str) -> crate::finding::Finding {
        let mut at = cite("src/a.rs", 2, 2, Some(HEAD[1]));
        at.replacement = Some(text.into());
        located(
            finding(severity, title, "unwrap panics on a missing key"),
            vec![at],
        )
    }

    #[test]
    fn consolidation_keeps_the_verified_replacement_and_notes_the_ones_it_drops() {
        let tree = Tree::default().with("src/a.rs", &HEAD).with_diff(
            "diff --git a/src/a.rs b/src/a.rs\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,2 +1,3 @@\n fn get(m: &Map, k: &str) -> String {\n+    m.get(k).unwrap().clone()\n }\n",
        );
        let mut invented = cite("src/a.rs", 40, 40, Some("nothing"));
        invented.replacement = Some(FIX.into());
        let runs = [
            run(
                "codex",
                vec![proposing(Severity::Important, "get panics", FIX)],
            ),
            run(
                "claude",
                vec![
                    proposing(Severity::Important, "get panics", "```\nx\n```"),
                    located(
                        finding(Severity::Critical, "made up", "no such line"),
                        vec![invented],
                    ),
                ],
            ),
        ];
        let r = consolidate(input(&runs, Some(&tree)), &Options::default());
        let kept = &r.findings[0];
        assert_eq!(kept.id, "I1");
        assert_eq!(
            kept.replacement,
            Some(Replacement {
                path: "src/a.rs".into(),
                start_line: 2,
                end_line: 2,
                text: FIX.into()
            })
        );
        assert_eq!(
            kept.locations.len(),
            1,
            "its location already shows the lines"
        );
        // The dropped finding's replacement is not looked at: the finding says why it went.
        assert_eq!(r.findings[1].status, Status::Dropped);
        assert_eq!(
            r.notes,
            vec!["I1: the replacement from claude (its finding 0, important) was dropped: it contains a code fence.".to_string()]
        );
        // Without the change's diff (saved answers), none is kept.
        let bare = Tree::default().with("src/a.rs", &HEAD);
        let r = consolidate(input(&runs[..1], Some(&bare)), &Options::default());
        assert_eq!(r.findings[0].replacement, None);
        assert!(
            r.notes[0].contains("there is no diff to place it in"),
            "{:?}",
            r.notes
        );
    }

    fn proposal(agent: &str, severity: Severity, text: Result<&str, &str>) -> Proposal {
        Proposal {
            agent: agent.into(),
            index: 0,
            severity,
            checked: text
                .map(|t| {
                    (
                        Replacement {
                            path: "src/a.rs".into(),
                            start_line: 2,
                            end_line: 2,
                            text: t.into(),
                        },
                        verified(2, 2),
                    )
                })
                .map_err(str::to_string),
        }
    }

    #[test]
    fn the_highest_severity_valid_replacement_wins() {
        let (chosen, notes) = choose(
            "I1",
            &[
                proposal("gemini", Severity::Suggestion, Ok("low")),
                proposal("codex", Severity::Important, Ok("high")),
                proposal(
                    "claude",
                    Severity::Critical,
                    Err("it contains a code fence"),
                ),
            ],
        );
        assert_eq!(chosen.unwrap().0.text, "high");
        assert_eq!(
            notes,
            vec![
                "I1: the replacement from claude (its finding 0, critical) was dropped: it contains a code fence.".to_string(),
                "I1: the replacement from gemini (its finding 0, suggestion) was set aside for the one from codex (its finding 0, important), the higher severity.".to_string(),
            ]
        );
    }

    #[test]
    fn agreeing_replacements_are_kept_and_conflicting_ones_at_the_top_mean_none() {
        let (chosen, notes) = choose(
            "S1",
            &[
                proposal("a", Severity::Important, Ok("same")),
                proposal("b", Severity::Important, Ok("same")),
            ],
        );
        assert_eq!(chosen.unwrap().0.text, "same");
        assert!(notes.is_empty(), "{notes:?}");
        let (chosen, notes) = choose(
            "S1",
            &[
                proposal("a", Severity::Important, Ok("one")),
                proposal("b", Severity::Suggestion, Ok("three")),
                proposal("c", Severity::Important, Ok("two")),
            ],
        );
        assert!(chosen.is_none());
        assert_eq!(
            notes,
            vec!["S1: no replacement: a (its finding 0, important) and c (its finding 0, important) propose different ones at the same severity.".to_string()]
        );
        let (chosen, notes) = choose("S1", &[proposal("a", Severity::Critical, Err("why"))]);
        assert!(chosen.is_none());
        assert_eq!(notes.len(), 1);
    }
}
