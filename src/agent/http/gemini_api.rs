//! Google's Gemini API (`POST {base_url}/models/{model}:streamGenerateContent?alt=sse`):
//! each event a `GenerateContentResponse`; tools as `functionCall` parts answered with
//! `functionResponse` parts. The model's parts are sent back as they came (thought signatures
//! included, which Gemini 3 requires).

use super::wire::args_value;
use super::wire::Call;
use super::wire::Decoder;
use super::wire::Message;
use super::wire::Request;
use super::wire::ToolCall;
use super::wire::ToolMode;
use super::wire::Turn;
use serde::Deserialize;
use serde_json::json;
use serde_json::Value;

pub struct Gemini {
    pub base_url: String,
}

impl super::wire::Wire for Gemini {
    fn call(&self, req: &Request<'_>) -> Call {
        let contents: Vec<Value> = req.messages.iter().map(content).collect();
        let mut body = json!({
            "systemInstruction": {"parts": [{"text": req.system}]},
            "contents": contents,
        });
        if req.tool_mode != ToolMode::Off {
            let decls: Vec<Value> = req
                .tools
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "parameters": t.parameters}))
                .collect();
            body["tools"] = json!([{"functionDeclarations": decls}]);
            let mode = if req.tool_mode == ToolMode::Auto {
                "AUTO"
            } else {
                "NONE"
            };
            body["toolConfig"] = json!({"functionCallingConfig": {"mode": mode}});
        }
        if let Some(schema) = req.schema {
            body["generationConfig"] =
                json!({"responseMimeType": "application/json", "responseJsonSchema": schema});
        }
        let model = req.model.strip_prefix("models/").unwrap_or(req.model);
        let mut headers = Vec::new();
        if let Some(k) = req.key {
            headers.push(("x-goog-api-key".to_string(), k.to_string()));
        }
        Call {
            url: format!(
                "{}/models/{model}:streamGenerateContent?alt=sse",
                self.base_url
            ),
            headers,
            body,
        }
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(GeminiDecoder::default())
    }
}

fn content(m: &Message) -> Value {
    match m {
        Message::User(text) => json!({"role": "user", "parts": [{"text": text}]}),
        Message::Assistant { text, calls, raw } => {
            if let Some(parts) = raw {
                return json!({"role": "model", "parts": parts});
            }
            let mut parts = Vec::new();
            if !text.is_empty() {
                parts.push(json!({"text": text}));
            }
            for c in calls {
                parts.push(json!({"functionCall": {"name": c.name, "args": args_value(&c.args)}}));
            }
            json!({"role": "model", "parts": parts})
        }
        Message::Results { results, note } => {
            let mut parts: Vec<Value> = results
                .iter()
                .map(|r| {
                    let key = if r.is_error { "error" } else { "output" };
                    json!({"functionResponse": {"name": r.name, "response": {key: r.content}}})
                })
                .collect();
            if let Some(n) = note {
                parts.push(json!({"text": n}));
            }
            json!({"role": "user", "parts": parts})
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chunk {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    usage_metadata: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    thoughts_token_count: u64,
    #[serde(default)]
    cached_content_token_count: u64,
}

#[derive(Default)]
struct GeminiDecoder {
    parts: Vec<Value>,
}

impl Decoder for GeminiDecoder {
    fn event(&mut self, _name: &str, data: &str, turn: &mut Turn) -> Result<(), String> {
        let Ok(chunk) = serde_json::from_str::<Chunk>(data) else {
            return Ok(());
        };
        if let Some(e) = chunk.error {
            return Err(super::wire::error_message(&json!({"error": e}).to_string()));
        }
        if let Some(u) = chunk.usage_metadata {
            turn.usage.input = u.prompt_token_count;
            turn.usage.output = u.candidates_token_count + u.thoughts_token_count;
            turn.usage.cached = u.cached_content_token_count;
        }
        let Some(c) = chunk.candidates.into_iter().next() else {
            return Ok(());
        };
        for part in c.content.map(|c| c.parts).unwrap_or_default() {
            let thought = part.get("thought").and_then(Value::as_bool) == Some(true);
            if let (Some(t), false) = (part.get("text").and_then(Value::as_str), thought) {
                turn.text.push_str(t);
            }
            if let Some(f) = part.get("functionCall") {
                turn.calls.push(ToolCall {
                    id: f
                        .get("id")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("call_{}", turn.calls.len())),
                    name: f
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    args: f.get("args").map(|a| a.to_string()).unwrap_or_default(),
                });
            }
            self.parts.push(part);
        }
        if c.finish_reason.is_some() {
            turn.done = true;
        }
        Ok(())
    }

    fn finish(&mut self, turn: &mut Turn) {
        if !self.parts.is_empty() {
            turn.raw = Some(Value::Array(std::mem::take(&mut self.parts)));
        }
    }
}
