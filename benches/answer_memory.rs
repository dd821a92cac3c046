//! Benchmark: peak memory of one agent answering with 100,000 findings.
//!
//! `cargo bench --bench answer_memory` builds the answer text (as an agent would print it),
//! parses it and consolidates it, then reports the process's peak resident set (VmHWM in
//! /proc/self/status) and fails when the growth over the input text passes `BOUND_MIB`. Before
//! the parse caps, every finding was built, verified and reported (1.67 GB for this input);
//! now an answer keeps its first 200 findings and skips the rest unread.

use deep_review::agent::AgentRun;
use deep_review::consolidate;
use deep_review::finding;
use deep_review::review::ChangeSummary;
use std::fmt::Write;

const FINDINGS: usize = 100_000;
/// Peak RSS may grow by at most this much over the input text itself.
const BOUND_MIB: u64 = 64;

#[path = "support/peak.rs"]
mod peak;
use peak::peak_kib;

fn main() {
    let mut text = String::from(r#"{"schema": 1, "summary": "A flood.", "findings": ["#);
    for i in 0..FINDINGS {
        if i > 0 {
            text.push(',');
        }
        let _ = write!(
            text,
            r#"{{"severity": "suggestion", "title": "Finding number {i} in handle_{i}", "body": "The handler {i} does something questionable with state_{i} under load, and the caller never checks.", "locations": [{{"path": "src/module_{m}.rs", "start_line": {l}, "end_line": {e}, "quote": "let v = compute_{i}(input);"}}], "fix": "Check it.", "category": "correctness", "confidence": 0.5}}"#,
            m = i % 150,
            l = 1 + i % 600,
            e = 3 + i % 600,
        );
    }
    text.push_str("]}");
    let before = peak_kib();
    let started = std::time::Instant::now();
    let answer = finding::parse_answer(&text).expect("the answer parses");
    let kept = answer.findings.len();
    let notes = answer.notes.clone();
    let runs = vec![AgentRun::from_answer("flood", answer)];
    let review = consolidate::consolidate(
        consolidate::Input {
            judge: None,
            runs: &runs,
            tree: None,
            change: ChangeSummary::named("bench", "local"),
            unavailable: Vec::new(),
            id: "bench".into(),
            created_at: String::new(),
            wall_clock_ms: 0,
            partial: false,
        },
        &consolidate::Options::default(),
    );
    let elapsed = started.elapsed();
    let after = peak_kib();
    let growth_mib = after.saturating_sub(before) / 1024;
    eprintln!(
        "answer_memory: {FINDINGS} findings ({:.1} MiB of JSON) -> {kept} kept, {} reported, notes {notes:?}",
        text.len() as f64 / (1024.0 * 1024.0),
        review.findings.len(),
    );
    eprintln!(
        "answer_memory: peak RSS {:.1} MiB (before parsing {:.1} MiB; growth {growth_mib} MiB, bound {BOUND_MIB} MiB) in {:.2}s",
        after as f64 / 1024.0,
        before as f64 / 1024.0,
        elapsed.as_secs_f64()
    );
    if growth_mib > BOUND_MIB {
        eprintln!("answer_memory: FAILED: peak RSS grew by {growth_mib} MiB, over the {BOUND_MIB} MiB bound");
        std::process::exit(1);
    }
}
