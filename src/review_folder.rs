//! The review folder: `<root>/<YYYYMMDD-HHMMSS>-<suffix>/round-N/`, one round per review of
//! the same subject, claimed atomically so concurrent reviews never share one.
//!
//! A subject is a PR (`owner/repo#12`) or a local branch (`repo:branch`); its key is written
//! in the review folder's `subject` file, so every later review of it, whatever its head,
//! is the next round of the same folder. The history keys its reviews the same way.

use crate::change::Change;
use crate::errors::Error;
use crate::errors::Result;
use crate::progress;
use crate::review::Review;
use std::path::Path;
use std::path::PathBuf;

/// The file in a review folder that names its subject.
const SUBJECT_FILE: &str = "subject";

/// Who a review is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// `owner/repo#12`, or `repo:branch` for a local review (`repo:<head sha>` for a
    /// detached head, which is its own subject).
    pub key: String,
    pub branch: Option<String>,
}

/// The subject of `change`: the PR, or the local branch (the head's branch name).
pub fn subject(change: &Change) -> Subject {
    match &change.pr {
        Some(p) => Subject {
            key: format!("{}#{}", change.repo_name, p.number),
            branch: None,
        },
        None => {
            let branch = if change.head_ref == "HEAD" {
                // Read with the range ([`Change::local`]), alongside its other git commands.
                change.head_branch.clone()
            } else {
                Some(change.head_ref.clone())
            };
            let name = branch.clone().unwrap_or_else(|| change.head_sha.clone());
            Subject {
                key: format!("{}:{name}", change.repo_name),
                branch,
            }
        }
    }
}

/// Where a review goes: `<root>/<YYYYMMDD-HHMMSS>-<suffix>/round-N/`. A later review of the
/// same subject (the same PR, or the same local branch) is the next round of the earlier
/// review's folder, so a PR's reviews after each push sit together.
pub struct ReviewFolder {
    pub review_dir: PathBuf,
    pub round_dir: PathBuf,
    pub id: String,
    pub round: u32,
    /// The subject's key ([`Subject::key`]).
    pub subject: String,
}

/// The subject's review folder so far: its last complete round, the baseline of the next.
pub struct Earlier {
    pub review_dir: PathBuf,
    /// The latest round that is not partial, and its review.
    pub complete: Option<(u32, Review)>,
}

impl ReviewFolder {
    /// Claims the next round of `subject` under `root`: in its review folder when it has one,
    /// else in a new folder named `<now>-<suffix>`.
    pub fn open(
        root: &Path,
        subject: &str,
        suffix: &str,
        now: chrono::DateTime<chrono::Local>,
    ) -> Result<ReviewFolder> {
        let (review_dir, round) = Self::next(root, subject, suffix, now);
        let mut folder = Self::claim(review_dir, round)?;
        folder.subject = subject.to_string();
        Ok(folder)
    }

    /// Names the folder's subject in its `subject` file, once a round of it is written (a
    /// folder whose first round failed is given back, not named).
    pub fn record_subject(&self) -> Result<()> {
        let file = self.review_dir.join(SUBJECT_FILE);
        if file.exists() {
            return Ok(());
        }
        crate::artifacts::write(&file, &format!("{}\n", self.subject))
    }

