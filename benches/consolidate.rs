//! Benchmark: consolidating 10,000 located findings from 10 agents on one change.
//!
//! `cargo bench --bench consolidate` prints the median of several runs. The findings are
//! synthetic but shaped like real ones: 400 distinct problems across 150 files, each reported
//! by several agents in their own words (shared identifiers, different phrasing, nearby
//! lines), plus each agent's own noise; every citation is verified against an in-memory head
//! tree with quotes, some a few lines off; then again with the head tree committed to a
//! temporary git repository and every cited file read from it through the path guard.

use deep_review::agent::AgentRun;
use deep_review::change::HeadFiles;
use deep_review::change::Repo;
use deep_review::change::TreeSource;
use deep_review::consolidate;
use deep_review::finding::Answer;
use deep_review::finding::Finding;
use deep_review::finding::Location;
use deep_review::finding::Severity;
use deep_review::review::ChangeSummary;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

const AGENTS: usize = 10;
const PER_AGENT: usize = 1000;
const FILES: usize = 150;
const LINES: usize = 600;
const PROBLEMS: usize = 400;

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Tree(HashMap<String, Arc<Vec<String>>>);
impl consolidate::HeadTree for Tree {
    fn lines(&self, path: &str) -> Option<Arc<Vec<String>>> {
        self.0.get(path).cloned()
    }
}

const WORDS: &[&str] = &[
    "lock",
    "mutex",
    "race",
    "nil",
    "pointer",
    "dereference",
    "leak",
    "connection",
    "timeout",
    "retry",
    "cache",
    "eviction",
    "overflow",
    "index",
    "bounds",
    "unwrap",
    "panic",
    "error",
    "handling",
    "ignored",
    "await",
    "promise",
    "callback",
    "transaction",
    "rollback",
    "query",
    "injection",
    "escape",
    "validation",
    "input",
    "token",
    "expiry",
    "session",
    "cookie",
    "header",
    "encoding",
    "utf8",
    "buffer",
    "allocation",
    "clone",
    "copy",
    "ownership",
    "lifetime",
    "borrow",
    "deadlock",
    "ordering",
    "atomic",
    "counter",
    "metrics",
    "logging",
];

fn main() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut files = HashMap::new();
    for f in 0..FILES {
        let lines: Vec<String> = (0..LINES)
            .map(|l| format!("    let v{l} = compute_{f}_{l}(input);"))
            .collect();
        files.insert(format!("src/module_{f}.rs"), Arc::new(lines));
    }
    let tree = Tree(files);
    // Each problem: a file, a line, two identifiers and a few topic words.
    let problems: Vec<(usize, usize, String, String, Vec<&str>)> = (0..PROBLEMS)
        .map(|p| {
            let words = (0..4).map(|_| WORDS[rng.below(WORDS.len())]).collect();
            (
                rng.below(FILES),
                5 + rng.below(LINES - 10),
                format!("handle_{p}"),
                format!("State{p}"),
                words,
            )
        })
        .collect();
    let runs: Vec<AgentRun> = (0..AGENTS)
        .map(|a| {
            let findings = (0..PER_AGENT)
                .map(|i| {
                    let (file, line, id1, id2, words) = &problems[rng.below(PROBLEMS)];
                    let shift = if i % 7 == 0 { 3 } else { 0 };
                    let quote_line = line + shift;
                    let quoted = tree.0[&format!("src/module_{file}.rs")][*line - 1].clone();
                    Finding {
                        severity: [Severity::Critical, Severity::Important, Severity::Suggestion][rng.below(3)],
                        title: format!("{} {} in `{id1}` ({} {})", words[0], words[1], a, i % 13),
                        body: format!(
                            "Agent {a} says `{id1}` touches `{id2}` and the {} {} path can fail under {} with {} (variant {i}).",
                            words[2], words[3], WORDS[rng.below(WORDS.len())], WORDS[rng.below(WORDS.len())]
                        ),
                        locations: vec![Location {
                            path: format!("src/module_{file}.rs"),
                            start_line: quote_line as u32,
                            end_line: Some(quote_line as u32 + 2),
                            quote: Some(quoted),
                            replacement: None,
                        }],
                        fix: Some("Do the right thing.".into()),
                        scope: None,
                        category: Some(["correctness", "concurrency", "security"][rng.below(3)].into()),
                        confidence: Some(0.7),
                    }
                })
                .collect();
            let mut answer = Answer::empty();
            answer.findings = findings;
            AgentRun::from_answer(&format!("agent{a}"), answer)
        })
        .collect();
    let change = ChangeSummary {
        files_changed: FILES,
        ..ChangeSummary::named("bench", "local")
    };
    let opts = consolidate::Options::default();
    let runs_n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(7);
    let run = |tree: &dyn consolidate::HeadTree| {
        let review = consolidate::consolidate(
            consolidate::Input {
                judge: None,
                runs: &runs,
                tree: Some(tree),
                change: change.clone(),
                unavailable: Vec::new(),
                id: "bench".into(),
                created_at: String::new(),
                wall_clock_ms: 0,
                partial: false,
            },
            &opts,
        );
        review.findings.len()
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut clusters = 0;
    for _ in 0..runs_n {
        let started = Instant::now();
        clusters = run(&tree);
        times.push(started.elapsed());
    }
    report("in-memory tree", &times, clusters);

    // The same, with every cited file read from a commit through the path guard, as a live
    // review reads them: a fresh reader each run, so nothing is cached between runs.
    let dir = tempfile::tempdir().expect("tempdir");
    let sha = commit_tree(dir.path(), &tree);
    let repo = Repo {
        root: dir.path().to_path_buf(),
    };
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..runs_n {
        let started = Instant::now();
        let files = HeadFiles::new(repo.clone(), TreeSource::Commit(sha.clone()));
        clusters = run(&files);
        times.push(started.elapsed());
    }
    report("cited files read from git", &times, clusters);
}

fn report(what: &str, times: &[Duration], clusters: usize) {
    let mut times = times.to_vec();
    times.sort();
    let median = times[times.len() / 2];
    eprintln!(
        "consolidate ({what}): {} findings from {AGENTS} agents -> {clusters} consolidated; median {:.3}s over {} runs (min {:.3}s, max {:.3}s)",
        AGENTS * PER_AGENT,
        median.as_secs_f64(),
        times.len(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64()
    );
}

/// The tree's files committed in a new repository at `dir`; returns the commit.
fn commit_tree(dir: &std::path::Path, tree: &Tree) -> String {
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=Bench",
                "-c",
                "user.email=bench@example.com",
            ])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    for (path, lines) in &tree.0 {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, lines.join("\n") + "\n").expect("write");
    }
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "tree"]);
    git(&["rev-parse", "HEAD"])
}
