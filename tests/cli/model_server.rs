//! A scripted model server on 127.0.0.1 for driving the real agent CLIs offline.
//!
//! It speaks just enough of three wire formats, as the real CLIs use them
//! (shared/agent-clis/AGENT_CLIS.md): OpenAI Responses (`POST …/responses`, SSE), Anthropic
//! Messages (`POST /v1/messages`, SSE) and Gemini (`POST …:streamGenerateContent?alt=sse` and
//! `…:generateContent`). The script is the same for each: first ask to read the changed file
//! with the CLI's own read tool, then answer with the findings JSON the test gave it.

use std::io::BufRead;
use std::io::BufReader;
use std::io::Read;
use std::io::Write;
use std::net::TcpListener;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::Mutex;

pub struct ModelServer {
    pub port: u16,
    /// "METHOD path" of every request, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

struct Script {
    answer: serde_json::Value,
    /// The file the model asks to read, relative to the repository.
    file: String,
    workdir: String,
    /// Anthropic only: shell commands asked for first, one `Bash` call per turn.
    bash: Vec<String>,
    /// Tool calls asked for in order, one per turn, before the answer (which then comes as
    /// a fenced JSON block in text): Gemini `functionCall`s `{name, args}`, or Anthropic
    /// `tool_use` `{name, input}`.
    steps: Vec<serde_json::Value>,
}

impl ModelServer {
    pub fn start(answer: serde_json::Value, file: &str, workdir: &str) -> ModelServer {
        ModelServer::start_scripted(answer, file, workdir, Vec::new())
    }

    /// Like [`ModelServer::start`], but a claude model first asks for each of `commands`
    /// through its `Bash` tool, one per turn, then answers.
    pub fn start_bash(answer: serde_json::Value, workdir: &str, commands: &[&str]) -> ModelServer {
        let commands = commands.iter().map(|c| c.to_string()).collect();
        ModelServer::start_scripted(answer, "", workdir, commands)
    }

    /// A model that asks for each tool call of `steps` in turn (whatever tools the client
    /// offers), then answers with `answer` in a fenced JSON block: for agents whose tools
    /// this server does not script otherwise (ACP agents: Gemini CLI, OpenCode).
    pub fn start_steps(answer: serde_json::Value, steps: Vec<serde_json::Value>) -> ModelServer {
        ModelServer::start_with(answer, "", "", Vec::new(), steps)
    }

    fn start_scripted(
        answer: serde_json::Value,
        file: &str,
        workdir: &str,
        bash: Vec<String>,
    ) -> ModelServer {
        ModelServer::start_with(answer, file, workdir, bash, Vec::new())
    }

    fn start_with(
        answer: serde_json::Value,
        file: &str,
        workdir: &str,
        bash: Vec<String>,
        steps: Vec<serde_json::Value>,
    ) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Script {
            answer,
            file: file.to_string(),
            workdir: workdir.to_string(),
            bash,
            steps,
        });
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let script = Arc::clone(&script);
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    let _ = handle(stream, &script, &log);
                });
            }
        });
        ModelServer { port, requests }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn paths(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }

    /// The body of every request this server received, in order.
    pub fn bodies(&self) -> Vec<String> {
        BODIES
            .lock()
            .expect("lock")
            .iter()
            .filter(|(port, _)| *port == self.port)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// The `Authorization` header of every request this server received, in order (`None`
    /// for a request without one).
    pub fn authorizations(&self) -> Vec<Option<String>> {
        AUTHORIZATIONS
            .lock()
            .expect("lock")
            .iter()
            .filter(|(port, _)| *port == self.port)
            .map(|(_, a)| a.clone())
            .collect()
    }
}

/// `Authorization` headers of every server in this process, by the server's port.
static AUTHORIZATIONS: Mutex<Vec<(u16, Option<String>)>> = Mutex::new(Vec::new());

/// Request bodies of every server in this process, by the server's port (kept beside the
/// servers so their constructors stay as they are).
static BODIES: Mutex<Vec<(u16, String)>> = Mutex::new(Vec::new());

