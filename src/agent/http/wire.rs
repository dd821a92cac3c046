//! What the three wire formats have in common: the conversation in a neutral form, one turn
//! as it is read from a stream, and the trait each format implements.

use super::tools::ToolDef;
use crate::agent::Tokens;
use serde_json::Value;

/// One message of the conversation, as each format turns it into its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    User(String),
    Assistant {
        text: String,
        calls: Vec<ToolCall>,
        /// The format's own form of this message when it must be sent back as it came
        /// (Gemini's thought signatures, Responses' output items).
        raw: Option<Value>,
    },
    /// The answers to the assistant's tool calls, and optionally a word from us after them
    /// (sent in the same user turn, as Anthropic requires).
    Results {
        results: Vec<ToolResult>,
        note: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as the model wrote them (JSON text).
    pub args: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub id: String,
    pub name: String,
    pub content: String,
    pub is_error: bool,
}

/// Whether the model may call tools this turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolMode {
    /// The model does not take tools: none are sent.
    Off,
    /// Tools offered.
    Auto,
    /// Tools declared (the history has calls) but not allowed: answer now.
    Forbidden,
}

/// What one request needs.
pub struct Request<'a> {
    pub model: &'a str,
    pub system: &'a str,
    pub messages: &'a [Message],
    pub tools: &'a [ToolDef],
    pub tool_mode: ToolMode,
    /// The answer's JSON Schema, when the format can enforce it this turn.
    pub schema: Option<&'a Value>,
    pub key: Option<&'a str>,
}

/// One request on the wire.
pub struct Call {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

/// One turn of the model, as much of it as arrived.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Turn {
    pub text: String,
    pub calls: Vec<ToolCall>,
    pub usage: Tokens,
    /// The stream ended as the format ends a complete answer.
    pub done: bool,
    pub raw: Option<Value>,
}

pub trait Wire: Send + Sync {
    fn call(&self, req: &Request<'_>) -> Call;
    fn decoder(&self) -> Box<dyn Decoder>;
}

/// Reads one turn's events.
pub trait Decoder: Send {
    /// One event (`name` is empty when the server gave none). `Err`: the API reported an
    /// error inside the stream.
    fn event(&mut self, name: &str, data: &str, turn: &mut Turn) -> Result<(), String>;
    /// The stream ended; complete what was gathered.
    fn finish(&mut self, _turn: &mut Turn) {}
}

/// The error text of an error body in any of the three formats (`{"error": {"message"}}`,
/// `{"error": "…"}`, `{"message": "…"}`, a list of those), else the body itself, shortened.
pub fn error_message(body: &str) -> String {
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => return shorten(body.trim(), 300),
    };
    let v = v.as_array().and_then(|a| a.first()).unwrap_or(&v);
    let pick = |v: &Value| -> Option<String> {
        let e = v.get("error").unwrap_or(v);
        if let Some(s) = e.as_str() {
            return Some(s.to_string());
        }
        let msg = e.get("message").and_then(Value::as_str)?;
        let code = ["code", "type", "status"]
            .iter()
            .find_map(|k| e.get(*k).and_then(Value::as_str));
        Some(match code {
            Some(c) if !msg.contains(c) => format!("{msg} ({c})"),
            _ => msg.to_string(),
        })
    };
    pick(v).unwrap_or_else(|| shorten(body.trim(), 300))
}

pub fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Parses a tool call's arguments; an empty text is no arguments.
pub fn args_value(args: &str) -> Value {
    if args.trim().is_empty() {
        return Value::Object(Default::default());
    }
    serde_json::from_str(args).unwrap_or(Value::Object(Default::default()))
}
