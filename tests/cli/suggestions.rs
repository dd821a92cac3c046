//! Committable suggestions through the real pipeline: agents give `locations[].replacement`;
//! review.json keeps a valid one with its verified range, drops each invalid one with a note
//! saying why, keeps none when two conflict, and the Markdown report shows the kept one as a
//! diff.

use crate::support::*;
use serde_json::json;
use serde_json::Value;

const GET: &str = "        self.map.get(key).unwrap().clone()";
const FIXED_GET: &str = "        self.map.get(key).cloned().unwrap_or_default()";

/// `src/cache.rs` is new (one hunk, lines 1-10); `src/lib.rs` has 30 lines of which the change
/// edits 5 and 25 (hunks 2-8 and 22-28).
fn repo() -> Repo {
    let lib = |five: &str, twenty_five: &str| -> String {
        (1..=30)
            .map(|n| match n {
                5 => format!("{five}\n"),
                25 => format!("{twenty_five}\n"),
                _ => format!("pub fn f{n}() -> u32 {{ {n} }}\n"),
            })
            .collect()
    };
    let r = Repo::with_base(&[
        ("src/cache.rs", "pub struct Cache;\n"),
        (
            "src/lib.rs",
            &lib("pub fn f5() -> u32 { 5 }", "pub fn f25() -> u32 { 25 }"),
        ),
    ]);
    r.write(
        "src/cache.rs",
        &format!("pub struct Cache {{\n    map: std::collections::HashMap<String, String>,\n}}\n\nimpl Cache {{\n    /// Gets a value.\n    pub fn get(&self, key: &str) -> String {{\n{GET}\n    }}\n}}\n"),
    );
    r.write(
        "src/lib.rs",
        &lib(
            "pub fn f5() -> u32 { 5 + 0 }",
            "pub fn f25() -> u32 { 25 * 1 }",
        ),
    );
    r.commit("Add cache lookups and tweak constants");
    r
}

fn answer(findings: Value) -> Value {
    json!({"schema": 1, "summary": "", "findings": findings})
}

fn panic_finding(severity: &str, replacement: &str) -> Value {
    json!({
        "severity": severity,
        "title": "get() panics on a missing key",
        "body": "`self.map.get(key).unwrap()` panics when the key is absent, crashing the caller.",
        "locations": [{"path": "src/cache.rs", "start_line": 8, "quote": GET.trim(), "replacement": replacement}],
        "category": "correctness"
    })
}

fn multiply_finding(replacement: &str) -> Value {
    json!({
        "severity": "important",
        "title": "f25 multiplies by one for nothing",
        "body": "`25 * 1` in f25 hides the constant behind a pointless multiplication.",
        "locations": [{"path": "src/lib.rs", "start_line": 25, "quote": "pub fn f25() -> u32 { 25 * 1 }", "replacement": replacement}]
    })
}

fn by_title<'a>(v: &'a Value, title: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == title)
        .unwrap_or_else(|| panic!("no finding {title}: {v:#}"))
}

