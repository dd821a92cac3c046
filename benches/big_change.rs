//! Benchmark: a 100,000-line change (about 370 files, generated in a temporary git
//! repository) read as a change and turned into a brief.
//!
//! `cargo bench --bench big_change [RUNS]` prints the median time of reading the range
//! (commits, diff, parse) and building the brief, the peak memory of doing it once (in a
//! fresh process: this binary run again with `--once`), and the share of changed source
//! files whose first hunk the brief shows within its budget (target: at least 90%).

#[path = "../tests/cli/generated.rs"]
#[allow(dead_code)]
mod generated;

use deep_review::change::Change;
use deep_review::change::RangeSpec;
use deep_review::change::Repo;
use deep_review::prompt;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;
use std::time::Instant;

/// Reads the change at `dir` (base `main`, head checked out) and builds its brief.
fn brief(dir: &Path) -> (Change, String) {
    let repo = Repo::discover(dir).expect("a repository");
    let spec = RangeSpec {
        base: Some("main".into()),
        ..RangeSpec::default()
    };
    let change = Change::local(repo, &spec).expect("a change");
    let text = prompt::build(&change, &prompt::ChangeInfo::default());
    (change, text)
}

#[path = "support/peak.rs"]
mod peak;
use peak::peak_kib;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--once") {
        let before = peak_kib();
        let (_, text) = brief(Path::new(&args[i + 1]));
        // The parent reads these three numbers; stdout is this mode's only output.
        let _ = writeln!(std::io::stdout(), "{before} {} {}", peak_kib(), text.len());
        return;
    }
    let runs: usize = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(7);
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let sources = generated::big_change(dir.path());
    eprintln!(
        "generated the change in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let out = brief(dir.path());
        times.push(started.elapsed());
        last = Some(out);
    }
    let (change, text) = last.expect("at least one run");
    times.sort();
    let lines: usize = change
        .files
        .iter()
        .map(|f| {
            f.count(deep_review::diff::LineKind::Added)
                + f.count(deep_review::diff::LineKind::Removed)
        })
        .sum();
    let fitted = deep_review::diff::budget::fit(&change.files, prompt::DIFF_BUDGET, || {
        let paths = change.head.tree().files();
        deep_review::diff::budget::main_languages(paths.iter().map(String::as_str))
    });
    assert_eq!(fitted.source_files, sources, "the generator's source files");

    // Peak memory of one read-and-brief, in a fresh process.
    let me = std::env::current_exe().expect("this bench");
    let out = std::process::Command::new(me)
        .arg("--once")
        .arg(dir.path())
        .output()
        .expect("the bench runs again");
    let text_out = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<u64> = text_out
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let (base_kib, peak) = (
        nums.first().copied().unwrap_or(0),
        nums.get(1).copied().unwrap_or(0),
    );

    eprintln!(
        "big change: {} files, {lines} lines changed; diff + brief median {:.3}s over {runs} runs (min {:.3}s, max {:.3}s); peak memory {:.1} MiB ({:.1} MiB at start); brief {} KiB",
        change.files.len(),
        times[times.len() / 2].as_secs_f64(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64(),
        peak as f64 / 1024.0,
        base_kib as f64 / 1024.0,
        text.len() / 1024
    );
    eprintln!(
        "big change: first hunk shown for {} of {} changed source files ({:.1}%, target 90%); {} files listed as not shown whole",
        fitted.source_shown,
        fitted.source_files,
        100.0 * fitted.source_shown as f64 / fitted.source_files.max(1) as f64,
        fitted.omitted.len()
    );
    if fitted.source_shown * 10 < fitted.source_files * 9 {
        eprintln!("big change: FAILED: under 90% of source files shown");
        std::process::exit(1);
    }
}
