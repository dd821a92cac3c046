//! The ACP agents whose launch command and permission settings are known, and what each one
//! needs around the protocol: its model flag, its vendor's environment variables, and the
//! settings that leave it nothing but reading.
//!
//! A preset is chosen by name (`preset = "opencode"`, with or without a `command` that says
//! how to start it) or recognised from any word of the command: a program's file name
//! (`["/opt/bin/opencode", "acp"]`, `["/usr/bin/env", "opencode", "acp"]`) or its npm
//! package (`["npx", "opencode-ai@1.18.33", "acp"]`), so an agent configured by hand gets the
//! same read-only settings as its preset. An agent that matches none is not started on an
//! untrusted head unless its table says `allow_untrusted = true`.

use std::path::Path;

/// One known ACP agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The name `preset = "…"` takes.
    pub name: &'static str,
    /// How it is started in ACP mode.
    pub command: &'static [&'static str],
    /// Where the command was verified.
    pub source: &'static str,
    /// How it installs, for hints.
    pub install: &'static str,
    /// Its npm packages, recognised in a command (`npx opencode-ai acp`).
    pub packages: &'static [&'static str],
    /// Prefixes of its own environment variables (keys, base URLs, settings).
    pub env_prefixes: &'static [&'static str],
    /// Its own flag for the model, when it has one (opencode takes it in its config instead).
    pub model_flag: Option<&'static str>,
    /// Variables that hold its credentials, and its login files under the home folder, for
    /// `deep-review agents` (whether one is set, never the value).
    pub credentials: &'static [&'static str],
    pub logins: &'static [&'static str],
}

/// The presets `deep-review agents` lists. Each command was checked against the agent's own
/// `--help` at the version named, or its documentation.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "gemini-acp",
        command: &["gemini", "--acp"],
        source: "gemini-cli 0.61.0 `--help` (`--experimental-acp` is deprecated there); run by the tests",
        install: "npm install -g @google/gemini-cli",
        packages: &["@google/gemini-cli"],
        env_prefixes: &["GEMINI_", "GOOGLE_"],
        model_flag: Some("-m"),
        credentials: &["GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"],
        logins: &[".gemini/oauth_creds.json"],
    },
    Preset {
        name: "opencode",
        command: &["opencode", "acp"],
        source: "opencode 1.18.33 `opencode acp --help`; run by the tests",
        install: "npm install -g opencode-ai",
        packages: &["opencode-ai"],
        env_prefixes: &["OPENCODE_"],
        model_flag: None,
        // Its providers' keys reach it only through `pass_env`.
        credentials: &[],
        logins: &[".local/share/opencode/auth.json"],
    },
    Preset {
        name: "qwen",
        command: &["qwen", "--acp"],
        source: "Qwen Code 0.24.4 `--help`",
        install: "npm install -g @qwen-code/qwen-code",
        packages: &["@qwen-code/qwen-code"],
        env_prefixes: &["QWEN_", "DASHSCOPE_", "OPENAI_"],
        model_flag: Some("-m"),
        credentials: &["DASHSCOPE_API_KEY", "OPENAI_API_KEY"],
        logins: &[".qwen/oauth_creds.json"],
    },
    Preset {
        name: "copilot",
        command: &["copilot", "--acp", "--stdio"],
        source: "GitHub Docs, Copilot CLI ACP server (public preview); not run here",
        install: "npm install -g @github/copilot, then `copilot` once to log in",
        packages: &["@github/copilot"],
        env_prefixes: &["COPILOT_", "GH_HOST"],
        model_flag: Some("--model"),
        credentials: &["COPILOT_GITHUB_TOKEN"],
        logins: &[],
    },
    Preset {
        name: "goose",
        command: &["goose", "acp"],
        source: "goose documentation, Using goose in ACP Clients; not run here",
        install: "see block.github.io/goose for the goose CLI",
        packages: &[],
        env_prefixes: &["GOOSE_"],
        model_flag: None,
        credentials: &[],
        logins: &[".config/goose/config.yaml"],
    },
];

