//! The errors that end a command, and the exit codes they map to.
//!
//! A failed agent is not here: it is a result ([`crate::agent::Outcome`]) recorded in its
//! column of the review. These are the errors after which no review can be produced.
//!
//! [`Error`] is what a command returns. Each boundary has its own enum, kept here so that
//! every module can name it while this module stays a leaf of the module graph:
//! [`GitError`] (running git), [`GitHubError`] (the REST API), [`PrError`] (preparing or
//! publishing a pull request's review).

use std::path::PathBuf;

mod git;
mod github;
mod history;
mod pr;

pub use git::GitError;
pub use github::GitHubError;
pub use history::HistoryError;
pub use pr::PrError;

/// Exit codes, documented in the README.
pub mod exit_codes {
    /// A review was produced and nothing reached `--fail-on`.
    pub const OK: i32 = 0;
    /// A review was produced and a finding at or above `--fail-on` exists.
    pub const FINDINGS: i32 = 1;
    /// No review could be produced.
    pub const ERROR: i32 = 2;
    /// A review was produced, but every model reviewer that ran failed and only the builtin
    /// checks answered: the review has no verdict.
    pub const NO_MODEL_REVIEWER: i32 = 3;
}

/// What ends a command. A variant's message says what was wrong and what to do; the cause, when
/// there is one, is its `#[source]`, never part of its message: `main` prints the message, then
/// `: <cause>` for each error in the chain, so each cause appears exactly once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Retrying does not help: run inside a repository or pass `--repo`.
    #[error("{0} is not inside a git repository; run deep-review inside one, or pass --repo DIR")]
    NotARepository(PathBuf),
    #[error("unknown git ref `{0}`; check the name with `git rev-parse {0}` or fetch it first")]
    UnknownRef(String),
    #[error("no default branch found (tried origin/HEAD, main, master); pass --base REF")]
    NoDefaultBranch,
    #[error("nothing to review: {0}")]
    EmptyChange(String),
    /// git could not be run, or refused.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The GitHub API could not be reached, or refused.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// A pull request could not be prepared for review, or a saved one published.
    #[error(transparent)]
    Pr(#[from] PrError),
    #[error("invalid configuration in {path}: {message}")]
    Config { path: PathBuf, message: String },
    /// The review history could not be read (`deep-review history`, `stats`).
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("{0}")]
    Usage(String),
    #[error("no review could be produced: every reviewer failed")]
    AllAgentsFailed,
    /// A file or folder could not be read, created or removed; the OS error is the source.
    #[error("could not {what} {}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The review folder (or its round folder) could not be created: permissions, a full
    /// disk, or a file where the folder should be.
    #[error("could not create the review folder {} (check that you can write there, or pass --out DIR)", path.display())]
    ReviewFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A review artifact could not be written (full disk, permissions); nothing cut is left.
    #[error("could not write {} (free space on its disk, or pass --out DIR on another)", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// `what` is a verb that reads after "could not": `read`, `create`, `remove`.
    pub fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            what,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// `main` prints each error's message, then `: <source>` for each source: a message that
    /// also contains its source's text would print it twice.
    #[test]
    fn no_message_repeats_its_source() {
        let os = || std::io::Error::from_raw_os_error(libc::EACCES);
        let os_text = os().to_string();
        let errors = [
            Error::io("read", "/x/.deep-review.toml", os()),
            Error::ReviewFolder {
                path: "/x/r".into(),
                source: os(),
            },
            Error::Write {
                path: "/x/r/review.json".into(),
                source: os(),
            },
            Error::from(GitError::Spawn { source: os() }),
        ];
        for e in errors {
            let message = e.to_string();
            assert!(!message.contains(&os_text), "{message}");
            let source = e.source().expect("the OS error is the source").to_string();
            assert_eq!(source, os_text, "{message}");
        }
    }
}
