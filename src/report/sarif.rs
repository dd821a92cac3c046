//! SARIF 2.1.0, for code scanning: one rule per category, levels from severity, locations
//! from verified citations only, and fingerprints stable across rounds.
//!
//! In a later round of a subject, each result's `baselineState` says whether it is new or
//! unchanged since the previous round.
//!
//! Deterministic: no timestamps, results in ID order, rules sorted. A reported finding with
//! no verified location is left out (code scanning needs a place to show it); the Markdown
//! and JSON reports still carry it.
//!
//! Each agent of the review is a tool extension (`runs[].tool.extensions`); security findings
//! carry GitHub's `security-severity` score; a finding's committable replacement is a SARIF
//! fix.

use crate::finding::Severity;
use crate::review::AgentColumn;
use crate::review::ConsolidatedFinding;
use crate::review::Replacement;
use crate::review::Review;
use crate::review::Status;
use serde_json::json;
use std::collections::BTreeMap;

/// A finding's fingerprint: FNV-1a over its category, cited path and the cited code with
/// whitespace collapsed. Line numbers are left out on purpose, so the fingerprint survives
/// code moving up or down between rounds; the agents' wording is left out because it changes
/// from run to run.
pub fn fingerprint(f: &ConsolidatedFinding) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |s: &str| {
        for b in s.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(f.category.as_deref().unwrap_or("general"));
    match f.locations.iter().find(|l| l.verified) {
        Some(l) => {
            eat(&l.path);
            let cited: Vec<String> = l
                .excerpt
                .iter()
                .flat_map(|e| {
                    e.lines.iter().enumerate().filter_map(move |(i, line)| {
                        let n = e.start_line + i as u32;
                        (n >= l.start_line && n <= l.end_line)
                            .then(|| line.split_whitespace().collect::<Vec<_>>().join(" "))
                    })
                })
                .collect();
            eat(&cited.join("\n"));
        }
        None => eat(&f.title.to_lowercase()),
    }
    format!("{h:016x}")
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "error",
        Severity::Important => "warning",
        Severity::Suggestion => "note",
    }
}

/// GitHub code scanning's `security-severity` (a CVSS-like score as a string): critical 9.0,
/// important 7.0, suggestion 4.0 (GitHub shows >9 critical, 7–8.9 high, 4–6.9 medium).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.0",
        Severity::Important => "7.0",
        Severity::Suggestion => "4.0",
    }
}

/// Whether a finding is a security finding (category `security`).
fn is_security(f: &ConsolidatedFinding) -> bool {
    f.category
        .as_deref()
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("security"))
}

/// One agent of the review as a SARIF tool extension: its name, its display name and what is
/// known of its kind, model and role.
fn extension(a: &AgentColumn) -> serde_json::Value {
    let mut properties = json!({ "kind": a.kind, "role": a.role });
    if let Some(m) = &a.model {
        properties["model"] = json!(m);
    }
    if let Some(e) = &a.effort {
        properties["effort"] = json!(e);
    }
    json!({ "name": a.name, "fullName": a.display, "properties": properties })
}

/// A committable replacement as a SARIF fix (§3.55): the cited lines' text (a lines-only
/// region covers each line up to, not including, its last newline) replaced by the new text.
/// An empty text deletes the lines, newlines included: the region then ends at the start of
/// the next line.
fn fix(f: &ConsolidatedFinding, r: &Replacement) -> serde_json::Value {
    let end = r.end_line.max(r.start_line);
    let deleted = if r.text.is_empty() {
        json!({ "startLine": r.start_line, "startColumn": 1, "endLine": end + 1, "endColumn": 1 })
    } else {
        json!({ "startLine": r.start_line, "endLine": end })
    };
    let description = match &f.fix {
        Some(fix) => fix.trim().to_string(),
        None => format!(
            "Replace lines {}–{} of {}.",
            r.start_line, r.end_line, r.path
        ),
    };
    json!({
        "description": { "text": description },
        "artifactChanges": [{
            "artifactLocation": { "uri": r.path, "uriBaseId": "%SRCROOT%" },
            "replacements": [{ "deletedRegion": deleted, "insertedContent": { "text": r.text } }]
        }]
    })
}

fn rule_id(f: &ConsolidatedFinding) -> String {
    let c = f
        .category
        .as_deref()
        .unwrap_or("general")
        .trim()
        .to_lowercase();
    let c: String = c
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
        .collect();
    format!("deep-review/{c}")
}

