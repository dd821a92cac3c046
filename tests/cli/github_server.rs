//! A local GitHub REST API on 127.0.0.1 for `deep-review pr` tests: the endpoints deep-review
//! uses, with GitHub's response shapes, `Link` pagination, the diff media type, reviews and
//! review comments that persist across runs, and scripted failures (a 422 for comments on
//! one path, a 403 rate limit with X-RateLimit-Reset, a private repository, a review DELETE
//! that gets no answer).
//!
//! Review comments form threads (a reply names its thread's first comment in
//! `in_reply_to_id`), carry reactions (the `reactions` summary on each comment, the list at
//! `/repos/O/R/pulls/comments/ID/reactions`), and are served over `POST /graphql` too: the
//! `reviewThreads` query and the `resolveReviewThread` mutation, in GraphQL's `{"data": ..}`
//! wire format. Which threads GitHub considers outdated is the test's to say ([`State::outdated`]).
//!
//! Reviews are checked as GitHub checks them: a review (or comment) whose comment names a line
//! the diff does not show, or a multi-line range across two hunks, is refused whole with 422
//! and GitHub's body; a review created without `event` is PENDING (listed only to its
//! author, its comments nowhere), one per account at a time, and may be deleted.
//!
//! Check runs: listed for a ref (filtered by `check_name`), created, and updated with PATCH,
//! which replaces the output's title and summary and appends its annotations (at most 50 a
//! request, as GitHub requires); their annotations are listed at `.../annotations`. Only an
//! app token may write them: a personal token gets GitHub's 403. Commit statuses are set at
//! `/repos/O/R/statuses/SHA`.
//!
//! Each token is an account: `GET /user` names it (or answers 403 for an app token, as
//! GitHub does), what it posts carries it as `user`, and editing another account's review is
//! refused with 403.

use std::io::BufRead;
use std::io::BufReader;
use std::io::Read;
use std::io::Write;
use std::net::TcpListener;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::Mutex;

mod checks;
mod graphql;
mod reviews;

#[derive(Default)]
pub struct State {
    pub pr: serde_json::Value,
    pub commits: Vec<serde_json::Value>,
    pub files: Vec<serde_json::Value>,
    pub diff: String,
    pub reviews: Vec<serde_json::Value>,
    pub comments: Vec<serde_json::Value>,
    /// Review comments on this path are refused with 422.
    pub reject_path: Option<String>,
    /// Review comments ending on these lines (path, line) are refused with 422, as GitHub
    /// does when it resolves a line differently from the diff deep-review read.
    pub reject_lines: Vec<(String, u64)>,
    /// Answer the next request with a 403 rate limit.
    pub rate_limit_next: bool,
    /// The next this many `DELETE .../reviews/ID` get no answer (the connection is closed, a
    /// network error) and delete nothing.
    pub fail_review_deletes: u32,
    /// Without a token, everything is 404.
    pub private: bool,
    /// "METHOD path" of each request.
    pub log: Vec<String>,
    pub next_id: u64,
    /// The account behind each token; any other token is a user named [`DEFAULT_LOGIN`].
    pub accounts: Vec<(String, Account)>,
    /// Reactions on review comments: (comment id, reaction as GitHub returns it).
    pub reactions: Vec<(u64, serde_json::Value)>,
    /// First comments of threads GitHub marks outdated (the code under them changed).
    pub outdated: Vec<u64>,
    /// Node ids of the threads resolved.
    pub resolved: Vec<String>,
    /// Answer every GraphQL request with a FORBIDDEN error, as GitHub does for a token
    /// without access.
    pub graphql_forbidden: bool,
    /// Check runs, as GitHub returns them (`output.annotations_count` kept up to date).
    pub check_runs: Vec<serde_json::Value>,
    /// The annotations of each check run: (check run id, annotation), in the order sent.
    pub annotations: Vec<(u64, serde_json::Value)>,
    /// Commit statuses set: (sha, status).
    pub statuses: Vec<(String, serde_json::Value)>,
    /// The port the server listens on (set by [`GitHub::start`]).
    pub port: u16,
}

/// Who a token belongs to.
#[derive(Clone)]
pub struct Account {
    pub login: String,
    /// An app's installation token (or Actions' GITHUB_TOKEN): `GET /user` answers 403.
    pub app: bool,
}

pub const DEFAULT_LOGIN: &str = "reviewer-bot";

