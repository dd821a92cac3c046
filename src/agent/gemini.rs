//! Gemini CLI: `gemini -p … --output-format stream-json --skip-trust`, parsed live.
//!
//! Facts this relies on (`agent-clis/AGENT_CLIS.md` §4): `init` names the model; assistant
//! text arrives as `message` deltas to concatenate; tool calls are `tool_use` by `tool_name`;
//! `result` carries status, stats and duration. On failure the exit code is the HTTP status
//! mod 256 (401 → 145, 429 → 173), and errors may be printed on stderr only.

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
        "install it with `npm install -g @google/gemini-cli`, then run `gemini` once to log in (or set GEMINI_API_KEY)"
    }

    fn login_hint(&self) -> &'static str {
        "run `gemini` once and log in, or set GEMINI_API_KEY"
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

pub struct Parser {
    summary: StreamSummary,
    workdir: PathBuf,
    text: String,
    /// Lines that were not one JSON object each: `--output-format json` pretty-prints one
    /// object over many lines.
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
    fn feed(&mut self, line: &str) -> Vec<String> {
        let Some(v) = json_line(line, &mut self.summary) else {
            self.pending.push_str(line);
            self.pending.push('\n');
            return Vec::new();
        };
        let mut started = Vec::new();
        match str_of(&v, "type").unwrap_or("") {
            "init" => {
                if let Some(m) = str_of(&v, "model") {
                    if m != "auto" {
                        self.summary.model = Some(m.to_string());
                    }
                }
            }
            "message" if str_of(&v, "role") == Some("assistant") => {
                let content = str_of(&v, "content").unwrap_or("");
                if v.get("delta").and_then(|d| d.as_bool()) == Some(true) {
                    self.text.push_str(content);
                } else {
                    self.text = content.to_string();
                }
            }
            "tool_use" => {
                let name = str_of(&v, "tool_name").unwrap_or("tool").to_string();
                if let Some(p) = v.get("parameters") {
                    match name.as_str() {
                        "read_file" => {
                            if let Some(f) =
                                str_of(p, "file_path").or_else(|| str_of(p, "absolute_path"))
                            {
                                self.summary.add_file(f, &self.workdir);
                            }
                        }
                        "read_many_files" => {
                            for f in p
                                .get("paths")
                                .and_then(|x| x.as_array())
                                .into_iter()
                                .flatten()
                            {
                                if let Some(f) = f.as_str() {
                                    self.summary.add_file(f, &self.workdir);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                self.summary.count_tool(&name);
                started.push(name);
            }
            "tool_result" => {
                if let Some(e) = v.get("error") {
                    if str_of(e, "type") == Some("tool_not_registered") {
                        self.summary
                            .denied
                            .push(str_of(e, "message").unwrap_or("").to_string());
                    }
                }
            }
            "result" => {
                if let Some(stats) = v.get("stats") {
                    self.summary.tokens = Some(Tokens {
                        input: u64_of(stats, "input_tokens"),
                        output: u64_of(stats, "output_tokens"),
                        cached: u64_of(stats, "cached"),
                    });
                    self.summary.reported_duration_ms =
                        stats.get("duration_ms").and_then(|d| d.as_u64());
                    if self.summary.model.is_none() {
                        // With `-m auto` the map holds the router and the main model; the
                        // main one has the most tokens.
                        self.summary.model = stats
                            .get("models")
                            .and_then(|m| m.as_object())
                            .and_then(|m| {
                                m.iter()
                                    .max_by_key(|(_, x)| u64_of(x, "total_tokens"))
                                    .map(|(k, _)| k.clone())
                            });
                    }
                }
                if str_of(&v, "status") == Some("success") {
                    self.summary.completed = true;
                    self.summary.final_text = Some(self.text.clone());
                } else {
                    self.summary.completed = false;
                    let msg = v
                        .get("error")
                        .and_then(|e| str_of(e, "message"))
                        .unwrap_or("gemini reported an error");
                    self.summary.error = Some(msg.to_string());
                }
            }
            "error" if str_of(&v, "severity") == Some("error") && self.summary.error.is_none() => {
                self.summary.error = str_of(&v, "message").map(str::to_string);
            }
            _ => {}
        }
        started
    }

    fn summary(&self) -> &StreamSummary {
        &self.summary
    }

    fn finish(&mut self, stderr_tail: &str) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(self.pending.trim()) {
            self.json_mode(&v);
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
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(stderr_tail[i..].trim()) {
                if let Some(e) = v.get("error") {
                    if let Some(code) = e.get("code").and_then(|c| c.as_u64()) {
                        self.summary.error_status = Some(code as u16);
                    }
                    if let Some(m) = str_of(e, "message") {
                        self.summary.error = Some(m.to_string());
                    }
                    return;
                }
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
    /// The single object of `--output-format json`.
    fn json_mode(&mut self, v: &serde_json::Value) {
        let s = &mut self.summary;
        s.unparsed = 0;
        if let Some(stats) = v.get("stats") {
            let by_name = stats
                .get("tools")
                .and_then(|t| t.get("byName"))
                .and_then(|b| b.as_object());
            for (name, t) in by_name.into_iter().flatten() {
                // Counts are the CLI's word; saturate rather than overflow on absurd ones.
                let count = u32::try_from(u64_of(t, "count")).unwrap_or(u32::MAX);
                let n = s.tool_calls.entry(name.clone()).or_insert(0);
                *n = n.saturating_add(count);
            }
            let mut tokens = Tokens::default();
            for (name, m) in stats
                .get("models")
                .and_then(|m| m.as_object())
                .into_iter()
                .flatten()
            {
                if let Some(t) = m.get("tokens") {
                    tokens.input = tokens.input.saturating_add(u64_of(t, "prompt"));
                    tokens.output = tokens.output.saturating_add(u64_of(t, "candidates"));
                    tokens.cached = tokens.cached.saturating_add(u64_of(t, "cached"));
                }
                s.model.get_or_insert_with(|| name.clone());
            }
            s.tokens = Some(tokens);
        }
        if let Some(e) = v.get("error") {
            s.error = str_of(e, "message").map(str::to_string);
            s.error_status = e.get("code").and_then(|c| c.as_u64()).map(|c| c as u16);
        } else if let Some(r) = str_of(v, "response") {
            s.final_text = Some(r.to_string());
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
