//! Nothing secret is written anywhere: secrets planted in the diff, in the environment and in
//! an agent's words are absent from every file of the review folder and from stdout/stderr.
//! Every write is checked: a full disk names the file and leaves nothing cut or empty.

use crate::support::*;
use serde_json::json;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::Output;

/// Token formats: a GitHub token, an Anthropic key, a Google key.
const GHP: &str = "ghp_Zq8rT2mLp9Wx4nB7vK3cD6fH1jS5gA0eYuIo";
const SK_ANT: &str = "sk-ant-api03-Q8zR2mLp9Wx4nB7vK3cD6fH1jS5gA0eYuIoPlMn";
const AIZA: &str = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q";
/// Environment secrets in no known format: only their exact values can mask them.
const ENV_GITHUB_TOKEN: &str = "gh-env-value-Q8zR2mLp9Wx4";
const ENV_MY_API_KEY: &str = "my-api-key-value-7Hq2Zx9Kd";

/// The distinctive part of each secret: none of these may appear anywhere.
fn secret_cores() -> Vec<&'static str> {
    vec![
        &GHP[4..],
        &SK_ANT[7..],
        &AIZA[4..],
        ENV_GITHUB_TOKEN,
        ENV_MY_API_KEY,
    ]
}

fn run_with_secrets(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("DEEP_REVIEW_CONFIG", dir.join("no-user-config.toml"))
        .env("DEEP_REVIEW_PROGRESS", "plain")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env("GITHUB_TOKEN", ENV_GITHUB_TOKEN)
        .env("MY_API_KEY", ENV_MY_API_KEY)
        // Too short to be a credential: not masked (else "1234" vanished from every report).
        .env("SHORT_TOKEN", "1234")
        .output()
        .expect("deep-review runs")
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn leaky_repo() -> Repo {
    let r = Repo::with_base(&[("src/app.js", "export const x = 1;\n")]);
    r.write(
        "src/app.js",
        &format!(
            "export const x = 1;\nconst gh = \"{GHP}\";\nconst claude = \"{SK_ANT}\";\nconst maps = \"{AIZA}\";\nconst envTok = \"{ENV_GITHUB_TOKEN}\";\nconst mine = \"{ENV_MY_API_KEY}\";\n"
        ),
    );
    r.commit("Add keys");
    r
}

/// A command agent that repeats every secret in every part of its answer, on stderr, and on
/// stdout with a token split across two writes.
fn leaky_agent(dir: &Path) -> PathBuf {
    let all = format!("{GHP} {SK_ANT} {AIZA} {ENV_GITHUB_TOKEN} {ENV_MY_API_KEY}");
    let answer = json!({
        "schema": 1,
        "summary": format!("Summary leaks {all}"),
        "verdict": "do_not_merge",
        "findings": [{
            "severity": "critical",
            "title": format!("Title leaks {GHP}"),
            "body": format!("Body leaks {all}"),
            "locations": [{"path": "src/app.js", "start_line": 2, "quote": format!("const gh = \"{GHP}\";")}],
            "fix": format!("Fix leaks {all}"),
            "category": format!("security {ENV_MY_API_KEY}")
        }],
        "observations": [{"kind": "concern", "title": format!("Observation leaks {all}"), "body": format!("and {all}")}],
        "assessments": {
            "testing": format!("Testing leaks {all}"),
            "documentation": format!("Docs leak {all}"),
            "commits": format!("Commits leak {all}")
        },
        "context_updates": [{"action": "add", "note": format!("Note leaks {all}"), "why": format!("why {all}")}]
    });
    let file = dir.join("leaky.answer.json");
    std::fs::write(&file, serde_json::to_string_pretty(&answer).unwrap()).unwrap();
    let (head, tail) = GHP.split_at(15);
    script(
        dir,
        "leaky.sh",
        &format!(
            "cat > /dev/null\necho 'stderr leaks {all}' >&2\nprintf 'thinking about {head}'\nsleep 0.3\nprintf '{tail} and {ENV_MY_API_KEY}\\n'\ncat '{}'",
            file.display()
        ),
    )
}

#[test]
fn no_secret_reaches_any_file_stdout_or_stderr() {
    let repo = leaky_repo();
    let tools = tempfile::tempdir().unwrap();
    let agent = leaky_agent(tools.path());
    config(&repo, &[("leaky", &agent)], "");
    for format in ["md", "json"] {
        let out = run_with_secrets(
            repo.path(),
            &[
                "review",
                "--agents",
                "leaky,builtin",
                "--format",
                format,
                "--rerun",
            ],
        );
        let (stdout, stderr) = (stdout(&out), stderr(&out));
        assert!(
            stdout.contains("Note leaks"),
            "the leaky answer was reported ({format}):\n{stdout}\n{stderr}"
        );
        for core in secret_cores() {
            assert!(!stdout.contains(core), "stdout ({format}) holds {core}");
            assert!(!stderr.contains(core), "stderr ({format}) holds {core}");
        }
    }
    let reviews = repo.path().join(".deep-review/reviews");
    let files = files_under(&reviews);
    for name in [
        "brief.md",
        "review.json",
        "report.md",
        "report.sarif",
        "stderr.txt",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(name)),
            "{name} was written: {files:?}"
        );
    }
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for core in secret_cores() {
            assert!(!text.contains(core), "{} holds {core}", f.display());
        }
    }
    // Masked, not dropped: the reader still sees which secret and where.
    let review = repo.review_json();
    let text = review.to_string();
    assert!(text.contains("$MY_API_KEY…[redacted]"), "{text}");
    assert!(text.contains("ghp_…[redacted]"), "{text}");
    // A committed sk-ant- key is named for its vendor.
    let titles: Vec<String> = review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("Anthropic API key committed")),
        "{titles:?}"
    );
    assert!(
        !titles.iter().any(|t| t.starts_with("OpenAI API key")),
        "{titles:?}"
    );
    // The raw transcript is masked but otherwise the agent's own bytes.
    let round = repo.round_dir();
    let raw = std::fs::read_to_string(round.join("agents/leaky/stdout.txt")).expect("raw stdout");
    assert!(
        raw.starts_with("thinking about ghp_…[redacted] and $MY_API_KEY…[redacted]\n{"),
        "{raw}"
    );
    // The short value is left alone.
    assert!(std::fs::read_to_string(round.join("brief.md"))
        .unwrap()
        .contains("export const x = 1;"));
}

