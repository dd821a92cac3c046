//! OpenAI Codex CLI: `codex exec --json --sandbox read-only`, its JSONL events parsed live.
//!
//! Facts this relies on (from the real binary, `agent-clis/AGENT_CLIS.md` §2): the final answer
//! is the last `agent_message` item; tool calls are items (`command_execution` is the shell);
//! usage is summed in `turn.completed`; a failed turn is `turn.failed` with exit 1; top-level
//! `error` events saying "Reconnecting…" are not fatal; the model is not in the stream.
//! Offline, codex never gives up: after its stream retries it prints "Reconnecting... waiting
//! for network" about once a minute until killed (measured on 0.171.0 against a closed port:
//! still retrying at 16 minutes), so [`OFFLINE_RETRIES`] of those in a row end the run as
//! unreachable.

use super::cli::Cli;
use super::stream::event;
use super::stream::field;
use super::stream::files_in_shell_command;
use super::stream::StreamParser;
use super::stream::StreamSummary;
use super::stream::ToolUse;
use super::AgentKind;
use super::AgentSpec;
use super::FailureKind;
use super::Outcome;
use super::RunContext;
use super::Tokens;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;

/// OpenAI's Codex CLI as a reviewer.
pub struct Codex;

impl Cli for Codex {
    fn kind(&self) -> AgentKind {
        AgentKind::Codex
    }

    fn binary(&self) -> &'static str {
        "codex"
    }

    fn install_hint(&self) -> &'static str {
        "install it with `npm install -g @openai/codex`, then run `codex login` (or set CODEX_API_KEY; OPENAI_API_KEY is passed on as CODEX_API_KEY when codex has no login)"
    }

    fn login_hint(&self) -> &'static str {
        "run `codex login`, or set CODEX_API_KEY (codex exec ignores OPENAI_API_KEY; deep-review passes it on as CODEX_API_KEY when codex has no login)"
    }

    fn credential_sources(&self) -> (&'static [&'static str], Vec<PathBuf>) {
        let codex_home = std::env::var_os("CODEX_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| super::cli::home().join(".codex"));
        (
            &[API_KEY, OPENAI_API_KEY],
            vec![codex_home.join("auth.json")],
        )
    }

    /// From the agent's own environment, as codex will see it: CODEX_API_KEY wins over a
    /// login (measured on codex 0.171.0), a login over an OPENAI_API_KEY.
    fn credentials(&self, spec: &AgentSpec) -> Option<String> {
        let env = super::env::for_agent(spec);
        let explicit = spec
            .env
            .get(API_KEY)
            .cloned()
            .or_else(|| std::env::var(API_KEY).ok())
            .is_some_and(|v| !v.is_empty());
        if explicit {
            return Some(format!("{API_KEY} is set"));
        }
        if has(&env, API_KEY) {
            return Some(format!(
                "{OPENAI_API_KEY} is set (passed to codex as {API_KEY})"
            ));
        }
        login_file(&env)
            .filter(|f| f.exists())
            .map(|f| format!("logged in ({})", f.display()))
    }

    fn wants_env(&self, name: &str, _is_set: &dyn Fn(&str) -> bool) -> bool {
        name.starts_with("OPENAI_") || name.starts_with("CODEX_")
    }

    /// `codex exec` reads its API key from CODEX_API_KEY only: with just OPENAI_API_KEY set,
    /// its requests carry no Authorization header (measured on codex 0.171.0). A user who
    /// holds an OpenAI key as OPENAI_API_KEY, and has neither CODEX_API_KEY nor a codex
    /// login, gets that key as CODEX_API_KEY. A login is left alone: CODEX_API_KEY would
    /// override it (and bill the key instead of the subscription).
    fn derived_env(&self, env: &BTreeMap<String, String>) -> Vec<(String, String)> {
        if has(env, API_KEY) || !has(env, OPENAI_API_KEY) {
            return Vec::new();
        }
        if login_file(env).is_some_and(|f| f.exists()) {
            return Vec::new();
        }
        vec![(API_KEY.to_string(), env[OPENAI_API_KEY].clone())]
    }

    fn argv(&self, spec: &AgentSpec, ctx: &RunContext) -> Result<Vec<String>, Outcome> {
        let dir = &ctx.dirs.agent;
        let schema_path = dir.join("output-schema.json");
        crate::artifacts::write(&schema_path, &ctx.task.strict_schema().to_string()).map_err(
            |e| {
                Outcome::failed(
                    FailureKind::Crashed,
                    match std::error::Error::source(&e) {
                        Some(cause) => format!("{e}: {cause}"),
                        None => e.to_string(),
                    },
                    "free space on the review folder's disk, or pass --out on another one",
                )
            },
        )?;
        let workdir = &ctx.change.workdir;
        let mut a = args(
            spec.model.as_deref(),
            spec.effort.as_deref(),
            workdir,
            &schema_path,
            &dir.join("last-message.txt"),
        );
        if ctx.change.untrusted {
            // After `exec`.
            a.splice(1..1, self.untrusted_flags(workdir));
        }
        // Extra arguments (provider settings, profiles) go before the prompt.
        a.extend(spec.args.iter().cloned());
        a.push(PROMPT_FROM_STDIN.into());
        Ok(a)
    }

    /// No AGENTS.md; no project `.rules`; the worktree is an untrusted project, so its
    /// `.codex/config.toml` is not loaded even if a user setting trusts a parent folder.
    /// Verified on codex 0.171.0 by tests/cli/malicious_pr.rs.
    fn untrusted_flags(&self, workdir: &Path) -> Vec<String> {
        let mut a: Vec<String> = ["--ignore-rules", "-c", "project_doc_max_bytes=0", "-c"]
            .map(String::from)
            .to_vec();
        a.push(format!(
            "projects.{}.trust_level=\"untrusted\"",
            toml_key(&workdir.display().to_string())
        ));
        a
    }

    fn parser(&self, spec: &AgentSpec, workdir: &Path) -> Box<dyn StreamParser> {
        Box::new(Parser::new(workdir, spec.model.as_deref()))
    }
}

