//! What publishing will do, decided before anything is sent: which summary to edit, which
//! inline comments to post (and where), which markers on the PR are ours, which threads to
//! resolve. [`Plan::requests`] turns it into the exact requests: `--dry-run` prints them and
//! [`super::post`] sends them, so the two cannot disagree.

use super::account;
use super::checks::CheckRun;
use super::existing;
use super::existing::IgnoredMarker;
use super::markdown::inline_body;
use super::markdown::summary_body;
use super::markdown::Suggestion;
use super::threads;
use super::threads::converge;
use super::threads::our_threads;
use super::threads::HeldBack;
use super::threads::ThreadAction;
use super::Client;
use super::Comment;
use super::PrTarget;
use crate::diff::FileDiff;
use crate::errors::Result;
use crate::progress;
use crate::report;
use crate::review::ConsolidatedFinding;
use crate::review::LifecycleStatus;
use crate::review::Review;
use serde::Serialize;

pub use super::request::Request;
pub use super::request::Step;

/// One inline comment to post.
#[derive(Debug, Clone, Serialize)]
pub struct Inline {
    pub finding: String,
    pub path: String,
    pub start_line: Option<u32>,
    pub line: u32,
    pub body: String,
}

impl Inline {
    /// The comment as the reviews and comments endpoints take it (right side, multi-line
    /// when it has a start line).
    pub fn json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({"path": self.path, "line": self.line, "side": "RIGHT", "body": self.body});
        if let Some(s) = self.start_line {
            v["start_line"] = serde_json::json!(s);
            v["start_side"] = serde_json::json!("RIGHT");
        }
        v
    }
}

/// What publishing will do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The summary review to edit, if one exists.
    pub existing_summary: Option<u64>,
    pub summary: String,
    /// The body of the review that carries a later round's new inline comments (the summary
    /// is edited in place).
    pub round_note: String,
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
    /// The `deep-review` check run to create or update.
    pub check: Option<CheckRun>,
}

/// What planning needs besides the review.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub head_sha: String,
    /// The `--fail-on` threshold, for the check run's conclusion.
    pub fail_on: Option<crate::finding::Severity>,
    /// Whether planning may write (not a dry run): only to learn an app token's account with
    /// a pending review it deletes at once (see [`account::account`]).
    pub may_write: bool,
}

impl Plan {
    /// The requests publishing makes, in order.
    pub fn requests(&self, t: &PrTarget, head_sha: &str) -> Vec<Request> {
        let base = format!("/repos/{}/{}/pulls/{}", t.owner, t.repo, t.number);
        let mut reqs = Vec::new();
        match self.existing_summary {
            Some(id) => {
                reqs.push(Request {
                    method: "PUT",
                    path: format!("{base}/reviews/{id}"),
                    body: serde_json::json!({"body": self.summary}),
                    step: Step::Summary,
                });
                // This round's new comments: one review, one notification.
                if !self.inline.is_empty() {
                    reqs.push(Request {
                        method: "POST",
                        path: format!("{base}/reviews"),
                        body: review_body(head_sha, &self.round_note, &self.inline),
                        step: Step::Review,
                    });
                }
            }
            None => reqs.push(Request {
                method: "POST",
                path: format!("{base}/reviews"),
                body: review_body(head_sha, &self.summary, &self.inline),
                step: Step::Review,
            }),
        }
        for (i, r) in self.resolve.iter().enumerate() {
            reqs.push(Request {
                method: "POST",
                path: "/graphql".into(),
                body: threads::resolve_request(&r.thread),
                step: Step::Resolve(i),
            });
        }
        if let Some(check) = &self.check {
            reqs.extend(check.requests(t, head_sha));
        }
        reqs
    }

    /// What `--dry-run` prints and `github-plan.json` holds: the requests and why each
    /// finding is (or is not) among them.
    pub fn dry_run(&self, t: &PrTarget, head_sha: &str) -> serde_json::Value {
        serde_json::json!({
            "requests": self.requests(t, head_sha),
            "already_posted": self.already_posted,
            "still_open": self.still_open,
            "outside_diff": self.outside_diff,
            "held_back": self.held_back,
            "resolve": self.resolve,
            "kept_open": self.kept_open,
            "posting_as": self.posting_as,
            "ignored_markers": self.ignored_markers,
            "check_run": self.check,
            // Sent instead of the check run when GitHub answers 403 (a personal token).
            "check_run_fallback": self.check.as_ref().map(|c| c.status(t, head_sha)),
        })
    }
}

/// A submitted review (`event: COMMENT`) with its body and inline comments.
pub fn review_body(head_sha: &str, summary: &str, inline: &[Inline]) -> serde_json::Value {
    let comments: Vec<serde_json::Value> = inline.iter().map(Inline::json).collect();
    serde_json::json!({"commit_id": head_sha, "event": "COMMENT", "body": summary, "comments": comments})
}

/// What is already on the PR that publishing reads: only the token's own account's summary
/// and comments count (see [`existing`]).
#[derive(Default)]
struct OnThePr {
    account: Option<account::Account>,
    /// The bodies of our earlier review comments.
    posted: Vec<String>,
    ours: Vec<threads::OurThread>,
}

