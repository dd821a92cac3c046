//! Sending a [`Plan`]: the requests [`Plan::requests`] lists, in order, each answer read for
//! what its step needs.

use super::checks::CHECK_NAME;
use super::markdown::not_placed_section;
use super::plan::review_body;
use super::plan::Inline;
use super::plan::Plan;
use super::plan::Request;
use super::plan::Step;
use super::request::CHECK_RUN_ID;
use super::threads;
use super::Client;
use super::PrTarget;
use super::LOGIN_VAR;
use crate::errors::Error;
use crate::errors::Result;
use crate::progress;

/// What posting did, for the closing line.
#[derive(Debug, Default)]
struct Done {
    placed: usize,
    /// Inline comments GitHub would not place (listed in the body of the review instead).
    refused: Vec<Inline>,
    resolved: usize,
    /// The check run's id once created or updated; None when a commit status stands in.
    check_run: Option<String>,
}

/// The error for a write GitHub refused.
pub(super) fn refused_error(
    client: &Client,
    what: &str,
    status: u16,
    v: &serde_json::Value,
) -> Error {
    let message = v.get("message").and_then(|m| m.as_str()).unwrap_or("");
    Error::from(client.status_error(what, status, message.to_string(), "write pull requests"))
}

/// Sends one request; returns GitHub's status and answer.
pub(super) async fn send(
    client: &Client,
    req: &Request,
    what: &str,
) -> Result<(u16, serde_json::Value)> {
    let method =
        reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    Ok(client.write(method, &req.path, &req.body, what).await?)
}

/// Sends one request that must succeed.
async fn send_ok(client: &Client, req: &Request, what: &str) -> Result<serde_json::Value> {
    let (status, v) = send(client, req, what).await?;
    if !(200..300).contains(&status) {
        return Err(refused_error(client, what, status, &v));
    }
    Ok(v)
}

/// Publishes `plan`; returns a one-line account of what was done.
pub async fn post(client: &Client, t: &PrTarget, head_sha: &str, plan: Plan) -> Result<String> {
    let mut done = Done::default();
    for req in plan.requests(t, head_sha) {
        match req.step {
            Step::Review => review(client, &plan, &req, head_sha, &mut done).await?,
            Step::Summary => {
                send_ok(client, &req, "update the review").await?;
            }
            Step::CheckRun => check_run(client, t, head_sha, &plan, &req, &mut done).await?,
            Step::CheckAnnotations => {
                if let Some(id) = &done.check_run {
                    let more = Request {
                        path: req.path.replace(CHECK_RUN_ID, id),
                        ..req.clone()
                    };
                    send_ok(client, &more, "annotate the check run").await?;
                }
            }
            Step::Resolve(i) => {
                let r = &plan.resolve[i];
                // The plan's request, sent to the GraphQL endpoint beside this API.
                let answer = client
                    .write(
                        reqwest::Method::POST,
                        &client.graphql_url(),
                        &req.body,
                        "resolve a review thread",
                    )
                    .await
                    .map_err(|e| e.to_string());
                match answer.and_then(|(status, v)| threads::resolved(status, &v)) {
                    Ok(()) => done.resolved += 1,
                    Err(why) => progress::log(&format!(
                        "could not resolve the thread of fixed finding {} ({why}); resolve it by hand",
                        r.finding
                    )),
                }
            }
        }
    }
    for k in &plan.kept_open {
        progress::log(&format!(
            "the thread of fixed finding {} stays open: {}",
            k.finding,
            k.why.unwrap_or("")
        ));
    }
    Ok(closing_line(t, &plan, &done))
}

/// The review with the inline comments (the summary's on a first post, the round note's on a
/// later round), as one review. GitHub refuses the whole review (422) when one comment
/// cannot be placed; then see [`one_review_anyway`].
async fn review(
    client: &Client,
    plan: &Plan,
    req: &Request,
    head_sha: &str,
    done: &mut Done,
) -> Result<()> {
    let what = "post the review";
    let (status, v) = send(client, req, what).await?;
    let v = if status == 422 && !plan.inline.is_empty() {
        progress::log(&format!(
            "GitHub refused the review with its {} inline comment{} (422: {}); finding the ones it will place",
            plan.inline.len(),
            if plan.inline.len() == 1 { "" } else { "s" },
            v.get("errors").map(|e| e.to_string()).unwrap_or_default()
        ));
        one_review_anyway(client, plan, req, head_sha, done).await?
    } else if (200..300).contains(&status) {
        done.placed = plan.inline.len();
        v
    } else {
        return Err(refused_error(client, what, status, &v));
    };
    if let (None, Some(login)) = (&plan.posting_as, v["user"]["login"].as_str()) {
        progress::log(&format!(
            "the summary was posted as {login}; set {LOGIN_VAR}={login} so later runs edit it in place"
        ));
    }
    Ok(())
}

