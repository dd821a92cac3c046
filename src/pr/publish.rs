//! Publishing a review on its pull request: the plan (which summary to edit, which inline
//! comments to post, which markers on the PR are ours) and the requests that carry it out.
//! `deep-review publish` runs only this, from the saved review folder.

use super::existing;
use super::existing::finding_marker;
use super::existing::IgnoredMarker;
use super::existing::SUMMARY_MARKER;
use super::threads;
use super::threads::converge;
use super::threads::our_threads;
pub use super::threads::HeldBack;
pub use super::threads::ThreadAction;
use super::PrError;
use crate::diff::FileDiff;
use crate::errors::exit_codes;
use crate::errors::Error;
use crate::errors::Result;
use crate::github;
use crate::github::Client;
use crate::github::PrTarget;
use crate::progress;
use crate::report;
use crate::review::ConsolidatedFinding;
use crate::review::LifecycleStatus;
use crate::review::Review;
use crate::run;

/// Where a saved PR review goes: written as `pr.json` beside review.json.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SavedPr {
    pub owner: String,
    pub repo: String,
    pub number: u64,
    pub api: String,
    pub head_sha: String,
}

/// Plans and (unless `dry_run`) posts; returns the plan's requests as JSON text.
pub(super) async fn publish_review(
    client: &Client,
    saved: &SavedPr,
    review: &Review,
    files: &[FileDiff],
    round_dir: &std::path::Path,
    dry_run: bool,
) -> Result<String> {
    let target = PrTarget {
        owner: saved.owner.clone(),
        repo: saved.repo.clone(),
        number: saved.number,
        api: saved.api.clone(),
    };
    let plan = plan(client, &target, review, files).await?;
    let text = serde_json::to_string_pretty(&plan.requests(&target, &saved.head_sha))
        .unwrap_or_default()
        + "\n";
    let plan_path = round_dir.join("github-plan.json");
    crate::artifacts::write(&plan_path, &text)?;
    if !dry_run {
        let outcome = post(client, &target, &saved.head_sha, plan).await?;
        progress::log(&outcome);
    }
    Ok(text)
}

/// `deep-review publish DIR`: posts a saved PR review (review.json, pr.json, diff.patch in
/// the round folder). It runs nothing from the PR: it only reads those files.
pub async fn publish(args: crate::cli::PublishArgs) -> Result<run::Outcome> {
    let review_json = crate::commands::find_review_json(&args.path)?;
    let round = review_json
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let read = |name: &str| -> Result<String> {
        let p = round.join(name);
        std::fs::read_to_string(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Usage(format!(
                "{} has no {name}; publish takes the folder of a `deep-review pr` review",
                round.display()
            )),
            _ => Error::io("read", &p, e),
        })
    };
    let saved_file = |name: &str, source| PrError::SavedFile {
        path: round.join(name),
        source,
    };
    let review: Review =
        serde_json::from_str(&read("review.json")?).map_err(|e| saved_file("review.json", e))?;
    let saved: SavedPr =
        serde_json::from_str(&read("pr.json")?).map_err(|e| saved_file("pr.json", e))?;
    let files = crate::diff::parse(&read("diff.patch")?);
    let token = github::discover_token();
    if token.is_none() && !args.dry_run {
        return Err(Error::Usage(
            "publish needs a token with write access: set GITHUB_TOKEN or GH_TOKEN (or use --dry-run)".into(),
        ));
    }
    let api = args.api_url.clone().unwrap_or_else(|| saved.api.clone());
    let client = Client::new(&api, token)?;
    let saved = SavedPr { api, ..saved };
    let text = publish_review(&client, &saved, &review, &files, &round, args.dry_run).await?;
    Ok(run::Outcome {
        report: if args.dry_run { text } else { String::new() },
        exit_code: exit_codes::OK,
    })
}

/// One inline comment to post.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inline {
    pub finding: String,
    pub path: String,
    pub start_line: Option<u32>,
    pub line: u32,
    pub body: String,
}

