//! Fetching a pull request: its metadata, commits, files and diff.

use super::client::Client;
use super::target::PrTarget;
use super::GitHubError;
use super::PrCommit;
use super::PrFile;
use super::PullRequest;

/// Everything fetched about a PR.
pub struct PrData {
    pub pr: PullRequest,
    pub commits: Vec<PrCommit>,
    pub files: usize,
    /// The diff from the API, or None to compute it with git.
    pub diff: Option<String>,
}

/// PRs with more files than this get their diff from git (the API lists at most 3000 files
/// and refuses diffs of very large PRs).
pub const API_FILE_LIMIT: usize = 300;

pub async fn fetch(client: &Client, t: &PrTarget) -> Result<PrData, GitHubError> {
    let base = format!("/repos/{}/{}/pulls/{}", t.owner, t.repo, t.number);
    let what = format!("fetch {}#{}", t.slug(), t.number);
    let pr: PullRequest = client.get(&base, &what).await?;
    let commits: Vec<PrCommit> = client
        .get_all(&format!("{base}/commits"), &what, 250)
        .await?;
    let files: Vec<PrFile> = client
        .get_all(&format!("{base}/files"), &what, 3000)
        .await?;
    let diff = if files.len() > API_FILE_LIMIT {
        None
    } else {
        client.diff(t).await?
    };
    Ok(PrData {
        pr,
        commits,
        files: files.len(),
        diff,
    })
}
