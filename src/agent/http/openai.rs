//! The OpenAI-compatible Chat Completions API (`POST {base_url}/chat/completions`, streamed):
//! OpenAI, OpenRouter, Ollama, vLLM, llama.cpp server, LM Studio. The Responses API, where an
//! endpoint offers it, is in [`super::openai_responses`].

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

pub struct Chat {
    pub base_url: String,
}

impl super::wire::Wire for Chat {
    fn call(&self, req: &Request<'_>) -> Call {
        let mut messages = vec![json!({"role": "system", "content": req.system})];
        for m in req.messages {
            push_message(&mut messages, m);
        }
        let mut body = json!({
            "model": req.model,
            "messages": messages,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        if req.tool_mode != ToolMode::Off {
            body["tools"] = req
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {
                        "name": t.name, "description": t.description, "parameters": t.parameters}})
                })
                .collect();
            body["tool_choice"] = json!(if req.tool_mode == ToolMode::Auto {
                "auto"
            } else {
                "none"
            });
        }
        if let Some(schema) = req.schema {
            body["response_format"] = json!({"type": "json_schema", "json_schema": {
                "name": "answer", "strict": true, "schema": schema}});
        }
        Call {
            url: format!("{}/chat/completions", self.base_url),
            headers: bearer(req.key),
            body,
        }
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(ChatDecoder)
    }
}

pub fn bearer(key: Option<&str>) -> Vec<(String, String)> {
    key.map(|k| vec![("Authorization".to_string(), format!("Bearer {k}"))])
        .unwrap_or_default()
}

fn push_message(out: &mut Vec<Value>, m: &Message) {
    match m {
        Message::User(text) => out.push(json!({"role": "user", "content": text})),
        Message::Assistant { text, calls, .. } => {
            let mut msg = json!({"role": "assistant", "content": text});
            if !calls.is_empty() {
                msg["tool_calls"] = calls
                    .iter()
                    .map(|c| {
                        json!({"id": c.id, "type": "function",
                               "function": {"name": c.name, "arguments": c.args}})
                    })
                    .collect();
            }
            out.push(msg);
        }
        Message::Results { results, note } => {
            for r in results {
                out.push(json!({"role": "tool", "tool_call_id": r.id, "content": r.content}));
            }
            if let Some(n) = note {
                out.push(json!({"role": "user", "content": n}));
            }
        }
    }
}

// The stream: `data: {chunk}` lines, then `data: [DONE]`.

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolDelta>,
}

#[derive(Debug, Deserialize)]
struct ToolDelta {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<Details>,
}

#[derive(Debug, Deserialize)]
struct Details {
    #[serde(default)]
    cached_tokens: u64,
}

impl Usage {
    fn tokens(&self) -> Tokens {
        Tokens {
            input: self.prompt_tokens,
            output: self.completion_tokens,
            cached: self
                .prompt_tokens_details
                .as_ref()
                .map(|d| d.cached_tokens)
                .unwrap_or(0),
        }
    }
}

#[derive(Default)]
struct ChatDecoder;

impl Decoder for ChatDecoder {
    fn event(&mut self, _name: &str, data: &str, turn: &mut Turn) -> Result<(), String> {
        let data = data.trim();
        if data == "[DONE]" {
            // Some servers send no finish_reason; [DONE] still ends a complete answer.
            turn.done = true;
            return Ok(());
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(_) => return Ok(()), // not ours to judge: a keep-alive or an extension
        };
        if let Some(e) = chunk.error {
            return Err(super::wire::error_message(&json!({"error": e}).to_string()));
        }
        if let Some(u) = &chunk.usage {
            turn.usage = u.tokens();
        }
        for choice in chunk.choices {
            if let Some(t) = choice.delta.content {
                turn.text.push_str(&t);
            }
            for d in choice.delta.tool_calls {
                let i = d.index.unwrap_or(turn.calls.len().saturating_sub(1));
                while turn.calls.len() <= i {
                    turn.calls.push(ToolCall {
                        id: String::new(),
                        name: String::new(),
                        args: String::new(),
                    });
                }
                let c = &mut turn.calls[i];
                if let Some(id) = d.id.filter(|s| !s.is_empty()) {
                    c.id = id;
                }
                if let Some(f) = d.function {
                    if let Some(n) = f.name {
                        c.name.push_str(&n);
                    }
                    if let Some(a) = f.arguments {
                        c.args.push_str(&a);
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, turn: &mut Turn) {
        for (i, c) in turn.calls.iter_mut().enumerate() {
            if c.id.is_empty() {
                c.id = format!("call_{i}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_call_deltas_are_joined() {
        let mut d = ChatDecoder;
        let mut t = Turn::default();
        for data in [
            r#"{"choices":[{"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read_file","arguments":""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a.rs\"}"}}]},"finish_reason":"tool_calls"}],"unknown":1}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}}"#,
            "[DONE]",
        ] {
            d.event("", data, &mut t).unwrap();
        }
        d.finish(&mut t);
        assert!(t.done);
        assert_eq!(t.calls.len(), 1);
        assert_eq!(t.calls[0].name, "read_file");
        assert_eq!(t.calls[0].args, r#"{"path":"a.rs"}"#);
        assert_eq!(t.usage.input, 10);
    }
}
