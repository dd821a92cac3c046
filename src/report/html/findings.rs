//! The findings of the HTML report: each reported finding with its cited code (line numbers,
//! the cited lines marked) and its suggested change as a diff; the findings gone since the
//! previous round; the held-back and dropped ones.

use super::md;
use super::safe;
use crate::finding::Severity;
use crate::review::*;
use minijinja::Value;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Serialize)]
pub(super) struct SeveritySection {
    id: &'static str,
    heading: &'static str,
    findings: Vec<FindingView>,
}

#[derive(Serialize)]
pub(super) struct FindingView {
    id: String,
    severity: &'static str,
    severity_title: &'static str,
    title: String,
    by: Vec<(String, &'static str)>,
    tags: Vec<String>,
    locations: Vec<LocationView>,
    body: Value,
    fix: Option<Value>,
    diff: Option<DiffView>,
    calibration: Value,
}

#[derive(Serialize)]
pub(super) struct LocationView {
    label: String,
    verified: bool,
    note: Option<String>,
    relocated_from: Option<u32>,
    lines: Vec<CodeLine>,
}

#[derive(Serialize)]
pub(super) struct CodeLine {
    n: u32,
    text: String,
    hit: bool,
}

#[derive(Serialize)]
pub(super) struct DiffView {
    label: String,
    lines: Vec<DiffLine>,
}

#[derive(Serialize)]
pub(super) struct DiffLine {
    /// `ctx`, `del` or `add`.
    kind: &'static str,
    old: Option<u32>,
    new: Option<u32>,
    text: String,
}

pub(super) fn sections(r: &Review, ids: &BTreeSet<String>) -> Vec<SeveritySection> {
    [
        (Severity::Critical, "critical-issues", "Critical Issues"),
        (Severity::Important, "important-issues", "Important Issues"),
        (Severity::Suggestion, "suggestions", "Suggestions"),
    ]
    .into_iter()
    .map(|(sev, id, heading)| SeveritySection {
        id,
        heading,
        findings: r
            .reported()
            .filter(|f| f.severity == sev)
            .map(|f| finding(r, f, ids))
            .collect(),
    })
    .collect()
}

pub(super) fn location_label(l: &VerifiedLocation) -> String {
    if l.end_line > l.start_line {
        format!("{}:{}-{}", l.path, l.start_line, l.end_line)
    } else {
        format!("{}:{}", l.path, l.start_line)
    }
}

pub(super) fn location(l: &VerifiedLocation) -> LocationView {
    let lines = match (&l.excerpt, l.verified) {
        (Some(ex), true) => ex
            .lines
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let n = ex.start_line + i as u32;
                CodeLine {
                    n,
                    text: text.clone(),
                    hit: n >= l.start_line && n <= l.end_line,
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    LocationView {
        label: location_label(l),
        verified: l.verified,
        note: l.note.clone(),
        relocated_from: l.relocated_from,
        lines,
    }
}

pub(super) fn finding(r: &Review, f: &ConsolidatedFinding, ids: &BTreeSet<String>) -> FindingView {
    let mut tags: Vec<String> = crate::report::rounds::tag(r, &f.id).into_iter().collect();
    if let Some(s) = f.scope {
        tags.push(format!("scope: {}", s.tag()));
    }
    if let Some(c) = &f.category {
        tags.push(format!("category: {c}"));
    }
    if let Some(c) = f.confidence {
        tags.push(format!("confidence: {c:.2}"));
    }
    let fix = f.fix.as_deref().filter(|x| !x.trim().is_empty());
    FindingView {
        id: f.id.clone(),
        severity: f.severity.as_str(),
        severity_title: f.severity.title(),
        title: f.title.trim().to_string(),
        by: f
            .severity_by_agent()
            .into_iter()
            .map(|(a, s)| (r.agent_display(a), s.as_str()))
            .collect(),
        tags,
        locations: f.locations.iter().map(location).collect(),
        body: safe(md::render(&f.body, ids)),
        fix: fix.map(|x| safe(md::render(x, ids))),
        diff: f.replacement.as_ref().map(|x| diff(f, x)),
        calibration: safe(md::inline(f.calibration.trim(), ids)),
    }
}

/// The suggested replacement as a diff: the cited lines it replaces (from the excerpt, with
/// the excerpt's neighbouring lines as context) against its new text.
pub(super) fn diff(f: &ConsolidatedFinding, x: &Replacement) -> DiffView {
    let excerpt = f
        .locations
        .iter()
        .filter(|l| l.path == x.path && l.verified)
        .filter_map(|l| l.excerpt.as_ref())
        .find(|e| e.start_line <= x.start_line && e.start_line + e.lines.len() as u32 > x.end_line);
    let mut lines = Vec::new();
    let new_lines: Vec<&str> = if x.text.is_empty() {
        Vec::new()
    } else {
        x.text.split('\n').collect()
    };
    let added = new_lines.len() as u32;
    let removed = x.end_line + 1 - x.start_line.min(x.end_line + 1);
    let ctx = |n: u32, text: &str, shift: bool| DiffLine {
        kind: "ctx",
        old: Some(n),
        new: Some(if shift { n + added - removed } else { n }),
        text: text.to_string(),
    };
    if let Some(e) = excerpt {
        let at = |n: u32| e.lines[(n - e.start_line) as usize].as_str();
        let before = x.start_line.saturating_sub(2).max(e.start_line);
        for n in before..x.start_line {
            lines.push(ctx(n, at(n), false));
        }
        for n in x.start_line..=x.end_line {
            lines.push(DiffLine {
                kind: "del",
                old: Some(n),
                new: None,
                text: at(n).to_string(),
            });
        }
        push_added(&mut lines, x.start_line, &new_lines);
        let last = e.start_line + e.lines.len() as u32 - 1;
        for n in x.end_line + 1..=(x.end_line + 2).min(last) {
            lines.push(ctx(n, at(n), true));
        }
    } else {
        push_added(&mut lines, x.start_line, &new_lines);
    }
    let range = if x.end_line > x.start_line {
        format!("{}-{}", x.start_line, x.end_line)
    } else {
        x.start_line.to_string()
    };
    DiffView {
        label: format!("{}:{range}", x.path),
        lines,
    }
}

pub(super) fn push_added(lines: &mut Vec<DiffLine>, start: u32, new_lines: &[&str]) {
    for (i, text) in new_lines.iter().enumerate() {
        lines.push(DiffLine {
            kind: "add",
            old: None,
            new: Some(start + i as u32),
            text: text.to_string(),
        });
    }
}

#[derive(Serialize)]
pub(super) struct Gone {
    heading: String,
    items: Vec<GoneFinding>,
}

pub(super) fn gone(r: &Review) -> Option<Gone> {
    let rounds = r.rounds.as_ref().filter(|x| !x.gone.is_empty())?;
    let mut items = Vec::new();
    for status in [LifecycleStatus::Fixed, LifecycleStatus::Withdrawn] {
        items.extend(rounds.gone.iter().filter(|g| g.status == status).cloned());
    }
    Some(Gone {
        heading: format!("Gone Since Round {}", rounds.previous_round),
        items,
    })
}

#[derive(Serialize)]
pub(super) struct OtherFinding {
    id: String,
    severity: &'static str,
    title: String,
    by: String,
    place: Option<String>,
    reason: Option<String>,
}

pub(super) fn attribution(r: &Review, f: &ConsolidatedFinding) -> String {
    f.severity_by_agent()
        .iter()
        .map(|(a, s)| format!("{} ({s})", r.agent_display(a)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn others(r: &Review, status: Status) -> Vec<OtherFinding> {
    r.findings
        .iter()
        .filter(|f| f.status == status)
        .map(|f| OtherFinding {
            id: f.id.clone(),
            severity: f.severity.as_str(),
            title: f.title.trim().to_string(),
            by: attribution(r, f),
            place: f.locations.first().map(location_label),
            reason: f.drop_reason.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(replacement: Replacement) -> ConsolidatedFinding {
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
                path: "a.go".into(),
                start_line: 12,
                end_line: 12,
                verified: true,
                relocated_from: None,
                note: None,
                excerpt: Some(Excerpt {
                    start_line: 10,
                    lines: ["a", "b", "c", "d", "e", "f"].map(String::from).to_vec(),
                }),
            }],
            members: Vec::new(),
            agreement: 1,
            status: Status::Reported,
            drop_reason: None,
            calibration: String::new(),
            replacement: Some(replacement.clone()),
        }
    }

    fn shape(d: &DiffView) -> Vec<String> {
        d.lines
            .iter()
            .map(|l| format!("{} {:?} {:?} {}", l.kind, l.old, l.new, l.text))
            .collect()
    }

    #[test]
    fn a_replacement_is_a_diff_of_the_cited_lines_with_context_renumbered() {
        let x = Replacement {
            path: "a.go".into(),
            start_line: 12,
            end_line: 13,
            text: "X\nY\nZ".into(),
        };
        let d = diff(&finding(x.clone()), &x);
        assert_eq!(d.label, "a.go:12-13");
        assert_eq!(
            shape(&d),
            [
                "ctx Some(10) Some(10) a",
                "ctx Some(11) Some(11) b",
                "del Some(12) None c",
                "del Some(13) None d",
                "add None Some(12) X",
                "add None Some(13) Y",
                "add None Some(14) Z",
                "ctx Some(14) Some(15) e",
                "ctx Some(15) Some(16) f",
            ]
        );
    }

    #[test]
    fn a_deletion_or_a_replacement_outside_the_excerpt() {
        let gone = Replacement {
            path: "a.go".into(),
            start_line: 15,
            end_line: 15,
            text: String::new(),
        };
        let d = diff(&finding(gone.clone()), &gone);
        assert_eq!(
            shape(&d),
            [
                "ctx Some(13) Some(13) d",
                "ctx Some(14) Some(14) e",
                "del Some(15) None f"
            ]
        );
        let elsewhere = Replacement {
            path: "b.go".into(),
            start_line: 3,
            end_line: 3,
            text: "new".into(),
        };
        let d = diff(&finding(elsewhere.clone()), &elsewhere);
        assert_eq!(shape(&d), ["add None Some(3) new"]);
    }
}
