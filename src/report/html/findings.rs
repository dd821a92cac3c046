//! The findings of the HTML report: each reported finding with its cited code (line numbers,
//! the cited lines marked) and its suggested change as a diff; the findings gone since the
//! previous round; the held-back and dropped ones.

use super::md;
use super::safe;
use crate::report::common::*;
use crate::report::suggestion;
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
    diff: Option<suggestion::Diff>,
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

pub(super) fn sections(r: &Review, ids: &BTreeSet<String>) -> Vec<SeveritySection> {
    SEVERITY_SECTIONS
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

pub(super) fn location(l: &VerifiedLocation) -> LocationView {
    let lines = cited_lines(l)
        .into_iter()
        .map(|(n, text, hit)| CodeLine {
            n,
            text: text.to_string(),
            hit,
        })
        .collect();
    LocationView {
        label: location_label(l),
        verified: l.verified,
        note: l.note.clone(),
        relocated_from: l.relocated_from,
        lines,
    }
}

pub(super) fn finding(r: &Review, f: &ConsolidatedFinding, ids: &BTreeSet<String>) -> FindingView {
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
        tags: tags(r, f),
        locations: f.locations.iter().map(location).collect(),
        body: safe(md::render(&f.body, ids)),
        fix: fix.map(|x| safe(md::render(x, ids))),
        diff: f.replacement.as_ref().map(|x| suggestion::diff(f, x, 2)),
        calibration: safe(md::inline(f.calibration.trim(), ids)),
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
