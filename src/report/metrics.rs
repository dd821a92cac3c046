//! The retro's tables as data, for the Markdown and the HTML report: the metrics per agent
//! (DESIGN.md, "Metrics per agent") and each agent's record from the review history. A row is
//! a label and one value per agent, "—" where it does not apply.

use crate::record::Outcome;
use crate::review::*;
use crate::util::human_duration;
use std::time::Duration;

/// An agent's heading in the retro and its column's in the metrics table: `Judge: NAME` for
/// the judge.
pub fn agent_heading(a: &AgentColumn) -> String {
    match a.role {
        Role::Judge => format!("Judge: {}", a.display),
        Role::Reviewer => a.display.clone(),
    }
}

fn tool_calls(m: &Metrics) -> String {
    if m.tool_calls == 0 {
        return "0".into();
    }
    let mut by: Vec<(&String, &u32)> = m.tool_calls_by_name.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = by.iter().map(|(n, c)| format!("{n} {c}")).collect();
    format!("{} ({})", m.tool_calls, parts.join(", "))
}

/// The record table's rows (label, one value per agent), or None when no agent has a record.
pub fn record_rows(r: &Review) -> Option<Vec<(String, Vec<String>)>> {
    if r.agents.iter().all(|a| a.metrics.record.is_none()) {
        return None;
    }
    type Row = (&'static str, fn(&AgentRecord) -> String);
    let rows: [Row; 8] = [
        ("Reviews", |x| x.reviews.to_string()),
        ("Findings", |x| x.findings.to_string()),
        ("Survived consolidation", |x| x.survived.to_string()),
        ("Unique insights", |x| x.unique_insights.to_string()),
        ("Refuted or dropped", |x| x.dropped.to_string()),
        ("Fixed by the next round", AgentRecord::fixed_label),
        ("Median duration", |x| {
            human_duration(Duration::from_millis(x.median_duration_ms))
        }),
        ("Cost per reported finding", |x| {
            x.cost_per_reported_finding
                .map(|c| format!("${c:.2}"))
                .unwrap_or_else(|| "—".into())
        }),
    ];
    let values = |f: fn(&AgentRecord) -> String| {
        r.agents
            .iter()
            .map(|a| a.metrics.record.as_ref().map_or("—".to_string(), f))
            .collect()
    };
    Some(
        rows.into_iter()
            .map(|(label, f)| (label.to_string(), values(f)))
            .collect(),
    )
}

/// The metrics table's rows: a label and one value per agent ("—" where it does not apply).
pub fn metrics_rows(r: &Review) -> Vec<(String, Vec<String>)> {
    // `true`: measured from the run itself, so shown for every agent, a failed one or the
    // judge included. `false`: about the findings a reviewer reported, shown only for
    // reviewers that answered.
    type Row = (&'static str, bool, fn(&AgentColumn) -> String);
    let rows: Vec<Row> = vec![
        ("Outcome", true, |a| match &a.outcome {
            Outcome::Ok => "ok".into(),
            Outcome::Failed { kind, .. } => format!("failed: {}", kind.label()),
        }),
        ("Duration", true, |a| {
            human_duration(Duration::from_millis(a.metrics.duration_ms))
        }),
        ("Findings", false, |a| a.metrics.findings.short()),
        ("Tool calls", true, |a| tool_calls(&a.metrics)),
        ("Design observations", false, |a| {
            a.metrics.observations.to_string()
        }),
        ("False positives", false, |a| {
            a.metrics.false_positives.to_string()
        }),
        ("Unique insights", false, |a| {
            a.metrics.unique_insights.to_string()
        }),
        ("Files reviewed", true, |a| {
            a.metrics.files_reviewed.to_string()
        }),
        ("Coverage misses", false, |a| {
            a.metrics.coverage_misses.to_string()
        }),
        ("Totals", false, |a| a.metrics.totals.short()),
        ("Downgraded", false, |a| a.metrics.downgraded.to_string()),
        ("Upgraded", false, |a| a.metrics.upgraded.to_string()),
        ("Dropped", false, |a| a.metrics.dropped.to_string()),
        ("Tokens", true, |a| match &a.metrics.tokens {
            Some(t) => format!("{} in / {} out", t.input, t.output),
            None => "—".into(),
        }),
        ("Cost", true, |a| match a.metrics.cost_usd {
            Some(c) => format!("${c:.2}"),
            None => "—".into(),
        }),
    ];
    let mut rows = rows;
    if r.agents.iter().any(|a| a.metrics.budget.is_some()) {
        rows.push(("Budget", true, |a| budget_cell(&a.metrics)));
    }
    rows.into_iter()
        .map(|(label, measured, f)| {
            let values = r
                .agents
                .iter()
                .map(|a| {
                    if measured || (a.outcome.is_ok() && a.role == Role::Reviewer) {
                        f(a)
                    } else {
                        "—".to_string()
                    }
                })
                .collect();
            (label.to_string(), values)
        })
        .collect()
}

/// Spend against budget: "1200 of 2000 tokens, $0.01 of $0.05; reached the agent's token
/// budget of 2000".
fn budget_cell(m: &crate::review::Metrics) -> String {
    let Some(b) = &m.budget else {
        return "—".into();
    };
    let tokens = m.tokens.as_ref().map(|t| t.input + t.output).unwrap_or(0);
    let cost = m.cost_usd.unwrap_or(0.0);
    let mut parts = Vec::new();
    if let Some(max) = b.limits.max_tokens {
        parts.push(format!("{tokens} of {max} tokens"));
    }
    if let Some(max) = b.limits.max_cost_usd {
        parts.push(format!("${cost:.2} of ${max:.2}"));
    }
    if let Some(max) = b.limits.review_max_tokens {
        parts.push(format!("{tokens} of the review's {max} tokens"));
    }
    if let Some(max) = b.limits.review_max_cost_usd {
        parts.push(format!("${cost:.2} of the review's ${max:.2}"));
    }
    let mut s = parts.join(", ");
    if let Some(why) = &b.reached {
        s.push_str(&format!("; reached {why}"));
    }
    s
}
