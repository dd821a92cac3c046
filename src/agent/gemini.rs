//! Gemini CLI: `gemini -p … --output-format stream-json --skip-trust`, parsed live.
//!
//! Facts this relies on (`agent-clis/AGENT_CLIS.md` §4): `init` names the model; assistant
//! text arrives as `message` deltas to concatenate; tool calls are `tool_use` by `tool_name`;
//! `result` carries status, stats and duration. On failure the exit code is the HTTP status
//! mod 256 (401 → 145, 429 → 173), and errors may be printed on stderr only.

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
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;

/// Google's Gemini CLI as a reviewer.
pub struct Gemini;

impl Cli for Gemini {
    fn kind(&self) -> AgentKind {
        AgentKind::Gemini
    }

    fn binary(&self) -> &'static str {
        "gemini"
    }

    fn install_hint(&self) -> &'static str {
        "install it with `npm install -g @google/gemini-cli` and set GEMINI_API_KEY (an AI Studio key; since June 2026 Gemini CLI no longer serves personal Google logins)"
    }

    fn login_hint(&self) -> &'static str {
        "set GEMINI_API_KEY (an AI Studio key), or use Vertex AI; since June 2026 Gemini CLI no longer serves personal Google logins"
    }

    fn credential_sources(&self) -> (&'static [&'static str], Vec<PathBuf>) {
        (
            &[
                "GEMINI_API_KEY",
                "GOOGLE_API_KEY",
                "GOOGLE_GENAI_USE_VERTEXAI",
            ],
            vec![super::cli::home().join(".gemini/oauth_creds.json")],
        )
    }

    fn wants_env(&self, name: &str, _is_set: &dyn Fn(&str) -> bool) -> bool {
        name.starts_with("GEMINI_") || name.starts_with("GOOGLE_")
    }

    fn argv(&self, spec: &AgentSpec, ctx: &RunContext) -> Result<Vec<String>, Outcome> {
        let mut a = Vec::new();
        if ctx.change.untrusted {
            a.extend(self.untrusted_flags(&ctx.change.workdir));
        }
        a.extend(args(spec.model.as_deref()));
        a.extend(spec.args.iter().cloned());
        Ok(a)
    }

    /// Gemini must trust its folder to run headless (`--skip-trust`, else exit 55), so it
    /// relies on the scrub for `.gemini/`; these refuse every MCP server and extension.
    /// Verified on gemini 0.61.0 by tests/cli/malicious_pr.rs.
    fn untrusted_flags(&self, _workdir: &Path) -> Vec<String> {
        [
            "--allowed-mcp-server-names",
            "deep-review-none",
            "--extensions",
            "none",
        ]
        .map(String::from)
        .to_vec()
    }

    /// With `--skip-trust` gemini does not load the folder's `.gemini/settings.json`, but
    /// `GEMINI_CLI_TRUST_WORKSPACE=true` (measured on 0.61.0) makes it load that file's model,
    /// MCP servers and tool discovery command, so an inherited `true` is overridden.
    fn untrusted_env(&self) -> Vec<(String, String)> {
        vec![("GEMINI_CLI_TRUST_WORKSPACE".into(), "false".into())]
    }

    fn parser(&self, _spec: &AgentSpec, workdir: &Path) -> Box<dyn StreamParser> {
        Box::new(Parser::new(workdir))
    }

    fn status_from_exit(&self, code: i32) -> Option<u16> {
        status_from_exit(code)
    }
}

pub const INSTRUCTION: &str = "Review the code change described above, as the brief instructs. Read the repository as needed; change nothing. End with your answer as one JSON object in a ```json fenced block, following the schema in the brief.";

/// The argv after `gemini`. No `--yolo`, ever: the default headless approval mode offers no
/// shell and no write tools, and we say so explicitly in case a user setting says otherwise.
pub fn args(model: Option<&str>) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "-p".into(),
        INSTRUCTION.into(),
        "--output-format".into(),
        "stream-json".into(),
        "--skip-trust".into(),
        "--approval-mode".into(),
        "default".into(),
    ];
    if let Some(m) = model {
        a.push("-m".into());
        a.push(m.into());
    }
    a
}

