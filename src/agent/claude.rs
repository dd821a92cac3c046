//! Claude Code: `claude -p … --output-format stream-json --verbose`, parsed live.
//!
//! Facts this relies on (`agent-clis/AGENT_CLIS.md` §3): each content block of an assistant
//! message arrives as its own `assistant` line; tool calls are `tool_use` blocks by `name`;
//! files read are `Read.input.file_path` and `tool_use_result.file.filePath`; the last line is
//! `result` with usage, cost and duration; with `--json-schema` the answer is
//! `result.structured_output`. Failure is `result.is_error` (its `subtype` stays "success" on
//! API errors, so never trust `subtype` alone) with `api_error_status`.

use super::cli::Cli;
use super::stream::event;
use super::stream::field;
use super::stream::http_status;
use super::stream::StreamParser;
use super::stream::StreamSummary;
use super::stream::ToolUse;
use super::AgentKind;
use super::AgentSpec;
use super::Outcome;
use super::RunContext;
use super::Tokens;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::collections::BTreeMap;
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

/// The stream's events, as far as a review reads them (`--output-format stream-json
/// --verbose`; `--output-format json` prints the same `result`).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    System {
        #[serde(default, deserialize_with = "field::lenient")]
        subtype: Option<String>,
        #[serde(default, deserialize_with = "field::lenient")]
        model: Option<String>,
    },
    Assistant {
        #[serde(default, deserialize_with = "field::lenient")]
        message: Option<Message>,
    },
    User {
        #[serde(default, deserialize_with = "field::lenient")]
        tool_use_result: Option<ToolUseResult>,
    },
    Result(Box<RunResult>),
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default, deserialize_with = "field::lenient")]
    model: Option<String>,
    #[serde(default, deserialize_with = "field::items")]
    content: Option<Vec<Block>>,
}

/// A content block of an assistant message.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    ToolUse {
        #[serde(default, deserialize_with = "field::lenient")]
        name: Option<String>,
        #[serde(default, deserialize_with = "field::lenient")]
        input: Option<ToolInput>,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct ToolInput {
    /// `Read`'s file.
    #[serde(default, deserialize_with = "field::lenient")]
    file_path: Option<String>,
    /// `Grep`'s and `Glob`'s pattern, `Bash`'s command, their folder: for `--verbose` only.
    #[serde(default, deserialize_with = "field::lenient")]
    pattern: Option<String>,
    #[serde(default, deserialize_with = "field::lenient")]
    command: Option<String>,
    #[serde(default, deserialize_with = "field::lenient")]
    path: Option<String>,
}

impl ToolInput {
    /// What the call is about, for `--verbose`: its file, command, or pattern (in its folder).
    fn target(&self) -> Option<String> {
        if let Some(f) = self.file_path.clone().or_else(|| self.command.clone()) {
            return Some(f);
        }
        match (&self.pattern, &self.path) {
            (Some(p), Some(dir)) => Some(format!("{p} in {dir}")),
            (Some(p), None) => Some(p.clone()),
            (None, dir) => dir.clone(),
        }
    }
}

#[derive(Deserialize)]
struct ToolUseResult {
    #[serde(default, deserialize_with = "field::lenient")]
    file: Option<ResultFile>,
}

#[derive(Deserialize)]
struct ResultFile {
    #[serde(default, rename = "filePath", deserialize_with = "field::lenient")]
    file_path: Option<String>,
}

