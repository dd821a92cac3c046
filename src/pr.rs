//! `deep-review pr`: review a GitHub pull request and, with `--post`, publish the review.
//!
//! The PR's metadata, commits and diff come from the REST API (git for very large PRs). Its
//! head is checked out in a worktree of a cached clone, so agents read the real tree. The
//! configuration and the repository's instructions are read at the PR's **base** SHA: a PR
//! cannot change which commands run on its own review.
//!
//! Publishing is idempotent: the summary is one review whose body carries a hidden marker and
//! is edited in place on the next run, and each inline comment carries the finding's
//! fingerprint, so a finding already commented on is not commented on again. Markers count
//! only on what the token's own account wrote (see [`existing`]). A later round posts only
//! its new findings inline, resolves our threads on fixed findings, and holds back what a
//! human dismissed on its thread (see [`threads`]).

use crate::change::Change;
use crate::change::PrMeta;
use crate::change::RangeSpec;
use crate::change::Repo;
use crate::cli::PrArgs;
use crate::config;
use crate::errors::Error;
use crate::errors::Result;
use crate::github;
use crate::github::Client;
use crate::progress;
use crate::report;
use crate::run;
use std::path::PathBuf;
use std::time::Instant;

mod existing;
mod publish;
mod threads;

pub use existing::IgnoredMarker;
pub use existing::SUMMARY_MARKER;
pub use publish::publish;
use publish::SavedPr;

pub use crate::errors::PrError;

