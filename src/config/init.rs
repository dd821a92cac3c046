//! `deep-review config init`: a commented `.deep-review.toml` for the reviewers found on this
//! machine, found as `deep-review agents` finds them (each adapter's program, on PATH).

use super::FILE_NAME;
use crate::agent::AgentKind;
use crate::agent::AgentSpec;
use crate::errors::Error;
use crate::errors::Result;
use std::path::Path;

/// What this machine has.
struct Machine {
    /// The agent CLIs (claude, codex, gemini), each with whether its program was found.
    clis: Vec<(AgentKind, bool)>,
    /// The ACP presets whose program was found (and is not one of the CLIs above).
    acp: Vec<&'static crate::agent::acp::presets::Preset>,
    /// The HTTP kinds, each with whether its key variable is set.
    http: Vec<(AgentKind, bool)>,
}

fn machine(root: &Path) -> Machine {
    let clis: Vec<(AgentKind, bool)> = AgentKind::ALL
        .iter()
        .copied()
        .filter(|k| crate::agent::adapter::for_kind(*k).implicit())
        .map(|k| {
            let spec = AgentSpec::new(k.as_str(), k, super::DEFAULT_TIMEOUT);
            let found = crate::agent::adapter::for_kind(k)
                .program(&spec)
                .and_then(|p| super::resolve_program(&p, root))
                .is_some();
            (k, found)
        })
        .collect();
    let acp = crate::agent::acp::presets::PRESETS
        .iter()
        .filter(|p| !clis.iter().any(|(k, _)| k.as_str() == p.command[0]))
        .filter(|p| super::find_on_path(p.command[0]).is_some())
        .collect();
    let http = AgentKind::ALL
        .iter()
        .copied()
        .filter(|k| k.is_http())
        .map(|k| {
            let var = crate::agent::http::settings::default_key_env(k);
            (k, std::env::var(var).is_ok_and(|v| !v.trim().is_empty()))
        })
        .collect();
    Machine { clis, acp, http }
}

/// Writes `<root>/.deep-review.toml`; refuses to replace one without `force`.
pub fn init(root: &Path, force: bool) -> Result<String> {
    let path = root.join(FILE_NAME);
    if path.exists() && !force {
        return Err(Error::Usage(format!(
            "{} already exists; it was left as it is. Check it with `deep-review config validate`, or pass --force to replace it",
            path.display()
        )));
    }
    let m = machine(root);
    let text = template(&m);
    // What is written must load: a template that does not is a bug, caught here.
    super::parse_text(&text, &path)?;
    crate::artifacts::write(&path, &text)?;
    let mut found: Vec<&str> = vec!["builtin"];
    found.extend(m.clis.iter().filter(|(_, f)| *f).map(|(k, _)| k.as_str()));
    found.extend(m.acp.iter().map(|p| p.name));
    crate::progress::log(&format!(
        "wrote {} with {} (check it with `deep-review config validate`)",
        path.display(),
        found.join(", ")
    ));
    Ok(String::new())
}

fn template(m: &Machine) -> String {
    let mut enabled: Vec<String> = vec!["builtin".into()];
    enabled.extend(
        m.clis
            .iter()
            .filter(|(_, f)| *f)
            .map(|(k, _)| k.as_str().to_string()),
    );
    enabled.extend(m.acp.iter().map(|p| p.name.to_string()));
    let judge = m.clis.iter().find(|(_, f)| *f).map(|(k, _)| k.as_str());
    let mut out = format!(
        r#"# deep-review's configuration for this repository. Commit it: every review of this
# repository (yours, CI's) starts from it; flags override it, and your own config file
# (~/.config/deep-review/config.toml) fills in what it leaves out.
# Written by `deep-review config init` for the reviewers found on this machine. Check it with
# `deep-review config validate`; see every value and where it comes from with
# `deep-review config show`.

[review]
# The reviewers that run when --agents is not given.
agents = [{agents}]
# Each reviewer's time limit: seconds (90) or text ("90s", "20m").
# timeout = "20m"
# Exit 1 when a finding of this severity or higher exists: critical, important or suggestion.
# fail_on = "important"
# An agent that judges the consolidated findings (calibrates severities, writes the summary).
# judge = "{judge}"

# How findings are consolidated: the severity when reviewers disagree (vote, highest, lowest)
# and the share of reviewers whose agreement alone reports a finding.
# [consolidate]
# severity_policy = "vote"
# agreement_fraction = 0.5

# builtin: deterministic checks that need no model (secrets, conflict markers, large files,
# commits, tests and docs touched); always available.
"#,
        agents = enabled
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", "),
        judge = judge.unwrap_or("claude"),
    );
    for (kind, found) in &m.clis {
        let name = kind.as_str();
        let hint = crate::agent::adapter::for_kind(*kind).install_hint();
        if *found {
            out.push_str(&format!(
                "\n# {name}: found on this machine.\n[agents.{name}]\nkind = \"{name}\"\n# model = \"…\"     # else the CLI's default\n# effort = \"high\"\n# timeout = \"30m\"\n"
            ));
        } else {
            out.push_str(&format!(
                "\n# {name}: not found on this machine; {hint}.\n# Then uncomment these lines and add \"{name}\" to [review].agents.\n# [agents.{name}]\n# kind = \"{name}\"\n"
            ));
        }
    }
    for p in &m.acp {
        out.push_str(&format!(
            "\n# {name}: found on this machine (an ACP agent: deep-review serves its file reads and refuses\n# its writes).\n[agents.{name}]\nkind = \"acp\"\npreset = \"{name}\"\n",
            name = p.name
        ));
    }
    for (kind, set) in &m.http {
        let var = crate::agent::http::settings::default_key_env(*kind);
        let state = if *set {
            format!("{var} is set here")
        } else {
            format!("set {var} first")
        };
        out.push_str(&format!(
            "\n# {kind}: a model API over HTTP ({state}; the key is read from the environment only,\n# never from this file). Pick a model, uncomment, and add \"{name}\" to [review].agents.\n# [agents.{name}]\n# kind = \"{kind}\"\n# model = \"…\"\n",
            kind = kind.as_str(),
            name = kind.as_str().replace('-', "_"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_loads_whatever_was_found() {
        let all = Machine {
            clis: vec![(AgentKind::Claude, true), (AgentKind::Codex, false)],
            acp: crate::agent::acp::presets::PRESETS.iter().take(1).collect(),
            http: vec![(AgentKind::Openai, true)],
        };
        let none = Machine {
            clis: vec![(AgentKind::Claude, false)],
            acp: Vec::new(),
            http: Vec::new(),
        };
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("DEEP_REVIEW_CONFIG", dir.path().join("none.toml"));
        for m in [all, none] {
            let text = template(&m);
            let cfg = super::super::load(dir.path(), Some(&text), &Default::default())
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(cfg.agents[0].name, "builtin", "{text}");
        }
    }
}
