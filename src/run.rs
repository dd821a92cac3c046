//! The review pipeline: change → brief → agents in parallel → consolidate → report.
//!
//! Owns the review folder, the agent tasks, Ctrl-C handling and the progress dispatcher.
//! Agents run as tasks that only send events; this module is the only place that decides
//! what is written where.

use crate::agent;
use crate::agent::AgentRun;
use crate::agent::AgentSpec;
use crate::agent::RunDirs;
use crate::artifacts;
use crate::change::Change;
use crate::change::RangeSpec;
use crate::change::Repo;
use crate::cli::ReviewArgs;
use crate::config;
use crate::consolidate;
use crate::diff::LineKind;
use crate::errors::exit_codes;
use crate::errors::Result;
use crate::events::RunEvent;
use crate::progress;
use crate::progress::Progress;
use crate::prompt;
use crate::report;
use crate::review::ChangeSummary;
use crate::review::CommitSummary;
use crate::review::Review;
pub use crate::review_folder::ReviewFolder;
use crate::round;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Exit code for a review interrupted by Ctrl-C (a partial review is still written); SIGTERM
/// gives 143 and SIGHUP 129 (see [`crate::interrupt`]).
pub const EXIT_INTERRUPTED: i32 = 130;

/// After the second signal, how long the agents' tasks get to hand back what they received
/// (their groups are already killed; only pipes held by detached descendants can take longer).
const HURRY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);

/// What a finished review hands back to `main`.
pub struct Outcome {
    pub report: String,
    pub exit_code: i32,
}

pub async fn review(args: ReviewArgs) -> Result<Outcome> {
    let started = Instant::now();
    let now = chrono::Local::now();
    let repo = Repo::discover(&args.repo)?;
    let spec = RangeSpec {
        base: args.base.clone(),
        head: args.head.clone(),
        uncommitted: args.uncommitted,
    };
    let overrides = config::Overrides {
        judge: args.run.judge.clone(),
        agents: args.run.agents.clone(),
        timeout: args.run.timeout,
        fail_on: args.run.fail_on,
    };
    agent::isolation::refuse_uncommitted(args.untrusted, args.uncommitted)?;
    // Configuration errors and range errors are reported before anything is written.
    let mut change = Change::local(repo, &spec)?;
    // An untrusted head configures nothing: configuration and instructions are the base's.
    let base_config = args.untrusted.then(|| {
        let at = format!("{}:{}", change.base_sha, config::FILE_NAME);
        change.repo.git(&["show", &at]).unwrap_or_default()
    });
    let cfg = config::load(&change.repo.root, base_config.as_deref(), &overrides)?;
    if args.untrusted {
        agent::isolation::refuse_relative_commands(cfg.agents.iter().chain(&cfg.judge))?;
        change.untrusted = true;
        change.instructions_at = Some(change.base_sha.clone());
    }

    let out_root = match &args.run.out {
        Some(p) => absolute(p),
        None => change.repo.root.join(".deep-review").join("reviews"),
    };
    let subject = crate::review_folder::subject(&change);
    let suffix = format!("local-{}", change.short_head());
    // Keeping the reviews out of `git status` (a git process) and finding the previous round
    // (files) do not depend on each other: done at once.
    let (excluded, plan) = std::thread::scope(|s| {
        let excluded = s.spawn(|| {
            if out_root.starts_with(change.repo.root.join(".deep-review")) {
                change.repo.ensure_excluded()
            } else {
                Ok(())
            }
        });
        let plan = choose_round(&change, &out_root, &subject.key, &suffix, &args.run);
        let excluded = excluded
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (excluded, plan)
    });
    excluded?;
    let plan = match plan {
        Some(plan) => plan,
        None => return Ok(skipped()),
    };
    let folder = ReviewFolder::open(&out_root, &subject.key, &suffix, now)?;
    change.round = folder.round;
    let round_dir = folder.round_dir.clone();

    // Agents read the head: the repository itself when it is checked out, else a worktree.
    let mut worktree = None;
    let result = match head_worktree(&mut change, &round_dir) {
        Ok(wt) => {
            worktree = wt;
            execute(change, &cfg, &folder, &plan, now, started).await
        }
        Err(e) => Err(e),
    };
    // Removed whatever happened, signals included: `git worktree list` must not keep it.
    if let Some(wt) = worktree {
        if let Ok(change_repo) = Repo::discover(&args.repo) {
            if args.untrusted {
                agent::isolation::remove_worktree(&change_repo, &wt);
            } else {
                let wt_s = wt.to_string_lossy().into_owned();
                let _ = change_repo.git(&["worktree", "remove", "--force", &wt_s]);
            }
        }
    }
    if result.is_err() {
        ReviewFolder::release(&round_dir);
    }
    let (review, runs, partial) = result?;
    progress::log(&format!("review written to {}", round_dir.display()));

    let exit_code = exit_code(&review, &runs, partial, cfg.fail_on);
    let report = report::render(args.run.format, &review);
    Ok(Outcome { report, exit_code })
}

