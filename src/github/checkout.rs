//! A pull request on disk: the cached bare clone refreshed with its head and base, the
//! configuration read at its **base** (a PR cannot change which commands run on its own
//! review), and the [`Change`] the agents review.

use super::fetch::PrData;
use super::PrError;
use super::PrTarget;
use super::PullRequest;
use crate::change::Change;
use crate::change::PrMeta;
use crate::change::RangeSpec;
use crate::change::Repo;
use crate::config;
use crate::errors::Error;
use crate::errors::Result;
use crate::progress;
use std::path::PathBuf;

/// Where cached clones live: `$DEEP_REVIEW_CACHE`, else `$XDG_CACHE_HOME/deep-review`, else
/// `~/.cache/deep-review`.
pub fn cache_root() -> PathBuf {
    if let Some(p) = std::env::var_os("DEEP_REVIEW_CACHE") {
        return PathBuf::from(p);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("deep-review")
}

/// The local checkout deep-review was started in, if any, and whether it is a clone of the
/// PR's repository (its `origin` names it).
pub struct Local {
    pub here: Option<Repo>,
    pub origin: Option<String>,
}

impl Local {
    pub fn discover() -> Local {
        let here = Repo::discover(&std::env::current_dir().unwrap_or_default()).ok();
        let origin = here
            .as_ref()
            .and_then(|r| r.git(&["remote", "get-url", "origin"]).ok())
            .map(|u| u.trim().to_string());
        Local { here, origin }
    }

    /// The local clone, when it is a clone of `target`'s repository.
    pub fn same_repo(&self, target: &PrTarget) -> Option<&Repo> {
        let same = self
            .origin
            .as_deref()
            .and_then(crate::change::owner_name_from_url)
            .is_some_and(|s| s == target.slug());
        self.here.as_ref().filter(|_| same)
    }
}

/// The cached bare clone, created if need be (from the local clone when it is one of the same
/// repository: most objects are already there), with the PR's head and base fetched.
pub fn cached_clone(target: &PrTarget, pr: &PullRequest, local: &Local) -> Result<Repo> {
    let clone_url = pr
        .base
        .repo
        .as_ref()
        .map(|r| r.clone_url.clone())
        .unwrap_or_else(|| format!("https://github.com/{}.git", target.slug()));
    let cache = cache_root()
        .join("repos")
        .join(&target.owner)
        .join(format!("{}.git", target.repo));
    if !cache.join("HEAD").exists() {
        std::fs::create_dir_all(cache.parent().unwrap_or(&cache))
            .map_err(|e| Error::io("create", &cache, e))?;
        let source = match local.same_repo(target) {
            Some(r) => r.root.display().to_string(),
            None => clone_url.clone(),
        };
        progress::log(&format!("cloning {source} into {}", cache.display()));
        let dest = cache.display().to_string();
        crate::change::run_git(None, &["clone", "--bare", "--quiet", &source, &dest])?;
    }
    let repo = Repo { root: cache };
    let n = pr.number;
    crate::change::run_git(
        Some(&repo.root),
        &[
            "fetch",
            "--quiet",
            "--force",
            &clone_url,
            &format!("+refs/pull/{n}/head:refs/deep-review/pull/{n}/head"),
            &format!(
                "+refs/heads/{}:refs/deep-review/pull/{n}/base",
                pr.base.ref_name
            ),
        ],
    )
    .map_err(|source| PrError::Fetch {
        number: n,
        url: clone_url.clone(),
        source,
    })?;
    for (which, sha) in [("head", &pr.head.sha), ("base", &pr.base.sha)] {
        if repo.resolve(sha).is_err() {
            return Err(PrError::MissingCommit {
                which,
                sha: sha.clone(),
                url: clone_url.clone(),
            }
            .into());
        }
    }
    Ok(repo)
}

/// The configuration, from the PR's base only (saying so when the PR changes it). Relative
/// command paths resolve against the local checkout when run inside the same repository,
/// never against the PR's tree; elsewhere they are refused.
pub fn base_config(
    repo: &Repo,
    pr: &PullRequest,
    target: &PrTarget,
    local: &Local,
    overrides: &config::Overrides,
) -> Result<config::Config> {
    let at = |sha: &str| repo.git(&["show", &format!("{sha}:{}", config::FILE_NAME)]);
    let base_config = at(&pr.base.sha).ok();
    if let Ok(head_config) = at(&pr.head.sha) {
        if Some(&head_config) != base_config.as_ref() {
            progress::log(&format!(
                "the PR changes {}; as always, the base branch's version is used",
                config::FILE_NAME
            ));
        }
    }
    let same = local.same_repo(target);
    let config_root = match same {
        Some(r) => r.root.clone(),
        None => std::env::temp_dir(),
    };
    let cfg = config::load(
        &config_root,
        Some(base_config.as_deref().unwrap_or("")),
        overrides,
    )?;
    if same.is_none() {
        let relative = cfg.agents.iter().chain(cfg.judge.iter()).find(|a| {
            a.command
                .first()
                .is_some_and(|p| p.contains('/') && !std::path::Path::new(p).is_absolute())
        });
        if let Some(a) = relative {
            return Err(Error::Usage(format!(
                "agent `{}` runs `{}`, a path relative to the repository; run `deep-review pr` inside a clone of {} so it resolves against your checkout (never the PR's), or configure an absolute path",
                a.name,
                a.command[0],
                target.slug()
            )));
        }
    }
    Ok(cfg)
}

/// The change the agents review: from the merge-base to the PR's head, with the API's diff
/// when it gave one, and the PR's metadata; instructions are read at the base.
pub fn change(repo: &Repo, data: &PrData, target: &PrTarget) -> Result<Change> {
    let pr = &data.pr;
    let merge_base = repo
        .git(&["merge-base", &pr.base.sha, &pr.head.sha])
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| pr.base.sha.clone());
    let mut change = Change::local(
        repo.clone(),
        &RangeSpec {
            base: Some(merge_base),
            head: Some(pr.head.sha.clone()),
            uncommitted: false,
        },
    )?;
    if let Some(diff) = &data.diff {
        change.set_diff(diff.clone());
    } else {
        progress::log("the diff comes from git (the PR is too large for the API's diff)");
    }
    change.base_ref = pr.base.ref_name.clone();
    change.head_ref = pr.head.ref_name.clone();
    change.repo_name = target.slug();
    change.instructions_at = Some(pr.base.sha.clone());
    change.pr = Some(PrMeta {
        number: pr.number,
        title: pr.title.clone(),
        body: pr.body.clone(),
        author: pr.user.login.clone(),
        labels: pr.labels.iter().map(|l| l.name.clone()).collect(),
        url: pr.html_url.clone(),
    });
    Ok(change)
}

/// Where the review folders go: `--out`, else the local clone's `.deep-review/reviews`
/// (kept out of git), else the cache.
pub fn out_root(
    out: Option<&std::path::Path>,
    target: &PrTarget,
    local: &Local,
) -> Result<PathBuf> {
    if let Some(p) = out {
        return Ok(crate::run::absolute(p));
    }
    Ok(match local.same_repo(target) {
        Some(r) => {
            r.ensure_excluded()?;
            r.root.join(".deep-review").join("reviews")
        }
        None => cache_root()
            .join("reviews")
            .join(&target.owner)
            .join(&target.repo),
    })
}