impl State {
    /// `login` replies on the thread of review comment `to`; returns the reply's id.
    pub fn reply(&mut self, to: u64, login: &str, body: &str) -> u64 {
        self.next_id += 1;
        let id = 2000 + self.next_id;
        let url = self.comment_url(id);
        self.comments.push(
            serde_json::json!({"id": id, "body": body, "in_reply_to_id": to,
            "user": {"login": login}, "html_url": url}),
        );
        id
    }

    /// `login` reacts to review comment `id` with `content` (`+1`, `-1`, `eyes`, ...).
    pub fn react(&mut self, id: u64, login: &str, content: &str) {
        self.next_id += 1;
        let reaction = serde_json::json!({"id": 5000 + self.next_id, "node_id": format!("REA_{}", self.next_id),
            "user": {"login": login, "type": "User"}, "content": content, "created_at": "2026-01-01T00:00:00Z"});
        self.reactions.push((id, reaction));
    }

    /// The server's own URL for a path under the repository.
    fn url_of(&self, rest: &str) -> String {
        format!(
            "http://127.0.0.1:{}/repos/{}{rest}",
            self.port,
            self.pr["base"]["repo"]["full_name"].as_str().unwrap_or("")
        )
    }

    fn comment_url(&self, id: u64) -> String {
        format!(
            "{}#discussion_r{id}",
            self.pr["html_url"].as_str().unwrap_or("")
        )
    }

    /// A review comment as the REST API lists it: with its `reactions` summary.
    fn listed(&self, c: &serde_json::Value) -> serde_json::Value {
        let id = c["id"].as_u64().unwrap_or(0);
        let mut summary = serde_json::json!({"url": "", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
            "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0});
        for (_, r) in self.reactions.iter().filter(|(on, _)| *on == id) {
            let content = r["content"].as_str().unwrap_or("");
            summary[content] = serde_json::json!(summary[content].as_u64().unwrap_or(0) + 1);
            summary["total_count"] =
                serde_json::json!(summary["total_count"].as_u64().unwrap_or(0) + 1);
        }
        let mut c = c.clone();
        c["reactions"] = summary;
        c
    }

    /// The PR's review threads in GraphQL's shape, one per first comment.
    fn threads(&self) -> Vec<serde_json::Value> {
        let node = |c: &serde_json::Value| {
            serde_json::json!({"author": c["user"].as_object().map(|_| serde_json::json!({"login": c["user"]["login"]})),
                "body": c["body"], "databaseId": c["id"], "url": c["html_url"]})
        };
        let pending = self.pending();
        self.comments
            .iter()
            .filter(|c| c["in_reply_to_id"].is_null())
            .filter(|c| {
                !c["pull_request_review_id"]
                    .as_u64()
                    .is_some_and(|r| pending.contains(&r))
            })
            .map(|first| {
                let id = first["id"].as_u64().unwrap_or(0);
                let thread = format!("PRRT_{id}");
                let mut nodes = vec![node(first)];
                nodes.extend(
                    self.comments
                        .iter()
                        .filter(|c| c["in_reply_to_id"].as_u64() == Some(id))
                        .map(node),
                );
                serde_json::json!({"id": thread, "isResolved": self.resolved.contains(&thread),
                    "isOutdated": self.outdated.contains(&id), "comments": {"nodes": nodes}})
            })
            .collect()
    }

    /// The new-file lines of each hunk of `path` in the PR's diff.
    fn hunks(&self, path: &str) -> Vec<Vec<u64>> {
        let mut out: Vec<Vec<u64>> = Vec::new();
        let mut in_file = false;
        let mut next = 0u64;
        for line in self.diff.lines() {
            if line.starts_with("diff --git ") {
                in_file = false;
            } else if let Some(name) = line.strip_prefix("+++ ") {
                in_file = name.strip_prefix("b/").unwrap_or(name) == path;
            } else if let (true, Some(rest)) = (in_file, line.strip_prefix("@@ ")) {
                let new = rest.split_whitespace().nth(1).unwrap_or("+0");
                next = new[1..]
                    .split(',')
                    .next()
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0);
                out.push(Vec::new());
            } else if let (true, Some(h)) = (in_file, out.last_mut()) {
                if line.starts_with('+') || line.starts_with(' ') {
                    h.push(next);
                    next += 1;
                }
            }
        }
        out
    }

    /// Why GitHub would refuse to place review comment `c`, if it would: its line not in the
    /// diff, a range across two hunks, or a path the test says to refuse.
    fn unplaceable(&self, c: &serde_json::Value) -> Option<&'static str> {
        let path = c["path"].as_str().unwrap_or("");
        let line = c["line"].as_u64()?;
        if self.reject_path.as_deref() == Some(path)
            || self
                .reject_lines
                .iter()
                .any(|(p, l)| p == path && *l == line)
        {
            return Some("Pull request review thread line must be part of the diff");
        }
        let start = c["start_line"].as_u64().unwrap_or(line);
        let hunks = self.hunks(path);
        let fits = hunks
            .iter()
            .any(|h| h.contains(&start) && h.contains(&line) && start <= line);
        (!fits).then_some("Line could not be resolved")
    }