fn small_repo() -> (Repo, tempfile::TempDir) {
    let r = Repo::with_base(&[("src/lib.rs", "pub fn one() -> i32 {\n    1\n}\n")]);
    r.write(
        "src/lib.rs",
        "pub fn one() -> i32 {\n    1\n}\n\npub fn two() -> i32 {\n    2\n}\n",
    );
    r.commit("Add two");
    let tools = tempfile::tempdir().unwrap();
    let agent = answering_agent(
        tools.path(),
        "good",
        &json!({"schema": 1, "summary": "Fine.", "findings": []}),
    );
    config(&r, &[("good", &agent)], "");
    (r, tools)
}

/// Runs a review whose `--out` is a fresh tmpfs with `free` bytes left, in a private mount
/// namespace (`unshare -rm`), and lists what it left there (size and path per file) in
/// `listing`; None when this machine cannot do that.
fn review_on_full_disk(repo: &Repo, out: &Path, listing: &Path, free: u64) -> Option<Output> {
    let probe = Command::new("unshare").args(["-rm", "true"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        let msg =
            "`unshare -rm` (a private mount namespace for a small tmpfs) is not available here";
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("\n!!!!!!!! SKIPPED full-disk test: {msg} !!!!!!!!\n");
        return None;
    }
    std::fs::create_dir_all(out).unwrap();
    let size: u64 = 256 * 1024;
    let script = format!(
        "mount -t tmpfs -o size={size} tmpfs '{out}' && head -c {fill} /dev/zero > '{out}/filler' || exit 99
        \"$@\"; rc=$?
        find '{out}' -type f ! -name filler -printf '%s %P\\n' > '{listing}'
        exit $rc",
        out = out.display(),
        listing = listing.display(),
        fill = size - free,
    );
    let o = Command::new("unshare")
        .args(["-rm", "sh", "-c", &script, "sh", BIN])
        .args(["review", "--agents", "good", "--out"])
        .arg(out)
        .current_dir(repo.path())
        .env(
            "DEEP_REVIEW_CONFIG",
            repo.path().join("no-user-config.toml"),
        )
        .env("DEEP_REVIEW_PROGRESS", "plain")
        .output()
        .expect("unshare runs");
    Some(o)
}

#[test]
fn a_full_disk_names_the_file_and_leaves_nothing_cut_or_empty() {
    let (repo, _tools) = small_repo();
    // The brief's size on a roomy disk, to leave exactly the pages it needs and no more.
    let roomy = tempfile::tempdir().unwrap();
    let o = repo.run(&[
        "review",
        "--agents",
        "good",
        "--out",
        &roomy.path().display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files = files_under(roomy.path());
    let brief = files
        .iter()
        .find(|f| f.ends_with("brief.md"))
        .expect("brief.md");
    let brief_len = std::fs::metadata(brief).unwrap().len();
    let schema_len = std::fs::metadata(brief.with_file_name("findings.schema.json"))
        .unwrap()
        .len();
    let page = 4096;
    let brief_pages = brief_len.div_ceil(page);
    assert!(
        (brief_len + schema_len).div_ceil(page) > brief_pages,
        "the schema must not fit in the brief's last page"
    );

    for (free, culprit) in [
        (0, "brief.md"),
        (brief_pages * page, "findings.schema.json"),
    ] {
        let base = tempfile::tempdir().unwrap();
        let out = base.path().join("out");
        let listing = base.path().join("listing.txt");
        let Some(o) = review_on_full_disk(&repo, &out, &listing, free) else {
            return;
        };
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(culprit), "the error names {culprit}: {err}");
        assert!(err.contains("No space left on device"), "{err}");
        // Nothing cut, nothing empty, no temporary file left behind: each file there is
        // whole, or absent.
        let listing = std::fs::read_to_string(&listing).expect("listing");
        for line in listing.lines() {
            let (size, path) = line.split_once(' ').unwrap();
            assert_ne!(size, "0", "{path} is empty\n{listing}");
            assert!(!path.ends_with(".partial"), "{path} left behind\n{listing}");
            assert!(!path.ends_with(culprit), "{path} exists, cut\n{listing}");
        }
        // A run that wrote no review gives its round back: nothing of it is left to mislead.
        assert!(
            !listing.lines().any(|l| l.contains("/round-1/")),
            "the failed round was not given back\n{listing}"
        );
    }
}

#[test]
fn caps_hold_back_findings_cut_fields_and_drop_only_the_bad_location() {
    let (repo, tools) = small_repo();
    let mut findings = vec![
        // One bad end_line: today it rejects the whole answer.
        json!({"severity": "important", "title": "two() lacks a test", "body": "b",
               "locations": [{"path": "src/lib.rs", "start_line": 5, "end_line": 1},
                             {"path": "src/lib.rs", "start_line": 5, "quote": "pub fn two() -> i32 {"}]}),
        json!({"severity": "suggestion", "title": "X".repeat(5 * 1024 * 1024), "body": "huge title"}),
    ];
    for i in 0..300 {
        findings.push(json!({"severity": "suggestion", "title": format!("nit number {i}"), "body": format!("distinct body {i}")}));
    }
    let agent = answering_agent(
        tools.path(),
        "flood",
        &json!({"schema": 1, "summary": "Many.", "findings": findings}),
    );
    config(&repo, &[("flood", &agent)], "");
    let o = repo.run(&["review", "--agents", "flood"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let review = repo.review_json();
    let col = &review["agents"][0];
    assert_eq!(col["outcome"]["status"], "ok", "{col}");
    let all = review["findings"].as_array().unwrap();
    assert!(all.len() <= 200, "{} findings kept", all.len());
    let two = all
        .iter()
        .find(|f| f["title"] == "two() lacks a test")
        .expect("the finding with one bad location is kept");
    assert_eq!(two["locations"].as_array().unwrap().len(), 1, "{two}");
    let notes = review["notes"].to_string();
    assert!(notes.contains("102 more findings held back"), "{notes}");
    assert!(
        notes.contains("locations[0]` dropped: `end_line`: 1 is before start_line 5"),
        "{notes}"
    );
    assert!(
        notes.contains("`findings[1].title` cut to 300 bytes"),
        "{notes}"
    );
    let md = std::fs::read_to_string(repo.round_dir().join("report.md")).unwrap();
    assert!(md.len() < 1024 * 1024, "report.md is {} bytes", md.len());
    assert!(md.contains("more bytes]"), "the cut is marked");
    assert!(!md.contains(&"X".repeat(400)));
}

/// A private key's body lines: distinctive, so any trace of one is found.
const KEY_BODY: [&str; 3] = [
    "MIIEowIBAAKCAQEAq7BFUAkGfZq8rT2mLp9Wx4nB7vK3cD6fH1jS5gA0eYuIoPl7",
    "Hq2Zr9LmV4xKp8WnB3cYd6Fs1Tg5Uj0Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc4",
    "Vb6Nm8Qa1Ws3Ed5Rf7Tg9Yh2Uj4Ik6Ol8Pz0Xs2Dc4Fv6Gb8Hn0Jm2Kl4Zx6Cv8==",
];

#[test]
fn a_committed_private_keys_body_reaches_no_file_stdout_or_stderr() {
    let pem = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        KEY_BODY.join("\n")
    );
    let r = Repo::with_base(&[("src/app.js", "export const x = 1;\n")]);
    r.write("deploy/id_rsa", &pem);
    r.commit("Add the deploy key");
    // An agent that repeats the key in its words and on stderr, and cites a line of its body
    // (so the excerpt around it is quoted from the file).
    let tools = tempfile::tempdir().unwrap();
    let answer = json!({"schema": 1, "summary": format!("The key:\n{pem}"), "verdict": "do_not_merge",
        "findings": [{"severity": "critical", "title": "A private key is committed",
            "body": format!("It is:\n{pem}"),
            "locations": [{"path": "deploy/id_rsa", "start_line": 3}],
            "category": "security"}]});
    let file = tools.path().join("key.answer.json");
    std::fs::write(&file, serde_json::to_string_pretty(&answer).unwrap()).unwrap();
    let agent = script(
        tools.path(),
        "keyed.sh",
        &format!(
            "cat > /dev/null\ncat '{}' >&2\ncat '{}'",
            r.path().join("deploy/id_rsa").display(),
            file.display()
        ),
    );
    config(&r, &[("keyed", &agent)], "");
    for format in ["md", "json"] {
        let out = run_with_secrets(
            r.path(),
            &["review", "--agents", "keyed,builtin", "--format", format],
        );
        let (stdout, stderr) = (stdout(&out), stderr(&out));
        assert!(
            stdout.contains("PRIVATE KEY"),
            "the finding still reads ({format}):\n{stdout}"
        );
        for line in KEY_BODY {
            assert!(
                !stdout.contains(&line[8..40]),
                "stdout ({format}) holds the key"
            );
            assert!(
                !stderr.contains(&line[8..40]),
                "stderr ({format}) holds the key"
            );
        }
    }
    let files = files_under(&r.path().join(".deep-review/reviews"));
    assert!(files.iter().any(|f| f.ends_with("brief.md")), "{files:?}");
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        for line in KEY_BODY {
            assert!(
                !text.contains(&line[8..40]),
                "{} holds the key's body",
                f.display()
            );
        }
    }
}
