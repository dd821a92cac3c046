//! Running an agent CLI (claude, codex, gemini) as a reviewer: read-only flags, the brief on
//! stdin, the stream parsed live into tool-call events, the end classified into a typed
//! outcome with a one-line hint, and the answer validated against the findings schema.

use super::adapter::Adapter;
use super::adapter::BoxFuture;
use super::claude;
use super::codex;
use super::gemini;
use super::process;
use super::process::Exit;
use super::stream::StreamParser;
use super::stream::StreamSummary;
use super::AgentKind;
use super::AgentRun;
use super::AgentSpec;
use super::FailureKind;
use super::Outcome;
use super::RunContext;
use super::RunEvent;
use crate::finding;
use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;

/// An agent CLI that takes the brief on stdin and prints a JSON stream: what differs between
/// claude, codex and gemini. [`run`] does the rest for all of them (process supervision, the
/// answer, failures), and every `Cli` is an [`Adapter`] through it.
pub trait Cli: Send + Sync + 'static {
    fn kind(&self) -> AgentKind;
    /// The executable, unless configured otherwise.
    fn binary(&self) -> &'static str;
    fn install_hint(&self) -> &'static str;
    /// What to do when it says it is not logged in.
    fn login_hint(&self) -> &'static str;
    /// Variables holding its credentials and the login files it keeps.
    fn credential_sources(&self) -> (&'static [&'static str], Vec<PathBuf>);
    /// Where its credentials appear to come from ([`Adapter::credentials`]): the first of
    /// its variables that is set, else the first login file that exists.
    fn credentials(&self, _spec: &AgentSpec) -> Option<String> {
        let (vars, files) = self.credential_sources();
        if let Some(v) = vars
            .iter()
            .find(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
        {
            return Some(format!("{v} is set"));
        }
        files
            .into_iter()
            .find(|f| f.exists())
            .map(|f| format!("logged in ({})", f.display()))
    }
    /// Its vendor's variables ([`Adapter::wants_env`]).
    fn wants_env(&self, name: &str, is_set: &dyn Fn(&str) -> bool) -> bool;
    /// Variables derived from its computed environment ([`Adapter::derived_env`]).
    fn derived_env(&self, _env: &BTreeMap<String, String>) -> Vec<(String, String)> {
        Vec::new()
    }
    /// The argv after the program: read-only flags, the task, `spec.args`, and on an
    /// untrusted head [`Cli::untrusted_flags`]. May write files the CLI reads (a schema) into
    /// the agent's folder; an error is the run's outcome.
    fn argv(&self, spec: &AgentSpec, ctx: &RunContext) -> Result<Vec<String>, Outcome>;
    /// Its switches for not loading the reviewed tree's configuration or instructions.
    fn untrusted_flags(&self, workdir: &Path) -> Vec<String>;
    /// Environment it gets on an untrusted head, over the inherited one.
    fn untrusted_env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// A parser for its stdout stream.
    fn parser(&self, spec: &AgentSpec, workdir: &Path) -> Box<dyn StreamParser>;
    /// The HTTP status behind an exit code of its own, when it encodes one.
    fn status_from_exit(&self, _code: i32) -> Option<u16> {
        None
    }
}

impl<T: Cli> Adapter for T {
    fn kind(&self) -> AgentKind {
        Cli::kind(self)
    }

    fn run<'a>(&'a self, spec: &'a AgentSpec, ctx: &'a RunContext) -> BoxFuture<'a, AgentRun> {
        Box::pin(run(self, spec, ctx))
    }

    fn program(&self, spec: &AgentSpec) -> Option<String> {
        Some(
            spec.command
                .first()
                .cloned()
                .unwrap_or_else(|| self.binary().to_string()),
        )
    }

    fn reports_version(&self) -> bool {
        true
    }

    fn credentials(&self, spec: &AgentSpec) -> Option<String> {
        Cli::credentials(self, spec)
    }

    fn needs_credentials(&self) -> bool {
        true
    }

    fn wants_env(&self, _spec: &AgentSpec, name: &str, is_set: &dyn Fn(&str) -> bool) -> bool {
        Cli::wants_env(self, name, is_set)
    }

    fn derived_env(&self, env: &BTreeMap<String, String>) -> Vec<(String, String)> {
        Cli::derived_env(self, env)
    }

    fn implicit(&self) -> bool {
        true
    }

    fn install_hint(&self) -> &'static str {
        Cli::install_hint(self)
    }

    fn default_model(&self) -> &'static str {
        "CLI default"
    }
}

