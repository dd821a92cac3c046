//! OpenAI's Responses API (`POST {base_url}/responses`, streamed), for `api = "responses"`.
//! Stateless (`store: false`): every turn sends the whole conversation as input items.

use super::openai::bearer;
use super::wire::Call;
use super::wire::Decoder;
use super::wire::Message;
use super::wire::Request;
use super::wire::ToolCall;
use super::wire::ToolMode;
use super::wire::Turn;
use crate::agent::Tokens;
use serde::Deserialize;
use serde_json::json;
use serde_json::Value;

pub struct Responses {
    pub base_url: String,
}

impl super::wire::Wire for Responses {
    fn call(&self, req: &Request<'_>) -> Call {
        let mut input: Vec<Value> = Vec::new();
        for m in req.messages {
            match m {
                Message::User(text) => input.push(json!({"role": "user", "content": text})),
                Message::Assistant { text, calls, .. } => {
                    if !text.is_empty() {
                        input.push(json!({"role": "assistant", "content": text}));
                    }
                    for c in calls {
                        input.push(json!({"type": "function_call", "call_id": c.id,
                                          "name": c.name, "arguments": c.args}));
                    }
                }
                Message::Results { results, note } => {
                    for r in results {
                        input.push(json!({"type": "function_call_output",
                                          "call_id": r.id, "output": r.content}));
                    }
                    if let Some(n) = note {
                        input.push(json!({"role": "user", "content": n}));
                    }
                }
            }
        }
        let mut body = json!({
            "model": req.model,
            "instructions": req.system,
            "input": input,
            "stream": true,
            "store": false,
        });
        if req.tool_mode != ToolMode::Off {
            body["tools"] = req
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "name": t.name, "description": t.description,
                           "parameters": t.parameters, "strict": false})
                })
                .collect();
            body["tool_choice"] = json!(if req.tool_mode == ToolMode::Auto {
                "auto"
            } else {
                "none"
            });
        }
        if let Some(schema) = req.schema {
            body["text"] = json!({"format": {"type": "json_schema", "name": "answer",
                                             "strict": true, "schema": schema}});
        }
        Call {
            url: format!("{}/responses", self.base_url),
            headers: bearer(req.key),
            body,
        }
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(ResponsesDecoder)
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum Event {
    #[serde(rename = "response.output_text.delta")]
    TextDelta { delta: String },
    #[serde(rename = "response.output_item.done")]
    ItemDone { item: Item },
    #[serde(rename = "response.completed")]
    Completed { response: Response },
    #[serde(rename = "response.incomplete")]
    Incomplete { response: Response },
    #[serde(rename = "response.failed")]
    Failed { response: Response },
    #[serde(rename = "error")]
    Error {
        #[serde(default)]
        message: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum Item {
    #[serde(rename = "function_call")]
    FunctionCall {
        call_id: String,
        name: String,
        #[serde(default)]
        arguments: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct Response {
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    input_tokens_details: Option<Details>,
}

#[derive(Debug, Deserialize)]
struct Details {
    #[serde(default)]
    cached_tokens: u64,
}

struct ResponsesDecoder;

impl Decoder for ResponsesDecoder {
    fn event(&mut self, _name: &str, data: &str, turn: &mut Turn) -> Result<(), String> {
        let Ok(ev) = serde_json::from_str::<Event>(data) else {
            return Ok(());
        };
        match ev {
            Event::TextDelta { delta } => turn.text.push_str(&delta),
            Event::ItemDone {
                item:
                    Item::FunctionCall {
                        call_id,
                        name,
                        arguments,
                    },
            } => turn.calls.push(ToolCall {
                id: call_id,
                name,
                args: arguments,
            }),
            Event::Completed { response } | Event::Incomplete { response } => {
                if let Some(u) = response.usage {
                    turn.usage = Tokens {
                        input: u.input_tokens,
                        output: u.output_tokens,
                        cached: u.input_tokens_details.map(|d| d.cached_tokens).unwrap_or(0),
                    };
                }
                turn.done = true;
            }
            Event::Failed { response } => {
                let e = response.error.unwrap_or(Value::Null);
                return Err(super::wire::error_message(&json!({"error": e}).to_string()));
            }
            Event::Error { message } => return Err(message),
            Event::ItemDone { .. } | Event::Other => {}
        }
        Ok(())
    }
}