impl Preset {
    /// Where its credentials appear to come from; "none found" when it names some and none
    /// is there.
    pub fn credentials_found(&self) -> Option<String> {
        if let Some(v) = self
            .credentials
            .iter()
            .find(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
        {
            return Some(format!("{v} is set"));
        }
        let home = crate::agent::cli::home();
        if let Some(f) = self
            .logins
            .iter()
            .map(|f| home.join(f))
            .find(|f| f.exists())
        {
            return Some(format!("logged in ({})", f.display()));
        }
        let named = !self.credentials.is_empty() || !self.logins.is_empty();
        named.then(|| "none found".to_string())
    }
}

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The preset an agent has: the one its table names, else the one its command is.
pub fn for_spec(spec: &crate::agent::AgentSpec) -> Option<&'static Preset> {
    match &spec.preset {
        Some(name) => find(name),
        None => of_command(&spec.command),
    }
}

/// The preset a command is, from the first of its words (each split at spaces too, for
/// `sh -c "exec opencode acp"`) that names one: a program's file name (`opencode`,
/// `/opt/bin/opencode`, `opencode.exe`) or an npm package, with or without a version
/// (`opencode-ai`, `@google/gemini-cli@latest`, `…/node_modules/@qwen-code/qwen-code/…`).
pub fn of_command(command: &[String]) -> Option<&'static Preset> {
    command
        .iter()
        .flat_map(|w| w.split_whitespace())
        .find_map(|token| PRESETS.iter().find(|p| p.is_named_by(token)))
}

impl Preset {
    fn is_named_by(&self, token: &str) -> bool {
        let package = self.packages.iter().any(|pkg| {
            token == *pkg
                || token.starts_with(&format!("{pkg}@"))
                || token.contains(&format!("node_modules/{pkg}/"))
        });
        let file = Path::new(token)
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("");
        let stem = [".exe", ".cmd", ".js", ".mjs", ".cjs"]
            .iter()
            .find_map(|ext| file.strip_suffix(ext))
            .unwrap_or(file);
        package || stem == self.command[0]
    }
}