/// What publishing will do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The summary review to edit, if one exists.
    pub existing_summary: Option<u64>,
    pub summary: String,
    pub inline: Vec<Inline>,
    /// Findings already commented on (by fingerprint).
    pub already_posted: Vec<String>,
    /// Findings whose lines are not in the diff: they live in the summary only.
    pub outside_diff: Vec<String>,
    /// The account posting, when it could be learned.
    pub posting_as: Option<String>,
    /// deep-review markers other accounts wrote, which were not trusted.
    pub ignored_markers: Vec<IgnoredMarker>,
    /// Findings still open since an earlier round: they already have their thread (or their
    /// place in the summary), so they are not posted inline again.
    pub still_open: Vec<String>,
    /// Findings a human dismissed on their thread: not posted again.
    pub held_back: Vec<HeldBack>,
    /// Our threads whose finding was fixed, to resolve.
    pub resolve: Vec<ThreadAction>,
    /// Our threads whose finding was fixed but which stay open, and why.
    pub kept_open: Vec<ThreadAction>,
}

impl Plan {
    /// The exact requests publishing makes, for `--dry-run`.
    pub fn requests(&self, t: &PrTarget, head_sha: &str) -> serde_json::Value {
        let base = format!("/repos/{}/{}", t.owner, t.repo);
        let comments: Vec<serde_json::Value> = self.inline.iter().map(inline_json).collect();
        let mut reqs = Vec::new();
        match self.existing_summary {
            Some(id) => {
                reqs.push(serde_json::json!({"method": "PUT", "path": format!("{base}/pulls/{}/reviews/{id}", t.number), "body": {"body": self.summary}}));
                for c in &comments {
                    let mut c = c.clone();
                    c["commit_id"] = serde_json::json!(head_sha);
                    reqs.push(serde_json::json!({"method": "POST", "path": format!("{base}/pulls/{}/comments", t.number), "body": c}));
                }
            }
            None => reqs.push(serde_json::json!({"method": "POST", "path": format!("{base}/pulls/{}/reviews", t.number),
                "body": {"commit_id": head_sha, "event": "COMMENT", "body": self.summary, "comments": comments}})),
        }
        for r in &self.resolve {
            reqs.push(serde_json::json!({"method": "POST", "path": "/graphql",
                "body": {"query": threads::RESOLVE_MUTATION, "variables": {"threadId": r.thread}}}));
        }
        serde_json::json!({
            "requests": reqs,
            "already_posted": self.already_posted,
            "still_open": self.still_open,
            "outside_diff": self.outside_diff,
            "held_back": self.held_back,
            "resolve": self.resolve,
            "kept_open": self.kept_open,
            "posting_as": self.posting_as,
            "ignored_markers": self.ignored_markers,
        })
    }
}

fn inline_json(c: &Inline) -> serde_json::Value {
    let mut v =
        serde_json::json!({"path": c.path, "line": c.line, "side": "RIGHT", "body": c.body});
    if let Some(s) = c.start_line {
        v["start_line"] = serde_json::json!(s);
        v["start_side"] = serde_json::json!("RIGHT");
    }
    v
}

fn inline_body(r: &Review, f: &ConsolidatedFinding, fp: &str) -> String {
    let who: Vec<String> = f
        .severity_by_agent()
        .iter()
        .map(|(a, s)| format!("{} ({s})", r.agent_display(a)))
        .collect();
    let mut b = format!(
        "**{} · {}: {}**\n\n{}\n",
        f.id,
        f.severity.title(),
        f.title.trim(),
        f.body.trim()
    );
    if let Some(fix) = &f.fix {
        b.push_str(&format!("\n**Fix:** {}\n", fix.trim()));
    }
    b.push_str(&format!(
        "\n<sub>Found by {}. {}</sub>\n{}",
        who.join(", "),
        f.calibration.trim(),
        finding_marker(fp)
    ));
    b
}

