//! A big change (about 100,000 lines in 370 files): the brief stays within its budget and
//! still shows the start of nearly every changed source file.

use crate::generated;
use crate::support::*;

#[test]
fn a_big_change_shows_the_first_hunk_of_nine_in_ten_source_files() {
    let dir = tempfile::tempdir().unwrap();
    let sources = generated::big_change(dir.path());
    let out = run_in(
        dir.path(),
        &[
            "review", "--base", "main", "--agents", "builtin", "--format", "json",
        ],
    );
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert!(
        v["change"]["files_changed"].as_u64().unwrap() >= 360,
        "{:#}",
        v["change"]
    );
    let added = v["change"]["lines_added"].as_u64().unwrap()
        + v["change"]["lines_removed"].as_u64().unwrap();
    assert!(added >= 95_000, "{added}");
    let reviews = dir.path().join(".deep-review/reviews");
    let review = std::fs::read_dir(&reviews)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let brief = std::fs::read_to_string(review.join("round-1/brief.md")).unwrap();
    let diff = brief
        .split("<<<UNTRUSTED-DIFF")
        .nth(1)
        .and_then(|d| d.split("UNTRUSTED-DIFF").next())
        .expect("a fenced diff");
    assert!(diff.len() <= 320_100, "{}", diff.len());
    // A source file counts when its section shows at least one added line with its number.
    let mut shown = 0;
    for section in diff.split("\n=== ").skip(1) {
        let path = section.split(' ').next().unwrap_or("");
        let is_source = (path.starts_with("src/") || path.starts_with("scripts/"))
            && !section.starts_with(&format!("{path} (deleted)"));
        if is_source
            && section.lines().any(|l| {
                l.len() > 7 && l[..6].trim().parse::<u32>().is_ok() && l[7..].starts_with('+')
            })
        {
            shown += 1;
        }
    }
    assert!(
        shown * 10 >= sources * 9,
        "{shown} of {sources} source files shown"
    );
    // Every file not shown whole is listed with its size, the lockfile as generated.
    assert!(
        brief.contains("- `Cargo.lock` (+5000 −0): a lockfile or generated file"),
        "{}",
        &brief[brief.len().saturating_sub(3000)..]
    );
    assert!(
        brief.contains("- `docs/page_14.md` (+200 −0): "),
        "docs are the first to go"
    );
    // Line numbers are exact: the first block of module 0 starts at line 16 of the head.
    assert!(
        diff.contains("    16 +    let added_0_0_0 = transform(value_0_15, 0); // new step\n"),
        "{}",
        &diff[..3000]
    );
}
