//! Rounds: which review of a subject this is, what it reviews (the delta since the head the
//! previous round reviewed, or the whole change and why), and what became of the previous
//! round's findings.
//!
//! Round N of a subject follows its latest complete round (an interrupted one heard only
//! some agents). It is incremental when the previous head is an ancestor of this head and
//! the base is the same; otherwise, or with `--full`, it is a full review whose report says
//! why. A round whose head and base are the previous round's is not run without `--rerun`.

use crate::change::Change;
use crate::change::DIFF_ARGS;
use crate::consolidate::lifecycle;
use crate::diff::FileDiff;
use crate::history::write::cited_code;
use crate::history::write::code_still_there;
use crate::prompt::OpenFinding;
use crate::prompt::RoundBrief;
use crate::report::sarif::fingerprint;
use crate::review::ConsolidatedFinding;
use crate::review::GoneFinding;
use crate::review::Review;
use crate::review::RoundMode;
use crate::review::Rounds;
use crate::review::Status;
use crate::tree_guard::HeadTree;

/// The previous complete round of the subject.
pub struct Previous {
    pub round: u32,
    pub review: Review,
    /// Findings of that round a person dismissed on their GitHub threads (held back when it
    /// was posted), by finding ID: who, how, and the thread's address.
    pub dismissed: Vec<Dismissed>,
}

/// A finding someone dismissed on its review thread, as `pr --post` recorded it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Dismissed {
    pub finding: String,
    pub by: String,
    pub how: String,
    pub url: String,
}

