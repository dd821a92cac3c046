//! GitHub: which pull request, the REST API client (pagination, rate limits, typed errors),
//! fetching a PR's metadata, commits and diff, and posting a review without duplicates.
//!
//! Nothing here decides what a review says; it moves data between GitHub and [`crate::review`].
//! Tokens are read from the environment or `gh auth token` and never printed.

use crate::errors::Error;
use crate::errors::Result;
use std::time::Duration;

mod wire;

pub use crate::errors::GitHubError;
pub use wire::*;

/// Which pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrTarget {
    pub owner: String,
    pub repo: String,
    pub number: u64,
    /// The API base URL, e.g. `https://api.github.com`.
    pub api: String,
}

impl PrTarget {
    pub fn slug(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }
}

/// The API base for a host: api.github.com for github.com, `https://HOST/api/v3` otherwise.
pub fn api_for_host(host: &str) -> String {
    if host == "github.com" || host.is_empty() {
        "https://api.github.com".into()
    } else {
        format!("https://{host}/api/v3")
    }
}

/// Parses `OWNER/REPO#N`, a PR URL, or a bare `N` (with `origin` naming the repository).
pub fn parse_target(
    text: &str,
    api_override: Option<&str>,
    origin_url: Option<&str>,
) -> Result<PrTarget> {
    let bad = || {
        Error::Usage(format!(
            "`{text}` is not a pull request; write OWNER/REPO#N, a PR URL (https://github.com/OWNER/REPO/pull/N), or N inside a clone whose origin is on GitHub"
        ))
    };
    let t = text.trim();
    let env_host = std::env::var("GH_HOST").ok().filter(|h| !h.is_empty());
    let api = |host: Option<&str>| -> String {
        api_override
            .map(|a| a.trim_end_matches('/').to_string())
            .or_else(|| host.map(api_for_host))
            .or_else(|| env_host.as_deref().map(api_for_host))
            .unwrap_or_else(|| api_for_host("github.com"))
    };
    if let Some(rest) = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
    {
        // HOST/OWNER/REPO/pull/N[/...]
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() >= 5 && parts[3] == "pull" {
            let number = parts[4]
                .split(['#', '?'])
                .next()
                .unwrap_or("")
                .parse()
                .map_err(|_| bad())?;
            return Ok(PrTarget {
                owner: parts[1].into(),
                repo: parts[2].trim_end_matches(".git").into(),
                number,
                api: api(Some(parts[0])),
            });
        }
        return Err(bad());
    }
    if let Some((slug, n)) = t.split_once('#') {
        let (owner, repo) = slug.split_once('/').ok_or_else(bad)?;
        let number = n.parse().map_err(|_| bad())?;
        if owner.is_empty() || repo.is_empty() {
            return Err(bad());
        }
        return Ok(PrTarget {
            owner: owner.into(),
            repo: repo.into(),
            number,
            api: api(None),
        });
    }
    if let Ok(number) = t.parse::<u64>() {
        let url = origin_url.ok_or_else(|| {
            Error::Usage(format!(
                "PR {number}: this directory has no `origin` remote to name the repository; write OWNER/REPO#{number}"
            ))
        })?;
        let slug = crate::change::owner_name_from_url(url).ok_or_else(bad)?;
        let (owner, repo) = slug.split_once('/').ok_or_else(bad)?;
        let host = url
            .split("://")
            .nth(1)
            .map(|r| r.split('/').next().unwrap_or(""))
            .or_else(|| {
                url.split_once('@')
                    .map(|(_, r)| r.split(':').next().unwrap_or(""))
            })
            .filter(|h| !h.is_empty() && !h.starts_with('/'));
        return Ok(PrTarget {
            owner: owner.into(),
            repo: repo.into(),
            number,
            api: api(host),
        });
    }
    Err(bad())
}

