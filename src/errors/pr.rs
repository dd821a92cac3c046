//! What can go wrong preparing a pull request for review, or publishing a saved one.

use std::path::PathBuf;

/// Why a pull request could not be prepared for review, or a saved one published. GitHub's
/// and git's own failures are [`crate::github::GitHubError`] and [`super::GitError`].
#[derive(Debug, thiserror::Error)]
pub enum PrError {
    /// The cached clone could not fetch the PR; git's error is the source. Retrying helps
    /// when the network was the cause.
    #[error("could not fetch pull request {number} from {url} into the cached clone; check that the URL is reachable from here, then try again")]
    Fetch {
        number: u64,
        url: String,
        #[source]
        source: super::GitError,
    },
    /// The API named a commit the fetch did not bring: the branch moved in between.
    #[error("the PR's {which} commit {sha} is not in {url} after fetching; was the branch force-pushed? Try again")]
    MissingCommit {
        which: &'static str,
        sha: String,
        url: String,
    },
    /// A saved review's file is not what `deep-review pr` writes.
    #[error("{} is not what `deep-review pr` saved; publish takes the folder of a `deep-review pr` review", path.display())]
    SavedFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}