async fn read_the_pr(
    client: &Client,
    t: &PrTarget,
    may_write: bool,
    plan: &mut Plan,
) -> Result<OnThePr> {
    let mut on = OnThePr::default();
    if !client.has_token() {
        return Ok(on);
    }
    let base = format!("/repos/{}/{}/pulls/{}", t.owner, t.repo, t.number);
    let what = "read the PR's reviews and comments";
    let who = account::account(client, t, may_write).await?;
    let reviews: Vec<Comment> = client
        .get_all(&format!("{base}/reviews"), what, 3000)
        .await?;
    let comments: Vec<Comment> = client
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
        on.ours = our_threads(client, t, &who, &found.thumbs_down).await;
    }
    on.posted = found.ours;
    on.account = Some(who);
    Ok(on)
}

/// Decides what to post, reading what is already on the PR.
pub async fn plan(
    client: &Client,
    t: &PrTarget,
    r: &Review,
    files: &[FileDiff],
    opts: &Options,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let on = read_the_pr(client, t, opts.may_write, &mut plan).await?;
    converge(&mut plan, r, &on.ours);
    // Still-open findings were posted by an earlier round (when one of our summaries is here).
    let earlier_posted = plan.existing_summary.is_some();
    for f in r.reported() {
        let fp = report::sarif::fingerprint(f);
        if plan.held_back.iter().any(|h| h.finding == f.id) {
            continue;
        }
        if on
            .posted
            .iter()
            .any(|b| super::threads::marker_fingerprint(b) == Some(fp.as_str()))
        {
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
        let (placed, suggestion) = match suggestion_place(f, files) {
            Some(p) => (Some(p), Suggestion::Committable),
            None if f.replacement.is_some() => (place(f, files), Suggestion::Shown),
            None => (place(f, files), Suggestion::None),
        };
        match placed {
            Some(p) => plan.inline.push(Inline {
                finding: f.id.clone(),
                path: p.path,
                start_line: p.start_line,
                line: p.line,
                body: inline_body(r, f, &fp, suggestion),
            }),
            None => plan.outside_diff.push(f.id.clone()),
        }
    }
    plan.summary = summary_body(r, &plan.outside_diff, &plan.held_back);
    plan.round_note = super::markdown::round_note(r, plan.inline.len());
    if let Some(note) = on
        .account
        .as_ref()
        .and_then(|a| existing::summary_note(a, &plan.ignored_markers))
    {
        plan.summary.push_str(&note);
    }
    plan.check =
        Some(super::checks::plan(client, t, &opts.head_sha, r, &plan.summary, opts.fail_on).await);
    Ok(plan)
}

/// Where an inline comment goes on the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub path: String,
    pub start_line: Option<u32>,
    pub line: u32,
}

/// Where a finding's comment goes: on its first verified location, when the diff shows both
/// its ends; None puts it in the summary.
pub fn place(f: &ConsolidatedFinding, files: &[FileDiff]) -> Option<Place> {
    let l = f.locations.iter().find(|l| l.verified)?;
    place_range(files, &l.path, l.start_line, l.end_line)
}

/// Where a finding's committable suggestion goes: exactly on its replacement's lines, which
/// must lie within one hunk (GitHub applies a suggestion to the commented lines, and places a
/// multi-line comment only within a hunk); None when they do not.
pub fn suggestion_place(f: &ConsolidatedFinding, files: &[FileDiff]) -> Option<Place> {
    let rep = f.replacement.as_ref()?;
    let d = files.iter().find(|d| d.path() == rep.path)?;
    if rep.start_line == 0 || rep.end_line < rep.start_line {
        return None;
    }
    d.hunk_spanning(rep.start_line, rep.end_line)?;
    Some(Place {
        path: rep.path.clone(),
        start_line: (rep.end_line > rep.start_line).then_some(rep.start_line),
        line: rep.end_line,
    })
}

/// Where a comment on `path` lines `start..=end` goes. GitHub places a multi-line comment
/// only within one hunk, and refuses the whole review otherwise: a range across two hunks
/// becomes a single-line comment on its last line.
pub fn place_range(files: &[FileDiff], path: &str, start: u32, end: u32) -> Option<Place> {
    let d = files.iter().find(|d| d.path() == path)?;
    let (start, end) = (start.min(end), start.max(end));
    if !(d.shows_new_line(start) && d.shows_new_line(end)) {
        return None;
    }
    let one_hunk = start == end || d.hunk_spanning(start, end).is_some();
    Some(Place {
        path: path.to_string(),
        start_line: (one_hunk && end > start).then_some(start),
        line: end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_across_two_hunks_goes_on_its_last_line() {
        let diff = "diff --git a/f.rs b/f.rs\n--- a/f.rs\n+++ b/f.rs\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n@@ -20,3 +20,3 @@\n t\n-u\n+U\n v\n";
        let files = crate::diff::parse(diff);
        let at = |s, e| place_range(&files, "f.rs", s, e).map(|p| (p.start_line, p.line));
        assert_eq!(at(1, 3), Some((Some(1), 3)), "within one hunk");
        assert_eq!(at(3, 1), Some((Some(1), 3)), "ends in either order");
        assert_eq!(at(2, 2), Some((None, 2)));
        assert_eq!(
            at(2, 21),
            Some((None, 21)),
            "two hunks: the last line alone"
        );
        assert_eq!(at(2, 10), None, "line 10 is not in the diff");
        assert_eq!(place_range(&files, "g.rs", 1, 1), None);
    }
}