/// After GitHub refused the batch: the comments it will place are found (see
/// [`super::probe`]) and still go out as one review, the others listed in its body. Should
/// GitHub refuse that too (the PR changed meanwhile?), the summary goes alone with every
/// comment in it. Returns GitHub's answer for the review posted.
async fn one_review_anyway(
    client: &Client,
    plan: &Plan,
    req: &Request,
    head_sha: &str,
    done: &mut Done,
) -> Result<serde_json::Value> {
    let what = "post the review";
    let ok = super::probe::placeable(client, &req.path, head_sha, &plan.inline).await?;
    let (placed, refused): (Vec<&Inline>, Vec<&Inline>) = {
        let mut both = (Vec::new(), Vec::new());
        for (c, ok) in plan.inline.iter().zip(ok) {
            if ok {
                both.0.push(c)
            } else {
                both.1.push(c)
            }
        }
        both
    };
    for c in &refused {
        progress::log(&format!(
            "GitHub would not place {} on {}:{}; it goes in the summary",
            c.finding, c.path, c.line
        ));
    }
    let placed: Vec<Inline> = placed.into_iter().cloned().collect();
    // The summary on a first post, the round note on a later round.
    let text = req.body["body"].as_str().unwrap_or_default();
    let summary = format!("{text}{}", not_placed_section(&refused));
    let again = Request {
        body: review_body(head_sha, &summary, &placed),
        ..req.clone()
    };
    let (status, v) = send(client, &again, what).await?;
    let (v, placed) = if status == 422 && !placed.is_empty() {
        let all: Vec<&Inline> = plan.inline.iter().collect();
        let summary = format!("{text}{}", not_placed_section(&all));
        let alone = Request {
            body: review_body(head_sha, &summary, &[]),
            ..req.clone()
        };
        (send_ok(client, &alone, what).await?, Vec::new())
    } else if (200..300).contains(&status) {
        (v, placed)
    } else {
        return Err(refused_error(client, what, status, &v));
    };
    done.placed = placed.len();
    done.refused = plan
        .inline
        .iter()
        .filter(|c| !placed.iter().any(|p| p.finding == c.finding))
        .cloned()
        .collect();
    Ok(v)
}

/// Creates or updates the `deep-review` check run. A check run on the head that this token
/// may not update (another app's) is left alone, and a new one created. When the token may
/// not write check runs at all (a personal token: 403), the same conclusion is set as a
/// commit status instead, and said.
async fn check_run(
    client: &Client,
    t: &PrTarget,
    head_sha: &str,
    plan: &Plan,
    req: &Request,
    done: &mut Done,
) -> Result<()> {
    let Some(check) = &plan.check else {
        return Ok(());
    };
    let what = if check.existing.is_some() {
        "update the check run"
    } else {
        "create the check run"
    };
    let (status, v) = send(client, req, what).await?;
    if (200..300).contains(&status) {
        let id = v["id"].as_u64().map(|i| i.to_string());
        done.check_run = id.or(check.existing.map(|i| i.to_string()));
        log_check(check);
        return Ok(());
    }
    let message = v["message"].as_str().unwrap_or("no message").to_string();
    let (Some(theirs), 403) = (check.existing, status) else {
        return fall_back(client, t, head_sha, check, status, &v).await;
    };
    if message.contains("personal access token") {
        return fall_back(client, t, head_sha, check, status, &v).await;
    }
    progress::log(&format!(
        "the {CHECK_NAME} check run {theirs} on the head is not this token's to update (GitHub answered 403: {message}); a new one is created"
    ));
    // The plan's further batches were for that check run: this one sends its own.
    let fresh = check.fresh();
    let reqs = fresh.requests(t, head_sha);
    let (status, v) = send(client, &reqs[0], "create the check run").await?;
    if !(200..300).contains(&status) {
        return fall_back(client, t, head_sha, check, status, &v).await;
    }
    let id = v["id"].as_u64().unwrap_or(0).to_string();
    for more in &reqs[1..] {
        let more = Request {
            path: more.path.replace(CHECK_RUN_ID, &id),
            ..more.clone()
        };
        send_ok(client, &more, "annotate the check run").await?;
    }
    log_check(&fresh);
    Ok(())
}

fn log_check(check: &super::checks::CheckRun) {
    let n = check.annotations.len();
    progress::log(&format!(
        "check run {CHECK_NAME} {}: {} ({}), {n} annotation{} added, {} already there",
        if check.existing.is_some() {
            "updated"
        } else {
            "created"
        },
        check.conclusion,
        check.title,
        if n == 1 { "" } else { "s" },
        check.already_annotated
    ));
}

/// After GitHub refused the check run: a 403 sets the commit status instead; anything else
/// is an error.
async fn fall_back(
    client: &Client,
    t: &PrTarget,
    head_sha: &str,
    check: &super::checks::CheckRun,
    status: u16,
    v: &serde_json::Value,
) -> Result<()> {
    if status != 403 {
        return Err(refused_error(client, "write the check run", status, v));
    }
    let message = v["message"].as_str().unwrap_or("no message");
    let fallback = check.status(t, head_sha);
    let (status, w) = send(client, &fallback, "set the commit status").await?;
    if !(200..300).contains(&status) {
        // The review is posted; a missing gate is said, not fatal.
        progress::log(&format!(
            "could not set the {CHECK_NAME} check run (GitHub answered 403: {message}) nor the commit status instead (GitHub answered {status}: {}); give the token `checks: write` (an app token) or `statuses: write`",
            w["message"].as_str().unwrap_or("no message")
        ));
        return Ok(());
    }
    progress::log(&format!(
        "the token may not write check runs (GitHub answered 403: {message}; only app tokens such as Actions' GITHUB_TOKEN may), so the conclusion is commit status {CHECK_NAME} instead: {} ({})",
        fallback.body["state"].as_str().unwrap_or(""),
        check.title
    ));
    Ok(())
}

fn closing_line(t: &PrTarget, plan: &Plan, done: &Done) -> String {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "posted to {}#{}: summary {}, {} inline comment{}, {} already there, {} still open, {} in the summary only, {} thread{} resolved, {} held back{}",
        t.slug(),
        t.number,
        if plan.existing_summary.is_some() { "updated" } else { "created" },
        done.placed,
        s(done.placed),
        plan.already_posted.len(),
        plan.still_open.len(),
        plan.outside_diff.len() + done.refused.len(),
        done.resolved,
        s(done.resolved),
        plan.held_back.len(),
        match plan.ignored_markers.len() {
            0 => String::new(),
            n => format!(", {n} marker{} on the PR not trusted", s(n)),
        }
    )
}
