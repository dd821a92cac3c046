//! The `[agents.NAME]` tables: each checked into an [`AgentSpec`], the implicit agent CLIs,
//! the judge, and which reviewers run.

use super::duration_value;
use super::FileConfig;
use super::FILE_NAME;
use crate::agent::AgentKind;
use crate::agent::AgentSpec;
use crate::agent::Unavailable;
use crate::errors::Error;
use crate::errors::Result;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AgentTable {
    kind: String,
    #[serde(default)]
    command: Vec<String>,
    /// For `acp`: a known agent's settings (`opencode`, `gemini-acp`, …), and its command
    /// unless `command` is given.
    preset: Option<String>,
    /// For `acp`: run this agent, which matches no preset, on an untrusted head too.
    allow_untrusted: Option<bool>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    allow_bash: Vec<String>,
    model: Option<String>,
    effort: Option<String>,
    timeout: Option<toml::Value>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Names of deep-review's environment variables to pass on to the agent.
    #[serde(default)]
    pass_env: Vec<String>,
    // The HTTP kinds (`openai`, `anthropic`, `gemini-api`).
    base_url: Option<String>,
    api_key_env: Option<String>,
    /// Refused: keys are never read from a file.
    api_key: Option<toml::Value>,
    api: Option<String>,
    tools: Option<bool>,
    max_turns: Option<u32>,
    // Budgets, for the HTTP kinds (and `max_cost_usd` for claude).
    max_tokens: Option<u64>,
    max_cost_usd: Option<f64>,
}

impl AgentTable {
    /// Whether the table sets its own timeout (for `config show`).
    pub(super) fn has_timeout(&self) -> bool {
        self.timeout.is_some()
    }
}

/// Every reviewer known: the configured ones, `builtin`, and each agent CLI under its own
/// name (used by default only when it is on PATH and no agent of its kind is configured).
pub(super) struct Defined {
    pub defined: BTreeMap<String, AgentSpec>,
    /// The agent CLIs defined without configuration.
    pub implicit: Vec<String>,
}

pub(super) fn define(
    merged: &FileConfig,
    path_for: &dyn Fn(&str) -> PathBuf,
    default_timeout: Duration,
    timeout_override: Option<Duration>,
) -> Result<Defined> {
    let mut defined: BTreeMap<String, AgentSpec> = BTreeMap::new();
    for (name, table) in &merged.agents {
        let path = path_for(&format!("agents.{name}"));
        let mut spec = agent_from_table(name, table, &path, default_timeout)?;
        spec.http.prices = merged.prices.clone();
        defined.insert(name.clone(), spec);
    }
    // `builtin` is always defined, and so is each agent CLI under its own name (used by
    // default only when it is on PATH and no agent of its kind is configured).
    defined
        .entry("builtin".into())
        .or_insert_with(|| AgentSpec::new("builtin", AgentKind::Builtin, default_timeout));
    let mut implicit: Vec<String> = Vec::new();
    let implicit_kinds = AgentKind::ALL
        .iter()
        .copied()
        .filter(|k| crate::agent::adapter::for_kind(*k).implicit());
    for kind in implicit_kinds {
        let name = kind.as_str();
        if defined.contains_key(name) || defined.values().any(|a| a.kind == kind) {
            continue;
        }
        defined.insert(name.into(), AgentSpec::new(name, kind, default_timeout));
        implicit.push(name.into());
    }
    // An explicit --timeout applies to every agent; the review's budget to each.
    for spec in defined.values_mut() {
        if let Some(t) = timeout_override {
            spec.timeout = t;
        }
        spec.budget.review_max_tokens = merged.review.max_tokens;
        spec.budget.review_max_cost_usd = merged.review.max_cost_usd;
    }
    Ok(Defined { defined, implicit })
}

/// The judge named by `--judge` or `[review].judge`, if any.
pub(super) fn judge(
    defined: &BTreeMap<String, AgentSpec>,
    name: Option<String>,
) -> Result<Option<AgentSpec>> {
    Ok(match name {
        None => None,
        Some(name) => match defined.get(name.trim()) {
            Some(spec) if spec.kind == AgentKind::Builtin => {
                return Err(Error::Usage(
                    "the builtin reviewer cannot judge; pick an agent CLI or a command agent"
                        .into(),
                ))
            }
            Some(spec) => Some(spec.clone()),
            None => {
                let known: Vec<&str> = defined.keys().map(String::as_str).collect();
                return Err(Error::Usage(format!(
                    "unknown judge `{name}`; known agents: {}",
                    known.join(", ")
                )));
            }
        },
    })
}