/// This round's plan after the subject's latest complete round under `out_root`; None when
/// nothing changed since it and `--rerun` was not given (said on stderr).
pub fn choose_round(
    change: &Change,
    out_root: &Path,
    subject: &str,
    suffix: &str,
    run: &crate::cli::RunArgs,
) -> Option<round::Plan> {
    let previous = ReviewFolder::earlier(out_root, subject, suffix).and_then(|e| {
        let (round, review) = e.complete?;
        let dismissed = round::dismissed_in(&e.review_dir.join(format!("round-{round}")));
        Some(round::Previous {
            round,
            review,
            dismissed,
        })
    });
    let asked = round::Asked {
        full: run.full,
        rerun: run.rerun,
    };
    match round::plan(change, previous, asked) {
        round::Plan::Skip(why) => {
            progress::log(&why);
            None
        }
        plan => Some(plan),
    }
}

/// A round that was not run: nothing on stdout, exit 0.
pub fn skipped() -> Outcome {
    Outcome {
        report: String::new(),
        exit_code: exit_codes::OK,
    }
}

/// The worktree agents read, when it is not the repository itself: for an untrusted head a
/// scrubbed one outside every repository, else one at the head in `round_dir` unless the
/// head is checked out.
fn head_worktree(change: &mut Change, round_dir: &Path) -> Result<Option<PathBuf>> {
    if change.untrusted {
        let wt = agent::isolation::untrusted_worktree(&change.repo, &change.head_sha)?;
        change.workdir = wt.clone();
        return Ok(Some(wt));
    }
    if change.head_is_checked_out() {
        return Ok(None);
    }
    let wt = round_dir.join("worktree");
    let wt_s = wt.to_string_lossy().into_owned();
    change.repo.git(&[
        "worktree",
        "add",
        "--detach",
        "--quiet",
        &wt_s,
        &change.head_sha,
    ])?;
    change.workdir = wt.clone();
    Ok(Some(wt))
}