/// SARIF's `baselineState` (§3.27.24) against the previous round, for a later round: a
/// new finding is "new", a still open one "unchanged". The previous round's fixed and
/// withdrawn findings would be "absent" results; they are left out instead, because a
/// consumer that ignores `baselineState` (GitHub code scanning among them) would show them
/// as open alerts. The Markdown and JSON reports list them. A first round has no baseline,
/// so no result carries the property.
fn baseline_state(r: &Review, f: &ConsolidatedFinding) -> Option<&'static str> {
    r.rounds.as_ref()?;
    Some(match r.lifecycle_of(&f.id).map(|l| l.status) {
        Some(crate::review::LifecycleStatus::StillOpen) => "unchanged",
        _ => "new",
    })
}

/// The rules, one per category in name order; a security rule carries the highest severity
/// of its findings as GitHub's score.
fn rules(findings: &[&ConsolidatedFinding]) -> Vec<(String, serde_json::Value)> {
    let mut rules: BTreeMap<String, (&str, Option<Severity>)> = BTreeMap::new();
    for f in findings {
        let rule = rules
            .entry(rule_id(f))
            .or_insert((f.category.as_deref().unwrap_or("general"), None));
        if is_security(f) {
            rule.1 = rule.1.max(Some(f.severity));
        }
    }
    rules
        .into_iter()
        .map(|(id, (category, security))| {
            let mut rule = json!({
                "id": id,
                "name": category,
                "shortDescription": { "text": format!("{category} findings confirmed by deep-review's consolidation") },
                "helpUri": "https://github.com/deep-review/deep-review#consolidation",
                "properties": { "category": category }
            });
            if let Some(s) = security {
                // GitHub reads the score from the rule, and shows it for rules tagged security.
                rule["properties"]["tags"] = json!(["security"]);
                rule["properties"]["security-severity"] = json!(security_severity(s));
            }
            (id, rule)
        })
        .collect()
}

fn result(r: &Review, f: &ConsolidatedFinding, rule_index: usize) -> serde_json::Value {
    let agents: Vec<String> = f
        .severity_by_agent()
        .iter()
        .map(|(a, s)| format!("{a} ({s})"))
        .collect();
    let mut text = format!("{} {}\n\n{}", f.id, f.title.trim(), f.body.trim());
    if let Some(fix) = &f.fix {
        text.push_str(&format!("\n\nFix: {}", fix.trim()));
    }
    text.push_str(&format!("\n\nFound by {}.", agents.join(", ")));
    let locations: Vec<serde_json::Value> = f
        .locations
        .iter()
        .filter(|l| l.verified)
        .map(|l| {
            json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": l.path, "uriBaseId": "%SRCROOT%" },
                    "region": { "startLine": l.start_line, "endLine": l.end_line.max(l.start_line) }
                }
            })
        })
        .collect();
    let mut result = json!({
        "ruleId": rule_id(f),
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": text },
        "locations": locations,
        "partialFingerprints": { "deepReview/v1": fingerprint(f) },
        "properties": {
            "id": f.id,
            "severity": f.severity.as_str(),
            "agreement": f.agreement,
            "agents": f.agents(),
        }
    });
    if is_security(f) {
        result["properties"]["security-severity"] = json!(security_severity(f.severity));
    }
    if let Some(rep) = &f.replacement {
        result["fixes"] = json!([fix(f, rep)]);
    }
    if let Some(state) = baseline_state(r, f) {
        result["baselineState"] = json!(state);
    }
    result
}

pub fn render(r: &Review) -> String {
    let findings: Vec<&ConsolidatedFinding> = r
        .findings
        .iter()
        .filter(|f| f.status == Status::Reported && f.locations.iter().any(|l| l.verified))
        .collect();
    let rules = rules(&findings);
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let id = rule_id(f);
            let index = rules.iter().position(|(r, _)| *r == id).unwrap_or(0);
            result(r, f, index)
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "deep-review",
                    "version": r.tool.version,
                    "informationUri": "https://github.com/deep-review/deep-review",
                    "rules": rules.into_iter().map(|(_, rule)| rule).collect::<Vec<_>>()
                },
                "extensions": r.agents.iter().map(extension).collect::<Vec<_>>()
            },
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The root of the reviewed repository." } } },
            "automationDetails": { "id": format!("deep-review/{}/", r.change.repo) },
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    s.push('\n');
    s
}
