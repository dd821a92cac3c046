//! Anthropic's Messages API (`POST {base_url}/messages`, streamed): `message_start`,
//! `content_block_start`/`_delta`/`_stop`, `message_delta`, `message_stop`; tools as
//! `tool_use` blocks answered with `tool_result` blocks.

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

/// The API version deep-review speaks.
const VERSION: &str = "2023-06-01";
/// Output tokens per turn: what every current Claude model allows.
const MAX_OUTPUT_TOKENS: u32 = 8192;

pub struct Messages {
    pub base_url: String,
}

impl super::wire::Wire for Messages {
    fn call(&self, req: &Request<'_>) -> Call {
        let messages: Vec<Value> = req.messages.iter().map(message).collect();
        let mut body = json!({
            "model": req.model,
            "system": req.system,
            "messages": messages,
            "max_tokens": MAX_OUTPUT_TOKENS,
            "stream": true,
        });
        if req.tool_mode != ToolMode::Off {
            body["tools"] = req
                .tools
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
                .collect();
            body["tool_choice"] =
                json!({"type": if req.tool_mode == ToolMode::Auto { "auto" } else { "none" }});
        }
        let mut headers = vec![("anthropic-version".to_string(), VERSION.to_string())];
        if let Some(k) = req.key {
            headers.push(("x-api-key".to_string(), k.to_string()));
        }
        Call {
            url: format!("{}/messages", self.base_url),
            headers,
            body,
        }
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(MessagesDecoder::default())
    }
}

fn message(m: &Message) -> Value {
    match m {
        Message::User(text) => json!({"role": "user", "content": text}),
        Message::Assistant { text, calls, .. } => {
            let mut content = Vec::new();
            if !text.is_empty() {
                content.push(json!({"type": "text", "text": text}));
            }
            for c in calls {
                content.push(json!({"type": "tool_use", "id": c.id, "name": c.name,
                                    "input": args_value(&c.args)}));
            }
            if content.is_empty() {
                content.push(json!({"type": "text", "text": "(no answer)"}));
            }
            json!({"role": "assistant", "content": content})
        }
        Message::Results { results, note } => {
            let mut content: Vec<Value> = results
                .iter()
                .map(|r| {
                    json!({"type": "tool_result", "tool_use_id": r.id, "content": r.content,
                           "is_error": r.is_error})
                })
                .collect();
            if let Some(n) = note {
                content.push(json!({"type": "text", "text": n}));
            }
            json!({"role": "user", "content": content})
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: Block,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    MessageDelta {
        #[serde(default)]
        usage: Option<Usage>,
    },
    MessageStop,
    Error {
        error: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct StartMessage {
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct Usage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
}

/// Which call each tool-use block index is.
#[derive(Default)]
struct MessagesDecoder {
    blocks: std::collections::BTreeMap<usize, usize>,
}

impl MessagesDecoder {
    fn usage(turn: &mut Turn, u: &Usage) {
        let read = u.cache_read_input_tokens.unwrap_or(0);
        if let Some(i) = u.input_tokens {
            turn.usage.input = i + read + u.cache_creation_input_tokens.unwrap_or(0);
            turn.usage.cached = read;
        }
        if let Some(o) = u.output_tokens {
            turn.usage.output = o;
        }
    }
}

impl Decoder for MessagesDecoder {
    fn event(&mut self, _name: &str, data: &str, turn: &mut Turn) -> Result<(), String> {
        let Ok(ev) = serde_json::from_str::<Event>(data) else {
            return Ok(());
        };
        match ev {
            Event::MessageStart { message } => {
                if let Some(u) = &message.usage {
                    Self::usage(turn, u);
                }
            }
            Event::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                Block::Text { text } => turn.text.push_str(&text),
                Block::ToolUse { id, name } => {
                    self.blocks.insert(index, turn.calls.len());
                    turn.calls.push(ToolCall {
                        id,
                        name,
                        args: String::new(),
                    });
                }
                Block::Other => {}
            },
            Event::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } => turn.text.push_str(&text),
                BlockDelta::InputJsonDelta { partial_json } => {
                    if let Some(&i) = self.blocks.get(&index) {
                        turn.calls[i].args.push_str(&partial_json);
                    }
                }
                BlockDelta::Other => {}
            },
            Event::MessageDelta { usage } => {
                if let Some(u) = &usage {
                    Self::usage(turn, u);
                }
            }
            Event::MessageStop => turn.done = true,
            Event::Error { error } => {
                return Err(super::wire::error_message(
                    &json!({"error": error}).to_string(),
                ))
            }
            Event::Other => {}
        }
        Ok(())
    }
}