/// The token: GITHUB_TOKEN, GH_TOKEN, else `gh auth token` when gh is installed.
pub fn discover_token() -> Option<String> {
    for var in ["GITHUB_TOKEN", "GH_TOKEN"] {
        if let Ok(t) = std::env::var(var) {
            if !t.trim().is_empty() {
                return Some(t.trim().to_string());
            }
        }
    }
    crate::config::find_on_path("gh")?;
    let out = std::process::Command::new("gh")
        .args(["auth", "token"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let t = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !t.is_empty()).then_some(t)
}

/// How long one request may take, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long rate limits are waited out, in total, before giving up.
pub const MAX_RATE_WAIT: Duration = Duration::from_secs(120);

pub struct Client {
    http: reqwest::Client,
    api: String,
    token: Option<String>,
    /// Time left to wait out rate limits.
    wait_budget: std::sync::Mutex<Duration>,
}

/// A response we care about: status, body, and the `Link: rel="next"` URL.
struct Page {
    status: u16,
    body: String,
    next: Option<String>,
}

impl Client {
    pub fn new(api: &str, token: Option<String>) -> Result<Client, GitHubError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("deep-review/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|source| GitHubError::Client { source })?;
        Ok(Client {
            http,
            api: api.trim_end_matches('/').to_string(),
            token,
            wait_budget: std::sync::Mutex::new(MAX_RATE_WAIT),
        })
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.api)
        }
    }

    /// One request, with rate limits (403/429 with Retry-After or X-RateLimit-Reset) waited
    /// out within a bounded budget. `what` names the step for the error ("fetch o/r#7").
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        accept: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<Page, GitHubError> {
        loop {
            let mut req = self
                .http
                .request(method.clone(), self.url(path))
                .header("Accept", accept)
                .header("X-GitHub-Api-Version", "2022-11-28");
            if let Some(t) = &self.token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(|source| {
                let (what, api) = (what.to_string(), self.api.clone());
                if source.is_timeout() {
                    GitHubError::Timeout {
                        what,
                        api,
                        after: REQUEST_TIMEOUT,
                        source,
                    }
                } else {
                    GitHubError::Unreachable { what, api, source }
                }
            })?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let next = header("link").and_then(|l| next_link(&l));
            let text = resp.text().await.map_err(|source| GitHubError::Read {
                what: what.to_string(),
                api: self.api.clone(),
                source,
            })?;
            let limited = status == 429
                || (status == 403
                    && (header("retry-after").is_some()
                        || header("x-ratelimit-remaining").as_deref() == Some("0")));
            if limited {
                let wait = rate_wait(
                    header("retry-after").as_deref(),
                    header("x-ratelimit-reset").as_deref(),
                );
                let within_budget = {
                    let mut budget = self
                        .wait_budget
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let ok = wait <= *budget;
                    if ok {
                        *budget -= wait;
                    }
                    ok
                };
                if !within_budget {
                    return Err(GitHubError::RateLimited {
                        wait_secs: wait.as_secs(),
                        max_secs: MAX_RATE_WAIT.as_secs(),
                        has_token: self.token.is_some(),
                    });
                }
                crate::progress::log(&format!(
                    "GitHub rate limit reached; waiting {}s",
                    wait.as_secs().max(1)
                ));
                tokio::time::sleep(wait).await;
                continue;
            }
            return Ok(Page {
                status,
                body: text,
                next,
            });
        }
    }

    /// The error for a page whose status is not the one asked for: GitHub's `message` field
    /// (or the start of the body), classified by status.
    fn error(&self, what: &str, page: &Page) -> GitHubError {
        let message = serde_json::from_str::<serde_json::Value>(&page.body)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| page.body.trim().chars().take(200).collect());
        self.status_error(what, page.status, message, "read pull requests")
    }

    /// [`GitHubError::from_status`] for this client's token.
    pub fn status_error(
        &self,
        what: &str,
        status: u16,
        message: String,
        needs: &'static str,
    ) -> GitHubError {
        GitHubError::from_status(what, status, message, self.token.is_some(), needs)
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        body: &str,
    ) -> Result<T, GitHubError> {
        serde_json::from_str(body).map_err(|source| GitHubError::Decode {
            what: what.to_string(),
            api: self.api.clone(),
            source,
        })
    }

    pub async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<T, GitHubError> {
        let page = self
            .send(
                reqwest::Method::GET,
                path,
                "application/vnd.github+json",
                None,
                what,
            )
            .await?;
        if page.status != 200 {
            return Err(self.error(what, &page));
        }
        self.decode(what, &page.body)
    }

    /// Every page of a list endpoint, following `Link: rel="next"`.
    pub async fn get_all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
        cap: usize,
    ) -> Result<Vec<T>, GitHubError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{path}{sep}per_page=100");
        let mut out = Vec::new();
        loop {
            let page = self
                .send(
                    reqwest::Method::GET,
                    &url,
                    "application/vnd.github+json",
                    None,
                    what,
                )
                .await?;
            if page.status != 200 {
                return Err(self.error(what, &page));
            }
            let items: Vec<T> = self.decode(what, &page.body)?;
            out.extend(items);
            match page.next {
                Some(n) if out.len() < cap => url = n,
                _ => return Ok(out),
            }
        }
    }

    /// The PR's unified diff, or None when GitHub refuses it (too large).
    pub async fn diff(&self, t: &PrTarget) -> Result<Option<String>, GitHubError> {
        let path = format!("/repos/{}/{}/pulls/{}", t.owner, t.repo, t.number);
        let what = "fetch the PR's diff";
        let page = self
            .send(
                reqwest::Method::GET,
                &path,
                "application/vnd.github.v3.diff",
                None,
                what,
            )
            .await?;
        match page.status {
            200 => Ok(Some(page.body)),
            406 | 422 | 500 | 502 | 503 => Ok(None),
            _ => Err(self.error(what, &page)),
        }
    }

    /// POST/PATCH/PUT with a JSON body; returns the status and parsed answer. `what` names
    /// the step for the error when GitHub cannot be reached.
    pub async fn write(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<(u16, serde_json::Value), GitHubError> {
        let page = self
            .send(
                method,
                path,
                "application/vnd.github+json",
                Some(body),
                what,
            )
            .await?;
        let v = serde_json::from_str(&page.body).unwrap_or(serde_json::Value::Null);
        Ok((page.status, v))
    }
}