fn record_body(stream: &TcpStream, body: &[u8]) {
    let port = stream.local_addr().map(|a| a.port()).unwrap_or(0);
    BODIES
        .lock()
        .expect("lock")
        .push((port, String::from_utf8_lossy(body).into_owned()));
}

fn handle(stream: TcpStream, script: &Script, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut content_length = 0usize;
    let mut chunked = false;
    let mut authorization = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
        if lower.starts_with("authorization:") {
            authorization = Some(h["authorization:".len()..].trim().to_string());
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if n == 0 {
                let mut end = String::new();
                let _ = reader.read_line(&mut end);
                break;
            }
            let mut chunk = vec![0u8; n];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else {
        body.resize(content_length, 0);
        reader.read_exact(&mut body)?;
    }
    log.lock().expect("lock").push(format!("{method} {path}"));
    let port = stream.local_addr().map(|a| a.port()).unwrap_or(0);
    AUTHORIZATIONS
        .lock()
        .expect("lock")
        .push((port, authorization));
    record_body(&stream, &body);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let route = path.split('?').next().unwrap_or("");
    let mut out = stream;
    if method == "GET" {
        return respond_json(
            &mut out,
            200,
            &serde_json::json!({"object": "list", "data": [], "models": []}),
        );
    }
    if route.ends_with("/count_tokens") {
        return respond_json(&mut out, 200, &serde_json::json!({"input_tokens": 321}));
    }
    if route.ends_with(":countTokens") {
        return respond_json(&mut out, 200, &serde_json::json!({"totalTokens": 321}));
    }
    if route.ends_with("/responses") {
        return openai_responses(&mut out, &json, script);
    }
    if route.ends_with("/messages") {
        return anthropic(&mut out, &json, script);
    }
    if route.ends_with(":streamGenerateContent") {
        return gemini(&mut out, &json, script, route, true);
    }
    if route.ends_with(":generateContent") {
        return gemini(&mut out, &json, script, route, false);
    }
    respond_json(&mut out, 404, &serde_json::json!({"error": "not found"}))
}

fn respond_json(out: &mut TcpStream, status: u16, v: &serde_json::Value) -> std::io::Result<()> {
    let body = v.to_string();
    write!(
        out,
        "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

fn sse_start(out: &mut TcpStream) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
    )
}

fn sse(out: &mut TcpStream, event: Option<&str>, data: &serde_json::Value) -> std::io::Result<()> {
    if let Some(e) = event {
        writeln!(out, "event: {e}")?;
    }
    write!(out, "data: {data}\n\n")?;
    out.flush()
}

fn openai_responses(
    out: &mut TcpStream,
    body: &serde_json::Value,
    script: &Script,
) -> std::io::Result<()> {
    let input = body["input"].as_array().cloned().unwrap_or_default();
    let done = input
        .iter()
        .any(|i| i["type"].as_str().is_some_and(|t| t.ends_with("_output")));
    let tools: Vec<String> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().or(t["type"].as_str()).map(String::from))
        .collect();
    let model = body["model"].as_str().unwrap_or("mock-model");
    let usage = serde_json::json!({"input_tokens": 1200, "input_tokens_details": {"cached_tokens": 200},
        "output_tokens": 50, "output_tokens_details": {"reasoning_tokens": 10}, "total_tokens": 1250});
    sse_start(out)?;
    let rid = "resp_mock";
    sse(
        out,
        Some("response.created"),
        &serde_json::json!({"type": "response.created",
        "response": {"id": rid, "object": "response", "model": model, "status": "in_progress", "output": []}}),
    )?;
    let item = if !done {
        let cmd = format!("cat {}", script.file);
        let (name, args) = if tools.iter().any(|t| t == "exec_command") {
            ("exec_command", serde_json::json!({"cmd": cmd}))
        } else if tools.iter().any(|t| t == "shell_command") {
            ("shell_command", serde_json::json!({"command": cmd}))
        } else {
            (
                "shell",
                serde_json::json!({"command": ["bash", "-lc", cmd]}),
            )
        };
        serde_json::json!({"type": "function_call", "id": "fc_mock_1", "status": "completed",
            "name": name, "arguments": args.to_string(), "call_id": "call_mock_1"})
    } else {
        let text = script.answer.to_string();
        sse(
            out,
            Some("response.output_text.delta"),
            &serde_json::json!({"type": "response.output_text.delta",
            "item_id": "msg_mock_1", "output_index": 0, "content_index": 0, "delta": text}),
        )?;
        serde_json::json!({"type": "message", "id": "msg_mock_1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]})
    };
    sse(
        out,
        Some("response.output_item.added"),
        &serde_json::json!({"type": "response.output_item.added", "output_index": 0, "item": item}),
    )?;
    sse(
        out,
        Some("response.output_item.done"),
        &serde_json::json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
    )?;
    sse(
        out,
        Some("response.completed"),
        &serde_json::json!({"type": "response.completed",
        "response": {"id": rid, "object": "response", "model": model, "status": "completed", "output": [item], "usage": usage}}),
    )
}

fn anthropic(
    out: &mut TcpStream,
    body: &serde_json::Value,
    script: &Script,
) -> std::io::Result<()> {
    let msgs = body["messages"].as_array().cloned().unwrap_or_default();
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let last = msgs.last().cloned().unwrap_or_default();
    let content = last["content"].as_array().cloned().unwrap_or_default();
    let results: Vec<&str> = content
        .iter()
        .filter(|b| b["type"] == "tool_result")
        .filter_map(|b| b["tool_use_id"].as_str())
        .collect();
    let model = body["model"].as_str().unwrap_or("claude-mock");
    // Claude merges tool results and may end with a system nudge, so count them all.
    let all_results: Vec<serde_json::Value> = msgs
        .iter()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .filter(|b| b["type"] == "tool_result")
        .collect();
    let answered = all_results.len();
    let delivered = all_results
        .iter()
        .any(|b| b["tool_use_id"] == "toolu_mock_2");
    let (blocks, stop) = if !script.steps.is_empty() {
        anthropic_step(script, tools.is_empty(), answered)
    } else if !tools.is_empty() && answered < script.bash.len() {
        (
            vec![
                serde_json::json!({"type": "tool_use", "id": format!("toolu_bash_{answered}"), "name": "Bash",
                "input": {"command": script.bash[answered], "description": "Scripted command"}}),
            ],
            "tool_use",
        )
    } else if !tools.is_empty() && !script.bash.is_empty() && !delivered {
        (
            vec![
                serde_json::json!({"type": "tool_use", "id": "toolu_mock_2", "name": "StructuredOutput", "input": script.answer}),
            ],
            "tool_use",
        )
    } else if !script.bash.is_empty() {
        (
            vec![serde_json::json!({"type": "text", "text": "Review delivered."})],
            "end_turn",
        )
    } else if tools.is_empty() {
        (
            vec![serde_json::json!({"type": "text", "text": "Scripted side answer"})],
            "end_turn",
        )
    } else if results.is_empty() {
        let path = format!("{}/{}", script.workdir, script.file);
        (
            vec![
                serde_json::json!({"type": "text", "text": "Let me read the changed file."}),
                serde_json::json!({"type": "tool_use", "id": "toolu_mock_1", "name": "Read", "input": {"file_path": path}}),
            ],
            "tool_use",
        )
    } else if tools.contains(&"StructuredOutput") && !results.contains(&"toolu_mock_2") {
        (
            vec![
                serde_json::json!({"type": "tool_use", "id": "toolu_mock_2", "name": "StructuredOutput", "input": script.answer}),
            ],
            "tool_use",
        )
    } else {
        (
            vec![serde_json::json!({"type": "text", "text": "Review delivered."})],
            "end_turn",
        )
    };
    let usage = serde_json::json!({"input_tokens": 1200, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 200, "output_tokens": 1});
    if body["stream"] != true {
        return respond_json(
            out,
            200,
            &serde_json::json!({"id": "msg_mock", "type": "message", "role": "assistant",
            "model": model, "content": blocks, "stop_reason": stop, "stop_sequence": null, "usage": usage}),
        );
    }
    sse_start(out)?;
    sse(
        out,
        Some("message_start"),
        &serde_json::json!({"type": "message_start", "message": {"id": "msg_mock", "type": "message",
        "role": "assistant", "model": model, "content": [], "stop_reason": null, "stop_sequence": null, "usage": usage}}),
    )?;
    for (i, b) in blocks.iter().enumerate() {
        if b["type"] == "text" {
            sse(
                out,
                Some("content_block_start"),
                &serde_json::json!({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}),
            )?;
            sse(
                out,
                Some("content_block_delta"),
                &serde_json::json!({"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": b["text"]}}),
            )?;
        } else {
            sse(
                out,
                Some("content_block_start"),
                &serde_json::json!({"type": "content_block_start", "index": i,
                "content_block": {"type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}}),
            )?;
            sse(
                out,
                Some("content_block_delta"),
                &serde_json::json!({"type": "content_block_delta", "index": i,
                "delta": {"type": "input_json_delta", "partial_json": b["input"].to_string()}}),
            )?;
        }
        sse(
            out,
            Some("content_block_stop"),
            &serde_json::json!({"type": "content_block_stop", "index": i}),
        )?;
    }
    sse(
        out,
        Some("message_delta"),
        &serde_json::json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 40}}),
    )?;
    sse(
        out,
        Some("message_stop"),
        &serde_json::json!({"type": "message_stop"}),
    )
}

/// The next of `script.steps` as a `tool_use`, or the fenced answer once all were answered.
fn anthropic_step(
    script: &Script,
    side_call: bool,
    answered: usize,
) -> (Vec<serde_json::Value>, &'static str) {
    if side_call {
        return (
            vec![serde_json::json!({"type": "text", "text": "Scripted side answer"})],
            "end_turn",
        );
    }
    match script.steps.get(answered) {
        Some(step) => (
            vec![
                serde_json::json!({"type": "tool_use", "id": format!("toolu_step_{answered}"),
                "name": step["name"], "input": step["input"]}),
            ],
            "tool_use",
        ),
        None => (
            vec![serde_json::json!({"type": "text",
            "text": format!("Here is my review.\n\n```json\n{}\n```\n", script.answer)})],
            "end_turn",
        ),
    }
}

fn gemini(
    out: &mut TcpStream,
    body: &serde_json::Value,
    script: &Script,
    route: &str,
    stream: bool,
) -> std::io::Result<()> {
    let contents = body["contents"].as_array().cloned().unwrap_or_default();
    let done = contents
        .iter()
        .flat_map(|c| c["parts"].as_array().cloned().unwrap_or_default())
        .any(|p| p.get("functionResponse").is_some());
    let decls: Vec<String> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| {
            t["functionDeclarations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|d| d["name"].as_str().map(String::from))
        .collect();
    let model = route
        .split("/models/")
        .nth(1)
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("");
    let responses = contents
        .iter()
        .flat_map(|c| c["parts"].as_array().cloned().unwrap_or_default())
        .filter(|p| p.get("functionResponse").is_some())
        .count();
    let parts = if !decls.is_empty() && responses < script.steps.len() {
        vec![serde_json::json!({"functionCall": script.steps[responses]})]
    } else if !decls.is_empty() && !script.steps.is_empty() {
        vec![
            serde_json::json!({"text": format!("Here is my review.\n\n```json\n{}\n```\n", script.answer)}),
        ]
    } else if decls.is_empty() {
        // Side calls (router, next speaker, summaries) get JSON-ish text.
        vec![
            serde_json::json!({"text": serde_json::json!({"reasoning": "scripted", "next_speaker": "user", "model_choice": "flash"}).to_string()}),
        ]
    } else if !done {
        vec![
            serde_json::json!({"text": "Let me read the changed file."}),
            serde_json::json!({"functionCall": {"name": "read_file", "args": {"file_path": script.file}}}),
        ]
    } else {
        vec![
            serde_json::json!({"text": format!("Here is my review.\n\n```json\n{}\n```\n", script.answer)}),
        ]
    };
    let resp = serde_json::json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 1200, "candidatesTokenCount": 50, "totalTokenCount": 1260, "cachedContentTokenCount": 200, "thoughtsTokenCount": 10},
        "modelVersion": model, "responseId": "gem_mock"});
    if !stream {
        return respond_json(out, 200, &resp);
    }
    sse_start(out)?;
    sse(out, None, &resp)
}
