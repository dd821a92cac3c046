//! deep-review as an ACP client, through the official SDK (`agent-client-protocol`, protocol
//! v1): `initialize` with file reads as the only capability, `session/new` in the reviewed
//! worktree with no MCP servers, one `session/prompt` with the brief, and the agent's
//! requests answered so that reading inside the reviewed tree is all it can do.
//!
//! - `fs/read_text_file` is served only through the one path guard
//!   ([`crate::tree_guard::ReviewedTree`]), with `line`/`limit`;
//! - `fs/write_text_file`, every `terminal/*`, elicitation and extension methods are refused
//!   (they are not advertised either, and are refused all the same when called);
//! - every `session/request_permission` is answered with a reject option, or cancelled.
//!
//! Each refusal is kept for the review's notes; `session/update` notifications give the answer
//! (agent message chunks), tool calls (by name or kind, files from their locations) and usage.

use super::super::stream::StreamSummary;
use super::super::RunEvent;
use crate::tree_guard::ReviewedTree;
use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::schema as acp;
use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::Agent;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;

/// What the conversation found, shared between the SDK's handlers and the adapter.
#[derive(Debug, Default)]
pub struct Findings {
    pub summary: StreamSummary,
    /// Tool call ids already counted.
    pub seen: std::collections::HashSet<String>,
    /// Each tool call's kind, for its updates.
    pub kinds: std::collections::HashMap<String, acp::ToolKind>,
    /// What was refused, one line each, for the review's notes.
    pub refused: Vec<String>,
    /// The agent's `stopReason`.
    pub stop_reason: Option<String>,
    /// How far the conversation got: "initialize", "session/new", "session/prompt", "done".
    pub stage: &'static str,
    /// The agent's working directory, for files named in tool calls.
    pub workdir: PathBuf,
}

/// Where the agent may read.
pub struct Tree {
    pub guard: ReviewedTree,
    /// The agent's working directory (absolute paths are taken relative to it).
    pub workdir: PathBuf,
}

impl Tree {
    /// The path relative to the reviewed tree, as the guard sees it.
    fn relative(&self, path: &Path) -> Result<String, crate::tree_guard::Refusal> {
        if path.is_relative() {
            return Ok(path.to_string_lossy().into_owned());
        }
        match self.guard.relative(path) {
            Ok(rel) => Ok(rel),
            // The agent may have resolved the folder's own symlinks (e.g. a temp dir).
            Err(e) => match std::fs::canonicalize(&self.workdir) {
                Ok(canon) if canon != self.workdir => path
                    .strip_prefix(&canon)
                    .map(|r| self.workdir.join(r))
                    .map_err(|_| e.clone())
                    .and_then(|p| self.guard.relative(&p)),
                _ => Err(e),
            },
        }
    }

    /// `fs/read_text_file`: the file's text through the guard, from `line` (1-based) for
    /// `limit` lines.
    pub fn read(
        &self,
        path: &Path,
        line: Option<u32>,
        limit: Option<u32>,
    ) -> Result<(String, String), crate::tree_guard::Refusal> {
        let rel = self.relative(path)?;
        let bytes = self.guard.read(&rel)?;
        let text = String::from_utf8_lossy(&bytes);
        let start = line.unwrap_or(1).max(1) as usize - 1;
        let text = if start == 0 && limit.is_none() {
            text.into_owned()
        } else {
            let lines = text.split_inclusive('\n').skip(start);
            match limit {
                Some(n) => lines.take(n as usize).collect(),
                None => lines.collect(),
            }
        };
        Ok((rel, text))
    }
}

