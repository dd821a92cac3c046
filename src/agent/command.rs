//! The `command` adapter: any executable that reads the review brief on stdin and prints
//! findings JSON (schema 1) on stdout. This is how people plug in their own reviewers.

use super::process;
use super::process::Exit;
use super::AgentRun;
use super::AgentSpec;
use super::FailureKind;
use super::Outcome;
use super::RunContext;
use crate::finding;

/// Any executable that reads the brief on stdin and prints findings JSON.
pub struct Command;

impl super::Adapter for Command {
    fn kind(&self) -> super::AgentKind {
        super::AgentKind::Command
    }

    fn run<'a>(
        &'a self,
        spec: &'a AgentSpec,
        ctx: &'a RunContext,
    ) -> super::adapter::BoxFuture<'a, AgentRun> {
        Box::pin(run(spec, ctx))
    }
}

pub async fn run(spec: &AgentSpec, ctx: &RunContext) -> AgentRun {
    let (mut run, stdout_path, stderr_path) = AgentRun::with_outputs(spec, &ctx.dirs, "stdout.txt");

    let Some((program, args)) = spec.command.split_first() else {
        run.outcome = Outcome::failed(
            FailureKind::NotInstalled,
            "no command configured",
            format!(
                "set `command = [\"path/to/reviewer\"]` in [agents.{}]",
                spec.name
            ),
        );
        return run;
    };
    let proc_spec = process::ProcessSpec {
        program: resolve_program(program, &ctx.change.repo.root),
        args: args.to_vec(),
        cwd: ctx.change.workdir.clone(),
        env: super::env::for_agent(spec),
        stdin: Some(ctx.brief.as_bytes().to_vec()),
        timeout: spec.timeout,
        stdout_path,
        stderr_path,
    };
    let output = match process::supervise(&proc_spec, |_| {}, ctx.cancel.clone()).await {
        Ok(o) => o,
        Err(e) => {
            run.outcome = Outcome::failed(
                FailureKind::NotInstalled,
                format!("could not start `{program}`: {e}"),
                format!(
                    "check that `{program}` exists and is executable, or fix [agents.{}].command",
                    spec.name
                ),
            );
            return run;
        }
    };
    run.stats.duration_ms = output.duration.as_millis() as u64;
    run.stderr_tail = output.stderr_tail.clone();
    if let Exit::Code(c) = output.exit {
        run.stats.exit_code = Some(c);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    if let Some(outcome) = answered_before_stop(spec, ctx, &mut run, output.exit, &text) {
        run.outcome = outcome;
        return run;
    }
    run.outcome = match output.exit {
        Exit::Code(0) if ctx.task == super::Task::Judge => {
            run.answer_text = Some(text.into_owned());
            Outcome::Ok
        }
        Exit::Code(0) => match finding::parse_answer(&text) {
            Ok(mut answer) => {
                if output.stdout_truncated {
                    answer.notes.push(process::STDOUT_CAP_NOTE.to_string());
                }
                run.answer = Some(answer);
                Outcome::Ok
            }
            Err(e) => Outcome::failed(
                FailureKind::Malformed,
                e.to_string(),
                "the raw answer is kept in the agent's stdout.txt; make the command print findings JSON (see `deep-review schema`)",
            ),
        },
        Exit::TimedOut => Outcome::failed(
            FailureKind::TimedOut,
            process::describe_exit(output.exit, spec.timeout),
            format!(
                "raise the timeout with --timeout or [agents.{}].timeout",
                spec.name
            ),
        ),
        Exit::Cancelled => Outcome::failed(
            FailureKind::Cancelled,
            process::describe_exit(output.exit, spec.timeout),
            "run the review again to let it finish",
        ),
        Exit::Code(_) | Exit::Signal(_) => Outcome::failed(
            FailureKind::Crashed,
            process::describe_exit(output.exit, spec.timeout),
            "see the stderr tail below and the agent's stderr.txt",
        ),
    };
    run
}

/// An agent stopped at its timeout (or by an interrupt) after printing a complete, valid
/// answer has answered: the answer counts, with a note. None when there is no such answer.
fn answered_before_stop(
    spec: &AgentSpec,
    ctx: &RunContext,
    run: &mut AgentRun,
    exit: Exit,
    text: &str,
) -> Option<Outcome> {
    if !matches!(exit, Exit::TimedOut | Exit::Cancelled) || text.trim().is_empty() {
        return None;
    }
    if ctx.task == super::Task::Judge {
        crate::judge::parse(text).ok()?;
        run.answer_text = Some(text.to_string());
    } else {
        run.answer = Some(finding::parse_answer(text).ok()?);
    }
    run.notes.push(stopped_after_answering(spec, exit));
    Some(Outcome::Ok)
}

/// The note for an agent whose complete answer was used although it had to be stopped.
pub fn stopped_after_answering(spec: &AgentSpec, exit: Exit) -> String {
    let why = match exit {
        Exit::TimedOut => format!(
            "did not exit within its timeout of {}",
            crate::util::human_duration(spec.timeout)
        ),
        _ => "was still running when the review was interrupted".to_string(),
    };
    format!(
        "{} {why} and was stopped after printing a complete answer; that answer is used",
        spec.name
    )
}

/// Relative programs with a slash are taken from the repository root, so configs can say
/// `command = ["./scripts/review.sh"]`; bare names are looked up on PATH.
pub fn resolve_program(program: &str, repo_root: &std::path::Path) -> String {
    let p = std::path::Path::new(program);
    if p.is_relative() && program.contains('/') {
        repo_root.join(p).to_string_lossy().into_owned()
    } else {
        program.to_string()
    }
}
