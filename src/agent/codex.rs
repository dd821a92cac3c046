//! OpenAI Codex CLI: `codex exec --json --sandbox read-only`, its JSONL events parsed live.
//!
//! Facts this relies on (from the real binary, `agent-clis/AGENT_CLIS.md` §2): the final answer
//! is the last `agent_message` item; tool calls are items (`command_execution` is the shell);
//! usage is summed in `turn.completed`; a failed turn is `turn.failed` with exit 1; top-level
//! `error` events saying "Reconnecting…" are not fatal; the model is not in the stream.

use super::cli::Cli;
use super::stream::files_in_shell_command;
use super::stream::json_line;
use super::stream::str_of;
use super::stream::u64_of;
use super::stream::StreamParser;
use super::stream::StreamSummary;
use super::AgentKind;
use super::AgentSpec;
use super::FailureKind;
use super::Outcome;
use super::RunContext;
use super::Tokens;
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
        "install it with `npm install -g @openai/codex`, then run `codex login` (or set OPENAI_API_KEY)"
    }

    fn login_hint(&self) -> &'static str {
        "run `codex login` or set OPENAI_API_KEY"
    }

    fn credential_sources(&self) -> (&'static [&'static str], Vec<PathBuf>) {
        let codex_home = std::env::var_os("CODEX_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| super::cli::home().join(".codex"));
        (
            &["OPENAI_API_KEY", "CODEX_API_KEY"],
            vec![codex_home.join("auth.json")],
        )
    }

    fn wants_env(&self, name: &str, _is_set: &dyn Fn(&str) -> bool) -> bool {
        name.starts_with("OPENAI_") || name.starts_with("CODEX_")
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

pub struct Parser {
    summary: StreamSummary,
    workdir: PathBuf,
    turn_failed: bool,
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
        }
    }
}

fn tool_name(item: &serde_json::Value) -> Option<String> {
    match str_of(item, "type")? {
        "command_execution" => Some("shell".into()),
        "mcp_tool_call" => Some(format!(
            "{}/{}",
            str_of(item, "server").unwrap_or("mcp"),
            str_of(item, "tool").unwrap_or("tool")
        )),
        "web_search" => Some("web_search".into()),
        "file_change" => Some("file_change".into()),
        "collab_tool_call" => Some(str_of(item, "tool").unwrap_or("collab").to_string()),
        _ => None,
    }
}

impl StreamParser for Parser {
    fn feed(&mut self, line: &str) -> Vec<String> {
        let Some(v) = json_line(line, &mut self.summary) else {
            return Vec::new();
        };
        let mut started = Vec::new();
        match str_of(&v, "type").unwrap_or("") {
            "item.started" => {
                if let Some(name) = v.get("item").and_then(tool_name) {
                    started.push(name);
                }
            }
            "item.completed" => {
                let Some(item) = v.get("item") else {
                    return started;
                };
                match str_of(item, "type").unwrap_or("") {
                    "agent_message" => {
                        self.summary.final_text = str_of(item, "text").map(str::to_string);
                    }
                    "command_execution" => {
                        self.summary.count_tool("shell");
                        if let Some(cmd) = str_of(item, "command") {
                            for f in files_in_shell_command(cmd) {
                                self.summary.add_file(&f, &self.workdir);
                            }
                        }
                    }
                    _ => {
                        if let Some(name) = tool_name(item) {
                            // Items without an item.started (file_change) count here.
                            self.summary.count_tool(&name);
                            if str_of(item, "type") == Some("file_change") {
                                started.push(name);
                            }
                        }
                    }
                }
            }
            "turn.completed" => {
                let u = v.get("usage").cloned().unwrap_or_default();
                let prev = self.summary.tokens.take().unwrap_or_default();
                // Saturating: the counts are the CLI's word, and must not panic on absurd ones.
                self.summary.tokens = Some(Tokens {
                    input: prev.input.saturating_add(u64_of(&u, "input_tokens")),
                    output: prev.output.saturating_add(u64_of(&u, "output_tokens")),
                    cached: prev
                        .cached
                        .saturating_add(u64_of(&u, "cached_input_tokens")),
                });
                self.summary.completed = !self.turn_failed;
            }
            "turn.failed" => {
                self.turn_failed = true;
                self.summary.completed = false;
                let msg = v
                    .get("error")
                    .and_then(|e| str_of(e, "message"))
                    .unwrap_or("the turn failed");
                self.summary.error = Some(msg.to_string());
            }
            "error" => {
                let msg = str_of(&v, "message").unwrap_or("");
                // "Reconnecting... 2/5" is a notice; the run may still succeed.
                if !msg.starts_with("Reconnecting") && self.summary.error.is_none() {
                    self.summary.error = Some(msg.to_string());
                }
            }
            _ => {}
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
