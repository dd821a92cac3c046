//! The steps in order, from the runs to the masked [`Review`].

use super::cluster::cluster;
use super::judge_edits;
use super::metrics::agent_column;
use super::metrics::retro_paragraph;
use super::number::number;
use super::observations::collect_assessments;
use super::observations::collect_context_updates;
use super::observations::consolidate_observations;
use super::options::Options;
use super::replacement;
use super::summary::executive_summary;
use super::verdict::verdict;
use super::verify::verify_findings;
use super::vote::build_findings;
use super::vote::reconciliation;
use crate::record::AgentRun;
use crate::record::Unavailable;
use crate::review::AgentColumn;
use crate::review::ChangeSummary;
use crate::review::ConsolidatedFinding;
use crate::review::Reconciliation;
use crate::review::Review;
use crate::review::ToolInfo;
use crate::review::REVIEW_VERSION;
use crate::tree_guard::HeadTree;

/// A validated judge answer and the judge's own run.
pub struct JudgeInput<'a> {
    pub name: String,
    pub answer: &'a crate::judge::JudgeAnswer,
    pub run: &'a AgentRun,
    /// Parts of the answer that were ignored, and why.
    pub notes: Vec<String>,
}

/// Everything consolidation needs besides the runs.
pub struct Input<'a> {
    /// The judge's answer, applied after the deterministic pass.
    pub judge: Option<JudgeInput<'a>>,
    pub runs: &'a [AgentRun],
    pub tree: Option<&'a dyn HeadTree>,
    pub change: ChangeSummary,
    pub unavailable: Vec<Unavailable>,
    pub id: String,
    pub created_at: String,
    pub wall_clock_ms: u64,
    pub partial: bool,
}

pub fn consolidate(mut input: Input<'_>, opts: &Options) -> Review {
    let runs = input.runs;
    let answered: Vec<&AgentRun> = runs
        .iter()
        .filter(|r| r.outcome.is_ok() && r.answer.is_some())
        .collect();
    let min_agreement = opts.min_agreement(answered.len());
    // 1. Verify.
    let items = verify_findings(&answered, input.tree, opts.relocate_window);
    // 2. Cluster.
    let mut clusters = cluster(&items, opts);
    // 3. Vote a severity and a status per cluster.
    let mut findings = build_findings(&clusters, &items, opts, min_agreement);
    // 4. Number.
    let mut order = number(&mut findings);
    // The judge's edits, by the IDs it saw, then numbered anew.
    let judge = input.judge.take();
    let mut edit_note = None;
    if let Some(j) = &judge {
        let edited =
            judge_edits::edit_findings(j, &clusters, &findings, &items, opts, min_agreement);
        (clusters, findings, order) = (edited.clusters, edited.findings, edited.order);
        edit_note = Some(edited.note);
    }
    // Each finding's committable fix, once its members and ID are final.
    let replacement_notes = replacement::attach(&mut findings, &items, input.tree);
    // 5. Lifecycle (lifecycle.rs): applied by the round (crate::round) to the finished
    // review, whose IDs are final only after the judge; metrics and the verdict do not read it.
    let reconciliation = reconciliation(&findings, &clusters, &items);
    let ordered: Vec<ConsolidatedFinding> = order.iter().map(|&i| findings[i].clone()).collect();
    // 6. Measure, 7. the verdict, and the summary.
    let mut review = assemble(input, &answered, ordered, reconciliation, opts);
    if let (Some(j), Some(note)) = (judge, edit_note) {
        judge_edits::apply_prose(&mut review, j, note);
    }
    // What each answer's caps held back or cut (see crate::finding::MAX_FINDINGS).
    for run in runs {
        for n in run.answer.iter().flat_map(|a| &a.notes) {
            review.notes.push(format!("{}: {n}", run.name));
        }
    }
    review.notes.extend(replacement_notes);
    // Every string of the review masked once, before anything renders or writes it.
    crate::secrets::mask_value(review)
}

