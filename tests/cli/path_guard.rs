//! The path guard: citations are read only from regular files of the reviewed revision. Each
//! test plants something outside the tree (or inside `.git/`), has an agent cite it with the
//! exact text as its quote, and proves the citation is invalid and the text never quoted.

use crate::support::*;
use serde_json::json;
use std::os::unix::fs::symlink;

const SECRET: &str = "root:$6$planted-shadow-hash:19000:0:99999:7:::";

/// A critical finding citing line 1 of `path` and quoting `quote`.
fn citing(path: &str, quote: &str) -> serde_json::Value {
    json!({
        "severity": "critical",
        "title": format!("Problem in {path}"),
        "body": format!("The file `{path}` holds something dangerous on its first line."),
        "locations": [{"path": path, "start_line": 1, "quote": quote}],
        "category": "security",
        "confidence": 0.9
    })
}

/// A repository whose feature branch adds a file, with `outside/` beside it holding SECRET.
fn repo_with_outside() -> (Repo, tempfile::TempDir) {
    let repo = Repo::with_base(&[("src/app.py", "def main():\n    return 1\n")]);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("shadow"), format!("{SECRET}\n")).unwrap();
    (repo, outside)
}

/// Runs one command agent that answers with `findings`; returns review.json and report.md.
fn review_citing(
    repo: &Repo,
    findings: Vec<serde_json::Value>,
    extra: &[&str],
) -> (serde_json::Value, String) {
    let tools = tempfile::tempdir().unwrap();
    let agent = answering_agent(
        tools.path(),
        "cite",
        &json!({"schema": 1, "summary": "Cited.", "verdict": "do_not_merge", "findings": findings}),
    );
    config(repo, &[("cite", &agent)], "");
    let mut args = vec!["review", "--agents", "cite", "--format", "json"];
    args.extend_from_slice(extra);
    let out = repo.run(&args);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    let report = std::fs::read_to_string(repo.round_dir().join("report.md")).unwrap_or_default();
    (repo.review_json(), report)
}

/// The consolidated finding whose citation was `path`.
fn finding_for<'a>(v: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == format!("Problem in {path}"))
        .unwrap_or_else(|| panic!("no finding for {path}: {:#}", v["findings"]))
}

fn assert_refused(v: &serde_json::Value, path: &str, reason: &str) {
    let f = finding_for(v, path);
    assert_eq!(f["status"], "dropped", "{path}: {f:#}");
    let loc = &f["locations"][0];
    assert_eq!(loc["verified"], false, "{path}: {f:#}");
    assert!(
        loc.get("excerpt").is_none_or(|e| e.is_null()),
        "{path} quoted: {f:#}"
    );
    let note = loc["note"].as_str().unwrap_or("");
    assert!(
        note.contains(reason),
        "{path}: note `{note}` lacks `{reason}`"
    );
    let why = f["drop_reason"].as_str().unwrap_or("");
    assert!(
        why.contains(reason),
        "{path}: drop reason `{why}` lacks `{reason}`"
    );
}

#[test]
fn uncommitted_reads_follow_no_symlink_and_stay_out_of_git_and_folders() {
    let (repo, outside) = repo_with_outside();
    let out_dir = outside.path().display().to_string();
    // Committed symlinks: a folder outside, a file outside; and a plain folder.
    symlink(outside.path(), repo.path().join("etc")).unwrap();
    symlink(
        outside.path().join("shadow"),
        repo.path().join("shadow.txt"),
    )
    .unwrap();
    repo.write("src/lib/mod.py", "x = 1\n");
    repo.commit("Add links");
    repo.write("src/app.py", "def main():\n    return 2\n");
    let git_config = std::fs::read_to_string(repo.path().join(".git/config")).unwrap();
    let git_line = git_config.lines().next().unwrap().to_string();
    let absolute = format!("{out_dir}/shadow");
    let climbing = format!(
        "../{}/shadow",
        outside.path().file_name().unwrap().to_str().unwrap()
    );
    let findings = vec![
        citing("etc/shadow", SECRET),
        citing("shadow.txt", SECRET),
        citing(".git/config", &git_line),
        citing("src/lib", "mod.py"),
        citing(&absolute, SECRET),
        citing(&climbing, SECRET),
    ];
    let (v, report) = review_citing(&repo, findings, &["--uncommitted"]);

    assert_refused(&v, "etc/shadow", "symlink");
    assert_refused(&v, "shadow.txt", "symlink");
    assert_refused(&v, ".git/config", "`.git/`");
    assert_refused(&v, "src/lib", "not a regular file");
    assert_refused(&v, &absolute, "outside the reviewed tree");
    assert_refused(&v, &climbing, "outside the reviewed tree");
    let json = serde_json::to_string(&v).unwrap();
    for text in [&json, &report] {
        assert!(
            !text.contains("planted-shadow-hash"),
            "outside file quoted: {text}"
        );
        assert!(
            !text.contains("repositoryformatversion"),
            ".git/config quoted: {text}"
        );
    }
    assert!(report.contains("symlink"), "the report shows why: {report}");
}

