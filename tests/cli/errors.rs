//! Bad input: a one-line error that says what to do, exit 2, nothing half-written.

use crate::support::*;
use std::process::Command;

fn assert_clean_failure(out: &std::process::Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err}");
    assert!(stdout(out).is_empty(), "nothing on stdout: {}", stdout(out));
}

#[test]
fn not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["review"]);
    assert_clean_failure(&out, "is not inside a git repository");
    assert!(!dir.path().join(".deep-review").exists());
}

#[test]
fn unknown_ref() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    let out = repo.run(&["review", "--base", "no-such-branch"]);
    assert_clean_failure(&out, "unknown git ref `no-such-branch`");
    assert!(!repo.path().join(".deep-review").exists());
}

#[test]
fn empty_change() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    let out = repo.run(&["review"]);
    assert_clean_failure(&out, "nothing to review");
    assert!(!repo.path().join(".deep-review").exists());
}

#[test]
fn bad_config_names_the_file_and_the_fix() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("Change a");
    repo.write(".deep-review.toml", "[agents.x]\nkind = \"command\"\n");
    let out = repo.run(&["review"]);
    assert_clean_failure(&out, "needs `command = [");
    assert!(stderr(&out).contains(".deep-review.toml"));
    assert!(!repo.path().join(".deep-review").exists());
}

#[test]
fn a_toml_syntax_error_is_one_line_with_its_place() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("Change a");
    repo.write(".deep-review.toml", "[review]\nagents = [\"builtin\"\n");
    let out = repo.run(&["review"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains(".deep-review.toml") && lines[0].contains("(at line 3)"),
        "{err}"
    );
}

#[test]
fn unknown_agent_name() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("Change a");
    let out = repo.run(&["review", "--agents", "builtin,ghost"]);
    assert_clean_failure(&out, "unknown agent `ghost`");
}

#[test]
fn missing_command_is_a_failed_column_not_an_abort() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("Change a");
    repo.write(
        ".deep-review.toml",
        "[agents.ghost]\nkind = \"command\"\ncommand = [\"/nonexistent/reviewer\"]\n",
    );
    let out = repo.run(&["review", "--format", "json"]);
    // 3: the only model reviewer failed, so the builtin's review has no verdict.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ghost = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "ghost")
        .unwrap()
        .clone();
    assert_eq!(ghost["outcome"]["kind"], "not_installed");
    assert!(ghost["outcome"]["message"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/reviewer"));
}

/// How many times `needle` occurs in `haystack`.
fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn missing_git_is_one_line_with_the_os_error_once() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("Change a");
    // PATH holds only a folder with deep-review in it: no git anywhere.
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(BIN, bin.path().join("deep-review")).unwrap();
    let out = Command::new("deep-review")
        .arg("review")
        .current_dir(repo.path())
        .env("PATH", bin.path())
        .env(
            "DEEP_REVIEW_CONFIG",
            repo.path().join("no-user-config.toml"),
        )
        .output()
        .unwrap();
    assert_clean_failure(&out, "could not run git (install git, or put it on PATH)");
    let err = stderr(&out);
    let os_error = std::io::Error::from_raw_os_error(libc::ENOENT).to_string();
    assert_eq!(count(&err, &os_error), 1, "the OS error once: {err}");
    assert_eq!(
        err.trim(),
        format!(
            "deep-review: error: could not run git (install git, or put it on PATH): {os_error}"
        )
    );
    assert!(!repo.path().join(".deep-review").exists());
}

/// `deep-review pr` against `api`, outside any repository, with a token (so the "no token"
/// note does not add a line) and no `gh` to ask.
fn pr_against(api: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(BIN)
        .args(["pr", "acme/cache#7", "--api-url", api])
        .current_dir(dir.path())
        .env("DEEP_REVIEW_CONFIG", dir.path().join("no-user-config.toml"))
        .env("DEEP_REVIEW_CACHE", dir.path().join("cache"))
        .env("GITHUB_TOKEN", "test-token")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap()
}

#[test]
fn github_refusing_connections_names_the_address_and_the_cause_once() {
    // A port that was just free: bound, then released, so nothing listens on it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let api = format!("http://127.0.0.1:{port}");
    let out = pr_against(&api);
    assert_clean_failure(&out, &format!("could not reach the GitHub API at {api}"));
    let err = stderr(&out);
    // The OS's own text ("Connection refused (os error 111)" on Linux), exactly once.
    let os_text = std::io::Error::from_raw_os_error(libc::ECONNREFUSED).to_string();
    assert_eq!(count(&err, &os_text), 1, "{err}");
    assert_eq!(count(&err, "Connection refused"), 1, "{err}");
    assert!(
        err.contains("fetch acme/cache#7: "),
        "what was being done: {err}"
    );
    assert!(
        err.contains("check the address, --api-url"),
        "what to do: {err}"
    );
}

/// A one-request-at-a-time HTTP server on 127.0.0.1 that answers every request with
/// `status` and a GitHub-shaped error body.
fn answering(status: &'static str, message: &'static str) -> String {
    use std::io::BufRead;
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    break;
                }
                line.clear();
            }
            let body = format!("{{\"message\": \"{message}\"}}");
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn github_failing_with_5xx_says_it_is_on_githubs_side() {
    let api = answering("502 Bad Gateway", "Server Error");
    let out = pr_against(&api);
    assert_clean_failure(
        &out,
        "fetch acme/cache#7: GitHub failed (502: Server Error); this is on GitHub's side, so try again in a few minutes",
    );
    assert_eq!(count(&stderr(&out), "Server Error"), 1, "{}", stderr(&out));
}

#[test]
fn github_rejecting_the_token_says_which_variables_to_check() {
    let api = answering("401 Unauthorized", "Bad credentials");
    let out = pr_against(&api);
    assert_clean_failure(
        &out,
        "fetch acme/cache#7: GitHub rejected the token (401); check GITHUB_TOKEN or GH_TOKEN, or log in again with `gh auth login`",
    );
}

#[test]
fn an_unreadable_config_names_the_file_and_the_os_error_once() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("Change a");
    // A folder where the file should be: reading it fails whoever runs the test (root too).
    let cfg = repo.path().join(".deep-review.toml");
    std::fs::create_dir(&cfg).unwrap();
    let out = repo.run(&["review"]);
    let os_text = std::io::Error::from_raw_os_error(libc::EISDIR).to_string();
    assert_clean_failure(
        &out,
        &format!("could not read {}: {os_text}", cfg.display()),
    );
    assert_eq!(count(&stderr(&out), &os_text), 1, "{}", stderr(&out));
}

#[test]
fn a_review_folder_that_cannot_be_made_names_it_and_the_os_error_once() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.commit("Change a");
    let blocker = repo.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let out_dir = blocker.join("reviews");
    let out = repo.run(&[
        "review",
        "--agents",
        "builtin",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let os_text = std::io::Error::from_raw_os_error(libc::ENOTDIR).to_string();
    assert_clean_failure(
        &out,
        &format!("could not create the review folder {}/", out_dir.display()),
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "(check that you can write there, or pass --out DIR): {os_text}"
        )),
        "{err}"
    );
    assert_eq!(count(&err, &os_text), 1, "{err}");
}
