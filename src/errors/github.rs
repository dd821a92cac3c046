//! What can go wrong talking to the GitHub API ([`crate::github::Client`]), one variant per thing the user does about it.
//!
//! A message says what deep-review was doing (`what`: "fetch o/r#7", "post the review") and
//! what to do. The transport error stays the `#[source]`: reqwest's own message is only "error
//! sending request for url (…)", and the cause that matters ("Connection refused", "dns
//! error", a TLS failure) is further down its chain, which `main` prints.

/// An error from the GitHub API client.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// The HTTP client could not be built (its TLS setup); retrying does not help.
    #[error("could not start the HTTP client for GitHub")]
    Client {
        #[source]
        source: reqwest::Error,
    },
    /// No answer: refused, DNS, TLS, timeout. Retrying may help once the network is back.
    #[error("{what}: could not reach the GitHub API at {api} (check the address, --api-url or GH_HOST, and the network)")]
    Unreachable {
        what: String,
        api: String,
        #[source]
        source: reqwest::Error,
    },
    /// Connected, but no answer within the client's timeout. Retrying may help.
    #[error("{what}: the GitHub API at {api} did not answer within {}s; try again later", .after.as_secs())]
    Timeout {
        what: String,
        api: String,
        after: std::time::Duration,
        #[source]
        source: reqwest::Error,
    },
    /// The answer was cut off while it was read. Retrying usually helps.
    #[error("{what}: the answer from the GitHub API at {api} was cut off; try again")]
    Read {
        what: String,
        api: String,
        #[source]
        source: reqwest::Error,
    },
    /// 401: the token is wrong or expired.
    #[error("{what}: GitHub rejected the token (401); check GITHUB_TOKEN or GH_TOKEN, or log in again with `gh auth login`")]
    BadToken { what: String },
    /// 403 that is not a rate limit: the token may not do this.
    #[error("{what}: GitHub refused (403: {message}); check that the token can {needs} on this repository")]
    Forbidden {
        what: String,
        message: String,
        needs: &'static str,
    },
    /// 404 without a token: the repository may be private.
    #[error("{what}: not found (404); if the repository is private, set GITHUB_TOKEN or GH_TOKEN (or log in with `gh auth login`)")]
    NotFoundNoToken { what: String },
    /// 404 with a token.
    #[error("{what}: not found (404); check the repository and PR number, and that the token can read them")]
    NotFound { what: String },
    /// 5xx: GitHub's side. Retrying later usually helps.
    #[error("{what}: GitHub failed ({status}{}); this is on GitHub's side, so try again in a few minutes (status: https://www.githubstatus.com)", colon(.message))]
    Server {
        what: String,
        status: u16,
        message: String,
    },
    /// Any other status (422 and the like): GitHub's message says what it objects to.
    #[error("{what}: GitHub answered {status}{}", colon(.message))]
    Status {
        what: String,
        status: u16,
        message: String,
    },
    /// The rate limit asks for a longer wait than deep-review will do.
    #[error("GitHub rate limit: the API asks to wait {wait_secs}s, more than the {max_secs}s deep-review waits; {}", if *.has_token { "try again later" } else { "set GITHUB_TOKEN for a higher limit" })]
    RateLimited {
        wait_secs: u64,
        max_secs: u64,
        has_token: bool,
    },
    /// A 200 whose body is not what the API documents: a proxy, or not a GitHub API at all.
    #[error("{what}: unexpected answer from the GitHub API at {api} (is it a GitHub API? check --api-url)")]
    Decode {
        what: String,
        api: String,
        #[source]
        source: serde_json::Error,
    },
}

fn colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl GitHubError {
    /// The error for a non-success `status`, with GitHub's `message` (may be empty).
    /// `needs` says what the token must be allowed to do, for a 403 ("read pull requests").
    pub fn from_status(
        what: &str,
        status: u16,
        message: String,
        has_token: bool,
        needs: &'static str,
    ) -> GitHubError {
        let what = what.to_string();
        match status {
            401 => GitHubError::BadToken { what },
            403 => GitHubError::Forbidden {
                what,
                message,
                needs,
            },
            404 if !has_token => GitHubError::NotFoundNoToken { what },
            404 => GitHubError::NotFound { what },
            500..=599 => GitHubError::Server {
                what,
                status,
                message,
            },
            _ => GitHubError::Status {
                what,
                status,
                message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_says_what_to_do() {
        let e = |status, token| {
            GitHubError::from_status(
                "fetch o/r#1",
                status,
                "Boom".into(),
                token,
                "read pull requests",
            )
            .to_string()
        };
        assert!(e(401, true).contains("check GITHUB_TOKEN or GH_TOKEN"));
        assert!(e(403, true).contains("(403: Boom); check that the token can read pull requests"));
        assert!(e(404, false).contains("if the repository is private"));
        assert!(e(404, true).contains("check the repository and PR number"));
        assert_eq!(
            e(502, true),
            "fetch o/r#1: GitHub failed (502: Boom); this is on GitHub's side, so try again in a few minutes (status: https://www.githubstatus.com)"
        );
        assert_eq!(e(422, true), "fetch o/r#1: GitHub answered 422: Boom");
        let quiet = GitHubError::from_status("x", 503, String::new(), true, "");
        assert!(quiet.to_string().starts_with("x: GitHub failed (503); "));
    }
}
