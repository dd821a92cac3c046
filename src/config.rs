//! Configuration: `.deep-review.toml` in the repository, then the user's config file, then
//! flags, resolved into a validated list of [`AgentSpec`]s.
//!
//! ```toml
//! [review]
//! agents = ["builtin", "mine"]   # default selection (else: every configured agent + builtin)
//! timeout = "20m"                # per agent, unless the agent says otherwise
//! fail_on = "important"          # exit 1 when a finding at or above this exists
//!
//! [agents.mine]
//! kind = "command"
//! command = ["./scripts/review.sh", "--strict"]
//! timeout = "5m"
//! model = "my-model"             # shown in the header
//! env = { MY_FLAG = "1" }
//! pass_env = ["MY_SERVICE_URL"]  # passed on from deep-review's environment
//! ```

use crate::agent::AgentKind;
use crate::agent::AgentSpec;
use crate::agent::Unavailable;
use crate::errors::Error;
use crate::errors::Result;
use crate::finding::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);
pub const FILE_NAME: &str = ".deep-review.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    review: ReviewSection,
    #[serde(default)]
    consolidate: ConsolidateSection,
    #[serde(default)]
    agents: BTreeMap<String, AgentTable>,
    /// Prices per million tokens by model name, over the built-in table.
    #[serde(default)]
    prices: BTreeMap<String, crate::agent::http::Price>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewSection {
    agents: Option<Vec<String>>,
    judge: Option<String>,
    timeout: Option<toml::Value>,
    fail_on: Option<String>,
    /// The whole review's budget (every agent's spend together).
    max_tokens: Option<u64>,
    max_cost_usd: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsolidateSection {
    severity_policy: Option<String>,
    agreement_fraction: Option<f64>,
    merge_threshold: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentTable {
    kind: String,
    #[serde(default)]
    command: Vec<String>,
    /// For `acp`: a known agent's command and settings (`opencode`, `gemini-acp`, …).
    preset: Option<String>,
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

/// Flags that override the files.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub agents: Option<Vec<String>>,
    pub judge: Option<String>,
    pub timeout: Option<Duration>,
    pub fail_on: Option<Severity>,
}

/// The resolved configuration for one review.
#[derive(Debug)]
pub struct Config {
    /// The reviewers that run (the default selection, or the ones asked for).
    pub agents: Vec<AgentSpec>,
    /// Every reviewer known: configured, builtin, and each agent CLI.
    pub defined: Vec<AgentSpec>,
    /// The agent that judges the consolidated clusters, if any.
    pub judge: Option<AgentSpec>,
    /// The calibration and reporting policy.
    pub consolidate: crate::consolidate::Options,
    /// Reviewers that would have run by default but cannot, with how to enable them.
    pub unavailable: Vec<Unavailable>,
    pub fail_on: Option<Severity>,
    /// The files that were read, for logs.
    pub sources: Vec<PathBuf>,
}

fn read_file(path: &Path) -> Result<Option<FileConfig>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    parse_text(&text, path).map(Some)
}

fn parse_text(text: &str, path: &Path) -> Result<FileConfig> {
    toml::from_str(text).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        // One line: toml's message may hold a newline.
        message: e.message().trim().replace('\n', "; ")
            + &e.span()
                .map(|s| format!(" (at line {})", line_of(text, s.start)))
                .unwrap_or_default(),
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The user's config file: `$DEEP_REVIEW_CONFIG`, else `$XDG_CONFIG_HOME/deep-review/config.toml`,
/// else `~/.config/deep-review/config.toml`.
pub fn user_config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DEEP_REVIEW_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("deep-review").join("config.toml"))
}

fn duration_value(v: &toml::Value, path: &Path, at: &str) -> Result<Duration> {
    let d = match v {
        toml::Value::Integer(i) => crate::util::parse_duration(&i.to_string()),
        toml::Value::String(s) => crate::util::parse_duration(s),
        _ => Err(format!(
            "`{v}` is not a duration; write seconds (90) or text (\"90s\", \"20m\")"
        )),
    };
    d.map_err(|message| Error::Config {
        path: path.to_path_buf(),
        message: format!("{at}: {message}"),
    })
}

