//! Claude Code: `claude -p … --output-format stream-json --verbose`, parsed live.
//!
//! Facts this relies on (`agent-clis/AGENT_CLIS.md` §3): each content block of an assistant
//! message arrives as its own `assistant` line; tool calls are `tool_use` blocks by `name`;
//! files read are `Read.input.file_path` and `tool_use_result.file.filePath`; the last line is
//! `result` with usage, cost and duration; with `--json-schema` the answer is
//! `result.structured_output`. Failure is `result.is_error` (its `subtype` stays "success" on
//! API errors, so never trust `subtype` alone) with `api_error_status`.

use super::cli::Cli;
use super::stream::json_line;
use super::stream::str_of;
use super::stream::u64_of;
use super::stream::StreamParser;
use super::stream::StreamSummary;
use super::AgentKind;
use super::AgentSpec;
use super::Outcome;
use super::RunContext;
use super::Tokens;
use std::path::Path;
use std::path::PathBuf;

/// Claude Code as a reviewer.
pub struct Claude;

impl Cli for Claude {
    fn kind(&self) -> AgentKind {
        AgentKind::Claude
    }

    fn binary(&self) -> &'static str {
        "claude"
    }

    fn install_hint(&self) -> &'static str {
        "install it with `npm install -g @anthropic-ai/claude-code`, then run `claude` once to log in (or set ANTHROPIC_API_KEY)"
    }

    fn login_hint(&self) -> &'static str {
        "run `claude` once and log in, or set ANTHROPIC_API_KEY"
    }

    fn credential_sources(&self) -> (&'static [&'static str], Vec<PathBuf>) {
        (
            &[
                "ANTHROPIC_API_KEY",
                "ANTHROPIC_AUTH_TOKEN",
                "CLAUDE_CODE_OAUTH_TOKEN",
            ],
            vec![super::cli::home().join(".claude/.credentials.json")],
        )
    }

    /// Claude Code's own settings (`DISABLE_*` turn off its telemetry and updater); on Amazon
    /// Bedrock or Google Vertex AI, that cloud's variables, only when the user chose that
    /// mode (`CLAUDE_CODE_USE_BEDROCK` or `CLAUDE_CODE_USE_VERTEX` set).
    fn wants_env(&self, name: &str, is_set: &dyn Fn(&str) -> bool) -> bool {
        const NAMES: &[&str] = &[
            "DISABLE_TELEMETRY",
            "DISABLE_AUTOUPDATER",
            "DISABLE_ERROR_REPORTING",
            "DISABLE_NON_ESSENTIAL_MODEL_CALLS",
        ];
        name.starts_with("ANTHROPIC_")
            || name.starts_with("CLAUDE_")
            || NAMES.contains(&name)
            || (name.starts_with("AWS_") && is_set("CLAUDE_CODE_USE_BEDROCK"))
            || ((name == "GOOGLE_APPLICATION_CREDENTIALS"
                || name == "GOOGLE_CLOUD_PROJECT"
                || name == "CLOUD_ML_REGION"
                || name.starts_with("VERTEX_REGION_"))
                && is_set("CLAUDE_CODE_USE_VERTEX"))
    }

    fn argv(&self, spec: &AgentSpec, ctx: &RunContext) -> Result<Vec<String>, Outcome> {
        // Without `$schema`/`$id`: Claude Code validates the answer locally, and a validator
        // that does not know draft 2020-12 would reject the schema itself.
        let mut schema = ctx.task.schema();
        if let Some(o) = schema.as_object_mut() {
            o.remove("$schema");
            o.remove("$id");
        }
        let mut a = Vec::new();
        if ctx.change.untrusted {
            a.extend(self.untrusted_flags(&ctx.change.workdir));
        }
        // The user's extra arguments before ours, whose variadic tool lists come last.
        a.extend(spec.args.iter().cloned());
        // Claude Code stops itself at a dollar budget (`--max-budget-usd`, with --print).
        if let Some(usd) = spec.budget.max_cost_usd {
            a.extend(["--max-budget-usd".to_string(), format!("{usd}")]);
        }
        a.extend(args(
            spec.model.as_deref(),
            spec.effort.as_deref(),
            &schema.to_string(),
            &spec.allow_bash,
        ));
        Ok(a)
    }

    /// Only the user's own settings (no project or local settings: hooks, permissions, env,
    /// apiKeyHelper, model); no MCP server but those given on the command line (none).
    /// Verified on claude 2.1.332 by tests/cli/malicious_pr.rs.
    fn untrusted_flags(&self, _workdir: &Path) -> Vec<String> {
        ["--setting-sources", "user", "--strict-mcp-config"]
            .map(String::from)
            .to_vec()
    }

    fn parser(&self, _spec: &AgentSpec, workdir: &Path) -> Box<dyn StreamParser> {
        Box::new(Parser::new(workdir))
    }
}

/// Read tools only. Bash is added only for commands the user allow-listed.
pub const READ_TOOLS: &[&str] = &["Read", "Grep", "Glob"];

pub const INSTRUCTION: &str = "Review the code change described in the brief on stdin, as it instructs. Read the repository as needed; change nothing. Give your answer through the StructuredOutput tool, following the schema.";

