//! The builtin reviewer on fixture repositories.

use crate::support::*;

fn builtin_findings(repo: &Repo) -> Vec<serde_json::Value> {
    let out = repo.run(&["review", "--agents", "builtin", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["findings"].as_array().unwrap().clone()
}

fn find<'a>(findings: &'a [serde_json::Value], title_part: &str) -> &'a serde_json::Value {
    findings
        .iter()
        .find(|f| f["title"].as_str().unwrap().contains(title_part))
        .unwrap_or_else(|| panic!("no finding with `{title_part}` in {findings:#?}"))
}

#[test]
fn finds_planted_key_conflict_marker_and_untested_code_at_the_right_lines() {
    let repo = Repo::with_base(&[
        ("src/app.py", "def main():\n    return 1\n"),
        ("tests/test_app.py", "def test_main():\n    assert True\n"),
    ]);
    repo.write(
        "src/app.py",
        "def main():\n    return 1\n\n\ndef connect():\n    key_id = \"AKIAZ7QRSTUVWX2345AB\"\n    return key_id\n",
    );
    repo.write(
        "src/merge.py",
        "def pick():\n<<<<<<< HEAD\n    return 'ours'\n=======\n    return 'theirs'\n>>>>>>> branch\n",
    );
    repo.commit("Add connection helper\n\nConnects to the store.");
    let findings = builtin_findings(&repo);

    let key = find(&findings, "AWS access key ID");
    assert_eq!(key["severity"], "critical");
    assert_eq!(key["status"], "reported");
    assert_eq!(key["locations"][0]["path"], "src/app.py");
    assert_eq!(key["locations"][0]["start_line"], 6);
    assert_eq!(key["locations"][0]["verified"], true);
    // The key itself never reaches the report.
    let text = serde_json::to_string(&findings).unwrap();
    assert!(
        !text.contains("AKIAZ7QRSTUVWX2345AB"),
        "secret leaked: {text}"
    );

    let marker = find(&findings, "conflict marker");
    assert_eq!(marker["locations"][0]["path"], "src/merge.py");
    assert_eq!(marker["locations"][0]["start_line"], 2);
    assert_eq!(
        findings
            .iter()
            .filter(|f| f["title"].as_str().unwrap().contains("conflict marker"))
            .count(),
        1,
        "one finding per conflict block"
    );

    let untested = find(&findings, "without a test change");
    assert_eq!(untested["locations"][0]["path"], "src/app.py");
    assert_eq!(untested["locations"][0]["start_line"], 5);
    assert_eq!(untested["locations"][0]["verified"], true);
    assert!(findings
        .iter()
        .all(|f| f["members"][0]["agent"] == "builtin"));
}

#[test]
fn reports_nothing_on_a_clean_well_formed_commit() {
    let repo = Repo::with_base(&[
        (
            "src/lib.rs",
            "/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
        ),
        ("tests/add.rs", "#[test]\nfn adds() {}\n"),
    ]);
    repo.write(
        "src/lib.rs",
        "/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\n/// Subtracts.\npub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n",
    );
    repo.write(
        "tests/add.rs",
        "#[test]\nfn adds() {}\n\n#[test]\nfn subtracts() {}\n",
    );
    repo.write("CHANGELOG.md", "- add `sub`\n");
    repo.commit("Add sub\n\nSubtraction, with a test and a changelog entry.");
    let out = repo.run(&["review", "--agents", "builtin", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        v["findings"].as_array().unwrap().len(),
        0,
        "{:#?}",
        v["findings"]
    );
    assert_eq!(
        v["observations"].as_array().unwrap().len(),
        0,
        "{:#?}",
        v["observations"]
    );
    // The builtin checks alone make no verdict.
    assert_eq!(v["verdict"], serde_json::Value::Null);
    assert!(v["assessments"]["testing"][0]["text"]
        .as_str()
        .unwrap()
        .contains("tests changed in `tests/add.rs`"));
}

#[test]
fn commit_structure_feeds_the_commits_assessment() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("WIP");
    repo.write("a.txt", "c\n");
    repo.commit("fixup! WIP");
    repo.write("a.txt", "d\n");
    repo.commit(
        "This subject line is far too long to read comfortably in any git log output at all",
    );
    repo.write("a.txt", "e\n");
    repo.commit("Another subject that rambles on and on well past the seventy-two character mark");
    let out = repo.run(&["review", "--agents", "builtin", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let commits = v["assessments"]["commits"][0]["text"].as_str().unwrap();
    assert!(commits.contains("work-in-progress"), "{commits}");
    assert!(commits.contains("`fixup!` commit"), "{commits}");
    assert!(commits.contains("characters (more than 72)"), "{commits}");
    let titles: Vec<&str> = v["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["title"].as_str().unwrap())
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("Unsquashed fixup commit")),
        "{titles:?}"
    );
    // One concern per commit: one agent's observations are never merged with each other.
    let long = titles
        .iter()
        .filter(|t| t.starts_with("Long commit subject"))
        .count();
    assert_eq!(long, 2, "{titles:?}");
}

/// Lines changed per commit, counted only for commits without a body: from `git show
/// --numstat` in a range of several commits, from the range's own diff for one commit.
#[test]
fn commits_without_a_body_are_measured_in_one_commit_and_in_many() {
    let lines =
        |n: usize, tag: &str| -> String { (0..n).map(|i| format!("{tag} {i}\n")).collect() };
    let titles = |repo: &Repo| -> Vec<String> {
        let out = repo.run(&["review", "--agents", "builtin", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        v["observations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["title"].as_str().unwrap().to_string())
            .filter(|t| t.contains("has no body"))
            .collect()
    };
    let one = Repo::with_base(&[("a.txt", "a\n")]);
    one.write("big.txt", &lines(40, "big"));
    one.commit("Add the big file");
    assert_eq!(titles(&one).len(), 1, "{:?}", titles(&one));

    let many = Repo::with_base(&[("a.txt", "a\n")]);
    many.write("big.txt", &lines(40, "big"));
    many.commit("Add the big file");
    many.write("small.txt", &lines(5, "small"));
    many.commit("Add the small file");
    many.write("explained.txt", &lines(100, "explained"));
    many.commit("Add the explained file\n\nIt is explained here.");
    let sha = many.git(&["rev-parse", "--short=8", "HEAD~2"]);
    assert_eq!(
        titles(&many),
        vec![format!("Commit {} has no body", sha.trim())]
    );
}
