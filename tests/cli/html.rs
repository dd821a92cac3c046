//! The HTML report: written beside report.md in every round folder, the same page as
//! `--format html`; a seed-like review opened in headless Chromium (Debian's package, driven by
//! playwright-core; both installed by .ci/run) at desktop and phone widths, light and dark,
//! loads nothing from the network and shows every finding's anchor; a review full of hostile
//! strings renders inert.
//!
//! Where Chromium or playwright-core is missing the browser tests say so loudly on stderr;
//! under CI (`CI` set) that is a failure, not a skip.

use crate::support::*;
use serde_json::json;
use serde_json::Value;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/review/seed-like.json"
);
const CHECK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/html/check.cjs");
/// Screenshots and PDFs land here, to be looked at.
const OUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/html-report");
/// Every finding of the fixture: reported, held back, dropped.
const IDS: [&str; 6] = ["I1", "I2", "S1", "S2", "H1", "D1"];

/// The browser: Chromium (`DEEP_REVIEW_CHROMIUM`, else /usr/bin/chromium) and the folder
/// holding playwright-core (`DEEP_REVIEW_PLAYWRIGHT`, else target/playwright/node_modules).
fn browser() -> Option<(PathBuf, PathBuf)> {
    let chromium = std::env::var_os("DEEP_REVIEW_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let modules = std::env::var_os("DEEP_REVIEW_PLAYWRIGHT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/playwright/node_modules"
            ))
        });
    if chromium.exists() && modules.join("playwright-core/package.json").exists() {
        return Some((chromium, modules));
    }
    let msg = format!(
        "headless browser not found: need {} (apt-get install chromium) and playwright-core in {} (run .ci/run, or its npm install line)",
        chromium.display(),
        modules.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPED headless-browser test: {msg} !!!!!!!!\n");
    None
}

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap()
}