/// The CLI adapter of `kind`, if it is an agent CLI.
pub fn for_kind(kind: AgentKind) -> Option<&'static dyn Cli> {
    match kind {
        AgentKind::Claude => Some(&claude::Claude),
        AgentKind::Codex => Some(&codex::Codex),
        AgentKind::Gemini => Some(&gemini::Gemini),
        _ => None,
    }
}

/// The user's home, where the CLIs keep their logins.
pub fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Runs `cli` as a reviewer.
pub async fn run(cli: &dyn Cli, spec: &AgentSpec, ctx: &RunContext) -> AgentRun {
    let (mut run, stdout_path, stderr_path) =
        AgentRun::with_outputs(spec, &ctx.dirs, "stdout.jsonl");
    let (program, args) = match prepare(cli, spec, ctx) {
        Ok(p) => p,
        Err(outcome) => {
            run.outcome = outcome;
            return run;
        }
    };
    let workdir = ctx.change.workdir.clone();
    let mut parser = cli.parser(spec, &workdir);

    let mut env = super::env::for_agent(spec);
    if ctx.change.untrusted {
        env.extend(cli.untrusted_env());
    }
    let proc_spec = process::ProcessSpec {
        program: program.clone(),
        args,
        cwd: workdir.clone(),
        env,
        stdin: Some(ctx.brief.as_bytes().to_vec()),
        timeout: spec.timeout,
        stdout_path,
        stderr_path,
    };
    let events = ctx.events.clone();
    let agent = spec.name.clone();
    // Supervision stops on `stop`: the review's cancel, relayed, or the parser's word that
    // the run cannot succeed (its CLI cannot reach its API), so both end the process through
    // the same terminate-and-drain path.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let supervised = process::supervise(
        &proc_spec,
        |line| {
            let tokens_before = parser.summary().tokens.clone();
            for tool in parser.feed(line) {
                let _ = events.send(RunEvent::ToolCall {
                    agent: agent.clone(),
                    tool: tool.name,
                    target: tool.target,
                });
            }
            match &parser.summary().tokens {
                Some(t) if Some(t) != tokens_before.as_ref() => {
                    let _ = events.send(RunEvent::Tokens {
                        agent: agent.clone(),
                        tokens: t.clone(),
                    });
                }
                _ => {}
            }
            if parser.summary().unreachable {
                let _ = stop_tx.send(true);
            }
        },
        stop_rx,
    );
    let supervised = tokio::select! {
        output = supervised => output,
        never = relay_cancel(ctx.cancel.clone(), &stop_tx) => match never {},
    };
    let output = match supervised {
        Ok(o) => o,
        Err(e) => {
            let msg = if e.kind() == std::io::ErrorKind::NotFound {
                format!("`{program}` was not found")
            } else {
                format!("could not start `{program}`: {e}")
            };
            run.outcome = Outcome::failed(FailureKind::NotInstalled, msg, cli.install_hint());
            return run;
        }
    };
    parser.finish(&output.stderr_tail);
    let summary = parser.summary().clone();
    record_stats(&mut run, spec, &output, &summary);

    if let Some(failure) = classify(cli, spec, output.exit, &summary) {
        run.outcome = failure;
        return run;
    }
    if matches!(output.exit, Exit::TimedOut | Exit::Cancelled) {
        run.notes
            .push(super::command::stopped_after_answering(spec, output.exit));
    }
    take_answer(&mut run, ctx, &summary, output.stdout_truncated);
    run
}

/// Relays the review's cancel to `stop`, as `process::supervise` reads its cancel (a dropped
/// sender counts as one). Never returns.
async fn relay_cancel(
    mut cancel: tokio::sync::watch::Receiver<bool>,
    stop: &tokio::sync::watch::Sender<bool>,
) -> std::convert::Infallible {
    loop {
        let changed = cancel.changed().await;
        if changed.is_err() || *cancel.borrow() {
            let _ = stop.send(true);
            return std::future::pending().await;
        }
    }
}

