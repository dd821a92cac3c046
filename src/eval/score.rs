//! Scoring one configuration on a set of PRs.
//!
//! Each tool's findings are fed through the same [`consolidate`] as live reviews, the way the
//! benchmark's README prescribes (severity important, title and body both the text, no
//! locations, the tool's name as the agent's name), and scored per PR, summed over PRs:
//! pairwise clustering precision/recall/F1 over cross-reviewer pairs with at least one
//! labelled member, and reported-set precision/recall/F1 against the human-confirmed issues.

use super::dataset::Pr;
use super::dataset::TextFinding;
use crate::consolidate;
use crate::finding::Answer;
use crate::finding::Finding;
use crate::finding::Severity;
use crate::record::AgentRun;
use crate::review::ChangeSummary;
use crate::review::Status;
use serde::Serialize;
use std::collections::BTreeSet;
use std::collections::HashMap;

/// Precision, recall and F1 from counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    pub(crate) fn from(tp: f64, predicted: f64, actual: f64) -> Prf {
        let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
        let recall = if actual > 0.0 { tp / actual } else { 0.0 };
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// The two knobs `--tune-on` searches (see [`consolidate::Options`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Knobs {
    pub agreement_fraction: f64,
    pub merge_threshold: f64,
}

impl Knobs {
    pub fn of(opts: &consolidate::Options) -> Knobs {
        Knobs {
            agreement_fraction: opts.agreement_fraction,
            merge_threshold: opts.merge_threshold,
        }
    }

    pub fn apply(self, base: &consolidate::Options) -> consolidate::Options {
        consolidate::Options {
            agreement_fraction: self.agreement_fraction,
            merge_threshold: self.merge_threshold,
            ..base.clone()
        }
    }
}

/// How a row's knobs were chosen by `--tune-on`/`--cross`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tuning {
    /// The fold the knobs were chosen on.
    pub fold: String,
    /// The reported-set F1 the chosen knobs reach on that fold.
    pub f1: f64,
    /// The reported-set F1 of the same configuration on this row's PRs with the knobs
    /// before tuning (the defaults, or the overrides given on the command line).
    pub untuned_f1: f64,
    /// How many grid points were scored.
    pub points: usize,
}

/// The scores of one configuration over a set of PRs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scores {
    pub label: String,
    /// The repository these PRs are from; `None` for the whole dataset. After tuning, the
    /// folds reported on, joined with `+`.
    pub fold: Option<String>,
    /// The PRs scored.
    pub prs: usize,
    /// The consolidation knobs used; `None` for a tool alone (nothing is consolidated).
    pub knobs: Option<Knobs>,
    /// Set when the knobs were chosen on another fold.
    pub tuned: Option<Tuning>,
    pub findings: usize,
    pub clusters: usize,
    pub reported: usize,
    /// Reported findings per PR: what a user reads on each pull request.
    pub findings_per_pr: f64,
    pub clustering: Prf,
    pub reported_set: Prf,
    /// Pair counts behind `clustering`: merged correctly, merged wrongly, missed.
    pub pairs: (usize, usize, usize),
}

fn run_of(tool: &str, findings: &[TextFinding]) -> AgentRun {
    let mut answer = Answer::empty();
    answer.findings = findings
        .iter()
        .map(|f| Finding {
            severity: Severity::Important,
            title: f.text.clone(),
            body: f.text.clone(),
            locations: Vec::new(),
            fix: None,
            scope: None,
            category: None,
            confidence: None,
        })
        .collect();
    AgentRun::from_answer(tool, answer)
}

fn empty_change() -> ChangeSummary {
    ChangeSummary::named("eval", "eval")
}

