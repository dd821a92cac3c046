//! A scripted model API on 127.0.0.1 for the HTTP reviewers, in the three wire formats as the
//! real APIs stream them: OpenAI Chat Completions (`data: {chunk}` with `tool_calls` deltas,
//! then `data: [DONE]`), Anthropic Messages (`message_start`, `content_block_start`/`delta`/
//! `stop`, `message_delta`, `message_stop`) and Gemini `streamGenerateContent?alt=sse`.
//!
//! Each test scripts the replies in order (a stream, an error status, a stream cut
//! mid-answer, a stall) and reads back every request the server received.

use serde_json::json;
use serde_json::Value;
use std::collections::VecDeque;
use std::io::BufRead;
use std::io::BufReader;
use std::io::Read;
use std::io::Write;
use std::net::TcpListener;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// What the server does with the next request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete SSE stream (chunked), these events in order.
    Stream(Vec<String>),
    /// These events, then the connection dropped without ending the body.
    Cut(Vec<String>),
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Read the request, then say nothing for this long.
    Stall(Duration),
    /// These events, then `repeat` over and over until `limit` bytes were sent (or the
    /// client hung up): a model that never stops talking.
    Endless {
        events: Vec<String>,
        repeat: String,
        limit: usize,
    },
    /// An error status whose body is `size` bytes (a JSON error message that long), written
    /// in pieces, never held whole.
    HugeStatus { status: u16, size: usize },
}

pub struct HttpModelServer {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl HttpModelServer {
    pub fn start(script: Vec<Reply>) -> HttpModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let (script, log) = (Arc::clone(&script), Arc::clone(&log));
                std::thread::spawn(move || {
                    let _ = handle(stream, &script, &log);
                });
            }
        });
        HttpModelServer { port, received }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