/// The last line: the run's end, usage, cost and answer.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RunResult {
    #[serde(deserialize_with = "field::lenient")]
    subtype: Option<String>,
    #[serde(deserialize_with = "field::lenient")]
    is_error: Option<bool>,
    #[serde(deserialize_with = "field::count")]
    api_error_status: Option<u64>,
    /// The answer's text, or the error's.
    #[serde(deserialize_with = "field::lenient")]
    result: Option<String>,
    #[serde(deserialize_with = "field::items")]
    errors: Option<Vec<String>>,
    /// The answer when `--json-schema` was given; any JSON.
    structured_output: Option<serde_json::Value>,
    #[serde(deserialize_with = "field::lenient")]
    usage: Option<Usage>,
    #[serde(deserialize_with = "field::lenient")]
    total_cost_usd: Option<f64>,
    #[serde(deserialize_with = "field::count")]
    duration_ms: Option<u64>,
    /// Keyed by model id.
    #[serde(rename = "modelUsage", deserialize_with = "field::entries")]
    model_usage: Option<BTreeMap<String, IgnoredAny>>,
    #[serde(deserialize_with = "field::items")]
    permission_denials: Option<Vec<Denial>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Usage {
    #[serde(deserialize_with = "field::count")]
    input_tokens: Option<u64>,
    #[serde(deserialize_with = "field::count")]
    output_tokens: Option<u64>,
    #[serde(deserialize_with = "field::count")]
    cache_read_input_tokens: Option<u64>,
    #[serde(deserialize_with = "field::count")]
    cache_creation_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct Denial {
    #[serde(default, deserialize_with = "field::lenient")]
    tool_name: Option<String>,
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

    fn result(&mut self, r: RunResult) {
        let s = &mut self.summary;
        if let Some(u) = r.usage {
            let cached = u.cache_read_input_tokens.unwrap_or(0);
            s.tokens = Some(Tokens {
                // Saturating: the counts are the CLI's word, and must not panic on absurd ones.
                input: u
                    .input_tokens
                    .unwrap_or(0)
                    .saturating_add(cached)
                    .saturating_add(u.cache_creation_input_tokens.unwrap_or(0)),
                output: u.output_tokens.unwrap_or(0),
                cached,
            });
        }
        s.cost_usd = r.total_cost_usd;
        s.reported_duration_ms = r.duration_ms;
        if s.model.is_none() {
            s.model = r.model_usage.and_then(|m| m.into_keys().next());
        }
        s.denied.extend(
            r.permission_denials
                .into_iter()
                .flatten()
                .filter_map(|d| d.tool_name),
        );
        let subtype = r.subtype.unwrap_or_default();
        if r.is_error.unwrap_or(false) || subtype.starts_with("error") {
            s.completed = false;
            s.error_status = http_status(r.api_error_status);
            let msg = r
                .result
                .or_else(|| r.errors.map(|e| e.join("; ")))
                .unwrap_or(subtype);
            s.error = Some(msg);
        } else {
            s.completed = true;
            s.final_text = r.result;
            s.structured = r.structured_output.filter(|x| !x.is_null());
        }
    }

    fn event(&mut self, event: Event) -> Vec<ToolUse> {
        let mut started = Vec::new();
        match event {
            Event::System { subtype, model } if subtype.as_deref() == Some("init") => {
                self.summary.model = model;
            }
            Event::Assistant { message } => {
                let Some(msg) = message else {
                    return started;
                };
                if let Some(m) = msg.model.filter(|m| m != "<synthetic>") {
                    self.summary.model = Some(m);
                }
                for block in msg.content.into_iter().flatten() {
                    let Block::ToolUse { name, input } = block else {
                        continue;
                    };
                    let name = name.unwrap_or_else(|| "tool".to_string());
                    let target = input.as_ref().and_then(ToolInput::target);
                    if name == "Read" {
                        if let Some(p) = input.and_then(|i| i.file_path) {
                            self.summary.add_file(&p, &self.workdir);
                        }
                    }
                    self.summary.count_tool(&name);
                    started.push(ToolUse::new(name, target));
                }
            }
            Event::User { tool_use_result } => {
                let file = tool_use_result
                    .and_then(|r| r.file)
                    .and_then(|f| f.file_path);
                if let Some(p) = file {
                    self.summary.add_file(&p, &self.workdir);
                }
            }
            Event::Result(r) => self.result(*r),
            Event::System { .. } | Event::Other => {}
        }
        started
    }
}

impl StreamParser for Parser {
    fn feed(&mut self, line: &str) -> Vec<ToolUse> {
        // `--output-format json --verbose` prints every message as one JSON array.
        if line.trim_start().starts_with('[') {
            if let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(line.trim()) {
                return items
                    .iter()
                    .flat_map(|i| self.feed(&i.to_string()))
                    .collect();
            }
        }
        match event::<Event>(line, &mut self.summary) {
            Some(e) => self.event(e),
            None => Vec::new(),
        }
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
