//! What can go wrong with the review history database (`.deep-review/history.sqlite`).

use std::path::PathBuf;

/// Why the history database could not be opened, read or written. While a review runs this is
/// only a note on stderr: the history never fails a review. For `deep-review history` and
/// `stats` it is the command's error.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be opened or is not an SQLite database; SQLite's error is the source.
    /// Retrying helps only when another process held a lock for longer than the busy timeout.
    #[error("could not open the history database {} (check that you can write there; if it is damaged, move it away to start a new history)", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// A newer deep-review wrote it. Retrying does not help.
    #[error("the history database {} has schema version {found}, newer than version {known} that this deep-review knows; upgrade deep-review, or move the file away to start a new history", path.display())]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// A statement failed (a full disk, a lock held past the busy timeout, a damaged file).
    #[error("could not {what} the history database {}", path.display())]
    Sql {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// `deep-review history` or `stats` was asked about a repository that has no history yet.
    #[error("no history yet: {} does not exist; it is written by every `deep-review review` or `pr` whose reviews go to this repository's .deep-review/reviews (or the --out folder given here)", path.display())]
    Missing { path: PathBuf },
}