/// The summary review's body: verdict, summary, the findings (with those not placed inline),
/// and the retro table, under the hidden marker.
pub fn summary_body(r: &Review, not_inline: &[String], held_back: &[HeldBack]) -> String {
    let mut b = format!(
        "{SUMMARY_MARKER}\n## deep-review: {}\n\n",
        r.verdict_title()
    );
    b.push_str(&format!("{}\n\n", r.verdict_rationale.trim()));
    b.push_str(r.summary.trim());
    b.push_str("\n\n");
    let reported: Vec<&ConsolidatedFinding> = r
        .reported()
        .filter(|f| !held_back.iter().any(|h| h.finding == f.id))
        .collect();
    if reported.is_empty() {
        b.push_str("No findings survived consolidation.\n\n");
    } else {
        b.push_str("| | Finding | Where | Found by |\n|---|---|---|---|\n");
        for f in &reported {
            let place = f
                .locations
                .iter()
                .find(|l| l.verified)
                .map(|l| format!("`{}:{}`", l.path, l.start_line))
                .unwrap_or_else(|| "—".into());
            b.push_str(&format!(
                "| **{}** | {} | {place} | {} |\n",
                f.id,
                f.title.replace('|', "\\|"),
                f.agents().join(", ")
            ));
        }
        b.push('\n');
    }
    let details: Vec<&&ConsolidatedFinding> = reported
        .iter()
        .filter(|f| not_inline.contains(&f.id))
        .collect();
    if !details.is_empty() {
        b.push_str("### Findings outside the diff\n\n");
        for f in details {
            b.push_str(&format!(
                "**{} · {}: {}**\n\n{}\n\n",
                f.id,
                f.severity.title(),
                f.title.trim(),
                f.body.trim()
            ));
        }
    }
    if !held_back.is_empty() {
        b.push_str("### Held back\n\nDismissed on their thread, so not posted again:\n\n");
        for h in held_back {
            let how = match h.how {
                "thumbs_down" => "a 👎",
                _ => "a reply",
            };
            b.push_str(&format!(
                "- **{}** {} — dismissed by `{}` with {how} in [its thread]({})\n",
                h.finding,
                h.title.trim().replace('\n', " "),
                h.by.replace('`', "'"),
                h.url
            ));
        }
        b.push('\n');
    }
    b.push_str(&report::markdown::metrics_table(r));
    b.push_str(&format!(
        "\n<sub>{} · review {}</sub>\n",
        concat!("deep-review ", env!("CARGO_PKG_VERSION")),
        r.id
    ));
    b
}

/// Decides what to post, reading what is already on the PR: only the token's own account's
/// summary and comments count (see [`existing`]).
pub async fn plan(client: &Client, t: &PrTarget, r: &Review, files: &[FileDiff]) -> Result<Plan> {
    let base = format!("/repos/{}/{}/pulls/{}", t.owner, t.repo, t.number);
    let what = "read the PR's reviews and comments";
    let mut plan = Plan::default();
    let mut posted: Vec<String> = Vec::new();
    let mut account = None;
    let mut ours: Vec<threads::OurThread> = Vec::new();
    if client.has_token() {
        let who = github::account(client).await?;
        let reviews: Vec<github::Comment> = client
            .get_all(&format!("{base}/reviews"), what, 3000)
            .await?;
        let comments: Vec<github::Comment> = client
            .get_all(&format!("{base}/comments"), what, 10_000)
            .await?;
        let found = existing::sort(&who, &reviews, &comments);
        for line in existing::log_lines(&who, &found.ignored) {
            progress::log(&line);
        }
        plan.existing_summary = found.summary;
        plan.posting_as = who.login().map(str::to_string);
        plan.ignored_markers = found.ignored;
        // Our threads exist only where we have comments.
        if !found.ours.is_empty() {
            ours = our_threads(client, t, &who, &found.thumbs_down).await;
        }
        posted = found.ours;
        account = Some(who);
    }
    converge(&mut plan, r, &ours);
    // Still-open findings were posted by an earlier round (when one of our summaries is here).
    let earlier_posted = plan.existing_summary.is_some();
    for f in r.reported() {
        let fp = report::sarif::fingerprint(f);
        if plan.held_back.iter().any(|h| h.finding == f.id) {
            continue;
        }
        if posted.iter().any(|b| b.contains(&finding_marker(&fp))) {
            plan.already_posted.push(f.id.clone());
            continue;
        }
        let still_open = r
            .lifecycle_of(&f.id)
            .is_some_and(|l| l.status == LifecycleStatus::StillOpen);
        if still_open && earlier_posted {
            plan.still_open.push(f.id.clone());
            continue;
        }
        let Some(l) = f.locations.iter().find(|l| l.verified) else {
            plan.outside_diff.push(f.id.clone());
            continue;
        };
        let in_diff = files
            .iter()
            .find(|d| d.path() == l.path)
            .is_some_and(|d| d.shows_new_line(l.start_line) && d.shows_new_line(l.end_line));
        if !in_diff {
            plan.outside_diff.push(f.id.clone());
            continue;
        }
        plan.inline.push(Inline {
            finding: f.id.clone(),
            path: l.path.clone(),
            start_line: (l.end_line > l.start_line).then_some(l.start_line),
            line: l.end_line.max(l.start_line),
            body: inline_body(r, f, &fp),
        });
    }
    plan.summary = summary_body(r, &plan.outside_diff, &plan.held_back);
    if let Some(note) = account
        .as_ref()
        .and_then(|a| existing::summary_note(a, &plan.ignored_markers))
    {
        plan.summary.push_str(&note);
    }
    Ok(plan)
}

