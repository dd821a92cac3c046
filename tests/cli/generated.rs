//! A generated big change in a real git repository: about 100,000 changed lines in some 370
//! files (source files modified in several places and added, tests, docs, a lockfile, deleted
//! and renamed files). The big-change test and `cargo bench --bench big_change` share it.

use std::path::Path;
use std::process::Command;

/// Source files in the base, and how many of them the change modifies.
const BASE_SOURCES: usize = 300;
const MODIFIED: usize = 260;
const ADDED_SOURCES: usize = 40;
const TESTS: usize = 40;
const DOCS: usize = 15;
const SCRIPTS: usize = 5;
const DELETED: usize = 5;
const RENAMED: usize = 5;
/// Lines of a base source file, and where the change inserts a block into it.
const SOURCE_LINES: usize = 200;
const INSERT_AT: [usize; 6] = [15, 45, 75, 105, 135, 165];
const BLOCK: usize = 33;

/// Runs git in `dir` with a fixed identity; panics with git's message when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", "2026-04-26T16:00:00+00:00")
        .env("GIT_COMMITTER_DATE", "2026-04-26T16:00:00+00:00")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn source_line(f: usize, l: usize) -> String {
    format!("    let value_{f}_{l} = compute(input, {l}); // step {l} of module {f}\n")
}

fn base_source(f: usize) -> String {
    let mut t = format!("//! Module {f}.\n\npub fn run_{f}(input: u64) -> u64 {{\n");
    for l in 0..SOURCE_LINES - 5 {
        t.push_str(&source_line(f, l));
    }
    t.push_str("    input\n}\n");
    t
}

/// The repository at `dir`: a base commit on `main`, and the branch `big` (checked out) with
/// one commit holding the whole change. Returns the number of changed source files.
pub fn big_change(dir: &Path) -> usize {
    git(dir, &["init", "-q", "-b", "main"]);
    for f in 0..BASE_SOURCES {
        write(dir, &format!("src/module_{f}.rs"), &base_source(f));
    }
    for t in 0..TESTS {
        let body: String = (0..100)
            .map(|l| format!("    assert_eq!(run_{t}({l}), {l});\n"))
            .collect();
        write(
            dir,
            &format!("tests/case_{t}.rs"),
            &format!("#[test]\nfn case_{t}() {{\n{body}}}\n"),
        );
    }
    for d in 0..DOCS {
        write(
            dir,
            &format!("docs/page_{d}.md"),
            &format!("# Page {d}\n\nText.\n"),
        );
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "Base"]);
    git(dir, &["checkout", "-q", "-b", "big"]);
    for f in 0..MODIFIED {
        let base = base_source(f);
        let mut lines: Vec<String> = base.lines().map(|l| format!("{l}\n")).collect();
        for (k, at) in INSERT_AT.iter().enumerate().rev() {
            let block: Vec<String> = (0..BLOCK)
                .map(|l| {
                    format!(
                        "    let added_{f}_{k}_{l} = transform(value_{f}_{at}, {l}); // new step\n"
                    )
                })
                .collect();
            lines.splice(*at..*at + 1, block);
        }
        write(dir, &format!("src/module_{f}.rs"), &lines.concat());
    }
    for f in 0..ADDED_SOURCES {
        let n = BASE_SOURCES + f;
        let body: String = (0..400).map(|l| source_line(n, l)).collect();
        write(
            dir,
            &format!("src/added/module_{n}.rs"),
            &format!("pub fn run_{n}(input: u64) -> u64 {{\n{body}    input\n}}\n"),
        );
    }
    for t in 0..TESTS {
        let extra: String = (0..300)
            .map(|l| format!("#[test]\nfn extra_{t}_{l}() {{ assert!(run_{t}({l}) >= 0); }}\n"))
            .collect::<String>();
        let p = dir.join(format!("tests/case_{t}.rs"));
        let mut text = std::fs::read_to_string(&p).expect("read");
        text.push_str(&extra);
        std::fs::write(p, text).expect("write");
    }
    for d in 0..DOCS {
        let body: String = (0..200)
            .map(|l| format!("Paragraph {l} of page {d}.\n"))
            .collect();
        write(
            dir,
            &format!("docs/page_{d}.md"),
            &format!("# Page {d}\n\nText.\n{body}"),
        );
    }
    for s in 0..SCRIPTS {
        let body: String = (0..200)
            .map(|l| format!("    total += step({l})  # {s}\n"))
            .collect();
        write(
            dir,
            &format!("scripts/tool_{s}.py"),
            &format!("def main():\n    total = 0\n{body}    return total\n"),
        );
    }
    let lock: String = (0..5000)
        .map(|l| {
            format!("[[package]]\nname = \"dep-{l}\"\n")
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
                + "\n"
        })
        .collect();
    write(dir, "Cargo.lock", &lock);
    for f in 0..DELETED {
        std::fs::remove_file(dir.join(format!("src/module_{}.rs", MODIFIED + f))).expect("rm");
    }
    std::fs::create_dir_all(dir.join("src/moved")).expect("mkdir");
    for f in 0..RENAMED {
        let n = MODIFIED + DELETED + f;
        git(
            dir,
            &[
                "mv",
                &format!("src/module_{n}.rs"),
                &format!("src/moved/module_{n}.rs"),
            ],
        );
    }
    git(dir, &["add", "-A"]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "One big change\n\nEverything at once.",
        ],
    );
    MODIFIED + ADDED_SOURCES + SCRIPTS
}
