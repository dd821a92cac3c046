//! HTTP model reviewers: `openai` (any OpenAI-compatible endpoint), `anthropic` and
//! `gemini-api`, called in-process with a small read-only tool loop.
//!
//! One loop serves the three wire formats ([`wire::Wire`]): send the brief, stream the turn
//! into the transcript, run the tool calls it asks for ([`tools`], through the path guard),
//! send the results, until the model answers, its turns run out or its budget is reached
//! (then it is told to answer now, without tools). The key comes from an environment
//! variable, is masked in everything written, and is sent only to the configured endpoint
//! (no redirect is followed, [`exchange`]).
//!
//! Tool calls are bounded like the requests: at most [`MAX_CALLS_PER_TURN`] run from one turn
//! (the rest are refused, and counted), and the agent's deadline and the review's interruption
//! are checked before each call and inside the long ones (grep's file loop).

pub mod anthropic;
pub mod budget;
mod exchange;
pub mod gemini_api;
pub mod openai;
pub mod openai_responses;
pub mod retry;
pub mod settings;
pub mod sse;
pub mod tools;
pub mod wire;

pub use budget::Price;
pub use settings::Api;
pub use settings::Settings;

use super::AgentKind;
use super::AgentRun;
use super::AgentSpec;
use super::BudgetUse;
use super::FailureKind;
use super::Outcome;
use super::RunContext;
use super::RunEvent;
use super::Task;
use exchange::Exchange;
use exchange::Failure;
use retry::Refusal;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use wire::Message;
use wire::ToolMode;
use wire::Turn;

/// The most tool calls run from one turn; the model is told the rest were refused.
pub const MAX_CALLS_PER_TURN: usize = 16;

const SYSTEM_TOOLS: &str = "You are one of several independent reviewers of a code change. The change, the repository's notes and instructions, and the JSON Schema of the answer are in the user's message. You can read the reviewed revision with the tools (read_file, grep, list_dir, and git_log, git_show, git_blame over the reviewed range's history): they only read, only inside the reviewed tree, and each result is cut at 64 KiB. Read what you need to be sure of a finding, and cite lines as they are in the files. When you are done, answer with only the JSON object the schema describes, and no prose around it.";
const SYSTEM_NO_TOOLS: &str = "You are one of several independent reviewers of a code change. The change, the repository's notes and instructions, and the JSON Schema of the answer are in the user's message. Review from that message alone, cite lines as they are in the diff, and answer with only the JSON object the schema describes, and no prose around it.";

pub async fn run(spec: &AgentSpec, ctx: &RunContext) -> AgentRun {
    let (mut run, transcript, _) = AgentRun::with_outputs(spec, &ctx.dirs, "transcript.txt");
    run.stderr_path = None;
    let var = settings::key_env(spec);
    let key = match settings::key(spec) {
        Ok(k) => k,
        Err(var) => {
            run.outcome = Outcome::failed(
                FailureKind::NotLoggedIn,
                format!("{var} is not set"),
                format!("put the API key in {var} (or name the variable that holds it with [agents.{}].api_key_env); a local base_url needs none", spec.name),
            );
            return run;
        }
    };
    if let Some(k) = &key {
        crate::secrets::add_secret(&var, k);
    }
    let mut session = Session::new(spec, ctx, key, &transcript);
    let result = session.converse().await;
    session.finish(run, result)
}

/// The adapter of one HTTP kind; the kinds differ only in their wire format ([`wire_for`]).
pub struct Http(AgentKind);

pub static OPENAI: Http = Http(AgentKind::Openai);
pub static ANTHROPIC: Http = Http(AgentKind::Anthropic);
pub static GEMINI_API: Http = Http(AgentKind::GeminiApi);

impl super::Adapter for Http {
    fn kind(&self) -> AgentKind {
        self.0
    }

    fn run<'a>(
        &'a self,
        spec: &'a AgentSpec,
        ctx: &'a RunContext,
    ) -> super::adapter::BoxFuture<'a, AgentRun> {
        Box::pin(run(spec, ctx))
    }

    /// In-process: no program, and no environment to pass.
    fn program(&self, _spec: &AgentSpec) -> Option<String> {
        None
    }

    fn credentials(&self, spec: &AgentSpec) -> Option<String> {
        Some(settings::credentials(spec))
    }

    fn install_hint(&self) -> &'static str {
        "configure it in .deep-review.toml with kind, model, base_url and api_key_env (see README, HTTP reviewers)"
    }
}

