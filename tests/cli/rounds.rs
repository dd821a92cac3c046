//! Incremental rounds of one local branch, with a scripted `command` reviewer that reports
//! what the code it reads holds: round 2 sees only the delta and closes what was fixed, a
//! rebase forces a full round 3, `--full` asks for one, and a round with no new commits is
//! skipped unless `--rerun`.

use crate::support::*;
use serde_json::Value;
use std::path::Path;

const DIV: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\n/// Divides.\npub fn div(a: i32, b: i32) -> i32 {\n    a / b\n}\n";
const PARSE: &str = "pub fn parse(s: &str) -> i32 {\n    s.parse().unwrap()\n}\n";
const CACHE: &str = "pub fn get(v: &[i32], i: usize) -> i32 {\n    v[i]\n}\n";

const A: &str = "Division by zero panics in div";
const B: &str = "parse unwraps a malformed number string";
const C: &str = "get indexes the slice without a bounds check";

/// A reviewer that reads the tree it is given: A wherever `a / b` is, B wherever
/// `s.parse().unwrap()` is, C wherever `v[i]` is, each at the line it finds.
fn reviewer(dir: &Path) -> std::path::PathBuf {
    let finding = |title: &str, file: &str, pattern: &str| {
        format!(
            r#"line=$(grep -nF '{pattern}' {file} 2>/dev/null | head -n 1 | cut -d: -f1)
if [ -n "$line" ]; then
  printf '%s{{"severity":"important","title":"{title}","body":"{title}: the caller panics on this input, and nothing upstream prevents it.","locations":[{{"path":"{file}","start_line":%s,"quote":"{pattern}"}}],"category":"correctness","confidence":0.9}}' "$sep" "$line"
  sep=,
fi
"#
        )
    };
    let body = format!(
        "cat > /dev/null\nsep=\nprintf '{{\"schema\":1,\"summary\":\"Reviewed.\",\"verdict\":\"merge_with_fixes\",\"findings\":['\n{}{}{}printf ']}}'\n",
        finding(A, "src/lib.rs", "a / b"),
        finding(B, "src/parse.rs", "s.parse().unwrap()"),
        finding(C, "src/cache.rs", "v[i]"),
    );
    script(dir, "reviewer.sh", &body)
}

fn review(repo: &Repo, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["review", "--agents", "alpha", "--format", "json"];
    args.extend_from_slice(extra);
    repo.run(&args)
}

fn reviewed(repo: &Repo, extra: &[&str]) -> Value {
    let out = review(repo, extra);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("json on stdout")
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

/// The lifecycle of the finding titled `title`: (status, first round).
fn lifecycle(review: &Value, title: &str) -> (String, u64) {
    let id = id_of(review, title);
    let l = review["rounds"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == id.as_str())
        .unwrap_or_else(|| panic!("no lifecycle for {id}: {review:#}"));
    (
        l["status"].as_str().unwrap().to_string(),
        l["first_round"].as_u64().unwrap(),
    )
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref()).unwrap_or_else(|e| panic!("{:?}: {e}", path.as_ref()))
}

