//! `deep-review publish` of a saved review built here by hand (review.json from
//! `deep-review consolidate`, its findings set by the test; pr.json; the real diff), against
//! the local GitHub API server: where comments are placed, how a refused one is handled, and
//! committable suggestions that apply cleanly to the head.

use crate::github_server::GitHub;
use crate::github_server::State;
use crate::support::*;
use serde_json::json;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// The head's `src/long.rs`: 40 lines, of which the PR changes 2, 3 and 30 (two hunks: new
/// lines 1..=6 and 27..=33).
pub(crate) fn head_text() -> String {
    (1..=40)
        .map(|n| match n {
            2 | 3 | 30 => format!("    let v{n} = compute({n}).unwrap();\n"),
            _ => format!("    step({n});\n"),
        })
        .collect()
}

/// A saved review of PR acme/long#7 and the server that serves it.
pub(crate) struct Saved {
    pub(crate) repo: Repo,
    pub(crate) round: PathBuf,
    pub(crate) github: GitHub,
    _dir: tempfile::TempDir,
}

/// A finding of `severity` on `src/long.rs` lines `start..=end`, as (severity, start, end).
pub(crate) fn finding(_n: usize, severity: &str, start: u32, end: u32) -> (String, u32, u32) {
    (severity.to_string(), start, end)
}

/// A review of the PR (consolidated from one agent's answer, so its shape is the real one)
/// whose reported findings are `findings`, titled `Problem 1`, `Problem 2`, ..., saved as a
/// `deep-review pr` round folder would hold it.
pub(crate) fn saved(findings: Vec<(String, u32, u32)>) -> Saved {
    let base: String = (1..=40).map(|n| format!("    step({n});\n")).collect();
    let repo = Repo::with_base(&[("src/long.rs", &base)]);
    repo.write("src/long.rs", &head_text());
    repo.commit("Compute instead of stepping");
    let head_sha = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let base_sha = repo.git(&["rev-parse", "main"]).trim().to_string();
    let diff = repo.git(&["diff", "main...HEAD"]);
    let dir = tempfile::tempdir().unwrap();
    let answer = dir.path().join("a.json");
    std::fs::write(
        &answer,
        json!({"schema": 1, "summary": "Saved.", "findings": [{"severity": "important",
            "title": "Template", "body": "Template.", "category": "correctness",
            "locations": [{"path": "src/long.rs", "start_line": 2, "end_line": 2}]}]})
        .to_string(),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["consolidate", "--format", "json", "--repo"])
        .arg(repo.path())
        .arg("--agent")
        .arg(format!("a={}", answer.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut review: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let template = review["findings"][0].clone();
    review["findings"] = findings
        .iter()
        .enumerate()
        .map(|(i, (severity, start, end))| {
            let mut f = template.clone();
            let prefix = match severity.as_str() {
                "critical" => "C",
                "important" => "I",
                _ => "S",
            };
            f["id"] = json!(format!("{prefix}{}", i + 1));
            f["severity"] = json!(severity);
            f["title"] = json!(format!("Problem {}", i + 1));
            f["body"] = json!(format!("Body of problem {}.", i + 1));
            f["locations"][0]["start_line"] = json!(start);
            f["locations"][0]["end_line"] = json!(end);
            f
        })
        .collect();
    let round = dir.path().join("20260426-160000-pr-7/round-1");
    std::fs::create_dir_all(&round).unwrap();
    let github = GitHub::start(State {
        pr: json!({"number": 7, "title": "Compute", "user": {"login": "mn-ram"},
            "base": {"ref": "main", "sha": base_sha, "repo": {"full_name": "acme/long", "clone_url": ""}},
            "head": {"ref": "feature", "sha": head_sha, "repo": {"full_name": "acme/long", "clone_url": ""}},
            "html_url": "https://github.com/acme/long/pull/7"}),
        diff: diff.clone(),
        ..State::default()
    });
    std::fs::write(round.join("diff.patch"), &diff).unwrap();
    std::fs::write(
        round.join("pr.json"),
        json!({"owner": "acme", "repo": "long", "number": 7, "api": github.url(), "head_sha": head_sha})
            .to_string(),
    )
    .unwrap();
    let saved = Saved {
        repo,
        round,
        github,
        _dir: dir,
    };
    saved.set_review(&review);
    saved
}

impl Saved {
    pub(crate) fn review(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.round.join("review.json")).unwrap())
            .unwrap()
    }

    pub(crate) fn set_review(&self, review: &Value) {
        std::fs::write(
            self.round.join("review.json"),
            serde_json::to_string_pretty(review).unwrap(),
        )
        .unwrap();
    }

    /// `deep-review publish` of the saved round with `token`, extra arguments and environment.
    pub(crate) fn publish(
        &self,
        extra: &[&str],
        token: &str,
        env: &[(&str, &str)],
    ) -> std::process::Output {
        Command::new(BIN)
            .arg("publish")
            .arg(&self.round)
            .args(["--api-url", &self.github.url()])
            .args(extra)
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("DEEP_REVIEW_GITHUB_LOGIN")
            .env("GITHUB_TOKEN", token)
            .env("PATH", "/usr/bin:/bin")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }
}

