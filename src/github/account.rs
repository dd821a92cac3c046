//! Which account the token posts as: only what it wrote is deep-review's own.

use super::client::Client;
use super::target::PrTarget;
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
/// `GET /user` (user tokens), else the author GitHub names for a pending review the token
/// creates and deletes at once (an app token, Actions' `GITHUB_TOKEN` included), else, for a
/// dry run inside GitHub Actions (`GITHUB_ACTIONS=true`), `github-actions[bot]`. Anything else
/// is [`Account::Unknown`]: guessing a login would let whoever holds it steer our posting.
pub async fn account(
    client: &Client,
    t: &PrTarget,
    may_write: bool,
) -> Result<Account, GitHubError> {
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
    // Inside GitHub Actions a 403 is Actions' own token (github-actions[bot]) or a GitHub
    // App's (its own bot), so the pending review is asked there too: an app's token is not
    // taken for the Actions bot. Only a dry run, which cannot ask, assumes the Actions bot.
    let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    let why = match in_actions {
        true => format!("GET /user answered {} in GitHub Actions", page.status),
        false => format!(
            "GET /user answered {} (an app token?), this is not GitHub Actions, and {LOGIN_VAR} is not set",
            page.status
        ),
    };
    if !may_write {
        return Ok(match in_actions {
            true => Account::Known {
                login: ACTIONS_BOT.into(),
                how: format!("{why}, and a dry run does not ask GitHub with a pending review"),
            },
            false => Account::Unknown {
                why: format!("{why}; a dry run does not ask GitHub with a pending review"),
            },
        });
    }
    match from_a_pending_review(client, t).await? {
        Ok(login) => {
            crate::progress::log(&format!(
                "the token posts as {login}: GitHub named it as the author of a pending review, deleted at once (GET /user answered {})",
                page.status
            ));
            Ok(Account::Known {
                login,
                how: "the author of a pending review GitHub made for it".into(),
            })
        }
        Err(no) => Ok(Account::Unknown {
            why: format!("{why}, and {no}"),
        }),
    }
}

/// The author GitHub names for a pending review the token creates on the PR (seen by nobody,
/// notifying no one), which is deleted at once. `Err` says why not.
async fn from_a_pending_review(
    client: &Client,
    t: &PrTarget,
) -> Result<Result<String, String>, GitHubError> {
    let reviews = format!("/repos/{}/{}/pulls/{}/reviews", t.owner, t.repo, t.number);
    let (status, v) = client
        .write(
            reqwest::Method::POST,
            &reviews,
            &serde_json::json!({}),
            "learn the token's account (a pending review)",
        )
        .await?;
    let Some(id) = v["id"].as_u64().filter(|_| (200..300).contains(&status)) else {
        return Ok(Err(format!(
            "a pending review to learn it was answered {status} ({})",
            v["errors"]
                .get(0)
                .or(v.get("message"))
                .and_then(|m| m.as_str())
                .unwrap_or("no message")
        )));
    };
    let login = v["user"]["login"].as_str().map(str::to_string);
    let (deleted, _) = client
        .delete(&format!("{reviews}/{id}"), "delete the pending review")
        .await?;
    if !(200..300).contains(&deleted) {
        crate::progress::log(&format!(
            "could not delete pending review {id} (GitHub answered {deleted}); delete it on the PR page"
        ));
    }
    Ok(login.ok_or_else(|| "GitHub named no author for the pending review".to_string()))
}
