//! The deterministic executive summary: who answered, what survived consolidation, what
//! needs attention before merging.

use crate::finding::Severity;
use crate::record::Outcome;
use crate::review::AgentColumn;
use crate::review::Review;
use crate::review::Status;

pub(super) fn executive_summary(r: &Review) -> String {
    let answered: Vec<&AgentColumn> = r.agents.iter().filter(|a| a.outcome.is_ok()).collect();
    let failed: Vec<&AgentColumn> = r.agents.iter().filter(|a| !a.outcome.is_ok()).collect();
    let c = r.counts();
    let raw: u32 = r.agents.iter().map(|a| a.metrics.findings.total()).sum();
    let held = r
        .findings
        .iter()
        .filter(|f| f.status == Status::HeldBack)
        .count();
    let dropped = r
        .findings
        .iter()
        .filter(|f| f.status == Status::Dropped)
        .count();
    let mut s = format!(
        "{} of {} reviewer{} answered ({}). They reported {raw} finding{}, consolidated into {} critical, {} important and {} suggestion{}",
        answered.len(),
        r.agents.len(),
        if r.agents.len() == 1 { "" } else { "s" },
        answered.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
        if raw == 1 { "" } else { "s" },
        c.critical,
        c.important,
        c.suggestion,
        if c.suggestion == 1 { "" } else { "s" },
    );
    let mut extra = Vec::new();
    if held > 0 {
        extra.push(format!("{held} held back for lack of support"));
    }
    if dropped > 0 {
        extra.push(format!("{dropped} dropped as unverifiable"));
    }
    if !extra.is_empty() {
        s.push_str(&format!(" ({})", extra.join(", ")));
    }
    s.push('.');
    if !failed.is_empty() {
        let f: Vec<String> = failed
            .iter()
            .map(|a| match &a.outcome {
                Outcome::Failed { kind, .. } => format!("{} ({})", a.name, kind.label()),
                Outcome::Ok => a.name.clone(),
            })
            .collect();
        s.push_str(&format!(" Did not answer: {}.", f.join(", ")));
    }
    if r.partial {
        s.push_str(" The review was interrupted: this is what had arrived by then.");
    }
    let top: Vec<String> = r
        .reported()
        .filter(|f| f.severity >= Severity::Important)
        .map(|f| {
            let place = f
                .locations
                .iter()
                .find(|l| l.verified)
                .map(|l| format!(" (`{}:{}`)", l.path, l.start_line))
                .unwrap_or_default();
            format!("- **{}** {}{place}", f.id, f.title)
        })
        .collect();
    if !top.is_empty() {
        s.push_str("\n\nWhat needs attention before merging:\n\n");
        s.push_str(&top.join("\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::finding;
    use super::super::fixtures::input;
    use super::super::fixtures::run;
    use super::super::pipeline::consolidate;
    use super::*;
    use crate::consolidate::Options;
    use crate::record::FailureKind;

    #[test]
    fn nobody_answered() {
        let r = consolidate(input(&[], None), &Options::default());
        assert_eq!(
            executive_summary(&r),
            "0 of 0 reviewers answered (). They reported 0 findings, consolidated into 0 critical, 0 important and 0 suggestions."
        );
    }

    #[test]
    fn who_answered_what_survived_and_what_needs_attention() {
        let mut failed = run("gemini", Vec::new());
        failed.answer = None;
        failed.outcome = Outcome::failed(FailureKind::RateLimited, "429", "wait");
        let runs = [
            run(
                "claude",
                vec![finding(Severity::Important, "race on client", "")],
            ),
            run(
                "codex",
                vec![finding(Severity::Important, "race on client", "")],
            ),
            run("solo", vec![finding(Severity::Suggestion, "rename it", "")]),
            failed,
        ];
        let mut given = input(&runs, None);
        given.partial = true;
        let r = consolidate(given, &Options::default());
        assert_eq!(
            executive_summary(&r),
            "3 of 4 reviewers answered (claude, codex, solo). They reported 3 findings, \
             consolidated into 0 critical, 1 important and 0 suggestions (1 held back for lack \
             of support). Did not answer: gemini (rate limited). The review was interrupted: \
             this is what had arrived by then.\n\nWhat needs attention before merging:\n\n\
             - **I1** race on client"
        );
    }
}
