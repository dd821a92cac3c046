//! Two rounds of one pull request on the local GitHub API server: round 2 posts only its new
//! finding inline, edits the summary in place, resolves the thread of a fixed finding, leaves
//! a thread where a human replied open, and holds back what a human dismissed (a reply, a 👎),
//! listing it in the summary with a link to its thread. A copied marker by another account
//! neither gets resolved nor counts as ours.

use crate::github_server::GitHub;
use crate::github_server::State;
use crate::github_server::DEFAULT_LOGIN;
use crate::support::*;
use serde_json::json;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// (title, file, the text the finding is about, the file's content).
const FINDINGS: &[(&str, &str, &str, &str)] = &[
    (
        "A: div panics on zero",
        "src/lib.rs",
        "a / b",
        "pub fn div(a: i32, b: i32) -> i32 {\n    a / b\n}\n",
    ),
    (
        "B: parse unwraps bad input",
        "src/parse.rs",
        "s.parse().unwrap()",
        "pub fn parse(s: &str) -> i32 {\n    s.parse().unwrap()\n}\n",
    ),
    (
        "D: narrowing cast truncates",
        "src/conv.rs",
        "x as u8",
        "pub fn narrow(x: u32) -> u8 {\n    x as u8\n}\n",
    ),
    (
        "E: sleeping in the handler",
        "src/wait.rs",
        "thread::sleep",
        "pub fn wait() {\n    std::thread::sleep(std::time::Duration::from_secs(1));\n}\n",
    ),
    (
        "F: mutable static is racy",
        "src/state.rs",
        "static mut",
        "pub static mut COUNT: u32 = 0;\n",
    ),
];
const C: (&str, &str, &str, &str) = (
    "C: get indexes without a bounds check",
    "src/cache.rs",
    "v[i]",
    "pub fn get(v: &[i32], i: usize) -> i32 {\n    v[i]\n}\n",
);

/// A reviewer that reports each finding wherever its text is in the tree it reads.
fn reviewer(dir: &Path) -> std::path::PathBuf {
    let mut body = String::from(
        "cat > /dev/null\nsep=\nprintf '{\"schema\":1,\"summary\":\"Reviewed.\",\"verdict\":\"merge_with_fixes\",\"findings\":['\n",
    );
    for (title, file, pattern, _) in FINDINGS.iter().chain([&C]) {
        body.push_str(&format!(
            r#"line=$(grep -nF '{pattern}' {file} 2>/dev/null | head -n 1 | cut -d: -f1)
if [ -n "$line" ]; then
  printf '%s{{"severity":"important","title":"{title}","body":"{title}, and nothing upstream prevents it.","locations":[{{"path":"{file}","start_line":%s,"quote":"{pattern}"}}],"category":"correctness","confidence":0.9}}' "$sep" "$line"
  sep=,
fi
"#
        ));
    }
    body.push_str("printf ']}'\n");
    script(dir, "reviewer.sh", &body)
}

