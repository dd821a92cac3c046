//! Reviewers: one [`Adapter`] per kind, all producing the same [`AgentRun`].
//!
//! Adapters never print; they report through [`RunEvent`]s and return an [`AgentRun`]. A
//! failed agent is an [`Outcome`], never an error that aborts the review. Adding a kind is a
//! file implementing [`Adapter`] (or [`cli::Cli`] for an agent CLI with a JSON stream) and a
//! line in [`adapter::for_kind`].

pub mod acp;
pub mod adapter;
pub mod bash;
pub mod builtin;
pub mod claude;
pub mod cli;
pub mod codex;
pub mod command;
pub mod env;
pub mod gemini;
pub mod http;
pub mod isolation;
pub mod process;
pub mod stream;

pub use crate::events::RunEvent;
pub use crate::record::display_name;
pub use crate::record::pretty_model;
pub use crate::record::AgentKind;
pub use crate::record::AgentRun;
pub use crate::record::Budget;
pub use crate::record::BudgetUse;
pub use crate::record::FailureKind;
pub use crate::record::Outcome;
pub use crate::record::RunStats;
pub use crate::record::Tokens;
pub use crate::record::Unavailable;
pub use adapter::Adapter;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A configured reviewer, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSpec {
    pub name: String,
    pub kind: AgentKind,
    /// For `command`: the program and its arguments. For a CLI kind: the executable to run
    /// instead of the one on PATH (and arguments to put first).
    pub command: Vec<String>,
    /// For a CLI kind: extra arguments (e.g. a provider setting).
    pub args: Vec<String>,
    /// For `claude`: read-only shell command prefixes the agent may run (`git log`).
    pub allow_bash: Vec<String>,
    pub model: Option<String>,
    pub effort: Option<String>,
    pub timeout: Duration,
    pub env: BTreeMap<String, String>,
    /// Variables of deep-review's own environment passed on by name ([`env::for_agent`]).
    pub pass_env: Vec<String>,
    /// For the HTTP kinds: endpoint, key variable, API flavour, tools, turns, prices.
    pub http: http::Settings,
    /// Spend limits for this agent and for the whole review.
    pub budget: Budget,
    /// For `acp`: the preset named in its table (its settings; `command` says how to start
    /// it). Without one, a preset is recognised from the command ([`acp::presets::for_spec`]).
    pub preset: Option<String>,
    /// For `acp`: the user vouches that this agent, matching no preset, neither runs tools of
    /// its own nor reads project configuration, so it may run on an untrusted head.
    pub allow_untrusted: bool,
}

impl AgentSpec {
    /// A spec with defaults for `kind`, as used when a CLI is found on PATH.
    pub fn new(name: &str, kind: AgentKind, timeout: Duration) -> AgentSpec {
        AgentSpec {
            name: name.to_string(),
            kind,
            command: Vec::new(),
            args: Vec::new(),
            allow_bash: Vec::new(),
            model: None,
            effort: None,
            timeout,
            env: BTreeMap::new(),
            pass_env: Vec::new(),
            http: http::Settings::default(),
            budget: Budget::default(),
            preset: None,
            allow_untrusted: false,
        }
    }

    /// "Claude Opus 4.7 (effort: xhigh)"-style label for headers and tables.
    pub fn display(&self) -> String {
        display_name(
            &self.name,
            self.kind,
            self.model.as_deref(),
            self.effort.as_deref(),
        )
    }
}

/// Runs start from their spec (here, so the records need not know the agents).
impl AgentRun {
    pub fn new(spec: &AgentSpec, outcome: Outcome) -> AgentRun {
        AgentRun {
            model: spec.model.clone(),
            effort: spec.effort.clone(),
            ..AgentRun::blank(&spec.name, spec.kind, outcome)
        }
    }

    /// A run whose raw stdout (`stdout_name`) and stderr go to the agent's folder; returns the
    /// run (with those paths, relative to the round) and the two absolute paths.
    pub fn with_outputs(
        spec: &AgentSpec,
        dirs: &RunDirs,
        stdout_name: &str,
    ) -> (AgentRun, PathBuf, PathBuf) {
        let stdout = dirs.agent.join(stdout_name);
        let stderr = dirs.agent.join("stderr.txt");
        let mut run = AgentRun::new(spec, Outcome::Ok);
        run.stdout_path = stdout.strip_prefix(&dirs.round).ok().map(Into::into);
        run.stderr_path = stderr.strip_prefix(&dirs.round).ok().map(Into::into);
        (run, stdout, stderr)
    }
}

/// Where an agent writes its artifacts.
#[derive(Debug, Clone)]
pub struct RunDirs {
    /// The round folder (paths in [`AgentRun`] are relative to it).
    pub round: PathBuf,
    /// `agents/<name>/` inside the round folder.
    pub agent: PathBuf,
}

/// What an agent is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Review the change and answer in the findings schema.
    Review,
    /// Judge the consolidated clusters and answer in the judge schema; the adapter returns
    /// the raw answer in [`AgentRun::answer_text`] and the judge module validates it.
    Judge,
}

impl Task {
    /// The JSON Schema the answer must follow.
    pub fn schema(self) -> serde_json::Value {
        match self {
            Task::Review => crate::finding::json_schema(),
            Task::Judge => crate::judge::json_schema(),
        }
    }

    /// The same, in the form OpenAI's strict structured outputs accept.
    pub fn strict_schema(self) -> serde_json::Value {
        crate::finding::strictify(self.schema())
    }
}

/// Whatever executes a run needs to know.
pub struct RunContext {
    pub task: Task,
    pub change: std::sync::Arc<crate::change::Change>,
    pub brief: std::sync::Arc<str>,
    pub dirs: RunDirs,
    pub events: tokio::sync::mpsc::UnboundedSender<RunEvent>,
    pub cancel: tokio::sync::watch::Receiver<bool>,
}

/// Runs one agent to completion. Never panics on agent misbehaviour; always returns a run.
pub async fn run_agent(spec: &AgentSpec, ctx: RunContext) -> AgentRun {
    let _ = ctx.events.send(RunEvent::AgentStarted {
        agent: spec.name.clone(),
    });
    let started = std::time::Instant::now();
    let mut run = adapter::for_kind(spec.kind).run(spec, &ctx).await;
    if run.stats.duration_ms == 0 {
        run.stats.duration_ms = started.elapsed().as_millis() as u64;
    }
    if !spec.kind.is_http() {
        // The HTTP reviewers count theirs as they go; the others report at the end.
        http::budget::record(run.stats.tokens.as_ref(), run.stats.cost_usd);
    }
    let _ = ctx.events.send(RunEvent::AgentFinished {
        agent: spec.name.clone(),
        ok: run.outcome.is_ok(),
        summary: finished_summary(&run),
    });
    run
}

fn finished_summary(run: &AgentRun) -> String {
    match &run.outcome {
        Outcome::Ok => {
            let n = run.answer.as_ref().map(|a| a.findings.len()).unwrap_or(0);
            format!("{n} finding{}", if n == 1 { "" } else { "s" })
        }
        Outcome::Failed { kind, message, .. } => format!("{}: {message}", kind.label()),
    }
}