    /// Ids of PENDING reviews.
    fn pending(&self) -> Vec<u64> {
        self.reviews
            .iter()
            .filter(|r| r["state"] == "PENDING")
            .filter_map(|r| r["id"].as_u64())
            .collect()
    }

    fn account(&self, token: &str) -> Account {
        self.accounts
            .iter()
            .find(|(t, _)| t == token)
            .map(|(_, a)| a.clone())
            .unwrap_or(Account {
                login: DEFAULT_LOGIN.into(),
                app: false,
            })
    }
}

pub struct GitHub {
    pub port: u16,
    pub state: Arc<Mutex<State>>,
}

/// Items per page, small so pagination is exercised.
pub(crate) const PAGE: usize = 2;

impl GitHub {
    pub fn start(state: State) -> GitHub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State { port, ..state }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let state = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = handle(stream, &state, port);
                });
            }
        });
        GitHub { port, state }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("lock"))
    }
}

pub(crate) fn respond(
    out: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        _ => "Other",
    };
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    )?;
    for (k, v) in headers {
        write!(out, "{k}: {v}\r\n")?;
    }
    write!(out, "\r\n{body}")?;
    out.flush()
}

pub(crate) fn json(out: &mut TcpStream, status: u16, v: &serde_json::Value) -> std::io::Result<()> {
    respond(
        out,
        status,
        &[("Content-Type".into(), "application/json".into())],
        &v.to_string(),
    )
}

pub(crate) fn paged(
    out: &mut TcpStream,
    port: u16,
    path: &str,
    query: &str,
    items: &[serde_json::Value],
) -> std::io::Result<()> {
    let page: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let start = (page - 1) * PAGE;
    let chunk: Vec<serde_json::Value> = items.iter().skip(start).take(PAGE).cloned().collect();
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    if start + PAGE < items.len() {
        headers.push((
            "Link".into(),
            format!(
                "<http://127.0.0.1:{port}{path}?per_page=100&page={}>; rel=\"next\"",
                page + 1
            ),
        ));
    }
    respond(
        out,
        200,
        &headers,
        &serde_json::Value::Array(chunk).to_string(),
    )
}

/// One HTTP request, read.
struct Incoming {
    method: String,
    path: String,
    query: String,
    accept: String,
    token: Option<String>,
    body: serde_json::Value,
}

fn read_request(stream: &TcpStream) -> std::io::Result<Incoming> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let full = parts.next().unwrap_or("").to_string();
    let (path, query) = full
        .split_once('?')
        .map(|(p, q)| (p.to_string(), q.to_string()))
        .unwrap_or((full.clone(), String::new()));
    let mut len = 0usize;
    let mut accept = String::new();
    let mut token: Option<String> = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if let Some(v) = lower.strip_prefix("accept:") {
            accept = v.trim().to_string();
        }
        if lower.starts_with("authorization: bearer ") {
            token = Some(h["authorization: bearer ".len()..].trim().to_string());
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    Ok(Incoming {
        method,
        path,
        query,
        accept,
        token,
        body,
    })
}