fn handle(
    stream: TcpStream,
    script: &Mutex<VecDeque<Reply>>,
    log: &Mutex<Vec<Received>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    // One connection may carry several requests (keep-alive).
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string();
        let mut headers = Vec::new();
        let mut content_length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                if k == "content-length" {
                    content_length = v.parse().unwrap_or(0);
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0u8; content_length];
        reader.read_exact(&mut body)?;
        log.lock().expect("lock").push(Received {
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let reply = script.lock().expect("lock").pop_front();
        if !answer(&mut out, reply)? {
            return Ok(());
        }
    }
}

/// Writes one scripted reply; false when the connection is done with.
fn answer(out: &mut TcpStream, reply: Option<Reply>) -> std::io::Result<bool> {
    match reply {
        Some(Reply::Stream(events)) => {
            stream_events(out, &events)?;
            out.write_all(b"0\r\n\r\n")?;
            out.flush()?;
        }
        Some(Reply::Cut(events)) => {
            stream_events(out, &events)?;
            out.flush()?;
            out.shutdown(std::net::Shutdown::Both)?;
            return Ok(false);
        }
        Some(Reply::Status {
            status,
            headers,
            body,
        }) => {
            let mut head = format!(
                "HTTP/1.1 {status} Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            write!(out, "{head}\r\n{body}")?;
            out.flush()?;
        }
        Some(Reply::Stall(d)) => {
            std::thread::sleep(d);
            return Ok(false);
        }
        Some(Reply::Endless {
            events,
            repeat,
            limit,
        }) => {
            stream_events(out, &events)?;
            let chunk = format!("{repeat}\n\n");
            let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
            let mut sent = 0;
            while sent < limit {
                out.write_all(framed.as_bytes())?;
                sent += framed.len();
            }
            out.flush()?;
            out.shutdown(std::net::Shutdown::Both)?;
            return Ok(false);
        }
        Some(Reply::HugeStatus { status, size }) => {
            let (open, close) = (r#"{"error":{"message":""#, r#""}}"#);
            write!(
                out,
                "HTTP/1.1 {status} Error\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n{open}"
            )?;
            let piece = "x".repeat(64 * 1024);
            let mut left = size - open.len() - close.len();
            while left > 0 {
                let n = left.min(piece.len());
                out.write_all(&piece.as_bytes()[..n])?;
                left -= n;
            }
            out.write_all(close.as_bytes())?;
            out.flush()?;
            return Ok(false);
        }
        None => {
            let body = r#"{"error":{"message":"the test's script has no more replies"}}"#;
            write!(
                out,
                "HTTP/1.1 500 Error\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )?;
            out.flush()?;
        }
    }
    Ok(true)
}

fn stream_events(out: &mut TcpStream, events: &[String]) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
    )?;
    for e in events {
        let chunk = format!("{e}\n\n");
        write!(out, "{:x}\r\n{chunk}\r\n", chunk.len())?;
        out.flush()?;
    }
    Ok(())
}

/// The three wire formats, each able to script a turn of tool calls, an answer, and an
/// answer cut off before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenAi,
    Anthropic,
    Gemini,
}

pub const FORMATS: [Format; 3] = [Format::OpenAi, Format::Anthropic, Format::Gemini];

fn data(v: Value) -> String {
    format!("data: {v}")
}

fn named(name: &str, v: Value) -> String {
    format!("event: {name}\ndata: {v}")
}

/// `s` in pieces of `n` characters, as a model streams text.
fn pieces(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

impl Format {
    pub fn kind(self) -> &'static str {
        match self {
            Format::OpenAi => "openai",
            Format::Anthropic => "anthropic",
            Format::Gemini => "gemini-api",
        }
    }

    pub fn model(self) -> &'static str {
        match self {
            Format::OpenAi => "gpt-4o",
            Format::Anthropic => "claude-sonnet-4-5",
            Format::Gemini => "gemini-2.5-pro",
        }
    }

    /// The `base_url` on this server, as the real API's root.
    pub fn base_url(self, server: &HttpModelServer) -> String {
        match self {
            Format::OpenAi | Format::Anthropic => format!("{}/v1", server.base()),
            Format::Gemini => format!("{}/v1beta", server.base()),
        }
    }

    /// The path each request must have gone to.
    pub fn path(self) -> String {
        match self {
            Format::OpenAi => "/v1/chat/completions".into(),
            Format::Anthropic => "/v1/messages".into(),
            Format::Gemini => format!(
                "/v1beta/models/{}:streamGenerateContent?alt=sse",
                self.model()
            ),
        }
    }

    /// One turn asking for these tool calls.
    pub fn tools(self, calls: &[(&str, Value)], usage: (u64, u64)) -> Reply {
        Reply::Stream(match self {
            Format::OpenAi => openai_tools(calls, usage),
            Format::Anthropic => anthropic_tools(calls, usage),
            Format::Gemini => vec![data(json!({
                "candidates": [{"content": {"role": "model", "parts": calls.iter().map(|(n, a)| json!({"functionCall": {"name": n, "args": a}})).collect::<Vec<_>>()},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": usage.0, "candidatesTokenCount": usage.1, "totalTokenCount": usage.0 + usage.1},
                "modelVersion": "gemini-2.5-pro"
            }))],
        })
    }

    /// One turn answering `text`, streamed in pieces.
    pub fn answer(self, text: &str, usage: (u64, u64)) -> Reply {
        Reply::Stream(self.answer_events(text, usage, true))
    }

    /// The first half of an answer, then the connection dropped.
    pub fn cut(self, text: &str) -> Reply {
        let half: String = text.chars().take(text.chars().count() / 2).collect();
        Reply::Cut(self.answer_events(&half, (100, 10), false))
    }

    /// A turn whose text never ends: the start of an answer, then one text piece of
    /// `piece` bytes repeated until `limit` bytes were sent.
    pub fn endless(self, piece: usize, limit: usize) -> Reply {
        let mut events = self.answer_events("ENDLESS-PIECE", (100, 10), false);
        let last = events.pop().expect("an answer has a text event");
        let repeat = last.replace("ENDLESS-PIECE", &"x".repeat(piece));
        Reply::Endless {
            events,
            repeat,
            limit,
        }
    }

    fn answer_events(self, text: &str, usage: (u64, u64), end: bool) -> Vec<String> {
        let parts = pieces(text, 40);
        match self {
            Format::OpenAi => {
                let mut ev = vec![data(
                    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]}),
                )];
                for p in &parts {
                    ev.push(data(json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]})));
                }
                if end {
                    ev.push(data(json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})));
                    ev.push(data(json!({"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1}})));
                    ev.push("data: [DONE]".into());
                }
                ev
            }
            Format::Anthropic => {
                let mut ev = vec![
                    anthropic_start(usage.0),
                    named(
                        "content_block_start",
                        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                    ),
                    named("ping", json!({"type": "ping"})),
                ];
                for p in &parts {
                    ev.push(named("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}})));
                }
                if end {
                    ev.push(named(
                        "content_block_stop",
                        json!({"type": "content_block_stop", "index": 0}),
                    ));
                    ev.extend(anthropic_end("end_turn", usage.1));
                }
                ev
            }
            Format::Gemini => {
                let n = parts.len();
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let mut c = json!({"content": {"role": "model", "parts": [{"text": p}]}, "index": 0});
                        let mut chunk = json!({"modelVersion": "gemini-2.5-pro"});
                        if end && i + 1 == n {
                            c["finishReason"] = json!("STOP");
                            chunk["usageMetadata"] = json!({"promptTokenCount": usage.0, "candidatesTokenCount": usage.1, "totalTokenCount": usage.0 + usage.1});
                        }
                        chunk["candidates"] = json!([c]);
                        data(chunk)
                    })
                    .collect()
            }
        }
    }
}

