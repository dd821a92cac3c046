//! The environment an agent's process receives: what that agent needs, nothing else.
//!
//! deep-review itself may hold a GitHub token and every vendor's key; an agent reads an
//! untrusted change and can be steered by it, so whatever it holds it may leak. Each agent
//! gets a small base that programs need to run, its own vendor's variables, the names the
//! user passed on with `pass_env`, and the values the user set with `env`. `GITHUB_TOKEN` and
//! `GH_TOKEN` never reach an agent. `process::supervise` clears the inherited environment and
//! sets exactly this.

use super::AgentSpec;
use std::collections::BTreeMap;

/// Variables every agent gets when deep-review has them, and why:
/// PATH finds programs (the CLI, git, node); HOME holds each CLI's login and settings;
/// USER, LOGNAME and SHELL are the identity and the shell programs ask for (claude's Bash
/// tool runs `$SHELL`); LANG, TERM and TZ make text, colour and timestamps come out as the
/// user's; TMPDIR is where programs put temporary files; the proxy variables and CA bundles
/// let a CLI reach its API from behind a corporate proxy.
pub const BASE: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "TERM",
    "TZ",
    "TMPDIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
];

/// Prefixes of the base: locale (`LC_ALL`, `LC_CTYPE`, …) and the XDG directories where the
/// CLIs keep config, cache and runtime files.
pub const BASE_PREFIXES: &[&str] = &["LC_", "XDG_"];

/// Never given to any agent, whatever the configuration says.
pub const NEVER: &[&str] = &["GITHUB_TOKEN", "GH_TOKEN"];

/// Why a name cannot be set or passed on for an agent, if it cannot.
pub fn check_name(name: &str) -> Result<(), String> {
    if NEVER.contains(&name) {
        return Err("is never given to an agent: deep-review uses the GitHub token only to read and post the pull request itself, and an agent that the reviewed change can steer could leak it; remove it".into());
    }
    let mut chars = name.chars();
    let ok_first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !ok_first || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("is not an environment variable name; use letters, digits and `_`, not starting with a digit".into());
    }
    Ok(())
}

/// The environment of `spec`'s process, from deep-review's own.
pub fn for_agent(spec: &AgentSpec) -> BTreeMap<String, String> {
    let parent = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    compute(spec, parent)
}

/// [`for_agent`] over a given parent environment.
pub fn compute(
    spec: &AgentSpec,
    parent: impl IntoIterator<Item = (String, String)>,
) -> BTreeMap<String, String> {
    let parent: BTreeMap<String, String> = parent.into_iter().collect();
    let set = |n: &str| {
        spec.env
            .get(n)
            .or(parent.get(n))
            .is_some_and(|v| !v.is_empty() && v != "0")
    };
    let adapter = super::adapter::for_kind(spec.kind);
    let wanted = |n: &str| {
        BASE.contains(&n)
            || BASE_PREFIXES.iter().any(|p| n.starts_with(p))
            || adapter.wants_env(spec, n, &set)
            || spec.pass_env.iter().any(|p| p == n)
    };
    let mut out: BTreeMap<String, String> = parent
        .iter()
        .filter(|(n, _)| wanted(n))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    out.extend(spec.env.clone());
    let derived = adapter.derived_env(&out);
    out.extend(derived);
    out.retain(|n, _| !NEVER.contains(&n.as_str()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentKind;
    use std::time::Duration;

    fn parent() -> Vec<(String, String)> {
        [
            "PATH",
            "HOME",
            "LC_ALL",
            "XDG_CONFIG_HOME",
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "ANTHROPIC_API_KEY",
            "OPENAI_API_KEY",
            "GEMINI_API_KEY",
            "GOOGLE_API_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "MY_URL",
            "CARGO_HOME",
        ]
        .iter()
        .map(|n| (n.to_string(), "v".to_string()))
        .collect()
    }

    fn names(spec: &AgentSpec, parent: Vec<(String, String)>) -> Vec<String> {
        compute(spec, parent).into_keys().collect()
    }

    #[test]
    fn each_kind_gets_base_and_its_own_vendor_only() {
        let spec = |kind| AgentSpec::new("a", kind, Duration::from_secs(1));
        let base = ["HOME", "LC_ALL", "PATH", "XDG_CONFIG_HOME"];
        let with = |extra: &[&str]| {
            let mut v: Vec<String> = base.iter().chain(extra).map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(
            names(&spec(AgentKind::Claude), parent()),
            with(&["ANTHROPIC_API_KEY"])
        );
        assert_eq!(
            names(&spec(AgentKind::Codex), parent()),
            // codex exec reads CODEX_API_KEY only; without a login it gets OPENAI_API_KEY's.
            with(&["CODEX_API_KEY", "OPENAI_API_KEY"])
        );
        assert_eq!(
            names(&spec(AgentKind::Gemini), parent()),
            with(&["GEMINI_API_KEY", "GOOGLE_API_KEY"])
        );
        assert_eq!(names(&spec(AgentKind::Command), parent()), with(&[]));
        let mut cmd = spec(AgentKind::Command);
        cmd.pass_env = vec!["MY_URL".into()];
        cmd.env.insert("GITHUB_TOKEN".into(), "x".into());
        assert_eq!(names(&cmd, parent()), with(&["MY_URL"]));
    }

    #[test]
    fn an_acp_agent_gets_its_presets_variables_only() {
        let mut gemini = AgentSpec::new("g", AgentKind::Acp, Duration::from_secs(1));
        gemini.command = vec!["/opt/gemini".into(), "--acp".into()];
        let got = names(&gemini, parent());
        assert!(got.contains(&"GEMINI_API_KEY".to_string()), "{got:?}");
        assert!(!got.contains(&"ANTHROPIC_API_KEY".to_string()), "{got:?}");
        assert!(!got.contains(&"GITHUB_TOKEN".to_string()), "{got:?}");
        let mut other = AgentSpec::new("o", AgentKind::Acp, Duration::from_secs(1));
        other.command = vec!["my-agent".into()];
        assert!(!names(&other, parent())
            .iter()
            .any(|n| n.ends_with("_API_KEY")));
    }

    #[test]
    fn bedrock_mode_passes_aws_variables_to_claude_only() {
        let mut claude = AgentSpec::new("c", AgentKind::Claude, Duration::from_secs(1));
        assert!(!names(&claude, parent()).contains(&"AWS_SECRET_ACCESS_KEY".to_string()));
        claude
            .env
            .insert("CLAUDE_CODE_USE_BEDROCK".into(), "1".into());
        assert!(names(&claude, parent()).contains(&"AWS_SECRET_ACCESS_KEY".to_string()));
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("GH_TOKEN").unwrap_err().contains("never"));
        assert!(check_name("1X").is_err());
        assert!(check_name("A=B").is_err());
        assert!(check_name("MY_VAR").is_ok());
    }
}