    /// The review folder of `subject` under `root`, newest first: the one whose `subject`
    /// file names it, or (written before subjects were recorded) one named `…-<suffix>`.
    pub fn find(root: &Path, subject: &str, suffix: &str) -> Option<PathBuf> {
        let tail = format!("-{suffix}");
        std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .filter(|p| match std::fs::read_to_string(p.join(SUBJECT_FILE)) {
                Ok(key) => key.trim_end() == subject,
                Err(_) => p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(&tail) && n.len() == tail.len() + 15),
            })
            .max()
    }

    /// The subject's folder and its latest complete round (the baseline of the next round).
    pub fn earlier(root: &Path, subject: &str, suffix: &str) -> Option<Earlier> {
        let review_dir = Self::find(root, subject, suffix)?;
        let mut rounds = round_numbers(&review_dir);
        rounds.sort_unstable();
        let complete = rounds.into_iter().rev().find_map(|n| {
            let path = review_dir.join(format!("round-{n}/review.json"));
            let text = std::fs::read_to_string(path).ok()?;
            let review: Review = serde_json::from_str(&text).ok()?;
            (!review.partial).then_some((n, review))
        });
        Some(Earlier {
            review_dir,
            complete,
        })
    }

    /// The review folder this subject's next round belongs in, and the round number it
    /// would take if nobody else claims it first.
    fn next(
        root: &Path,
        subject: &str,
        suffix: &str,
        now: chrono::DateTime<chrono::Local>,
    ) -> (PathBuf, u32) {
        match Self::find(root, subject, suffix) {
            Some(dir) => {
                let last = round_numbers(&dir).into_iter().max().unwrap_or(0);
                (dir, last + 1)
            }
            None => {
                // Another subject may have the same name this second (two branches at one
                // head): the first free `-N` after it.
                let name = format!("{}-{suffix}", now.format("%Y%m%d-%H%M%S"));
                let dir = (1..)
                    .map(|i| match i {
                        1 => root.join(&name),
                        _ => root.join(format!("{name}-{i}")),
                    })
                    .find(|d| match std::fs::read_to_string(d.join(SUBJECT_FILE)) {
                        Ok(key) => key.trim_end() == subject,
                        Err(_) => !d.exists(),
                    })
                    .unwrap_or_else(|| root.join(&name));
                (dir, 1)
            }
        }
    }

    /// Claims `round` in `review_dir`, or the first free number after it.
    fn claim(review_dir: PathBuf, round: u32) -> Result<ReviewFolder> {
        std::fs::create_dir_all(&review_dir).map_err(|source| Error::ReviewFolder {
            path: review_dir.clone(),
            source,
        })?;
        // Claimed with create_dir, which fails if the folder exists: a review running at the
        // same time that took this number makes us take the next one.
        let mut round = round;
        let round_dir = loop {
            let dir = review_dir.join(format!("round-{round}"));
            match std::fs::create_dir(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => round += 1,
                Err(source) => return Err(Error::ReviewFolder { path: dir, source }),
            }
        };
        let id = review_dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(ReviewFolder {
            review_dir,
            round_dir,
            id,
            round,
            subject: String::new(),
        })
    }

    /// Gives the round number back after a run that wrote no review.json, so the next review
    /// is not numbered past a round that does not exist. A round folder where agents already
    /// wrote output is renamed `round-N.incomplete` (what they printed is kept; the name no
    /// longer counts as a round); one holding only the brief is removed.
    pub fn release(round_dir: &Path) {
        if round_dir.join("review.json").exists() {
            return;
        }
        let received = ["agents", "judge"]
            .iter()
            .any(|d| round_dir.join(d).exists());
        if !received {
            let _ = std::fs::remove_dir_all(round_dir);
        } else {
            let name = round_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let target = (1..)
                .map(|i| match i {
                    1 => round_dir.with_file_name(format!("{name}.incomplete")),
                    _ => round_dir.with_file_name(format!("{name}.incomplete-{i}")),
                })
                .find(|p| !p.exists())
                .unwrap_or_else(|| round_dir.to_path_buf());
            if std::fs::rename(round_dir, &target).is_ok() {
                progress::log(&format!(
                    "no review was written; what the agents printed is kept in {}",
                    target.display()
                ));
            }
        }
        // A review folder this run created and nothing else uses goes too.
        if let Some(review_dir) = round_dir.parent() {
            let only_subject = std::fs::read_dir(review_dir)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .all(|e| e.file_name() == SUBJECT_FILE);
            if only_subject {
                let _ = std::fs::remove_file(review_dir.join(SUBJECT_FILE));
                let _ = std::fs::remove_dir(review_dir);
            }
        }
    }
}

/// The rounds of a review folder, by their `round-N` names.
fn round_numbers(review_dir: &Path) -> Vec<u32> {
    std::fs::read_dir(review_dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("round-")?
                .parse::<u32>()
                .ok()
        })
        .collect()
}

