//! Reviewers: one adapter per kind, all producing the same [`AgentRun`].
//!
//! Adapters never print; they report through [`RunEvent`]s and return an [`AgentRun`]. A
//! failed agent is an [`Outcome`], never an error that aborts the review.

pub mod builtin;
pub mod command;
pub mod process;

pub use crate::events::RunEvent;

use crate::finding::Answer;
use serde::Deserialize;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Every kind of reviewer deep-review knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentKind {
    /// Deterministic checks in-process; needs no model.
    Builtin,
    /// Any executable that reads the brief on stdin and prints findings JSON.
    Command,
    /// Claude Code (`claude -p`).
    Claude,
    /// OpenAI Codex CLI (`codex exec`).
    Codex,
    /// Google Gemini CLI (`gemini -p`).
    Gemini,
}

impl AgentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::Builtin => "builtin",
            AgentKind::Command => "command",
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
            AgentKind::Gemini => "gemini",
        }
    }

    pub fn parse(s: &str) -> Option<AgentKind> {
        match s {
            "builtin" => Some(AgentKind::Builtin),
            "command" => Some(AgentKind::Command),
            "claude" => Some(AgentKind::Claude),
            "codex" => Some(AgentKind::Codex),
            "gemini" => Some(AgentKind::Gemini),
            _ => None,
        }
    }

    /// The kinds whose adapters exist in this build.
    pub fn implemented(self) -> bool {
        matches!(self, AgentKind::Builtin | AgentKind::Command)
    }
}

/// A configured reviewer, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSpec {
    pub name: String,
    pub kind: AgentKind,
    /// For `command`: the program and its arguments.
    pub command: Vec<String>,
    pub model: Option<String>,
    pub effort: Option<String>,
    pub timeout: Duration,
    pub env: BTreeMap<String, String>,
}

impl AgentSpec {
    /// "Claude Opus 4.7 (effort: xhigh)"-style label for headers and tables.
    pub fn display(&self) -> String {
        display_name(&self.name, self.model.as_deref(), self.effort.as_deref())
    }
}

pub fn display_name(name: &str, model: Option<&str>, effort: Option<&str>) -> String {
    let mut s = match model {
        Some(m) if !m.is_empty() => format!("{name} ({m})"),
        _ => name.to_string(),
    };
    if let Some(e) = effort {
        s.push_str(&format!(" (effort: {e})"));
    }
    s
}

/// Why an agent's run did not yield an answer. Each has a one-line hint for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The program could not be started (not installed, not executable).
    NotInstalled,
    /// The program exited non-zero or was killed by a signal.
    Crashed,
    /// The program finished but its answer is not valid findings JSON.
    Malformed,
    /// Past its timeout; its process group was killed.
    TimedOut,
    /// The user interrupted the review.
    Cancelled,
    NotLoggedIn,
    RateLimited,
    QuotaExhausted,
    ModelUnknown,
}

impl FailureKind {
    pub fn label(self) -> &'static str {
        match self {
            FailureKind::NotInstalled => "not installed",
            FailureKind::Crashed => "crashed",
            FailureKind::Malformed => "malformed answer",
            FailureKind::TimedOut => "timed out",
            FailureKind::Cancelled => "cancelled",
            FailureKind::NotLoggedIn => "not logged in",
            FailureKind::RateLimited => "rate limited",
            FailureKind::QuotaExhausted => "quota exhausted",
            FailureKind::ModelUnknown => "model unknown",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed {
        kind: FailureKind,
        /// What went wrong, in one line.
        message: String,
        /// What the user can do about it.
        hint: String,
    },
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }

    pub fn failed(kind: FailureKind, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Outcome::Failed {
            kind,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// Token usage as the agent reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    #[serde(default)]
    pub cached: u64,
}

/// What was measured about a run, from its own output (never from what the model says).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    pub duration_ms: u64,
    /// Tool calls by tool name.
    pub tool_calls: BTreeMap<String, u32>,
    /// Distinct files the agent read.
    pub files_read: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

impl RunStats {
    pub fn total_tool_calls(&self) -> u32 {
        self.tool_calls.values().sum()
    }
}

/// One agent's run: the parsed `run.json` in its artifact folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRun {
    pub name: String,
    pub kind: AgentKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    pub stats: RunStats,
    /// The last lines of stderr, for failures.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr_tail: String,
    /// Raw stdout and stderr, relative to the round folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_path: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_path: Option<PathBuf>,
}

impl AgentRun {
    pub fn new(spec: &AgentSpec, outcome: Outcome) -> AgentRun {
        AgentRun {
            name: spec.name.clone(),
            kind: spec.kind,
            model: spec.model.clone(),
            effort: spec.effort.clone(),
            outcome,
            answer: None,
            stats: RunStats::default(),
            stderr_tail: String::new(),
            stdout_path: None,
            stderr_path: None,
        }
    }

    pub fn display(&self) -> String {
        display_name(&self.name, self.model.as_deref(), self.effort.as_deref())
    }
}

/// A reviewer that was wanted by default but cannot run here, and how to enable it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    pub name: String,
    pub reason: String,
    pub hint: String,
}

/// Where an agent writes its artifacts.
#[derive(Debug, Clone)]
pub struct RunDirs {
    /// The round folder (paths in [`AgentRun`] are relative to it).
    pub round: PathBuf,
    /// `agents/<name>/` inside the round folder.
    pub agent: PathBuf,
}

/// Whatever executes a run needs to know.
pub struct RunContext {
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
    let mut run = match spec.kind {
        AgentKind::Builtin => builtin::run(spec, &ctx),
        AgentKind::Command => command::run(spec, &ctx).await,
        AgentKind::Claude | AgentKind::Codex | AgentKind::Gemini => AgentRun::new(
            spec,
            Outcome::failed(
                FailureKind::NotInstalled,
                format!(
                    "the {} adapter is not part of this build",
                    spec.kind.as_str()
                ),
                "use a `command` agent that wraps the CLI, or upgrade deep-review",
            ),
        ),
    };
    if run.stats.duration_ms == 0 {
        run.stats.duration_ms = started.elapsed().as_millis() as u64;
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