/// `--output-format stream-json` events, as far as a review reads them.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    Init {
        #[serde(default, deserialize_with = "field::lenient")]
        model: Option<String>,
    },
    /// Assistant text arrives as deltas to concatenate.
    Message {
        #[serde(default, deserialize_with = "field::lenient")]
        role: Option<String>,
        #[serde(default, deserialize_with = "field::lenient")]
        content: Option<String>,
        #[serde(default, deserialize_with = "field::lenient")]
        delta: Option<bool>,
    },
    ToolUse {
        #[serde(default, deserialize_with = "field::lenient")]
        tool_name: Option<String>,
        #[serde(default, deserialize_with = "field::lenient")]
        parameters: Option<ToolParameters>,
    },
    ToolResult {
        #[serde(default, deserialize_with = "field::lenient")]
        error: Option<ToolError>,
    },
    Result(Box<RunResult>),
    Error {
        #[serde(default, deserialize_with = "field::lenient")]
        severity: Option<String>,
        #[serde(default, deserialize_with = "field::lenient")]
        message: Option<String>,
    },
    #[serde(other)]
    Other,
}

/// The tools' parameters: the read tools' files (`read_file`, `read_many_files`), and targets.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ToolParameters {
    #[serde(deserialize_with = "field::lenient")]
    file_path: Option<String>,
    #[serde(deserialize_with = "field::lenient")]
    absolute_path: Option<String>,
    #[serde(deserialize_with = "field::items")]
    paths: Option<Vec<String>>,
    /// The search tools' pattern and the shell's command: for `--verbose` only.
    #[serde(deserialize_with = "field::lenient")]
    pattern: Option<String>,
    #[serde(deserialize_with = "field::lenient")]
    command: Option<String>,
    #[serde(deserialize_with = "field::lenient")]
    dir_path: Option<String>,
}