/// Loads the repository's file (from `repo_config_text` when given, e.g. read from a PR's
/// base, else from `repo_root`) and the user's, and applies the flags.
pub fn load(
    repo_root: &Path,
    repo_config_text: Option<&str>,
    overrides: &Overrides,
) -> Result<Config> {
    let mut sources = Vec::new();
    let user_path = user_config_path();
    let user = match &user_path {
        Some(p) => read_file(p)?,
        None => None,
    };
    if user.is_some() {
        sources.extend(user_path.clone());
    }
    let repo_path = repo_root.join(FILE_NAME);
    let repo = match repo_config_text {
        Some(text) => Some(parse_text(text, &repo_path)?),
        None => read_file(&repo_path)?,
    };
    if repo.is_some() {
        sources.push(repo_path.clone());
    }
    // Repository settings win over the user's; agent tables merge by name.
    let mut merged = FileConfig::default();
    let mut origin: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (file, path) in [(user, user_path.clone()), (repo, Some(repo_path.clone()))] {
        let Some(file) = file else { continue };
        let path = path.unwrap_or_default();
        if file.review.agents.is_some() {
            merged.review.agents = file.review.agents;
        }
        if file.review.judge.is_some() {
            merged.review.judge = file.review.judge;
        }
        merged.review.max_tokens = file.review.max_tokens.or(merged.review.max_tokens);
        merged.review.max_cost_usd = file.review.max_cost_usd.or(merged.review.max_cost_usd);
        merged.prices.extend(file.prices);
        let c = file.consolidate;
        if c.severity_policy.is_some()
            || c.agreement_fraction.is_some()
            || c.merge_threshold.is_some()
        {
            origin.insert("consolidate".into(), path.clone());
        }
        merged.consolidate.severity_policy =
            c.severity_policy.or(merged.consolidate.severity_policy);
        merged.consolidate.agreement_fraction = c
            .agreement_fraction
            .or(merged.consolidate.agreement_fraction);
        merged.consolidate.merge_threshold =
            c.merge_threshold.or(merged.consolidate.merge_threshold);
        if let Some(t) = file.review.timeout {
            merged.review.timeout = Some(t);
            origin.insert("timeout".into(), path.clone());
        }
        if file.review.fail_on.is_some() {
            merged.review.fail_on = file.review.fail_on;
            origin.insert("fail_on".into(), path.clone());
        }
        for (name, table) in file.agents {
            origin.insert(format!("agents.{name}"), path.clone());
            merged.agents.insert(name, table);
        }
    }
    let path_for = |key: &str| {
        origin
            .get(key)
            .cloned()
            .unwrap_or_else(|| repo_path.clone())
    };

    let default_timeout = match (&overrides.timeout, &merged.review.timeout) {
        (Some(t), _) => *t,
        (None, Some(v)) => duration_value(v, &path_for("timeout"), "review.timeout")?,
        (None, None) => DEFAULT_TIMEOUT,
    };
    let fail_on = match (overrides.fail_on, &merged.review.fail_on) {
        (Some(s), _) => Some(s),
        (None, Some(s)) => Some(Severity::parse(s).ok_or_else(|| Error::Config {
            path: path_for("fail_on"),
            message: format!(
                "review.fail_on: `{s}` is not a severity; use critical, important or suggestion"
            ),
        })?),
        (None, None) => None,
    };

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
        if let Some(t) = overrides.timeout {
            spec.timeout = t;
        }
        spec.budget.review_max_tokens = merged.review.max_tokens;
        spec.budget.review_max_cost_usd = merged.review.max_cost_usd;
    }

    let mut consolidate = crate::consolidate::Options::default();
    {
        let bad = |message: String| Error::Config {
            path: path_for("consolidate"),
            message,
        };
        let c = &merged.consolidate;
        if let Some(p) = &c.severity_policy {
            consolidate.severity_policy = crate::consolidate::SeverityPolicy::parse(p).ok_or_else(|| {
                bad(format!("consolidate.severity_policy: `{p}` is not a policy; use vote, highest or lowest"))
            })?;
        }
        if let Some(f) = c.agreement_fraction {
            if !(0.0..=1.0).contains(&f) {
                return Err(bad(format!(
                    "consolidate.agreement_fraction: {f} is not between 0 and 1"
                )));
            }
            consolidate.agreement_fraction = f;
        }
        if let Some(t) = c.merge_threshold {
            if !(0.0..=2.0).contains(&t) {
                return Err(bad(format!(
                    "consolidate.merge_threshold: {t} is not between 0 and 2"
                )));
            }
            consolidate.merge_threshold = t;
        }
    }
    let all: Vec<AgentSpec> = defined.values().cloned().collect();
    let judge = match overrides.judge.clone().or(merged.review.judge.clone()) {
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
    };
    let explicit = overrides.agents.clone().or(merged.review.agents.clone());
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
    Ok(Config {
        agents,
        defined: all,
        judge,
        consolidate,
        unavailable,
        fail_on,
        sources,
    })
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
    let command = acp_command(name, kind, t).map_err(bad)?;
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
    })
}

