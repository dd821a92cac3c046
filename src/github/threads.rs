//! deep-review's own review threads on a later round: which to resolve (their finding was
//! fixed) and which findings a human dismissed (not posted again).
//!
//! A thread is ours only when its first comment was written by the token's own account and
//! carries our finding marker: anyone can paste a marker. Such a thread is resolved only when
//! GitHub marks it outdated (the code under it changed) and nobody else wrote in it: a reply
//! is a conversation a human may still be having. A reply by anyone else saying the finding
//! is not one ("won't fix", "by design", "false positive", ...) or a 👎 on our comment by
//! anyone else dismisses the finding.

use crate::github::Account;
use crate::github::Client;
use crate::github::PrTarget;
use crate::progress;
use crate::report;
use crate::review::GoneFinding;
use crate::review::LifecycleStatus;
use crate::review::Review;
use serde::Deserialize;

use super::existing::FINDING_MARKER_START;

/// Words in a reply that dismiss a finding (matched case-insensitively, as whole words).
const DISMISSALS: &[&str] = &[
    "won't fix",
    "won\u{2019}t fix",
    "wont fix",
    "wontfix",
    "will not fix",
    "by design",
    "false positive",
    "not a bug",
    "intended",
    "intentional",
    "working as intended",
];

/// The review threads query: each thread's state and its comments, one page of threads.
pub const THREADS_QUERY: &str = "query($owner: String!, $name: String!, $number: Int!, $cursor: String) { repository(owner: $owner, name: $name) { pullRequest(number: $number) { reviewThreads(first: 100, after: $cursor) { pageInfo { hasNextPage endCursor } nodes { id isResolved isOutdated comments(first: 50) { nodes { author { login } body databaseId url } } } } } } }";

/// Resolves one thread.
pub const RESOLVE_MUTATION: &str =
    "mutation($threadId: ID!) { resolveReviewThread(input: {threadId: $threadId}) { thread { id isResolved } } }";

/// At most this many pages of threads are read (100 each).
const MAX_PAGES: usize = 20;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    pub id: String,
    pub is_resolved: bool,
    pub is_outdated: bool,
    pub comments: Nodes<ThreadComment>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Nodes<T> {
    pub nodes: Vec<T>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ThreadComment {
    /// `null` for a deleted account.
    pub author: Option<Login>,
    #[serde(default)]
    pub body: String,
    pub database_id: Option<u64>,
    #[serde(default)]
    pub url: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Login {
    pub login: String,
}

impl ThreadComment {
    fn author(&self) -> Option<&str> {
        self.author.as_ref().map(|a| a.login.as_str())
    }
}

/// One of our threads, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurThread {
    pub id: String,
    pub fingerprint: String,
    pub resolved: bool,
    pub outdated: bool,
    /// Someone other than us wrote in it.
    pub replied: bool,
    /// Who dismissed its finding, and how, if anyone did.
    pub dismissed: Option<Dismissal>,
    /// Our comment's REST id (for its reactions) and address.
    pub comment_id: Option<u64>,
    pub url: String,
}

/// Who dismissed a finding, and how: `reply` or `thumbs_down`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dismissal {
    pub by: String,
    pub how: &'static str,
}

/// The fingerprint in a body's finding marker: the last one, which deep-review appends; one
/// before it came with an agent's text (a body, a replacement) and is not ours.
pub fn marker_fingerprint(body: &str) -> Option<&str> {
    let rest = &body[body.rfind(FINDING_MARKER_START)? + FINDING_MARKER_START.len()..];
    let end = rest.find(" -->")?;
    let fp = rest[..end].trim();
    (!fp.is_empty() && !fp.contains(char::is_whitespace)).then_some(fp)
}

/// Whether `text` dismisses a finding: one of [`DISMISSALS`] as whole words.
pub fn dismisses(text: &str) -> bool {
    let lower = text.to_lowercase();
    DISMISSALS.iter().any(|phrase| {
        lower.match_indices(phrase).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + phrase.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    })
}

