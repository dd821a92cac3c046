//! What the agent CLIs' machine-readable streams tell us, in one common shape.
//!
//! Each CLI adapter has a [`StreamParser`] that is fed stdout lines as they arrive and keeps a
//! [`StreamSummary`]: tool calls by name, files read, tokens, cost, the model actually used,
//! the final answer text, and whether the CLI itself reported success or failure. Parsers
//! read each line into a small typed event enum of their CLI ([`event`]), tolerant by
//! construction: unknown event types fall into an `Other` arm, unknown fields are ignored, and
//! a known field that is missing or of an unexpected type reads as absent ([`field`]). They
//! never fail: a line that is not an event is counted in `unparsed` and skipped.

use super::Tokens;
pub use crate::events::ToolUse;
use serde::de::DeserializeOwned;
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
    /// The CLI cannot reach its model API and can only keep retrying: the run is stopped
    /// and fails as unreachable (`error` says what the CLI last said).
    pub unreachable: bool,
    /// Tool calls the CLI refused (permission denials).
    pub denied: Vec<String>,
    /// Lines that were not events (not a JSON object with a `type`).
    pub unparsed: u32,
}

impl StreamSummary {
    pub fn count_tool(&mut self, name: &str) {
        let n = self.tool_calls.entry(name.to_string()).or_insert(0);
        *n = n.saturating_add(1);
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
    /// Feeds one stdout line; returns the tool calls it started (name and target), for progress.
    fn feed(&mut self, line: &str) -> Vec<ToolUse>;
    fn summary(&self) -> &StreamSummary;
    /// Called once after the process ended, with its stderr tail (some CLIs print their
    /// errors there).
    fn finish(&mut self, _stderr_tail: &str) {}
}

/// Reads one stdout line as an event of the CLI's typed stream `E`. A blank line is `None`; so
/// is a line that is not one event (not a JSON object, or without a string `type`), which is
/// also counted in `unparsed`. Unknown event types are `E`'s `Other` arm, and the fields of a
/// known one are read through [`field`], so no field can fail the line.
pub fn event<E: DeserializeOwned>(line: &str, summary: &mut StreamSummary) -> Option<E> {
    let t = line.trim();
    if t.is_empty() {
        return None;
    }
    // An array would deserialize an internally tagged enum positionally; it is not an event.
    let parsed = if t.starts_with('{') {
        serde_json::from_str::<E>(t).ok()
    } else {
        None
    };
    if parsed.is_none() {
        summary.unparsed = summary.unparsed.saturating_add(1);
    }
    parsed
}

/// Tolerant field readers for the CLIs' typed events (`#[serde(default, deserialize_with =
/// "field::…")]`): the CLIs are another program's output that changes between versions, so a
/// field that is missing, null or of another type than expected reads as absent instead of
/// failing its line.
pub mod field {
    use serde::de::DeserializeOwned;
    use serde::Deserialize;
    use serde::Deserializer;
    use serde_json::Value;
    use std::collections::BTreeMap;

    /// `T`, or `None` when the value is null or not a `T`.
    pub fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: DeserializeOwned,
    {
        let v = Option::<Value>::deserialize(d)?;
        Ok(v.and_then(|v| T::deserialize(v).ok()))
    }