#[test]
fn committed_reads_take_only_regular_blobs() {
    let (repo, outside) = repo_with_outside();
    let target = outside.path().join("shadow").display().to_string();
    symlink(&target, repo.path().join("shadow.txt")).unwrap();
    symlink(outside.path(), repo.path().join("etc")).unwrap();
    repo.write("src/lib/mod.py", "x = 1\n");
    repo.write("src/app.py", "def main():\n    return 2\n");
    repo.commit("Add links");
    let findings = vec![
        // `git show HEAD:shadow.txt` prints the link's target; `git show HEAD:src/lib` a listing.
        citing("shadow.txt", &target),
        citing("etc/shadow", SECRET),
        citing("src/lib", "mod.py"),
        citing(".git/config", "[core]"),
        citing("src/app.py", "def main():"),
    ];
    let (v, _) = review_citing(&repo, findings, &[]);
    assert_refused(&v, "shadow.txt", "symlink");
    assert_refused(&v, "etc/shadow", "does not exist");
    assert_refused(&v, "src/lib", "not a regular file");
    assert_refused(&v, ".git/config", "`.git/`");
    // A regular file is still read and quoted.
    let ok = finding_for(&v, "src/app.py");
    assert_eq!(ok["locations"][0]["verified"], true, "{ok:#}");
    assert_eq!(ok["status"], "reported", "{ok:#}");
}

/// What a gitignored `.env` holds: it must reach neither the model nor the review.
const ENV_VALUE: &str = "envfile-value-93f1c2ab";

#[test]
fn uncommitted_reviews_refuse_ignored_files_to_tools_and_citations() {
    use crate::http_model_server::Format;
    use crate::http_model_server::HttpModelServer;
    use crate::http_reviewers as http;
    let f = Format::OpenAi;
    let cite_env = json!({"schema": 1, "summary": "s", "verdict": "do_not_merge",
        "findings": [citing(".env", &format!("DEPLOY={ENV_VALUE}"))]});
    let server = HttpModelServer::start(vec![
        f.tools(
            &[
                ("read_file", json!({"path": ".env"})),
                ("read_file", json!({"path": "target/debug/build.log"})),
                ("grep", json!({"pattern": "envfile"})),
                ("list_dir", json!({})),
            ],
            (10, 10),
        ),
        f.answer(&cite_env.to_string(), (10, 10)),
    ]);
    let (repo, _outside) = http::setup(f, &server, "");
    repo.write(".gitignore", ".env\ntarget/\n");
    repo.commit("ignore");
    repo.write(".env", &format!("DEPLOY={ENV_VALUE}\n"));
    repo.write("target/debug/build.log", &format!("{ENV_VALUE}\n"));
    // The uncommitted change under review.
    repo.write(
        "src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n",
    );
    let out = http::review(
        &repo,
        Some(http::KEY),
        &["--uncommitted", "--format", "json"],
    );
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    let got = server.received();
    assert_eq!(got.len(), 2, "{}", stderr(&out));
    for r in &got {
        assert!(
            !r.body.contains(ENV_VALUE),
            "an ignored file reached the model"
        );
    }
    assert_eq!(
        got[1].body.matches("is ignored by git").count(),
        2,
        "both reads refused, saying why: {}",
        got[1].body
    );
    let v = repo.review_json();
    assert_refused(&v, ".env", "ignored by git");
    assert!(!stdout(&out).contains(ENV_VALUE));
    assert!(!v.to_string().contains(ENV_VALUE));
}