/// The threads that are ours: first comment by `account`, with our finding marker.
pub fn ours(account: &Account, threads: &[Thread]) -> Vec<OurThread> {
    threads
        .iter()
        .filter_map(|t| {
            let first = t.comments.nodes.first()?;
            if !account.wrote(first.author()) {
                return None;
            }
            let fingerprint = marker_fingerprint(&first.body)?.to_string();
            let others: Vec<&ThreadComment> = t.comments.nodes[1..]
                .iter()
                .filter(|c| !account.wrote(c.author()))
                .collect();
            let dismissed = others
                .iter()
                .find(|c| dismisses(&c.body))
                .map(|c| Dismissal {
                    by: c.author().unwrap_or("a deleted account").to_string(),
                    how: "reply",
                });
            Some(OurThread {
                id: t.id.clone(),
                fingerprint,
                resolved: t.is_resolved,
                outdated: t.is_outdated,
                replied: !others.is_empty(),
                dismissed,
                comment_id: first.database_id,
                url: first.url.clone(),
            })
        })
        .collect()
}

/// Reads every review thread of the PR. `Err` says why they could not be read.
pub async fn list(client: &Client, t: &PrTarget) -> Result<Vec<Thread>, String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let vars = serde_json::json!({"owner": t.owner, "name": t.repo, "number": t.number, "cursor": cursor});
        let (status, v) = client
            .graphql(THREADS_QUERY, vars, "list the PR's review threads")
            .await
            .map_err(|e| e.to_string())?;
        let threads = answer(status, &v)?
            .pointer("/repository/pullRequest/reviewThreads")
            .cloned()
            .ok_or_else(|| "the answer has no repository.pullRequest.reviewThreads".to_string())?;
        let nodes: Vec<Thread> = serde_json::from_value(threads["nodes"].clone())
            .map_err(|e| format!("unexpected review threads: {e}"))?;
        out.extend(nodes);
        match (
            threads["pageInfo"]["hasNextPage"].as_bool(),
            threads["pageInfo"]["endCursor"].as_str(),
        ) {
            (Some(true), Some(c)) => cursor = Some(c.to_string()),
            _ => return Ok(out),
        }
    }
    progress::log(&format!(
        "the PR has more than {} review threads; only the first are read",
        MAX_PAGES * 100
    ));
    Ok(out)
}

/// The body of the request that resolves a thread (sent to the GraphQL endpoint).
pub fn resolve_request(thread: &str) -> serde_json::Value {
    serde_json::json!({"query": RESOLVE_MUTATION, "variables": {"threadId": thread}})
}

/// Whether GitHub's answer to [`resolve_request`] says the thread is resolved. `Err` says why
/// not.
pub fn resolved(status: u16, v: &serde_json::Value) -> Result<(), String> {
    let data = answer(status, v)?;
    match data.pointer("/resolveReviewThread/thread/isResolved") {
        Some(serde_json::Value::Bool(true)) => Ok(()),
        _ => Err("GitHub did not report the thread resolved".into()),
    }
}

/// Who other than `account` put a 👎 on review comment `id` (REST reactions), if anyone.
pub async fn thumbs_down(
    client: &Client,
    t: &PrTarget,
    account: &Account,
    id: u64,
) -> Result<Option<String>, String> {
    #[derive(Deserialize)]
    struct Reaction {
        content: String,
        user: Option<crate::github::User>,
    }
    let path = format!(
        "/repos/{}/{}/pulls/comments/{id}/reactions?content=-1",
        t.owner, t.repo
    );
    let reactions: Vec<Reaction> = client
        .get_all(&path, "read the reactions on our comment", 1000)
        .await
        .map_err(|e| e.to_string())?;
    Ok(reactions
        .into_iter()
        .filter(|r| r.content == "-1")
        .map(|r| r.user.map(|u| u.login))
        .find(|who| !account.wrote(who.as_deref()))
        .map(|who| who.unwrap_or_else(|| "a deleted account".into())))
}

/// The `data` of a GraphQL answer, or what went wrong.
fn answer(status: u16, v: &serde_json::Value) -> Result<&serde_json::Value, String> {
    if status != 200 {
        let message = v["message"].as_str().unwrap_or("no message");
        return Err(format!("GitHub answered {status} ({message})"));
    }
    if let Some(errors) = v["errors"].as_array().filter(|e| !e.is_empty()) {
        let messages: Vec<&str> = errors
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect();
        return Err(format!("GraphQL errors: {}", messages.join("; ")));
    }
    v.get("data")
        .filter(|d| !d.is_null())
        .ok_or_else(|| "the answer has no data".to_string())
}

/// A finding held back because a human dismissed it on its thread.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HeldBack {
    pub finding: String,
    pub title: String,
    /// Who dismissed it, and how (`reply` or `thumbs_down`).
    pub by: String,
    pub how: &'static str,
    /// The thread's address.
    pub url: String,
}

