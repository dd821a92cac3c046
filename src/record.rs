//! The records of a review's runs: which kind of reviewer ran, how it ended, what it used.
//!
//! A leaf: consolidation, the judge, review.json and the reports read these without importing
//! the agents that produce them.

use crate::finding::Answer;
use serde::Deserialize;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

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
    /// Any Agent Client Protocol agent, with deep-review as the ACP client.
    Acp,
    /// Any OpenAI-compatible HTTP API (Chat Completions or Responses), in-process.
    Openai,
    /// Anthropic's Messages API, in-process.
    Anthropic,
    /// Google's Gemini API (generateContent), in-process.
    GeminiApi,
}

impl AgentKind {
    pub const ALL: &'static [AgentKind] = &[
        AgentKind::Builtin,
        AgentKind::Command,
        AgentKind::Claude,
        AgentKind::Codex,
        AgentKind::Gemini,
        AgentKind::Acp,
        AgentKind::Openai,
        AgentKind::Anthropic,
        AgentKind::GeminiApi,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::Builtin => "builtin",
            AgentKind::Command => "command",
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
            AgentKind::Gemini => "gemini",
            AgentKind::Acp => "acp",
            AgentKind::Openai => "openai",
            AgentKind::Anthropic => "anthropic",
            AgentKind::GeminiApi => "gemini-api",
        }
    }

    pub fn parse(s: &str) -> Option<AgentKind> {
        match s {
            "builtin" => Some(AgentKind::Builtin),
            "command" => Some(AgentKind::Command),
            "claude" => Some(AgentKind::Claude),
            "codex" => Some(AgentKind::Codex),
            "gemini" => Some(AgentKind::Gemini),
            "acp" => Some(AgentKind::Acp),
            "openai" => Some(AgentKind::Openai),
            "anthropic" => Some(AgentKind::Anthropic),
            "gemini-api" => Some(AgentKind::GeminiApi),
            _ => None,
        }
    }

    /// The agent CLIs, which deep-review finds on PATH and runs read-only.
    pub fn is_cli(self) -> bool {
        matches!(
            self,
            AgentKind::Claude | AgentKind::Codex | AgentKind::Gemini
        )
    }

    /// The model APIs deep-review calls itself over HTTP (`agent::http`).
    pub fn is_http(self) -> bool {
        matches!(
            self,
            AgentKind::Openai | AgentKind::Anthropic | AgentKind::GeminiApi
        )
    }
}

/// "Claude Opus 4.7 (effort: xhigh)", "Codex GPT 5.5 (effort: xhigh)", "Gemini 3.1 Pro
/// (effort: default)"; for other kinds the name, with the model in parentheses when set.
/// An agent whose name is not its kind's keeps the name in brackets, so two agents of one
/// kind stay apart.
pub fn display_name(
    name: &str,
    kind: AgentKind,
    model: Option<&str>,
    effort: Option<&str>,
) -> String {
    if !kind.is_cli() {
        let mut s = match model {
            Some(m) if !m.is_empty() => format!("{name} ({m})"),
            _ => name.to_string(),
        };
        if let Some(e) = effort {
            s.push_str(&format!(" (effort: {e})"));
        }
        return s;
    }
    let pretty = pretty_model(kind, model);
    let mut s = format!("{pretty} (effort: {})", effort.unwrap_or("default"));
    if name != kind.as_str() {
        s.push_str(&format!(" [{name}]"));
    }
    s
}