/// The wire format of `spec`'s kind, at its endpoint.
fn wire_for(spec: &AgentSpec) -> Box<dyn wire::Wire> {
    let base_url = settings::base_url(spec);
    match (spec.kind, spec.http.api) {
        (AgentKind::Anthropic, _) => Box::new(anthropic::Messages { base_url }),
        (AgentKind::GeminiApi, _) => Box::new(gemini_api::Gemini { base_url }),
        (_, Api::Responses) => Box::new(openai_responses::Responses { base_url }),
        (_, Api::Chat) => Box::new(openai::Chat { base_url }),
    }
}

struct Session<'a> {
    spec: &'a AgentSpec,
    ctx: &'a RunContext,
    wire: Box<dyn wire::Wire>,
    ex: Exchange,
    key: Option<String>,
    /// None when the model reviews without tools (`tools = false`, or it does not take them).
    tools: Option<tools::Tools>,
    defs: Vec<tools::ToolDef>,
    messages: Vec<Message>,
    schema: serde_json::Value,
    /// The endpoint takes the answer's schema (until it says otherwise).
    structured: bool,
    shrunk: bool,
    spend: budget::Spend,
    price: Option<Price>,
    tool_calls: BTreeMap<String, u32>,
    files_read: BTreeSet<String>,
    notes: Vec<String>,
    reached: Option<String>,
    /// What the model had said when the run failed.
    partial: String,
}