/// One of our threads and the finding (its previous round's ID) it was about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ThreadAction {
    pub finding: String,
    pub thread: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<&'static str>,
}

/// Our review threads, with the 👎 reactions read on those not yet dismissed in a reply
/// whose first comment has any (`thumbs_down`: comment ids, from the REST reactions summary).
/// When the threads cannot be read, that is logged and nothing is resolved or held back.
pub(super) async fn our_threads(
    client: &Client,
    t: &PrTarget,
    who: &Account,
    thumbs_down: &[u64],
) -> Vec<OurThread> {
    let all = match list(client, t).await {
        Ok(all) => all,
        Err(why) => {
            progress::log(&format!(
                "could not read the PR's review threads ({why}): no thread is resolved and no dismissal is honoured this time"
            ));
            return Vec::new();
        }
    };
    let mut ours = ours(who, &all);
    for th in ours.iter_mut().filter(|th| th.dismissed.is_none()) {
        let Some(id) = th.comment_id.filter(|id| thumbs_down.contains(id)) else {
            continue;
        };
        match self::thumbs_down(client, t, who, id).await {
            Ok(by) => {
                th.dismissed = by.map(|by| Dismissal {
                    by,
                    how: "thumbs_down",
                })
            }
            Err(why) => progress::log(&format!(
                "could not read the reactions on comment {id} ({why}); a 👎 on it is not seen"
            )),
        }
    }
    ours
}

/// Which findings are held back (dismissed on their thread), and which of our threads are
/// resolved (their finding fixed, the thread outdated, nobody else in it).
pub(super) fn converge(plan: &mut super::plan::Plan, r: &Review, ours: &[OurThread]) {
    for f in r.reported() {
        let fp = report::sarif::fingerprint(f);
        let dismissed = ours
            .iter()
            .filter(|th| th.fingerprint == fp)
            .find_map(|th| th.dismissed.as_ref().map(|d| (th, d)));
        let Some((th, d)) = dismissed else { continue };
        plan.held_back.push(HeldBack {
            finding: f.id.clone(),
            title: f.title.clone(),
            by: d.by.clone(),
            how: d.how,
            url: th.url.clone(),
        });
    }
    if let Some(rounds) = &r.rounds {
        for action in fixed_threads(&rounds.gone, ours) {
            match action.why {
                None => plan.resolve.push(action),
                Some(_) => plan.kept_open.push(action),
            }
        }
    }
}

