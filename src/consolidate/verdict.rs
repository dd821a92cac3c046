//! Step 7, the verdict: derived from the reported findings' severities, with a rationale
//! that names them; none when no model reviewer answered.

use crate::finding::Severity;
use crate::finding::Verdict;
use crate::record::AgentKind;
use crate::record::AgentRun;
use crate::review::ConsolidatedFinding;
use crate::review::Status;

/// The verdict and its rationale; with no verdict, the rationale says why there is none.
pub(super) fn verdict(
    runs: &[AgentRun],
    findings: &[ConsolidatedFinding],
) -> (Option<Verdict>, String) {
    match no_verdict_reason(runs) {
        Some(why) => (None, why),
        None => {
            let v = derive_verdict(findings);
            (Some(v), verdict_rationale(v, findings))
        }
    }
}

/// Why there is no verdict, when no model reviewer answered: the builtin checks find only
/// what a pattern can, so their silence is no reason to merge.
fn no_verdict_reason(runs: &[AgentRun]) -> Option<String> {
    let models: Vec<&AgentRun> = runs
        .iter()
        .filter(|r| r.kind != AgentKind::Builtin)
        .collect();
    if models
        .iter()
        .any(|r| r.outcome.is_ok() && r.answer.is_some())
    {
        return None;
    }
    let builtin = runs
        .iter()
        .any(|r| r.kind == AgentKind::Builtin && r.outcome.is_ok());
    let ran = if models.is_empty() {
        "no model reviewer ran".to_string()
    } else {
        let names: Vec<&str> = models.iter().map(|r| r.name.as_str()).collect();
        format!("no model reviewer answered ({} failed)", names.join(", "))
    };
    let rest = if builtin {
        "only the builtin checks did, and they cannot judge the change as a whole"
    } else {
        "nothing reviewed the change"
    };
    Some(format!("{ran}; {rest}."))
}

fn derive_verdict(findings: &[ConsolidatedFinding]) -> Verdict {
    let reported = findings.iter().filter(|f| f.status == Status::Reported);
    match reported.map(|f| f.severity).max() {
        Some(Severity::Critical) => Verdict::DoNotMerge,
        Some(Severity::Important) => Verdict::MergeWithFixes,
        _ => Verdict::Merge,
    }
}

fn verdict_rationale(v: Verdict, findings: &[ConsolidatedFinding]) -> String {
    let list = |s: Severity| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.status == Status::Reported && f.severity == s)
            .map(|f| format!("{} {}", f.id, f.title))
            .collect()
    };
    match v {
        Verdict::DoNotMerge => format!(
            "critical findings must be resolved first: {}.",
            list(Severity::Critical).join("; ")
        ),
        Verdict::MergeWithFixes => format!(
            "no critical findings, but important ones should be fixed before merging: {}.",
            list(Severity::Important).join("; ")
        ),
        Verdict::Merge => {
            let s = list(Severity::Suggestion).len();
            if s == 0 {
                "no reviewer reported a problem that survived consolidation.".to_string()
            } else {
                format!(
                    "no critical or important findings; {s} suggestion{} to consider.",
                    if s == 1 { "" } else { "s" }
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::consolidated;
    use super::super::fixtures::run;
    use super::*;
    use crate::record::FailureKind;
    use crate::record::Outcome;
    use Severity::Critical;
    use Severity::Important;
    use Severity::Suggestion;

    fn failed(name: &str) -> AgentRun {
        let mut r = AgentRun::blank(
            name,
            AgentKind::Command,
            Outcome::failed(FailureKind::Crashed, "exit 1", "see stderr"),
        );
        r.answer = None;
        r
    }

    fn builtin() -> AgentRun {
        AgentRun::blank("builtin", AgentKind::Builtin, Outcome::Ok)
    }

    #[test]
    fn no_model_reviewer_no_verdict() {
        assert_eq!(
            verdict(&[], &[]),
            (
                None,
                "no model reviewer ran; nothing reviewed the change.".to_string()
            )
        );
        assert_eq!(
            verdict(&[builtin()], &[]),
            (
                None,
                "no model reviewer ran; only the builtin checks did, and they cannot judge the change as a whole."
                    .to_string()
            )
        );
        assert_eq!(
            verdict(&[failed("claude"), failed("codex")], &[]).1,
            "no model reviewer answered (claude, codex failed); nothing reviewed the change."
        );
    }

    #[test]
    fn the_highest_reported_severity_decides() {
        let runs = [run("codex", Vec::new())];
        assert_eq!(
            verdict(&runs, &[]),
            (
                Some(Verdict::Merge),
                "no reviewer reported a problem that survived consolidation.".to_string()
            )
        );
        let findings = [
            consolidated("I1", Important, Status::Reported, &[("codex", Important)]),
            consolidated("H1", Critical, Status::HeldBack, &[("codex", Critical)]),
            consolidated("S1", Suggestion, Status::Reported, &[("codex", Suggestion)]),
        ];
        assert_eq!(
            verdict(&runs, &findings),
            (
                Some(Verdict::MergeWithFixes),
                "no critical findings, but important ones should be fixed before merging: I1 title of I1."
                    .to_string()
            )
        );
        assert_eq!(
            verdict(&runs, &findings[1..]).1,
            "no critical or important findings; 1 suggestion to consider."
        );
        let critical = [
            consolidated("C1", Critical, Status::Reported, &[("codex", Critical)]),
            consolidated("C2", Critical, Status::Reported, &[("codex", Critical)]),
        ];
        assert_eq!(
            verdict(&runs, &critical),
            (
                Some(Verdict::DoNotMerge),
                "critical findings must be resolved first: C1 title of C1; C2 title of C2."
                    .to_string()
            )
        );
    }
}
