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

#[test]
fn odd_file_names_keep_their_verified_findings() {
    let repo = Repo::with_base(&[("README.md", "# app\n")]);
    let names = [
        "src/f\u{fc}nf/config.js",
        "src/with space/config.js",
        "src/tab\there.js",
        "src/new\nline.js",
    ];
    for name in names {
        repo.write(name, "const id = \"AKIAZ7QRSTUVWX2345AB\";\n");
    }
    repo.commit("Add configs");
    let v = review_json(
        &repo,
        &["review", "--agents", "builtin", "--format", "json"],
    );
    let findings = v["findings"].as_array().unwrap();
    let keys: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["title"].as_str().unwrap().contains("AWS access key ID"))
        .collect();
    assert!(!keys.is_empty(), "{findings:#?}");
    assert!(keys.iter().all(|f| f["status"] == "reported"), "{keys:#?}");
    for name in names {
        let loc = keys
            .iter()
            .flat_map(|f| f["locations"].as_array().unwrap())
            .find(|l| l["path"] == name)
            .unwrap_or_else(|| panic!("no key citation at {name:?}: {keys:#?}"));
        assert_eq!(loc["verified"], true, "{name:?}: {loc:#}");
        assert_eq!(loc["start_line"], 1, "{name:?}: {loc:#}");
    }
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains("\\303\\274"), "octal-quoted name: {text}");
    assert!(!text.contains("config.js\\t"), "trailing tab: {text}");
}
