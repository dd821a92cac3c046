//! The local server's check runs (listed for a ref, created, updated with appended
//! annotations; app tokens only) and commit statuses.

use super::json;
use super::respond;
use super::unprocessable;
use super::Account;
use super::State;
use serde_json::json as j;
use serde_json::Value;
use std::net::TcpStream;

/// Annotations listed per page.
const ANNOTATIONS_PAGE: usize = 30;

/// The check runs and commit statuses endpoints under `/repos/O/R` (`rest` is the path after
/// it); None when `rest` is none of them.
pub(crate) fn checks(
    out: &mut TcpStream,
    s: &mut State,
    method: &str,
    rest: &str,
    query: &str,
    body: &Value,
    account: &Option<Account>,
) -> Option<std::io::Result<()>> {
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    };
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    Some(match (method, parts.as_slice()) {
        ("GET", ["commits", sha, "check-runs"]) => {
            let name = param("check_name");
            let mut runs: Vec<Value> = s
                .check_runs
                .iter()
                .filter(|c| c["head_sha"] == *sha)
                .filter(|c| name.as_ref().is_none_or(|n| c["name"] == n.as_str()))
                .cloned()
                .collect();
            runs.reverse();
            json(
                out,
                200,
                &j!({"total_count": runs.len(), "check_runs": runs}),
            )
        }
        ("GET", ["check-runs", id, "annotations"]) => {
            let page = param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            annotations(out, s, rest, id.parse().unwrap_or(0), page)
        }
        ("POST", ["check-runs"]) | ("PATCH", ["check-runs", _]) => match account {
            None => json(out, 401, &j!({"message": "Requires authentication"})),
            Some(a) if !a.app => json(
                out,
                403,
                &j!({"message": "Resource not accessible by personal access token",
                        "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run",
                        "status": "403"}),
            ),
            Some(a) => write_run(
                out,
                s,
                parts.get(1).map(|id| id.parse().unwrap_or(0)),
                body,
                a.login.trim_end_matches("[bot]"),
            ),
        },
        ("POST", ["statuses", sha]) => match account {
            None => json(out, 401, &j!({"message": "Requires authentication"})),
            Some(_) => set_status(out, s, sha, body),
        },
        _ => return None,
    })
}

/// `GET .../check-runs/ID/annotations`, paged with `Link`.
fn annotations(
    out: &mut TcpStream,
    s: &State,
    rest: &str,
    id: u64,
    page: usize,
) -> std::io::Result<()> {
    let items: Vec<Value> = s
        .annotations
        .iter()
        .filter(|(on, _)| *on == id)
        .map(|(_, a)| a.clone())
        .collect();
    let chunk: Vec<Value> = items
        .iter()
        .skip((page.max(1) - 1) * ANNOTATIONS_PAGE)
        .take(ANNOTATIONS_PAGE)
        .cloned()
        .collect();
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    if page * ANNOTATIONS_PAGE < items.len() {
        headers.push((
            "Link".into(),
            format!("<{}?page={}>; rel=\"next\"", s.url_of(rest), page + 1),
        ));
    }
    respond(out, 200, &headers, &Value::Array(chunk).to_string())
}

/// Creates a check run (`id` None) or updates one: the output's title and summary replaced,
/// its annotations appended, at most 50 a request and 65535 characters of summary. Only the
/// app (`slug`) that created a check run may update it.
fn write_run(
    out: &mut TcpStream,
    s: &mut State,
    id: Option<u64>,
    body: &Value,
    slug: &str,
) -> std::io::Result<()> {
    let annotations = body["output"]["annotations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let too_long = ["summary", "text"].iter().any(|k| {
        body["output"][k]
            .as_str()
            .is_some_and(|t| t.chars().count() > 65535)
    });
    if too_long {
        let why = "output.summary and output.text are at most 65535 characters";
        return json(out, 422, &unprocessable(why));
    }
    if annotations.len() > 50 {
        let why = "Only 50 annotations may be sent in a request";
        return json(out, 422, &unprocessable(why));
    }
    let id = match id {
        Some(id) => {
            let Some(run) = s.check_runs.iter_mut().find(|c| c["id"] == id) else {
                return json(out, 404, &j!({"message": "Not Found"}));
            };
            if run["app"]["slug"] != slug {
                let no = j!({"message": "Resource not accessible by integration"});
                return json(out, 403, &no);
            }
            for field in ["status", "conclusion", "name"] {
                if !body[field].is_null() {
                    run[field] = body[field].clone();
                }
            }
            if !body["output"].is_null() {
                run["output"]["title"] = body["output"]["title"].clone();
                run["output"]["summary"] = body["output"]["summary"].clone();
            }
            id
        }
        None => {
            if body["name"].is_null() || body["head_sha"].is_null() {
                return json(out, 422, &unprocessable("name and head_sha are required"));
            }
            s.next_id += 1;
            let id = 7000 + s.next_id;
            s.check_runs.push(
                j!({"id": id, "name": body["name"], "head_sha": body["head_sha"],
                "status": body["status"], "conclusion": body["conclusion"],
                "output": {"title": body["output"]["title"], "summary": body["output"]["summary"],
                    "annotations_count": 0},
                "app": {"slug": slug}}),
            );
            id
        }
    };
    s.annotations
        .extend(annotations.into_iter().map(|a| (id, a)));
    let count = s.annotations.iter().filter(|(on, _)| *on == id).count();
    let Some(run) = s.check_runs.iter_mut().find(|c| c["id"] == id) else {
        return json(out, 404, &j!({"message": "Not Found"}));
    };
    run["output"]["annotations_count"] = j!(count);
    let run = run.clone();
    json(
        out,
        if body["head_sha"].is_null() { 200 } else { 201 },
        &run,
    )
}

/// `POST .../statuses/SHA`: GitHub's four states, a description of at most 140 characters.
fn set_status(out: &mut TcpStream, s: &mut State, sha: &str, body: &Value) -> std::io::Result<()> {
    let state = body["state"].as_str().unwrap_or("");
    let long = body["description"]
        .as_str()
        .is_some_and(|d| d.chars().count() > 140);
    if !["error", "failure", "pending", "success"].contains(&state) || long {
        return json(out, 422, &unprocessable("Validation Failed"));
    }
    s.statuses.push((sha.to_string(), body.clone()));
    json(out, 201, body)
}