/// Finds review.json from a review folder, a round folder, or the file itself.
pub fn find_review_json(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    if path.join("review.json").is_file() {
        return Ok(path.join("review.json"));
    }
    // A review folder: the latest round.
    let mut rounds: Vec<(u32, PathBuf)> = std::fs::read_dir(path)
        .map_err(|e| Error::io("read", path, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix("round-")?.parse::<u32>().ok()?;
            Some((n, e.path()))
        })
        .filter(|(_, p)| p.join("review.json").is_file())
        .collect();
    rounds.sort();
    rounds
        .pop()
        .map(|(_, p)| p.join("review.json"))
        .ok_or_else(|| {
            Error::Usage(format!(
                "{} holds no review.json (nor a round-N folder with one); pass a review folder from .deep-review/reviews/",
                path.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_runs_that_chose_the_same_round_claim_different_ones() {
        let root = tempfile::tempdir().unwrap();
        let now = chrono::Local::now();
        ReviewFolder::open(root.path(), "o/r#7", "pr-7", now).unwrap();
        // Both look before either claims: the interleaving of two reviews started together.
        let (dir_a, round_a) = ReviewFolder::next(root.path(), "o/r#7", "pr-7", now);
        let (dir_b, round_b) = ReviewFolder::next(root.path(), "o/r#7", "pr-7", now);
        assert_eq!((round_a, round_b), (2, 2));
        let a = ReviewFolder::claim(dir_a, round_a).unwrap();
        let b = ReviewFolder::claim(dir_b, round_b).unwrap();
        assert_eq!((a.round, b.round), (2, 3));
        assert_ne!(a.round_dir, b.round_dir);
    }

    #[test]
    fn a_round_that_wrote_no_review_gives_its_number_back() {
        let root = tempfile::tempdir().unwrap();
        let now = chrono::Local::now();
        let first = ReviewFolder::open(root.path(), "r:main", "local-abc", now).unwrap();
        std::fs::write(first.round_dir.join("review.json"), "{}").unwrap();
        // A run that failed before any agent ran: its folder goes.
        let empty = ReviewFolder::open(root.path(), "r:main", "local-abc", now).unwrap();
        assert_eq!(empty.round, 2);
        ReviewFolder::release(&empty.round_dir);
        assert!(!empty.round_dir.exists());
        // A run whose agents had printed something: kept, under a name that is not a round.
        let agents = ReviewFolder::open(root.path(), "r:main", "local-abc", now).unwrap();
        assert_eq!(agents.round, 2, "the number was given back");
        std::fs::create_dir_all(agents.round_dir.join("agents/x")).unwrap();
        std::fs::write(agents.round_dir.join("agents/x/stdout.txt"), "kept").unwrap();
        ReviewFolder::release(&agents.round_dir);
        let kept = agents
            .review_dir
            .join("round-2.incomplete/agents/x/stdout.txt");
        assert_eq!(std::fs::read_to_string(kept).unwrap(), "kept");
        let next = ReviewFolder::open(root.path(), "r:main", "local-abc", now).unwrap();
        assert_eq!(next.round, 2);
        // A written round is never given back.
        ReviewFolder::release(&first.round_dir);
        assert!(first.round_dir.join("review.json").exists());
        // A review folder whose only round was given back is removed too.
        let other = ReviewFolder::open(root.path(), "r:other", "local-def", now).unwrap();
        ReviewFolder::release(&other.round_dir);
        assert!(!other.review_dir.exists());
    }

    #[test]
    fn a_subject_keeps_its_folder_whatever_its_head_and_another_gets_its_own() {
        let root = tempfile::tempdir().unwrap();
        let now = chrono::Local::now();
        let first = ReviewFolder::open(root.path(), "r:feature", "local-aaaa1111", now).unwrap();
        first.record_subject().unwrap();
        assert_eq!(
            std::fs::read_to_string(first.review_dir.join("subject")).unwrap(),
            "r:feature\n"
        );
        // A new head of the same branch: the next round of the same folder.
        let second = ReviewFolder::open(root.path(), "r:feature", "local-bbbb2222", now).unwrap();
        assert_eq!(
            (second.review_dir.clone(), second.round),
            (first.review_dir.clone(), 2)
        );
        // Another branch at the same head: its own folder.
        let later = now + chrono::Duration::seconds(1);
        let other = ReviewFolder::open(root.path(), "r:other", "local-aaaa1111", later).unwrap();
        assert_ne!(other.review_dir, first.review_dir);
        assert_eq!(other.round, 1);
        // The baseline is the latest complete round: a partial one is skipped.
        let review = |partial: bool| {
            serde_json::json!({
                "version": 1,
                "tool": {"name": "deep-review", "version": "0"},
                "id": "x",
                "created_at": "2026-01-01T00:00:00+00:00",
                "wall_clock_ms": 1,
                "partial": partial,
                "change": crate::review::ChangeSummary::named("r", "local"),
                "agents": [],
                "findings": [],
                "verdict_rationale": "",
                "summary": ""
            })
            .to_string()
        };
        std::fs::write(first.round_dir.join("review.json"), review(false)).unwrap();
        std::fs::write(second.round_dir.join("review.json"), review(true)).unwrap();
        let earlier = ReviewFolder::earlier(root.path(), "r:feature", "local-cccc").unwrap();
        assert_eq!(earlier.review_dir, first.review_dir);
        assert_eq!(earlier.complete.map(|(n, _)| n), Some(1));
        assert!(ReviewFolder::earlier(root.path(), "r:none", "local-cccc").is_none());
    }

    #[test]
    fn a_folder_written_before_subjects_is_found_by_its_name() {
        let root = tempfile::tempdir().unwrap();
        let old = root.path().join("20260101-120000-pr-7");
        std::fs::create_dir_all(old.join("round-1")).unwrap();
        let next = ReviewFolder::open(root.path(), "o/r#7", "pr-7", chrono::Local::now()).unwrap();
        assert_eq!((next.review_dir, next.round), (old, 2));
    }
}
