//! The crate's module graph, read from the source: which top-level module names which.
//!
//! The stages after the agents (consolidation, the judge, review.json, the reports) read the
//! run records, never the agents; and no two of the agents, consolidation, the judge and
//! review.json depend on each other both ways.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// `crate::x` references of each top-level module, outside comments and `#[cfg(test)]` code.
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut g = Graph::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let first = rel.components().next().unwrap().as_os_str();
            let module = Path::new(first)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if module == "lib" || module == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let deps = g.entry(module.clone()).or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let name: String = line[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != module {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    g
}

fn reaches(g: &Graph, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(m) = stack.pop() {
        if m == to {
            return true;
        }
        if seen.insert(m.clone()) {
            stack.extend(g.get(&m).into_iter().flatten().cloned());
        }
    }
    false
}

#[test]
fn the_stages_after_the_agents_never_reach_the_agents() {
    let g = graph();
    assert!(g.contains_key("agent") && g.contains_key("record"), "{g:?}");
    for m in [
        "record",
        "consolidate",
        "judge",
        "review",
        "report",
        "finding",
    ] {
        assert!(
            !reaches(&g, m, "agent"),
            "`{m}` reaches `agent` through {:?}",
            g.get(m)
        );
    }
    // The records are a leaf but for the findings they carry.
    let record: Vec<&String> = g["record"].iter().collect();
    assert_eq!(record, ["finding"], "record depends on {record:?}");
}

#[test]
fn no_cycle_between_the_agents_consolidation_the_judge_and_review_json() {
    let g = graph();
    let core = ["agent", "consolidate", "judge", "review", "record"];
    for a in core {
        for b in core {
            if a < b {
                assert!(
                    !(reaches(&g, a, b) && reaches(&g, b, a)),
                    "`{a}` and `{b}` depend on each other"
                );
            }
        }
    }
}

#[test]
fn no_two_modules_depend_on_each_other() {
    let g = graph();
    let mut cycles = Vec::new();
    for (a, deps) in &g {
        for b in deps {
            if a < b && reaches(&g, b, a) {
                cycles.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert!(cycles.is_empty(), "cycles: {cycles:?}");
    // The error types name no other module's types but what they wrap.
    for m in ["errors", "record", "finding", "diff"] {
        assert!(
            !reaches(&g, m, "agent") && !reaches(&g, m, "run"),
            "{m}: {:?}",
            g.get(m)
        );
    }
}