impl Client {
    /// The GraphQL endpoint beside this REST API: `https://api.github.com/graphql`, or
    /// `https://HOST/api/graphql` for GitHub Enterprise Server's `https://HOST/api/v3`.
    pub fn graphql_url(&self) -> String {
        match self.api.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{}/graphql", self.api),
        }
    }

    /// One GraphQL request; returns the status and the parsed answer (`{"data": ..,
    /// "errors": [..]}`), which the caller reads: GraphQL reports most failures with 200.
    pub async fn graphql(
        &self,
        query: &str,
        variables: serde_json::Value,
        what: &str,
    ) -> Result<(u16, serde_json::Value), GitHubError> {
        let body = serde_json::json!({"query": query, "variables": variables});
        self.write(reqwest::Method::POST, &self.graphql_url(), &body, what)
            .await
    }
}

fn rate_wait(retry_after: Option<&str>, reset: Option<&str>) -> Duration {
    if let Some(s) = retry_after.and_then(|r| r.trim().parse::<u64>().ok()) {
        return Duration::from_secs(s);
    }
    if let Some(epoch) = reset.and_then(|r| r.trim().parse::<u64>().ok()) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        return Duration::from_secs(epoch.saturating_sub(now) + 1);
    }
    Duration::from_secs(60)
}

fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = parse_target("lima-vm/lima#4889", None, None).unwrap();
        assert_eq!(
            (t.owner.as_str(), t.repo.as_str(), t.number),
            ("lima-vm", "lima", 4889)
        );
        let t = parse_target(
            "https://github.com/lima-vm/lima/pull/4889/files",
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            (t.repo.as_str(), t.number, t.api.as_str()),
            ("lima", 4889, "https://api.github.com")
        );
        let t = parse_target("https://ghe.corp.example/team/tool/pull/7", None, None).unwrap();
        assert_eq!(t.api, "https://ghe.corp.example/api/v3");
        let t = parse_target(
            "12",
            Some("http://127.0.0.1:9/"),
            Some("git@github.com:o/r.git"),
        )
        .unwrap();
        assert_eq!(
            (t.owner.as_str(), t.repo.as_str(), t.number, t.api.as_str()),
            ("o", "r", 12, "http://127.0.0.1:9")
        );
        assert!(parse_target("12", None, None)
            .unwrap_err()
            .to_string()
            .contains("no `origin` remote"));
        assert!(parse_target("nonsense", None, None).is_err());
    }

    #[test]
    fn links_and_waits() {
        let l = r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#;
        assert_eq!(
            next_link(l).as_deref(),
            Some("https://api.github.com/x?page=2")
        );
        assert_eq!(rate_wait(Some("3"), None), Duration::from_secs(3));
    }
}