/// Writes `review` as review.json in a temp dir and renders it with `render --format html`.
fn render(review: &Value) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("review.json"),
        serde_json::to_string(review).unwrap(),
    )
    .unwrap();
    let out = run_in(dir.path(), &["render", ".", "--format", "html"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = stdout(&out);
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    (dir, page, html)
}

/// Opens `page` in the browser at every width and scheme; one result per view.
fn look(chromium: &Path, modules: &Path, page: &Path, name: &str) -> Vec<Value> {
    std::fs::create_dir_all(OUT).unwrap();
    let out = Command::new("node")
        .arg(CHECK)
        .arg(modules)
        .arg(chromium)
        .arg(page)
        .arg(OUT)
        .arg(name)
        .args(IDS)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "check.cjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let views: Vec<Value> = serde_json::from_slice(&out.stdout).expect("check.cjs prints JSON");
    assert_eq!(views.len(), 4, "desktop, phone, and both in dark");
    views
}

/// What every view of every report must show: nothing fetched, no dialog, no script run,
/// every finding's anchor present once, visible, and linking to itself.
fn assert_inert_and_anchored(views: &[Value]) {
    for v in views {
        let view = &v["view"];
        assert_eq!(v["requests"], json!([]), "{view}: loaded a resource");
        assert_eq!(v["dialogs"], json!([]), "{view}: a script opened a dialog");
        assert_eq!(v["dom"]["pwned"], Value::Null, "{view}: a script ran");
        assert_eq!(v["dom"]["scripts"], 0, "{view}: a <script> element");
        assert_eq!(v["dom"]["handlers"], json!([]), "{view}: event handlers");
        assert_eq!(v["dom"]["srcs"], json!([]), "{view}: an element with src");
        for href in v["dom"]["hrefs"].as_array().unwrap() {
            let href = href.as_str().unwrap();
            assert!(
                href.starts_with('#') || href.starts_with("https://github.com/"),
                "{view}: link to {href}"
            );
        }
        for id in IDS {
            assert_eq!(
                v["anchors"][id],
                json!({"count": 1, "visible": true, "selfLink": true}),
                "{view}: anchor of {id}"
            );
        }
        assert!(
            v["dom"]["scrollWidth"].as_u64() <= v["dom"]["innerWidth"].as_u64(),
            "{view}: the page scrolls sideways ({} > {}); only code blocks may",
            v["dom"]["scrollWidth"],
            v["dom"]["innerWidth"]
        );
        let shot = std::fs::metadata(v["shot"].as_str().unwrap()).expect("a screenshot");
        assert!(shot.len() > 20_000, "{view}: a blank screenshot?");
    }
}

#[test]
fn seed_like_review_in_headless_chromium() {
    let (_dir, page, _html) = render(&fixture());
    let Some((chromium, modules)) = browser() else {
        return;
    };
    let views = look(&chromium, &modules, &page, "seed-like");
    assert_inert_and_anchored(&views);
    let desktop = &views[0]["dom"];
    assert_eq!(
        desktop["sections"],
        json!([
            "executive-summary",
            "critical-issues",
            "important-issues",
            "suggestions",
            "other-findings",
            "design-observations",
            "testing",
            "documentation",
            "commit-structure",
            "agent-retro",
            "reconciliation",
            "process-notes",
            "context-updates"
        ])
    );
    let text = desktop["text"].as_str().unwrap();
    for fact in [
        "Merge with fixes",
        "0 critical, 2 important, 2 suggestions",
        "Codex GPT 5.5 (effort: xhigh)",
        "26 (Read 12, Grep 8, Bash 6)",
        "Suggested change to pkg/guestagent/api/client/client.go:67",
        "c.conn = nil",
    ] {
        assert!(text.contains(fact), "the page lacks {fact:?}");
    }
    assert_ne!(
        views[0]["dom"]["background"], views[2]["dom"]["background"],
        "dark mode changes nothing"
    );
    assert!(Path::new(views[0]["pdf"].as_str().unwrap()).exists());
}

/// The fixture with an attack in every string an agent or the change controls.
fn hostile() -> Value {
    const SCRIPT: &str = "<script>window.__pwned='script';alert('script')</script>";
    const CODE: &str = "</code></pre><img src=x onerror=\"window.__pwned='img'\">";
    const LINK: &str =
        "[click](javascript:window.__pwned='link') <a href=\"javascript:alert(1)\">a</a>";
    const ATTR: &str = "\" onmouseover=\"window.__pwned='attr'\" x=\"";
    let mut r = fixture();
    let evil = |s: &str| format!("{s} {SCRIPT} {CODE} {LINK} {ATTR}");
    r["summary"] = json!(evil("Summary"));
    r["verdict_rationale"] = json!(evil("rationale"));
    r["change"]["repo"] = json!(format!("evil/{ATTR}"));
    r["change"]["title"] = json!(evil("title"));
    r["change"]["commits"][0]["subject"] = json!(evil("subject"));
    r["notes"] = json!([evil("note")]);
    for a in r["agents"].as_array_mut().unwrap() {
        a["display"] = json!(evil("agent"));
        a["retro"] = json!(evil("retro"));
    }
    for f in r["findings"].as_array_mut().unwrap() {
        for key in ["title", "body", "fix", "calibration", "category"] {
            f[key] = json!(evil(key));
        }
        for l in f["locations"].as_array_mut().unwrap() {
            l["path"] = json!(format!("src/{CODE}.go"));
            if let Some(lines) = l
                .pointer_mut("/excerpt/lines")
                .and_then(Value::as_array_mut)
            {
                lines[0] = json!(evil("line"));
            }
        }
    }
    r["findings"][3]["replacement"]["text"] = json!(evil("new"));
    r["findings"][3]["replacement"]["path"] = json!(format!("src/{CODE}.go"));
    r["findings"][5]["drop_reason"] = json!(evil("dropped"));
    for o in r["observations"].as_array_mut().unwrap() {
        o["title"] = json!(evil("observation"));
        o["body"] = json!(evil("observation"));
    }
    r["assessments"]["testing"][0]["text"] = json!(format!("```\n{}\n```", evil("fenced")));
    r["reconciliation"][0]["reason"] = json!(evil("reason"));
    r["context_updates"][0]["note"] = json!(evil("context"));
    r["context_updates"][0]["why"] = json!(evil("why"));
    r
}

#[test]
fn hostile_strings_are_escaped() {
    let (_dir, _page, html) = render(&hostile());
    for bad in ["<script", "<img", "href=\"javascript", " onmouseover=\""] {
        assert!(!html.contains(bad), "the page holds {bad:?}");
    }
    // The attacks are shown, as text.
    assert!(html.contains("&lt;script&gt;window.__pwned="));
    // The template escapes `/` too (`&#x2f;`); Markdown bodies keep it.
    assert!(html.contains("&lt;&#x2f;code&gt;") && html.contains("&lt;/code&gt;"));
    // A repo that is not a plain owner/name gets no link.
    assert!(
        !html.contains("https://github.com/evil"),
        "linked a hostile repo"
    );
    assert!(html.contains("content=\"default-src 'none';"));
}

#[test]
fn hostile_review_renders_inert_in_headless_chromium() {
    let (_dir, page, _html) = render(&hostile());
    let Some((chromium, modules)) = browser() else {
        return;
    };
    let views = look(&chromium, &modules, &page, "hostile");
    assert_inert_and_anchored(&views);
    let text = views[0]["dom"]["text"].as_str().unwrap();
    assert!(text.contains("<script>window.__pwned='script'"), "{text}");
    assert!(text.contains("[click](javascript:") && text.contains("click (javascript:"));
}

#[test]
fn every_round_writes_report_html_like_format_html() {
    let (repo, tools) = crate::report::cache_change();
    let codex = answering_agent(
        tools.path(),
        "codex",
        &json!({
            "schema": 1,
            "summary": "The lookup panics on a missing key.",
            "verdict": "merge_with_fixes",
            "findings": [{
                "severity": "important",
                "title": "get() panics on <a missing> key",
                "body": "`self.map.get(key).unwrap()` panics when the key is absent.",
                "locations": [{"path": "src/cache.rs", "start_line": 7, "quote": "self.map.get(key).unwrap().clone()"}],
                "fix": "Return `Option<String>`."
            }]
        }),
    );
    config(&repo, &[("codex", &codex)], "");
    let out = repo.run(&["review", "--format", "html"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let round = repo.round_dir();
    let saved = std::fs::read_to_string(round.join("report.html")).expect("report.html");
    assert!(round.join("report.md").exists());
    assert_eq!(saved, stdout(&out));
    assert!(saved.contains("<article class=\"finding important\" id=\"I1\">"));
    assert!(saved.contains("get() panics on &lt;a missing&gt; key"));
    assert!(saved.contains("<span class=\"line hit\"><span class=\"ln\">7</span>"));
    let again = repo.run(&["render", round.to_str().unwrap(), "--format", "html"]);
    assert_eq!(stdout(&again), saved);
}

#[test]
fn a_later_round_shows_each_findings_lifecycle_and_what_is_gone() {
    let mut r = fixture();
    r["change"]["round"] = json!(2);
    r["rounds"] = json!({
        "previous_round": 1,
        "previous_head": "0123456789abcdef",
        "mode": "incremental",
        "findings": [
            {"id": "I1", "status": "new", "first_round": 2},
            {"id": "I2", "status": "still_open", "first_round": 1, "previous_id": "I3"}
        ],
        "gone": [
            {"id": "C1", "status": "withdrawn", "first_round": 1, "severity": "critical", "title": "Withdrawn <one>"},
            {"id": "I1", "status": "fixed", "first_round": 1, "severity": "important", "title": "Fixed one", "location": "pkg/a.go:3"}
        ]
    });
    let (_dir, _page, html) = render(&r);
    assert!(html.contains("Since round 1: 1 fixed, 1 new, 1 still open, 1 withdrawn"));
    assert!(html.contains("Incremental review: what changed since 0123456"));
    assert!(html.contains("<span class=\"tag\">new in round 2</span>"));
    assert!(html.contains("<span class=\"tag\">still open since round 1</span>"));
    assert!(html.contains("id=\"gone\">Gone Since Round 1"));
    let fixed = html.find("Fixed one").expect("the fixed finding");
    let withdrawn = html
        .find("Withdrawn &lt;one&gt;")
        .expect("the withdrawn one");
    assert!(fixed < withdrawn, "fixed first, then withdrawn");
    assert!(html.contains("<code>pkg&#x2f;a.go:3</code>"));
    assert!(html.contains("deep-review context apply 20260426-165750-pr-4889&#x2f;round-2"));
}

#[test]
fn a_failed_agent_a_judge_and_records_show_in_the_retro() {
    let mut r = fixture();
    r["agents"][2]["outcome"] = json!({
        "status": "failed", "kind": "timed_out",
        "message": "no answer within 6m", "hint": "raise --timeout"
    });
    r["agents"][2]["stderr_tail"] = json!("line one\n<b>line two</b>\n");
    r["agents"][2]["stdout_path"] = json!("agents/gemini/stdout.jsonl");
    r["agents"][2]["stderr_path"] = json!("agents/gemini/stderr.txt");
    let mut judge = r["agents"][0].clone();
    judge["name"] = json!("retro");
    judge["role"] = json!("judge");
    judge["display"] = json!("Judge Opus");
    r["agents"].as_array_mut().unwrap().push(judge);
    r["agents"][1]["metrics"]["record"] = json!({
        "agent": "codex", "kind": "codex", "reviews": 7, "findings": 19, "survived": 15,
        "unique_insights": 4, "held_back": 2, "dropped": 2, "invalid_citations": 1,
        "refuted": 1, "reported": 15, "followed": 10, "fixed": 8, "fixed_share": 0.8,
        "median_duration_ms": 200000, "tokens_input": 1, "tokens_output": 1,
        "cost_usd": 6.0, "cost_per_reported_finding": 0.4
    });
    let (_dir, _page, html) = render(&r);
    assert!(html.contains("<span class=\"badge critical\">failed: timed out</span>"));
    assert!(html.contains("<span class=\"line\">&lt;b&gt;line two&lt;&#x2f;b&gt;\n</span>"));
    assert!(html.contains("<code>agents&#x2f;gemini&#x2f;stdout.jsonl</code>"));
    assert!(html.contains(
        "<strong>gemini</strong> failed (timed out): no answer within 6m. To fix: raise --timeout."
    ));
    // The judge's column and its section, whose anchor cannot take the retro's.
    assert!(html.contains("<th scope=\"col\">Judge: Judge Opus</th>"));
    assert_eq!(html.matches("id=\"agent-retro\"").count(), 1);
    assert!(html.contains("id=\"agent-retro-\">Judge: Judge Opus"));
    assert!(html.contains(
        "<tr><th scope=\"row\">Fixed by the next round</th><td>—</td><td>8 of 10 (80%)</td>"
    ));
}