struct Pr {
    _dirs: tempfile::TempDir,
    dirs: std::path::PathBuf,
    work: Repo,
    remote: std::path::PathBuf,
    github: GitHub,
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pr {
    fn new() -> Pr {
        let dirs = tempfile::tempdir().unwrap();
        let d = dirs.path().to_path_buf();
        let alpha = reviewer(&d);
        let config = format!(
            "[review]\nagents = [\"alpha\"]\n\n[agents.alpha]\nkind = \"command\"\ncommand = [\"{}\"]\n",
            alpha.display()
        );
        let work = Repo::with_base(&[("README.md", "calc\n"), (".deep-review.toml", &config)]);
        for (_, file, _, text) in FINDINGS {
            work.write(file, text);
        }
        work.commit("Add the calculator");
        let remote = d.join("remote.git");
        git(
            &d,
            &[
                "clone",
                "--bare",
                "--quiet",
                work.path().to_str().unwrap(),
                remote.to_str().unwrap(),
            ],
        );
        let repo_json = json!({"full_name": "acme/calc", "clone_url": remote.display().to_string(), "private": false});
        let state = State {
            pr: json!({"number": 7, "title": "Add the calculator", "body": "", "user": {"login": "alice"},
                "labels": [], "base": {"ref": "main", "sha": "", "repo": repo_json},
                "head": {"ref": "feature", "sha": "", "repo": repo_json},
                "html_url": "https://github.com/acme/calc/pull/7"}),
            ..State::default()
        };
        let pr = Pr {
            _dirs: dirs,
            dirs: d,
            work,
            remote,
            github: GitHub::start(state),
        };
        pr.push();
        pr
    }

    /// Publishes the work repository's HEAD as the PR's head, on the remote and the API.
    fn push(&self) {
        let w = &self.work;
        let head = w.git(&["rev-parse", "HEAD"]).trim().to_string();
        let base = w.git(&["rev-parse", "main"]).trim().to_string();
        git(
            &self.remote,
            &[
                "fetch",
                "--quiet",
                w.path().to_str().unwrap(),
                "+HEAD:refs/pull/7/head",
            ],
        );
        let diff = w.git(&["diff", "main...HEAD"]);
        let files: Vec<Value> = w
            .git(&["diff", "--name-only", "main...HEAD"])
            .lines()
            .map(|f| json!({"filename": f, "status": "added"}))
            .collect();
        let commits: Vec<Value> = w
            .git(&["rev-list", "--reverse", "main..HEAD"])
            .lines()
            .map(|sha| json!({"sha": sha, "commit": {"message": "change", "author": {"name": "Alice", "email": "a@example.com", "date": "2026-01-01T00:00:00Z"}}, "parents": []}))
            .collect();
        self.github.with(|s| {
            s.pr["head"]["sha"] = json!(head);
            s.pr["base"]["sha"] = json!(base);
            s.pr["changed_files"] = json!(files.len());
            s.diff = diff;
            s.files = files;
            s.commits = commits;
        });
    }

    fn post(&self) -> Value {
        let cwd = self.dirs.join("elsewhere");
        std::fs::create_dir_all(&cwd).unwrap();
        let out = Command::new(BIN)
            .args([
                "pr",
                "acme/calc#7",
                "--api-url",
                &self.github.url(),
                "--post",
                "--format",
                "json",
            ])
            .current_dir(&cwd)
            .env("DEEP_REVIEW_CONFIG", self.dirs.join("no-user-config.toml"))
            .env("DEEP_REVIEW_CACHE", self.dirs.join("cache"))
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("DEEP_REVIEW_GITHUB_LOGIN")
            .env("GITHUB_TOKEN", "test-token")
            .env("PATH", "/usr/bin:/bin:/usr/local/bin")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let mut review: Value = serde_json::from_str(&stdout(&out)).expect("json on stdout");
        review["_stderr"] = json!(stderr(&out));
        review
    }

    /// Our first comment on the finding titled `title`: (id, address).
    fn comment_on(&self, title: &str) -> (u64, String) {
        self.github.with(|s| {
            let c = s
                .comments
                .iter()
                .find(|c| {
                    c["user"]["login"] == DEFAULT_LOGIN
                        && c["in_reply_to_id"].is_null()
                        && c["body"].as_str().unwrap_or("").contains(title)
                })
                .unwrap_or_else(|| panic!("no comment of ours on {title}: {:#?}", s.comments));
            (
                c["id"].as_u64().unwrap(),
                c["html_url"].as_str().unwrap().to_string(),
            )
        })
    }
}

fn id_of(review: &Value, title: &str) -> String {
    review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == title && f["status"] == "reported")
        .unwrap_or_else(|| panic!("{title} is not reported: {review:#}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn round_two_posts_only_the_new_finding_resolves_what_was_fixed_and_holds_back_what_was_dismissed()
{
    let pr = Pr::new();
    let r1 = pr.post();
    let ours = |s: &State| -> Vec<Value> {
        s.comments
            .iter()
            .filter(|c| c["user"]["login"] == DEFAULT_LOGIN)
            .cloned()
            .collect()
    };
    assert_eq!(
        pr.github.with(|s| ours(s).len()),
        5,
        "round 1 comments on A, B, D, E, F"
    );
    let (a, _) = pr.comment_on(FINDINGS[0].0);
    let (b, _) = pr.comment_on(FINDINGS[1].0);
    let (d, d_url) = pr.comment_on(FINDINGS[2].0);
    let (e, _) = pr.comment_on(FINDINGS[3].0);
    let (f, f_url) = pr.comment_on(FINDINGS[4].0);
    let a_body = pr
        .github
        .with(|s| s.comments.iter().find(|c| c["id"] == a).unwrap()["body"].clone());
    pr.github.with(|s| {
        // A human talks on E's thread, dismisses D in a reply and F with a 👎; our own 👎 on
        // B dismisses nothing.
        s.reply(e, "alice", "Thanks, I will look at this.");
        s.reply(d, "alice", "Won't fix: the input is always below 256, by design.");
        s.react(f, "alice", "-1");
        s.react(b, DEFAULT_LOGIN, "-1");
        // Mallory copies our comment on A, marker and all, into a thread of her own.
        s.next_id += 1;
        let copy = 2000 + s.next_id;
        s.comments.push(json!({"id": copy, "body": a_body, "path": "src/lib.rs", "line": 2,
            "user": {"login": "mallory"}, "html_url": format!("https://github.com/acme/calc/pull/7#discussion_r{copy}")}));
        s.outdated.push(copy);
    });

    // Round 2 fixes A and E and adds C; GitHub marks the threads on changed lines outdated.
    pr.work.write(
        "src/lib.rs",
        "pub fn div(a: i32, b: i32) -> i32 {\n    a.checked_div(b).unwrap_or(0)\n}\n",
    );
    pr.work.write("src/wait.rs", "pub fn wait() {}\n");
    pr.work.write(C.1, C.3);
    pr.work.commit("Fix div and wait, add get");
    pr.push();
    pr.github.with(|s| {
        s.outdated.push(a);
        s.outdated.push(e);
    });
    let (summary_id, before) = pr
        .github
        .with(|s| (s.reviews[0]["id"].clone(), s.comments.len()));
    let r2 = pr.post();
    let err = r2["_stderr"].as_str().unwrap().to_string();

    assert_eq!(r2["rounds"]["mode"], "incremental", "{:#}", r2["rounds"]);
    let fixed: Vec<&str> = r2["rounds"]["gone"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["status"] == "fixed")
        .map(|g| g["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        fixed,
        vec![FINDINGS[0].0, FINDINGS[3].0],
        "{:#}",
        r2["rounds"]
    );

    // Only C is posted inline.
    let (comments, reviews, resolved) = pr
        .github
        .with(|s| (s.comments.clone(), s.reviews.clone(), s.resolved.clone()));
    let new: Vec<&Value> = comments[before..].iter().collect();
    assert_eq!(new.len(), 1, "only C is new: {new:#?}\n{err}");
    assert_eq!(new[0]["path"], C.1);
    assert!(new[0]["body"].as_str().unwrap().contains(C.0));

    // The summary is edited in place; C comes in one review of its own (one notification),
    // whose body says so.
    assert_eq!(reviews.len(), 2, "{reviews:#?}");
    assert_eq!(reviews[0]["id"], summary_id);
    assert_eq!(new[0]["pull_request_review_id"], reviews[1]["id"]);
    assert!(
        reviews[1]["body"]
            .as_str()
            .unwrap()
            .starts_with("**deep-review, round 2**: 1 new finding inline below"),
        "{:#}",
        reviews[1]
    );
    assert!(
        !pr.github.with(|s| s
            .log
            .contains(&"POST /repos/acme/calc/pulls/7/comments".to_string())),
        "no standalone comment"
    );
    let summary = reviews[0]["body"].as_str().unwrap();
    let c2 = id_of(&r2, C.0);
    assert!(
        summary.contains(&format!("| **{c2}** | {} |", C.0)),
        "round 2's summary: {summary}"
    );

    // Reactions are read only where the comments' reactions summary shows a 👎.
    let log = pr.github.with(|s| s.log.clone());
    let reads: Vec<&String> = log.iter().filter(|l| l.ends_with("/reactions")).collect();
    assert_eq!(
        reads,
        vec![
            &format!("GET /repos/acme/calc/pulls/comments/{b}/reactions"),
            &format!("GET /repos/acme/calc/pulls/comments/{f}/reactions"),
        ],
        "{log:#?}"
    );
    assert!(log.contains(&"POST /graphql".to_string()), "{log:#?}");

    // A's thread is resolved; E's (a human replied) and Mallory's copy are not.
    assert_eq!(resolved, vec![format!("PRRT_{a}")], "{err}");
    let e1 = id_of(&r1, FINDINGS[3].0);
    assert!(
        err.contains(&format!(
            "the thread of fixed finding {e1} stays open: someone replied in it"
        )),
        "{err}"
    );
    assert!(err.contains("1 thread resolved, 2 held back"), "{err}");

    // D and F are held back: not posted, listed with their threads' links.
    let (d2, f2) = (id_of(&r2, FINDINGS[2].0), id_of(&r2, FINDINGS[4].0));
    assert!(
        summary.contains(&format!(
            "- **{d2}** {} — dismissed by `alice` with a reply in [its thread]({d_url})",
            FINDINGS[2].0
        )),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "- **{f2}** {} — dismissed by `alice` with a 👎 in [its thread]({f_url})",
            FINDINGS[4].0
        )),
        "{summary}"
    );
    assert!(
        !summary.contains(&format!("| **{d2}** |")),
        "held back, not in the table: {summary}"
    );
    // B (our own 👎 counts for nothing) is still open, in the table, not held back.
    let b2 = id_of(&r2, FINDINGS[1].0);
    assert!(summary.contains(&format!("| **{b2}** |")), "{summary}");
    assert!(
        !summary.contains(&format!("**{b2}** {} — dismissed", FINDINGS[1].0)),
        "{summary}"
    );

    // Round 3: the agents are told who dismissed D and F, how, and where.
    pr.work.write("src/extra.rs", "pub fn extra() {}\n");
    pr.work.commit("Add extra");
    pr.push();
    pr.post();
    let brief = newest_brief(&pr.dirs);
    for (title, how, url) in [
        (FINDINGS[2].0, "reply", &d_url),
        (FINDINGS[4].0, "thumbs_down", &f_url),
    ] {
        let at = brief
            .find(title)
            .unwrap_or_else(|| panic!("{title} not open in {brief}"));
        let entry = &brief[at..];
        let entry = &entry[..entry.find("\n\n").unwrap_or(entry.len())];
        assert!(
            entry.contains(&format!(
                "dismissed on its review thread by alice ({how}) on {url}"
            )),
            "{entry}"
        );
    }
    assert!(
        !brief.contains("by tester"),
        "our own reaction is no dismissal"
    );
}

/// The brief of the newest round written under `dir`.
fn newest_brief(dir: &Path) -> String {
    let mut found: Vec<(std::time::SystemTime, std::path::PathBuf)> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "brief.md") {
                found.push((e.metadata().unwrap().modified().unwrap(), p));
            }
        }
    }
    found.sort();
    let (_, newest) = found.pop().expect("a brief");
    std::fs::read_to_string(newest).unwrap()
}

