//! Consolidation quality on the labelled dev split of the Martian code-review benchmark
//! (tests/fixtures/eval/martian-dev.json, MIT; twelve tools on twenty PRs). The thresholds are
//! the acceptance bar; the kept-back split is measured elsewhere.

use crate::support::*;

#[derive(serde::Deserialize)]
struct Row {
    label: String,
    clustering: Prf,
    reported_set: Prf,
}

#[derive(serde::Deserialize)]
struct Prf {
    f1: f64,
}

#[test]
fn consolidation_beats_every_single_tool_on_the_dev_split() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/eval/martian-dev.json"
    );
    let out = run_in(dir.path(), &["eval", dataset, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: Vec<Row> = serde_json::from_str(&stdout(&out)).unwrap();
    let row = |label: &str| {
        rows.iter()
            .find(|r| r.label == label)
            .unwrap_or_else(|| panic!("{label}"))
    };
    let all = row("all 12 tools");
    assert!(
        all.clustering.f1 >= 0.70,
        "pairwise clustering F1 {}",
        all.clustering.f1
    );
    assert!(
        all.reported_set.f1 >= 0.65,
        "reported-set F1 {}",
        all.reported_set.f1
    );
    // Better than the best single tool by far.
    let best_single = rows
        .iter()
        .filter(|r| r.label.ends_with(" alone"))
        .map(|r| r.reported_set.f1)
        .fold(0.0, f64::max);
    assert!(
        (best_single - 0.503).abs() < 0.001,
        "scoring matches the benchmark's: {best_single}"
    );
    let three = row("claude+gemini+coderabbit");
    for tool in ["claude", "gemini", "coderabbit"] {
        let alone = row(&format!("{tool} alone")).reported_set.f1;
        assert!(
            three.reported_set.f1 > alone,
            "three tools {} vs {tool} alone {alone}",
            three.reported_set.f1
        );
    }
}