/// Consolidates the chosen tools' findings on every PR and scores the result. With
/// `explain`, each reported cluster is written to stderr with its members' labels (TP or
/// FP), to study what the policy reports.
pub fn evaluate(
    prs: &[&Pr],
    tools: Option<&[String]>,
    opts: &consolidate::Options,
    label: &str,
    explain: bool,
) -> Scores {
    let mut s = Scores {
        label: label.to_string(),
        prs: prs.len(),
        knobs: Some(Knobs::of(opts)),
        ..Scores::default()
    };
    let (mut tp_reported, mut golden_total, mut golden_found) = (0usize, 0usize, 0usize);
    for pr in prs {
        let chosen: Vec<(&String, &Vec<TextFinding>)> = pr
            .agents
            .iter()
            .filter(|(name, _)| tools.is_none_or(|t| t.iter().any(|x| x == *name)))
            .collect();
        let runs: Vec<AgentRun> = chosen.iter().map(|(n, f)| run_of(n, f)).collect();
        let review = consolidate::consolidate(
            consolidate::Input {
                judge: None,
                runs: &runs,
                tree: None,
                change: empty_change(),
                unavailable: Vec::new(),
                id: pr.pr.clone(),
                created_at: String::new(),
                wall_clock_ms: 0,
                partial: false,
            },
            opts,
        );
        // (agent, index) → cluster number, and each finding's labels.
        let mut cluster_of: HashMap<(String, usize), usize> = HashMap::new();
        for (ci, f) in review.findings.iter().enumerate() {
            for m in &f.members {
                cluster_of.insert((m.agent.clone(), m.index), ci);
            }
        }
        let labels_of = |agent: &str, index: usize| -> BTreeSet<String> {
            let id = chosen
                .iter()
                .find(|(n, _)| n.as_str() == agent)
                .and_then(|(_, f)| f.get(index))
                .map(|f| f.id.clone())
                .unwrap_or_default();
            pr.labels
                .get(&id)
                .map(|l| l.iter().cloned().collect())
                .unwrap_or_default()
        };
        let mut items: Vec<(String, usize, BTreeSet<String>)> = Vec::new();
        for (name, findings) in &chosen {
            for i in 0..findings.len() {
                items.push((name.to_string(), i, labels_of(name, i)));
            }
        }
        s.findings += items.len();
        s.clusters += review.findings.len();
        // Reported set.
        let mut found: BTreeSet<String> = BTreeSet::new();
        for f in review
            .findings
            .iter()
            .filter(|f| f.status == Status::Reported)
        {
            s.reported += 1;
            let mut any = false;
            for m in &f.members {
                let l = labels_of(&m.agent, m.index);
                any |= !l.is_empty();
                found.extend(l);
            }
            if explain {
                eprintln!(
                    "{} [{}] {}",
                    if any { "TP" } else { "FP" },
                    f.agreement,
                    pr.title
                );
                for m in &f.members {
                    eprintln!(
                        "    {:?} {}: {}",
                        labels_of(&m.agent, m.index),
                        m.agent,
                        m.title.chars().take(110).collect::<String>()
                    );
                }
            }
            if any {
                tp_reported += 1;
            }
        }
        let golden: BTreeSet<&str> = pr.golden.iter().map(|g| g.id.as_str()).collect();
        golden_total += golden.len();
        golden_found += found.iter().filter(|g| golden.contains(g.as_str())).count();
        // Pairwise clustering over cross-reviewer pairs with at least one labelled member.
        for a in 0..items.len() {
            for b in a + 1..items.len() {
                let (x, y) = (&items[a], &items[b]);
                if x.0 == y.0 || (x.2.is_empty() && y.2.is_empty()) {
                    continue;
                }
                let should = x.2.intersection(&y.2).next().is_some();
                let same =
                    cluster_of.get(&(x.0.clone(), x.1)) == cluster_of.get(&(y.0.clone(), y.1));
                match (should, same) {
                    (true, true) => s.pairs.0 += 1,
                    (false, true) => s.pairs.1 += 1,
                    (true, false) => s.pairs.2 += 1,
                    (false, false) => {}
                }
            }
        }
    }
    let (good, wrong, missed) = s.pairs;
    s.clustering = Prf::from(good as f64, (good + wrong) as f64, (good + missed) as f64);
    s.reported_set = Prf {
        precision: if s.reported > 0 {
            tp_reported as f64 / s.reported as f64
        } else {
            0.0
        },
        recall: if golden_total > 0 {
            golden_found as f64 / golden_total as f64
        } else {
            0.0
        },
        f1: 0.0,
    };
    let (p, r) = (s.reported_set.precision, s.reported_set.recall);
    s.reported_set.f1 = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    s.findings_per_pr = per_pr(s.reported, s.prs);
    s
}

fn per_pr(n: usize, prs: usize) -> f64 {
    if prs > 0 {
        n as f64 / prs as f64
    } else {
        0.0
    }
}

/// One tool alone, as the README scores it: each finding its own cluster, all reported.
pub fn single_tool(prs: &[&Pr], tool: &str) -> Scores {
    let mut s = Scores {
        label: format!("{tool} alone"),
        prs: prs.len(),
        ..Scores::default()
    };
    let (mut tp, mut golden_total, mut golden_found) = (0usize, 0usize, 0usize);
    for pr in prs {
        golden_total += pr.golden.len();
        let Some(findings) = pr.agents.get(tool) else {
            continue;
        };
        let mut found = BTreeSet::new();
        for f in findings {
            s.findings += 1;
            s.reported += 1;
            if let Some(l) = pr.labels.get(&f.id).filter(|l| !l.is_empty()) {
                tp += 1;
                found.extend(l.iter().cloned());
            }
        }
        golden_found += pr.golden.iter().filter(|g| found.contains(&g.id)).count();
    }
    s.clusters = s.findings;
    s.findings_per_pr = per_pr(s.reported, s.prs);
    let p = if s.reported > 0 {
        tp as f64 / s.reported as f64
    } else {
        0.0
    };
    let r = if golden_total > 0 {
        golden_found as f64 / golden_total as f64
    } else {
        0.0
    };
    s.reported_set = Prf {
        precision: p,
        recall: r,
        f1: if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        },
    };
    s
}
