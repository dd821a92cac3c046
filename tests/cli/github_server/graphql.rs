//! The local server's GraphQL: review threads and resolving one.

use super::json;
use super::State;
use super::PAGE;
use std::net::TcpStream;

/// `POST /graphql`: the review threads query (paged by `after`, [`PAGE`] threads a page) and
/// the resolve mutation, answered as GitHub does (`data`, and `errors` for an unknown node).
pub(crate) fn graphql(
    out: &mut TcpStream,
    s: &mut State,
    body: &serde_json::Value,
) -> std::io::Result<()> {
    let query = body["query"].as_str().unwrap_or("");
    let vars = &body["variables"];
    if query.contains("resolveReviewThread") {
        let thread = vars["threadId"].as_str().unwrap_or("").to_string();
        if !s.threads().iter().any(|t| t["id"] == thread.as_str()) {
            return json(
                out,
                200,
                &serde_json::json!({"data": {"resolveReviewThread": null}, "errors": [{"type": "NOT_FOUND",
                    "path": ["resolveReviewThread"], "locations": [{"line": 1, "column": 30}],
                    "message": format!("Could not resolve to PullRequestReviewThread node with the global id of '{thread}'.")}]}),
            );
        }
        if !s.resolved.contains(&thread) {
            s.resolved.push(thread.clone());
        }
        return json(
            out,
            200,
            &serde_json::json!({"data": {"resolveReviewThread": {"thread": {"id": thread, "isResolved": true}}}}),
        );
    }
    if query.contains("reviewThreads") {
        let full = format!(
            "{}/{}",
            vars["owner"].as_str().unwrap_or(""),
            vars["name"].as_str().unwrap_or("")
        );
        if s.pr["base"]["repo"]["full_name"] != full.as_str() || s.pr["number"] != vars["number"] {
            return json(
                out,
                200,
                &serde_json::json!({"data": {"repository": null}, "errors": [{"type": "NOT_FOUND", "path": ["repository"],
                    "message": format!("Could not resolve to a Repository with the name '{full}'.")}]}),
            );
        }
        let all = s.threads();
        let start: usize = vars["cursor"]
            .as_str()
            .and_then(|c| c.strip_prefix("cursor:"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let nodes: Vec<serde_json::Value> = all.iter().skip(start).take(PAGE).cloned().collect();
        let end = start + nodes.len();
        return json(
            out,
            200,
            &serde_json::json!({"data": {"repository": {"pullRequest": {"reviewThreads": {
                "pageInfo": {"hasNextPage": end < all.len(), "endCursor": format!("cursor:{end}")},
                "nodes": nodes}}}}}),
        );
    }
    json(
        out,
        200,
        &serde_json::json!({"errors": [{"message": "the local GitHub server answers only reviewThreads and resolveReviewThread"}]}),
    )
}
