//! `deep-review pr`: review a GitHub pull request and, with `--post`, publish the review.
//!
//! The PR's metadata, commits and diff come from the REST API (git for very large PRs). Its
//! head is checked out in a worktree of a cached clone, so agents read the real tree. The
//! configuration and the repository's instructions are read at the PR's **base** SHA: a PR
//! cannot change which commands run on its own review (see [`super::checkout`]).
//!
//! Publishing is idempotent: the summary is one review whose body carries a hidden marker and
//! is edited in place on the next run, and each inline comment carries the finding's
//! fingerprint, so a finding already commented on is not commented on again. Markers count
//! only on what the token's own account wrote (see [`super::existing`]). A later round posts
//! only its new findings inline, resolves our threads on fixed findings, and holds back what
//! a human dismissed on its thread (see [`super::threads`]).

use super::checkout;
use super::checkout::Local;
use super::fetch::PrData;
use super::publish::publish_review;
use super::publish::SavedPr;
use super::Client;
use super::PrTarget;
use crate::cli::PrArgs;
use crate::config;
use crate::errors::Error;
use crate::errors::Result;
use crate::progress;
use crate::report;
use crate::run;
use std::time::Instant;

pub async fn pr(args: PrArgs) -> Result<run::Outcome> {
    let started = Instant::now();
    let now = chrono::Local::now();
    let local = Local::discover();
    let (target, client) = connect(&args, &local)?;
    let data = super::fetch(&client, &target).await?;
    log_pr(&target, &data);
    let pr = &data.pr;
    let repo = checkout::cached_clone(&target, pr, &local)?;
    let overrides = config::Overrides {
        judge: args.run.judge.clone(),
        agents: args.run.agents.clone(),
        timeout: args.run.timeout,
        fail_on: args.run.fail_on,
    };
    let cfg = checkout::base_config(&repo, pr, &target, &local, &overrides)?;
    let mut change = checkout::change(&repo, &data, &target)?;

    let out_root = checkout::out_root(args.run.out.as_deref(), &target, &local)?;
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

    let saved = save(&target, &data, &round_dir, &patch, cfg.fail_on)?;
    let mut printed = report::render(args.run.format, &review);
    if args.post || args.dry_run {
        let files = crate::diff::parse(&patch);
        let text =
            publish_review(&client, &saved, &review, &files, &round_dir, args.dry_run).await?;
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

/// Which PR, and a client for its API (with the token, when there is one).
fn connect(args: &PrArgs, local: &Local) -> Result<(PrTarget, Client)> {
    let target = super::parse_target(
        &args.target,
        args.api_url.as_deref(),
        local.origin.as_deref(),
    )?;
    let token = super::discover_token();
    if token.is_none() {
        progress::log("no GitHub token (GITHUB_TOKEN, GH_TOKEN or `gh auth token`): public PRs only, at GitHub's lower unauthenticated rate limit (60 requests an hour)");
    }
    if args.post && token.is_none() && !args.dry_run {
        return Err(Error::Usage(
            "--post needs a token with write access: set GITHUB_TOKEN or GH_TOKEN, or log in with `gh auth login` (or use --dry-run)".into(),
        ));
    }
    let client = Client::new(&target.api, token)?;
    Ok((target, client))
}

fn log_pr(target: &PrTarget, data: &PrData) {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    progress::log(&format!(
        "{}#{}: {} ({} commit{}, {} file{})",
        target.slug(),
        data.pr.number,
        data.pr.title,
        data.commits.len(),
        s(data.commits.len()),
        data.files,
        s(data.files)
    ));
}

/// Writes what publishing needs beside review.json (`pr.json`, `diff.patch`), so a separate
/// step holding the write token can post it.
fn save(
    target: &PrTarget,
    data: &PrData,
    round_dir: &std::path::Path,
    patch: &str,
    fail_on: Option<crate::finding::Severity>,
) -> Result<SavedPr> {
    let saved = SavedPr {
        owner: target.owner.clone(),
        repo: target.repo.clone(),
        number: target.number,
        api: target.api.clone(),
        head_sha: data.pr.head.sha.clone(),
        fail_on,
    };
    crate::artifacts::write(
        &round_dir.join("pr.json"),
        &serde_json::to_string_pretty(&saved).unwrap_or_default(),
    )?;
    crate::artifacts::write(&round_dir.join("diff.patch"), patch)?;
    Ok(saved)
}
