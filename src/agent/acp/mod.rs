//! The `acp` adapter: any Agent Client Protocol agent (Gemini CLI, OpenCode, Qwen Code,
//! Copilot CLI, Goose, …) as a reviewer, with deep-review as the ACP client ([`client`]).
//!
//! The agent runs under the same supervision as every other agent ([`super::process`]): its
//! own process group led by a keeper, the allowlisted environment, the timeout and Ctrl-C
//! killing the group. Its stdout (the agent's JSON-RPC) goes masked to `stdout.jsonl` and
//! every message deep-review sent it goes masked to `stdin.jsonl`; both are written as they
//! flow. The answer is the text of the agent's message chunks, kept in `answer.txt` even when
//! the run fails, and parsed as findings JSON.

pub mod client;
pub mod presets;

use super::adapter::Adapter;
use super::adapter::BoxFuture;
use super::process;
use super::process::Exit;
use super::AgentKind;
use super::AgentRun;
use super::AgentSpec;
use super::FailureKind;
use super::Outcome;
use super::RunContext;
use crate::finding;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// What the prompt adds to the brief.
pub const INSTRUCTION: &str = "Review the code change described above, as the brief instructs. Read the repository as needed through your file-reading tools (deep-review answers reads inside the reviewed tree); writing files, running commands and permission requests are refused. End with your answer as one JSON object in a ```json fenced block, following the schema in the brief.";

/// After the turn ends (and stdin closes), how long the agent gets to exit by itself.
const EXIT_GRACE: Duration = Duration::from_secs(2);
/// Refusals listed one by one in the review's notes; the rest are counted.
const REFUSALS_SHOWN: usize = 8;

/// How the agent is started: program, arguments, environment, and a model to set over the
/// protocol when the agent has no flag for it.
struct Launch {
    program: String,
    args: Vec<String>,
    env: std::collections::BTreeMap<String, String>,
    set_model: Option<String>,
}

fn launch(spec: &AgentSpec, ctx: &RunContext) -> Result<Launch, Outcome> {
    let Some((program, rest)) = spec.command.split_first() else {
        return Err(Outcome::failed(
            FailureKind::NotInstalled,
            "no command configured",
            format!(
                "set `preset = \"opencode\"` (one of {}) or `command = [\"agent\", \"acp\"]` in [agents.{}]",
                presets::names(),
                spec.name
            ),
        ));
    };
    let preset = presets::for_spec(spec);
    if ctx.change.untrusted && preset.is_none() && !spec.allow_untrusted {
        return Err(Outcome::failed(
            FailureKind::Refused,
            format!(
                "`{program}` matches no ACP preset, so deep-review cannot keep its own tools from running or its project configuration from loading on this untrusted head; it was not started"
            ),
            format!(
                "in [agents.{}], set `preset = \"…\"` (one of {}) if it is one of those, or `allow_untrusted = true` if you vouch that it neither runs tools of its own nor reads the project's configuration",
                spec.name,
                presets::names()
            ),
        ));
    }
    let mut args: Vec<String> = rest.to_vec();
    args.extend(spec.args.iter().cloned());
    let mut env = super::env::for_agent(spec);
    let mut set_model = None;
    let model = spec.model.as_deref().filter(|m| !m.is_empty());
    match preset {
        Some(p) if p.name == "opencode" => {
            let user = env.get("OPENCODE_CONFIG_CONTENT").cloned();
            let extra = presets::opencode_env(user.as_deref(), model).map_err(|why| {
                Outcome::failed(
                    FailureKind::Crashed,
                    why,
                    format!("fix OPENCODE_CONFIG_CONTENT in [agents.{}].env", spec.name),
                )
            })?;
            env.extend(extra);
        }
        Some(p) => {
            if let (Some(flag), Some(m)) = (p.model_flag, model) {
                args.extend([flag.to_string(), m.to_string()]);
            } else {
                set_model = model.map(String::from);
            }
        }
        None => set_model = model.map(String::from),
    }
    if ctx.change.untrusted && preset.is_some_and(|p| p.name == "gemini-acp") {
        use super::cli::Cli;
        args.extend(super::gemini::Gemini.untrusted_flags(&ctx.change.workdir));
        env.extend(super::gemini::Gemini.untrusted_env());
    }
    Ok(Launch {
        program: super::command::resolve_program(program, &ctx.change.repo.root),
        args,
        env,
        set_model,
    })
}

