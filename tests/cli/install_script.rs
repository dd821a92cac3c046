//! The Action's install step (action.yml → scripts/install-deep-review.sh) against a release
//! served on 127.0.0.1: it fetches the archive of the Action's own version for this machine,
//! checks its SHA-256, and installs the binary; a wrong checksum or a missing release
//! installs nothing. The archive is made by scripts/package-release.sh, as the release
//! workflow makes it, around a stand-in binary.

use crate::support::*;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::io::BufReader;
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Serves `files` (path → body) over HTTP on 127.0.0.1, 404 for anything else, and logs each
/// request's path. Returns the base URL.
fn serve(files: BTreeMap<String, Vec<u8>>, log: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if header.trim().is_empty() => break,
                    Ok(_) => {}
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push(path.clone());
            let (status, body) = match files.get(&path) {
                Some(b) => ("200 OK", b.clone()),
                None => ("404 Not Found", b"Not Found".to_vec()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}")
}

/// This machine's release target, as the install script names it.
fn target() -> String {
    let os = match std::env::consts::OS {
        "linux" => "unknown-linux-musl",
        "macos" => "apple-darwin",
        other => panic!("no release target for {other}"),
    };
    format!("{}-{os}", std::env::consts::ARCH)
}

/// A release archive around a stand-in `deep-review` that prints its version, and its
/// `.sha256`, made by the release workflow's packaging script.
fn fake_release(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let bin = script(
        dir,
        "deep-review",
        &format!("echo \"deep-review {VERSION} (stand-in)\""),
    );
    let out = std::process::Command::new("sh")
        .arg(format!("{ROOT}/scripts/package-release.sh"))
        .arg(target())
        .arg(&bin)
        .arg(dir.join("dist"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let archive = dir
        .join("dist")
        .join(format!("deep-review-{}.tar.gz", target()));
    let sum = std::fs::read(archive.with_extension("gz.sha256")).unwrap();
    (std::fs::read(&archive).unwrap(), sum)
}

/// The `run` line of action.yml's step `name`.
fn action_step(name: &str) -> String {
    let action = std::fs::read_to_string(format!("{ROOT}/action.yml")).unwrap();
    let step = action
        .split("    - name: ")
        .find(|s| s.starts_with(name))
        .unwrap_or_else(|| panic!("action.yml has no step `{name}`"));
    let run = step
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("run: "))
        .unwrap_or_else(|| panic!("step `{name}` has no one-line run"));
    assert!(
        step.contains("if: inputs.build-from-source != 'true'"),
        "the download is the default: {step}"
    );
    run.to_string()
}

/// Runs action.yml's install step as the runner would, with the releases at `base`.
fn install_step(base: &str, runner_temp: &Path) -> std::process::Output {
    std::process::Command::new("bash")
        .args([
            "-e",
            "-c",
            &action_step("Install deep-review (release binary)"),
        ])
        .env("GITHUB_ACTION_PATH", ROOT)
        .env("RUNNER_TEMP", runner_temp)
        .env("DEEP_REVIEW_BASE_URL", format!("{base}/releases"))
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .env_remove("DEEP_REVIEW_TARGET")
        .env_remove("DEEP_REVIEW_INSTALL_DIR")
        .output()
        .unwrap()
}

#[test]
fn the_action_installs_the_release_of_its_own_version_after_checking_it() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, sum) = fake_release(dir.path());
    let name = format!("deep-review-{}.tar.gz", target());
    let at = format!("/releases/download/v{VERSION}/{name}");
    let latest = format!("/releases/latest/download/{name}");
    let log = Arc::new(Mutex::new(Vec::new()));
    let base = serve(
        BTreeMap::from([
            (at.clone(), archive.clone()),
            (format!("{at}.sha256"), sum.clone()),
            (latest.clone(), archive),
            (format!("{latest}.sha256"), sum),
        ]),
        log.clone(),
    );
    let temp = dir.path().join("runner-temp");
    let out = install_step(&base, &temp);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(*log.lock().unwrap(), [at.clone(), format!("{at}.sha256")]);
    let installed = temp.join("deep-review/bin/deep-review");
    let ran = std::process::Command::new(&installed).output().unwrap();
    assert_eq!(stdout(&ran), format!("deep-review {VERSION} (stand-in)\n"));
    assert!(
        stderr(&out).contains(&format!("installed deep-review {VERSION} (stand-in)")),
        "{}",
        stderr(&out)
    );

    // The README's one line: the script on sh's stdin, the latest release.
    log.lock().unwrap().clear();
    let home = dir.path().join("home");
    let mut sh = std::process::Command::new("sh")
        .arg("-s")
        .env("HOME", &home)
        .env("DEEP_REVIEW_BASE_URL", format!("{base}/releases"))
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .env_remove("DEEP_REVIEW_INSTALL_DIR")
        .env_remove("DEEP_REVIEW_TARGET")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    sh.stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(format!("{ROOT}/scripts/install-deep-review.sh")).unwrap())
        .unwrap();
    let out = sh.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        *log.lock().unwrap(),
        [latest.clone(), format!("{latest}.sha256")]
    );
    let ran = std::process::Command::new(home.join(".local/bin/deep-review"))
        .output()
        .unwrap();
    assert_eq!(stdout(&ran), format!("deep-review {VERSION} (stand-in)\n"));
}

