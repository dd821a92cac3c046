//! Which pull request (`OWNER/REPO#N`, a PR URL, or a bare number with `origin`), on which
//! API, and the token to reach it with.

use crate::errors::Error;
use crate::errors::Result;

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
            // The token goes to this host's API: a link someone sent must not pick it.
            let host = parts[0];
            let configured = host.eq_ignore_ascii_case("github.com")
                || env_host
                    .as_deref()
                    .is_some_and(|h| h.eq_ignore_ascii_case(host));
            if !configured && api_override.is_none() {
                return Err(Error::Usage(format!(
                    "`{text}` is on {host}, not github.com: deep-review sends your GitHub token only to github.com or the host you name. To review it there, set GH_HOST={host} (GitHub Enterprise), or pass --api-url"
                )));
            }
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
        // Another host's link is followed only when GH_HOST or --api-url names where to go.
        let err = parse_target("https://ghe.corp.example/team/tool/pull/7", None, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("set GH_HOST=ghe.corp.example"), "{err}");
        let t = parse_target(
            "https://ghe.corp.example/team/tool/pull/7",
            Some("https://ghe.corp.example/api/v3"),
            None,
        )
        .unwrap();
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
}
