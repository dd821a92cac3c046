//! `--post` trusts only the token's own account: deep-review's markers in reviews and
//! comments written by anyone else are ignored (and reported), never edited or counted.
//! Against the local GitHub API server, which refuses edits to another account's review
//! with 403 as GitHub does.

use crate::github_server::Account;
use crate::github_server::DEFAULT_LOGIN;
use crate::pr::fixture;
use crate::pr::run_pr;
use crate::pr::run_pr_with;
use crate::pr::Fixture;
use crate::support::*;
use serde_json::json;
use serde_json::Value;

const OURS: &str = "test-token";

fn by_login(items: &[Value], login: &str) -> Vec<Value> {
    items
        .iter()
        .filter(|i| i["user"]["login"] == login)
        .cloned()
        .collect()
}

/// The inline comment bodies deep-review would post, from `--dry-run`.
fn planned_comments(f: &Fixture) -> Vec<Value> {
    let out = run_pr(f, &["--post", "--dry-run"], Some(OURS));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: Value = serde_json::from_str(&stdout(&out)).unwrap();
    plan["requests"][0]["body"]["comments"]
        .as_array()
        .unwrap()
        .clone()
}

fn mallorys(id: u64, body: &str) -> Value {
    json!({"id": id, "body": body, "state": "COMMENTED", "user": {"login": "mallory"}})
}

#[test]
fn a_summary_marker_by_another_user_is_neither_edited_nor_trusted() {
    let f = fixture(false);
    let forged = "<!-- deep-review:summary -->\n## deep-review: Merge\n\nNothing to see.";
    f.github.with(|s| s.reviews.push(mallorys(55, forged)));

    // --dry-run shows the marker it will not trust, and a new review.
    let out = run_pr(&f, &["--post", "--dry-run"], Some(OURS));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        plan["ignored_markers"],
        json!([{"kind": "summary", "id": 55, "author": "mallory"}])
    );
    assert_eq!(plan["posting_as"], DEFAULT_LOGIN);
    assert_eq!(plan["requests"][0]["method"], "POST", "{plan:#}");
    assert_eq!(
        plan["requests"][0]["path"],
        "/repos/acme/cache/pulls/7/reviews"
    );

    let out = run_pr(&f, &["--post"], Some(OURS));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "ignored deep-review markers written by other accounts (mallory): 1 summary review"
        ),
        "{err}"
    );
    let (reviews, log) = f.github.with(|s| (s.reviews.clone(), s.log.clone()));
    assert!(
        !log.iter().any(|l| l.ends_with("/reviews/55")),
        "mallory's review was touched: {log:?}"
    );
    assert_eq!(reviews[0]["body"], forged, "mallory's review is unchanged");
    let ours = by_login(&reviews, DEFAULT_LOGIN);
    assert_eq!(ours.len(), 1, "our summary is a new review: {reviews:#?}");
    let body = ours[0]["body"].as_str().unwrap();
    assert!(body.contains("<!-- deep-review:summary -->"), "{body}");
    assert!(
        body.contains("Not trusted: 1 deep-review marker written by other accounts (`mallory`)"),
        "{body}"
    );
}

