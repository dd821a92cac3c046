//! An HTTP reviewer's settings from its `[agents.NAME]` table, and its key from the
//! environment (never from a file).

use super::budget::Price;
use crate::agent::AgentKind;
use crate::agent::AgentSpec;
use std::collections::BTreeMap;

/// Which OpenAI API an `openai` agent speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Api {
    /// Chat Completions (`/chat/completions`): what every OpenAI-compatible server offers.
    #[default]
    Chat,
    /// Responses (`/responses`): OpenAI's own, and some gateways.
    Responses,
}

/// The turns a tool loop may take unless configured.
pub const DEFAULT_MAX_TURNS: u32 = 30;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// The API's root (`https://api.openai.com/v1`); None for the kind's default.
    pub base_url: Option<String>,
    /// The variable holding the key; None for the kind's default.
    pub api_key_env: Option<String>,
    pub api: Api,
    /// `tools = false`: review from the brief alone.
    pub no_tools: bool,
    pub max_turns: Option<u32>,
    /// The user's `[prices]`, over the built-in table.
    pub prices: BTreeMap<String, Price>,
}

/// An agent table's fields that concern the HTTP kinds, as the configuration file gave them.
pub struct Fields<'a> {
    pub model: Option<&'a str>,
    pub base_url: Option<String>,
    pub api_key_env: Option<String>,
    /// `api_key` is present: refused, whatever its value.
    pub api_key_set: bool,
    pub api: Option<&'a str>,
    pub tools: Option<bool>,
    pub max_turns: Option<u32>,
    pub max_tokens: Option<u64>,
    pub max_cost_usd: Option<f64>,
}

/// Checks an agent table's HTTP fields; the error text reads after the file's name. Other
/// kinds get the defaults, and an error for a field only the HTTP kinds take.
pub fn from_table(name: &str, kind: AgentKind, f: Fields<'_>) -> Result<Settings, String> {
    if f.api_key_set {
        return Err(format!("agents.{name}.api_key: a key is never read from a configuration file (files get committed, shared and printed); put it in an environment variable and name that variable with api_key_env = \"MY_KEY_VAR\""));
    }
    if !kind.is_http() {
        let http_only = [
            ("base_url", f.base_url.is_some()),
            ("api_key_env", f.api_key_env.is_some()),
            ("api", f.api.is_some()),
            ("tools", f.tools.is_some()),
            ("max_turns", f.max_turns.is_some()),
            ("max_tokens", f.max_tokens.is_some()),
            (
                "max_cost_usd",
                f.max_cost_usd.is_some() && kind != AgentKind::Claude,
            ),
        ];
        if let Some((field, _)) = http_only.iter().find(|(_, set)| *set) {
            let claude = if *field == "max_cost_usd" {
                " (and claude)"
            } else {
                ""
            };
            return Err(format!("agents.{name}.{field}: only the HTTP kinds (openai, anthropic, gemini-api){claude} take `{field}`"));
        }
        return Ok(Settings::default());
    }
    if f.model.is_none_or(|m| m.trim().is_empty()) {
        return Err(format!(
            "agents.{name}: kind = \"{}\" needs `model = \"…\"` (the model's name as the API knows it, e.g. {})",
            kind.as_str(),
            example_model(kind)
        ));
    }
    if let Some(url) = &f.base_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "agents.{name}.base_url: `{url}` is not an http:// or https:// URL"
            ));
        }
    }
    if let Some(var) = &f.api_key_env {
        crate::agent::env::check_name(var)
            .map_err(|why| format!("agents.{name}.api_key_env: `{var}` {why}"))?;
    }
    let api = match (f.api, kind) {
        (None | Some("chat"), _) => Api::Chat,
        (Some("responses"), AgentKind::Openai) => Api::Responses,
        (Some(other), AgentKind::Openai) => {
            return Err(format!(
                "agents.{name}.api: `{other}` is not an API; use \"chat\" (Chat Completions, the default) or \"responses\""
            ))
        }
        (Some(_), _) => {
            return Err(format!(
                "agents.{name}.api: only `openai` agents choose an API (chat or responses)"
            ))
        }
    };
    if f.max_turns == Some(0) {
        return Err(format!(
            "agents.{name}.max_turns: at least 1 (one turn answers from the brief alone)"
        ));
    }
    Ok(Settings {
        base_url: f.base_url.map(|u| u.trim_end_matches('/').to_string()),
        api_key_env: f.api_key_env,
        api,
        no_tools: f.tools == Some(false),
        max_turns: f.max_turns,
        prices: BTreeMap::new(),
    })
}

