//! The judge's edits, applied after the deterministic pass: merges and splits of the
//! clusters, severity calibrations and refutations by the IDs the judge saw, then its prose
//! (summary, verdict rationale, retro paragraphs, context updates) and its own column.

use super::metrics::agent_column;
use super::metrics::retro_paragraph;
use super::number::number;
use super::options::Options;
use super::pipeline::JudgeInput;
use super::verify::Item;
use super::vote::build_findings;
use super::vote::evidence;
use super::vote::report_status;
use crate::judge::JudgeAnswer;
use crate::record::AgentRun;
use crate::record::Outcome;
use crate::review::AttributedContextUpdate;
use crate::review::ConsolidatedFinding;
use crate::review::Review;
use crate::review::Role;
use crate::review::SeverityCounts;
use crate::review::Status;

/// The findings after the judge's edits, numbered anew.
pub(super) struct Edited {
    pub(super) clusters: Vec<Vec<usize>>,
    /// Built from `clusters`, one each, numbered.
    pub(super) findings: Vec<ConsolidatedFinding>,
    /// The display order, indexes into `findings`.
    pub(super) order: Vec<usize>,
    /// What was applied, for the review's notes.
    pub(super) note: String,
}

/// Applies the judge's merges, splits, calibrations and refutations to the numbered
/// `findings` (built from `clusters`), and numbers the result anew.
pub(super) fn edit_findings(
    j: &JudgeInput<'_>,
    clusters: &[Vec<usize>],
    findings: &[ConsolidatedFinding],
    items: &[Item],
    opts: &Options,
    min_agreement: usize,
) -> Edited {
    let ids: Vec<String> = findings.iter().map(|f| f.id.clone()).collect();
    let (clusters, origins) = restructure(j.answer, clusters, &ids, items);
    let mut findings = build_findings(&clusters, items, opts, min_agreement);
    for ((f, origin), members) in findings.iter_mut().zip(&origins).zip(&clusters) {
        let Some(origin) = origin else { continue };
        let member_items = members.iter().map(|&i| &items[i]);
        calibrate(f, origin, j, member_items, min_agreement);
    }
    let order = number(&mut findings);
    let note = format!(
        "Judge {}: {} merge(s), {} split(s), {} refutation(s), {} severity change(s) applied.",
        j.name,
        j.answer.merges.len(),
        j.answer.splits.len(),
        j.answer.refuted.len(),
        j.answer.severities.len()
    );
    Edited {
        clusters,
        findings,
        order,
        note,
    }
}

/// The judge's severity for the finding it knew as `origin` (its status decided again, unless
/// it was dropped), and its refutation, which drops it.
fn calibrate<'a>(
    f: &mut ConsolidatedFinding,
    origin: &str,
    j: &JudgeInput<'_>,
    members: impl Iterator<Item = &'a Item<'a>>,
    min_agreement: usize,
) {
    if let Some(c) = j.answer.severities.iter().find(|c| c.finding == origin) {
        let given: Vec<String> = f
            .severity_by_agent()
            .iter()
            .map(|(a, s)| format!("{a}: {s}"))
            .collect();
        f.severity = c.severity;
        f.calibration = format!(
            "{} (the judge, {}; the reviewers gave {}).",
            c.why.trim().trim_end_matches('.'),
            j.name,
            given.join(", ")
        );
        if f.status != Status::Dropped {
            let (verified, cited) = evidence(members);
            f.status = report_status(
                f.severity,
                f.agreement,
                min_agreement,
                verified,
                cited,
                f.confidence,
            );
        }
    }
    if let Some(r) = j.answer.refuted.iter().find(|r| r.finding == origin) {
        f.status = Status::Dropped;
        f.drop_reason = Some(format!(
            "refuted by the judge ({}): {}",
            j.name,
            r.why.trim()
        ));
    }
}