/// The dismissals recorded in a round folder's `github-plan.json` (none when it was not
/// posted, or the file is unreadable).
pub fn dismissed_in(round_dir: &std::path::Path) -> Vec<Dismissed> {
    #[derive(serde::Deserialize)]
    struct PlanFile {
        #[serde(default)]
        held_back: Vec<Dismissed>,
    }
    std::fs::read_to_string(round_dir.join("github-plan.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<PlanFile>(&t).ok())
        .map(|p| p.held_back)
        .unwrap_or_default()
}

/// What a round does.
pub enum Plan {
    /// The subject's first round.
    First,
    /// Nothing new since the previous round: not run (the message says so).
    Skip(String),
    /// A later round: incremental when `delta` is set, else full for `full_reason`.
    Later {
        previous: Box<Previous>,
        delta: Option<Vec<FileDiff>>,
        full_reason: Option<String>,
    },
}

/// What the user asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked {
    /// `--full`: review the whole change whatever the previous round.
    pub full: bool,
    /// `--rerun`: review even when nothing changed since the previous round.
    pub rerun: bool,
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

/// Decides what this round of `change` reviews, after `previous`.
pub fn plan(change: &Change, previous: Option<Previous>, asked: Asked) -> Plan {
    let Some(previous) = previous else {
        return Plan::First;
    };
    let before = &previous.review.change;
    let same = before.head_sha == change.head_sha
        && before.base_sha == change.base_sha
        && !before.uncommitted
        && !change.uncommitted;
    if same && !asked.rerun {
        return Plan::Skip(format!(
            "no new commits since round {} reviewed {}, so there is nothing new to review (the review is {}); pass --rerun to review it again",
            previous.round,
            short(&before.head_sha),
            previous.review.id
        ));
    }
    let (delta, full_reason) = match delta(change, &previous, asked, same) {
        Ok(d) => (Some(d), None),
        Err(why) => (None, Some(why)),
    };
    Plan::Later {
        previous: Box::new(previous),
        delta,
        full_reason,
    }
}

/// The diff from the previous round's head to this one, or why this round is a full review.
fn delta(
    change: &Change,
    previous: &Previous,
    asked: Asked,
    same: bool,
) -> Result<Vec<FileDiff>, String> {
    let before = &previous.review.change;
    let (old, new) = (short(&before.head_sha), short(&change.head_sha));
    if same {
        return Err(format!(
            "--rerun: round {} reviewed this same head {old}",
            previous.round
        ));
    }
    if asked.full {
        return Err("--full was given".into());
    }
    if change.uncommitted {
        return Err(
            "this round reviews the working tree (--uncommitted), which has no commit to diff from"
                .into(),
        );
    }
    if before.uncommitted {
        return Err(format!(
            "round {} reviewed the working tree (--uncommitted), which has no commit to diff from",
            previous.round
        ));
    }
    if before.base_sha != change.base_sha {
        return Err(format!(
            "the base moved from {} to {} (the branch was merged with or rebased onto a newer base?)",
            short(&before.base_sha),
            short(&change.base_sha)
        ));
    }
    if change.repo.resolve(&before.head_sha).is_err() {
        return Err(format!(
            "the previous head {old} is no longer in the repository (force-pushed?)"
        ));
    }
    let ancestor = change.repo.git(&[
        "merge-base",
        "--is-ancestor",
        &before.head_sha,
        &change.head_sha,
    ]);
    if ancestor.is_err() {
        return Err(format!(
            "the previous head {old} is not an ancestor of {new} (rebased?)"
        ));
    }
    let args = [&DIFF_ARGS[..], &[&before.head_sha, &change.head_sha, "--"]].concat();
    change
        .repo
        .git(&args)
        .map(|text| crate::diff::parse(&text))
        .map_err(|e| format!("the diff from the previous head {old} could not be read ({e})"))
}

impl Plan {
    /// What the brief says about the previous round.
    pub fn brief(&self) -> Option<RoundBrief> {
        let Plan::Later {
            previous,
            delta,
            full_reason,
        } = self
        else {
            return None;
        };
        let open = previous
            .review
            .reported()
            .map(|f| OpenFinding {
                id: f.id.clone(),
                severity: f.severity.as_str().to_string(),
                title: f.title.clone(),
                first_round: first_round(previous, f),
                dismissed: previous
                    .dismissed
                    .iter()
                    .find(|d| d.finding == f.id)
                    .map(|d| format!("by {} ({}) on {}", d.by, d.how, d.url)),
                citations: f
                    .locations
                    .iter()
                    .filter(|l| l.verified)
                    .map(|l| {
                        let quote = l.excerpt.as_ref().and_then(|e| {
                            e.lines
                                .get(l.start_line.checked_sub(e.start_line)? as usize)
                                .cloned()
                        });
                        (format!("{}:{}-{}", l.path, l.start_line, l.end_line), quote)
                    })
                    .collect(),
            })
            .collect();
        Some(RoundBrief {
            previous_round: previous.round,
            previous_head: previous.review.change.head_sha.clone(),
            delta: delta.clone(),
            full_reason: full_reason.clone(),
            open,
        })
    }

    /// The round's section of `review`: its mode, and the lifecycle of every finding against
    /// the previous round's, read against this head (`head`). None for a first round.
    pub fn rounds(&self, review: &Review, head: &dyn HeadTree, threshold: f64) -> Option<Rounds> {
        let Plan::Later {
            previous,
            delta,
            full_reason,
        } = self
        else {
            return None;
        };
        let before: Vec<&ConsolidatedFinding> = previous.review.reported().collect();
        let earlier: Vec<lifecycle::Finding> = before
            .iter()
            .map(|f| plain(f, first_round(previous, f)))
            .collect();
        let current: Vec<lifecycle::Finding> = review
            .findings
            .iter()
            .filter(|f| f.status != Status::Dropped)
            .map(|f| plain(f, 0))
            .collect();
        let changed = |p: &lifecycle::Finding| {
            before
                .iter()
                .find(|f| f.id == p.id)
                .and_then(|f| cited_code(f))
                // Without a verified citation there is no cited code to compare: withdrawn.
                .is_some_and(|c| !code_still_there(head, &c.path, c.lines, &c.hash))
        };
        let out =
            lifecycle::lifecycle(&earlier, &current, review.change.round, threshold, &changed);
        let gone = out
            .gone
            .into_iter()
            .filter_map(|g| {
                let f = before.iter().find(|f| f.id == g.id)?;
                Some(GoneFinding {
                    id: g.id,
                    status: g.status,
                    first_round: g.first_round,
                    severity: f.severity,
                    title: f.title.clone(),
                    location: f
                        .locations
                        .iter()
                        .find(|l| l.verified)
                        .map(|l| format!("{}:{}", l.path, l.start_line)),
                    fingerprint: Some(fingerprint(f)),
                })
            })
            .collect();
        Some(Rounds {
            previous_round: previous.round,
            previous_head: previous.review.change.head_sha.clone(),
            mode: if delta.is_some() {
                RoundMode::Incremental
            } else {
                RoundMode::Full
            },
            full_reason: full_reason.clone(),
            findings: out.current,
            gone,
        })
    }
}

/// The round a previous finding was first reported in: carried over from its own round's
/// lifecycle, else that round.
fn first_round(previous: &Previous, f: &ConsolidatedFinding) -> u32 {
    previous
        .review
        .lifecycle_of(&f.id)
        .map_or(previous.round, |l| l.first_round)
}

fn plain(f: &ConsolidatedFinding, first_round: u32) -> lifecycle::Finding {
    lifecycle::Finding {
        id: f.id.clone(),
        fingerprint: fingerprint(f),
        title: f.title.clone(),
        body: f.body.clone(),
        category: f.category.clone(),
        paths: f
            .locations
            .iter()
            .filter(|l| l.verified)
            .map(|l| l.path.clone())
            .collect(),
        first_round,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dismissals_are_read_from_the_rounds_github_plan() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            dismissed_in(dir.path()).is_empty(),
            "no plan, no dismissals"
        );
        std::fs::write(
            dir.path().join("github-plan.json"),
            r#"{"summary": "x", "held_back": [{"finding": "I2", "title": "t", "by": "alice", "how": "thumbs_down", "url": "https://gh/t/9"}]}"#,
        )
        .unwrap();
        assert_eq!(
            dismissed_in(dir.path()),
            vec![Dismissed {
                finding: "I2".into(),
                by: "alice".into(),
                how: "thumbs_down".into(),
                url: "https://gh/t/9".into(),
            }]
        );
        std::fs::write(dir.path().join("github-plan.json"), "not json").unwrap();
        assert!(dismissed_in(dir.path()).is_empty());
    }
}