/// The command of an `acp` agent: its preset's, or the one given (exactly one of the two).
fn acp_command(
    name: &str,
    kind: AgentKind,
    t: &AgentTable,
) -> std::result::Result<Vec<String>, String> {
    use crate::agent::acp::presets;
    match (&t.preset, kind) {
        (Some(_), k) if k != AgentKind::Acp => Err(format!(
            "agents.{name}.preset: only `acp` agents take a preset"
        )),
        (Some(p), _) if !t.command.is_empty() => Err(format!(
            "agents.{name}: give `preset = \"{p}\"` or `command`, not both (the preset is a command)"
        )),
        (Some(p), _) => presets::find(p)
            .map(|p| p.command.iter().map(|s| s.to_string()).collect())
            .ok_or_else(|| format!(
                "agents.{name}.preset: unknown preset `{p}`; use one of {}, or `command = [\"agent\", \"acp\"]`",
                presets::names()
            )),
        (None, AgentKind::Acp) if t.command.is_empty() => Err(format!(
            "agents.{name}: kind = \"acp\" needs `preset = \"…\"` (one of {}) or `command = [\"agent\", \"acp\"]`",
            presets::names()
        )),
        (None, _) => Ok(t.command.clone()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, o: &Overrides) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("DEEP_REVIEW_CONFIG", dir.path().join("none.toml"));
        load(dir.path(), Some(text), o)
    }

    #[test]
    fn reads_agents_and_timeouts() {
        let cfg = load_text(
            "[review]\ntimeout = \"90s\"\nfail_on = \"important\"\n[agents.mine]\nkind = \"command\"\ncommand = [\"x\", \"--y\"]\ntimeout = 30\nmodel = \"m1\"\n",
            &Overrides::default(),
        )
        .unwrap();
        let names: Vec<&str> = cfg.agents.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, vec!["builtin", "mine"]);
        assert_eq!(cfg.agents[0].timeout, Duration::from_secs(90));
        assert_eq!(cfg.agents[1].timeout, Duration::from_secs(30));
        assert_eq!(cfg.agents[1].command, vec!["x", "--y"]);
        assert_eq!(cfg.fail_on, Some(Severity::Important));
        assert!(cfg.unavailable.iter().any(|u| u.name == "claude"));
    }

    #[test]
    fn flags_override_files() {
        let o = Overrides {
            judge: None,
            agents: Some(vec!["builtin".into()]),
            timeout: Some(Duration::from_secs(5)),
            fail_on: None,
        };
        let cfg = load_text("[agents.mine]\nkind = \"command\"\ncommand = [\"x\"]\n", &o).unwrap();
        assert_eq!(cfg.agents.len(), 1);
        assert_eq!(cfg.agents[0].timeout, Duration::from_secs(5));
    }

    #[test]
    fn acp_agents_take_a_preset_or_a_command() {
        let cfg = load_text(
            "[agents.oc]\nkind = \"acp\"\npreset = \"opencode\"\n[agents.mine]\nkind = \"acp\"\ncommand = [\"my-agent\", \"--acp\"]\n",
            &Overrides::default(),
        )
        .unwrap();
        let oc = cfg.agents.iter().find(|a| a.name == "oc").unwrap();
        assert_eq!(oc.kind, AgentKind::Acp);
        assert_eq!(oc.command, vec!["opencode", "acp"]);
        let bad = |t: &str| load_text(t, &Overrides::default()).unwrap_err().to_string();
        assert!(bad("[agents.x]\nkind = \"acp\"\n").contains("needs `preset"));
        assert!(bad("[agents.x]\nkind = \"acp\"\npreset = \"nope\"\n")
            .contains("unknown preset `nope`"));
        assert!(
            bad("[agents.x]\nkind = \"acp\"\npreset = \"goose\"\ncommand = [\"g\"]\n")
                .contains("not both")
        );
        assert!(
            bad("[agents.x]\nkind = \"command\"\ncommand = [\"g\"]\npreset = \"goose\"\n")
                .contains("only `acp`")
        );
    }

    #[test]
    fn errors_say_what_to_fix() {
        let err = load_text("[agents.x]\nkind = \"robot\"\n", &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("unknown kind `robot`"), "{err}");
        let err = load_text("[agents.x]\nkind = \"command\"\n", &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("needs `command = ["), "{err}");
        let err = load_text("[review]\ntimeout = \"soon\"\n", &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("not a duration"), "{err}");
        let err = load_text(
            "[consolidate]\nseverity_policy = \"loudest\"\n",
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("use vote, highest or lowest"),
            "{err}"
        );
        let cfg = load_text(
            "[consolidate]\nseverity_policy = \"highest\"\nagreement_fraction = 0.5\n",
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            cfg.consolidate.severity_policy,
            crate::consolidate::SeverityPolicy::Highest
        );
        assert_eq!(cfg.consolidate.min_agreement(6), 3);
        let err = load_text("[revue]\n", &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("revue"), "{err}");
        let o = Overrides {
            agents: Some(vec!["nobody".into()]),
            ..Overrides::default()
        };
        let err = load_text("", &o).unwrap_err();
        assert!(err.to_string().contains("unknown agent `nobody`"), "{err}");
    }
}
