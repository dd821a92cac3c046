//! Test support: real git repositories in temp dirs, and the deep-review binary run on them.

use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::Output;

pub const BIN: &str = env!("CARGO_BIN_EXE_deep-review");

/// A git repository in a temp dir, with fixed identities and dates so SHAs are stable.
pub struct Repo {
    pub dir: tempfile::TempDir,
    tick: std::cell::Cell<u32>,
}

impl Repo {
    pub fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("tempdir"),
            tick: std::cell::Cell::new(0),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        let t = self.tick.get() + 1;
        self.tick.set(t);
        let date = format!("2026-04-26T16:{:02}:00+00:00", t.min(59));
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    pub fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// A repository with a base commit on main and a feature branch checked out.
    pub fn with_base(files: &[(&str, &str)]) -> Repo {
        let r = Repo::new();
        for (p, t) in files {
            r.write(p, t);
        }
        r.commit("Initial commit");
        r.git(&["checkout", "-q", "-b", "feature"]);
        r
    }

    /// Runs deep-review in the repository.
    pub fn run(&self, args: &[&str]) -> Output {
        run_in(self.path(), args)
    }

    /// The newest round folder of the newest review written so far.
    pub fn round_dir(&self) -> PathBuf {
        let reviews = self.path().join(".deep-review/reviews");
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&reviews)
            .expect("reviews folder")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        let review = entries.last().expect("a review").clone();
        let round = std::fs::read_dir(&review)
            .expect("review folder")
            .filter_map(|e| {
                e.ok()?
                    .file_name()
                    .to_str()?
                    .strip_prefix("round-")?
                    .parse::<u32>()
                    .ok()
            })
            .max()
            .expect("a round");
        review.join(format!("round-{round}"))
    }

    pub fn review_json(&self) -> serde_json::Value {
        let text =
            std::fs::read_to_string(self.round_dir().join("review.json")).expect("review.json");
        serde_json::from_str(&text).expect("valid json")
    }
}

pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("DEEP_REVIEW_CONFIG", dir.join("no-user-config.toml"))
        .env("PATH", minimal_path())
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .output()
        .expect("deep-review runs")
}

/// PATH without any agent CLI the developer may have installed, so tests see a bare machine.
fn minimal_path() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| {
            !["claude", "codex", "gemini"]
                .iter()
                .any(|b| d.join(b).exists())
        })
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// Writes an executable shell script and returns its path.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

/// A command agent that drains the brief and prints `answer`.
pub fn answering_agent(dir: &Path, name: &str, answer: &serde_json::Value) -> PathBuf {
    let file = dir.join(format!("{name}.answer.json"));
    std::fs::write(&file, serde_json::to_string_pretty(answer).expect("json")).expect("write");
    script(
        dir,
        &format!("{name}.sh"),
        &format!("cat > /dev/null\ncat '{}'", file.display()),
    )
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `.deep-review.toml` with one command agent per (name, path).
pub fn config(repo: &Repo, agents: &[(&str, &Path)], extra: &str) {
    let mut text = String::from(extra);
    for (name, path) in agents {
        text.push_str(&format!(
            "\n[agents.{name}]\nkind = \"command\"\ncommand = [\"{}\"]\n",
            path.display()
        ));
    }
    repo.write(".deep-review.toml", &text);
}

/// Runs deep-review with `extra` prepended to PATH (fake agent CLIs live there).
pub fn run_with_path(dir: &Path, args: &[&str], extra: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("DEEP_REVIEW_CONFIG", dir.join("no-user-config.toml"))
        .env("PATH", format!("{}:{}", extra.display(), minimal_path()))
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .output()
        .expect("deep-review runs")
}

/// The text of a recorded transcript from tests/fixtures/transcripts.
pub fn transcript(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/transcripts/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("transcript")
}
