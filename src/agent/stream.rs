//! What the agent CLIs' machine-readable streams tell us, in one common shape.
//!
//! Each CLI adapter has a [`StreamParser`] that is fed stdout lines as they arrive and keeps a
//! [`StreamSummary`]: tool calls by name, files read, tokens, cost, the model actually used,
//! the final answer text, and whether the CLI itself reported success or failure. Parsers
//! accept unknown event types and fields (the CLIs add them often) and never fail: a line they
//! cannot read is counted in `unparsed` and skipped.

use super::Tokens;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct StreamSummary {
    /// The model the CLI says it used.
    pub model: Option<String>,
    pub tool_calls: BTreeMap<String, u32>,
    /// Files read, relative to the working directory where possible.
    pub files_read: BTreeSet<String>,
    pub tokens: Option<Tokens>,
    pub cost_usd: Option<f64>,
    /// Duration the CLI reported, if any (we measure our own too).
    pub reported_duration_ms: Option<u64>,
    /// The final answer as text.
    pub final_text: Option<String>,
    /// The final answer as a JSON value, when the CLI enforced a schema.
    pub structured: Option<serde_json::Value>,
    /// The CLI reported a successful end of its run.
    pub completed: bool,
    /// The CLI reported a failure with this message.
    pub error: Option<String>,
    /// HTTP status behind the failure, when reported.
    pub error_status: Option<u16>,
    /// Tool calls the CLI refused (permission denials).
    pub denied: Vec<String>,
    /// Lines that were not JSON.
    pub unparsed: u32,
}

impl StreamSummary {
    pub fn count_tool(&mut self, name: &str) {
        *self.tool_calls.entry(name.to_string()).or_insert(0) += 1;
    }

    pub fn add_file(&mut self, path: &str, workdir: &Path) {
        let p = Path::new(path);
        let rel = p
            .strip_prefix(workdir)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_else(|_| path.trim_start_matches("./").to_string());
        if !rel.is_empty() {
            self.files_read.insert(rel);
        }
    }
}

/// Reads one CLI's stdout stream.
pub trait StreamParser: Send {
    /// Feeds one stdout line; returns the names of the tool calls it started, for progress.
    fn feed(&mut self, line: &str) -> Vec<String>;
    fn summary(&self) -> &StreamSummary;
    /// Called once after the process ended, with its stderr tail (some CLIs print their
    /// errors there).
    fn finish(&mut self, _stderr_tail: &str) {}
}

/// Parses a line as a JSON object; `None` (and a count) when it is not one.
pub fn json_line(line: &str, summary: &mut StreamSummary) -> Option<serde_json::Value> {
    let t = line.trim();
    if t.is_empty() {
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(t) {
        Ok(v) if v.is_object() => Some(v),
        _ => {
            summary.unparsed += 1;
            None
        }
    }
}

pub fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(|x| x.as_str())
}

pub fn u64_of(v: &serde_json::Value, key: &str) -> u64 {
    v.get(key).and_then(|x| x.as_u64()).unwrap_or(0)
}

/// Files a shell command reads, heuristically: the path arguments of cat, sed, nl, head,
/// tail, less, bat, rg/grep (after the pattern), wc.
pub fn files_in_shell_command(command: &str) -> Vec<String> {
    // Unwrap `/bin/bash -lc '…'`.
    let inner = match command.find(" -lc ").or_else(|| command.find(" -c ")) {
        Some(i) => {
            let rest = command[i..]
                .trim_start_matches(" -lc ")
                .trim_start_matches(" -c ");
            rest.trim().trim_matches('\'').trim_matches('"').to_string()
        }
        None => command.to_string(),
    };
    let mut out = Vec::new();
    for segment in inner.split(['|', ';', '&']) {
        let words: Vec<&str> = segment.split_whitespace().collect();
        let Some((cmd, args)) = words.split_first() else {
            continue;
        };
        let cmd = cmd.rsplit('/').next().unwrap_or(cmd);
        let skip_pattern = matches!(cmd, "rg" | "grep");
        if !matches!(
            cmd,
            "cat" | "sed" | "nl" | "head" | "tail" | "less" | "more" | "bat" | "rg" | "grep" | "wc"
        ) {
            continue;
        }
        let mut pattern_skipped = !skip_pattern;
        for a in args {
            let a = a.trim_matches('\'').trim_matches('"');
            if a.starts_with('-') || a.is_empty() {
                continue;
            }
            if cmd == "sed"
                && (a.ends_with('p') && a.chars().next().is_some_and(|c| c.is_ascii_digit()))
            {
                continue;
            }
            if !pattern_skipped {
                pattern_skipped = true;
                continue;
            }
            if a.contains('.') || a.contains('/') {
                out.push(a.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_reads() {
        assert_eq!(
            files_in_shell_command("/bin/bash -lc 'cat README.md'"),
            vec!["README.md"]
        );
        assert_eq!(
            files_in_shell_command("/bin/bash -lc \"sed -n '1,80p' src/lib.rs | nl\""),
            vec!["src/lib.rs"]
        );
        assert_eq!(
            files_in_shell_command("rg -n clientMu pkg/hostagent"),
            vec!["pkg/hostagent"]
        );
        assert!(files_in_shell_command("git log --oneline").is_empty());
    }
}