/// The deterministic review around the numbered findings, in display order: each agent's
/// column and retro, the observations, assessments and context updates, the verdict and the
/// executive summary.
fn assemble(
    input: Input<'_>,
    answered: &[&AgentRun],
    findings: Vec<ConsolidatedFinding>,
    reconciliation: Vec<Reconciliation>,
    opts: &Options,
) -> Review {
    let observations = consolidate_observations(answered, input.tree, opts);
    let assessments = collect_assessments(answered);
    let context_updates = collect_context_updates(answered);
    let mut agents: Vec<AgentColumn> = input
        .runs
        .iter()
        .map(|r| agent_column(r, &findings))
        .collect();
    let (verdict, verdict_rationale) = verdict(input.runs, &findings);
    for a in &mut agents {
        a.retro = retro_paragraph(a, &findings);
    }
    let mut review = Review {
        version: REVIEW_VERSION,
        tool: ToolInfo::current(),
        id: input.id,
        created_at: input.created_at,
        wall_clock_ms: input.wall_clock_ms,
        partial: input.partial,
        change: input.change,
        agents,
        unavailable: input.unavailable,
        findings,
        observations,
        assessments,
        reconciliation,
        context_updates,
        verdict,
        verdict_rationale,
        summary: String::new(),
        notes: Vec::new(),
        // Set by the round, which knows the previous one (lifecycle.rs).
        rounds: None,
    };
    review.summary = executive_summary(&review);
    review
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::cite;
    use super::super::fixtures::finding;
    use super::super::fixtures::input;
    use super::super::fixtures::located;
    use super::super::fixtures::run;
    use super::super::fixtures::Tree;
    use super::*;
    use crate::finding::Severity;
    use crate::judge::JudgeAnswer;
    use crate::review::Status;

    #[test]
    fn no_runs_give_an_empty_review_without_a_verdict() {
        let r = consolidate(input(&[], None), &Options::default());
        assert!(r.findings.is_empty() && r.agents.is_empty() && r.reconciliation.is_empty());
        assert_eq!(r.verdict, None);
        assert_eq!(
            r.verdict_rationale,
            "no model reviewer ran; nothing reviewed the change."
        );
    }

    #[test]
    fn one_agent_with_a_real_and_an_invented_citation() {
        let tree = Tree::default().with("src/a.rs", &["fn a() {", "    x.unwrap();", "}"]);
        let runs = [run(
            "codex",
            vec![
                located(
                    finding(Severity::Important, "unwrap panics", "x may be None"),
                    vec![cite("src/a.rs", 2, 2, Some("x.unwrap();"))],
                ),
                located(
                    finding(Severity::Critical, "sql injection", "query built by hand"),
                    vec![cite("src/a.rs", 40, 41, None)],
                ),
            ],
        )];
        let r = consolidate(input(&runs, Some(&tree)), &Options::default());
        let got: Vec<(&str, Status)> = r
            .findings
            .iter()
            .map(|f| (f.id.as_str(), f.status))
            .collect();
        assert_eq!(got, vec![("I1", Status::Reported), ("D1", Status::Dropped)]);
        assert_eq!(
            r.findings[1].drop_reason.as_deref(),
            Some("unverifiable: line 40 does not exist: `src/a.rs` has 3 lines")
        );
        assert_eq!(r.reconciliation.len(), 1);
        assert_eq!(r.reconciliation[0].finding, "D1");
        assert_eq!(r.verdict, Some(crate::finding::Verdict::MergeWithFixes));
        assert_eq!(r.agents[0].metrics.false_positives, 1);
    }

    #[test]
    fn the_judge_edits_findings_and_its_prose_replaces_the_deterministic_one() {
        let runs = [
            run(
                "claude",
                vec![finding(Severity::Important, "race on client", "")],
            ),
            run(
                "codex",
                vec![finding(Severity::Important, "race on client", "")],
            ),
        ];
        let answer = JudgeAnswer {
            summary: Some("  One race.  ".into()),
            verdict_rationale: Some("fix the race".into()),
            ..JudgeAnswer::default()
        };
        let judge_run = run("opus", Vec::new());
        let mut given = input(&runs, None);
        given.judge = Some(JudgeInput {
            name: "opus".into(),
            answer: &answer,
            run: &judge_run,
            notes: vec!["retro for `nobody` ignored".into()],
        });
        let r = consolidate(given, &Options::default());
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].id, "I1");
        assert_eq!(r.summary, "One race.");
        assert_eq!(r.verdict_rationale, "fix the race");
        assert_eq!(r.agents.len(), 3);
        assert_eq!(
            r.agents[2].retro,
            "Judged the 1 consolidated finding in 0.0s."
        );
        assert_eq!(
            r.notes,
            vec![
                "retro for `nobody` ignored".to_string(),
                "Judge opus: 0 merge(s), 0 split(s), 0 refutation(s), 0 severity change(s) applied."
                    .to_string(),
            ]
        );
    }
}