    /// A count or status: an integer, a float (truncated, saturating at `u64::MAX`) or a
    /// string holding one; `None` for anything else, negative numbers included.
    pub fn count<'de, D>(d: D) -> Result<Option<u64>, D::Error>
    where
        D: Deserializer<'de>,
    {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Number(n)) => number(n.as_u64(), n.as_f64()),
            Some(Value::String(s)) => {
                let s = s.trim();
                number(s.parse().ok(), s.parse().ok())
            }
            _ => None,
        })
    }

    fn number(int: Option<u64>, float: Option<f64>) -> Option<u64> {
        // `as` saturates for floats past u64::MAX; negatives and NaN are not counts.
        int.or_else(|| float.filter(|f| *f >= 0.0).map(|f| f as u64))
    }

    /// An array of `T`, skipping the elements that are not one; `None` when not an array.
    pub fn items<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: DeserializeOwned,
    {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Array(a)) => Some(
                a.into_iter()
                    .filter_map(|v| T::deserialize(v).ok())
                    .collect(),
            ),
            _ => None,
        })
    }

    /// An object's entries by key, a value that is not a `T` reading as `T::default()` (the
    /// key still counts: it names a model or a tool); `None` when not an object.
    pub fn entries<'de, D, T>(d: D) -> Result<Option<BTreeMap<String, T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: DeserializeOwned + Default,
    {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Object(m)) => Some(
                m.into_iter()
                    .map(|(k, v)| (k, T::deserialize(v).unwrap_or_default()))
                    .collect(),
            ),
            _ => None,
        })
    }
}

/// An HTTP status read from a count: only 100..=599 is one.
pub fn http_status(n: Option<u64>) -> Option<u16> {
    n.and_then(|n| u16::try_from(n).ok())
        .filter(|n| (100..600).contains(n))
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
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Event {
        Usage {
            #[serde(default, deserialize_with = "field::count")]
            n: Option<u64>,
            #[serde(default, deserialize_with = "field::lenient")]
            model: Option<String>,
            #[serde(default, deserialize_with = "field::items")]
            names: Option<Vec<String>>,
        },
        #[serde(other)]
        Other,
    }

    fn read(line: &str) -> (Option<Event>, u32) {
        let mut s = StreamSummary::default();
        let e = event::<Event>(line, &mut s);
        (e, s.unparsed)
    }

    fn usage(line: &str) -> (Option<u64>, Option<String>, Option<Vec<String>>) {
        match read(line) {
            (Some(Event::Usage { n, model, names }), 0) => (n, model, names),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn counts_arrive_as_integers_floats_or_strings() {
        assert_eq!(usage(r#"{"type":"usage","n":2400}"#).0, Some(2400));
        assert_eq!(usage(r#"{"type":"usage","n":2400.0}"#).0, Some(2400));
        assert_eq!(usage(r#"{"type":"usage","n":"2400"}"#).0, Some(2400));
        assert_eq!(usage(r#"{"type":"usage","n":" 12.7 "}"#).0, Some(12));
        assert_eq!(usage(r#"{"type":"usage","n":1e300}"#).0, Some(u64::MAX));
        for absent in [r#"-3"#, r#""many""#, "null", "true", "[1]", "{}"] {
            let line = format!(r#"{{"type":"usage","n":{absent}}}"#);
            assert_eq!(usage(&line).0, None, "{line}");
        }
        assert_eq!(usage(r#"{"type":"usage"}"#).0, None);
    }

    #[test]
    fn a_field_of_another_type_reads_as_absent_and_keeps_the_line() {
        let (n, model, names) = usage(r#"{"type":"usage","n":5,"model":{"id":"x"},"names":"a"}"#);
        assert_eq!((n, model, names), (Some(5), None, None));
        let (_, model, names) = usage(r#"{"type":"usage","model":"m","names":["a",3,"b",null]}"#);
        assert_eq!(model.as_deref(), Some("m"));
        assert_eq!(names, Some(vec!["a".to_string(), "b".to_string()]));
    }

    #[test]
    fn lines_that_are_not_events_are_counted() {
        assert!(matches!(
            read(r#"{"type":"turn.started","x":1}"#),
            (Some(Event::Other), 0)
        ));
        assert!(matches!(read("   "), (None, 0)));
        for line in [
            "not json",
            r#"{"no_type":1}"#,
            r#"{"type":7}"#,
            r#"["usage", 5]"#,
            "42",
        ] {
            assert!(matches!(read(line), (None, 1)), "{line}");
        }
    }

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