/// The `acp` kind's [`Adapter`].
pub struct Acp;

impl Adapter for Acp {
    fn kind(&self) -> AgentKind {
        AgentKind::Acp
    }

    fn run<'a>(&'a self, spec: &'a AgentSpec, ctx: &'a RunContext) -> BoxFuture<'a, AgentRun> {
        Box::pin(run(spec, ctx))
    }

    fn reports_version(&self) -> bool {
        true
    }

    /// Its preset's variables; none for an agent deep-review does not know (`pass_env`).
    fn wants_env(&self, spec: &AgentSpec, name: &str, _is_set: &dyn Fn(&str) -> bool) -> bool {
        presets::for_spec(spec).is_some_and(|p| p.env_prefixes.iter().any(|x| name.starts_with(x)))
    }

    fn credentials(&self, spec: &AgentSpec) -> Option<String> {
        presets::for_spec(spec).and_then(|p| p.credentials_found())
    }

    fn install_hint(&self) -> &'static str {
        "configure [agents.NAME] with kind = \"acp\" and a preset or a command (see README)"
    }

    fn default_model(&self) -> &'static str {
        "agent default"
    }
}

pub async fn run(spec: &AgentSpec, ctx: &RunContext) -> AgentRun {
    let (mut run, stdout_path, stderr_path) =
        AgentRun::with_outputs(spec, &ctx.dirs, "stdout.jsonl");
    let launch = match launch(spec, ctx) {
        Ok(l) => l,
        Err(outcome) => {
            run.outcome = outcome;
            return run;
        }
    };
    let workdir = ctx.change.workdir.clone();
    let proc_spec = process::ProcessSpec {
        program: launch.program.clone(),
        args: launch.args,
        cwd: workdir.clone(),
        env: launch.env,
        stdin: None,
        timeout: spec.timeout,
        stdout_path,
        stderr_path,
    };
    let tree = Arc::new(client::Tree {
        guard: crate::tree_guard::ReviewedTree::new(
            crate::change::Repo {
                root: workdir.clone(),
            },
            ctx.change.head.tree().source().clone(),
        ),
        workdir: workdir.clone(),
    });
    let found = Arc::new(Mutex::new(client::Findings {
        workdir: workdir.clone(),
        ..client::Findings::default()
    }));
    let prompt = format!("{}\n\n{INSTRUCTION}\n", ctx.brief.trim_end());
    let (exit, output) = converse(
        spec,
        ctx,
        &proc_spec,
        prompt,
        tree,
        &found,
        launch.set_model,
    )
    .await;
    let output = match output {
        Ok(o) => o,
        Err(e) => {
            let msg = if e.kind() == std::io::ErrorKind::NotFound {
                format!("`{}` was not found", launch.program)
            } else {
                format!("could not start `{}`: {e}", launch.program)
            };
            let hint = presets::for_spec(spec)
                .map(|p| {
                    format!(
                        "install it ({}), or fix [agents.{}].command",
                        p.install, spec.name
                    )
                })
                .unwrap_or_else(|| {
                    format!(
                        "check that the program exists, or fix [agents.{}].command",
                        spec.name
                    )
                });
            run.outcome = Outcome::failed(FailureKind::NotInstalled, msg, hint);
            return run;
        }
    };
    let mut f = match found.lock() {
        Ok(mut f) => std::mem::take(&mut *f),
        Err(_) => client::Findings::default(),
    };
    finish(spec, ctx, &mut run, &mut f, exit, &output);
    run
}

