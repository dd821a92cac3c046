//! Which account the token posts as: only what it wrote is deep-review's own.

use super::client::Client;
use super::GitHubError;
use super::User;

/// The login GitHub Actions' `GITHUB_TOKEN` posts as.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// Names the account to trust as ours when `GET /user` cannot (a GitHub App's token).
pub const LOGIN_VAR: &str = "DEEP_REVIEW_GITHUB_LOGIN";

/// The account the token posts as: only reviews and comments it wrote are deep-review's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// The login, and how it was learned (for the log).
    Known { login: String, how: String },
    /// It could not be learned, and why; then nothing already on the PR is trusted.
    Unknown { why: String },
}

impl Account {
    pub fn login(&self) -> Option<&str> {
        match self {
            Account::Known { login, .. } => Some(login),
            Account::Unknown { .. } => None,
        }
    }

    /// Whether `author` is this account (logins are case-insensitive on GitHub).
    pub fn wrote(&self, author: Option<&str>) -> bool {
        matches!((self.login(), author), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
    }
}

/// Learns which account the token belongs to: `DEEP_REVIEW_GITHUB_LOGIN` when set, else
/// `GET /user` (user tokens), else `github-actions[bot]` for an app token inside GitHub
/// Actions (`GITHUB_ACTIONS=true`, where `GET /user` answers 403). Anything else is
/// [`Account::Unknown`]: guessing a login would let whoever holds it steer our posting.
pub async fn account(client: &Client) -> Result<Account, GitHubError> {
    if let Ok(login) = std::env::var(LOGIN_VAR) {
        if !login.trim().is_empty() {
            return Ok(Account::Known {
                login: login.trim().to_string(),
                how: format!("from {LOGIN_VAR}"),
            });
        }
    }
    let what = "learn the token's account (GET /user)";
    let page = client
        .send(
            reqwest::Method::GET,
            "/user",
            "application/vnd.github+json",
            None,
            what,
        )
        .await?;
    if page.status == 200 {
        if let Ok(user) = serde_json::from_str::<User>(&page.body) {
            return Ok(Account::Known {
                login: user.login,
                how: "from GET /user".into(),
            });
        }
    }
    if page.status == 401 {
        return Err(client.error(what, &page));
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        return Ok(Account::Known {
            login: ACTIONS_BOT.into(),
            how: format!(
                "GET /user answered {}, and this is GitHub Actions",
                page.status
            ),
        });
    }
    Ok(Account::Unknown {
        why: format!(
            "GET /user answered {} (an app token?), this is not GitHub Actions, and {LOGIN_VAR} is not set",
            page.status
        ),
    })
}
