//! Ordinary histories: a base that moved on, file names with spaces, tabs, newlines and
//! non-ASCII letters, and reviews in which no model reviewer answered.

use crate::support::*;
use serde_json::json;

fn review_json(repo: &Repo, args: &[&str]) -> serde_json::Value {
    let out = repo.run(args);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    serde_json::from_str(&stdout(&out)).expect("json on stdout")
}

#[test]
fn base_that_moved_on_diffs_from_the_merge_base() {
    let repo = Repo::with_base(&[("src/app.py", "def main():\n    return 1\n")]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write("src/added_on_main.py", "def later():\n    return 2\n");
    repo.commit("Main moves on");
    repo.git(&["checkout", "-q", "feature"]);
    repo.write("src/app.py", "def main():\n    return 3\n");
    repo.commit("Return three");
    let merge_base = repo
        .git(&["merge-base", "main", "feature"])
        .trim()
        .to_string();

    let v = review_json(
        &repo,
        &[
            "review", "--base", "main", "--agents", "builtin", "--format", "json",
        ],
    );
    assert_eq!(v["change"]["files_changed"], 1, "{:#}", v["change"]);
    assert_eq!(v["change"]["base_ref"], "main");
    assert_eq!(v["change"]["base_sha"], merge_base.as_str());
    let brief = std::fs::read_to_string(repo.round_dir().join("brief.md")).unwrap();
    assert!(brief.contains("src/app.py"), "{brief}");
    assert!(
        !brief.contains("added_on_main"),
        "main's later file shows as deleted: {brief}"
    );
}
