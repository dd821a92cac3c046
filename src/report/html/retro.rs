//! The agent retro of the HTML report: a chart and the retro prose per agent, the metrics and
//! record tables, and the reconciliation log.

use super::chart;
use super::md;
use super::safe;
use crate::finding::Severity;
use crate::record::Outcome;
use crate::review::*;
use minijinja::Value;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Serialize)]
pub(super) struct AgentView {
    anchor: String,
    heading: String,
    judge: bool,
    failed: Option<String>,
    retro: Value,
    chart: Value,
    stderr_tail: Vec<String>,
    raw: Vec<String>,
}

/// `agent-claude`: an anchor from an agent's name (letters, digits and dashes only).
pub(super) fn anchor(prefix: &str, name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_lowercase(),
            false => '-',
        })
        .collect();
    format!("{prefix}-{}", slug.trim_matches('-'))
}

pub(super) fn agents(r: &Review, ids: &BTreeSet<String>) -> Vec<AgentView> {
    let scale = chart::Scale::of(&r.agents);
    // Taken already: the section's own anchor.
    let mut seen: BTreeSet<String> = ["agent-retro".to_string()].into();
    r.agents
        .iter()
        .map(|a| {
            let mut id = anchor("agent", &a.name);
            while !seen.insert(id.clone()) {
                id.push('-');
            }
            let failed = match &a.outcome {
                Outcome::Ok => None,
                Outcome::Failed { kind, .. } => Some(kind.label().to_string()),
            };
            let tail: Vec<String> = a.stderr_tail.lines().map(str::to_string).collect();
            let from = tail.len().saturating_sub(12);
            AgentView {
                anchor: id,
                heading: a.display.clone(),
                judge: a.role == Role::Judge,
                retro: safe(md::render(&a.retro, ids)),
                chart: safe(chart::agent(a, scale)),
                stderr_tail: if failed.is_some() {
                    tail[from..].to_vec()
                } else {
                    Vec::new()
                },
                raw: match failed {
                    Some(_) => a
                        .stdout_path
                        .iter()
                        .chain(&a.stderr_path)
                        .cloned()
                        .collect(),
                    None => Vec::new(),
                },
                failed,
            }
        })
        .collect()
}

#[derive(Serialize)]
pub(super) struct Table {
    head: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

pub(super) fn metrics(r: &Review) -> Table {
    let head = r
        .agents
        .iter()
        .map(crate::report::metrics::agent_heading)
        .collect();
    Table {
        head,
        rows: crate::report::metrics::metrics_rows(r),
    }
}

pub(super) fn record(r: &Review) -> Option<Table> {
    let rows = crate::report::metrics::record_rows(r)?;
    Some(Table {
        head: r.agents.iter().map(|a| a.display.clone()).collect(),
        rows,
    })
}

#[derive(Serialize)]
pub(super) struct ReconciliationView {
    agent: String,
    index: usize,
    title: String,
    finding: String,
    from: &'static str,
    to: &'static str,
    reason: String,
}

pub(super) fn reconciliation(r: &Review) -> Vec<ReconciliationView> {
    r.reconciliation
        .iter()
        .map(|e| ReconciliationView {
            agent: r.agent_display(&e.agent),
            index: e.index,
            title: e.title.trim().to_string(),
            finding: e.finding.clone(),
            from: e.from.as_str(),
            to: e.to.map_or("dropped", Severity::as_str),
            reason: e.reason.trim().to_string(),
        })
        .collect()
}