/// The one conversation. Returns when the prompt turn ended (or the connection did).
pub async fn converse(
    transport: impl agent_client_protocol::ConnectTo<agent_client_protocol::Client> + 'static,
    prompt: String,
    tree: Arc<Tree>,
    found: Arc<Mutex<Findings>>,
    events: tokio::sync::mpsc::UnboundedSender<RunEvent>,
    agent: String,
    set_model: Option<String>,
) -> Result<(), agent_client_protocol::Error> {
    let requests = (Arc::clone(&tree), Arc::clone(&found));
    let updates = (Arc::clone(&found), events, agent);
    let main = Arc::clone(&found);
    let cwd = tree.workdir.clone();
    agent_client_protocol::Client
        .v1()
        .name("deep-review")
        .on_receive_request(
            async move |request: acp::AgentRequest, responder, _cx| {
                let (tree, found) = &requests;
                answer(request, responder, tree, found)
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_notification(
            async move |n: acp::SessionNotification, _cx| {
                let (found, events, agent) = &updates;
                on_update(n.update, found, events, agent);
                Ok(())
            },
            agent_client_protocol::on_receive_notification!(),
        )
        .connect_with(transport, async move |cx: ConnectionTo<Agent>| {
            session(cx, prompt, cwd, &main, set_model).await
        })
        .await
}

fn stage(found: &Mutex<Findings>, s: &'static str) {
    if let Ok(mut f) = found.lock() {
        f.stage = s;
    }
}

async fn session(
    cx: ConnectionTo<Agent>,
    prompt: String,
    cwd: PathBuf,
    found: &Mutex<Findings>,
    set_model: Option<String>,
) -> Result<(), agent_client_protocol::Error> {
    stage(found, "initialize");
    let capabilities = acp::ClientCapabilities::new()
        .fs(acp::FileSystemCapabilities::new()
            .read_text_file(true)
            .write_text_file(false))
        .terminal(false);
    cx.send_request(
        acp::InitializeRequest::new(ProtocolVersion::V1)
            .client_capabilities(capabilities)
            .client_info(acp::Implementation::new(
                "deep-review",
                env!("CARGO_PKG_VERSION"),
            )),
    )
    .block_task()
    .await?;
    stage(found, "session/new");
    // No MCP servers: the agent gets no tool from us but file reads.
    let session = cx
        .send_request(acp::NewSessionRequest::new(cwd))
        .block_task()
        .await?;
    if let Some(model) = set_model {
        set_model_option(&cx, &session, &model, found).await;
    }
    stage(found, "session/prompt");
    let response = cx
        .send_request(acp::PromptRequest::new(
            session.session_id.clone(),
            vec![acp::ContentBlock::Text(acp::TextContent::new(prompt))],
        ))
        .block_task()
        .await?;
    if let Ok(mut f) = found.lock() {
        f.stop_reason = serde_json::to_value(response.stop_reason)
            .ok()
            .and_then(|v| v.as_str().map(String::from));
        f.stage = "done";
    }
    Ok(())
}

/// The model, for an agent with no flag for it: through the session's `model` config option
/// when it offers one; otherwise a note says the agent's default was used.
async fn set_model_option(
    cx: &ConnectionTo<Agent>,
    session: &acp::NewSessionResponse,
    model: &str,
    found: &Mutex<Findings>,
) {
    let option = session.config_options.iter().flatten().find(|o| {
        serde_json::to_value(o)
            .ok()
            .is_some_and(|v| v["category"] == "model" || v["id"] == "model")
    });
    let Some(option) = option else {
        if let Ok(mut f) = found.lock() {
            f.refused.push(format!(
                "the agent offers no way to choose a model over ACP, so `{model}` was not applied; set it in the agent's own configuration"
            ));
        }
        return;
    };
    let id = option.id.clone();
    let request = acp::SetSessionConfigOptionRequest::new(
        session.session_id.clone(),
        id,
        acp::SessionConfigValueId::new(model.to_string()),
    );
    if cx.send_request(request).block_task().await.is_err() {
        if let Ok(mut f) = found.lock() {
            f.refused
                .push(format!("the agent did not accept the model `{model}`"));
        }
    }
}

fn refuse(found: &Mutex<Findings>, what: String) {
    if let Ok(mut f) = found.lock() {
        f.summary.denied.push(what.clone());
        f.refused.push(what);
    }
}

/// Answers one request from the agent.
fn answer(
    request: acp::AgentRequest,
    responder: agent_client_protocol::v1::Responder<serde_json::Value>,
    tree: &Tree,
    found: &Mutex<Findings>,
) -> Result<(), agent_client_protocol::Error> {
    let denied = |message: String| agent_client_protocol::Error::new(-32000, message);
    match request {
        acp::AgentRequest::ReadTextFileRequest(r) => match tree.read(&r.path, r.line, r.limit) {
            Ok((rel, content)) => {
                if let Ok(mut f) = found.lock() {
                    f.summary.files_read.insert(rel);
                }
                responder.respond(json(acp::ReadTextFileResponse::new(content)))
            }
            Err(why) => {
                let shown = r.path.display();
                // A file that is not there is an answer, not a refusal.
                if why != crate::tree_guard::Refusal::Missing {
                    refuse(found, format!("refused to read `{shown}`: it {why}"));
                }
                responder.respond_with_error(denied(format!(
                    "deep-review serves only regular files of the reviewed tree: `{shown}` {why}"
                )))
            }
        },
        acp::AgentRequest::WriteTextFileRequest(r) => {
            refuse(
                found,
                format!(
                    "refused to write `{}` (reviewers are read-only)",
                    r.path.display()
                ),
            );
            responder.respond_with_error(denied(
                "deep-review reviewers are read-only: fs/write_text_file is refused".into(),
            ))
        }
        acp::AgentRequest::CreateTerminalRequest(r) => {
            let line = std::iter::once(r.command.clone())
                .chain(r.args.iter().cloned())
                .collect::<Vec<_>>()
                .join(" ");
            refuse(found, format!("refused to run `{line}` (no terminal)"));
            responder.respond_with_error(denied(
                "deep-review gives reviewers no terminal: terminal/create is refused".into(),
            ))
        }
        acp::AgentRequest::RequestPermissionRequest(r) => {
            let title = r.tool_call.fields.title.clone().unwrap_or_default();
            refuse(found, format!("rejected the permission request `{title}`"));
            let reject = [
                acp::PermissionOptionKind::RejectOnce,
                acp::PermissionOptionKind::RejectAlways,
            ]
            .iter()
            .find_map(|k| r.options.iter().find(|o| o.kind == *k))
            .map(|o| o.option_id.clone());
            let outcome = match reject {
                Some(id) => {
                    acp::RequestPermissionOutcome::Selected(acp::SelectedPermissionOutcome::new(id))
                }
                None => acp::RequestPermissionOutcome::Cancelled,
            };
            responder.respond(json(acp::RequestPermissionResponse::new(outcome)))
        }
        other => {
            let method = agent_client_protocol::JsonRpcMessage::method(&other).to_string();
            refuse(found, format!("refused `{method}`"));
            responder.respond_with_error(denied(format!(
                "deep-review reviewers are read-only: `{method}` is refused"
            )))
        }
    }
}

fn json(v: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// One `session/update`.
fn on_update(
    update: acp::SessionUpdate,
    found: &Mutex<Findings>,
    events: &tokio::sync::mpsc::UnboundedSender<RunEvent>,
    agent: &str,
) {
    let Ok(mut f) = found.lock() else { return };
    match update {
        acp::SessionUpdate::AgentMessageChunk(chunk) => {
            if let acp::ContentBlock::Text(t) = chunk.content {
                f.summary
                    .final_text
                    .get_or_insert_with(String::new)
                    .push_str(&t.text);
            }
        }
        acp::SessionUpdate::ToolCall(call) => {
            let tool = tool_name(call.name.as_deref(), Some(&call.kind), &call.title);
            let paths = read_paths(Some(&call.kind), call.locations.iter());
            f.kinds.insert(call.tool_call_id.0.to_string(), call.kind);
            count(
                &mut f,
                call.tool_call_id.0.to_string(),
                &tool,
                &paths,
                events,
                agent,
            );
        }
        acp::SessionUpdate::ToolCallUpdate(u) => {
            let id = u.tool_call_id.0.to_string();
            let kind = u.fields.kind.or_else(|| f.kinds.get(&id).copied());
            let paths = read_paths(kind.as_ref(), u.fields.locations.iter().flatten());
            if f.seen.contains(&id) {
                let workdir = workdir_of(&f);
                for p in &paths {
                    f.summary.add_file(&p.to_string_lossy(), &workdir);
                }
            } else {
                let title = u.fields.title.clone().unwrap_or_default();
                let tool = tool_name(u.fields.name.as_deref(), u.fields.kind.as_ref(), &title);
                count(&mut f, id, &tool, &paths, events, agent);
            }
        }
        acp::SessionUpdate::UsageUpdate(u) => {
            if let Some(cost) = u.cost.filter(|c| c.currency.eq_ignore_ascii_case("USD")) {
                f.summary.cost_usd = Some(cost.amount);
            }
        }
        _ => {}
    }
}

fn workdir_of(f: &Findings) -> PathBuf {
    f.workdir.clone()
}

fn count(
    f: &mut Findings,
    id: String,
    tool: &str,
    paths: &[PathBuf],
    events: &tokio::sync::mpsc::UnboundedSender<RunEvent>,
    agent: &str,
) {
    f.seen.insert(id.clone());
    f.summary.count_tool(tool);
    let workdir = workdir_of(f);
    for p in paths {
        f.summary.add_file(&p.to_string_lossy(), &workdir);
    }
    let target = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let _ = events.send(RunEvent::ToolCall {
        agent: agent.to_string(),
        tool: tool.to_string(),
        target: Some(target).filter(|t| !t.is_empty()),
    });
}

/// The files a tool call read: its locations, when it is a read (an edit's locations are
/// what it would have written).
fn read_paths<'a>(
    kind: Option<&acp::ToolKind>,
    locations: impl Iterator<Item = &'a acp::ToolCallLocation>,
) -> Vec<PathBuf> {
    if kind != Some(&acp::ToolKind::Read) {
        return Vec::new();
    }
    locations.map(|l| l.path.clone()).collect()
}

/// A tool call's name for the retro: the agent's own tool name when it gives one, else its
/// ACP kind (`read`, `search`, `execute`, …), else the first word of its title.
fn tool_name(name: Option<&str>, kind: Option<&acp::ToolKind>, title: &str) -> String {
    if let Some(n) = name.filter(|n| !n.trim().is_empty()) {
        return n.trim().to_string();
    }
    let kind = kind
        .and_then(|k| serde_json::to_value(k).ok())
        .and_then(|v| v.as_str().map(String::from))
        .filter(|k| k != "other");
    kind.unwrap_or_else(|| {
        title
            .split_whitespace()
            .next()
            .unwrap_or("tool")
            .to_string()
    })
}
