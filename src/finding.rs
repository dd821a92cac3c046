//! The findings schema: what every reviewer answers with (schema version 1).
//!
//! This module owns the wire types of an agent's answer, the JSON Schema published for them
//! (`deep-review schema`), and the parser that turns an agent's raw text into an [`Answer`].
//! It must stay free of I/O: adapters hand it text, it hands back typed data or a
//! [`AnswerError`] that says exactly what was wrong.

use serde::Deserialize;
use serde::Serialize;
use std::fmt;

/// The schema version this build writes and accepts.
pub const SCHEMA_VERSION: u32 = 1;

/// How bad a finding is. Ordered from least to most severe so `max()` picks the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Suggestion,
    Important,
    Critical,
}

impl Severity {
    pub const ALL_DESC: [Severity; 3] = [
        Severity::Critical,
        Severity::Important,
        Severity::Suggestion,
    ];

    /// The letter used in stable IDs and metrics (`C1`, `2I 1S`).
    pub fn letter(self) -> char {
        match self {
            Severity::Critical => 'C',
            Severity::Important => 'I',
            Severity::Suggestion => 'S',
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Important => "important",
            Severity::Suggestion => "suggestion",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Severity::Critical => "Critical",
            Severity::Important => "Important",
            Severity::Suggestion => "Suggestion",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" | "c" => Some(Severity::Critical),
            "important" | "i" => Some(Severity::Important),
            "suggestion" | "s" => Some(Severity::Suggestion),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An agent's overall recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Merge,
    MergeWithFixes,
    DoNotMerge,
}

impl Verdict {
    pub fn title(self) -> &'static str {
        match self {
            Verdict::Merge => "Merge",
            Verdict::MergeWithFixes => "Merge with fixes",
            Verdict::DoNotMerge => "Do not merge",
        }
    }
}

/// Whether the problem is new with this change or older.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Regression,
    InScope,
    PreExisting,
    Future,
}

impl Scope {
    pub fn tag(self) -> &'static str {
        match self {
            Scope::Regression => "regression",
            Scope::InScope => "in-scope",
            Scope::PreExisting => "pre-existing",
            Scope::Future => "future",
        }
    }
}

/// A cited span of the head tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub path: String,
    pub start_line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    /// The text of the cited line, as the agent saw it; used to verify and relocate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// A committable fix: the exact new text of lines `start_line..=end_line` (whole lines,
    /// joined by `\n`, without the last line's newline). Only a finding's locations carry one,
    /// at most one per finding; consolidation keeps it only when it applies to the head text
    /// inside one hunk of the change (`crate::consolidate`, `replacement.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

