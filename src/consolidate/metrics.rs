//! Step 6, measure: each agent's column of the retro table (its metrics counted against the
//! consolidated findings) and its deterministic retro paragraph.

use crate::finding::Severity;
use crate::record::AgentRun;
use crate::record::Outcome;
use crate::review::AgentColumn;
use crate::review::ConsolidatedFinding;
use crate::review::Member;
use crate::review::Metrics;
use crate::review::Role;
use crate::review::Status;

/// The agent's column: who it is, how it ended, its metrics; the retro is left empty.
pub(super) fn agent_column(run: &AgentRun, findings: &[ConsolidatedFinding]) -> AgentColumn {
    AgentColumn {
        name: run.name.clone(),
        role: Role::Reviewer,
        kind: run.kind,
        model: run.model.clone(),
        effort: run.effort.clone(),
        display: run.display(),
        outcome: run.outcome.clone(),
        metrics: metrics(run, findings),
        summary: run
            .answer
            .as_ref()
            .map(|a| a.summary.clone())
            .filter(|s| !s.is_empty()),
        verdict: run.answer.as_ref().and_then(|a| a.verdict),
        stderr_tail: run.stderr_tail.clone(),
        stdout_path: run.stdout_path.as_ref().map(|p| p.display().to_string()),
        stderr_path: run.stderr_path.as_ref().map(|p| p.display().to_string()),
        retro: String::new(),
    }
}

/// The run's own figures (duration, tool calls, tokens, what it reported) and how its
/// findings fared in consolidation: false positives, severity changes, unique insights,
/// coverage misses, totals after consolidation.
pub(super) fn metrics(run: &AgentRun, findings: &[ConsolidatedFinding]) -> Metrics {
    let mut m = Metrics {
        duration_ms: run.stats.duration_ms,
        tool_calls: run.stats.total_tool_calls(),
        tool_calls_by_name: run.stats.tool_calls.clone(),
        files_reviewed: run.stats.files_read.len() as u32,
        tokens: run.stats.tokens.clone(),
        cost_usd: run.stats.cost_usd,
        budget: run.stats.budget.clone(),
        ..Metrics::default()
    };
    if let Some(a) = &run.answer {
        for f in &a.findings {
            m.findings.add(f.severity);
        }
        m.observations = a.observations.len() as u32;
    }
    let ok = run.outcome.is_ok();
    for f in findings {
        let mine: Vec<&Member> = f.members.iter().filter(|x| x.agent == run.name).collect();
        if mine.is_empty() {
            if ok && f.status == Status::Reported && f.severity >= Severity::Important {
                m.coverage_misses += 1;
            }
            continue;
        }
        match f.status {
            Status::Dropped => {
                m.false_positives += mine.len() as u32;
                m.dropped += mine.len() as u32;
            }
            Status::Reported | Status::HeldBack => {
                let given = mine.iter().map(|x| x.severity).max().unwrap_or(f.severity);
                if given > f.severity {
                    m.downgraded += 1;
                } else if given < f.severity {
                    m.upgraded += 1;
                }
                if f.status == Status::Reported {
                    m.totals.add(f.severity);
                    if f.agreement == 1 {
                        m.unique_insights += 1;
                    }
                }
            }
        }
    }
    m
}

/// The deterministic retro paragraph for one agent, built from its metrics.
pub fn retro_paragraph(a: &AgentColumn, findings: &[ConsolidatedFinding]) -> String {
    let dur = crate::util::human_duration(std::time::Duration::from_millis(a.metrics.duration_ms));
    if let Outcome::Failed {
        kind,
        message,
        hint,
    } = &a.outcome
    {
        return format!(
            "Did not answer ({}): {message}. To fix: {hint}.",
            kind.label()
        );
    }
    let m = &a.metrics;
    let mut s = format!(
        "Answered in {dur} with {} finding{} ({})",
        m.findings.total(),
        if m.findings.total() == 1 { "" } else { "s" },
        m.findings.short()
    );
    if m.tool_calls > 0 {
        s.push_str(&format!(
            " after {} tool call{}",
            m.tool_calls,
            if m.tool_calls == 1 { "" } else { "s" }
        ));
    }
    s.push('.');
    let ids = |pred: &dyn Fn(&ConsolidatedFinding) -> bool| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.status == Status::Reported && pred(f))
            .map(|f| f.id.clone())
            .collect()
    };
    let unique = ids(&|f| f.agreement == 1 && f.members.iter().any(|x| x.agent == a.name));
    if !unique.is_empty() {
        s.push_str(&format!(" Only it found {}.", unique.join(", ")));
    }
    let shared = ids(&|f| f.agreement > 1 && f.members.iter().any(|x| x.agent == a.name));
    if !shared.is_empty() {
        s.push_str(&format!(" Confirmed by others: {}.", shared.join(", ")));
    }
    let missed =
        ids(&|f| f.severity >= Severity::Important && !f.members.iter().any(|x| x.agent == a.name));
    if !missed.is_empty() {
        s.push_str(&format!(" Missed {}.", missed.join(", ")));
    }
    if m.downgraded + m.upgraded > 0 {
        s.push_str(&format!(
            " Severity changed by consolidation: {} downgraded, {} upgraded.",
            m.downgraded, m.upgraded
        ));
    }
    if m.false_positives > 0 {
        s.push_str(&format!(
            " {} finding{} dropped because the cited code does not exist.",
            m.false_positives,
            if m.false_positives == 1 {
                " was"
            } else {
                "s were"
            }
        ));
    }
    s
}
