//! The `deep-review` check run `publish` creates on the PR's head and updates on the next run,
//! against the local GitHub API server: its conclusion, its annotations (50 a request, never
//! repeated), and the commit status that stands in for it with a personal token.

use crate::github_server::Account;
use crate::publishing::finding;
use crate::publishing::saved;
use crate::publishing::Saved;
use crate::support::*;
use serde_json::json;
use serde_json::Value;

const APP: &str = "ghs_app";

fn with_app(s: &Saved) {
    s.github.with(|st| {
        st.accounts.push((
            APP.into(),
            Account {
                login: "review-app[bot]".into(),
                app: true,
            },
        ))
    });
}

fn check_runs(s: &Saved) -> Vec<Value> {
    s.github.with(|st| st.check_runs.clone())
}

#[test]
fn the_check_run_is_created_then_updated_without_repeating_annotations() {
    let s = saved(vec![
        finding(1, "important", 2, 2),
        finding(2, "important", 30, 30),
        finding(3, "suggestion", 10, 12),
    ]);
    with_app(&s);
    let out = s.publish(&["--fail-on", "important"], APP, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "--fail-on fails: {}",
        stderr(&out)
    );
    let runs = check_runs(&s);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let head = s.repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    assert_eq!(runs[0]["head_sha"], head.as_str());
    assert_eq!(runs[0]["name"], "deep-review");
    assert_eq!(runs[0]["conclusion"], "failure");
    assert_eq!(runs[0]["output"]["annotations_count"], 3);
    let title = runs[0]["output"]["title"].as_str().unwrap().to_string();
    assert!(
        title.contains("2 findings at or above important"),
        "{title}"
    );
    assert!(
        runs[0]["output"]["summary"]
            .as_str()
            .unwrap()
            .contains("| **I1** | Problem 1 |"),
        "{:#}",
        runs[0]["output"]
    );
    let levels: Vec<Value> = s.github.with(|st| {
        st.annotations
            .iter()
            .map(|(_, a)| {
                json!([
                    a["path"],
                    a["start_line"],
                    a["end_line"],
                    a["annotation_level"]
                ])
            })
            .collect()
    });
    assert_eq!(
        levels,
        vec![
            json!(["src/long.rs", 2, 2, "warning"]),
            json!(["src/long.rs", 30, 30, "warning"]),
            json!(["src/long.rs", 10, 12, "notice"]),
        ]
    );
    assert!(
        stderr(&out).contains("check run deep-review created: failure"),
        "{}",
        stderr(&out)
    );

    // The second run updates the same check run: a new conclusion, no annotation twice.
    let out = s.publish(&["--fail-on", "critical"], APP, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let runs = check_runs(&s);
    assert_eq!(runs.len(), 1, "updated, not a second check run: {runs:#?}");
    assert_eq!(
        runs[0]["conclusion"], "success",
        "merge with fixes, and nothing reaches --fail-on critical"
    );
    assert_eq!(runs[0]["output"]["annotations_count"], 3, "{:#}", runs[0]);
    let log = s.github.with(|st| st.log.clone());
    let id = runs[0]["id"].as_u64().unwrap();
    assert!(
        log.contains(&format!("PATCH /repos/acme/long/check-runs/{id}")),
        "{log:#?}"
    );
    assert!(
        stderr(&out).contains("0 annotations added, 3 already there"),
        "{}",
        stderr(&out)
    );
    // Without a threshold, "merge with fixes" is neutral.
    let out = s.publish(&[], APP, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(check_runs(&s)[0]["conclusion"], "neutral");
}

#[test]
fn a_hundred_and_twenty_findings_are_annotated_in_three_requests() {
    let s = saved(
        (0..120)
            .map(|i| {
                finding(
                    i + 1,
                    "suggestion",
                    (i % 40 + 1) as u32,
                    (i % 40 + 1) as u32,
                )
            })
            .collect(),
    );
    with_app(&s);
    // The dry run lists the same requests: a create, then two updates naming the new run.
    let out = s.publish(&["--dry-run"], APP, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let checks: Vec<(String, String, usize)> = plan["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().contains("/check-runs"))
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["body"]["output"]["annotations"].as_array().unwrap().len(),
            )
        })
        .collect();
    let runs = "/repos/acme/long/check-runs".to_string();
    let later = format!("{runs}/{{check_run_id}}");
    assert_eq!(
        checks,
        vec![
            ("POST".into(), runs.clone(), 50),
            ("PATCH".into(), later.clone(), 50),
            ("PATCH".into(), later, 20),
        ]
    );
    assert!(check_runs(&s).is_empty(), "a dry run sends nothing");

    let out = s.publish(&[], APP, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let runs = check_runs(&s);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["output"]["annotations_count"], 120);
    assert_eq!(runs[0]["conclusion"], "neutral");
    let id = runs[0]["id"].as_u64().unwrap();
    let log = s.github.with(|st| st.log.clone());
    let writes: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("/check-runs") && !l.starts_with("GET"))
        .collect();
    assert_eq!(
        writes,
        vec![
            "POST /repos/acme/long/check-runs",
            &format!("PATCH /repos/acme/long/check-runs/{id}"),
            &format!("PATCH /repos/acme/long/check-runs/{id}"),
        ]
    );
}

