//! The one trait every reviewer kind implements, and the registry of kinds.
//!
//! An adapter knows how to run its kind (start a process or call an API), how to read what
//! comes back into run events and a typed [`Outcome`], which of deep-review's environment its
//! process may receive, and what `deep-review agents` shows about it. Everything else
//! (consolidation, the judge, review.json, reports) reads only the [`AgentRun`] it returns.

use super::AgentKind;
use super::AgentRun;
use super::AgentSpec;
use super::RunContext;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Adapter: Send + Sync {
    fn kind(&self) -> AgentKind;

    /// Runs one task to completion. Never panics on agent misbehaviour; a failure is the
    /// run's [`Outcome`], and whatever the agent sent before it is kept on disk.
    fn run<'a>(&'a self, spec: &'a AgentSpec, ctx: &'a RunContext) -> BoxFuture<'a, AgentRun>;

    /// The program it starts, for `deep-review agents`; `None` when it runs in-process.
    fn program(&self, spec: &AgentSpec) -> Option<String> {
        spec.command.first().cloned()
    }

    /// Whether its program answers `--version` with its version on the first line.
    fn reports_version(&self) -> bool {
        false
    }

    /// Where its credentials appear to come from ("ANTHROPIC_API_KEY is set", "logged in
    /// (~/.codex/auth.json)"); never the secret. `None` when none is found or none is needed.
    fn credentials(&self, _spec: &AgentSpec) -> Option<String> {
        None
    }

    /// Whether it needs credentials at all (`deep-review agents` says "none found" for one
    /// that does and has none).
    fn needs_credentials(&self) -> bool {
        false
    }

    /// Whether the process of `spec` receives deep-review's variable `name` besides the common
    /// base ([`super::env::BASE`]): its vendor's own variables (for an ACP agent, its
    /// preset's). `is_set` tells whether a variable is set and not `0` in the agent's
    /// environment, for modes that switch on more.
    fn wants_env(&self, _spec: &AgentSpec, _name: &str, _is_set: &dyn Fn(&str) -> bool) -> bool {
        false
    }

    /// Variables its process gets derived from its computed environment `env` (the vendor's
    /// spelling of a key the user holds under another name); applied last, over `env`.
    fn derived_env(&self, _env: &BTreeMap<String, String>) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Defined under its kind's name without configuration, and run by default when its
    /// program is on PATH (the agent CLIs).
    fn implicit(&self) -> bool {
        false
    }

    /// How to install it and give it credentials, when it cannot run here.
    fn install_hint(&self) -> &'static str {
        ""
    }

    /// What `deep-review agents` shows for its model and effort when none is configured.
    fn default_model(&self) -> &'static str {
        "—"
    }
}

/// The adapter of `kind`. The one place a kind is registered.
pub fn for_kind(kind: AgentKind) -> &'static dyn Adapter {
    match kind {
        AgentKind::Builtin => &super::builtin::Builtin,
        AgentKind::Command => &super::command::Command,
        AgentKind::Claude => &super::claude::Claude,
        AgentKind::Codex => &super::codex::Codex,
        AgentKind::Gemini => &super::gemini::Gemini,
        AgentKind::Acp => &super::acp::Acp,
        AgentKind::Openai => &super::http::OPENAI,
        AgentKind::Anthropic => &super::http::ANTHROPIC,
        AgentKind::GeminiApi => &super::http::GEMINI_API,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_adapter() {
        for kind in AgentKind::ALL {
            assert_eq!(for_kind(*kind).kind(), *kind);
        }
    }
}