impl Location {
    pub fn end(&self) -> u32 {
        self.end_line
            .unwrap_or(self.start_line)
            .max(self.start_line)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub severity: Severity,
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservationKind {
    Concern,
    Strength,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    pub kind: ObservationKind,
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(default)]
    pub locations: Vec<Location>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessments {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commits: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextAction {
    Add,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextUpdate {
    pub action: ContextAction,
    pub note: String,
    #[serde(default)]
    pub why: String,
}

/// One reviewer's whole answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub schema: u32,
    #[serde(default)]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub observations: Vec<Observation>,
    #[serde(default)]
    pub assessments: Assessments,
    #[serde(default)]
    pub context_updates: Vec<ContextUpdate>,
    /// What parsing held back or cut (caps, dropped locations), for the review's notes. Never
    /// read from the agent's JSON.
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl Answer {
    pub fn empty() -> Answer {
        Answer {
            schema: SCHEMA_VERSION,
            summary: String::new(),
            verdict: None,
            findings: Vec::new(),
            observations: Vec::new(),
            assessments: Assessments::default(),
            context_updates: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Why an answer could not be accepted. The raw text is kept by the caller, on disk.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    #[error("the answer is empty")]
    Empty,
    #[error("the answer contains no JSON object (expected the findings schema, optionally in a ```json fence)")]
    NoJson,
    #[error("the answer is not valid findings JSON: {0}")]
    Invalid(String),
    #[error("the answer has schema version {0}; this build understands version {SCHEMA_VERSION}")]
    Version(u32),
}

/// Parses an agent's final text into an [`Answer`].
///
/// Accepts a bare JSON object, or free text holding a fenced ```json block (the last valid
/// one wins, since agents often show an example before their real answer), or free text
/// whose outermost `{ … }` span is the object. Validation goes beyond serde: lines start at
/// 1, ranges are ordered, confidence is within 0..=1, titles are not blank.
pub fn parse_answer(text: &str) -> Result<Answer, AnswerError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(AnswerError::Empty);
    }
    let candidates = json_candidates(trimmed);
    if candidates.is_empty() {
        return Err(AnswerError::NoJson);
    }
    let mut first_err = None;
    for candidate in candidates.iter().rev() {
        match parse_candidate(candidate) {
            Ok(answer) => return Ok(answer),
            Err(err) => {
                if first_err.is_none() {
                    first_err = Some(err);
                }
            }
        }
    }
    Err(first_err.unwrap_or(AnswerError::NoJson))
}

fn parse_candidate(candidate: &str) -> Result<Answer, AnswerError> {
    /// Only the version, the rest skipped unread: no copy of the whole answer is built.
    #[derive(Deserialize)]
    struct Version {
        schema: Option<serde_json::Value>,
    }
    let version: Version =
        serde_json::from_str(candidate).map_err(|e| AnswerError::Invalid(e.to_string()))?;
    match version.schema.as_ref().and_then(|v| v.as_u64()) {
        Some(v) if v != u64::from(SCHEMA_VERSION) => {
            return Err(AnswerError::Version(u32::try_from(v).unwrap_or(u32::MAX)))
        }
        None => {
            return Err(AnswerError::Invalid(
                "missing field `schema` (must be 1)".to_string(),
            ))
        }
        Some(_) => {}
    }
    let mut de = serde_json::Deserializer::from_str(candidate);
    let raw: caps::RawAnswer = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        AnswerError::Invalid(format!("at `{path}`: {}", e.into_inner()))
    })?;
    let answer = raw.into_answer();
    validate(&answer)?;
    Ok(answer)
}

fn validate(answer: &Answer) -> Result<(), AnswerError> {
    let bad = |what: String| Err(AnswerError::Invalid(what));
    for (i, f) in answer.findings.iter().enumerate() {
        if f.title.trim().is_empty() {
            return bad(format!("at `findings[{i}].title`: must not be empty"));
        }
        if let Some(c) = f.confidence {
            if !(0.0..=1.0).contains(&c) || c.is_nan() {
                return bad(format!(
                    "at `findings[{i}].confidence`: {c} is outside 0..1"
                ));
            }
        }
    }
    Ok(())
}

/// Why a cited location cannot be used, or None when it can.
fn location_problem(l: &Location) -> Option<String> {
    if l.path.trim().is_empty() {
        return Some("`path` must not be empty".to_string());
    }
    if l.start_line == 0 {
        return Some("`start_line`: lines are numbered from 1".to_string());
    }
    match l.end_line {
        Some(end) if end < l.start_line => Some(format!(
            "`end_line`: {end} is before start_line {}",
            l.start_line
        )),
        _ => None,
    }
}

/// Every span of `text` that may hold the answer object, in order of appearance.
pub(crate) fn json_candidates(text: &str) -> Vec<&str> {
    if text.starts_with('{') && text.ends_with('}') {
        return vec![text];
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let Some(newline) = after.find('\n') else {
            break;
        };
        let lang = after[..newline].trim();
        let body = &after[newline + 1..];
        let Some(end) = body.find("```") else { break };
        if lang.is_empty() || lang.eq_ignore_ascii_case("json") {
            let inner = body[..end].trim();
            if inner.starts_with('{') {
                out.push(inner);
            }
        }
        rest = &body[end + 3..];
    }
    if out.is_empty() {
        if let (Some(a), Some(b)) = (text.find('{'), text.rfind('}')) {
            if a < b {
                out.push(&text[a..=b]);
            }
        }
    }
    out
}

mod caps;
pub use caps::MAX_FINDINGS;
pub use caps::MAX_ITEMS;
pub use caps::MAX_LOCATIONS;

mod schema;
pub use schema::json_schema;
pub use schema::json_schema_strict;
pub use schema::strictify;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_schema_requires_everything_and_answers_with_nulls_parse() {
        let s = json_schema_strict();
        let f = &s["properties"]["findings"]["items"];
        assert_eq!(
            f["required"].as_array().unwrap().len(),
            f["properties"].as_object().unwrap().len()
        );
        assert_eq!(
            f["properties"]["fix"]["type"],
            serde_json::json!(["string", "null"])
        );
        assert_eq!(s["properties"]["schema"]["enum"], serde_json::json!([1]));
        let a = parse_answer(r#"{"schema":1,"summary":"","verdict":null,"findings":[{"severity":"important","title":"t","body":"b","locations":[{"path":"a","start_line":1,"end_line":null,"quote":null}],"fix":null,"scope":null,"category":null,"confidence":null}],"observations":[],"assessments":{"testing":null,"documentation":null,"commits":null},"context_updates":[]}"#).unwrap();
        assert_eq!(a.findings[0].fix, None);
    }

    const MINIMAL: &str = r#"{"schema":1,"summary":"ok","findings":[{"severity":"important","title":"t","body":"b","locations":[{"path":"a.rs","start_line":3}]}]}"#;

    #[test]
    fn parses_bare_json() {
        let a = parse_answer(MINIMAL).unwrap();
        assert_eq!(a.findings.len(), 1);
        assert_eq!(a.findings[0].severity, Severity::Important);
        assert_eq!(a.findings[0].locations[0].end(), 3);
    }

    #[test]
    fn parses_last_valid_fence_in_prose() {
        let text = format!(
            "Here is an example:\n```json\n{{\"schema\": 1, \"oops\": true}}\n```\nAnd my answer:\n```json\n{MINIMAL}\n```\nDone."
        );
        let a = parse_answer(&text).unwrap();
        assert_eq!(a.summary, "ok");
    }

    #[test]
    fn rejects_with_path_and_reason() {
        let err = parse_answer(r#"{"schema":1,"findings":[{"severity":"huge","title":"t"}]}"#)
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("findings[0].severity"), "{msg}");
        assert!(msg.contains("huge"), "{msg}");
    }

    #[test]
    fn rejects_garbage_empty_and_wrong_version() {
        assert_eq!(parse_answer("  "), Err(AnswerError::Empty));
        assert_eq!(parse_answer("lol no"), Err(AnswerError::NoJson));
        assert_eq!(
            parse_answer(r#"{"schema":2,"summary":"","findings":[]}"#),
            Err(AnswerError::Version(2))
        );
    }

    #[test]
    fn a_bad_location_drops_that_location_not_the_answer() {
        let a = parse_answer(
            r#"{"schema":1,"summary":"s","findings":[{"severity":"important","title":"t","body":"","locations":[
                {"path":"a.rs","start_line":5,"end_line":2},
                {"path":"a.rs","start_line":0},
                {"path":"a.rs","start_line":3,"end_line":"four"},
                "a.rs:9",
                {"path":"a.rs","start_line":7,"end_line":8}]}],
              "observations":[{"kind":"concern","title":"o","locations":[{"path":"","start_line":1}]}]}"#,
        )
        .unwrap();
        let kept: Vec<u32> = a.findings[0]
            .locations
            .iter()
            .map(|l| l.start_line)
            .collect();
        assert_eq!(kept, vec![7]);
        assert!(a.observations[0].locations.is_empty());
        let notes = a.notes.join("\n");
        assert!(
            notes.contains(
                "`findings[0].locations[0]` dropped: `end_line`: 2 is before start_line 5"
            ),
            "{notes}"
        );
        assert!(
            notes.contains(
                "`findings[0].locations[1]` dropped: `start_line`: lines are numbered from 1"
            ),
            "{notes}"
        );
        assert!(
            notes.contains("`findings[0].locations[2]` dropped: invalid type"),
            "{notes}"
        );
        assert!(
            notes.contains("`findings[0].locations[3]` dropped"),
            "{notes}"
        );
        assert!(
            notes.contains("`observations[0].locations[0]` dropped: `path` must not be empty"),
            "{notes}"
        );
    }

    #[test]
    fn lists_keep_their_first_items_and_say_how_many_were_held_back() {
        let finding = r#"{"severity":"suggestion","title":"t","body":"b"}"#;
        let text = format!(
            r#"{{"schema":1,"summary":"","findings":[{}]}}"#,
            vec![finding; MAX_FINDINGS + 50].join(",")
        );
        let a = parse_answer(&text).unwrap();
        assert_eq!(a.findings.len(), MAX_FINDINGS);
        assert_eq!(
            a.notes,
            vec![format!(
                "50 more findings held back (an answer keeps its first {MAX_FINDINGS})"
            )]
        );
    }

    #[test]
    fn a_huge_title_is_cut_with_a_marker() {
        let title = "é".repeat(2_500_000);
        let text = format!(
            r#"{{"schema":1,"summary":"","findings":[{{"severity":"important","title":"{title}","body":"b"}}]}}"#
        );
        let a = parse_answer(&text).unwrap();
        let t = &a.findings[0].title;
        assert!(t.len() < caps::TITLE_CAP + 40, "{}", t.len());
        assert!(t.ends_with("more bytes]"), "{t}");
        assert!(
            a.notes[0].contains("`findings[0].title` cut to 300 bytes (it had 5000000)"),
            "{:?}",
            a.notes
        );
    }

    #[test]
    fn a_finding_location_carries_one_replacement_and_an_observation_none() {
        let long = "x".repeat(caps::REPLACEMENT_CAP + 1);
        let a = parse_answer(&format!(
            r#"{{"schema":1,"summary":"","findings":[
                {{"severity":"important","title":"t","locations":[
                    {{"path":"a.rs","start_line":2,"replacement":"    fixed();\r\n"}},
                    {{"path":"a.rs","start_line":5,"replacement":"again();"}}]}},
                {{"severity":"important","title":"u","locations":[
                    {{"path":"a.rs","start_line":2,"replacement":""}},
                    {{"path":"a.rs","start_line":3,"replacement":"{long}"}}]}},
                {{"severity":"suggestion","title":"v","locations":[{{"path":"a.rs","start_line":2,"replacement":null}}]}}],
              "observations":[{{"kind":"concern","title":"o","locations":[{{"path":"a.rs","start_line":1,"replacement":"y"}}]}}]}}"#
        ))
        .unwrap();
        let kept: Vec<Vec<Option<&str>>> = a
            .findings
            .iter()
            .map(|f| {
                f.locations
                    .iter()
                    .map(|l| l.replacement.as_deref())
                    .collect()
            })
            .collect();
        assert_eq!(
            kept,
            vec![
                vec![Some("    fixed();"), None],
                vec![None, None],
                vec![None]
            ]
        );
        assert_eq!(a.findings[0].locations.len(), 2, "locations stay");
        assert_eq!(a.observations[0].locations[0].replacement, None);
        assert_eq!(
            a.notes,
            vec![
                "`findings[0].locations[1].replacement` dropped: a finding carries at most one replacement (the first is kept)".to_string(),
                format!("`findings[1].locations[1].replacement` dropped: it has {} bytes, more than the {} a small fix needs", caps::REPLACEMENT_CAP + 1, caps::REPLACEMENT_CAP),
                "`observations[0].locations[0].replacement` dropped: only a finding's location can carry one".to_string(),
            ]
        );
        // Answers without the field still parse, and a strict-schema answer may send null.
        let s = json_schema_strict();
        let loc = &s["properties"]["findings"]["items"]["properties"]["locations"]["items"];
        assert_eq!(
            loc["properties"]["replacement"]["type"],
            serde_json::json!(["string", "null"])
        );
        let obs = &s["properties"]["observations"]["items"]["properties"]["locations"]["items"];
        assert!(obs["properties"].get("replacement").is_none());
        assert!(parse_answer(MINIMAL).unwrap().findings[0].locations[0]
            .replacement
            .is_none());
    }

    #[test]
    fn schema_names_every_answer_field() {
        let schema = json_schema();
        let props = schema["properties"].as_object().unwrap();
        let answer = serde_json::to_value(Answer::empty()).unwrap();
        for key in answer.as_object().unwrap().keys() {
            assert!(props.contains_key(key), "schema lacks {key}");
        }
    }
}