/// What to check when an agent cannot reach its model API.
pub const UNREACHABLE_HINT: &str = "check this machine's network, its proxy settings (HTTPS_PROXY and NO_PROXY reach the agent) and the API base URL the agent is configured with, then rerun";

/// The program and its full argv, with the agent's folder made.
fn prepare(
    cli: &dyn Cli,
    spec: &AgentSpec,
    ctx: &RunContext,
) -> Result<(String, Vec<String>), Outcome> {
    let dir = &ctx.dirs.agent;
    // A relative path resolves against the repository, never the reviewed worktree (which
    // the PR's author wrote), as for `command` agents.
    let program = spec
        .command
        .first()
        .map(|p| super::command::resolve_program(p, &ctx.change.repo.root))
        .unwrap_or_else(|| cli.binary().to_string());
    std::fs::create_dir_all(dir).map_err(|e| {
        Outcome::failed(
            FailureKind::Crashed,
            format!("could not create {}: {e}", dir.display()),
            "check the review folder's permissions",
        )
    })?;
    let mut args = cli.argv(spec, ctx)?;
    args.splice(0..0, spec.command.iter().skip(1).cloned());
    Ok((program, args))
}

/// What the run's own output measured: duration, tools, files, tokens, cost, model.
fn record_stats(
    run: &mut AgentRun,
    spec: &AgentSpec,
    output: &process::ProcessOutput,
    summary: &StreamSummary,
) {
    run.stats.duration_ms = output.duration.as_millis() as u64;
    run.stats.tool_calls = summary.tool_calls.clone();
    run.stats.files_read = summary.files_read.iter().cloned().collect();
    run.stats.tokens = summary.tokens.clone();
    run.stats.cost_usd = summary.cost_usd;
    if spec.budget.is_set() {
        run.stats.budget = Some(super::BudgetUse {
            limits: spec.budget.clone(),
            reached: None,
        });
    }
    if let Exit::Code(c) = output.exit {
        run.stats.exit_code = Some(c);
    }
    if let Some(m) = &summary.model {
        run.model = Some(m.clone());
    }
    run.stderr_tail = output.stderr_tail.clone();
}

/// The answer: structured output when the CLI enforced the schema, else the final text; kept
/// in answer.txt and parsed (for a judge run, kept raw).
fn take_answer(run: &mut AgentRun, ctx: &RunContext, summary: &StreamSummary, truncated: bool) {
    let dir = &ctx.dirs.agent;
    let raw = match (&summary.structured, &summary.final_text) {
        (Some(v), _) => v.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => {
            // codex also writes the last message to a file.
            std::fs::read_to_string(dir.join("last-message.txt")).unwrap_or_default()
        }
    };
    crate::artifacts::write_or_log(&dir.join("answer.txt"), &raw);
    if ctx.task == super::Task::Judge {
        run.answer_text = Some(raw);
        return;
    }
    match finding::parse_answer(&raw) {
        Ok(mut answer) => {
            if truncated {
                answer.notes.push(process::STDOUT_CAP_NOTE.to_string());
            }
            run.answer = Some(answer)
        }
        Err(e) => {
            run.outcome = Outcome::failed(
                FailureKind::Malformed,
                e.to_string(),
                "the raw answer is kept in the agent's answer.txt; rerun, or try another model",
            )
        }
    }
}

/// None when the CLI ended well; otherwise the typed failure with what to do about it.
pub fn classify(cli: &dyn Cli, spec: &AgentSpec, exit: Exit, s: &StreamSummary) -> Option<Outcome> {
    let mut status = s.error_status;
    if status.is_none() {
        if let Exit::Code(c) = exit {
            status = cli.status_from_exit(c);
        }
    }
    classify_error(spec, exit, s, status, cli.binary(), cli.login_hint())
}