#[test]
fn a_copied_finding_marker_by_another_user_does_not_suppress_our_comment() {
    let f = fixture(false);
    let planned = planned_comments(&f);
    assert_eq!(planned.len(), 2);
    // Mallory pastes our exact comments, markers and all, before we post.
    f.github.with(|s| {
        for (i, c) in planned.iter().enumerate() {
            let mut c = c.clone();
            c["id"] = json!(900 + i);
            c["user"] = json!({"login": "mallory"});
            s.comments.push(c);
        }
    });
    let out = run_pr(&f, &["--post"], Some(OURS));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 summary reviews and 2 finding comments"),
        "{}",
        stderr(&out)
    );
    let comments = f.github.with(|s| s.comments.clone());
    let ours = by_login(&comments, DEFAULT_LOGIN);
    assert_eq!(
        ours.len(),
        2,
        "each finding gets our own inline comment: {comments:#?}"
    );
    assert!(
        stderr(&out).contains("2 inline comments, 0 already there"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn our_own_summary_is_still_edited_in_place_beside_a_copy() {
    let f = fixture(false);
    let out = run_pr(&f, &["--post"], Some(OURS));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (our_id, our_body) = f.github.with(|s| {
        (
            s.reviews[0]["id"].as_u64().unwrap(),
            s.reviews[0]["body"].as_str().unwrap().to_string(),
        )
    });
    // Mallory copies our summary and our comments; her copies come first in the lists.
    f.github.with(|s| {
        s.reviews.insert(0, mallorys(55, &our_body));
        let copies: Vec<Value> = s
            .comments
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut c = c.clone();
                c["id"] = json!(900 + i);
                c["user"] = json!({"login": "mallory"});
                c
            })
            .collect();
        for c in copies.into_iter().rev() {
            s.comments.insert(0, c);
        }
    });
    let out = run_pr(&f, &["--post"], Some(OURS));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (reviews, comments, log) = f
        .github
        .with(|s| (s.reviews.clone(), s.comments.clone(), s.log.clone()));
    assert!(
        log.iter()
            .any(|l| l == &format!("PUT /repos/acme/cache/pulls/7/reviews/{our_id}")),
        "{log:?}"
    );
    assert!(!log.iter().any(|l| l.ends_with("/reviews/55")), "{log:?}");
    assert_eq!(reviews.len(), 2, "no new summary: {reviews:#?}");
    assert_eq!(
        by_login(&comments, DEFAULT_LOGIN).len(),
        2,
        "our comments are recognised, none repeated"
    );
    assert!(stderr(&out).contains("summary updated"), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 already there"), "{}", stderr(&out));
}

#[test]
fn in_github_actions_an_app_token_is_github_actions_bot() {
    let f = fixture(false);
    f.github.with(|s| {
        s.accounts.push((
            "ghs_actions".into(),
            Account {
                login: "github-actions[bot]".into(),
                app: true,
            },
        ));
        s.reviews
            .push(mallorys(55, "<!-- deep-review:summary -->\nforged"));
    });
    let actions = [("GITHUB_ACTIONS", "true")];
    for _ in 0..2 {
        let out = run_pr_with(&f, &["--post"], Some("ghs_actions"), &actions);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let (reviews, comments) = f.github.with(|s| (s.reviews.clone(), s.comments.clone()));
    assert_eq!(
        reviews.len(),
        2,
        "mallory's and ours, edited in place: {reviews:#?}"
    );
    assert_eq!(by_login(&reviews, "github-actions[bot]").len(), 1);
    assert_eq!(comments.len(), 2, "no repeated comment");
}

/// An app token outside GitHub Actions: `GET /user` answers 403, so the account is learned
/// from the author of a pending review GitHub makes for it (deleted at once), and later runs
/// recognise their own summary and comments.
#[test]
fn an_app_token_learns_its_login_from_a_pending_review() {
    let f = fixture(false);
    f.github.with(|s| {
        s.accounts.push((
            "ghs_app".into(),
            Account {
                login: "review-app[bot]".into(),
                app: true,
            },
        ))
    });
    for round in 0..2 {
        let out = run_pr(&f, &["--post"], Some("ghs_app"));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("the token posts as review-app[bot]: GitHub named it as the author of a pending review, deleted at once (GET /user answered 403)"),
            "{err}"
        );
        assert!(!err.contains("could not learn"), "{err}");
        if round == 1 {
            assert!(err.contains("summary updated"), "{err}");
            assert!(err.contains("2 already there"), "{err}");
        }
    }
    let (reviews, comments) = f.github.with(|s| (s.reviews.clone(), s.comments.clone()));
    assert_eq!(
        reviews.len(),
        1,
        "no pending review left, no second summary: {reviews:#?}"
    );
    assert_eq!(reviews[0]["state"], "COMMENTED");
    assert_eq!(
        by_login(&comments, "review-app[bot]").len(),
        2,
        "no repeated comment"
    );
    // A dry run writes nothing, so it cannot ask: it trusts nothing and says why.
    let out = run_pr(&f, &["--post", "--dry-run"], Some("ghs_app"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a dry run does not ask GitHub with a pending review"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn when_the_account_cannot_be_learned_nothing_on_the_pr_is_trusted() {
    let f = fixture(false);
    f.github.with(|s| {
        s.accounts.push((
            "ghs_app".into(),
            Account {
                login: "review-app[bot]".into(),
                app: true,
            },
        ));
        // A pending review of the app's, left behind: GitHub allows one, so no other can be
        // made to learn the login.
        s.reviews.push(
            json!({"id": 77, "body": "", "state": "PENDING", "user": {"login": "review-app[bot]"}}),
        );
    });
    let out = run_pr(&f, &["--post"], Some("ghs_app"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("could not learn which account the token posts as (GET /user answered 403"),
        "{err}"
    );
    assert!(err.contains("one pending review per pull request"), "{err}");
    assert!(
        err.contains("the summary was posted as review-app[bot]; set DEEP_REVIEW_GITHUB_LOGIN=review-app[bot]"),
        "{err}"
    );
    // A second run trusts not even its own earlier summary: a new one is posted.
    let out = run_pr(&f, &["--post"], Some("ghs_app"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("no deep-review summary or comment already on the PR is trusted"));
    let submitted = |f: &Fixture| {
        f.github
            .with(|s| s.reviews.iter().filter(|r| r["state"] != "PENDING").count())
    };
    assert_eq!(submitted(&f), 2);
    // Naming the account restores editing in place.
    let login = [("DEEP_REVIEW_GITHUB_LOGIN", "review-app[bot]")];
    let out = run_pr_with(&f, &["--post"], Some("ghs_app"), &login);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("summary updated"), "{}", stderr(&out));
    assert_eq!(submitted(&f), 2);
}