/// The reviewers that run: the ones asked for, else every defined one that can run here
/// (with those that cannot, and how to enable them).
pub(super) fn select(
    defined: Defined,
    explicit: Option<Vec<String>>,
) -> Result<(Vec<AgentSpec>, Vec<Unavailable>)> {
    let Defined { defined, implicit } = defined;
    let mut unavailable = Vec::new();
    let agents = match explicit {
        Some(names) => {
            let mut out = Vec::new();
            for name in names {
                let name = name.trim().to_string();
                if name.is_empty() {
                    continue;
                }
                if out.iter().any(|a: &AgentSpec| a.name == name) {
                    continue;
                }
                match defined.get(&name) {
                    Some(spec) => out.push(spec.clone()),
                    None => {
                        let known: Vec<&str> = defined.keys().map(String::as_str).collect();
                        return Err(Error::Usage(format!(
                            "unknown agent `{name}`; known agents: {} (define others as [agents.{name}] in {FILE_NAME})",
                            known.join(", ")
                        )));
                    }
                }
            }
            if out.is_empty() {
                return Err(Error::Usage("--agents names no agent".into()));
            }
            out
        }
        None => {
            unavailable = detect_unavailable(&defined, &implicit);
            defined
                .into_values()
                .filter(|a| !implicit.contains(&a.name) || find_on_path(&a.name).is_some())
                .collect()
        }
    };
    Ok((agents, unavailable))
}

fn agent_from_table(
    name: &str,
    t: &AgentTable,
    path: &Path,
    default_timeout: Duration,
) -> Result<AgentSpec> {
    let bad = |message: String| Error::Config {
        path: path.to_path_buf(),
        message,
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad(format!(
            "agent name `{name}`: use letters, digits, `-` and `_` only"
        )));
    }
    let kind = AgentKind::parse(&t.kind).ok_or_else(|| {
        bad(format!(
            "agents.{name}.kind: unknown kind `{}`; use one of builtin, command, claude, codex, gemini, acp, openai, anthropic, gemini-api",
            t.kind
        ))
    })?;
    if !t.allow_bash.is_empty() && kind != AgentKind::Claude {
        return Err(bad(format!(
            "agents.{name}.allow_bash: only `claude` agents take an allow-list of read-only commands"
        )));
    }
    for entry in &t.allow_bash {
        if crate::agent::bash::form(entry).is_none() {
            return Err(bad(format!(
                "agents.{name}.allow_bash: `{entry}` is not an admitted read-only command; write one of {} (each exactly, without options: the agent adds its own, and these are refused: {})",
                crate::agent::bash::admitted(),
                crate::agent::bash::refused()
            )));
        }
    }
    if kind == AgentKind::Builtin && !t.pass_env.is_empty() {
        return Err(bad(format!(
            "agents.{name}.pass_env: the builtin reviewer runs no process; remove pass_env"
        )));
    }
    for var in t.env.keys() {
        crate::agent::env::check_name(var)
            .map_err(|why| bad(format!("agents.{name}.env: `{var}` {why}")))?;
    }
    for var in &t.pass_env {
        crate::agent::env::check_name(var)
            .map_err(|why| bad(format!("agents.{name}.pass_env: `{var}` {why}")))?;
    }
    if kind == AgentKind::Command && t.command.is_empty() {
        return Err(bad(format!(
            "agents.{name}: kind = \"command\" needs `command = [\"program\", \"arg\", …]`"
        )));
    }
    let (command, preset) = acp_command(name, kind, t).map_err(bad)?;
    if t.allow_untrusted.is_some() && kind != AgentKind::Acp {
        return Err(bad(format!(
            "agents.{name}.allow_untrusted: only `acp` agents take it (deep-review itself keeps the other kinds read-only on an untrusted head); remove it"
        )));
    }
    let http = http_settings(name, kind, t).map_err(bad)?;
    let timeout = match &t.timeout {
        Some(v) => duration_value(v, path, &format!("agents.{name}.timeout"))?,
        None => default_timeout,
    };
    Ok(AgentSpec {
        name: name.to_string(),
        kind,
        command,
        args: t.args.clone(),
        allow_bash: t.allow_bash.clone(),
        model: t.model.clone(),
        effort: t.effort.clone(),
        timeout,
        env: t.env.clone(),
        pass_env: t.pass_env.clone(),
        http,
        budget: crate::agent::Budget {
            max_tokens: t.max_tokens,
            max_cost_usd: t.max_cost_usd,
            ..Default::default()
        },
        preset,
        allow_untrusted: t.allow_untrusted.unwrap_or(false),
    })
}

