//! The review pipeline's one call into the history: before the review's artifacts are
//! written, each agent's record so far goes into the retro, then the review is recorded.

use super::schema::Db;
use super::write::Subject;
use crate::change::Change;
use crate::errors::HistoryError;
use crate::progress;
use crate::review::Review;
use std::path::Path;
use std::path::PathBuf;

/// The history database for reviews written under `out_root` of the repository at
/// `repo_root`: `<X>/.deep-review/history.sqlite` beside the usual `<X>/.deep-review/reviews`
/// (for a PR reviewed inside a clone, X is that clone), else the repository's own
/// `<repo_root>/.deep-review/history.sqlite` (`--out DIR`; for a PR reviewed outside a
/// clone, the cached clone's).
pub fn location(out_root: &Path, repo_root: &Path) -> PathBuf {
    let usual = out_root.file_name().is_some_and(|n| n == "reviews")
        && out_root
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == ".deep-review");
    match (usual, out_root.parent()) {
        (true, Some(dot)) => dot.join("history.sqlite"),
        _ => repo_root.join(".deep-review").join("history.sqlite"),
    }
}

/// Adds each agent's record so far (from the history before this review) to `review`, then
/// records the review in one transaction. A failure never fails the review: it is a note on
/// stderr, and the review goes on without the records.
pub fn record(review: &mut Review, change: &Change, review_dir: &Path) {
    let Some(out_root) = review_dir.parent() else {
        return;
    };
    let path = location(out_root, &change.repo.root);
    if path.starts_with(&change.repo.root) {
        // With `--out` elsewhere nothing else has kept `.deep-review/` out of git (idempotent).
        let _ = change.repo.ensure_excluded();
    }
    if let Err(e) = try_record(review, change, &path) {
        let mut msg = format!("the review history was not updated: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(&format!(": {s}"));
            source = s.source();
        }
        progress::log(&msg);
    }
}

fn try_record(review: &mut Review, change: &Change, path: &Path) -> Result<(), HistoryError> {
    let mut db = Db::open(path)?;
    let records = super::stats::agent_records(&db, i64::MIN)?;
    for a in &mut review.agents {
        a.metrics.record = records.get(&a.name).cloned();
    }
    let subject = subject(review, change);
    super::write::write(&mut db, review, &subject, change)
}

/// Who the review is about: the PR, or the local branch, keyed as its review folder is
/// ([`crate::review_folder::subject`]), so the rounds of one folder are one subject here.
fn subject(review: &Review, change: &Change) -> Subject {
    let started = chrono::DateTime::parse_from_rfc3339(&review.created_at)
        .map(|t| t.timestamp())
        .unwrap_or_else(|_| chrono::Utc::now().timestamp());
    let crate::review_folder::Subject { key, branch } = crate::review_folder::subject(change);
    Subject {
        key,
        branch,
        started_unix: started,
        finished_unix: chrono::Utc::now().timestamp(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_sits_beside_the_reviews_folder_else_in_the_repository() {
        assert_eq!(
            location(
                Path::new("/r/.deep-review/reviews"),
                Path::new("/cache/r.git")
            ),
            PathBuf::from("/r/.deep-review/history.sqlite")
        );
        assert_eq!(
            location(Path::new("/tmp/out"), Path::new("/r")),
            PathBuf::from("/r/.deep-review/history.sqlite")
        );
    }
}
