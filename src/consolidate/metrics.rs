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

#[cfg(test)]
mod tests {
    use super::super::fixtures::consolidated;
    use super::super::fixtures::finding;
    use super::super::fixtures::run;
    use super::*;
    use crate::record::FailureKind;
    use Severity::Critical;
    use Severity::Important;
    use Severity::Suggestion;

    fn review_of_three() -> Vec<ConsolidatedFinding> {
        vec![
            // Confirmed by both, downgraded for claude.
            consolidated(
                "I1",
                Important,
                Status::Reported,
                &[("claude", Critical), ("codex", Important)],
            ),
            // Only codex: a unique insight, and a miss for claude.
            consolidated("I2", Important, Status::Reported, &[("codex", Important)]),
            // claude's invented finding.
            consolidated("D1", Critical, Status::Dropped, &[("claude", Critical)]),
            // A held-back suggestion only codex gave, upgraded nowhere.
            consolidated("H1", Suggestion, Status::HeldBack, &[("codex", Suggestion)]),
        ]
    }

    #[test]
    fn each_agent_is_measured_against_the_consolidated_findings() {
        let mut claude = run(
            "claude",
            vec![finding(Critical, "a", ""), finding(Critical, "b", "")],
        );
        claude.stats.duration_ms = 65_000;
        let m = metrics(&claude, &review_of_three());
        assert_eq!(m.findings.short(), "2C");
        assert_eq!(m.duration_ms, 65_000);
        assert_eq!(
            (m.false_positives, m.dropped, m.downgraded, m.upgraded),
            (1, 1, 1, 0)
        );
        assert_eq!((m.unique_insights, m.coverage_misses), (0, 1));
        assert_eq!(m.totals.short(), "1I");
        let codex = run(
            "codex",
            vec![finding(Important, "a", ""), finding(Suggestion, "c", "")],
        );
        let m = metrics(&codex, &review_of_three());
        assert_eq!((m.false_positives, m.downgraded, m.upgraded), (0, 0, 0));
        assert_eq!((m.unique_insights, m.coverage_misses), (1, 0));
        assert_eq!(m.totals.short(), "2I");
    }

    #[test]
    fn a_failed_agent_misses_nothing_and_a_lone_agent_with_nothing_has_zeroes() {
        let mut failed = run("gemini", Vec::new());
        failed.answer = None;
        failed.outcome = Outcome::failed(
            FailureKind::TimedOut,
            "no answer in 600s",
            "raise --timeout",
        );
        let m = metrics(&failed, &review_of_three());
        assert_eq!(m.coverage_misses, 0);
        assert_eq!(m.findings.total(), 0);
        let m = metrics(&run("solo", Vec::new()), &[]);
        assert_eq!(m, Metrics::default());
    }

    #[test]
    fn the_column_carries_the_run_and_an_empty_retro() {
        let col = agent_column(&run("codex", Vec::new()), &[]);
        assert_eq!(col.name, "codex");
        assert_eq!(col.role, Role::Reviewer);
        assert_eq!(col.summary, None);
        assert_eq!(col.retro, "");
    }

    #[test]
    fn the_retro_paragraph_says_what_the_metrics_say() {
        let findings = review_of_three();
        let mut claude = run(
            "claude",
            vec![finding(Critical, "a", ""), finding(Critical, "b", "")],
        );
        claude.stats.duration_ms = 65_000;
        let col = agent_column(&claude, &findings);
        assert_eq!(
            retro_paragraph(&col, &findings),
            "Answered in 1m 05s with 2 findings (2C). Confirmed by others: I1. Missed I2. \
             Severity changed by consolidation: 1 downgraded, 0 upgraded. \
             1 finding was dropped because the cited code does not exist."
        );
        let col = agent_column(&run("codex", vec![finding(Important, "a", "")]), &findings);
        assert!(retro_paragraph(&col, &findings).contains(" Only it found I2."));
        let mut failed = run("gemini", Vec::new());
        failed.outcome = Outcome::failed(
            FailureKind::TimedOut,
            "no answer in 600s",
            "raise --timeout",
        );
        let col = agent_column(&failed, &findings);
        assert_eq!(
            retro_paragraph(&col, &findings),
            "Did not answer (timed out): no answer in 600s. To fix: raise --timeout."
        );
    }
}