/// The variable `codex exec` reads its API key from.
const API_KEY: &str = "CODEX_API_KEY";
/// Where OpenAI keys usually live; codex exec does not read it.
const OPENAI_API_KEY: &str = "OPENAI_API_KEY";

fn has(env: &BTreeMap<String, String>, name: &str) -> bool {
    env.get(name).is_some_and(|v| !v.is_empty())
}

/// The login codex keeps, in the agent's environment: `$CODEX_HOME/auth.json`, else
/// `$HOME/.codex/auth.json`.
fn login_file(env: &BTreeMap<String, String>) -> Option<PathBuf> {
    let home = match env.get("CODEX_HOME").filter(|v| !v.is_empty()) {
        Some(h) => PathBuf::from(h),
        None => PathBuf::from(env.get("HOME").filter(|v| !v.is_empty())?).join(".codex"),
    };
    Some(home.join("auth.json"))
}

/// A TOML basic-string key, for a path inside a dotted `-c` key.
fn toml_key(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The argv after `codex`.
pub fn args(
    model: Option<&str>,
    effort: Option<&str>,
    workdir: &Path,
    schema: &Path,
    last_message: &Path,
) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "exec".into(),
        "--json".into(),
        // Read-only, always: the sandbox refuses every write.
        "--sandbox".into(),
        "read-only".into(),
        "--skip-git-repo-check".into(),
        "--ephemeral".into(),
        "--color".into(),
        "never".into(),
        "-C".into(),
        workdir.display().to_string(),
        "--output-schema".into(),
        schema.display().to_string(),
        "-o".into(),
        last_message.display().to_string(),
    ];
    if let Some(m) = model {
        a.push("-m".into());
        a.push(m.into());
    }
    if let Some(e) = effort {
        a.push("-c".into());
        a.push(format!("model_reasoning_effort={e}"));
    }
    a
}

/// `-` makes codex read the prompt (the brief) from stdin, which we write and close.
pub const PROMPT_FROM_STDIN: &str = "-";