/// The argv after `claude`. `allow_bash` lists the admitted read-only command forms
/// ([`super::bash::FORMS`]) the user allowed; without them no shell is offered at all.
pub fn args(
    model: Option<&str>,
    effort: Option<&str>,
    schema: &str,
    allow_bash: &[String],
) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "-p".into(),
        INSTRUCTION.into(),
        "--output-format".into(),
        "stream-json".into(),
        "--verbose".into(),
        // Anything not pre-approved is denied without a prompt.
        "--permission-mode".into(),
        "dontAsk".into(),
        "--no-session-persistence".into(),
        "--json-schema".into(),
        schema.into(),
    ];
    if let Some(m) = model {
        a.push("--model".into());
        a.push(m.into());
    }
    if let Some(e) = effort {
        a.push("--effort".into());
        a.push(e.into());
    }
    let mut tools: Vec<String> = READ_TOOLS.iter().map(|s| s.to_string()).collect();
    let mut allowed = tools.clone();
    // Bash only for admitted read-only forms, with their write/exec options denied.
    let (bash_allow, bash_deny) = super::bash::rules(allow_bash);
    if !bash_allow.is_empty() {
        tools.push("Bash".into());
        allowed.extend(bash_allow);
    }
    // Variadic options last, so nothing after them is taken for a tool name.
    a.push("--tools".into());
    a.extend(tools);
    a.push("--allowedTools".into());
    a.extend(allowed);
    a.push("--disallowedTools".into());
    a.extend(
        [
            "Edit",
            "Write",
            "NotebookEdit",
            "WebFetch",
            "WebSearch",
            "Task",
        ]
        .map(String::from),
    );
    a.extend(bash_deny);
    a
}

pub struct Parser {
    summary: StreamSummary,
    workdir: PathBuf,
}

impl Parser {
    pub fn new(workdir: &Path) -> Parser {
        Parser {
            summary: StreamSummary::default(),
            workdir: workdir.to_path_buf(),
        }
    }

    fn result(&mut self, v: &serde_json::Value) {
        let s = &mut self.summary;
        if let Some(u) = v.get("usage") {
            let cached = u64_of(u, "cache_read_input_tokens");
            s.tokens = Some(Tokens {
                // Saturating: the counts are the CLI's word, and must not panic on absurd ones.
                input: u64_of(u, "input_tokens")
                    .saturating_add(cached)
                    .saturating_add(u64_of(u, "cache_creation_input_tokens")),
                output: u64_of(u, "output_tokens"),
                cached,
            });
        }
        s.cost_usd = v.get("total_cost_usd").and_then(|c| c.as_f64());
        s.reported_duration_ms = v.get("duration_ms").and_then(|d| d.as_u64());
        if s.model.is_none() {
            s.model = v
                .get("modelUsage")
                .and_then(|m| m.as_object())
                .and_then(|m| m.keys().next().cloned());
        }
        for d in v
            .get("permission_denials")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(t) = str_of(d, "tool_name") {
                s.denied.push(t.to_string());
            }
        }
        let is_error = v.get("is_error").and_then(|b| b.as_bool()).unwrap_or(false);
        let subtype = str_of(v, "subtype").unwrap_or("");
        if is_error || subtype.starts_with("error") {
            s.completed = false;
            s.error_status = v
                .get("api_error_status")
                .and_then(|x| x.as_u64())
                .map(|x| x as u16);
            let msg = str_of(v, "result")
                .map(str::to_string)
                .or_else(|| {
                    v.get("errors").and_then(|e| e.as_array()).map(|e| {
                        e.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                })
                .unwrap_or_else(|| subtype.to_string());
            s.error = Some(msg);
        } else {
            s.completed = true;
            s.final_text = str_of(v, "result").map(str::to_string);
            s.structured = v.get("structured_output").filter(|x| !x.is_null()).cloned();
        }
    }
}

impl StreamParser for Parser {
    fn feed(&mut self, line: &str) -> Vec<String> {
        // `--output-format json --verbose` prints every message as one JSON array.
        if line.trim_start().starts_with('[') {
            if let Ok(serde_json::Value::Array(items)) = serde_json::from_str(line.trim()) {
                return items
                    .iter()
                    .flat_map(|i| self.feed(&i.to_string()))
                    .collect();
            }
        }
        let Some(v) = json_line(line, &mut self.summary) else {
            return Vec::new();
        };
        let mut started = Vec::new();
        match str_of(&v, "type").unwrap_or("") {
            "system" if str_of(&v, "subtype") == Some("init") => {
                self.summary.model = str_of(&v, "model").map(str::to_string);
            }
            "assistant" => {
                let msg = v.get("message");
                if let Some(m) = msg.and_then(|m| str_of(m, "model")) {
                    if m != "<synthetic>" {
                        self.summary.model = Some(m.to_string());
                    }
                }
                let blocks = msg
                    .and_then(|m| m.get("content"))
                    .and_then(|c| c.as_array());
                for b in blocks.into_iter().flatten() {
                    if str_of(b, "type") != Some("tool_use") {
                        continue;
                    }
                    let name = str_of(b, "name").unwrap_or("tool").to_string();
                    if name == "Read" {
                        if let Some(p) = b.get("input").and_then(|i| str_of(i, "file_path")) {
                            self.summary.add_file(p, &self.workdir);
                        }
                    }
                    self.summary.count_tool(&name);
                    started.push(name);
                }
            }
            "user" => {
                let file = v
                    .get("tool_use_result")
                    .and_then(|r| r.get("file"))
                    .and_then(|f| str_of(f, "filePath"));
                if let Some(p) = file {
                    self.summary.add_file(p, &self.workdir);
                }
            }
            "result" => self.result(&v),
            _ => {}
        }
        started
    }

    fn summary(&self) -> &StreamSummary {
        &self.summary
    }

    fn finish(&mut self, stderr_tail: &str) {
        if !self.summary.completed && self.summary.error.is_none() {
            if let Some(line) = stderr_tail.lines().rev().find(|l| !l.trim().is_empty()) {
                self.summary.error = Some(line.trim().to_string());
            }
        }
    }
}
