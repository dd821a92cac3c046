//! Benchmark: the whole review pipeline before the first agent starts, from the command
//! line to the agent's process: range, commits, diff, configuration, review folder, memory,
//! instructions, brief, on a 100,000-line change and on a 500-line one.
//!
//! `cargo bench --bench pipeline [RUNS]` runs the real binary with one command agent, a
//! probe that writes the time it started and answers at once; each run writes a fresh
//! review (`--out`). Prints the median from spawning deep-review to the probe's start
//! (targets: 0.25 s for 100,000 lines, 20 ms for 500).

#[path = "../tests/cli/generated.rs"]
#[allow(dead_code)]
mod generated;

use std::path::Path;
use std::time::Duration;
use std::time::SystemTime;

const BIN: &str = env!("CARGO_BIN_EXE_deep-review");

/// A 500-line change: five files of a 60-file repository each get 100 new lines.
fn small_change(dir: &Path) {
    generated::git(dir, &["init", "-q", "-b", "main"]);
    for f in 0..60 {
        let body: String = (0..150)
            .map(|l| format!("    let v{l} = step({l}, {f});\n"))
            .collect();
        let p = dir.join(format!("src/m{f}.rs"));
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, format!("pub fn m{f}() {{\n{body}}}\n")).expect("write");
    }
    generated::git(dir, &["add", "-A"]);
    generated::git(dir, &["commit", "-q", "-m", "Base"]);
    generated::git(dir, &["checkout", "-q", "-b", "small"]);
    for f in 0..5 {
        let p = dir.join(format!("src/m{f}.rs"));
        let mut text = std::fs::read_to_string(&p).expect("read");
        let extra: String = (0..100)
            .map(|l| format!("pub fn extra_{f}_{l}() -> u32 {{ {l} }}\n"))
            .collect();
        text.push_str(&extra);
        std::fs::write(p, text).expect("write");
    }
    generated::git(
        dir,
        &["commit", "-q", "-am", "Add the extras\n\nWhy: measuring."],
    );
}

/// The probe agent and the configuration naming it, in `dir` (outside the repository).
fn probe(dir: &Path, repo: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let stamp = dir.join("started");
    let script = dir.join("probe.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ndate +%s%N > '{}'\ncat > /dev/null\necho '{{\"schema\": 1, \"summary\": \"ok\", \"verdict\": \"merge\", \"findings\": []}}'\n",
            stamp.display()
        ),
    )
    .expect("write probe");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(
        repo.join(".git/info/probe.toml"),
        format!(
            "[agents.probe]\nkind = \"command\"\ncommand = [\"{}\"]\n",
            script.display()
        ),
    )
    .expect("write config");
    stamp
}

/// Medians of spawn-to-agent-start over `runs` reviews of the repository at `repo`.
fn measure(name: &str, repo: &Path, runs: usize) -> Duration {
    let scratch = tempfile::tempdir().expect("tempdir");
    let stamp = probe(scratch.path(), repo);
    let mut times = Vec::new();
    for i in 0..runs {
        let out_dir = scratch.path().join(format!("out-{i}"));
        let _ = std::fs::remove_file(&stamp);
        let spawned = SystemTime::now();
        let out = std::process::Command::new(BIN)
            .args([
                "review", "--base", "main", "--agents", "probe", "--format", "json",
            ])
            .arg("--out")
            .arg(&out_dir)
            .current_dir(repo)
            .env("DEEP_REVIEW_CONFIG", repo.join(".git/info/probe.toml"))
            .output()
            .expect("deep-review runs");
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let nanos: u128 = std::fs::read_to_string(&stamp)
            .expect("the probe started")
            .trim()
            .parse()
            .expect("nanoseconds");
        let from = spawned
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos();
        times.push(Duration::from_nanos((nanos.saturating_sub(from)) as u64));
    }
    times.sort();
    let median = times[times.len() / 2];
    eprintln!(
        "pipeline before the first agent, {name}: median {:.1} ms over {runs} runs (min {:.1} ms, max {:.1} ms)",
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
    median
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(7);
    let small = tempfile::tempdir().expect("tempdir");
    small_change(small.path());
    measure("500-line change", small.path(), runs);
    let big = tempfile::tempdir().expect("tempdir");
    generated::big_change(big.path());
    measure("100,000-line change", big.path(), runs);
}