/// `codex exec --json` events (`codex-rs/exec/src/exec_events.rs`), as far as a review reads
/// them.
#[derive(Deserialize)]
#[serde(tag = "type")]
enum Event {
    #[serde(rename = "item.started")]
    ItemStarted {
        #[serde(default, deserialize_with = "field::lenient")]
        item: Option<Item>,
    },
    #[serde(rename = "item.completed")]
    ItemCompleted {
        #[serde(default, deserialize_with = "field::lenient")]
        item: Option<Item>,
    },
    /// Usage is summed over the turn's model requests.
    #[serde(rename = "turn.completed")]
    TurnCompleted {
        #[serde(default, deserialize_with = "field::lenient")]
        usage: Option<Usage>,
    },
    #[serde(rename = "turn.failed")]
    TurnFailed {
        #[serde(default, deserialize_with = "field::lenient")]
        error: Option<ErrorBody>,
    },
    /// A stream-level error; "Reconnecting…" ones are notices.
    #[serde(rename = "error")]
    Error {
        #[serde(default, deserialize_with = "field::lenient")]
        message: Option<String>,
    },
    #[serde(other)]
    Other,
}

/// A thread item; the tool calls among them are counted.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Item {
    AgentMessage {
        #[serde(default, deserialize_with = "field::lenient")]
        text: Option<String>,
    },
    /// The shell: codex has no read tool, so every file read is one of these.
    CommandExecution {
        #[serde(default, deserialize_with = "field::lenient")]
        command: Option<String>,
    },
    McpToolCall {
        #[serde(default, deserialize_with = "field::lenient")]
        server: Option<String>,
        #[serde(default, deserialize_with = "field::lenient")]
        tool: Option<String>,
    },
    WebSearch {},
    /// Only ever emitted as completed.
    FileChange {},
    CollabToolCall {
        #[serde(default, deserialize_with = "field::lenient")]
        tool: Option<String>,
    },
    /// A non-fatal problem ("Falling back from WebSockets to HTTPS transport…").
    Error {},
    #[serde(other)]
    Other,
}

impl Item {
    /// What a started call is about, for `--verbose`: the shell's command.
    fn target(&self) -> Option<String> {
        match self {
            Item::CommandExecution { command } => command.clone(),
            _ => None,
        }
    }

    /// The name a tool-call item is counted under; `None` for items that are not tool calls.
    fn tool_name(&self) -> Option<String> {
        match self {
            Item::CommandExecution { .. } => Some("shell".into()),
            Item::McpToolCall { server, tool } => Some(format!(
                "{}/{}",
                server.as_deref().unwrap_or("mcp"),
                tool.as_deref().unwrap_or("tool")
            )),
            Item::WebSearch {} => Some("web_search".into()),
            Item::FileChange {} => Some("file_change".into()),
            Item::CollabToolCall { tool } => Some(tool.clone().unwrap_or_else(|| "collab".into())),
            Item::AgentMessage { .. } | Item::Error {} | Item::Other => None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Usage {
    #[serde(deserialize_with = "field::count")]
    input_tokens: Option<u64>,
    #[serde(deserialize_with = "field::count")]
    cached_input_tokens: Option<u64>,
    #[serde(deserialize_with = "field::count")]
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default, deserialize_with = "field::lenient")]
    message: Option<String>,
}

/// How many "Reconnecting... waiting for network" notices in a row, with nothing else
/// happening, make a run unreachable. codex prints them with a growing backoff capped near a
/// minute (measured on 0.171.0: about 9, 17, 30 and 53 seconds after the start), so this
/// stops an offline run in about a minute, past a short network blip.
pub const OFFLINE_RETRIES: u32 = 4;

/// The notice codex repeats, without end, while it cannot connect.
const OFFLINE_NOTICE: &str = "Reconnecting... waiting for network";

pub struct Parser {
    summary: StreamSummary,
    workdir: PathBuf,
    turn_failed: bool,
    /// "waiting for network" notices since the last sign of progress.
    offline_retries: u32,
}

impl Parser {
    pub fn new(workdir: &Path, model: Option<&str>) -> Parser {
        Parser {
            summary: StreamSummary {
                model: model.map(str::to_string),
                ..StreamSummary::default()
            },
            workdir: workdir.to_path_buf(),
            turn_failed: false,
            offline_retries: 0,
        }
    }