/// Publishes `plan`; returns a one-line account of what was done.
pub async fn post(client: &Client, t: &PrTarget, head_sha: &str, mut plan: Plan) -> Result<String> {
    let base = format!("/repos/{}/{}/pulls/{}", t.owner, t.repo, t.number);
    let fail = |what: &str, status: u16, v: &serde_json::Value| {
        let message = v.get("message").and_then(|m| m.as_str()).unwrap_or("");
        Error::from(client.status_error(what, status, message.to_string(), "write pull requests"))
    };
    let mut placed = 0usize;
    let mut rejected: Vec<String> = Vec::new();
    let review_id = match plan.existing_summary {
        None => {
            let comments: Vec<serde_json::Value> = plan.inline.iter().map(inline_json).collect();
            let body = serde_json::json!({"commit_id": head_sha, "event": "COMMENT", "body": plan.summary, "comments": comments});
            let (status, v) = client
                .write(
                    reqwest::Method::POST,
                    &format!("{base}/reviews"),
                    &body,
                    "post the review",
                )
                .await?;
            // One comment GitHub will not place sinks the whole review: then post the summary
            // alone, and the comments one by one below.
            let (status, v) = if status == 422 && !plan.inline.is_empty() {
                let body = serde_json::json!({"commit_id": head_sha, "event": "COMMENT", "body": plan.summary});
                client
                    .write(
                        reqwest::Method::POST,
                        &format!("{base}/reviews"),
                        &body,
                        "post the review",
                    )
                    .await?
            } else {
                if (200..300).contains(&status) {
                    placed = plan.inline.len();
                    plan.inline.clear();
                }
                (status, v)
            };
            if !(200..300).contains(&status) {
                return Err(fail("post the review", status, &v));
            }
            if let (None, Some(login)) = (&plan.posting_as, v["user"]["login"].as_str()) {
                progress::log(&format!(
                    "the summary was posted as {login}; set {}={login} so later runs edit it in place",
                    github::LOGIN_VAR
                ));
            }
            v.get("id").and_then(|i| i.as_u64())
        }
        Some(id) => {
            let (status, v) = client
                .write(
                    reqwest::Method::PUT,
                    &format!("{base}/reviews/{id}"),
                    &serde_json::json!({"body": plan.summary}),
                    "update the review",
                )
                .await?;
            if !(200..300).contains(&status) {
                return Err(fail("update the review", status, &v));
            }
            Some(id)
        }
    };
    for c in std::mem::take(&mut plan.inline) {
        let mut body = inline_json(&c);
        body["commit_id"] = serde_json::json!(head_sha);
        let (status, v) = client
            .write(
                reqwest::Method::POST,
                &format!("{base}/comments"),
                &body,
                "post an inline comment",
            )
            .await?;
        match status {
            200 | 201 => placed += 1,
            422 => {
                progress::log(&format!(
                    "GitHub would not place {} on {}:{}; it goes in the summary",
                    c.finding, c.path, c.line
                ));
                rejected.push(c.finding.clone());
            }
            _ => return Err(fail("post an inline comment", status, &v)),
        }
    }
    if !rejected.is_empty() {
        if let Some(id) = review_id {
            // The summary now carries the findings GitHub would not place.
            let mut not_inline = plan.outside_diff.clone();
            not_inline.extend(rejected.iter().cloned());
            let updated = summary_with_extra(&plan.summary, &not_inline);
            let (status, v) = client
                .write(
                    reqwest::Method::PUT,
                    &format!("{base}/reviews/{id}"),
                    &serde_json::json!({"body": updated}),
                    "update the review",
                )
                .await?;
            if !(200..300).contains(&status) {
                return Err(fail("update the review", status, &v));
            }
        }
    }
    let mut resolved = 0usize;
    for r in &plan.resolve {
        match threads::resolve(client, &r.thread).await {
            Ok(()) => resolved += 1,
            Err(why) => progress::log(&format!(
                "could not resolve the thread of fixed finding {} ({why}); resolve it by hand",
                r.finding
            )),
        }
    }
    for k in &plan.kept_open {
        progress::log(&format!(
            "the thread of fixed finding {} stays open: {}",
            k.finding,
            k.why.unwrap_or("")
        ));
    }
    Ok(format!(
        "posted to {}#{}: summary {}, {placed} inline comment{}, {} already there, {} still open, {} in the summary only, {resolved} thread{} resolved, {} held back{}",
        t.slug(),
        t.number,
        if plan.existing_summary.is_some() { "updated" } else { "created" },
        if placed == 1 { "" } else { "s" },
        plan.already_posted.len(),
        plan.still_open.len(),
        plan.outside_diff.len() + rejected.len(),
        if resolved == 1 { "" } else { "s" },
        plan.held_back.len(),
        match plan.ignored_markers.len() {
            0 => String::new(),
            n => format!(", {n} marker{} on the PR not trusted", if n == 1 { "" } else { "s" }),
        }
    ))
}