pub fn names() -> String {
    PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// opencode runs its own tools (edit, bash, webfetch, …) without asking the client, so its
/// own permissions are set to deny everything but reading and searching; a rejected
/// permission request would end its turn without an answer. Given as `OPENCODE_CONFIG_CONTENT`
/// (highest precedence) and `OPENCODE_PERMISSION`, never as a file in the reviewed tree.
pub fn opencode_permission() -> serde_json::Value {
    serde_json::json!({
        "*": "deny",
        "read": "allow",
        "grep": "allow",
        "glob": "allow",
        "list": "allow",
        "edit": "deny",
        "write": "deny",
        "patch": "deny",
        "bash": "deny",
        "webfetch": "deny",
        "websearch": "deny",
        "codesearch": "deny",
        "task": "deny",
        "todowrite": "deny",
        "external_directory": "deny",
        "doom_loop": "deny",
        "question": "deny"
    })
}

/// The environment opencode gets on top of its allowlist: the permissions above (merged into
/// a user's own `OPENCODE_CONFIG_CONTENT`, whose `permission` they replace), the model, no
/// language servers and no formatters (`lsp` and `formatter` set to `false` over the user's:
/// opencode's `read` starts the language servers for the file it reads, and looks their
/// programs up in the reviewed tree first, e.g. `node_modules/.bin/oxlint`, so a PR could run
/// its own program; nor does it download any), and switches that keep the reviewed tree from
/// configuring it: no project config (`opencode.json`, `.opencode/`: agents, commands,
/// plugins), no Claude Code files (`CLAUDE.md`, `.claude/skills`), no self-update.
pub fn opencode_env(
    user_content: Option<&str>,
    model: Option<&str>,
) -> Result<Vec<(String, String)>, String> {
    let mut content = match user_content.filter(|c| !c.trim().is_empty()) {
        Some(text) => serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .filter(|v| v.is_object())
            .ok_or_else(|| "OPENCODE_CONFIG_CONTENT is not a JSON object".to_string())?,
        None => serde_json::json!({}),
    };
    let permission = opencode_permission();
    content["permission"] = permission.clone();
    content["lsp"] = serde_json::Value::Bool(false);
    content["formatter"] = serde_json::Value::Bool(false);
    if let Some(m) = model {
        content["model"] = serde_json::Value::String(m.to_string());
    }
    let on = |n: &str| (n.to_string(), "1".to_string());
    Ok(vec![
        ("OPENCODE_CONFIG_CONTENT".into(), content.to_string()),
        ("OPENCODE_PERMISSION".into(), permission.to_string()),
        on("OPENCODE_DISABLE_PROJECT_CONFIG"),
        on("OPENCODE_DISABLE_CLAUDE_CODE"),
        on("OPENCODE_DISABLE_AUTOUPDATE"),
        on("OPENCODE_DISABLE_SHARE"),
        on("OPENCODE_DISABLE_LSP_DOWNLOAD"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_recognised_by_program_name() {
        let c = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            of_command(&c(&["/opt/x/opencode", "acp"])).map(|p| p.name),
            Some("opencode")
        );
        assert_eq!(
            of_command(&c(&["gemini", "--acp"])).map(|p| p.name),
            Some("gemini-acp")
        );
        assert_eq!(of_command(&c(&["my-agent"])), None);
        // Behind a wrapper, through npx, by package, in a shell line.
        let name = |a: &[&str]| of_command(&c(a)).map(|p| p.name);
        assert_eq!(
            name(&["/usr/bin/env", "/x/bin/opencode", "acp"]),
            Some("opencode")
        );
        assert_eq!(name(&["npx", "opencode-ai", "acp"]), Some("opencode"));
        assert_eq!(
            name(&["npx", "-y", "opencode-ai@1.18.33", "acp"]),
            Some("opencode")
        );
        assert_eq!(
            name(&["/x/node_modules/opencode-ai/bin/opencode.exe", "acp"]),
            Some("opencode")
        );
        assert_eq!(
            name(&["npx", "@google/gemini-cli@latest", "--acp"]),
            Some("gemini-acp")
        );
        assert_eq!(
            name(&[
                "node",
                "/x/node_modules/@google/gemini-cli/dist/index.js",
                "--acp"
            ]),
            Some("gemini-acp")
        );
        assert_eq!(
            name(&["bunx", "@qwen-code/qwen-code", "--acp"]),
            Some("qwen")
        );
        assert_eq!(name(&["npx", "@github/copilot", "--acp"]), Some("copilot"));
        assert_eq!(name(&["sh", "-c", "exec goose acp"]), Some("goose"));
        assert_eq!(name(&["npx", "opencode-air", "acp"]), None);
        assert_eq!(name(&["python3", "/x/fake_agent.py", "/x/r.json"]), None);
        assert_eq!(find("goose").unwrap().command, ["goose", "acp"]);
    }

    #[test]
    fn a_named_preset_wins_over_the_command() {
        use crate::agent::AgentKind;
        use crate::agent::AgentSpec;
        let mut spec = AgentSpec::new("x", AgentKind::Acp, std::time::Duration::from_secs(1));
        spec.command = vec!["/opt/wrap".into(), "--model".into(), "gemini".into()];
        assert_eq!(for_spec(&spec).map(|p| p.name), Some("gemini-acp"));
        spec.preset = Some("opencode".into());
        assert_eq!(for_spec(&spec).map(|p| p.name), Some("opencode"));
        spec.preset = None;
        spec.command = vec!["/opt/my-agent".into()];
        assert_eq!(for_spec(&spec), None);
    }

    #[test]
    fn opencode_may_only_read_whatever_its_user_config_says() {
        let env = opencode_env(
            Some(r#"{"permission": "allow", "lsp": true, "formatter": {"x": {"command": ["x"]}}, "provider": {"x": {}}}"#),
            Some("x/m"),
        )
        .unwrap();
        let content: serde_json::Value = serde_json::from_str(
            &env.iter()
                .find(|(k, _)| k == "OPENCODE_CONFIG_CONTENT")
                .unwrap()
                .1,
        )
        .unwrap();
        assert_eq!(content["permission"]["*"], "deny");
        assert_eq!(content["permission"]["bash"], "deny");
        assert_eq!(content["permission"]["edit"], "deny");
        assert_eq!(content["permission"]["read"], "allow");
        assert_eq!(content["model"], "x/m");
        assert!(content["provider"]["x"].is_object());
        // No language server or formatter, whatever the user's config says: they would run
        // programs found in the reviewed tree.
        assert_eq!(content["lsp"], false);
        assert_eq!(content["formatter"], false);
        assert!(env
            .iter()
            .any(|(k, v)| k == "OPENCODE_DISABLE_LSP_DOWNLOAD" && v == "1"));
        assert!(env
            .iter()
            .any(|(k, v)| k == "OPENCODE_DISABLE_PROJECT_CONFIG" && v == "1"));
        assert!(opencode_env(Some("[1]"), None).is_err());
    }
}