    /// A stream-level error event: fatal, or a "Reconnecting…" notice.
    fn error(&mut self, msg: String) {
        if !msg.starts_with("Reconnecting") {
            if self.summary.error.is_none() {
                self.summary.error = Some(msg);
            }
            return;
        }
        // Other "Reconnecting... k/N" notices are a bounded retry of a stream codex reached.
        if !msg.starts_with(OFFLINE_NOTICE) {
            return;
        }
        self.offline_retries = self.offline_retries.saturating_add(1);
        if self.offline_retries >= OFFLINE_RETRIES && !self.summary.unreachable {
            self.summary.unreachable = true;
            self.summary.error = Some(format!(
                "codex could not connect to its model API and was stopped after {} retries (it would retry until the timeout): {msg}",
                self.offline_retries
            ));
        }
    }

    fn completed(&mut self, item: Item, started: &mut Vec<ToolUse>) {
        match item {
            Item::AgentMessage { text } => self.summary.final_text = text,
            Item::CommandExecution { command } => {
                self.summary.count_tool("shell");
                for f in command
                    .as_deref()
                    .map(files_in_shell_command)
                    .unwrap_or_default()
                {
                    self.summary.add_file(&f, &self.workdir);
                }
            }
            item => {
                if let Some(name) = item.tool_name() {
                    // Items without an item.started (file_change) count here.
                    self.summary.count_tool(&name);
                    if matches!(item, Item::FileChange {}) {
                        started.push(ToolUse::new(name, None));
                    }
                }
            }
        }
    }

    fn turn_completed(&mut self, usage: Option<Usage>) {
        let u = usage.unwrap_or_default();
        let prev = self.summary.tokens.take().unwrap_or_default();
        // Saturating: the counts are the CLI's word, and must not panic on absurd ones.
        self.summary.tokens = Some(Tokens {
            input: prev.input.saturating_add(u.input_tokens.unwrap_or(0)),
            output: prev.output.saturating_add(u.output_tokens.unwrap_or(0)),
            cached: prev
                .cached
                .saturating_add(u.cached_input_tokens.unwrap_or(0)),
        });
        self.summary.completed = !self.turn_failed;
    }
}

impl StreamParser for Parser {
    fn feed(&mut self, line: &str) -> Vec<ToolUse> {
        let Some(event) = event::<Event>(line, &mut self.summary) else {
            return Vec::new();
        };
        let mut started = Vec::new();
        let progress = match &event {
            Event::Error { .. } | Event::Other => false,
            Event::ItemCompleted { item } => !matches!(item, Some(Item::Error {}) | None),
            _ => true,
        };
        if progress {
            self.offline_retries = 0;
        }
        match event {
            Event::ItemStarted { item } => {
                started.extend(item.and_then(|i| Some(ToolUse::new(i.tool_name()?, i.target()))));
            }
            Event::ItemCompleted { item: Some(item) } => self.completed(item, &mut started),
            Event::TurnCompleted { usage } => self.turn_completed(usage),
            Event::TurnFailed { error } => {
                self.turn_failed = true;
                self.summary.completed = false;
                let msg = error.and_then(|e| e.message);
                self.summary.error = Some(msg.unwrap_or_else(|| "the turn failed".into()));
            }
            // "Reconnecting... 2/5" is a notice; the run may still succeed.
            Event::Error { message } => self.error(message.unwrap_or_default()),
            Event::ItemCompleted { item: None } | Event::Other => {}
        }
        if let Some(e) = &self.summary.error {
            if self.summary.error_status.is_none() {
                self.summary.error_status = status_in(e);
            }
        }
        started
    }

    fn summary(&self) -> &StreamSummary {
        &self.summary
    }

