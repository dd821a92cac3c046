//! reviewdog's Diagnostic Format as JSON lines (`reviewdog -f=rdjsonl`): one diagnostic per
//! reported finding, so reviewdog can post the review on GitLab merge requests, Gerrit,
//! Bitbucket or GitHub checks.
//!
//! Like SARIF, a diagnostic needs a place: a reported finding without a verified location is
//! left out (the Markdown and JSON reports carry it). Ranges are line-wise (no columns), which
//! reviewdog reads as whole lines, `start` to `end` inclusive. A finding's committable
//! replacement is a suggestion over the same lines, and the diagnostic is placed on those
//! lines, since reviewdog's GitHub and GitLab reporters anchor a suggestion at the comment's
//! lines. The rule code is the finding's category; the message starts with its ID and
//! severity. Deterministic: findings in ID order, no timestamps.

use crate::finding::Severity;
use crate::review::ConsolidatedFinding;
use crate::review::Review;
use crate::review::Status;
use serde_json::json;

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "ERROR",
        Severity::Important => "WARNING",
        Severity::Suggestion => "INFO",
    }
}

fn lines(start: u32, end: u32) -> serde_json::Value {
    json!({ "start": { "line": start }, "end": { "line": end.max(start) } })
}

fn location(path: &str, start: u32, end: u32) -> serde_json::Value {
    json!({ "path": path, "range": lines(start, end) })
}

/// The message: ID and title, the body, the fix, and who found it.
fn message(f: &ConsolidatedFinding) -> String {
    let agents: Vec<String> = f
        .severity_by_agent()
        .iter()
        .map(|(a, s)| format!("{a} ({s})"))
        .collect();
    let mut text = format!(
        "{} [{}] {}\n\n{}",
        f.id,
        f.severity.as_str(),
        f.title.trim(),
        f.body.trim()
    );
    if let Some(fix) = &f.fix {
        text.push_str(&format!("\n\nFix: {}", fix.trim()));
    }
    text.push_str(&format!("\n\nFound by {}.", agents.join(", ")));
    text
}

fn diagnostic(f: &ConsolidatedFinding) -> Option<serde_json::Value> {
    let verified: Vec<_> = f.locations.iter().filter(|l| l.verified).collect();
    let first = verified.first()?;
    let (primary, others) = match &f.replacement {
        Some(r) => (location(&r.path, r.start_line, r.end_line), &verified[..]),
        None => (
            location(&first.path, first.start_line, first.end_line),
            &verified[1..],
        ),
    };
    let category = f.category.as_deref().unwrap_or("general").trim();
    let mut d = json!({
        "message": message(f),
        "location": primary,
        "severity": severity(f.severity),
        "source": { "name": "deep-review", "url": "https://github.com/deep-review/deep-review" },
        "code": {
            "value": category,
            "url": "https://github.com/deep-review/deep-review#consolidation"
        },
    });
    if let Some(r) = &f.replacement {
        d["suggestions"] = json!([{ "range": lines(r.start_line, r.end_line), "text": r.text }]);
    }
    let related: Vec<serde_json::Value> = others
        .iter()
        .filter(|l| {
            f.replacement.as_ref().is_none_or(|r| {
                (r.path.as_str(), r.start_line, r.end_line) != (&l.path, l.start_line, l.end_line)
            })
        })
        .map(|l| json!({ "location": location(&l.path, l.start_line, l.end_line) }))
        .collect();
    if !related.is_empty() {
        d["related_locations"] = json!(related);
    }
    Some(d)
}

pub fn render(r: &Review) -> String {
    let mut out = String::new();
    for d in r
        .findings
        .iter()
        .filter(|f| f.status == Status::Reported)
        .filter_map(diagnostic)
    {
        out.push_str(&serde_json::to_string(&d).unwrap_or_default());
        out.push('\n');
    }
    out
}