/// Appends a note listing findings that had to move into the summary.
fn summary_with_extra(summary: &str, ids: &[String]) -> String {
    format!(
        "{summary}\n<sub>Not placed inline (outside the diff or refused by GitHub): {}</sub>\n",
        ids.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_lists_the_resolve_mutations_and_what_was_held_back() {
        let plan = Plan {
            existing_summary: Some(5),
            summary: "s".into(),
            still_open: vec!["F2".into()],
            held_back: vec![HeldBack {
                finding: "F3".into(),
                title: "t".into(),
                by: "alice".into(),
                how: "reply",
                url: "https://github.com/o/r/pull/1#discussion_r9".into(),
            }],
            resolve: vec![ThreadAction {
                finding: "F1".into(),
                thread: "PRRT_1".into(),
                why: None,
            }],
            kept_open: vec![ThreadAction {
                finding: "F4".into(),
                thread: "PRRT_4".into(),
                why: Some("someone replied in it"),
            }],
            ..Plan::default()
        };
        let t = PrTarget {
            owner: "o".into(),
            repo: "r".into(),
            number: 1,
            api: "https://api.github.com".into(),
        };
        let v = plan.requests(&t, "abc");
        let reqs = v["requests"].as_array().unwrap();
        assert_eq!(reqs.len(), 2, "{v:#}");
        assert_eq!(reqs[0]["method"], "PUT");
        assert_eq!(reqs[1]["path"], "/graphql");
        assert_eq!(reqs[1]["body"]["variables"]["threadId"], "PRRT_1");
        assert!(reqs[1]["body"]["query"]
            .as_str()
            .unwrap()
            .contains("resolveReviewThread"));
        assert_eq!(v["still_open"], serde_json::json!(["F2"]));
        assert_eq!(
            v["held_back"][0]["url"],
            "https://github.com/o/r/pull/1#discussion_r9"
        );
        assert_eq!(v["kept_open"][0]["why"], "someone replied in it");
        assert!(v["resolve"][0].get("why").is_none());
    }

    #[test]
    fn graphql_lives_beside_the_rest_api() {
        let at = |api: &str| Client::new(api, None).unwrap().graphql_url();
        assert_eq!(
            at("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            at("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/api/graphql"
        );
    }
}