/// "claude-opus-4-7" → "Claude Opus 4.7"; "gpt-5.5" → "Codex GPT 5.5";
/// "gemini-3.1-pro-preview" → "Gemini 3.1 Pro".
pub fn pretty_model(kind: AgentKind, model: Option<&str>) -> String {
    let family = match kind {
        AgentKind::Claude => "Claude",
        AgentKind::Codex => "Codex",
        AgentKind::Gemini => "Gemini",
        _ => "",
    };
    let Some(m) = model.filter(|m| !m.is_empty()) else {
        return family.to_string();
    };
    let m = m.rsplit('/').next().unwrap_or(m).trim_end_matches("[1m]");
    let parts: Vec<&str> = m.split('-').filter(|p| !p.is_empty()).collect();
    let mut words: Vec<String> = Vec::new();
    let mut version: Vec<&str> = Vec::new();
    for p in &parts {
        let lower = p.to_ascii_lowercase();
        if matches!(lower.as_str(), "preview" | "latest" | "exp")
            || (p.len() == 8 && p.chars().all(|c| c.is_ascii_digit()))
        {
            continue; // release tags and dates
        }
        if p.chars().all(|c| c.is_ascii_digit() || c == '.') {
            version.push(p);
            continue;
        }
        if !version.is_empty() {
            words.push(version.join("."));
            version.clear();
        }
        let w = match lower.as_str() {
            "gpt" => "GPT".to_string(),
            "claude" if kind == AgentKind::Claude => continue,
            "gemini" if kind == AgentKind::Gemini => continue,
            _ => {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
        };
        words.push(w);
    }
    if !version.is_empty() {
        words.push(version.join("."));
    }
    // Claude names put the family before the version ("opus 4 7"), Gemini the version first.
    let body = words.join(" ");
    if body.is_empty() {
        family.to_string()
    } else {
        format!("{family} {body}")
    }
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
    /// It could not connect to its model API (no network, a proxy or base URL that refuses)
    /// and could only keep retrying; it was stopped rather than left to its timeout.
    Unreachable,
    /// deep-review would not start it (an `acp` agent it has no preset for, on an untrusted
    /// head).
    Refused,
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
            FailureKind::Unreachable => "cannot reach the model API",
            FailureKind::Refused => "not started",
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
    /// The limits the run had and whether it reached one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetUse>,
}

/// Spend limits: tokens (input + output, every turn) and dollars, for one agent and for the
/// whole review (every agent's spend together).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_max_cost_usd: Option<f64>,
}

impl Budget {
    pub fn is_set(&self) -> bool {
        self.max_tokens.is_some()
            || self.max_cost_usd.is_some()
            || self.review_max_tokens.is_some()
            || self.review_max_cost_usd.is_some()
    }
}

/// A run's budget and what became of it, for the retro's spend-against-budget row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BudgetUse {
    pub limits: Budget,
    /// Which limit stopped the tool loop ("the agent's token budget of 2000"), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached: Option<String>,
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
    /// The raw final answer, for a judge run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_text: Option<String>,
    /// Notes for the review's process notes (e.g. stopped after answering).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Raw stdout and stderr, relative to the round folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_path: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_path: Option<PathBuf>,
}

impl AgentRun {
    pub fn display(&self) -> String {
        display_name(
            &self.name,
            self.kind,
            self.model.as_deref(),
            self.effort.as_deref(),
        )
    }

    /// A run of `name` that has not started: no answer, no stats, no files yet.
    pub fn blank(name: &str, kind: AgentKind, outcome: Outcome) -> AgentRun {
        AgentRun {
            name: name.to_string(),
            kind,
            model: None,
            effort: None,
            outcome,
            answer: None,
            answer_text: None,
            stats: RunStats::default(),
            stderr_tail: String::new(),
            notes: Vec::new(),
            stdout_path: None,
            stderr_path: None,
        }
    }

    /// A successful run of a `command` agent named `name` that answered `answer`, as saved
    /// answers, benchmarks and evals present them.
    pub fn from_answer(name: &str, answer: Answer) -> AgentRun {
        AgentRun {
            answer: Some(answer),
            ..AgentRun::blank(name, AgentKind::Command, Outcome::Ok)
        }
    }
}

/// A reviewer that was wanted by default but cannot run here, and how to enable it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    pub name: String,
    pub reason: String,
    pub hint: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_names_like_the_seed() {
        assert_eq!(
            pretty_model(AgentKind::Claude, Some("claude-opus-4-7")),
            "Claude Opus 4.7"
        );
        assert_eq!(
            pretty_model(AgentKind::Claude, Some("claude-sonnet-5-5")),
            "Claude Sonnet 5.5"
        );
        assert_eq!(pretty_model(AgentKind::Claude, Some("opus")), "Claude Opus");
        assert_eq!(
            pretty_model(AgentKind::Codex, Some("gpt-5.5")),
            "Codex GPT 5.5"
        );
        assert_eq!(
            pretty_model(AgentKind::Gemini, Some("gemini-3.1-pro-preview")),
            "Gemini 3.1 Pro"
        );
        assert_eq!(pretty_model(AgentKind::Gemini, None), "Gemini");
        assert_eq!(
            display_name(
                "opus",
                AgentKind::Claude,
                Some("claude-opus-4-7"),
                Some("xhigh")
            ),
            "Claude Opus 4.7 (effort: xhigh) [opus]"
        );
        assert_eq!(
            display_name(
                "gemini",
                AgentKind::Gemini,
                Some("gemini-3.1-pro-preview"),
                None
            ),
            "Gemini 3.1 Pro (effort: default)"
        );
    }
}