fn handle(stream: TcpStream, state: &Mutex<State>, port: u16) -> std::io::Result<()> {
    let Incoming {
        method,
        path,
        query,
        accept,
        token,
        body,
    } = read_request(&stream)?;
    let mut out = stream;
    let mut s = state.lock().expect("lock");
    s.log.push(format!("{method} {path}"));
    if method == "DELETE" && path.contains("/reviews/") && s.fail_review_deletes > 0 {
        s.fail_review_deletes -= 1;
        return Ok(());
    }
    if s.rate_limit_next {
        s.rate_limit_next = false;
        let reset = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            + 1;
        return respond(
            &mut out,
            403,
            &[
                ("X-RateLimit-Remaining".into(), "0".into()),
                ("X-RateLimit-Reset".into(), reset.to_string()),
                ("Content-Type".into(), "application/json".into()),
            ],
            r#"{"message":"API rate limit exceeded"}"#,
        );
    }
    if s.private && token.is_none() {
        return json(&mut out, 404, &serde_json::json!({"message": "Not Found"}));
    }
    let account = token.as_deref().map(|t| s.account(t));
    let user = serde_json::json!(account
        .as_ref()
        .map(|a| serde_json::json!({"login": a.login})));
    if path == "/user" && method == "GET" {
        return match &account {
            None => json(
                &mut out,
                401,
                &serde_json::json!({"message": "Requires authentication"}),
            ),
            Some(a) if a.app => json(
                &mut out,
                403,
                &serde_json::json!({"message": "Resource not accessible by integration"}),
            ),
            Some(a) => json(
                &mut out,
                200,
                &serde_json::json!({"login": a.login, "type": "User"}),
            ),
        };
    }
    if path == "/graphql" && method == "POST" {
        if account.is_none() {
            return json(
                &mut out,
                401,
                &serde_json::json!({"message": "This endpoint requires you to be authenticated."}),
            );
        }
        if s.graphql_forbidden {
            return json(
                &mut out,
                200,
                &serde_json::json!({"data": null, "errors": [{"type": "FORBIDDEN",
                    "message": "Resource not accessible by integration"}]}),
            );
        }
        return graphql::graphql(&mut out, &mut s, &body);
    }
    let reactions_of = path
        .strip_prefix(&format!(
            "/repos/{}/pulls/comments/",
            s.pr["base"]["repo"]["full_name"].as_str().unwrap_or("")
        ))
        .and_then(|r| r.strip_suffix("/reactions"))
        .and_then(|id| id.parse::<u64>().ok());
    if let (Some(id), "GET") = (reactions_of, method.as_str()) {
        return reactions(&mut out, &s, port, id, &path, &query);
    }
    let repo = format!(
        "/repos/{}",
        s.pr["base"]["repo"]["full_name"].as_str().unwrap_or("")
    );
    if let Some(rest) = path.strip_prefix(&repo) {
        let rest = rest.to_string();
        if let Some(r) = checks::checks(&mut out, &mut s, &method, &rest, &query, &body, &account) {
            return r;
        }
    }
    let number = s.pr["number"].as_u64().unwrap_or(0);
    let pulls = format!(
        "/repos/{}/pulls/{number}",
        s.pr["base"]["repo"]["full_name"].as_str().unwrap_or("")
    );
    if path == pulls && method == "GET" {
        if accept.contains("diff") {
            let d = s.diff.clone();
            return respond(
                &mut out,
                200,
                &[("Content-Type".into(), "text/plain".into())],
                &d,
            );
        }
        let pr = s.pr.clone();
        return json(&mut out, 200, &pr);
    }
    let rest = path.strip_prefix(&pulls).unwrap_or("").to_string();
    reviews::pulls(
        &mut out, &mut s, port, &method, &rest, &path, &query, &body, &user,
    )
}

/// The reactions on review comment `id`, filtered by `content=`.
fn reactions(
    out: &mut TcpStream,
    s: &State,
    port: u16,
    id: u64,
    path: &str,
    query: &str,
) -> std::io::Result<()> {
    if !s.comments.iter().any(|c| c["id"] == id) {
        return json(out, 404, &serde_json::json!({"message": "Not Found"}));
    }
    let content = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("content="))
        .map(|c| c.replace("%2B", "+"));
    let items: Vec<serde_json::Value> = s
        .reactions
        .iter()
        .filter(|(on, r)| *on == id && content.as_ref().is_none_or(|c| r["content"] == c.as_str()))
        .map(|(_, r)| r.clone())
        .collect();
    paged(out, port, path, query, &items)
}

/// GitHub's 422 body.
pub(crate) fn unprocessable(why: &str) -> serde_json::Value {
    serde_json::json!({"message": "Unprocessable Entity", "errors": [why],
        "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
        "status": "422"})
}