/// The command of an `acp` agent and the preset named for it: `preset` alone (its command),
/// `preset` with `command` (the preset's settings, started as `command` says: through `npx`,
/// a wrapper, a path of your own), or `command` alone (a preset is then recognised from it
/// when it can be).
fn acp_command(
    name: &str,
    kind: AgentKind,
    t: &AgentTable,
) -> std::result::Result<(Vec<String>, Option<String>), String> {
    use crate::agent::acp::presets;
    match (&t.preset, kind) {
        (Some(_), k) if k != AgentKind::Acp => Err(format!(
            "agents.{name}.preset: only `acp` agents take a preset"
        )),
        (Some(p), _) => {
            let preset = presets::find(p).ok_or_else(|| format!(
                "agents.{name}.preset: unknown preset `{p}`; use one of {}, or leave `preset` out and give only `command = [\"agent\", \"acp\"]`",
                presets::names()
            ))?;
            let command = if t.command.is_empty() {
                preset.command.iter().map(|s| s.to_string()).collect()
            } else {
                t.command.clone()
            };
            Ok((command, Some(preset.name.to_string())))
        }
        (None, AgentKind::Acp) if t.command.is_empty() => Err(format!(
            "agents.{name}: kind = \"acp\" needs `preset = \"…\"` (one of {}), `command = [\"agent\", \"acp\"]`, or both (the preset's settings, started by your command)",
            presets::names()
        )),
        (None, _) => Ok((t.command.clone(), None)),
    }
}

/// The HTTP kinds' settings of an agent table, checked.
fn http_settings(
    name: &str,
    kind: AgentKind,
    t: &AgentTable,
) -> std::result::Result<crate::agent::http::Settings, String> {
    crate::agent::http::settings::from_table(
        name,
        kind,
        crate::agent::http::settings::Fields {
            model: t.model.as_deref(),
            base_url: t.base_url.clone(),
            api_key_env: t.api_key_env.clone(),
            api_key_set: t.api_key.is_some(),
            api: t.api.as_deref(),
            tools: t.tools,
            max_turns: t.max_turns,
            max_tokens: t.max_tokens,
            max_cost_usd: t.max_cost_usd,
        },
    )
}

/// The reviewers a user may expect that cannot run here, and how to enable each. Nothing
/// here prints a credential; only whether one is set.
fn detect_unavailable(
    defined: &BTreeMap<String, AgentSpec>,
    implicit: &[String],
) -> Vec<Unavailable> {
    let mut out = Vec::new();
    for name in implicit {
        let Some(spec) = defined.get(name) else {
            continue;
        };
        if find_on_path(name).is_some() {
            continue;
        }
        out.push(Unavailable {
            name: name.clone(),
            reason: format!("`{name}` was not found on PATH"),
            hint: crate::agent::adapter::for_kind(spec.kind)
                .install_hint()
                .to_string(),
        });
    }
    if !defined.values().any(|a| a.kind == AgentKind::Command) {
        out.push(Unavailable {
            name: "command".into(),
            reason: format!("no `command` reviewer is configured in {FILE_NAME}"),
            hint: "add [agents.NAME] with kind = \"command\" and command = [\"your-reviewer\"] (see README)".into(),
        });
    }
    out
}

/// Where a configured program is: relative paths from the repository root, bare names on PATH
/// (how `deep-review agents` and `config init` find the reviewers of this machine).
pub fn resolve_program(program: &str, root: &Path) -> Option<PathBuf> {
    if program.contains('/') {
        let p = if Path::new(program).is_absolute() {
            PathBuf::from(program)
        } else {
            root.join(program)
        };
        return p.exists().then_some(p);
    }
    find_on_path(program)
}

pub fn find_on_path(bin: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(bin))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}
