//! The REST API client: one request with rate limits waited out, pagination, typed errors,
//! the diff media type, writes, and GraphQL beside it.

use super::target::PrTarget;
use super::GitHubError;
use std::time::Duration;

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
pub(super) struct Page {
    pub(super) status: u16,
    pub(super) body: String,
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
    pub(super) async fn send(
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
                self.spend(wait)?;
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

    /// Takes `wait` from the rate-limit budget, or says it is spent.
    fn spend(&self, wait: Duration) -> Result<(), GitHubError> {
        let mut budget = self
            .wait_budget
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if wait > *budget {
            return Err(GitHubError::RateLimited {
                wait_secs: wait.as_secs(),
                max_secs: MAX_RATE_WAIT.as_secs(),
                has_token: self.token.is_some(),
            });
        }
        *budget -= wait;
        Ok(())
    }

    /// The error for a page whose status is not the one asked for: GitHub's `message` field
    /// (or the start of the body), classified by status.
    pub(super) fn error(&self, what: &str, page: &Page) -> GitHubError {
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
        let page = self.get_page(path, what).await?;
        self.decode(what, &page.body)
    }

    /// One GET of `path` (JSON) that GitHub answered 200, else the error naming `what`.
    async fn get_page(&self, path: &str, what: &str) -> Result<Page, GitHubError> {
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
        Ok(page)
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
            let page = self.get_page(&url, what).await?;
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
    /// DELETE; returns the status and parsed answer.
    pub async fn delete(
        &self,
        path: &str,
        what: &str,
    ) -> Result<(u16, serde_json::Value), GitHubError> {
        let page = self
            .send(
                reqwest::Method::DELETE,
                path,
                "application/vnd.github+json",
                None,
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

#[cfg(test)]
mod tests {
    use super::*;

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