/// Runs the agent and the conversation side by side. Returns the exit as the adapter sees it
/// (`Cancelled` only when the user interrupted; an agent stopped after its turn ended has
/// `Code(0)`) and the process's output.
async fn converse(
    spec: &AgentSpec,
    ctx: &RunContext,
    proc_spec: &process::ProcessSpec,
    prompt: String,
    tree: Arc<client::Tree>,
    found: &Arc<Mutex<client::Findings>>,
    set_model: Option<String>,
) -> (Exit, std::io::Result<process::ProcessOutput>) {
    let (to_agent, to_agent_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let (from_agent, from_agent_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (exited_tx, mut exited_rx) = tokio::sync::watch::channel(false);
    let interrupted = AtomicBool::new(false);

    let outgoing = futures::sink::unfold(to_agent, |tx, line: String| async move {
        tx.send(format!("{line}\n").into_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        Ok::<_, std::io::Error>(tx)
    });
    let incoming = futures::stream::unfold(from_agent_rx, |mut rx| async move {
        rx.recv().await.map(|line| (Ok(line), rx))
    });
    let transport = agent_client_protocol::Lines::new(outgoing, incoming);

    let conversation = async {
        let talk = client::converse(
            transport,
            prompt,
            tree,
            Arc::clone(found),
            ctx.events.clone(),
            spec.name.clone(),
            set_model,
        );
        tokio::pin!(talk);
        let result = tokio::select! {
            r = &mut talk => Some(r),
            _ = exited(&mut exited_rx) => tokio::time::timeout(EXIT_GRACE, &mut talk).await.ok(),
        };
        if let (Some(Err(e)), Ok(mut f)) = (result, found.lock()) {
            f.summary.error = Some(e.to_string());
        }
        // The turn is over and stdin is closed; an agent that does not exit by itself is
        // stopped (its group killed) like any other.
        let _ = tokio::time::timeout(EXIT_GRACE, exited(&mut exited_rx)).await;
        let _ = stop_tx.send(true);
    };
    let supervised = async {
        let found = Arc::clone(found);
        let out = process::supervise_duplex(
            proc_spec,
            Some(process::Duplex {
                input: to_agent_rx,
                log: ctx.dirs.agent.join("stdin.jsonl"),
            }),
            move |line| {
                peek(line, &found);
                if !line.trim().is_empty() {
                    let _ = from_agent.send(line.to_string());
                }
            },
            stop_rx,
        )
        .await;
        let _ = exited_tx.send(true);
        out
    };
    let ((), output) = tokio::select! {
        r = async { tokio::join!(conversation, supervised) } => r,
        () = forward_cancel(ctx.cancel.clone(), &interrupted, &stop_tx) => {
            unreachable!("forwarding never ends")
        }
    };
    let exit = match &output {
        Ok(o) if o.exit == Exit::Cancelled && !interrupted.load(Ordering::SeqCst) => Exit::Code(0),
        Ok(o) => o.exit,
        Err(_) => Exit::Code(-1),
    };
    (exit, output)
}

/// Stops the agent when the user interrupts the review, and remembers that it was them.
/// Never returns.
async fn forward_cancel(
    mut cancel: tokio::sync::watch::Receiver<bool>,
    interrupted: &AtomicBool,
    stop_tx: &tokio::sync::watch::Sender<bool>,
) {
    loop {
        if cancel.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        if *cancel.borrow() {
            interrupted.store(true, Ordering::SeqCst);
            let _ = stop_tx.send(true);
            std::future::pending::<()>().await;
        }
    }
}

/// Until the agent's process is gone.
async fn exited(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|e| *e).await.map(|_| ());
}

/// What the protocol's typed messages do not carry in this SDK version but agents report:
/// the model of `session/new` (`models.currentModelId`) and a prompt turn's `usage`.
fn peek(line: &str, found: &Mutex<client::Findings>) {
    if !line.contains("\"result\"") {
        return;
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
        return;
    };
    let Ok(mut f) = found.lock() else { return };
    if let Some(m) = v["result"]["models"]["currentModelId"].as_str() {
        f.summary.model = Some(m.to_string());
    }
    // The stable protocol's model: a `model` config option of `session/new`.
    let options = v["result"]["configOptions"]
        .as_array()
        .into_iter()
        .flatten();
    for o in options.filter(|o| o["category"] == "model" || o["id"] == "model") {
        if let Some(m) = o["currentValue"].as_str() {
            f.summary.model = Some(m.to_string());
        }
    }
    // The ACP draft's `usage`, or Gemini CLI's `_meta.quota`.
    let usage = &v["result"]["usage"];
    let quota = &v["result"]["_meta"]["quota"];
    if usage.is_object() {
        let n = |k: &str| usage[k].as_u64().unwrap_or(0);
        f.summary.tokens = Some(super::Tokens {
            input: n("inputTokens"),
            output: n("outputTokens"),
            cached: n("cachedReadTokens"),
        });
    } else if quota["token_count"].is_object() {
        let n = |k: &str| quota["token_count"][k].as_u64().unwrap_or(0);
        f.summary.tokens = Some(super::Tokens {
            input: n("input_tokens"),
            output: n("output_tokens"),
            cached: 0,
        });
        if let Some(m) = quota["model_usage"][0]["model"].as_str() {
            f.summary.model = Some(m.to_string());
        }
    }
}

fn finish(
    spec: &AgentSpec,
    ctx: &RunContext,
    run: &mut AgentRun,
    f: &mut client::Findings,
    exit: Exit,
    output: &process::ProcessOutput,
) {
    let s = &mut f.summary;
    run.stats.duration_ms = output.duration.as_millis() as u64;
    run.stats.tool_calls = s.tool_calls.clone();
    run.stats.files_read = s.files_read.iter().cloned().collect();
    run.stats.tokens = s.tokens.clone();
    run.stats.cost_usd = s.cost_usd;
    if let Exit::Code(c) = output.exit {
        run.stats.exit_code = Some(c);
    }
    if let Some(m) = &s.model {
        run.model = Some(m.clone());
    }
    run.stderr_tail = output.stderr_tail.clone();
    run.notes.extend(refusal_notes(&spec.name, &f.refused));
    let raw = s.final_text.clone().unwrap_or_default();
    // Kept whatever happens: a partial answer is evidence too.
    crate::artifacts::write_or_log(&ctx.dirs.agent.join("answer.txt"), &raw);
    s.completed = f.stage == "done";
    if !s.completed && s.error.is_none() {
        s.error = Some(format!(
            "the agent ended the conversation during {}",
            if f.stage.is_empty() {
                "start-up"
            } else {
                f.stage
            }
        ));
    }
    // The turn ended: how the agent then exited (we closed its stdin, or stopped it) does
    // not matter.
    let exit = if s.completed { Exit::Code(0) } else { exit };
    let program = spec.command.first().map_or("the agent", String::as_str);
    let login = "log in with the agent itself (or give it its key with `env` / `pass_env`)";
    if let Some(failure) = super::cli::classify_error(spec, exit, s, s.error_status, program, login)
    {
        run.outcome = failure;
        return;
    }
    if ctx.task == super::Task::Judge {
        run.answer_text = Some(raw);
        return;
    }
    match finding::parse_answer(&raw) {
        Ok(mut answer) => {
            if output.stdout_truncated {
                answer.notes.push(process::STDOUT_CAP_NOTE.to_string());
            }
            run.answer = Some(answer);
        }
        Err(e) => {
            let why = match f.stop_reason.as_deref() {
                Some(r) if r != "end_turn" => format!("{e} (the turn ended with `{r}`)"),
                _ => e.to_string(),
            };
            run.outcome = Outcome::failed(
                FailureKind::Malformed,
                why,
                "the raw answer is kept in the agent's answer.txt and the conversation in stdout.jsonl / stdin.jsonl; rerun, or try another model",
            );
        }
    }
}

/// The review's notes for what was refused: the first few one by one, the rest counted.
fn refusal_notes(agent: &str, refused: &[String]) -> Vec<String> {
    let mut notes: Vec<String> = refused
        .iter()
        .take(REFUSALS_SHOWN)
        .map(|r| format!("{agent}: deep-review {r}"))
        .collect();
    if refused.len() > REFUSALS_SHOWN {
        notes.push(format!(
            "{agent}: deep-review refused {} more requests (see its stdin.jsonl)",
            refused.len() - REFUSALS_SHOWN
        ));
    }
    notes
}
