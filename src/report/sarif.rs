//! SARIF 2.1.0, for code scanning: one rule per category, levels from severity, locations
//! from verified citations only, and fingerprints stable across rounds.
//!
//! In a later round of a subject, each result's `baselineState` says whether it is new or
//! unchanged since the previous round.
//!
//! Deterministic: no timestamps, results in ID order, rules sorted. A reported finding with
//! no verified location is left out (code scanning needs a place to show it); the Markdown
//! and JSON reports still carry it.

use crate::finding::Severity;
use crate::review::ConsolidatedFinding;
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

pub fn render(r: &Review) -> String {
    let findings: Vec<&ConsolidatedFinding> = r
        .findings
        .iter()
        .filter(|f| f.status == Status::Reported && f.locations.iter().any(|l| l.verified))
        .collect();
    let mut rules: BTreeMap<String, &str> = BTreeMap::new();
    for f in &findings {
        rules
            .entry(rule_id(f))
            .or_insert(f.category.as_deref().unwrap_or("general"));
    }
    let rule_index: BTreeMap<&String, usize> =
        rules.keys().enumerate().map(|(i, k)| (k, i)).collect();
    let rules_json: Vec<serde_json::Value> = rules
        .iter()
        .map(|(id, category)| {
            json!({
                "id": id,
                "name": category,
                "shortDescription": { "text": format!("{category} findings confirmed by deep-review's consolidation") },
                "helpUri": "https://github.com/deep-review/deep-review#consolidation",
                "properties": { "category": category }
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let id = rule_id(f);
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
                "ruleId": id,
                "ruleIndex": rule_index.get(&id).copied().unwrap_or(0),
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
            if let Some(state) = baseline_state(r, f) {
                result["baselineState"] = json!(state);
            }
            result
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "deep-review",
                "version": r.tool.version,
                "informationUri": "https://github.com/deep-review/deep-review",
                "rules": rules_json
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The root of the reviewed repository." } } },
            "automationDetails": { "id": format!("deep-review/{}/", r.change.repo) },
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    s.push('\n');
    s
}