fn reported_titles(review: &Value) -> Vec<String> {
    let mut t: Vec<String> = review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "reported")
        .map(|f| f["title"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

#[test]
fn three_rounds_of_one_branch_review_the_delta_close_what_was_fixed_and_go_full_after_a_rebase() {
    let repo = Repo::with_base(&[("README.md", "calc\n")]);
    repo.write("src/lib.rs", DIV);
    repo.write("src/parse.rs", PARSE);
    repo.commit("Add div and parse");
    let tools = tempfile::tempdir().unwrap();
    let alpha = reviewer(tools.path());
    config(&repo, &[("alpha", &alpha)], "");
    repo.commit("Configure the reviewer");

    // Round 1: A and B.
    let r1 = reviewed(&repo, &[]);
    assert_eq!(r1["change"]["round"], 1);
    assert_eq!(reported_titles(&r1), [A, B].map(String::from).to_vec());
    assert!(r1.get("rounds").is_none(), "a first round has no lifecycle");
    let first_dir = repo.round_dir();
    assert!(!read(first_dir.join("report.md")).contains("Since round"));

    // A commit fixes A and adds C.
    let r1_head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.write(
        "src/lib.rs",
        &DIV.replace("a / b", "a.checked_div(b).unwrap_or(0)"),
    );
    repo.write("src/cache.rs", CACHE);
    repo.commit("Fix div; add the cache");
    let r2 = reviewed(&repo, &[]);
    let round2 = repo.round_dir();
    assert_eq!(r2["change"]["round"], 2);
    assert_eq!(
        round2.parent(),
        first_dir.parent(),
        "the same branch keeps its review folder"
    );

    // Its brief: the delta in full, the whole change in summary, A and B listed as open.
    let brief = read(round2.join("brief.md"));
    assert!(brief.contains("## What changed since round 1"), "{brief}");
    assert!(brief.contains(&r1_head[..7]), "{brief}");
    assert!(
        brief.contains("+pub fn get(v: &[i32], i: usize) -> i32 {"),
        "{brief}"
    );
    assert!(brief.contains("a.checked_div(b).unwrap_or(0)"), "{brief}");
    assert!(
        !brief.contains("pub fn parse("),
        "round 1's part of the change is not shown again: {brief}"
    );
    assert!(brief.contains("## The whole change, in summary"), "{brief}");
    for file in [
        "`src/parse.rs` (+3 −0)",
        "`src/cache.rs` (+3 −0)",
        "`src/lib.rs` (+8 −0)",
    ] {
        assert!(brief.contains(file), "{file}: {brief}");
    }
    let open = &brief[brief
        .find("## Findings still open from round 1")
        .expect("open findings")..];
    let (a1, b1) = (id_of(&r1, A), id_of(&r1, B));
    assert!(
        open.contains(&format!("{a1} (important, first reported in round 1): {A}"))
            && open.contains("at src/lib.rs:7-7: a / b"),
        "{open}"
    );
    assert!(
        open.contains(&format!("{b1} (important, first reported in round 1): {B}"))
            && open.contains("at src/parse.rs:2-2: s.parse().unwrap()"),
        "{open}"
    );
    assert!(open.contains("UNTRUSTED-OPEN-FINDINGS"), "fenced: {open}");

    // Its report: A fixed, B still open (since round 1), C new.
    assert_eq!(reported_titles(&r2), [C, B].map(String::from).to_vec());
    assert_eq!(lifecycle(&r2, B), ("still_open".into(), 1));
    assert_eq!(lifecycle(&r2, C), ("new".into(), 2));
    let rounds = &r2["rounds"];
    assert_eq!(
        (
            &rounds["previous_round"],
            &rounds["mode"],
            &rounds["previous_head"]
        ),
        (
            &Value::from(1),
            &Value::from("incremental"),
            &Value::from(r1_head.as_str())
        )
    );
    let gone = rounds["gone"].as_array().unwrap();
    assert_eq!(gone.len(), 1, "{rounds:#}");
    assert_eq!(
        (&gone[0]["id"], &gone[0]["status"], &gone[0]["title"]),
        (
            &Value::from(a1.as_str()),
            &Value::from("fixed"),
            &Value::from(A)
        )
    );
    let md = read(round2.join("report.md"));
    let opening: Vec<&str> = md.lines().take(5).collect();
    assert_eq!(
        opening[2], "Since round 1: 1 fixed, 1 new, 1 still open",
        "{md}"
    );
    assert!(
        md.contains("Incremental review: what changed since"),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "- **{a1}** {A} (important, since round 1): fixed — `src/lib.rs:7`"
        )),
        "{md}"
    );
    assert!(
        md.contains("still open since round 1") && md.contains("new in round 2"),
        "{md}"
    );
    let sarif_text = read(round2.join("report.sarif"));
    if let Some(py) = crate::sarif::python() {
        crate::sarif::validate(&py, &sarif_text);
    }
    let sarif: Value = serde_json::from_str(&sarif_text).unwrap();
    let mut states: Vec<(String, String)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = r["message"]["text"].as_str().unwrap();
            let title = if text.contains(B) { "B" } else { "C" };
            (
                title.to_string(),
                r["baselineState"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    states.sort();
    assert_eq!(
        states,
        [("B", "unchanged"), ("C", "new")].map(|(a, b)| (a.to_string(), b.to_string()))
    );

    // A rebase (the last commit rewritten): the old head is not an ancestor, so a full round.
    let r2_head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.git(&["commit", "-q", "--amend", "-m", "Fix div; add a cache"]);
    let r3_head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let r3 = reviewed(&repo, &[]);
    let round3 = repo.round_dir();
    assert_eq!(r3["change"]["round"], 3);
    assert_eq!(r3["rounds"]["mode"], "full");
    let why = format!(
        "the previous head {} is not an ancestor of {} (rebased?)",
        &r2_head[..7],
        &r3_head[..7]
    );
    assert_eq!(r3["rounds"]["full_reason"], why.as_str());
    let md = read(round3.join("report.md"));
    assert!(
        md.contains("Since round 2: 0 fixed, 0 new, 2 still open"),
        "{md}"
    );
    assert!(md.contains(&format!("Full review: {why}.")), "{md}");
    let brief = read(round3.join("brief.md"));
    assert!(
        brief.contains("pub fn parse(") && brief.contains(&why),
        "{brief}"
    );
    assert!(
        brief.contains("## Findings still open from round 2"),
        "{brief}"
    );
    assert_eq!(lifecycle(&r3, B), ("still_open".into(), 1));
    assert_eq!(lifecycle(&r3, C), ("still_open".into(), 2));

    // No new commits: not run, said on stderr, no round written.
    let out = review(&repo, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains(&format!(
            "no new commits since round 3 reviewed {}",
            &r3_head[..7]
        )) && stderr(&out).contains("--rerun"),
        "{}",
        stderr(&out)
    );
    assert!(!round3.with_file_name("round-4").exists());
    // Unless asked: a full round on the same head.
    let r4 = reviewed(&repo, &["--rerun"]);
    assert_eq!(r4["change"]["round"], 4);
    assert_eq!(r4["rounds"]["mode"], "full");
    assert!(
        r4["rounds"]["full_reason"]
            .as_str()
            .unwrap()
            .starts_with("--rerun: round 3 reviewed this same head"),
        "{r4:#}"
    );

    // --full on a new commit: the whole change, though the old head is an ancestor.
    repo.write("NOTES.md", "notes\n");
    repo.commit("Add notes");
    let r5 = reviewed(&repo, &["--full"]);
    assert_eq!(r5["change"]["round"], 5);
    assert_eq!(r5["rounds"]["full_reason"], "--full was given");
    // Without it the next commit is incremental again.
    repo.write("NOTES.md", "more notes\n");
    repo.commit("More notes");
    let r6 = reviewed(&repo, &[]);
    assert_eq!(r6["rounds"]["mode"], "incremental");
    assert_eq!(lifecycle(&r6, B), ("still_open".into(), 1));
    let brief = read(repo.round_dir().join("brief.md"));
    assert!(
        brief.contains("+more notes") && !brief.contains("pub fn get("),
        "{brief}"
    );
}

#[test]
fn another_branch_is_another_subject() {
    let repo = Repo::with_base(&[("README.md", "calc\n")]);
    repo.write("src/parse.rs", PARSE);
    repo.commit("Add parse");
    let tools = tempfile::tempdir().unwrap();
    let alpha = reviewer(tools.path());
    config(&repo, &[("alpha", &alpha)], "");
    repo.commit("Configure the reviewer");
    let first = reviewed(&repo, &[]);
    repo.git(&["checkout", "-q", "-b", "other"]);
    let other = reviewed(&repo, &[]);
    assert_eq!(other["change"]["round"], 1, "{other:#}");
    assert_ne!(first["id"], other["id"]);
    assert!(other.get("rounds").is_none());
}