fn example_model(kind: AgentKind) -> &'static str {
    match kind {
        AgentKind::Anthropic => "\"claude-sonnet-4-5\"",
        AgentKind::GeminiApi => "\"gemini-2.5-pro\"",
        _ => "\"gpt-5\", or \"qwen2.5-coder:14b\" for Ollama",
    }
}

/// The API root a kind uses unless `base_url` says otherwise.
pub fn default_base_url(kind: AgentKind) -> &'static str {
    match kind {
        AgentKind::Anthropic => "https://api.anthropic.com/v1",
        AgentKind::GeminiApi => "https://generativelanguage.googleapis.com/v1beta",
        _ => "https://api.openai.com/v1",
    }
}

pub fn default_key_env(kind: AgentKind) -> &'static str {
    match kind {
        AgentKind::Anthropic => "ANTHROPIC_API_KEY",
        AgentKind::GeminiApi => "GEMINI_API_KEY",
        _ => "OPENAI_API_KEY",
    }
}

pub fn base_url(spec: &AgentSpec) -> String {
    spec.http
        .base_url
        .clone()
        .unwrap_or_else(|| default_base_url(spec.kind).to_string())
}

pub fn key_env(spec: &AgentSpec) -> String {
    spec.http
        .api_key_env
        .clone()
        .unwrap_or_else(|| default_key_env(spec.kind).to_string())
}

/// The key, when its variable is set. `Err` names the variable when a key is needed and
/// missing: the variable was named explicitly, or the endpoint is the vendor's own (a local
/// or self-hosted `base_url` usually takes none).
pub fn key(spec: &AgentSpec) -> Result<Option<String>, String> {
    let var = key_env(spec);
    match std::env::var(&var) {
        Ok(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_string())),
        _ if spec.http.api_key_env.is_some() || spec.http.base_url.is_none() => Err(var),
        _ => Ok(None),
    }
}

/// `deep-review agents`' credentials cell: which variable, set or not; never the value.
pub fn credentials(spec: &AgentSpec) -> String {
    let var = key_env(spec);
    let set = std::env::var(&var).is_ok_and(|v| !v.trim().is_empty());
    match (set, key(spec)) {
        (true, _) => format!("{var} is set"),
        (false, Ok(_)) => format!("none needed ({var} not set)"),
        (false, Err(_)) => format!("{var} is not set"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields<'static> {
        Fields {
            model: Some("gpt-5"),
            base_url: None,
            api_key_env: None,
            api_key_set: false,
            api: None,
            tools: None,
            max_turns: None,
            max_tokens: None,
            max_cost_usd: None,
        }
    }

    #[test]
    fn tables_are_checked_with_the_fix_in_the_message() {
        let err = |kind, f| from_table("x", kind, f).unwrap_err();
        let e = err(
            AgentKind::Openai,
            Fields {
                api_key_set: true,
                ..fields()
            },
        );
        assert!(e.contains("api_key_env"), "{e}");
        let e = err(
            AgentKind::Openai,
            Fields {
                model: None,
                ..fields()
            },
        );
        assert!(e.contains("needs `model"), "{e}");
        let e = err(
            AgentKind::Anthropic,
            Fields {
                api: Some("responses"),
                ..fields()
            },
        );
        assert!(e.contains("only `openai`"), "{e}");
        let e = err(
            AgentKind::Codex,
            Fields {
                base_url: Some("http://x".into()),
                ..fields()
            },
        );
        assert!(e.contains("only the HTTP kinds"), "{e}");
        let claude = Fields {
            max_cost_usd: Some(1.0),
            ..fields()
        };
        assert!(from_table("x", AgentKind::Claude, claude).is_ok());
        let s = from_table(
            "x",
            AgentKind::Openai,
            Fields {
                base_url: Some("http://localhost:11434/v1/".into()),
                tools: Some(false),
                ..fields()
            },
        )
        .unwrap();
        assert_eq!(s.base_url.as_deref(), Some("http://localhost:11434/v1"));
        assert!(s.no_tools);
    }
}
