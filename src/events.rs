//! Everything that happens during a review, as events sent from the agent tasks to the one
//! dispatcher that owns progress display. Executors never print; they send these.

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
    },
    /// The run ended, well or not.
    AgentFinished {
        agent: String,
        ok: bool,
        /// "3 findings" or "timed out: no answer after 20m".
        summary: String,
    },
}
