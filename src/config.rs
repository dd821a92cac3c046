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

mod agents;
pub mod command;
mod init;
mod show;
mod validate;

pub use agents::find_on_path;
pub use agents::resolve_program;

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
    agents: BTreeMap<String, agents::AgentTable>,
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
    let (merged, origin) = merge([(user, user_path), (repo, Some(repo_path.clone()))]);
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

    let defined = agents::define(&merged, &path_for, default_timeout, overrides.timeout)?;
    let consolidate = consolidate_options(&merged.consolidate, &path_for("consolidate"))?;
    let all: Vec<AgentSpec> = defined.defined.values().cloned().collect();
    let judge = agents::judge(
        &defined.defined,
        overrides.judge.clone().or(merged.review.judge.clone()),
    )?;
    let explicit = overrides.agents.clone().or(merged.review.agents.clone());
    let (agents, unavailable) = agents::select(defined, explicit)?;
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

/// The user's file, then the repository's: repository settings win; agent tables merge by
/// name. Also returns which file each checked key came from, for errors.
fn merge(
    files: [(Option<FileConfig>, Option<PathBuf>); 2],
) -> (FileConfig, BTreeMap<String, PathBuf>) {
    let mut merged = FileConfig::default();
    let mut origin: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (file, path) in files {
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
    (merged, origin)
}

/// The calibration and reporting policy from `[consolidate]`, checked.
fn consolidate_options(c: &ConsolidateSection, path: &Path) -> Result<crate::consolidate::Options> {
    let mut consolidate = crate::consolidate::Options::default();
    let bad = |message: String| Error::Config {
        path: path.to_path_buf(),
        message,
    };
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
    Ok(consolidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentKind;

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
        // A preset with a command: the preset's settings, started by the command.
        let cfg = load_text(
            "[agents.x]\nkind = \"acp\"\npreset = \"opencode\"\ncommand = [\"npx\", \"opencode-ai\", \"acp\"]\nallow_untrusted = true\n",
            &Overrides::default(),
        )
        .unwrap();
        let x = cfg.agents.iter().find(|a| a.name == "x").unwrap();
        assert_eq!(x.command, vec!["npx", "opencode-ai", "acp"]);
        assert_eq!(x.preset.as_deref(), Some("opencode"));
        assert!(x.allow_untrusted);
        assert_eq!(oc.preset.as_deref(), Some("opencode"));
        assert!(
            bad("[agents.x]\nkind = \"claude\"\nallow_untrusted = true\n")
                .contains("only `acp` agents take it")
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
