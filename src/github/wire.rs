//! The REST API's answers, as far as deep-review reads them.

use serde::Deserialize;
use serde::Serialize;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct User {
    pub login: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Label {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RepoInfo {
    pub clone_url: String,
    #[serde(default)]
    pub private: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Branch {
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub sha: String,
    pub repo: Option<RepoInfo>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    pub user: User,
    #[serde(default)]
    pub labels: Vec<Label>,
    pub base: Branch,
    pub head: Branch,
    #[serde(default)]
    pub changed_files: Option<u64>,
    #[serde(default)]
    pub html_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CommitAuthor {
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub date: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CommitInner {
    pub message: String,
    pub author: Option<CommitAuthor>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Sha {
    pub sha: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PrCommit {
    pub sha: String,
    pub commit: CommitInner,
    #[serde(default)]
    pub parents: Vec<Sha>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PrFile {
    pub filename: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    /// Who wrote it; GitHub sends `null` for deleted accounts.
    #[serde(default)]
    pub user: Option<User>,
    /// The reactions summary GitHub adds to review comments.
    #[serde(default, skip_serializing)]
    pub reactions: Option<Reactions>,
}

/// A comment's reactions, counted by kind (only the one deep-review reads).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Reactions {
    #[serde(rename = "-1", default)]
    pub thumbs_down: u64,
}

impl Comment {
    /// The author's login, when GitHub names one.
    pub fn author(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.login.as_str())
    }
}