#[test]
fn when_the_threads_cannot_be_read_nothing_is_resolved_and_posting_goes_on() {
    let pr = Pr::new();
    pr.post();
    let (a, _) = pr.comment_on(FINDINGS[0].0);
    let (d, _) = pr.comment_on(FINDINGS[2].0);
    pr.work.write(
        "src/lib.rs",
        "pub fn div(a: i32, b: i32) -> i32 {\n    a.checked_div(b).unwrap_or(0)\n}\n",
    );
    pr.work.write(C.1, C.3);
    pr.work.commit("Fix div, add get");
    pr.push();
    let before = pr.github.with(|s| {
        s.reply(d, "alice", "won't fix");
        s.outdated.push(a);
        s.graphql_forbidden = true;
        s.comments.len()
    });
    let r2 = pr.post();
    let err = r2["_stderr"].as_str().unwrap();
    assert!(
        err.contains("could not read the PR's review threads (GraphQL errors: Resource not accessible by integration): no thread is resolved and no dismissal is honoured this time"),
        "{err}"
    );
    let (comments, resolved, summary) = pr.github.with(|s| {
        (
            s.comments.clone(),
            s.resolved.clone(),
            s.reviews[0]["body"].as_str().unwrap().to_string(),
        )
    });
    assert!(resolved.is_empty());
    // Still only C is posted (D is still open, so it is not posted again either way).
    let new: Vec<&Value> = comments[before..].iter().collect();
    assert_eq!(new.len(), 1, "{new:#?}");
    assert_eq!(new[0]["path"], C.1);
    assert!(!summary.contains("Held back"), "{summary}");
    assert!(err.contains("0 threads resolved, 0 held back"), "{err}");
}