fn openai_tools(calls: &[(&str, Value)], usage: (u64, u64)) -> Vec<String> {
    let mut ev = vec![data(
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": null}, "finish_reason": null}]}),
    )];
    for (i, (name, args)) in calls.iter().enumerate() {
        ev.push(data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": i, "id": format!("call_{i}"), "type": "function", "function": {"name": name, "arguments": ""}}]}}]})));
        for p in pieces(&args.to_string(), 7) {
            ev.push(data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": i, "function": {"arguments": p}}]}}]})));
        }
    }
    ev.push(data(
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    ));
    ev.push(data(json!({"choices": [], "usage": {"prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1}})));
    ev.push("data: [DONE]".into());
    ev
}

fn anthropic_start(input: u64) -> String {
    named(
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "usage": {"input_tokens": input, "output_tokens": 1}}}),
    )
}

fn anthropic_end(stop: &str, output: u64) -> Vec<String> {
    vec![
        named(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": output}}),
        ),
        named("message_stop", json!({"type": "message_stop"})),
    ]
}

fn anthropic_tools(calls: &[(&str, Value)], usage: (u64, u64)) -> Vec<String> {
    let mut ev = vec![anthropic_start(usage.0)];
    for (i, (name, args)) in calls.iter().enumerate() {
        ev.push(named("content_block_start", json!({"type": "content_block_start", "index": i, "content_block": {"type": "tool_use", "id": format!("toolu_{i}"), "name": name, "input": {}}})));
        for p in pieces(&args.to_string(), 7) {
            ev.push(named("content_block_delta", json!({"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": p}})));
        }
        ev.push(named(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": i}),
        ));
    }
    ev.extend(anthropic_end("tool_use", usage.1));
    ev
}

/// An error reply, as the APIs send them.
pub fn status(status: u16, message: &str, headers: &[(&str, &str)]) -> Reply {
    Reply::Status {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: json!({"error": {"message": message, "type": "error"}}).to_string(),
    }
}
