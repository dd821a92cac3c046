//! The review history (`.deep-review/history.sqlite`): three rounds of one branch counted by
//! hand, a review killed with SIGKILL, a database from a newer deep-review, `history`.

use crate::support::*;
use serde_json::json;
use serde_json::Value;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

const DIV: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\n/// Divides.\npub fn div(a: i32, b: i32) -> i32 {\n    a / b\n}\n";
const PARSE: &str = "pub fn parse(s: &str) -> i32 {\n    s.parse().unwrap()\n}\n";
const CACHE: &str = "pub fn get(v: &[i32], i: usize) -> i32 {\n    v[i]\n}\n";

fn db_path(repo: &Repo) -> PathBuf {
    repo.path().join(".deep-review/history.sqlite")
}

fn finding(title: &str, path: &str, line: u32, quote: &str) -> Value {
    json!({
        "severity": "important",
        "title": title,
        "body": format!("{title}: the caller's process panics on this input, and nothing upstream prevents it."),
        "locations": [{"path": path, "start_line": line, "quote": quote}],
        "category": "correctness",
        "confidence": 0.9
    })
}

/// A: `div` divides by zero (src/lib.rs:7). B: `parse` unwraps (src/parse.rs:2). C: `get`
/// indexes unchecked (src/cache.rs:2). X: a citation of a file that does not exist.
fn a() -> Value {
    finding("Division by zero panics in div", "src/lib.rs", 7, "a / b")
}
fn b() -> Value {
    finding(
        "parse unwraps a malformed number string",
        "src/parse.rs",
        2,
        "s.parse().unwrap()",
    )
}
fn c() -> Value {
    finding(
        "get indexes the slice without a bounds check",
        "src/cache.rs",
        2,
        "v[i]",
    )
}
fn x() -> Value {
    finding(
        "Leaked file handle in the loader",
        "src/loader.rs",
        3,
        "File::open(p)",
    )
}

fn answer(findings: Vec<Value>) -> Value {
    json!({"schema": 1, "summary": "Reviewed.", "verdict": "merge_with_fixes", "findings": findings})
}

/// Sets what the agents `alpha` and `beta` answer in the next review.
fn answers(tools: &Path, alpha: Vec<Value>, beta: Vec<Value>) -> (PathBuf, PathBuf) {
    (
        answering_agent(tools, "alpha", &answer(alpha)),
        answering_agent(tools, "beta", &answer(beta)),
    )
}

fn review(repo: &Repo) -> Value {
    let out = repo.run(&["review", "--agents", "alpha,beta", "--format", "json"]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("history was not updated"),
        "{}",
        stderr(&out)
    );
    serde_json::from_str(&stdout(&out)).expect("json on stdout")
}