/// Applies the judge's merges and splits to the clusters. Returns the new clusters and, for
/// each, the ID it had before (None for a group split off), so calibrations and refutations
/// given by ID land on the right finding.
fn restructure(
    j: &JudgeAnswer,
    clusters: &[Vec<usize>],
    ids: &[String],
    items: &[Item],
) -> (Vec<Vec<usize>>, Vec<Option<String>>) {
    let mut clusters: Vec<Vec<usize>> = clusters.to_vec();
    let mut origins: Vec<Option<String>> = ids.iter().cloned().map(Some).collect();
    let index_of = |id: &str| ids.iter().position(|x| x == id);
    for m in &j.merges {
        let idx: Vec<usize> = m.findings.iter().filter_map(|f| index_of(f)).collect();
        if let Some((&first, rest)) = idx.split_first() {
            for &other in rest {
                if other != first {
                    let moved = std::mem::take(&mut clusters[other]);
                    clusters[first].extend(moved);
                }
            }
        }
    }
    for sp in &j.splits {
        let Some(ci) = index_of(&sp.finding) else {
            continue;
        };
        // The first group keeps the ID; each further group becomes its own finding.
        for group in sp.groups.iter().skip(1) {
            let members: Vec<usize> = clusters[ci]
                .iter()
                .copied()
                .filter(|&i| {
                    group
                        .iter()
                        .any(|m| m.agent == items[i].agent && m.index == items[i].index)
                })
                .collect();
            if members.is_empty() || members.len() == clusters[ci].len() {
                continue;
            }
            clusters[ci].retain(|i| !members.contains(i));
            clusters.push(members);
            origins.push(None);
        }
    }
    let keep: Vec<bool> = clusters.iter().map(|c| !c.is_empty()).collect();
    let clusters = clusters
        .into_iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| c)
        .collect();
    let origins = origins
        .into_iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(o, _)| o)
        .collect();
    (clusters, origins)
}

/// The judge's prose over the deterministic review: its summary, verdict rationale (only
/// when there is a verdict: with none, the rationale says why, and the judge cannot change
/// that), retro paragraphs and context updates; then its own column and its notes.
pub(super) fn apply_prose(review: &mut Review, j: JudgeInput<'_>, edit_note: String) {
    let a = j.answer;
    if let Some(text) = a.summary.as_deref().filter(|t| !t.trim().is_empty()) {
        review.summary = text.trim().to_string();
    }
    if let Some(text) = a
        .verdict_rationale
        .as_deref()
        .filter(|t| !t.trim().is_empty() && review.verdict.is_some())
    {
        review.verdict_rationale = text.trim().to_string();
    }
    for r in &a.retro {
        if let Some(col) = review.agents.iter_mut().find(|c| c.name == r.agent) {
            col.retro = r.text.trim().to_string();
        }
    }
    for u in &a.context_updates {
        review.context_updates.push(AttributedContextUpdate {
            action: u.action,
            note: u.note.clone(),
            why: u.why.clone(),
            agents: vec![j.name.clone()],
        });
    }
    let mut col = agent_column(j.run, &[]);
    col.role = Role::Judge;
    col.metrics.findings = SeverityCounts::default();
    col.retro = match &j.run.outcome {
        Outcome::Ok => format!(
            "Judged the {} consolidated finding{} in {}.",
            review.findings.len(),
            if review.findings.len() == 1 { "" } else { "s" },
            crate::util::human_duration(std::time::Duration::from_millis(j.run.stats.duration_ms))
        ),
        Outcome::Failed { .. } => retro_paragraph(&col, &[]),
    };
    review.agents.push(col);
    review.notes.extend(j.notes);
    review.notes.push(edit_note);
}