/// The typed failure of a run that did not end well, from its error text and HTTP status;
/// `binary` and `login_hint` name the program in the hints (any agent that reports errors
/// as text: the CLIs, ACP agents).
pub fn classify_error(
    spec: &AgentSpec,
    exit: Exit,
    s: &StreamSummary,
    status: Option<u16>,
    name: &str,
    login_hint: &str,
) -> Option<Outcome> {
    let timeout_hint = format!(
        "raise the timeout with --timeout or [agents.{}].timeout",
        spec.name
    );
    // Stopped by us (or ended) while it could only retry a connection.
    if s.unreachable {
        let message = s
            .error
            .as_deref()
            .unwrap_or("it cannot reach its model API");
        return Some(Outcome::failed(
            FailureKind::Unreachable,
            crate::secrets::redact_text(message),
            UNREACHABLE_HINT,
        ));
    }
    match exit {
        // The stream already ended with a result: the agent answered and then hung.
        Exit::TimedOut | Exit::Cancelled if s.completed && s.error.is_none() => return None,
        Exit::TimedOut => {
            return Some(Outcome::failed(
                FailureKind::TimedOut,
                process::describe_exit(exit, spec.timeout),
                timeout_hint,
            ))
        }
        Exit::Cancelled => {
            return Some(Outcome::failed(
                FailureKind::Cancelled,
                process::describe_exit(exit, spec.timeout),
                "run the review again to let it finish",
            ))
        }
        Exit::Code(0) if s.completed => return None,
        _ => {}
    }
    let message = crate::secrets::redact_text(
        s.error
            .clone()
            .unwrap_or_else(|| match exit {
                Exit::Code(0) => "the stream ended without a result".to_string(),
                other => process::describe_exit(other, spec.timeout),
            })
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim(),
    );
    let (fk, hint) = kind_of(&message, status, spec, name, login_hint);
    let prefix = match exit {
        Exit::Code(c) if c != 0 => format!("exited with status {c}: "),
        Exit::Signal(sig) => format!("killed by signal {sig}: "),
        _ => String::new(),
    };
    Some(Outcome::failed(fk, format!("{prefix}{message}"), hint))
}