fn published(s: &Saved) -> (Vec<Value>, Vec<Value>, Vec<String>) {
    s.github
        .with(|st| (st.reviews.clone(), st.comments.clone(), st.log.clone()))
}

#[test]
fn a_range_across_two_hunks_goes_on_its_last_line() {
    let s = saved(vec![
        finding(1, "important", 2, 30),
        finding(2, "suggestion", 2, 3),
    ]);
    let out = s.publish(&[], "test-token", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (reviews, comments, log) = published(&s);
    assert_eq!(reviews.len(), 1, "{reviews:#?}\n{log:#?}");
    let at = |title: &str| {
        comments
            .iter()
            .find(|c| c["body"].as_str().unwrap().contains(title))
            .unwrap_or_else(|| panic!("no comment on {title}: {comments:#?}"))
            .clone()
    };
    let across = at("Problem 1");
    assert_eq!(
        (across["line"].clone(), across.get("start_line").cloned()),
        (json!(30), None),
        "a single-line comment on the range's last line"
    );
    let within = at("Problem 2");
    assert_eq!(
        (within["start_line"].clone(), within["line"].clone()),
        (json!(2), json!(3))
    );
    assert!(
        !log.iter().any(|l| l.starts_with("DELETE")),
        "GitHub refused nothing, so nothing was probed: {log:#?}"
    );
}

#[test]
fn one_refused_comment_among_many_costs_a_few_probes_and_still_one_review() {
    let lines = [1u32, 2, 3, 4, 5, 6, 27, 28, 29, 30, 31, 32];
    let findings = lines
        .iter()
        .enumerate()
        .map(|(i, l)| finding(i + 1, "suggestion", *l, *l))
        .collect();
    let s = saved(findings);
    s.github
        .with(|st| st.reject_lines = vec![("src/long.rs".into(), 28)]);
    let out = s.publish(&[], "test-token", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (reviews, comments, log) = published(&s);
    assert_eq!(reviews.len(), 1, "one review, no pending one: {reviews:#?}");
    assert_eq!(reviews[0]["state"], "COMMENTED");
    assert_eq!(comments.len(), 11, "{comments:#?}");
    assert!(comments
        .iter()
        .all(|c| c["pull_request_review_id"] == reviews[0]["id"] && c["line"] != 28));
    let body = reviews[0]["body"].as_str().unwrap();
    assert!(
        body.contains("`src/long.rs:28`") && body.contains("Problem 8"),
        "{body}"
    );
    let probes = log
        .iter()
        .filter(|l| l.starts_with("DELETE /repos/acme/long/pulls/7/reviews/"))
        .count();
    assert!(
        (1..12).contains(&probes),
        "bisecting, not one probe per comment: {probes} in {log:#?}"
    );
    assert!(!log
        .iter()
        .any(|l| l == "POST /repos/acme/long/pulls/7/comments"));
}

/// The suggestion block in a comment body: (fence, text).
fn suggestion_in(body: &str) -> (String, String) {
    let at = body.find("suggestion\n").expect("a suggestion block");
    let fence: String = body[..at].chars().rev().take_while(|c| *c == '`').collect();
    let rest = &body[at + "suggestion\n".len()..];
    let end = rest.find(&format!("{fence}\n")).expect("the closing fence");
    let text = rest[..end].strip_suffix('\n').unwrap_or(&rest[..end]);
    (fence, text.to_string())
}

/// Replaces lines `start..=end` of `text` with `with` (GitHub's "Commit suggestion").
fn apply(text: &str, start: usize, end: usize, with: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<&str> = lines[..start - 1].to_vec();
    if !with.is_empty() {
        out.extend(with.split('\n'));
    }
    out.extend(&lines[end..]);
    out.join("\n") + "\n"
}

#[test]
fn a_committable_suggestion_sits_on_its_lines_and_applies_to_the_head() {
    let s = saved(vec![
        finding(1, "important", 2, 3),
        finding(2, "suggestion", 30, 30),
        finding(3, "suggestion", 2, 30),
    ]);
    let fixed = "    let v2 = compute(2)?;\n    let v3 = compute(3)?;";
    let commented = "    // ```compute``` may fail\n    let v30 = compute(30)?;";
    let mut review = s.review();
    let set = |review: &mut Value, i: usize, start: u32, end: u32, text: &str| {
        // The cited location is elsewhere: the comment follows the replacement's lines.
        review["findings"][i]["locations"][0]["start_line"] = json!(1);
        review["findings"][i]["locations"][0]["end_line"] = json!(1);
        review["findings"][i]["replacement"] =
            json!({"path": "src/long.rs", "start_line": start, "end_line": end, "text": text});
    };
    set(&mut review, 0, 2, 3, fixed);
    set(&mut review, 1, 30, 30, commented);
    // Lines 3..=30 are not within one hunk: no committable suggestion there.
    set(&mut review, 2, 3, 30, "    gone();");
    s.set_review(&review);
    let out = s.publish(&[], "test-token", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (reviews, comments, _) = published(&s);
    assert_eq!(reviews.len(), 1);
    let on = |title: &str| {
        comments
            .iter()
            .find(|c| c["body"].as_str().unwrap().contains(title))
            .unwrap_or_else(|| panic!("no comment on {title}: {comments:#?}"))
            .clone()
    };

    let first = on("Problem 1");
    assert_eq!(
        (
            first["start_line"].clone(),
            first["line"].clone(),
            first["side"].clone()
        ),
        (json!(2), json!(3), json!("RIGHT"))
    );
    let (fence, text) = suggestion_in(first["body"].as_str().unwrap());
    assert_eq!((fence.as_str(), text.as_str()), ("```", fixed));
    let second = on("Problem 2");
    assert_eq!(
        (second.get("start_line"), &second["line"]),
        (None, &json!(30))
    );
    let (fence, text2) = suggestion_in(second["body"].as_str().unwrap());
    assert_eq!(fence, "````", "a longer fence around text with backticks");
    assert_eq!(text2, commented);
    let third = on("Problem 3");
    let body = third["body"].as_str().unwrap();
    assert!(!body.contains("suggestion\n"), "{body}");
    assert!(body.contains("not committable here"), "{body}");
    assert_eq!(third["line"], 1, "placed on its cited line instead");

    // Commit both suggestions on the head, as GitHub's button would, and check the result.
    let head = head_text();
    let patched = apply(&apply(&head, 30, 30, &text2), 2, 3, &text);
    s.repo.write("src/long.rs", &patched);
    let numstat = s.repo.git(&["diff", "--numstat"]);
    assert_eq!(numstat.trim(), "4\t3\tsrc/long.rs", "{numstat}");
    s.repo.git(&["diff", "--check"]);
    s.repo.commit("Apply suggestions");
    let expected: String = (1..=40)
        .map(|n| match n {
            2 => "    let v2 = compute(2)?;\n".to_string(),
            3 => "    let v3 = compute(3)?;\n".to_string(),
            30 => "    // ```compute``` may fail\n    let v30 = compute(30)?;\n".to_string(),
            _ => format!("    step({n});\n"),
        })
        .collect();
    assert_eq!(s.repo.git(&["show", "HEAD:src/long.rs"]), expected);
}
