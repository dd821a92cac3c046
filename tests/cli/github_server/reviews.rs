//! The local server's pull request endpoints: commits, files, reviews (submitted and
//! pending, placed only where the diff shows their lines) and review comments.

use super::json;
use super::paged;
use super::unprocessable;
use super::State;
use std::net::TcpStream;

/// `/repos/O/R/pulls/N{rest}`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pulls(
    out: &mut TcpStream,
    s: &mut State,
    port: u16,
    method: &str,
    rest: &str,
    path: &str,
    query: &str,
    body: &serde_json::Value,
    user: &serde_json::Value,
) -> std::io::Result<()> {
    match (method, rest) {
        ("GET", "/commits") => {
            let items = s.commits.clone();
            paged(out, port, path, query, &items)
        }
        ("GET", "/files") => {
            let items = s.files.clone();
            paged(out, port, path, query, &items)
        }
        ("GET", "/reviews") => {
            // A pending review is listed to its author only.
            let items: Vec<serde_json::Value> = s
                .reviews
                .iter()
                .filter(|r| r["state"] != "PENDING" || r["user"] == *user)
                .cloned()
                .collect();
            paged(out, port, path, query, &items)
        }
        ("GET", "/comments") => {
            let pending = s.pending();
            let items: Vec<serde_json::Value> = s
                .comments
                .iter()
                .filter(|c| {
                    !c["pull_request_review_id"]
                        .as_u64()
                        .is_some_and(|r| pending.contains(&r))
                })
                .map(|c| s.listed(c))
                .collect();
            paged(out, port, path, query, &items)
        }
        ("POST", "/reviews") => create_review(out, s, body, user),
        ("DELETE", r) if r.starts_with("/reviews/") => {
            delete_review(out, s, r["/reviews/".len()..].parse().unwrap_or(0), user)
        }
        ("POST", "/comments") => {
            if body["in_reply_to"].is_null() {
                if let Some(why) = s.unplaceable(body) {
                    return json(out, 422, &unprocessable(why));
                }
            }
            s.next_id += 1;
            let mut c = body.clone();
            c["id"] = serde_json::json!(2000 + s.next_id);
            c["user"] = user.clone();
            c["html_url"] = serde_json::json!(s.comment_url(2000 + s.next_id));
            if let Some(to) = body["in_reply_to"].as_u64() {
                c["in_reply_to_id"] = serde_json::json!(to);
            }
            s.comments.push(c.clone());
            json(out, 201, &c)
        }
        ("PUT", r) if r.starts_with("/reviews/") => {
            let id: u64 = r["/reviews/".len()..].parse().unwrap_or(0);
            match s.reviews.iter_mut().find(|x| x["id"] == id) {
                Some(x) if x["user"] != *user => json(
                    out,
                    403,
                    &serde_json::json!({"message": "Resource not accessible by integration"}),
                ),
                Some(x) => {
                    x["body"] = body["body"].clone();
                    let v = x.clone();
                    json(out, 200, &v)
                }
                None => json(out, 404, &serde_json::json!({"message": "Not Found"})),
            }
        }
        _ => json(
            out,
            404,
            &serde_json::json!({"message": "Not Found", "path": path}),
        ),
    }
}

/// `POST .../reviews`: refused whole (422) when a comment cannot be placed; without `event`
/// the review is PENDING, one per account at a time.
fn create_review(
    out: &mut TcpStream,
    s: &mut State,
    body: &serde_json::Value,
    user: &serde_json::Value,
) -> std::io::Result<()> {
    let comments = body["comments"].as_array().cloned().unwrap_or_default();
    if let Some(why) = comments.iter().find_map(|c| s.unplaceable(c)) {
        return json(out, 422, &unprocessable(why));
    }
    let pending = body["event"].is_null();
    if pending
        && s.reviews
            .iter()
            .any(|r| r["state"] == "PENDING" && r["user"] == *user)
    {
        return json(
            out,
            422,
            &unprocessable("User can only have one pending review per pull request"),
        );
    }
    s.next_id += 1;
    let id = 1000 + s.next_id;
    let state = if pending { "PENDING" } else { "COMMENTED" };
    let review = serde_json::json!({"id": id, "body": body["body"].as_str().unwrap_or(""), "state": state, "commit_id": body["commit_id"], "user": user});
    s.reviews.push(review.clone());
    for c in comments {
        s.next_id += 1;
        let mut c = c.clone();
        c["id"] = serde_json::json!(2000 + s.next_id);
        c["pull_request_review_id"] = serde_json::json!(id);
        c["user"] = user.clone();
        c["html_url"] = serde_json::json!(s.comment_url(2000 + s.next_id));
        s.comments.push(c);
    }
    json(out, 200, &review)
}

/// `DELETE .../reviews/ID`: only the author's own pending review.
fn delete_review(
    out: &mut TcpStream,
    s: &mut State,
    id: u64,
    user: &serde_json::Value,
) -> std::io::Result<()> {
    let Some(at) = s.reviews.iter().position(|x| x["id"] == id) else {
        return json(out, 404, &serde_json::json!({"message": "Not Found"}));
    };
    if s.reviews[at]["user"] != *user {
        return json(
            out,
            403,
            &serde_json::json!({"message": "Resource not accessible by integration"}),
        );
    }
    if s.reviews[at]["state"] != "PENDING" {
        return json(
            out,
            422,
            &unprocessable("Can not delete a non-pending pull request review"),
        );
    }
    let review = s.reviews.remove(at);
    s.comments
        .retain(|c| c["pull_request_review_id"].as_u64() != Some(id));
    json(out, 200, &review)
}