/// The shared part of every review: brief, agents in parallel, consolidation, the judge,
/// and the artifacts in `round_dir`. Returns the review, the runs, and whether the user
/// interrupted.
pub async fn execute(
    change: Change,
    cfg: &config::Config,
    folder: &ReviewFolder,
    plan: &round::Plan,
    now: chrono::DateTime<chrono::Local>,
    started: Instant,
) -> Result<(Review, Vec<AgentRun>, bool)> {
    let (round_dir, review_dir, id) = (&folder.round_dir, &folder.review_dir, &folder.id);
    // The notes (at the base) and the instruction files (at the head) are read at once.
    let memory = std::thread::scope(|s| {
        let memory = s.spawn(|| crate::context::for_brief(&change));
        change.prefetch_instructions(prompt::INSTRUCTION_FILES);
        memory
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    let info = prompt::ChangeInfo {
        title: change.pr.as_ref().map(|p| p.title.clone()),
        body: change
            .pr
            .as_ref()
            .and_then(|p| p.body.clone())
            .filter(|b| !b.trim().is_empty()),
        // The notes as committed at the base, never the head's (see context::store).
        memory,
        round: plan.brief(),
    };
    // Masked before any agent sees it: a secret in the diff does not travel to a model vendor.
    let brief = crate::secrets::redact_text(&prompt::build(&change, &info));
    artifacts::write(&round_dir.join("brief.md"), &brief)?;
    artifacts::write(
        &round_dir.join("findings.schema.json"),
        &serde_json::to_string_pretty(&crate::finding::json_schema()).unwrap_or_default(),
    )?;

    progress::log(&format!(
        "reviewing {} ({} commit{}, {} file{}) with {}; artifacts in {}",
        range_label(&change),
        change.commits.len(),
        if change.commits.len() == 1 { "" } else { "s" },
        change.files.len(),
        if change.files.len() == 1 { "" } else { "s" },
        cfg.agents
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        review_dir.display()
    ));
    if let Some(line) = round_line(&change, plan) {
        progress::log(&line);
    }
    if let Some(line) = progress::unavailable_line(cfg.unavailable.iter().map(|u| u.name.as_str()))
    {
        progress::log(&line);
    }

    let change = Arc::new(change);
    let (runs, mut partial) =
        run_agents(&cfg.agents, &change, &brief, round_dir, agent::Task::Review).await;

    let mut review = build_review(&change, &runs, cfg, id, now, started, partial, None);
    if let (Some(judge), false) = (&cfg.judge, partial) {
        review = judge_review(
            judge, review, &change, &runs, cfg, id, now, started, round_dir,
        )
        .await;
        // A signal during the judge cancelled it: the deterministic review stands (with the
        // judge's note), and it is as partial as the user's interrupt made it.
        if crate::interrupt::exit_code().is_some() {
            partial = true;
            review.partial = true;
        }
    }
    review.rounds = plan.rounds(&review, &*change, cfg.consolidate.merge_threshold);
    if let (Some(rounds), true) = (&mut review.rounds, review.partial) {
        // An interrupted round heard only some agents: it cannot say what is gone.
        rounds.gone.clear();
    }
    // Each agent's record so far joins the retro, then the review joins the history (one
    // transaction; a failure is a note on stderr, never the review's end).
    crate::history::record(&mut review, &change, review_dir);
    artifacts::write(&round_dir.join("review.json"), &report::json(&review))?;
    folder.record_subject()?;
    artifacts::write(
        &round_dir.join("report.sarif"),
        &report::sarif::render(&review),
    )?;
    artifacts::write(
        &round_dir.join("report.md"),
        &report::markdown::render(&review),
    )?;
    artifacts::write(
        &round_dir.join("report.html"),
        &report::html::render(&review),
    )?;

    Ok((review, runs, partial))
}

/// The exit code of a review: interrupted (128 + the signal), a finding at or above
/// `fail_on` (1), else 0.
pub fn exit_code(
    review: &Review,
    runs: &[AgentRun],
    partial: bool,
    fail_on: Option<crate::finding::Severity>,
) -> i32 {
    if partial {
        crate::interrupt::exit_code().unwrap_or(EXIT_INTERRUPTED)
    } else if runs.iter().all(|r| !r.outcome.is_ok()) {
        progress::log("every reviewer failed; see the report's retro for why");
        exit_codes::ERROR
    } else if no_model_reviewer_answered(runs) {
        progress::log("every model reviewer failed and only the builtin checks answered, so the review has no verdict; see the report's retro for why");
        exit_codes::NO_MODEL_REVIEWER
    } else {
        fail_on_code(review, fail_on)
    }
}

/// Model reviewers ran and none answered (whatever the builtin found: the review is incomplete).
fn no_model_reviewer_answered(runs: &[AgentRun]) -> bool {
    let mut models = runs
        .iter()
        .filter(|r| r.kind != crate::agent::AgentKind::Builtin)
        .peekable();
    models.peek().is_some() && models.all(|r| !r.outcome.is_ok() || r.answer.is_none())
}

/// 1 when a reported finding reaches the threshold, else 0.
pub fn fail_on_code(review: &Review, fail_on: Option<crate::finding::Severity>) -> i32 {
    match fail_on {
        Some(t) if review.reported().any(|f| f.severity >= t) => exit_codes::FINDINGS,
        _ => exit_codes::OK,
    }
}

/// `p` made absolute against the current directory.
pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// What this round reviews, for stderr: nothing for a first round.
fn round_line(change: &Change, plan: &round::Plan) -> Option<String> {
    let brief = plan.brief()?;
    Some(match (&brief.delta, &brief.full_reason) {
        (Some(delta), _) => format!(
            "round {}: reviewing what changed since round {} ({}..{}, {} file{}), with its {} open finding{}",
            change.round,
            brief.previous_round,
            &brief.previous_head[..brief.previous_head.len().min(7)],
            change.short_head(),
            delta.len(),
            if delta.len() == 1 { "" } else { "s" },
            brief.open.len(),
            if brief.open.len() == 1 { "" } else { "s" },
        ),
        (None, reason) => format!(
            "round {}: full review: {}",
            change.round,
            reason.as_deref().unwrap_or("asked for")
        ),
    })
}

fn range_label(c: &Change) -> String {
    if c.uncommitted {
        format!("{}..working tree", c.base_ref)
    } else {
        format!("{}..{}", c.base_ref, c.head_ref)
    }
}

/// Runs the judge on the deterministic review and returns the judged review; when the judge
/// fails or its answer does not validate, the deterministic review with a note.
#[allow(clippy::too_many_arguments)]
async fn judge_review(
    judge: &AgentSpec,
    review: Review,
    change: &Arc<Change>,
    runs: &[AgentRun],
    cfg: &config::Config,
    id: &str,
    now: chrono::DateTime<chrono::Local>,
    started: Instant,
    round_dir: &Path,
) -> Review {
    // The judge proposes notes too: it sees the ones the repository already keeps.
    let memory = crate::context::for_brief(change)
        .map(|m| prompt::memory_section(&m))
        .unwrap_or_default();
    let brief = crate::secrets::redact_text(&crate::judge::brief_with(&review, &memory));
    artifacts::write_or_log(&round_dir.join("judge-brief.md"), &brief);
    progress::log(&format!(
        "judging the consolidated findings with {}",
        judge.name
    ));
    let (judged, _) = run_agents(
        std::slice::from_ref(judge),
        change,
        &brief,
        round_dir,
        agent::Task::Judge,
    )
    .await;
    let Some(run) = judged.into_iter().next() else {
        return review;
    };
    let mut fallback = review;
    let text = match (&run.outcome, &run.answer_text) {
        (agent::Outcome::Ok, Some(t)) => t.clone(),
        (agent::Outcome::Failed { kind, message, .. }, _) => {
            consolidate::add_failed_judge(
                &mut fallback,
                &run,
                &format!("failed ({}): {message}", kind.label()),
            );
            return fallback;
        }
        (agent::Outcome::Ok, None) => {
            consolidate::add_failed_judge(&mut fallback, &run, "no answer");
            return fallback;
        }
    };
    let answer = match crate::judge::parse(&text) {
        Ok(a) => a,
        Err(e) => {
            progress::log(&format!("judge {}: answer ignored: {e}", judge.name));
            consolidate::add_failed_judge(
                &mut fallback,
                &run,
                &format!("its answer is not valid judge JSON ({e})"),
            );
            return fallback;
        }
    };
    let (answer, notes) = crate::judge::validate(answer, &fallback, &judge.name);
    for n in &notes {
        progress::log(n);
    }
    let judge_input = consolidate::JudgeInput {
        name: judge.name.clone(),
        answer: &answer,
        run: &run,
        notes,
    };
    build_review(
        change,
        runs,
        cfg,
        id,
        now,
        started,
        false,
        Some(judge_input),
    )
}

/// Starts every agent of `specs` on `task`; each writes its run.json as soon as it ends.
fn spawn_agents(
    specs: &[AgentSpec],
    change: &Arc<Change>,
    brief: &Arc<str>,
    round_dir: &Path,
    task: agent::Task,
    events_tx: &tokio::sync::mpsc::UnboundedSender<RunEvent>,
    cancel_rx: &tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinSet<(usize, AgentRun)> {
    let mut set = tokio::task::JoinSet::new();
    for (i, spec) in specs.iter().enumerate() {
        let folder = match task {
            agent::Task::Review => "agents",
            agent::Task::Judge => "judge",
        };
        let agent_dir = round_dir.join(folder).join(&spec.name);
        let ctx = agent::RunContext {
            task,
            change: Arc::clone(change),
            brief: Arc::clone(brief),
            dirs: RunDirs {
                round: round_dir.to_path_buf(),
                agent: agent_dir.clone(),
            },
            events: events_tx.clone(),
            cancel: cancel_rx.clone(),
        };
        let spec = spec.clone();
        set.spawn(async move {
            let run = agent::run_agent(&spec, ctx).await;
            // The parsed run sits beside the raw output, written as soon as it exists.
            if let Ok(text) = serde_json::to_string_pretty(&run) {
                artifacts::write_or_log(&agent_dir.join("run.json"), &text);
            }
            (i, run)
        });
    }
    set
}

/// Runs every agent at once; returns their runs (in config order) and whether the user
/// interrupted. First signal (Ctrl-C, SIGTERM, SIGHUP): stop the agents, keep what arrived.
/// Second: kill them all at once and wait at most [`HURRY_DEADLINE`] for their tasks.
async fn run_agents(
    specs: &[AgentSpec],
    change: &Arc<Change>,
    brief: &str,
    round_dir: &Path,
    task: agent::Task,
) -> (Vec<AgentRun>, bool) {
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel::<RunEvent>();
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let mut progress = Progress::new(&names);
    let brief: Arc<str> = Arc::from(brief);

    let mut set = spawn_agents(
        specs, change, &brief, round_dir, task, &events_tx, &cancel_rx,
    );
    drop(events_tx);

    let mut runs: Vec<Option<AgentRun>> = vec![None; specs.len()];
    let mut interrupted = false;
    let mut ticker = tokio::time::interval(std::time::Duration::from_millis(500));
    // The process-wide listener counts every signal, so none is missed between iterations,
    // and one that arrived before the agents started stops them at once.
    let mut signals = crate::interrupt::subscribe();
    signals.mark_changed();
    let mut hurry: Option<tokio::time::Instant> = None;
    let mut events_open = true;
    loop {
        tokio::select! {
            joined = set.join_next() => match joined {
                Some(Ok((i, run))) => runs[i] = Some(run),
                Some(Err(e)) => progress.println(&format!("an agent task failed: {e}")),
                None => break,
            },
            ev = events_rx.recv(), if events_open => match ev {
                Some(ev) => progress.handle(&ev),
                None => events_open = false,
            },
            _ = ticker.tick() => progress.tick(),
            Ok(()) = signals.changed() => {
                let got = *signals.borrow_and_update();
                if got.count >= 1 && !interrupted {
                    interrupted = true;
                    progress.println(&format!("interrupted ({}): stopping the agents and writing a partial review (press Ctrl-C again to stop waiting for them)", got.name()));
                    let _ = cancel_tx.send(true);
                }
                if got.count >= 2 && hurry.is_none() {
                    // Second signal: no grace for the agents, but the review promised by the
                    // exit code is still written from what has arrived.
                    agent::process::kill_all_groups();
                    progress.println("interrupted again: killed every agent; writing the partial review from what arrived");
                    hurry = Some(tokio::time::Instant::now() + HURRY_DEADLINE);
                }
            }
            _ = sleep_until_opt(hurry), if hurry.is_some() => {
                // Agents whose pipes are still held open are not waited for any longer.
                set.abort_all();
                while let Some(joined) = set.join_next().await {
                    if let Ok((i, run)) = joined {
                        runs[i] = Some(run);
                    }
                }
                break;
            }
        }
    }
    while let Ok(ev) = events_rx.try_recv() {
        progress.handle(&ev);
    }
    progress.finish();
    let runs = runs
        .into_iter()
        .zip(specs)
        .map(|(r, spec)| r.unwrap_or_else(|| missing_run(spec, hurry.is_some())))
        .collect();
    (runs, interrupted)
}

/// The run of an agent whose task handed nothing back: stopped by the second signal, or a bug.
fn missing_run(spec: &AgentSpec, hurried: bool) -> AgentRun {
    let outcome = if hurried {
        agent::Outcome::failed(
            agent::FailureKind::Cancelled,
            "interrupted twice; its process group was killed before it finished",
            "run the review again to let it finish; its raw output is in its folder",
        )
    } else {
        agent::Outcome::failed(
            agent::FailureKind::Crashed,
            "the agent's task ended without a result",
            "this is a bug in deep-review; please report it with the review folder",
        )
    };
    AgentRun::new(spec, outcome)
}

pub fn change_summary(change: &Change) -> ChangeSummary {
    ChangeSummary {
        repo: change.repo_name.clone(),
        kind: if change.pr.is_some() { "pr" } else { "local" }.into(),
        pr: change.pr.as_ref().map(|p| p.number),
        title: change.pr.as_ref().map(|p| p.title.clone()),
        round: change.round,
        author: match &change.pr {
            Some(p) => Some(format!("@{}", p.author)),
            None => change.author(),
        },
        base_ref: change.base_ref.clone(),
        base_sha: change.base_sha.clone(),
        head_ref: change.head_ref.clone(),
        head_sha: change.head_sha.clone(),
        uncommitted: change.uncommitted,
        commits: change
            .commits
            .iter()
            .map(|c| CommitSummary {
                sha: c.sha.clone(),
                subject: c.subject.clone(),
                body: c.body.clone(),
                author: c.author_name.clone(),
            })
            .collect(),
        files_changed: change.files.len(),
        lines_added: change.files.iter().map(|f| f.count(LineKind::Added)).sum(),
        lines_removed: change
            .files
            .iter()
            .map(|f| f.count(LineKind::Removed))
            .sum(),
    }
}

#[allow(clippy::too_many_arguments)]
fn build_review(
    change: &Change,
    runs: &[AgentRun],
    cfg: &config::Config,
    id: &str,
    now: chrono::DateTime<chrono::Local>,
    started: Instant,
    partial: bool,
    judge: Option<consolidate::JudgeInput<'_>>,
) -> Review {
    let input = consolidate::Input {
        judge,
        runs,
        tree: Some(change),
        change: change_summary(change),
        unavailable: cfg.unavailable.clone(),
        id: id.to_string(),
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        wall_clock_ms: started.elapsed().as_millis() as u64,
        partial,
    };
    let mut review = consolidate::consolidate(input, &cfg.consolidate);
    // What happened to a run that is not a failure but the reader should know.
    let run_notes = runs.iter().flat_map(|r| r.notes.iter().cloned());
    review.notes.extend(run_notes);
    review
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