/// A judge that ran but whose answer could not be used: its column and a note, nothing else.
pub fn add_failed_judge(review: &mut Review, run: &AgentRun, why: &str) {
    let mut col = agent_column(run, &[]);
    col.role = Role::Judge;
    col.retro = match &run.outcome {
        Outcome::Ok => format!("Answered, but its answer was ignored: {why}."),
        Outcome::Failed { .. } => retro_paragraph(&col, &[]),
    };
    review.agents.push(col);
    review.notes.push(crate::secrets::redact_text(&format!(
        "Judge {}: {why}; the deterministic review stands.",
        run.name
    )));
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::finding;
    use super::super::fixtures::items;
    use super::super::fixtures::run;
    use super::*;
    use crate::finding::Finding;
    use crate::finding::Severity;
    use crate::judge::Calibration;
    use crate::judge::MemberRef;
    use crate::judge::Merge;
    use crate::judge::Refutation;
    use crate::judge::Split;

    fn given() -> [(&'static str, Finding); 3] {
        [
            ("claude", finding(Severity::Important, "race on client", "")),
            (
                "codex",
                finding(Severity::Important, "race on client too", ""),
            ),
            ("gemini", finding(Severity::Suggestion, "missing docs", "")),
        ]
    }

    fn judge<'a>(answer: &'a JudgeAnswer, run: &'a AgentRun) -> JudgeInput<'a> {
        JudgeInput {
            name: "opus".into(),
            answer,
            run,
            notes: Vec::new(),
        }
    }

    fn ids(e: &Edited) -> Vec<(String, Vec<usize>)> {
        let mut out: Vec<(String, Vec<usize>)> = e
            .findings
            .iter()
            .zip(&e.clusters)
            .map(|(f, c)| (f.id.clone(), c.clone()))
            .collect();
        out.sort();
        out
    }

    /// The deterministic pass over `clusters`, numbered, then the judge's edits.
    fn edit(answer: &JudgeAnswer, clusters: &[Vec<usize>]) -> Edited {
        let g = given();
        let it = items(&g);
        let opts = Options::default();
        let mut findings = build_findings(clusters, &it, &opts, 2);
        number(&mut findings);
        let r = run("opus", Vec::new());
        edit_findings(&judge(answer, &r), clusters, &findings, &it, &opts, 2)
    }

    #[test]
    fn no_edits_change_nothing() {
        let e = edit(&JudgeAnswer::default(), &[vec![0, 1], vec![2]]);
        assert_eq!(
            ids(&e),
            vec![("H1".to_string(), vec![2]), ("I1".to_string(), vec![0, 1])]
        );
        assert_eq!(
            e.note,
            "Judge opus: 0 merge(s), 0 split(s), 0 refutation(s), 0 severity change(s) applied."
        );
    }

    #[test]
    fn a_merge_joins_findings_and_a_split_separates_them() {
        let merged = JudgeAnswer {
            merges: vec![Merge {
                findings: vec!["I1".into(), "H1".into()],
                why: String::new(),
            }],
            ..JudgeAnswer::default()
        };
        let e = edit(&merged, &[vec![0, 1], vec![2]]);
        assert_eq!(ids(&e), vec![("I1".to_string(), vec![0, 1, 2])]);
        let split = JudgeAnswer {
            splits: vec![Split {
                finding: "I1".into(),
                groups: vec![
                    vec![MemberRef {
                        agent: "claude".into(),
                        index: 0,
                    }],
                    vec![MemberRef {
                        agent: "codex".into(),
                        index: 0,
                    }],
                ],
                why: String::new(),
            }],
            ..JudgeAnswer::default()
        };
        let e = edit(&split, &[vec![0, 1], vec![2]]);
        // One agent each, no citation: all three are held back now.
        assert_eq!(
            ids(&e),
            vec![
                ("H1".to_string(), vec![0]),
                ("H2".to_string(), vec![1]),
                ("H3".to_string(), vec![2]),
            ]
        );
    }

    #[test]
    fn a_split_naming_no_one_or_everyone_and_unknown_ids_are_ignored() {
        let answer = JudgeAnswer {
            merges: vec![Merge {
                findings: vec!["X9".into()],
                why: String::new(),
            }],
            splits: vec![Split {
                finding: "I1".into(),
                groups: vec![
                    vec![],
                    vec![MemberRef {
                        agent: "nobody".into(),
                        index: 0,
                    }],
                ],
                why: String::new(),
            }],
            ..JudgeAnswer::default()
        };
        let e = edit(&answer, &[vec![0, 1], vec![2]]);
        assert_eq!(
            ids(&e),
            vec![("H1".to_string(), vec![2]), ("I1".to_string(), vec![0, 1])]
        );
    }

    #[test]
    fn a_calibration_changes_severity_and_status_and_a_refutation_drops() {
        let answer = JudgeAnswer {
            severities: vec![Calibration {
                finding: "H1".into(),
                severity: Severity::Critical,
                why: "It loses data.".into(),
            }],
            refuted: vec![Refutation {
                finding: "I1".into(),
                why: " the lock is held by the caller ".into(),
            }],
            ..JudgeAnswer::default()
        };
        let e = edit(&answer, &[vec![0, 1], vec![2]]);
        // The critical one cites nothing, so it is still held back.
        assert_eq!(
            ids(&e),
            vec![("D1".to_string(), vec![0, 1]), ("H1".to_string(), vec![2])]
        );
        let held = e.findings.iter().find(|f| f.id == "H1").unwrap();
        assert_eq!(held.severity, Severity::Critical);
        assert_eq!(
            held.calibration,
            "It loses data (the judge, opus; the reviewers gave gemini: suggestion)."
        );
        let dropped = e.findings.iter().find(|f| f.id == "D1").unwrap();
        assert_eq!(
            dropped.drop_reason.as_deref(),
            Some("refuted by the judge (opus): the lock is held by the caller")
        );
    }

    #[test]
    fn a_failed_judge_adds_its_column_and_a_note() {
        let mut review = crate::consolidate::consolidate(
            super::super::fixtures::input(&[], None),
            &Options::default(),
        );
        add_failed_judge(&mut review, &run("opus", Vec::new()), "no JSON");
        let col = review.agents.last().unwrap();
        assert_eq!(col.role, Role::Judge);
        assert_eq!(col.retro, "Answered, but its answer was ignored: no JSON.");
        assert_eq!(
            review.notes,
            vec!["Judge opus: no JSON; the deterministic review stands."]
        );
    }
}