/// The failure a CLI's error message (and HTTP status, when known) describes, with its hint.
fn kind_of(
    message: &str,
    status: Option<u16>,
    spec: &AgentSpec,
    name: &str,
    login_hint: &str,
) -> (FailureKind, String) {
    let lower = message.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if matches!(status, Some(401) | Some(403))
        || has(&[
            "invalid api key",
            "authentication",
            "not logged in",
            "unauthorized",
            "/login",
            "invalid auth",
            "api key not valid",
        ])
    {
        (FailureKind::NotLoggedIn, login_hint.to_string())
    } else if has(&[
        "quota",
        "resource_exhausted",
        "insufficient_quota",
        "usage limit",
        "billing",
        "credit balance",
    ]) {
        (
            FailureKind::QuotaExhausted,
            "the account's quota is used up; wait for it to reset, raise the limit, or use another account".to_string(),
        )
    } else if status == Some(429) || has(&["rate limit", "too many requests", "overloaded"]) {
        (
            FailureKind::RateLimited,
            "wait a minute and rerun, or run fewer reviews at once".to_string(),
        )
    } else if status == Some(404)
        || (lower.contains("model")
            && has(&[
                "not found",
                "does not exist",
                "unknown",
                "not supported",
                "invalid",
            ]))
    {
        (
            FailureKind::ModelUnknown,
            format!(
                "check `model` in [agents.{}]{}",
                spec.name,
                spec.model
                    .as_deref()
                    .map(|m| format!(" (it is `{m}`)"))
                    .unwrap_or_default()
            ),
        )
    } else if has(&[
        "connection refused",
        "error sending request",
        "failed to lookup address",
        "dns error",
        "network is unreachable",
    ]) {
        (FailureKind::Unreachable, UNREACHABLE_HINT.to_string())
    } else {
        (
            FailureKind::Crashed,
            format!("see the stderr tail below and the agent's stderr.txt; `{name} --version` checks the install"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(
        kind: AgentKind,
        exit: Exit,
        error: &str,
        status: Option<u16>,
    ) -> (FailureKind, String) {
        let spec = AgentSpec::new(kind.as_str(), kind, std::time::Duration::from_secs(60));
        let summary = StreamSummary {
            error: Some(error.to_string()),
            error_status: status,
            ..StreamSummary::default()
        };
        match classify(for_kind(kind).unwrap(), &spec, exit, &summary) {
            Some(Outcome::Failed { kind, hint, .. }) => (kind, hint),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn failures_are_typed_with_hints() {
        let (k, hint) = failure(
            AgentKind::Codex,
            Exit::Code(1),
            "unexpected status 401 Unauthorized",
            Some(401),
        );
        assert_eq!(k, FailureKind::NotLoggedIn);
        assert!(hint.contains("CODEX_API_KEY"), "{hint}");
        let (k, _) = failure(
            AgentKind::Codex,
            Exit::Code(1),
            "You exceeded your current quota, please check your plan and billing details",
            Some(429),
        );
        assert_eq!(k, FailureKind::QuotaExhausted);
        let (k, _) = failure(
            AgentKind::Gemini,
            Exit::Code(1),
            "[API Error: RESOURCE_EXHAUSTED: daily limit]",
            None,
        );
        assert_eq!(k, FailureKind::QuotaExhausted);
        let (k, hint) = failure(
            AgentKind::Claude,
            Exit::Code(1),
            "API Error: model: claude-opus-9 not found",
            Some(404),
        );
        assert_eq!(k, FailureKind::ModelUnknown);
        assert!(hint.contains("[agents.claude]"), "{hint}");
        let (k, _) = failure(
            AgentKind::Gemini,
            Exit::Code(148),
            "Requested entity was not found.",
            None,
        );
        assert_eq!(k, FailureKind::ModelUnknown, "gemini exits 404 mod 256");
        let (k, _) = failure(AgentKind::Claude, Exit::Signal(11), "", None);
        assert_eq!(k, FailureKind::Crashed);
        let (k, hint) = failure(
            AgentKind::Codex,
            Exit::Code(1),
            "stream disconnected before completion: Connection refused (os error 111)",
            None,
        );
        assert_eq!(k, FailureKind::Unreachable);
        assert!(hint.contains("proxy"), "{hint}");
    }

    #[test]
    fn a_run_the_parser_found_unreachable_fails_as_such_however_it_ended() {
        let spec = AgentSpec::new(
            "codex",
            AgentKind::Codex,
            std::time::Duration::from_secs(60),
        );
        let summary = StreamSummary {
            unreachable: true,
            error: Some("codex could not connect".into()),
            ..StreamSummary::default()
        };
        for exit in [Exit::Cancelled, Exit::Code(1), Exit::TimedOut] {
            match classify(&codex::Codex, &spec, exit, &summary) {
                Some(Outcome::Failed {
                    kind,
                    message,
                    hint,
                }) => {
                    assert_eq!(kind, FailureKind::Unreachable, "{exit:?}");
                    assert_eq!(message, "codex could not connect");
                    assert_eq!(hint, UNREACHABLE_HINT);
                }
                other => panic!("{exit:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn read_only_flags_are_always_on_the_command_line() {
        let c = claude::args(Some("opus"), Some("xhigh"), "{}", &[]);
        let joined = c.join(" ");
        assert!(joined.contains("--permission-mode dontAsk"), "{joined}");
        assert!(
            joined.contains("--tools Read Grep Glob --allowedTools Read Grep Glob"),
            "{joined}"
        );
        assert!(
            !c.iter()
                .any(|a| a == "Bash" || a == "Edit" && !joined.contains("--disallowedTools Edit")),
            "{joined}"
        );
        assert!(
            !joined.contains("bypassPermissions") && !joined.contains("dangerously"),
            "{joined}"
        );
        let with_git = claude::args(None, None, "{}", &["git log".to_string()]).join(" ");
        assert!(
            with_git.contains(
                "--tools Read Grep Glob Bash --allowedTools Read Grep Glob Bash(git log *)"
            ),
            "{with_git}"
        );

        let x = codex::args(
            Some("gpt-5.5"),
            Some("xhigh"),
            std::path::Path::new("/w"),
            std::path::Path::new("/s.json"),
            std::path::Path::new("/o.txt"),
        );
        let joined = x.join(" ");
        assert!(
            joined.starts_with("exec --json --sandbox read-only"),
            "{joined}"
        );
        assert!(
            joined.contains("-c model_reasoning_effort=xhigh"),
            "{joined}"
        );
        assert!(
            !joined.contains("workspace-write") && !joined.contains("danger"),
            "{joined}"
        );

        let g = gemini::args(Some("gemini-2.5-pro")).join(" ");
        assert!(
            g.contains("--skip-trust") && g.contains("--approval-mode default"),
            "{g}"
        );
        assert!(!g.contains("yolo") && !g.contains("-y "), "{g}");
    }
}