fn status_of(review: &Value, title: &str) -> String {
    review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == title)
        .unwrap_or_else(|| panic!("no finding {title}: {review:#}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn agent<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == name || a["name"] == name)
        .unwrap_or_else(|| panic!("no agent {name}: {doc:#}"))
}

#[test]
fn three_rounds_of_one_branch_give_the_numbers_counted_by_hand() {
    let repo = Repo::with_base(&[("README.md", "calc\n")]);
    repo.write("src/lib.rs", DIV);
    repo.write("src/parse.rs", PARSE);
    repo.commit("Add div and parse");
    let tools = tempfile::tempdir().unwrap();

    // Round 1: alpha reports A, B and X (X cites a file that does not exist); beta reports A.
    let (alpha, beta) = answers(tools.path(), vec![a(), b(), x()], vec![a()]);
    config(&repo, &[("alpha", &alpha), ("beta", &beta)], "");
    repo.commit("Configure the reviewers");
    let r1 = review(&repo);
    assert_eq!(status_of(&r1, "Division by zero panics in div"), "reported");
    assert_eq!(
        status_of(&r1, "parse unwraps a malformed number string"),
        "reported"
    );
    assert_eq!(
        status_of(&r1, "Leaked file handle in the loader"),
        "dropped"
    );
    assert!(
        r1["agents"][0]["metrics"].get("record").is_none(),
        "no history before the first review"
    );

    // Round 2: A is fixed (its line changed), C is added; alpha reports B and C, beta C.
    repo.write(
        "src/lib.rs",
        &DIV.replace("a / b", "a.checked_div(b).unwrap_or(0)"),
    );
    repo.write("src/cache.rs", CACHE);
    repo.commit("Fix div; add the cache");
    answers(tools.path(), vec![b(), c()], vec![c()]);
    let r2 = review(&repo);
    assert_eq!(
        status_of(&r2, "get indexes the slice without a bounds check"),
        "reported"
    );
    // The retro holds the record from before this review: round 1 only.
    let rec = &r2["agents"][0]["metrics"]["record"];
    assert_eq!(r2["agents"][0]["name"], "alpha");
    assert_eq!(
        (&rec["reviews"], &rec["findings"], &rec["survived"]),
        (&json!(1), &json!(3), &json!(2))
    );
    assert_eq!(rec["followed"], 0, "{rec:#}");

    // Round 3: B is fixed (its line changed); C's code is unchanged but nobody reports it
    // (withdrawn, not fixed). alpha reports nothing; beta one uncited suggestion (held back).
    repo.write("src/parse.rs", &PARSE.replace("unwrap()", "unwrap_or(0)"));
    repo.commit("Fix parse");
    let held = json!({
        "severity": "suggestion",
        "title": "Consider documenting the cache's growth",
        "body": "Nothing says how large the cache may grow.",
        "locations": [],
        "category": "docs",
        "confidence": 0.3
    });
    answers(tools.path(), vec![], vec![held]);
    let r3 = review(&repo);
    assert_eq!(
        status_of(&r3, "Consider documenting the cache's growth"),
        "held_back"
    );
    let rec = &r3["agents"][0]["metrics"]["record"];
    // Before round 3: round 1's A and B were followed by round 2, which found A fixed.
    assert_eq!((&rec["followed"], &rec["fixed"]), (&json!(2), &json!(1)));
    // By its id: folders started in the same second do not sort by time.
    let round = repo.path().join(format!(
        ".deep-review/reviews/{}/round-{}/report.md",
        r3["id"].as_str().unwrap(),
        r3["change"]["round"]
    ));
    let md = std::fs::read_to_string(round).unwrap();
    assert!(md.contains("### Record so far"), "{md}");
    assert!(md.contains("1 of 2 (50%)"), "{md}");

    // By hand, over the three rounds:
    // alpha: findings 3 + 2 + 0; survived A, B (r1), B, C (r2); unique B (r1), B (r2);
    //   dropped X (invalid citation); reported 4; followed A, B (r1), B, C (r2); fixed A (r1,
    //   by round 2), B (r2, by round 3); C was withdrawn (its code did not change).
    // beta: findings 1 + 1 + 1; survived A (r1), C (r2); held back 1; followed A, C; fixed A.
    let out = repo.run(&["stats", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stats: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let expect = [
        ("alpha", [3, 5, 4, 2, 0, 1, 1, 0, 4, 4, 2]),
        ("beta", [3, 3, 2, 0, 1, 0, 0, 0, 2, 2, 1]),
    ];
    let keys = [
        "reviews",
        "findings",
        "survived",
        "unique_insights",
        "held_back",
        "dropped",
        "invalid_citations",
        "refuted",
        "reported",
        "followed",
        "fixed",
    ];
    for (name, want) in expect {
        let a = agent(&stats, name);
        for (k, w) in keys.iter().zip(want) {
            assert_eq!(a[k], json!(w), "{name}.{k}: {a:#}");
        }
        assert_eq!(a["fixed_share"], json!(0.5), "{name}: {a:#}");
        assert_eq!(a["kind"], "command");
        assert!(a["median_duration_ms"].is_u64(), "{a:#}");
    }
    // The table says the same.
    let out = repo.run(&["stats"]);
    let table = stdout(&out);
    assert!(
        table.contains("| alpha | 3 | 5 | 4 | 2 | 1 | 2 of 4 (50%) |"),
        "{table}"
    );
    // --since a day ago keeps all three; a date in the future keeps none.
    let recent: Value =
        serde_json::from_str(&stdout(&repo.run(&["stats", "--since", "1d", "--json"]))).unwrap();
    assert_eq!(agent(&recent, "alpha")["reviews"], 3);
    let none: Value = serde_json::from_str(&stdout(&repo.run(&[
        "stats",
        "--since",
        "2999-01-01",
        "--json",
    ])))
    .unwrap();
    assert_eq!(none["agents"], json!([]));
    let bad = repo.run(&["stats", "--since", "last tuesday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("30d"), "{}", stderr(&bad));

    // `history` lists the three reviews, newest first.
    let out = repo.run(&["history", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let h: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let heads: Vec<&str> = h["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["head_sha"].as_str().unwrap())
        .collect();
    let want: Vec<String> = [&r3, &r2, &r1]
        .iter()
        .map(|r| r["change"]["head_sha"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(heads, want);
    let subject = h["reviews"][0]["subject"].as_str().unwrap();
    assert!(subject.ends_with(":feature"), "{subject}");
    assert_eq!(h["reviews"][2]["important"], 2, "round 1 reported A and B");
    let table = stdout(&repo.run(&["history"]));
    assert!(table.starts_with("| Date | Subject | Round | Verdict | Findings | Agents |"));
    assert_eq!(table.lines().filter(|l| l.contains(":feature")).count(), 3);
    assert!(table.contains("| 2I | alpha, beta |"), "{table}");
    // The database is excluded from git like the rest of deep-review's output.
    assert!(db_path(&repo).exists());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

fn spawn_review(repo: &Repo, args: &[&str]) -> std::process::Child {
    Command::new(BIN)
        .args(args)
        .current_dir(repo.path())
        .env("DEEP_REVIEW_CONFIG", repo.path().join("none.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("deep-review starts")
}

fn one_file_repo() -> Repo {
    let repo = Repo::with_base(&[("README.md", "calc\n")]);
    repo.write("src/lib.rs", DIV);
    repo.commit("Add div");
    repo
}

#[test]
fn history_survives_a_sigkill_in_the_middle_of_a_review() {
    let repo = one_file_repo();
    let tools = tempfile::tempdir().unwrap();
    let good = answering_agent(tools.path(), "good", &answer(vec![a()]));
    let started = tools.path().join("started");
    let slow = script(
        tools.path(),
        "slow.sh",
        &format!("cat > /dev/null\ntouch '{}'\nsleep 600", started.display()),
    );
    config(&repo, &[("good", &good), ("slow", &slow)], "");
    repo.commit("Configure the reviewers");
    for _ in 0..2 {
        let out = repo.run(&["review", "--agents", "good", "--rerun"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let mut child = spawn_review(&repo, &["review", "--agents", "good,slow", "--rerun"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the slow agent never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();

    let conn = rusqlite::Connection::open(db_path(&repo)).expect("the database opens");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let reviews: i64 = conn
        .query_row("SELECT COUNT(*) FROM reviews", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reviews, 2, "both completed reviews, and not the killed one");
    let slow_runs: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM agent_runs WHERE name = 'slow'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(slow_runs, 0);
    drop(conn);
    // The next review records as usual: nothing was left locked.
    let out = repo.run(&["review", "--agents", "good", "--rerun"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("history was not updated"));
    let h: Value = serde_json::from_str(&stdout(&repo.run(&["history", "--json"]))).unwrap();
    assert_eq!(h["reviews"].as_array().unwrap().len(), 3);
}

#[test]
fn a_database_from_a_newer_deep_review_is_refused_and_never_fails_a_review() {
    let repo = one_file_repo();
    let tools = tempfile::tempdir().unwrap();
    let good = answering_agent(tools.path(), "good", &answer(vec![a()]));
    config(&repo, &[("good", &good)], "");
    repo.commit("Configure the reviewer");
    let out = repo.run(&["review", "--agents", "good"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(db_path(&repo)).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);

    for cmd in [&["history"][..], &["stats", "--json"][..]] {
        let out = repo.run(cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        let err = stderr(&out);
        assert!(
            err.contains("schema version 999") && err.contains("upgrade deep-review"),
            "{cmd:?}: {err}"
        );
        assert!(stdout(&out).is_empty());
    }
    // A review still succeeds; the history is left as it was, and stderr says why.
    let out = repo.run(&["review", "--agents", "good", "--format", "json", "--rerun"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the review history was not updated")
            && stderr(&out).contains("schema version 999"),
        "{}",
        stderr(&out)
    );
    let conn = rusqlite::Connection::open(db_path(&repo)).unwrap();
    let (v, n): (i64, i64) = (
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap(),
        conn.query_row("SELECT COUNT(*) FROM reviews", [], |r| r.get(0))
            .unwrap(),
    );
    assert_eq!((v, n), (999, 1));
}

#[test]
fn history_of_a_repository_without_reviews_says_so_and_creates_nothing() {
    let repo = one_file_repo();
    let out = repo.run(&["history"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no history yet"), "{}", stderr(&out));
    assert!(!db_path(&repo).exists());
}

#[test]
fn reviews_sent_elsewhere_with_out_are_still_in_the_repositorys_history() {
    let repo = one_file_repo();
    let tools = tempfile::tempdir().unwrap();
    let good = answering_agent(tools.path(), "good", &answer(vec![a()]));
    config(&repo, &[("good", &good)], "");
    repo.commit("Configure the reviewer");
    let out_dir = tempfile::tempdir().unwrap();
    let out_s = out_dir.path().display().to_string();
    let out = repo.run(&["review", "--agents", "good", "--out", &out_s]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The review root holds only review folders; the history is the repository's, excluded.
    let entries: Vec<_> = std::fs::read_dir(out_dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
    assert!(db_path(&repo).exists());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let h: Value = serde_json::from_str(&stdout(&repo.run(&["history", "--json"]))).unwrap();
    assert_eq!(h["reviews"].as_array().unwrap().len(), 1);
    let db = db_path(&repo).display().to_string();
    let elsewhere = tempfile::tempdir().unwrap();
    let h = run_in(elsewhere.path(), &["history", "--db", &db, "--json"]);
    assert_eq!(h.status.code(), Some(0), "{}", stderr(&h));
}
