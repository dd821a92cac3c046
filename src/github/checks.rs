//! The `deep-review` check run on the PR's head: a conclusion that branch protection can
//! require, the summary as its output, and one annotation per reported finding.
//!
//! One check run per head SHA: a new push is a new head, so a new check run; publishing the
//! same head again (a rerun) updates the one already there, which keeps the checks list to
//! one `deep-review` entry. GitHub appends the annotations of every update and offers no way
//! to withdraw one, so an update sends only the annotations not already on the check run
//! (read back first); an annotation whose finding disappeared on a rerun of the same head
//! stays until the next push.
//!
//! Only app tokens (Actions' `GITHUB_TOKEN`, a GitHub App) may write check runs; a personal
//! token gets 403, and then the same conclusion is set as a commit status (context
//! `deep-review`) instead, which says so on stderr.

use super::request::Request;
use super::request::Step;
use super::request::CHECK_RUN_ID;
use super::Client;
use super::PrTarget;
use crate::finding::Severity;
use crate::finding::Verdict;
use crate::progress;
use crate::review::Review;
use serde::Serialize;

/// The check run's (and the commit status's) name.
pub const CHECK_NAME: &str = "deep-review";

/// The Checks API takes at most 50 annotations a request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// GitHub's limit on the output's summary and text, in characters.
pub const OUTPUT_LIMIT: usize = 65535;

/// A commit status's description is at most 140 characters.
const STATUS_DESCRIPTION_LIMIT: usize = 140;

/// The check run publishing creates or updates.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRun {
    /// The `deep-review` check run already on the head, to update.
    pub existing: Option<u64>,
    /// `success`, `neutral` or `failure`.
    pub conclusion: &'static str,
    pub title: String,
    #[serde(skip)]
    pub summary: String,
    /// The annotations to send: those not already on the check run.
    #[serde(skip)]
    pub annotations: Vec<serde_json::Value>,
    /// Annotations already on the check run, not sent again.
    pub already_annotated: usize,
    /// Every annotation, for a new check run when the one on the head cannot be updated.
    #[serde(skip)]
    pub all_annotations: Vec<serde_json::Value>,
}

/// The conclusion and the output's title: `--fail-on` first (failure when a reported finding
/// is at or above it), then the verdict (merge: success; merge with fixes: neutral, or
/// success when `--fail-on` is set and nothing reached it; do not merge: failure). A review in
/// which no model reviewer answered has no verdict: neutral, with the reason.
pub fn conclusion(r: &Review, fail_on: Option<Severity>) -> (&'static str, String) {
    let counts = r.counts();
    let found = match counts.total() {
        0 => "no findings".to_string(),
        _ => counts.short(),
    };
    let Some(verdict) = r.verdict else {
        return ("neutral", "No model reviewer answered".into());
    };
    if let Some(t) = fail_on {
        let hits = r.reported().filter(|f| f.severity >= t).count();
        if hits > 0 {
            return (
                "failure",
                format!(
                    "{}: {hits} finding{} at or above {} ({found})",
                    verdict.title(),
                    if hits == 1 { "" } else { "s" },
                    t.as_str()
                ),
            );
        }
    }
    let conclusion = match verdict {
        Verdict::Merge => "success",
        Verdict::MergeWithFixes if fail_on.is_some() => "success",
        Verdict::MergeWithFixes => "neutral",
        Verdict::DoNotMerge => "failure",
    };
    (conclusion, format!("{} ({found})", verdict.title()))
}

/// The annotation level of a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "failure",
        Severity::Important => "warning",
        Severity::Suggestion => "notice",
    }
}

/// One annotation per reported finding with a verified location.
pub fn annotations(r: &Review) -> Vec<serde_json::Value> {
    r.reported()
        .filter_map(|f| {
            let l = f.locations.iter().find(|l| l.verified)?;
            let mut message = f.body.trim().to_string();
            if let Some(fix) = &f.fix {
                message.push_str(&format!("\n\nFix: {}", fix.trim()));
            }
            let title = format!("{} · {}: {}", f.id, f.severity.title(), f.title.trim());
            Some(serde_json::json!({
                "path": l.path,
                "start_line": l.start_line.max(1),
                "end_line": l.end_line.max(l.start_line).max(1),
                "annotation_level": level(f.severity),
                "title": truncate(&title, 255, "…"),
                "message": truncate(&message, OUTPUT_LIMIT, "…"),
            }))
        })
        .collect()
}

/// `text` cut to at most `limit` characters, ending with `tail` when cut.
pub fn truncate(text: &str, limit: usize, tail: &str) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let keep = limit.saturating_sub(tail.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(tail);
    out
}

/// What identifies an annotation already on the check run: where it is and what it says (not
/// its title, whose finding ID can change between runs).
fn key(a: &serde_json::Value) -> (String, u64, u64, String) {
    (
        a["path"].as_str().unwrap_or("").to_string(),
        a["start_line"].as_u64().unwrap_or(0),
        a["end_line"].as_u64().unwrap_or(0),
        a["message"].as_str().unwrap_or("").to_string(),
    )
}