#[test]
fn a_personal_token_sets_a_commit_status_instead() {
    let s = saved(vec![finding(1, "critical", 2, 2)]);
    let mut review = s.review();
    review["verdict"] = json!("do_not_merge");
    s.set_review(&review);
    let out = s.publish(&[], "ghp_personal", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(check_runs(&s).is_empty());
    let statuses = s.github.with(|st| st.statuses.clone());
    assert_eq!(statuses.len(), 1, "{statuses:#?}");
    let head = s.repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    assert_eq!(statuses[0].0, head);
    assert_eq!(statuses[0].1["context"], "deep-review");
    assert_eq!(statuses[0].1["state"], "failure");
    assert!(
        statuses[0].1["description"]
            .as_str()
            .unwrap()
            .starts_with("Do not merge"),
        "{:#}",
        statuses[0].1
    );
    let err = stderr(&out);
    assert!(
        err.contains("the token may not write check runs (GitHub answered 403: Resource not accessible by personal access token")
            && err.contains("commit status deep-review instead: failure"),
        "{err}"
    );
    // The review itself was posted.
    assert_eq!(s.github.with(|st| st.reviews.len()), 1);
}

#[test]
fn no_model_reviewer_answered_is_neutral_with_the_reason() {
    let s = saved(vec![finding(1, "critical", 2, 2)]);
    with_app(&s);
    let mut review = s.review();
    review["verdict"] = Value::Null;
    review["verdict_rationale"] = json!("Every model reviewer failed (a: timed out).");
    s.set_review(&review);
    let out = s.publish(&["--fail-on", "suggestion"], APP, &[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "as `pr` exits: {}",
        stderr(&out)
    );
    let runs = check_runs(&s);
    assert_eq!(runs[0]["conclusion"], "neutral", "{:#}", runs[0]);
    assert_eq!(runs[0]["output"]["title"], "No model reviewer answered");
    assert!(runs[0]["output"]["summary"]
        .as_str()
        .unwrap()
        .contains("Every model reviewer failed (a: timed out)."));
}

#[test]
fn another_apps_check_run_of_the_same_name_is_left_alone() {
    let s = saved(vec![
        finding(1, "important", 2, 2),
        finding(2, "suggestion", 30, 30),
    ]);
    with_app(&s);
    let head = s.repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    s.github.with(|st| {
        st.check_runs
            .push(json!({"id": 99, "name": "deep-review", "head_sha": head,
            "status": "completed", "conclusion": "success",
            "output": {"title": "All good", "summary": "", "annotations_count": 1},
            "app": {"slug": "impostor"}}));
        st.annotations.push((
            99,
            json!({"path": "src/long.rs", "start_line": 2, "end_line": 2,
            "annotation_level": "notice", "title": "x", "message": "Body of problem 1."}),
        ));
    });
    let out = s.publish(&[], APP, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the deep-review check run 99 on the head is not this token's to update"),
        "{err}"
    );
    let runs = check_runs(&s);
    assert_eq!(runs.len(), 2, "{runs:#?}");
    assert_eq!(
        runs[0]["conclusion"], "success",
        "the impostor's is untouched"
    );
    assert_eq!(runs[1]["app"]["slug"], "review-app");
    assert_eq!(runs[1]["conclusion"], "neutral");
    assert_eq!(
        runs[1]["output"]["annotations_count"], 2,
        "every annotation on the new check run, none skipped for the impostor's"
    );
}