#[test]
fn a_wrong_checksum_or_a_missing_release_installs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, _) = fake_release(dir.path());
    let name = format!("deep-review-{}.tar.gz", target());
    let at = format!("/releases/download/v{VERSION}/{name}");
    let wrong = format!("{}  {name}\n", "0123456789abcdef".repeat(4));
    let base = serve(
        BTreeMap::from([
            (at.clone(), archive),
            (format!("{at}.sha256"), wrong.into()),
        ]),
        Arc::default(),
    );
    let temp = dir.path().join("runner-temp");
    let out = install_step(&base, &temp);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "checksum mismatch for {name}: expected {}",
            "0123456789abcdef".repeat(4)
        )) && err.contains("nothing was installed"),
        "{err}"
    );
    assert!(!temp.join("deep-review/bin/deep-review").exists());

    // No release of this version for this machine: a clear error, nothing installed.
    let empty = serve(BTreeMap::new(), Arc::default());
    let out = install_step(&empty, &temp);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "is deep-review {VERSION} released for {}?",
            target()
        )),
        "{}",
        stderr(&out)
    );
    assert!(!temp.join("deep-review/bin/deep-review").exists());
}

/// The five release targets in release.yml's matrix, cargo-binstall's metadata and the install
/// script all name the archives scripts/package-release.sh makes, at the same address.
#[test]
fn release_targets_binstall_metadata_and_installer_agree() {
    let workflow =
        std::fs::read_to_string(format!("{ROOT}/.github/workflows/release.yml")).unwrap();
    let targets: Vec<&str> = workflow
        .lines()
        .filter_map(|l| l.split("{ target: ").nth(1)?.split(',').next())
        .collect();
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc"
        ]
    );
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(format!("{ROOT}/Cargo.toml")).unwrap()).unwrap();
    let binstall = &manifest["package"]["metadata"]["binstall"];
    let installer =
        std::fs::read_to_string(format!("{ROOT}/scripts/install-deep-review.sh")).unwrap();
    let releases = "https://github.com/deep-review/deep-review/releases";
    assert!(
        installer.contains(&format!("DEEP_REVIEW_BASE_URL:-{releases}}}")),
        "the installer's default release address"
    );
    for target in targets {
        let windows = target.contains("windows");
        let fmt = binstall
            .get("overrides")
            .and_then(|o| o.get(target))
            .and_then(|o| o.get("pkg-fmt"))
            .unwrap_or(&binstall["pkg-fmt"])
            .as_str()
            .unwrap();
        // cargo-binstall tries each suffix of the format in turn.
        let suffixes: &[&str] = match fmt {
            "tgz" => &[".tgz", ".tar.gz"],
            "zip" => &[".zip"],
            other => panic!("unexpected pkg-fmt {other}"),
        };
        let (archive, exe) = if windows {
            (format!("deep-review-{target}.zip"), "deep-review.exe")
        } else {
            (format!("deep-review-{target}.tar.gz"), "deep-review")
        };
        let expand = |template: &str, suffix: &str| {
            template
                .replace("{ version }", VERSION)
                .replace("{ name }", "deep-review")
                .replace("{ target }", target)
                .replace("{ archive-suffix }", suffix)
                .replace("{ bin }", "deep-review")
                .replace("{ binary-ext }", if windows { ".exe" } else { "" })
        };
        let url = format!("{releases}/download/v{VERSION}/{archive}");
        assert!(
            suffixes
                .iter()
                .any(|s| expand(binstall["pkg-url"].as_str().unwrap(), s) == url),
            "binstall does not fetch {url}"
        );
        assert_eq!(
            expand(binstall["bin-dir"].as_str().unwrap(), ""),
            format!("deep-review-{target}/{exe}")
        );
    }
    // package-release.sh's archive holds the binary where bin-dir and the installer look.
    let dir = tempfile::tempdir().unwrap();
    let (archive, _) = fake_release(dir.path());
    let file = dir.path().join("a.tar.gz");
    std::fs::write(&file, archive).unwrap();
    let listed = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        stdout(&listed)
            .lines()
            .any(|l| l == format!("deep-review-{}/deep-review", target())),
        "{}",
        stdout(&listed)
    );
}