/// Plans the check run: reads the `deep-review` check run already on the head (and its
/// annotations), if the token can.
pub async fn plan(
    client: &Client,
    t: &PrTarget,
    head_sha: &str,
    r: &Review,
    summary: &str,
    fail_on: Option<Severity>,
) -> CheckRun {
    let (conclusion, title) = conclusion(r, fail_on);
    let mut summary = format!(
        "**{}**\n\n{}",
        title,
        summary.replace(super::SUMMARY_MARKER, "").trim()
    );
    if r.verdict.is_none() {
        summary = format!(
            "**No model reviewer answered**: {}\n\n{summary}",
            r.verdict_rationale.trim()
        );
    }
    let mut run = CheckRun {
        existing: None,
        conclusion,
        title,
        summary: truncate(
            &summary,
            OUTPUT_LIMIT,
            "\n\n… (cut at GitHub's limit; the whole review is in the PR's summary review)",
        ),
        annotations: annotations(r),
        already_annotated: 0,
        all_annotations: Vec::new(),
    };
    run.all_annotations = run.annotations.clone();
    if !client.has_token() {
        return run;
    }
    match existing(client, t, head_sha).await {
        Ok(Some((id, there))) => {
            run.existing = Some(id);
            let before = run.annotations.len();
            run.annotations
                .retain(|a| !there.iter().any(|b| key(a) == key(b)));
            run.already_annotated = before - run.annotations.len();
        }
        Ok(None) => {}
        Err(why) => progress::log(&format!(
            "could not read the check runs on {head_sha} ({why}); a new one is created"
        )),
    }
    run
}

/// The `deep-review` check run on `head_sha` and its annotations, if there is one.
async fn existing(
    client: &Client,
    t: &PrTarget,
    head_sha: &str,
) -> Result<Option<(u64, Vec<serde_json::Value>)>, String> {
    let path = format!(
        "/repos/{}/{}/commits/{head_sha}/check-runs?check_name={CHECK_NAME}&filter=latest",
        t.owner, t.repo
    );
    let v: serde_json::Value = client
        .get(&path, "read the check runs")
        .await
        .map_err(|e| e.to_string())?;
    let Some(id) = v["check_runs"]
        .as_array()
        .and_then(|runs| runs.iter().find(|c| c["name"] == CHECK_NAME))
        .and_then(|c| c["id"].as_u64())
    else {
        return Ok(None);
    };
    let there: Vec<serde_json::Value> = client
        .get_all(
            &format!("/repos/{}/{}/check-runs/{id}/annotations", t.owner, t.repo),
            "read the check run's annotations",
            10_000,
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some((id, there)))
}

impl CheckRun {
    /// The same check run, to create anew with every annotation.
    pub fn fresh(&self) -> CheckRun {
        CheckRun {
            existing: None,
            annotations: self.all_annotations.clone(),
            already_annotated: 0,
            ..self.clone()
        }
    }

    /// The create (or update) request with the first 50 annotations, then one update per
    /// further 50.
    pub fn requests(&self, t: &PrTarget, head_sha: &str) -> Vec<Request> {
        let runs = format!("/repos/{}/{}/check-runs", t.owner, t.repo);
        let mut batches = self.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let output = |annotations: &[serde_json::Value]| serde_json::json!({"title": self.title, "summary": self.summary, "annotations": annotations});
        let first = batches.next().unwrap_or(&[]);
        let mut body = serde_json::json!({"name": CHECK_NAME, "status": "completed",
            "conclusion": self.conclusion, "output": output(first)});
        let (method, path) = match self.existing {
            Some(id) => ("PATCH", format!("{runs}/{id}")),
            None => {
                body["head_sha"] = serde_json::json!(head_sha);
                ("POST", runs.clone())
            }
        };
        let id = self
            .existing
            .map_or(CHECK_RUN_ID.to_string(), |id| id.to_string());
        let mut reqs = vec![Request {
            method,
            path,
            body,
            step: Step::CheckRun,
        }];
        for batch in batches {
            reqs.push(Request {
                method: "PATCH",
                path: format!("{runs}/{id}"),
                body: serde_json::json!({"output": output(batch)}),
                step: Step::CheckAnnotations,
            });
        }
        reqs
    }

    /// The commit status that stands in for the check run when the token may not write check
    /// runs. Commit statuses have no `neutral`: it is `success` (neutral does not block a
    /// required check either), said in the description.
    pub fn status(&self, t: &PrTarget, head_sha: &str) -> Request {
        let state = match self.conclusion {
            "failure" => "failure",
            _ => "success",
        };
        let description = match self.conclusion {
            "neutral" => format!("Neutral: {}", self.title),
            _ => self.title.clone(),
        };
        Request {
            method: "POST",
            path: format!("/repos/{}/{}/statuses/{head_sha}", t.owner, t.repo),
            body: serde_json::json!({"state": state, "context": CHECK_NAME,
                "description": truncate(&description, STATUS_DESCRIPTION_LIMIT, "…")}),
            step: Step::CheckRun,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_keeps_whole_characters_and_the_limit() {
        let s = "é".repeat(70_000);
        let cut = truncate(&s, OUTPUT_LIMIT, "…");
        assert_eq!(cut.chars().count(), OUTPUT_LIMIT);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short", 10, "…"), "short");
    }

    #[test]
    fn annotations_go_fifty_a_request_and_later_ones_name_the_new_check_run() {
        let run = CheckRun {
            existing: None,
            conclusion: "neutral",
            title: "t".into(),
            summary: "s".into(),
            annotations: (0..120).map(|i| serde_json::json!({"n": i})).collect(),
            already_annotated: 0,
            all_annotations: Vec::new(),
        };
        let t = PrTarget {
            owner: "o".into(),
            repo: "r".into(),
            number: 1,
            api: String::new(),
        };
        let reqs = run.requests(&t, "abc");
        let sizes: Vec<usize> = reqs
            .iter()
            .map(|r| r.body["output"]["annotations"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, vec![50, 50, 20]);
        assert_eq!(
            (reqs[0].method, reqs[0].body["head_sha"].as_str()),
            ("POST", Some("abc"))
        );
        assert_eq!(reqs[2].path, "/repos/o/r/check-runs/{check_run_id}");
        assert_eq!(
            reqs[2].body["output"]["title"], "t",
            "every update repeats the output"
        );
    }
}
