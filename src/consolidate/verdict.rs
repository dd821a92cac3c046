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