    fn finish(&mut self, stderr_tail: &str) {
        // Errors before the stream starts (bad config, auth) are printed on stderr.
        if !self.summary.completed && self.summary.error.is_none() {
            if let Some(line) = stderr_tail
                .lines()
                .rev()
                .find(|l| l.contains("Error") || l.contains("error"))
            {
                self.summary.error = Some(line.trim().to_string());
                self.summary.error_status = status_in(line);
            }
        }
    }
}

/// An HTTP status mentioned in an error message ("last status: 429 Too Many Requests").
pub fn status_in(msg: &str) -> Option<u16> {
    for w in msg.split(|c: char| !c.is_ascii_digit()) {
        if w.len() == 3 {
            if let Ok(n) = w.parse::<u16>() {
                if (400..600).contains(&n) {
                    return Some(n);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of codex 0.171.0 pointed at a closed port on 127.0.0.1 (built-in provider).
    const OFFLINE: &[&str] = &[
        r#"{"type":"thread.started","thread_id":"01a234bf-a1f8-79b1-82e2-5bd94d6880b0"}"#,
        r#"{"type":"turn.started"}"#,
        r#"{"type":"error","message":"Reconnecting... 2/5 (stream disconnected before completion: Connection refused (os error 111))"}"#,
        r#"{"type":"error","message":"Reconnecting... 3/5 (stream disconnected before completion: Connection refused (os error 111))"}"#,
        r#"{"type":"error","message":"Reconnecting... 4/5 (stream disconnected before completion: Connection refused (os error 111))"}"#,
        r#"{"type":"error","message":"Reconnecting... 5/5 (stream disconnected before completion: Connection refused (os error 111))"}"#,
        r#"{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Falling back from WebSockets to HTTPS transport. stream disconnected before completion: Connection refused (os error 111)"}}"#,
    ];
    const WAITING: &str = r#"{"type":"error","message":"Reconnecting... waiting for network (Connection failed: error sending request)"}"#;

    fn parser() -> Parser {
        Parser::new(Path::new("/w"), None)
    }

    #[test]
    fn an_offline_run_is_unreachable_after_a_bounded_number_of_network_waits() {
        let mut p = parser();
        for l in OFFLINE {
            p.feed(l);
        }
        assert!(!p.summary.unreachable, "bounded stream retries are notices");
        for i in 1..=OFFLINE_RETRIES {
            assert!(!p.summary.unreachable, "after {} waits", i - 1);
            p.feed(WAITING);
        }
        assert!(p.summary.unreachable);
        let e = p.summary.error.clone().unwrap();
        assert!(
            e.contains("waiting for network") && e.contains("stopped"),
            "{e}"
        );
    }

    #[test]
    fn progress_between_network_waits_starts_the_count_again() {
        let mut p = parser();
        for _ in 1..OFFLINE_RETRIES {
            p.feed(WAITING);
        }
        p.feed(
            r#"{"type":"item.completed","item":{"id":"item_1","type":"reasoning","text":"..."}}"#,
        );
        for _ in 1..OFFLINE_RETRIES {
            p.feed(WAITING);
        }
        assert!(!p.summary.unreachable);
        assert!(p.summary.error.is_none(), "notices are not errors");
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_openai_key_reaches_codex_exec_as_codex_api_key_unless_codex_has_its_own() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path().to_str().unwrap();
        let derived = |pairs: &[(&str, &str)]| Codex.derived_env(&env(pairs));
        assert_eq!(
            derived(&[("HOME", h), ("OPENAI_API_KEY", "sk-openai")]),
            vec![("CODEX_API_KEY".to_string(), "sk-openai".to_string())]
        );
        // Its own key, or no key at all: nothing to derive.
        assert!(derived(&[
            ("HOME", h),
            ("OPENAI_API_KEY", "sk-o"),
            ("CODEX_API_KEY", "sk-c")
        ])
        .is_empty());
        assert!(derived(&[("HOME", h), ("OPENAI_API_KEY", "")]).is_empty());
        assert!(derived(&[("HOME", h)]).is_empty());
        // A login (in CODEX_HOME, else ~/.codex) wins over the key, as codex would have it.
        std::fs::create_dir_all(home.path().join(".codex")).unwrap();
        std::fs::write(home.path().join(".codex/auth.json"), "{}").unwrap();
        assert!(derived(&[("HOME", h), ("OPENAI_API_KEY", "sk-openai")]).is_empty());
        let elsewhere = home.path().join("elsewhere");
        let e = elsewhere.to_str().unwrap();
        assert_eq!(
            derived(&[
                ("HOME", h),
                ("CODEX_HOME", e),
                ("OPENAI_API_KEY", "sk-openai")
            ])
            .len(),
            1,
            "CODEX_HOME has no login"
        );
    }
}
