//! The review folder: `<root>/<YYYYMMDD-HHMMSS>-<suffix>/round-N/`, one round per review of
//! the same subject, claimed atomically so concurrent reviews never share one.

use crate::errors::Error;
use crate::errors::Result;
use crate::progress;
use std::path::Path;
use std::path::PathBuf;

/// Where a review goes: `<root>/<YYYYMMDD-HHMMSS>-<suffix>/round-N/`. A later review of the
/// same subject (the same PR, or the same local head) is the next round of the earlier
/// review's folder, so a PR's reviews after each push sit together.
pub struct ReviewFolder {
    pub review_dir: PathBuf,
    pub round_dir: PathBuf,
    pub id: String,
    pub round: u32,
}

impl ReviewFolder {
    pub fn open(
        root: &Path,
        suffix: &str,
        now: chrono::DateTime<chrono::Local>,
    ) -> Result<ReviewFolder> {
        let (review_dir, round) = Self::next(root, suffix, now);
        Self::claim(review_dir, round)
    }

    /// The review folder this subject's next round belongs in, and the round number it
    /// would take if nobody else claims it first.
    fn next(root: &Path, suffix: &str, now: chrono::DateTime<chrono::Local>) -> (PathBuf, u32) {
        let tail = format!("-{suffix}");
        let earlier = std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(&tail) && n.len() == tail.len() + 15)
            })
            .max();
        match earlier {
            Some(dir) => {
                let last = std::fs::read_dir(&dir)
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
                    .max()
                    .unwrap_or(0);
                (dir, last + 1)
            }
            None => (
                root.join(format!("{}{tail}", now.format("%Y%m%d-%H%M%S"))),
                1,
            ),
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
            let _ = std::fs::remove_dir(review_dir);
        }
    }
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
        ReviewFolder::open(root.path(), "pr-7", now).unwrap();
        // Both look before either claims: the interleaving of two reviews started together.
        let (dir_a, round_a) = ReviewFolder::next(root.path(), "pr-7", now);
        let (dir_b, round_b) = ReviewFolder::next(root.path(), "pr-7", now);
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
        let first = ReviewFolder::open(root.path(), "local-abc", now).unwrap();
        std::fs::write(first.round_dir.join("review.json"), "{}").unwrap();
        // A run that failed before any agent ran: its folder goes.
        let empty = ReviewFolder::open(root.path(), "local-abc", now).unwrap();
        assert_eq!(empty.round, 2);
        ReviewFolder::release(&empty.round_dir);
        assert!(!empty.round_dir.exists());
        // A run whose agents had printed something: kept, under a name that is not a round.
        let agents = ReviewFolder::open(root.path(), "local-abc", now).unwrap();
        assert_eq!(agents.round, 2, "the number was given back");
        std::fs::create_dir_all(agents.round_dir.join("agents/x")).unwrap();
        std::fs::write(agents.round_dir.join("agents/x/stdout.txt"), "kept").unwrap();
        ReviewFolder::release(&agents.round_dir);
        let kept = agents
            .review_dir
            .join("round-2.incomplete/agents/x/stdout.txt");
        assert_eq!(std::fs::read_to_string(kept).unwrap(), "kept");
        let next = ReviewFolder::open(root.path(), "local-abc", now).unwrap();
        assert_eq!(next.round, 2);
        // A written round is never given back.
        ReviewFolder::release(&first.round_dir);
        assert!(first.round_dir.join("review.json").exists());
        // A review folder whose only round was given back is removed too.
        let other = ReviewFolder::open(root.path(), "local-def", now).unwrap();
        ReviewFolder::release(&other.round_dir);
        assert!(!other.review_dir.exists());
    }
}