/// Where cached clones live: `$DEEP_REVIEW_CACHE`, else `$XDG_CACHE_HOME/deep-review`, else
/// `~/.cache/deep-review`.
fn cache_root() -> PathBuf {
    if let Some(p) = std::env::var_os("DEEP_REVIEW_CACHE") {
        return PathBuf::from(p);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("deep-review")
}

pub async fn pr(args: PrArgs) -> Result<run::Outcome> {
    let started = Instant::now();
    let now = chrono::Local::now();
    let here = Repo::discover(&std::env::current_dir().unwrap_or_default()).ok();
    let origin = here
        .as_ref()
        .and_then(|r| r.git(&["remote", "get-url", "origin"]).ok())
        .map(|u| u.trim().to_string());
    let target = github::parse_target(&args.target, args.api_url.as_deref(), origin.as_deref())?;
    let token = github::discover_token();
    if token.is_none() {
        progress::log("no GitHub token (GITHUB_TOKEN, GH_TOKEN or `gh auth token`): public PRs only, at GitHub's lower unauthenticated rate limit (60 requests an hour)");
    }
    if args.post && token.is_none() && !args.dry_run {
        return Err(Error::Usage(
            "--post needs a token with write access: set GITHUB_TOKEN or GH_TOKEN, or log in with `gh auth login` (or use --dry-run)".into(),
        ));
    }
    let client = Client::new(&target.api, token)?;
    let data = github::fetch(&client, &target).await?;
    let pr = &data.pr;
    progress::log(&format!(
        "{}#{}: {} ({} commit{}, {} file{})",
        target.slug(),
        pr.number,
        pr.title,
        data.commits.len(),
        if data.commits.len() == 1 { "" } else { "s" },
        data.files,
        if data.files == 1 { "" } else { "s" }
    ));

    // The cached clone, refreshed with the PR's head and base.
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
    let inside_same_repo = here.as_ref().is_some_and(|_| {
        origin
            .as_deref()
            .and_then(crate::change::owner_name_from_url)
            .is_some_and(|s| s == target.slug())
    });
    if !cache.join("HEAD").exists() {
        std::fs::create_dir_all(cache.parent().unwrap_or(&cache))
            .map_err(|e| Error::io("create", &cache, e))?;
        // Inside a clone of the same repository, start from it: most objects are already here.
        let source = match (&here, inside_same_repo) {
            (Some(r), true) => r.root.display().to_string(),
            _ => clone_url.clone(),
        };
        progress::log(&format!("cloning {source} into {}", cache.display()));
        crate::change::run_git(
            None,
            &[
                "clone",
                "--bare",
                "--quiet",
                &source,
                &cache.display().to_string(),
            ],
        )?;
    }
    let repo = Repo {
        root: cache.clone(),
    };
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

    // Configuration from the base only.
    let base_config = repo
        .git(&["show", &format!("{}:{}", pr.base.sha, config::FILE_NAME)])
        .ok();
    if let Ok(head_config) = repo.git(&["show", &format!("{}:{}", pr.head.sha, config::FILE_NAME)])
    {
        if Some(&head_config) != base_config.as_ref() {
            progress::log(&format!(
                "the PR changes {}; as always, the base branch's version is used",
                config::FILE_NAME
            ));
        }
    }
    let overrides = config::Overrides {
        judge: args.run.judge.clone(),
        agents: args.run.agents.clone(),
        timeout: args.run.timeout,
        fail_on: args.run.fail_on,
    };
    // Relative command paths resolve against the local checkout when run inside the same
    // repository, never against the PR's tree.
    let config_root = match (&here, inside_same_repo) {
        (Some(r), true) => r.root.clone(),
        _ => std::env::temp_dir(),
    };
    let cfg = config::load(
        &config_root,
        Some(base_config.as_deref().unwrap_or("")),
        &overrides,
    )?;
    if !inside_same_repo {
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

    let out_root = match &args.run.out {
        Some(p) => run::absolute(p),
        None => match (&here, inside_same_repo) {
            (Some(r), true) => {
                r.ensure_excluded()?;
                r.root.join(".deep-review").join("reviews")
            }
            _ => cache_root()
                .join("reviews")
                .join(&target.owner)
                .join(&target.repo),
        },
    };
    let subject = crate::review_folder::subject(&change);
    let suffix = format!("pr-{}", pr.number);
    let Some(plan) = run::choose_round(&change, &out_root, &subject.key, &suffix, &args.run) else {
        return Ok(run::skipped());
    };
    let folder = run::ReviewFolder::open(&out_root, &subject.key, &suffix, now)?;
    change.round = folder.round;
    let round_dir = folder.round_dir.clone();
    // The PR's tree is data: agents read a scrubbed worktree outside every repository.
    let worktree = match crate::agent::isolation::untrusted_worktree(&repo, &pr.head.sha) {
        Ok(wt) => wt,
        Err(e) => {
            run::ReviewFolder::release(&round_dir);
            return Err(e);
        }
    };
    change.workdir = worktree.clone();
    change.untrusted = true;

    // The diff the agents reviewed (the API's, or git's from the merge-base), for placing
    // inline comments.
    let patch = change.diff_text.clone();
    let result = run::execute(change, &cfg, &folder, &plan, now, started).await;
    crate::agent::isolation::remove_worktree(&repo, &worktree);
    if result.is_err() {
        run::ReviewFolder::release(&round_dir);
    }
    let (review, runs, partial) = result?;

    let diff_files = crate::diff::parse(&patch);
    // What publishing needs, so a separate step (holding the write token) can post it.
    let saved = SavedPr {
        owner: target.owner.clone(),
        repo: target.repo.clone(),
        number: target.number,
        api: target.api.clone(),
        head_sha: pr.head.sha.clone(),
    };
    crate::artifacts::write(
        &round_dir.join("pr.json"),
        &serde_json::to_string_pretty(&saved).unwrap_or_default(),
    )?;
    crate::artifacts::write(&round_dir.join("diff.patch"), &patch)?;
    let mut printed = report::render(args.run.format, &review);
    if args.post || args.dry_run {
        let text = publish::publish_review(
            &client,
            &saved,
            &review,
            &diff_files,
            &round_dir,
            args.dry_run,
        )
        .await?;
        if args.dry_run {
            printed = text;
        }
    }
    let exit_code = run::exit_code(&review, &runs, partial, cfg.fail_on);
    Ok(run::Outcome {
        report: printed,
        exit_code,
    })
}