impl ToolParameters {
    /// What the call is about, for `--verbose`: its file(s), command, or pattern.
    fn target(&self) -> Option<String> {
        self.file_path
            .clone()
            .or_else(|| self.absolute_path.clone())
            .or_else(|| self.paths.as_ref().map(|p| p.join(", ")))
            .or_else(|| self.command.clone())
            .or_else(|| match (&self.pattern, &self.dir_path) {
                (Some(p), Some(d)) => Some(format!("{p} in {d}")),
                (p, d) => p.clone().or_else(|| d.clone()),
            })
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ToolError {
    #[serde(rename = "type", deserialize_with = "field::lenient")]
    kind: Option<String>,
    #[serde(deserialize_with = "field::lenient")]
    message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RunResult {
    #[serde(deserialize_with = "field::lenient")]
    status: Option<String>,
    #[serde(deserialize_with = "field::lenient")]
    error: Option<ApiError>,
    #[serde(deserialize_with = "field::lenient")]
    stats: Option<StreamStats>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StreamStats {
    #[serde(deserialize_with = "field::count")]
    input_tokens: Option<u64>,
    #[serde(deserialize_with = "field::count")]
    output_tokens: Option<u64>,
    #[serde(deserialize_with = "field::count")]
    cached: Option<u64>,
    #[serde(deserialize_with = "field::count")]
    duration_ms: Option<u64>,
    /// By model id; with `-m auto` the router's and the main model's.
    #[serde(deserialize_with = "field::entries")]
    models: Option<BTreeMap<String, ModelTotals>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ModelTotals {
    #[serde(deserialize_with = "field::count")]
    total_tokens: Option<u64>,
}

/// An API error as gemini reports it (in a result, the json-mode object, or on stderr).
#[derive(Deserialize, Default)]
#[serde(default)]
struct ApiError {
    #[serde(deserialize_with = "field::lenient")]
    message: Option<String>,
    #[serde(deserialize_with = "field::count")]
    code: Option<u64>,
}

/// The single object `--output-format json` prints (pretty, over many lines), and the one
/// an early failure prints on stderr.
#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonReport {
    #[serde(deserialize_with = "field::lenient")]
    response: Option<String>,
    #[serde(deserialize_with = "field::lenient")]
    error: Option<ApiError>,
    #[serde(deserialize_with = "field::lenient")]
    stats: Option<JsonStats>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonStats {
    #[serde(deserialize_with = "field::entries")]
    models: Option<BTreeMap<String, JsonModel>>,
    #[serde(deserialize_with = "field::lenient")]
    tools: Option<JsonTools>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonModel {
    #[serde(deserialize_with = "field::lenient")]
    tokens: Option<JsonTokens>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonTokens {
    #[serde(deserialize_with = "field::count")]
    prompt: Option<u64>,
    #[serde(deserialize_with = "field::count")]
    candidates: Option<u64>,
    #[serde(deserialize_with = "field::count")]
    cached: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonTools {
    #[serde(rename = "byName", deserialize_with = "field::entries")]
    by_name: Option<BTreeMap<String, ToolCount>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ToolCount {
    #[serde(deserialize_with = "field::count")]
    count: Option<u64>,
}

pub struct Parser {
    summary: StreamSummary,
    workdir: PathBuf,
    text: String,
    /// Lines that were not one event each: `--output-format json` pretty-prints one object
    /// over many lines.
    pending: String,
}

impl Parser {
    pub fn new(workdir: &Path) -> Parser {
        Parser {
            summary: StreamSummary::default(),
            workdir: workdir.to_path_buf(),
            text: String::new(),
            pending: String::new(),
        }
    }
}

/// Exit codes of gemini's own: HTTP status mod 256 for API errors.
pub fn status_from_exit(code: i32) -> Option<u16> {
    match code {
        145 => Some(401),
        147 => Some(403),
        148 => Some(404),
        173 => Some(429),
        41 => Some(401),
        _ => None,
    }
}

impl StreamParser for Parser {
    fn feed(&mut self, line: &str) -> Vec<ToolUse> {
        let Some(event) = event::<Event>(line, &mut self.summary) else {
            self.pending.push_str(line);
            self.pending.push('\n');
            return Vec::new();
        };
        let mut started = Vec::new();
        match event {
            Event::Init { model } => {
                if let Some(m) = model.filter(|m| m != "auto") {
                    self.summary.model = Some(m);
                }
            }
            Event::Message {
                role,
                content,
                delta,
            } if role.as_deref() == Some("assistant") => {
                let content = content.unwrap_or_default();
                if delta == Some(true) {
                    self.text.push_str(&content);
                } else {
                    self.text = content;
                }
            }
            Event::ToolUse {
                tool_name,
                parameters,
            } => {
                let name = tool_name.unwrap_or_else(|| "tool".to_string());
                let target = parameters.as_ref().and_then(ToolParameters::target);
                if let Some(p) = parameters {
                    self.read_files(&name, p);
                }
                self.summary.count_tool(&name);
                started.push(ToolUse::new(name, target));
            }
            Event::ToolResult { error: Some(e) }
                if e.kind.as_deref() == Some("tool_not_registered") =>
            {
                self.summary.denied.push(e.message.unwrap_or_default());
            }
            Event::Result(r) => self.result(*r),
            Event::Error { severity, message }
                if severity.as_deref() == Some("error") && self.summary.error.is_none() =>
            {
                self.summary.error = message;
            }
            Event::Message { .. }
            | Event::ToolResult { .. }
            | Event::Error { .. }
            | Event::Other => {}
        }
        started
    }

    fn summary(&self) -> &StreamSummary {
        &self.summary
    }

    fn finish(&mut self, stderr_tail: &str) {
        if let Ok(report) = serde_json::from_str::<JsonReport>(self.pending.trim()) {
            self.json_mode(report);
        }
        if self.summary.completed {
            return;
        }
        // json mode and early failures print the error object on stderr, pretty-printed:
        // try each line that opens an object, from the last, to the end of the text.
        let starts: Vec<usize> = std::iter::once(0)
            .chain(stderr_tail.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&i| stderr_tail[i..].starts_with('{'))
            .collect();
        for &i in starts.iter().rev() {
            let report = serde_json::from_str::<JsonReport>(stderr_tail[i..].trim());
            if let Ok(JsonReport { error: Some(e), .. }) = report {
                if let Some(code) = http_status(e.code) {
                    self.summary.error_status = Some(code);
                }
                if let Some(m) = e.message {
                    self.summary.error = Some(m);
                }
                return;
            }
        }
        if self.summary.error.is_none() {
            if let Some(line) = stderr_tail.lines().rev().find(|l| {
                let l = l.trim();
                !l.is_empty() && !l.starts_with("at ")
            }) {
                self.summary.error = Some(line.trim().to_string());
            }
        }
        if self.summary.text_is_empty() && !self.text.is_empty() {
            self.summary.final_text = Some(self.text.clone());
        }
    }
}

impl Parser {
    fn read_files(&mut self, tool: &str, p: ToolParameters) {
        match tool {
            "read_file" => {
                if let Some(f) = p.file_path.or(p.absolute_path) {
                    self.summary.add_file(&f, &self.workdir);
                }
            }
            "read_many_files" => {
                for f in p.paths.into_iter().flatten() {
                    self.summary.add_file(&f, &self.workdir);
                }
            }
            _ => {}
        }
    }

    fn result(&mut self, r: RunResult) {
        let s = &mut self.summary;
        if let Some(stats) = r.stats {
            s.tokens = Some(Tokens {
                input: stats.input_tokens.unwrap_or(0),
                output: stats.output_tokens.unwrap_or(0),
                cached: stats.cached.unwrap_or(0),
            });
            s.reported_duration_ms = stats.duration_ms;
            if s.model.is_none() {
                // With `-m auto` the map holds the router and the main model; the main one
                // has the most tokens.
                s.model = stats.models.and_then(|m| {
                    m.into_iter()
                        .max_by_key(|(_, x)| x.total_tokens.unwrap_or(0))
                        .map(|(k, _)| k)
                });
            }
        }
        if r.status.as_deref() == Some("success") {
            s.completed = true;
            s.final_text = Some(self.text.clone());
        } else {
            s.completed = false;
            let msg = r.error.and_then(|e| e.message);
            s.error = Some(msg.unwrap_or_else(|| "gemini reported an error".into()));
        }
    }

    /// The single object of `--output-format json`.
    fn json_mode(&mut self, report: JsonReport) {
        let s = &mut self.summary;
        s.unparsed = 0;
        if let Some(stats) = report.stats {
            let by_name = stats.tools.and_then(|t| t.by_name);
            for (name, t) in by_name.into_iter().flatten() {
                // Counts are the CLI's word; saturate rather than overflow on absurd ones.
                let count = u32::try_from(t.count.unwrap_or(0)).unwrap_or(u32::MAX);
                let n = s.tool_calls.entry(name).or_insert(0);
                *n = n.saturating_add(count);
            }
            let mut tokens = Tokens::default();
            for (name, m) in stats.models.into_iter().flatten() {
                if let Some(t) = m.tokens {
                    tokens.input = tokens.input.saturating_add(t.prompt.unwrap_or(0));
                    tokens.output = tokens.output.saturating_add(t.candidates.unwrap_or(0));
                    tokens.cached = tokens.cached.saturating_add(t.cached.unwrap_or(0));
                }
                s.model.get_or_insert(name);
            }
            s.tokens = Some(tokens);
        }
        if let Some(e) = report.error {
            s.error = e.message;
            s.error_status = http_status(e.code);
        } else if let Some(r) = report.response {
            s.final_text = Some(r);
            s.completed = true;
        }
    }
}

impl StreamSummary {
    fn text_is_empty(&self) -> bool {
        self.final_text
            .as_deref()
            .map(str::is_empty)
            .unwrap_or(true)
    }
}