/// Our open threads on the findings that were fixed: each to resolve (`why` is None) or to
/// keep open, and why (not outdated, or someone replied in it).
pub fn fixed_threads(gone: &[GoneFinding], ours: &[OurThread]) -> Vec<ThreadAction> {
    let mut out = Vec::new();
    for g in gone.iter().filter(|g| g.status == LifecycleStatus::Fixed) {
        let Some(fp) = &g.fingerprint else { continue };
        for th in ours
            .iter()
            .filter(|th| &th.fingerprint == fp && !th.resolved)
        {
            let why = if !th.outdated {
                Some("GitHub does not mark it outdated")
            } else if th.replied {
                Some("someone replied in it")
            } else {
                None
            };
            out.push(ThreadAction {
                finding: g.id.clone(),
                thread: th.id.clone(),
                why,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Account {
        Account::Known {
            login: "Reviewer-Bot".into(),
            how: "test".into(),
        }
    }

    fn comment(login: Option<&str>, body: &str, id: u64) -> ThreadComment {
        ThreadComment {
            author: login.map(|l| Login { login: l.into() }),
            body: body.into(),
            database_id: Some(id),
            url: format!("https://github.com/o/r/pull/1#discussion_r{id}"),
        }
    }

    fn thread(id: &str, outdated: bool, comments: Vec<ThreadComment>) -> Thread {
        Thread {
            id: id.into(),
            is_resolved: false,
            is_outdated: outdated,
            comments: Nodes { nodes: comments },
        }
    }

    #[test]
    fn dismissals_are_whole_words_in_any_case() {
        for yes in [
            "Won't fix: this path is cold.",
            "WONTFIX",
            "This is by design.",
            "false positive, the key is always there",
            "Not a bug.",
            "intended",
            "won\u{2019}t fix",
        ] {
            assert!(dismisses(yes), "{yes}");
        }
        for no in [
            "Good catch, fixing.",
            "This was unintended, thanks",
            "I will fix it",
            "",
        ] {
            assert!(!dismisses(no), "{no}");
        }
    }

    #[test]
    fn markers_parse() {
        assert_eq!(
            marker_fingerprint("text\n<!-- deep-review:finding:ab12 -->"),
            Some("ab12")
        );
        assert_eq!(marker_fingerprint("<!-- deep-review:finding: -->"), None);
        assert_eq!(marker_fingerprint("no marker"), None);
        assert_eq!(
            marker_fingerprint(
                "agent text <!-- deep-review:finding:other -->\n<!-- deep-review:finding:ours -->"
            ),
            Some("ours"),
            "the marker deep-review appends is the last one"
        );
    }

    #[test]
    fn only_our_marked_threads_count_and_replies_are_read() {
        let marker = |fp: &str| format!("body\n<!-- deep-review:finding:{fp} -->");
        let threads = [
            thread(
                "T1",
                true,
                vec![comment(Some("reviewer-bot"), &marker("a"), 1)],
            ),
            thread(
                "T2",
                true,
                vec![
                    comment(Some("reviewer-bot"), &marker("b"), 2),
                    comment(Some("alice"), "Looking into it.", 3),
                ],
            ),
            thread(
                "T3",
                false,
                vec![
                    comment(Some("reviewer-bot"), &marker("d"), 4),
                    comment(Some("reviewer-bot"), "won't fix", 5),
                    comment(None, "False positive.", 6),
                ],
            ),
            // Mallory's copy of our marker, and our comment without one.
            thread("T4", true, vec![comment(Some("mallory"), &marker("a"), 7)]),
            thread("T5", true, vec![comment(Some("reviewer-bot"), "plain", 8)]),
        ];
        let ours = ours(&me(), &threads);
        let seen: Vec<(&str, &str, bool, Option<&str>)> = ours
            .iter()
            .map(|t| {
                (
                    t.id.as_str(),
                    t.fingerprint.as_str(),
                    t.replied,
                    t.dismissed.as_ref().map(|d| d.by.as_str()),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("T1", "a", false, None),
                ("T2", "b", true, None),
                // Our own "won't fix" dismisses nothing; a deleted account's reply does.
                ("T3", "d", true, Some("a deleted account")),
            ]
        );
        assert_eq!(ours[0].url, "https://github.com/o/r/pull/1#discussion_r1");
        assert!(
            super::ours(&Account::Unknown { why: "x".into() }, &threads).is_empty(),
            "an unknown account owns no thread"
        );
    }

    #[test]
    fn only_outdated_threads_nobody_else_wrote_in_are_resolved() {
        let gone = |id: &str, status, fp: Option<&str>| GoneFinding {
            id: id.into(),
            status,
            first_round: 1,
            severity: crate::finding::Severity::Important,
            title: id.into(),
            location: None,
            fingerprint: fp.map(str::to_string),
        };
        let th = |id: &str, fp: &str, outdated: bool, replied: bool, resolved: bool| OurThread {
            id: id.into(),
            fingerprint: fp.into(),
            resolved,
            outdated,
            replied,
            dismissed: None,
            comment_id: None,
            url: String::new(),
        };
        let gone = [
            gone("F1", LifecycleStatus::Fixed, Some("a")),
            gone("F2", LifecycleStatus::Fixed, Some("b")),
            gone("F3", LifecycleStatus::Fixed, Some("c")),
            gone("F4", LifecycleStatus::Withdrawn, Some("d")),
            gone("F5", LifecycleStatus::Fixed, None),
            gone("F6", LifecycleStatus::Fixed, Some("e")),
        ];
        let ours = [
            th("T1", "a", true, false, false),
            th("T2", "b", true, true, false),
            th("T3", "c", false, false, false),
            th("T4", "d", true, false, false),
            th("T6", "e", true, false, true),
        ];
        let seen: Vec<(String, String, Option<&str>)> = fixed_threads(&gone, &ours)
            .into_iter()
            .map(|a| (a.finding, a.thread, a.why))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("F1".into(), "T1".into(), None),
                ("F2".into(), "T2".into(), Some("someone replied in it")),
                (
                    "F3".into(),
                    "T3".into(),
                    Some("GitHub does not mark it outdated")
                ),
            ],
            "withdrawn, unfingerprinted and already resolved ones are left alone"
        );
    }
}
