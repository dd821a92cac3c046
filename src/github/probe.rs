//! Which inline comments GitHub will place, when it refused the batch.
//!
//! GitHub answers 422 to a whole review when one of its comments cannot be placed, without
//! saying which. deep-review validates every range against the diff before posting (see
//! [`super::plan::place_range`]), so this is rare: a diff that changed under the review, a
//! line GitHub resolves differently. Then the comments are probed as PR-Agent does, with
//! pending reviews: a review created without `event` stays PENDING (visible to nobody but
//! its author, notifying no one) and is deleted at once. Probing bisects: a half that GitHub
//! accepts is placeable as a whole, a refused half is split again, so one bad comment among
//! n costs about 2·log2(n) probes. GitHub allows one pending review per user and pull request,
//! so probes run one at a time, each deleted before the next.

use super::plan::Inline;
use super::Client;
use crate::errors::Result;
use crate::progress;

/// The verdict on each comment, in order: placeable or not.
pub async fn placeable(
    client: &Client,
    reviews_path: &str,
    head_sha: &str,
    inline: &[Inline],
) -> Result<Vec<bool>> {
    let mut ok = vec![false; inline.len()];
    // The whole batch was refused already: start from its halves.
    let mut ranges: Vec<(usize, usize)> = if inline.len() > 1 {
        let mid = inline.len() / 2;
        vec![(mid, inline.len()), (0, mid)]
    } else {
        Vec::new()
    };
    while let Some((from, to)) = ranges.pop() {
        match probe(client, reviews_path, head_sha, &inline[from..to]).await? {
            Probe::Placed => ok[from..to].iter_mut().for_each(|o| *o = true),
            Probe::Refused if to - from > 1 => {
                let mid = from + (to - from) / 2;
                ranges.push((mid, to));
                ranges.push((from, mid));
            }
            Probe::Refused => {}
            Probe::Impossible(why) => {
                progress::log(&format!(
                    "could not ask GitHub which comments it would place ({why}); the ones not yet known to be placeable go in the summary"
                ));
                break;
            }
        }
    }
    Ok(ok)
}

enum Probe {
    Placed,
    Refused,
    /// Probing cannot go on (a pending review already there, one that could not be deleted,
    /// even retried).
    Impossible(String),
}

/// Creates a pending review holding `comments`, and deletes it.
async fn probe(
    client: &Client,
    reviews_path: &str,
    head_sha: &str,
    comments: &[Inline],
) -> Result<Probe> {
    let comments: Vec<serde_json::Value> = comments.iter().map(Inline::json).collect();
    let body = serde_json::json!({"commit_id": head_sha, "comments": comments});
    let (status, v) = client
        .write(
            reqwest::Method::POST,
            reviews_path,
            &body,
            "ask GitHub where comments go (a pending review)",
        )
        .await?;
    if status == 422 {
        let text = v.to_string();
        if text.contains("one pending review") {
            return Ok(Probe::Impossible(
                "the token's account already has a pending review on this PR".into(),
            ));
        }
        return Ok(Probe::Refused);
    }
    if !(200..300).contains(&status) {
        return Ok(Probe::Impossible(format!(
            "a pending review was answered {status}"
        )));
    }
    let Some(id) = v["id"].as_u64() else {
        return Ok(Probe::Impossible("GitHub named no pending review".into()));
    };
    delete(client, &format!("{reviews_path}/{id}"), id).await
}

/// Deletes pending review `id`, retrying once. When it stays, probing stops (GitHub allows one
/// pending review, and ours would refuse the next probe) and the message names it and how to
/// delete it; the review itself still goes out.
async fn delete(client: &Client, path: &str, id: u64) -> Result<Probe> {
    let mut why = String::new();
    for attempt in 0..2 {
        match client.delete(path, "delete the pending review").await {
            Ok((status, _)) if (200..300).contains(&status) => return Ok(Probe::Placed),
            // The first DELETE was carried out and only its answer was lost.
            Ok((404, _)) if attempt > 0 => return Ok(Probe::Placed),
            Ok((status, _)) => why = format!("answered {status}"),
            Err(e) => why = e.to_string(),
        }
    }
    let at = path.trim_start_matches('/');
    Ok(Probe::Impossible(format!(
        "pending review {id} could not be deleted ({why}); it stays on the PR, seen only by the token's account, and GitHub refuses another pending review from it until it is gone: delete it on the PR page or with `gh api -X DELETE {at}`"
    )))
}
