//! Everything that happens during a review, as events sent from the agent tasks to the one
//! dispatcher that owns progress display. Executors never print; they send these.

use crate::record::Tokens;

/// One lifecycle step of a review.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    AgentStarted {
        agent: String,
    },
    /// The agent called a tool (read a file, ran a search, …).
    ToolCall {
        agent: String,
        tool: String,
        /// What the call was about, as the agent gave it: a file, a pattern, a command.
        /// Shown with `--verbose`; masked before it is printed.
        target: Option<String>,
    },
    /// The agent reported its token usage so far (totals, not increments).
    Tokens {
        agent: String,
        tokens: Tokens,
    },
    /// The run ended, well or not.
    AgentFinished {
        agent: String,
        ok: bool,
        /// "3 findings" or "timed out: no answer after 20m".
        summary: String,
    },
}

/// One tool call as an agent's stream announced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolUse {
    pub name: String,
    pub target: Option<String>,
}

impl ToolUse {
    pub fn new(name: impl Into<String>, target: Option<String>) -> ToolUse {
        ToolUse {
            name: name.into(),
            target: target.filter(|t| !t.trim().is_empty()),
        }
    }
}