#[test]
fn valid_replacements_survive_invalid_ones_are_dropped_with_a_note_and_the_report_shows_a_diff() {
    let repo = repo();
    let tools = tempfile::tempdir().unwrap();
    let codex = answering_agent(
        tools.path(),
        "codex",
        &answer(json!([
            panic_finding("important", &format!("{FIXED_GET}\n")),
            {
                "severity": "suggestion",
                "title": "Name f12 after what it returns",
                "body": "Twelve would read better than f12 for callers.",
                "locations": [{"path": "src/lib.rs", "start_line": 12, "quote": "pub fn f12() -> u32 { 12 }", "replacement": "pub fn twelve() -> u32 { 12 }"}],
                "confidence": 0.9
            },
            {
                "severity": "important",
                "title": "Doc comment claims a default value",
                "body": "The documentation of Cache::get promises behaviour for absent entries it lacks.",
                "locations": [
                    {"path": "src/cache.rs", "start_line": 6},
                    {"path": "src/cache.rs", "start_line": 60, "replacement": "    /// Gets a value or the empty string."}
                ]
            },
            {
                "severity": "important",
                "title": "Closing braces of impl block misplaced",
                "body": "Indentation of the trailing braces confuses rustfmt users.",
                "locations": [{"path": "src/cache.rs", "start_line": 9, "end_line": 14, "quote": "}", "replacement": "    }\n}\n\n\n\n"}]
            }
        ])),
    );
    let claude = answering_agent(
        tools.path(),
        "claude",
        &answer(json!([
            {
                "severity": "important",
                "title": "f5 adds a needless zero",
                "body": "`5 + 0` in f5 is noise that reviewers must read twice.",
                "locations": [{"path": "src/lib.rs", "start_line": 5, "quote": "pub fn f5() -> u32 { 5 + 0 }", "replacement": "```rust\npub fn f5() -> u32 { 5 }\n```"}]
            },
            multiply_finding("pub fn f25() -> u32 { 25 }"),
            {
                "severity": "important",
                "title": "Map field lacks a capacity hint",
                "body": "Construct the HashMap with a capacity to avoid rehashing while it fills.",
                "locations": [{"path": "src/cache.rs", "start_line": 2, "replacement": "    map: std::collections::HashMap<String, String>, // sized"}]
            }
        ])),
    );
    let gemini = answering_agent(
        tools.path(),
        "gemini",
        &answer(json!([
            panic_finding(
                "suggestion",
                "        self.map.get(key).cloned().unwrap_or_else(String::new)"
            ),
            multiply_finding("pub fn f25() -> u32 {\n    25\n}")
        ])),
    );
    config(
        &repo,
        &[("codex", &codex), ("claude", &claude), ("gemini", &gemini)],
        "",
    );
    let out = repo.run(&[
        "review",
        "--agents",
        "codex,claude,gemini",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = repo.review_json();

    // The highest-severity member's valid replacement, with the verified range.
    let panic = by_title(&v, "get() panics on a missing key");
    assert_eq!(panic["status"], "reported");
    assert_eq!(
        panic["replacement"],
        json!({"path": "src/cache.rs", "start_line": 8, "end_line": 8, "text": FIXED_GET})
    );
    let id = |title: &str| by_title(&v, title)["id"].as_str().unwrap().to_string();
    for title in [
        "Name f12 after what it returns",
        "Doc comment claims a default value",
        "Closing braces of impl block misplaced",
        "f5 adds a needless zero",
        "f25 multiplies by one for nothing",
        "Map field lacks a capacity hint",
    ] {
        let f = by_title(&v, title);
        assert_eq!(f["status"], "reported", "{f:#}");
        assert!(f.get("replacement").is_none(), "{f:#}");
    }
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let expected = [
        format!("{}: the replacement from gemini (its finding 0, suggestion) was set aside for the one from codex (its finding 0, important), the higher severity.", id("get() panics on a missing key")),
        format!("{}: the replacement from codex (its finding 1, suggestion) was dropped: `src/lib.rs:12` is not inside one hunk of the diff, where a suggestion can be placed.", id("Name f12 after what it returns")),
        format!("{}: the replacement from codex (its finding 2, important) was dropped: its location `src/cache.rs:60` is not verified (line 60 does not exist: `src/cache.rs` has 10 lines).", id("Doc comment claims a default value")),
        format!("{}: the replacement from codex (its finding 3, important) was dropped: the cited lines were cut to `src/cache.rs:9-10` to fit the file, so it would not replace what it was written for.", id("Closing braces of impl block misplaced")),
        format!("{}: the replacement from claude (its finding 0, important) was dropped: it contains a code fence.", id("f5 adds a needless zero")),
        format!("{}: the replacement from claude (its finding 2, important) was dropped: its location `src/cache.rs:2` has no `quote`, so nothing confirms which lines it replaces.", id("Map field lacks a capacity hint")),
        format!("{}: no replacement: claude (its finding 1, important) and gemini (its finding 1, important) propose different ones at the same severity.", id("f25 multiplies by one for nothing")),
    ];
    for e in &expected {
        assert!(
            notes.contains(&e.as_str()),
            "missing note {e}\nin {notes:#?}"
        );
    }
    let about_replacements = notes.iter().filter(|n| n.contains("replacement")).count();
    assert_eq!(about_replacements, expected.len(), "{notes:#?}");

    // The Markdown report: the kept replacement as a diff, the notes under the process notes.
    let report = std::fs::read_to_string(repo.round_dir().join("report.md")).unwrap();
    let diff = format!(
        "**Suggested change** (`src/cache.rs:8`, committable):\n\n```diff\n-{GET}\n+{FIXED_GET}\n```\n"
    );
    assert!(report.contains(&diff), "{report}");
    assert_eq!(
        report.matches("**Suggested change**").count(),
        1,
        "{report}"
    );
    assert!(report.contains(&format!("- {}\n", expected[4])), "{report}");
    // `render` of the saved review.json gives the same section.
    let rendered = stdout(&repo.run(&["render", repo.round_dir().to_str().unwrap()]));
    assert!(rendered.contains(&diff), "{rendered}");
}

#[test]
fn the_brief_asks_for_replacements_only_for_small_certain_fixes_and_the_schema_offers_one() {
    let repo = repo();
    let tools = tempfile::tempdir().unwrap();
    let a = answering_agent(tools.path(), "a", &answer(json!([])));
    config(&repo, &[("a", &a)], "");
    let out = repo.run(&["review", "--agents", "a", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let brief = std::fs::read_to_string(repo.round_dir().join("brief.md")).unwrap();
    let rule = brief
        .lines()
        .find(|l| l.contains("`replacement`"))
        .unwrap_or_else(|| panic!("no replacement rule in the brief:\n{brief}"));
    assert!(
        rule.starts_with("- Only for a small fix you are certain of"),
        "{rule}"
    );
    assert!(
        rule.contains("leave it out whenever you are unsure"),
        "{rule}"
    );
    assert!(rule.contains("within one hunk of the diff"), "{rule}");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.round_dir().join("findings.schema.json")).unwrap(),
    )
    .unwrap();
    let finding_location = &schema["properties"]["findings"]["items"]["properties"]["locations"]
        ["items"]["properties"]["replacement"];
    assert_eq!(finding_location["type"], "string", "{schema:#}");
    assert!(finding_location["description"]
        .as_str()
        .unwrap()
        .starts_with("Only for a small fix you are certain of"));
    assert!(
        schema["properties"]["observations"]["items"]["properties"]["locations"]["items"]
            ["properties"]
            .get("replacement")
            .is_none()
    );
}

#[test]
fn saved_answers_consolidated_without_the_change_keep_no_replacement_and_say_why() {
    let repo = repo();
    let run = tempfile::tempdir().unwrap();
    let answer_file = run.path().join("codex.json");
    std::fs::write(
        &answer_file,
        answer(json!([panic_finding("important", FIXED_GET)])).to_string(),
    )
    .unwrap();
    let out = repo.run(&[
        "consolidate",
        "--agent",
        &format!("codex={}", answer_file.display()),
        "--repo",
        repo.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let f = by_title(&v, "get() panics on a missing key");
    assert_eq!(f["locations"][0]["verified"], true, "{f:#}");
    assert!(f.get("replacement").is_none(), "{f:#}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(
            "there is no diff to place it in (the answers were consolidated without the change)"
        ),
        "{notes}"
    );
}