impl<'a> Session<'a> {
    fn new(
        spec: &'a AgentSpec,
        ctx: &'a RunContext,
        key: Option<String>,
        transcript: &std::path::Path,
    ) -> Session<'a> {
        let deadline = tokio::time::Instant::now() + spec.timeout;
        let ex = Exchange::new(
            deadline,
            ctx.cancel.clone(),
            sse::Transcript::create(transcript),
        );
        let model = spec.model.clone().unwrap_or_default();
        Session {
            spec,
            ctx,
            wire: wire_for(spec),
            ex,
            key,
            tools: (!spec.http.no_tools).then(|| tools::Tools::new(&ctx.change)),
            defs: tools::definitions(),
            messages: vec![Message::User(ctx.brief.to_string())],
            schema: ctx.task.strict_schema(),
            structured: true,
            shrunk: false,
            spend: budget::Spend::default(),
            price: budget::price_of(&model, &spec.http.prices),
            tool_calls: BTreeMap::new(),
            files_read: BTreeSet::new(),
            notes: Vec::new(),
            reached: None,
            partial: String::new(),
        }
    }

    fn has_calls(&self) -> bool {
        self.messages
            .iter()
            .any(|m| matches!(m, Message::Assistant { calls, .. } if !calls.is_empty()))
    }

    /// Turns until the model answers; the answer's text, or the failed outcome.
    async fn converse(&mut self) -> Result<String, Outcome> {
        let max_turns = self
            .spec
            .http
            .max_turns
            .unwrap_or(settings::DEFAULT_MAX_TURNS);
        // The review's budget may be spent before this agent starts (a judge after the
        // reviewers): then it answers from the brief alone.
        let mut forced = match self.spend.reached(&self.spec.budget) {
            Some(why) => {
                self.reached = Some(why);
                true
            }
            None => false,
        };
        for n in 1..=max_turns {
            let mode = match (&self.tools, forced || n == max_turns) {
                (Some(_), false) => ToolMode::Auto,
                _ if self.has_calls() => ToolMode::Forbidden,
                _ => ToolMode::Off,
            };
            let turn = self.turn(mode).await?;
            self.spend.add(&turn.usage, self.price.as_ref());
            if self.spend.tokens.input + self.spend.tokens.output > 0 {
                let _ = self.ctx.events.send(RunEvent::Tokens {
                    agent: self.spec.name.clone(),
                    tokens: self.spend.tokens.clone(),
                });
            }
            let calls = if mode == ToolMode::Auto && self.tools.is_some() {
                turn.calls.clone()
            } else {
                Vec::new()
            };
            if mode != ToolMode::Auto && !turn.calls.is_empty() {
                self.notes.push(format!(
                    "{} asked for tools after being told to answer; those calls were not run",
                    self.spec.name
                ));
            }
            self.messages.push(Message::Assistant {
                text: turn.text.clone(),
                calls: calls.clone(),
                raw: turn.raw.clone(),
            });
            if calls.is_empty() {
                return Ok(turn.text);
            }
            let results = match self.run_tools(&calls, &turn.text).await {
                Ok(r) => r,
                Err(f) => return Err(self.failed(f)),
            };
            let note = self.answer_now(n + 1 == max_turns, max_turns);
            forced = note.is_some();
            self.messages.push(Message::Results { results, note });
        }
        Ok(String::new())
    }

    /// The word that ends the tool loop, when its budget or its turns are used up.
    fn answer_now(&mut self, last_turn_next: bool, max_turns: u32) -> Option<String> {
        if let Some(why) = self.spend.reached(&self.spec.budget) {
            self.ex
                .transcript
                .note(&format!("budget: {why} reached; asking for the answer"));
            let text = format!("You have reached {why}. Do not call any more tools: answer now with the JSON object, from what you have read so far.");
            self.reached = Some(why);
            return Some(text);
        }
        if last_turn_next {
            self.ex.transcript.note(&format!(
                "turns: {max_turns} reached; asking for the answer"
            ));
            self.notes.push(format!(
                "{} used its {max_turns} turns (max_turns) and was asked to answer",
                self.spec.name
            ));
            return Some(format!("This is your last turn ({max_turns} turns). Do not call any more tools: answer now with the JSON object, from what you have read so far."));
        }
        None
    }

    /// One turn, recovering once from what the endpoint says it cannot take: a brief too long
    /// for the context (shrunk once), the answer's schema, tools.
    async fn turn(&mut self, mut mode: ToolMode) -> Result<Turn, Outcome> {
        loop {
            let schema_sent = mode != ToolMode::Auto && self.structured;
            let system = if self.tools.is_some() || self.has_calls() {
                SYSTEM_TOOLS
            } else {
                SYSTEM_NO_TOOLS
            };
            let model = self.spec.model.as_deref().unwrap_or_default();
            let call = self.wire.call(&wire::Request {
                model,
                system,
                messages: &self.messages,
                tools: &self.defs,
                tool_mode: mode,
                schema: schema_sent.then_some(&self.schema),
                key: self.key.as_deref(),
            });
            let failure = match self.ex.turn(&call, self.wire.decoder()).await {
                Ok(t) => return Ok(t),
                Err(f) => f,
            };
            let Failure::Status { status, message } = failure else {
                return Err(self.failed(failure));
            };
            let refusal = retry::refusal(status, &message);
            let note = match refusal {
                Refusal::ContextLength if !self.shrunk => {
                    self.shrink();
                    format!("the model's context is too small for the brief ({message}); the brief was shrunk and sent again")
                }
                Refusal::ContextLength => {
                    return Err(Outcome::failed(
                        FailureKind::Crashed,
                        format!("the brief does not fit the model's context, even shrunk: {message}"),
                        format!("use a model with a larger context window in [agents.{}], or review a smaller range", self.spec.name),
                    ))
                }
                Refusal::Other => return Err(self.status_failure(status, &message)),
                _ if schema_sent => {
                    self.structured = false;
                    format!("the endpoint does not take the answer's JSON Schema ({message}); asked without it")
                }
                _ if mode != ToolMode::Off && !self.has_calls() => {
                    self.tools = None;
                    mode = ToolMode::Off;
                    format!("the model does not take tools ({message}); it reviewed from the brief alone")
                }
                _ => return Err(self.status_failure(status, &message)),
            };
            self.ex.transcript.note(&note);
            self.notes.push(format!("{}: {note}", self.spec.name));
        }
    }

    /// The brief cut to half at a line's end, and long tool results cut to 4 KiB.
    fn shrink(&mut self) {
        self.shrunk = true;
        for m in &mut self.messages {
            match m {
                Message::User(text) if text.len() > 2048 => {
                    let mut end = text.len() / 2;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    let end = text[..end].rfind('\n').unwrap_or(end);
                    text.truncate(end);
                    text.push_str("\n\n[The rest of this brief was cut to fit the model's context. Read the changed files with the tools where you can.]\n");
                }
                Message::Results { results, .. } => {
                    for r in results.iter_mut().filter(|r| r.content.len() > 4096) {
                        r.content = wire::shorten(&r.content, 4096) + "\n[cut to fit the context]";
                    }
                }
                _ => {}
            }
        }
    }

    /// Runs the turn's calls in order, up to [`MAX_CALLS_PER_TURN`]; stops (with the turn's
    /// `text` kept) when the deadline passes or the review is interrupted.
    async fn run_tools(
        &mut self,
        calls: &[wire::ToolCall],
        text: &str,
    ) -> Result<Vec<wire::ToolResult>, Failure> {
        let stop = tools::Stop::new(self.ex.deadline().into_std(), self.ctx.cancel.clone());
        let kept = || Turn {
            text: text.to_string(),
            ..Turn::default()
        };
        let mut results = Vec::new();
        for (i, c) in calls.iter().enumerate() {
            if let Some(s) = self.ex.stop_now() {
                return Err(Exchange::stopped(s, kept()));
            }
            let name = wire::shorten(c.name.trim(), 64);
            *self.tool_calls.entry(name.clone()).or_insert(0) += 1;
            let _ = self.ctx.events.send(RunEvent::ToolCall {
                agent: self.spec.name.clone(),
                tool: name.clone(),
                target: call_target(&c.args),
            });
            let out = if i >= MAX_CALLS_PER_TURN {
                tools::Output::refused(format!("refused: too many calls in one turn (at most {MAX_CALLS_PER_TURN} run); ask again for what you still need, fewer at a time"))
            } else {
                match self.call_tool(&name, &c.args, &stop).await {
                    Ok(out) => out,
                    Err(s) => return Err(Exchange::stopped(s, kept())),
                }
            };
            if let Some(f) = &out.file {
                self.files_read.insert(f.clone());
            }
            self.ex.transcript.note(&format!(
                "tool {name} {} -> {}{} bytes",
                wire::shorten(&c.args, 500),
                if out.is_error { "refused/failed, " } else { "" },
                out.text.len()
            ));
            results.push(wire::ToolResult {
                id: c.id.clone(),
                name,
                content: out.text,
                is_error: out.is_error,
            });
        }
        if calls.len() > MAX_CALLS_PER_TURN {
            self.notes.push(format!(
                "{} asked for {} tool calls in one turn; {MAX_CALLS_PER_TURN} ran and the other {} were refused (too many calls in one turn)",
                self.spec.name,
                calls.len(),
                calls.len() - MAX_CALLS_PER_TURN
            ));
        }
        Ok(results)
    }

    /// One call, on a blocking thread, bounded by the deadline and the interruption (which
    /// the tool also checks itself, so it does not run on unseen).
    async fn call_tool(
        &mut self,
        name: &str,
        args: &str,
        stop: &tools::Stop,
    ) -> Result<tools::Output, exchange::Stop> {
        let Some(tools) = &self.tools else {
            return Ok(tools::Output::refused(
                "no tools are available; answer from the brief",
            ));
        };
        let args = match serde_json::from_str::<serde_json::Value>(args) {
            Ok(a) => a,
            Err(_) if args.trim().is_empty() => serde_json::json!({}),
            Err(e) => {
                return Ok(tools::Output::refused(format!(
                    "the arguments are not JSON ({e}); call the tool again with a JSON object"
                )))
            }
        };
        let (tools, n, stop) = (tools.clone(), name.to_string(), stop.clone());
        let task = tokio::task::spawn_blocking(move || tools.call(&n, &args, &stop));
        let joined = self.ex.bounded(task).await?;
        Ok(joined.unwrap_or_else(|e| tools::Output::refused(format!("the tool failed: {e}"))))
    }

    fn status_failure(&self, status: u16, message: &str) -> Outcome {
        let (kind, msg, hint) = retry::classify(
            status,
            message,
            &self.spec.name,
            &settings::key_env(self.spec),
            self.key.is_some(),
            self.spec.model.as_deref().unwrap_or(""),
        );
        Outcome::failed(kind, crate::secrets::redact_text(&msg), hint)
    }

    /// The outcome of a turn that did not complete; what arrived is kept as the partial text.
    fn failed(&mut self, f: Failure) -> Outcome {
        let timeout = crate::util::human_duration(self.spec.timeout);
        let name = &self.spec.name;
        match f {
            Failure::TimedOut(t) => {
                self.partial = t.text;
                Outcome::failed(
                    FailureKind::TimedOut,
                    format!("no complete answer within its timeout of {timeout}"),
                    format!("raise the timeout with --timeout or [agents.{name}].timeout; a local model may need more"),
                )
            }
            Failure::Cancelled(t) => {
                self.partial = t.text;
                Outcome::failed(
                    FailureKind::Cancelled,
                    "the review was interrupted",
                    "run the review again to let it finish",
                )
            }
            Failure::Cut { turn, why } => {
                self.partial = turn.text;
                Outcome::failed(
                    FailureKind::Crashed,
                    why,
                    "what arrived is in the agent's transcript.txt and answer.txt; rerun, or check the server",
                )
            }
            Failure::Network(why) => Outcome::failed(
                FailureKind::Unreachable,
                format!(
                    "no connection to {}: {why}",
                    settings::base_url(self.spec)
                ),
                format!("check [agents.{name}].base_url and that the server is running (for Ollama: `ollama serve`)"),
            ),
            Failure::Status { status, message } => self.status_failure(status, &message),
            Failure::Redirect { status, location } => {
                let location = crate::secrets::redact_text(&location);
                Outcome::failed(
                    FailureKind::Unreachable,
                    format!(
                        "the endpoint redirected (HTTP {status}) to {location}; redirects are not followed, so the key goes only to base_url"
                    ),
                    format!("set [agents.{name}].base_url to the endpoint it redirects to, if you trust it"),
                )
            }
        }
    }

    fn finish(mut self, mut run: AgentRun, result: Result<String, Outcome>) -> AgentRun {
        run.stats.tool_calls = std::mem::take(&mut self.tool_calls);
        run.stats.files_read = std::mem::take(&mut self.files_read).into_iter().collect();
        let t = &self.spend.tokens;
        if t.input + t.output > 0 {
            run.stats.tokens = Some(t.clone());
            run.stats.cost_usd = self.spend.cost_usd;
        }
        if self.spec.budget.is_set() {
            run.stats.budget = Some(BudgetUse {
                limits: self.spec.budget.clone(),
                reached: self.reached.clone(),
            });
        }
        if let Some(why) = &self.reached {
            self.notes.push(format!(
                "{} reached {why} and was asked to answer without more tools",
                self.spec.name
            ));
        }
        if self.ex.retries > 0 {
            self.transcript_note_retries();
        }
        run.notes = std::mem::take(&mut self.notes);
        let answer_path = self.ctx.dirs.agent.join("answer.txt");
        let text = match result {
            Ok(text) => text,
            Err(outcome) => {
                if !self.partial.is_empty() {
                    crate::artifacts::write_or_log(&answer_path, &self.partial);
                    run.answer_text = Some(crate::secrets::redact_text(&self.partial));
                }
                run.outcome = outcome;
                return run;
            }
        };
        crate::artifacts::write_or_log(&answer_path, &text);
        if self.ctx.task == Task::Judge {
            run.answer_text = Some(text);
            return run;
        }
        match crate::finding::parse_answer(&text) {
            Ok(answer) => run.answer = Some(answer),
            Err(e) => {
                run.outcome = Outcome::failed(
                    FailureKind::Malformed,
                    e.to_string(),
                    "the raw answer is kept in the agent's answer.txt; rerun, or try another model",
                )
            }
        }
        run
    }

    fn transcript_note_retries(&mut self) {
        let n = self.ex.retries;
        self.ex.transcript.note(&format!(
            "{n} request{} retried",
            if n == 1 { " was" } else { "s were" }
        ));
    }
}

/// What a tool call is about, for `--verbose`: its pattern, revision and path, as the model
/// wrote them.
fn call_target(args: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(args).ok()?;
    let parts: Vec<&str> = ["pattern", "rev", "path"]
        .iter()
        .filter_map(|k| v.get(*k)?.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}
