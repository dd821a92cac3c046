//! deep-review: several AI coding agents review one change in parallel; their answers are
//! consolidated into one review.
//!
//! Crate map (the flow, left to right):
//! - [`change`], [`diff`]: what is reviewed (a git range), parsed; [`tree_guard`]: the one
//!   path guard every read of the reviewed tree goes through.
//! - [`prompt`]: the brief every agent receives.
//! - [`agent`]: the reviewers (one [`agent::Adapter`] per kind) and process supervision;
//!   [`record`]: what their runs leave (a leaf: the stages after the agents read only it).
//! - [`consolidate`]: verify, cluster, vote, measure; produces a [`review::Review`].
//! - [`report`]: renderers over a `Review`.
//! - [`context`]: the repository's memory (`.deep-review/context.md`), read into every brief
//!   from the base.
//! - [`run`]: the review pipeline ([`review_folder`]: where it writes); [`commands`]: commands
//!   that run no agent; [`history`]: every review recorded in SQLite, `history` and `stats`.
//! - [`cli`], [`config`], [`errors`], [`events`], [`interrupt`], [`progress`]: the edges;
//!   [`hook`]: the advisory pre-push hook (`deep-review hook install`).
//!
//! stdout carries only the report: [`emit`] is the one function allowed to print to it.
#![deny(clippy::print_stdout)]

pub mod agent;
pub mod artifacts;
pub mod change;
pub mod cli;
pub mod commands;
pub mod config;
pub mod consolidate;
pub mod context;
pub mod diff;
pub mod errors;
pub mod eval;
pub mod events;
pub mod finding;
pub mod git;
pub mod github;
pub mod history;
pub mod hook;
pub mod interrupt;
pub mod judge;
pub mod progress;
pub mod prompt;
pub mod record;
pub mod report;
pub mod review;
pub mod review_folder;
pub mod round;
pub mod run;
pub mod secrets;
pub mod tree_guard;
pub mod util;

use clap::Parser;
use errors::exit_codes;
use std::io::Write;

/// Writes the report, masked, to stdout. A closed pipe (`deep-review review | head`) is not
/// an error.
#[allow(clippy::print_stdout)]
fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(secrets::mask(text).as_bytes())?;
    out.flush()
}

/// Runs the command line and returns the process exit code.
pub fn main_impl() -> i32 {
    let cli = cli::Cli::parse();
    progress::init(match (cli.quiet, cli.verbose) {
        (true, _) => progress::Verbosity::Quiet,
        (_, true) => progress::Verbosity::Verbose,
        _ => progress::Verbosity::Normal,
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            progress::error(&format!("could not start the async runtime: {e}"));
            return exit_codes::ERROR;
        }
    };
    let result = runtime.block_on(async move {
        if matches!(cli.command, cli::Command::Review(_) | cli::Command::Pr(_)) {
            // From the start, so a signal before the agents run still yields a partial review
            // and a removed worktree rather than a dead process.
            interrupt::install();
        }
        match cli.command {
            cli::Command::Review(args) => run::review(args).await,
            cli::Command::Pr(args) => github::pr(args).await,
            cli::Command::Publish(args) => github::publish(args).await,
            cli::Command::Consolidate(args) => commands::consolidate(args),
            cli::Command::Render(args) => commands::render(args).map(|report| run::Outcome {
                report,
                exit_code: exit_codes::OK,
            }),
            cli::Command::Schema => Ok(run::Outcome {
                report: commands::schema(),
                exit_code: exit_codes::OK,
            }),
            cli::Command::Agents(args) => commands::agents(args).map(|report| run::Outcome {
                report,
                exit_code: exit_codes::OK,
            }),
            cli::Command::Eval(args) => commands::eval(args).map(|report| run::Outcome {
                report,
                exit_code: exit_codes::OK,
            }),
            cli::Command::History(args) => history::history(args).map(|report| run::Outcome {
                report,
                exit_code: exit_codes::OK,
            }),
            cli::Command::Stats(args) => history::stats(args).map(|report| run::Outcome {
                report,
                exit_code: exit_codes::OK,
            }),
            cli::Command::Context(args) => context::run(args).map(|o| run::Outcome {
                report: o.report,
                exit_code: o.exit_code,
            }),
            cli::Command::Config(args) => config::command::run(args)
                .map(|(report, exit_code)| run::Outcome { report, exit_code }),
            cli::Command::Completions { shell } => Ok(run::Outcome {
                report: commands::completions(shell),
                exit_code: exit_codes::OK,
            }),
            cli::Command::Hook(args) => hook::run(args).map(|report| run::Outcome {
                report,
                exit_code: exit_codes::OK,
            }),
        }
    });
    // Agents that outlived their review are not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(outcome) => {
            if let Err(e) = emit(&outcome.report) {
                // After SIGHUP the terminal is gone; the review is on disk and the exit code
                // says it was interrupted.
                if e.kind() != std::io::ErrorKind::BrokenPipe && interrupt::received().count == 0 {
                    progress::error(&format!("could not write the report: {e}"));
                    return exit_codes::ERROR;
                }
            }
            outcome.exit_code
        }
        Err(e) => {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            progress::error(&msg);
            exit_codes::ERROR
        }
    }
}
