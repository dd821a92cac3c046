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

/// A feature branch that plants an AWS key, so the builtin checks have something to say.
fn repo_with_key() -> Repo {
    let repo = Repo::with_base(&[("src/app.py", "def main():\n    return 1\n")]);
    repo.write(
        "src/app.py",
        "def main():\n    key = \"AKIAZ7QRSTUVWX2345AB\"\n    return key\n",
    );
    repo.commit("Use a key");
    repo
}

#[test]
fn no_verdict_when_every_model_reviewer_failed() {
    let repo = Repo::with_base(&[("src/app.py", "def main():\n    return 1\n")]);
    repo.write("src/app.py", "def main():\n    return 2\n");
    repo.commit("Return two");
    let tools = tempfile::tempdir().unwrap();
    let crash = script(
        tools.path(),
        "crash.sh",
        "cat > /dev/null\necho boom >&2\nexit 3",
    );
    config(&repo, &[("model", &crash)], "");
    let out = repo.run(&["review", "--agents", "model,builtin", "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["verdict"], serde_json::Value::Null, "{:#}", v["verdict"]);
    let why = v["verdict_rationale"].as_str().unwrap();
    assert!(
        why.contains("no model reviewer answered (model failed)"),
        "{why}"
    );
    let report = std::fs::read_to_string(repo.round_dir().join("report.md")).unwrap();
    assert!(
        report.contains("| Verdict | No verdict — no model reviewer answered"),
        "{report}"
    );
    assert!(!report.contains("Merge"), "{report}");
    assert!(stderr(&out).contains("no verdict"), "{}", stderr(&out));
}

#[test]
fn builtin_findings_do_not_hide_failed_model_reviewers() {
    let repo = repo_with_key();
    let tools = tempfile::tempdir().unwrap();
    let crash = script(tools.path(), "crash.sh", "cat > /dev/null\nexit 3");
    config(&repo, &[("model", &crash)], "");
    // Exit 3 even when a builtin finding reaches --fail-on: the review is incomplete.
    let out = repo.run(&[
        "review",
        "--agents",
        "model,builtin",
        "--fail-on",
        "critical",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["verdict"], serde_json::Value::Null);
    assert_eq!(
        v["findings"][0]["severity"], "critical",
        "{:#}",
        v["findings"]
    );
}

#[test]
fn a_model_reviewer_that_answered_gives_a_verdict_and_builtin_alone_gives_none() {
    let repo = repo_with_key();
    let tools = tempfile::tempdir().unwrap();
    let good = answering_agent(
        tools.path(),
        "good",
        &json!({"schema": 1, "summary": "Fine.", "verdict": "merge", "findings": []}),
    );
    config(&repo, &[("model", &good)], "");
    let v = review_json(
        &repo,
        &["review", "--agents", "model,builtin", "--format", "json"],
    );
    assert_eq!(v["verdict"], "do_not_merge", "{:#}", v["verdict_rationale"]);

    // Only the builtin checks chosen: no verdict, but a normal exit (no model reviewer failed).
    let out = repo.run(&[
        "review", "--agents", "builtin", "--format", "json", "--rerun",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["verdict"], serde_json::Value::Null);
    assert!(v["verdict_rationale"]
        .as_str()
        .unwrap()
        .contains("no model reviewer ran"));
}

#[test]
fn commented_out_debug_markers_are_not_findings() {
    let repo = Repo::with_base(&[
        ("src/app.py", "def main():\n    return 1\n"),
        ("src/app.js", "export const a = 1;\n"),
        ("src/lib.rs", "pub fn a() -> i32 {\n    1\n}\n"),
    ]);
    repo.write(
        "src/app.py",
        "def main():\n    # pdb.set_trace()\n    x = 1  # breakpoint() when debugging\n    return x\n\n\ndef other():\n    import pdb; pdb.set_trace()\n    return 2\n",
    );
    repo.write(
        "src/app.js",
        "export const a = 1;\n// console.log(a)\n/* debugger; */\nexport const b = 2;\n",
    );
    repo.write(
        "src/lib.rs",
        "pub fn a() -> i32 {\n    // dbg!(1);\n    1\n}\n",
    );
    repo.commit("Touch things");
    let v = review_json(
        &repo,
        &["review", "--agents", "builtin", "--format", "json"],
    );
    let leftovers: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |l| (f, l))
        })
        .filter(|(f, _)| f["title"].as_str().unwrap().starts_with("Debug leftover"))
        .map(|(_, l)| l)
        .collect();
    // Only the live call on line 8 of app.py.
    assert_eq!(leftovers.len(), 1, "{leftovers:#?}");
    assert_eq!(leftovers[0]["path"], "src/app.py");
    assert_eq!(leftovers[0]["start_line"], 8);
}

/// A range of 20 merged pull requests (GitHub's merge commits, a dependency bot, a merge
/// queue, a GitLab-style branch merge) is an ordinary history: one observation for all its
/// merge commits, no style notes on them, and a header that lists 10 of its 40 commits.
#[test]
fn a_history_of_merged_pull_requests_stays_quiet() {
    let repo = Repo::with_base(&[("src/lib.rs", "pub fn zero() -> u32 {\n    0\n}\n")]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["tag", "start"]);
    let bot = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>";
    for n in 1..=20 {
        let branch = format!("topic-{n}");
        repo.git(&["checkout", "-q", "-b", &branch, "main"]);
        repo.write(
            &format!("src/part_{n}.rs"),
            &format!("/// Part {n}.\npub fn part_{n}() -> u32 {{\n    {n}\n}}\n"),
        );
        repo.git(&["add", "-A"]);
        let subject = format!("Add part {n}");
        if n % 5 == 0 {
            repo.git(&["commit", "-q", "--author", bot, "-m", &format!("Bump part-{n} from 1.0.0 to 1.0.1 in /src, a subject far longer than seventy-two characters")]);
        } else {
            repo.git(&["commit", "-q", "-m", &subject]);
        }
        repo.git(&["checkout", "-q", "main"]);
        let message = match n {
            7 => format!("Auto merge of #{n} - someone:{branch}, r=reviewer"),
            9 => format!("Merge branch '{branch}' into 'main'"),
            _ => format!("Merge pull request #{n} from some-contributor/{branch}-with-a-rather-long-branch-name"),
        };
        repo.git(&["merge", "-q", "--no-ff", "-m", &message, &branch]);
    }

    let out = repo.run(&[
        "review", "--base", "start", "--head", "main", "--agents", "builtin", "--format", "md",
    ]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    let v = repo.review_json();
    assert_eq!(v["change"]["commits"].as_array().unwrap().len(), 40);
    let concerns: Vec<String> = v["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["title"].as_str().unwrap_or("").to_string())
        .collect();
    let merges: Vec<&String> = concerns
        .iter()
        .filter(|t| t.contains("erge commit"))
        .collect();
    assert_eq!(
        merges,
        vec!["20 merge commits inside the change"],
        "{concerns:?}"
    );
    assert!(
        !concerns
            .iter()
            .any(|t| t.contains("subject") || t.contains("no body")),
        "{concerns:?}"
    );
    let commits_text = v["assessments"]["commits"].to_string();
    assert!(
        !commits_text.contains("characters (more than"),
        "{commits_text}"
    );

    let report = stdout(&out);
    let row = report
        .lines()
        .find(|l| l.starts_with("| Commits |"))
        .expect("a commits row");
    assert_eq!(row.matches("<br>").count(), 10, "{row}");
    assert!(
        row.contains("… and 30 more (all 40 in review.json)"),
        "{row}"
    );
    let first = v["change"]["commits"][0]["sha"].as_str().unwrap();
    let eleventh = v["change"]["commits"][10]["sha"].as_str().unwrap();
    assert!(
        row.contains(&first[..8]) && !row.contains(&eleventh[..8]),
        "{row}"
    );
}
