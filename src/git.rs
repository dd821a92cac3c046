//! The repository and the `git` binary: a leaf that the path guard and the change both use.

use crate::errors::Error;
use crate::errors::GitError;
use crate::errors::Result;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;

/// A git repository on disk.
#[derive(Debug, Clone)]
pub struct Repo {
    pub root: PathBuf,
}

impl Repo {
    /// Finds the repository that contains `dir`.
    pub fn discover(dir: &Path) -> Result<Repo> {
        if !dir.exists() {
            return Err(Error::NotARepository(dir.to_path_buf()));
        }
        let root = match run_git(Some(dir), &["rev-parse", "--show-toplevel"]) {
            Ok(out) => String::from_utf8_lossy(&out).trim().to_string(),
            Err(GitError::Failed { .. }) => return Err(Error::NotARepository(dir.to_path_buf())),
            Err(e) => return Err(e.into()),
        };
        Ok(Repo {
            root: PathBuf::from(root),
        })
    }

    /// Runs git in the repository and returns stdout; a failure carries git's stderr.
    pub fn git(&self, args: &[&str]) -> Result<String> {
        let out = self.git_raw(args)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    pub fn git_raw(&self, args: &[&str]) -> Result<Vec<u8>> {
        Ok(run_git(Some(&self.root), args)?)
    }

    /// Resolves a ref to a full commit SHA.
    pub fn resolve(&self, reference: &str) -> Result<String> {
        let spec = format!("{reference}^{{commit}}");
        match self.git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ]) {
            Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(Error::UnknownRef(reference.to_string())),
        }
    }

    fn has_ref(&self, reference: &str) -> bool {
        self.resolve(reference).is_ok()
    }

    /// The default branch: origin/HEAD, else main, else master (local or on origin).
    pub fn default_branch(&self) -> Result<String> {
        if let Ok(s) = self.git(&["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"]) {
            let s = s.trim();
            if !s.is_empty() && self.has_ref(s) {
                return Ok(s.trim_start_matches("refs/remotes/").to_string());
            }
        }
        for candidate in ["main", "master", "origin/main", "origin/master"] {
            if self.has_ref(candidate) {
                return Ok(candidate.to_string());
            }
        }
        Err(Error::NoDefaultBranch)
    }

    /// Keeps deep-review's generated files (review folders, rounds, worktrees, any database)
    /// out of `git status` without touching the user's .gitignore, and leaves the notes
    /// (`.deep-review/context.md`), which the team commits, visible. An older version's line
    /// excluding all of `.deep-review/` is replaced.
    pub fn ensure_excluded(&self) -> Result<()> {
        let git_dir = self.git(&["rev-parse", "--git-common-dir"])?;
        let git_dir = PathBuf::from(git_dir.trim());
        let git_dir = if git_dir.is_absolute() {
            git_dir
        } else {
            self.root.join(git_dir)
        };
        let info = git_dir.join("info");
        let exclude = info.join("exclude");
        let existing = std::fs::read_to_string(&exclude).unwrap_or_default();
        let Some(text) = excludes_with_ours(&existing) else {
            return Ok(());
        };
        std::fs::create_dir_all(&info).map_err(|e| Error::io("create", &info, e))?;
        std::fs::write(&exclude, text).map_err(|e| Error::io("write", &exclude, e))
    }
}

/// deep-review's lines in `.git/info/exclude`: everything under `.deep-review/` but the notes.
/// (`/.deep-review/*` excludes the folder's entries, not the folder, so git can re-include
/// the notes; it could not under an excluded folder.)
const EXCLUDES: &str = "# deep-review: generated reviews and history; the notes (context.md) are committed\n/.deep-review/*\n!/.deep-review/context.md\n";

/// `existing` (an exclude file's text) with [`EXCLUDES`] in place of any older deep-review
/// lines, or None when it already holds them.
fn excludes_with_ours(existing: &str) -> Option<String> {
    let ours: Vec<&str> = EXCLUDES.lines().collect();
    let has = |l: &str| existing.lines().any(|e| e.trim() == l);
    let old = |l: &str| matches!(l.trim(), "/.deep-review/" | "# deep-review artifacts");
    if ours[1..].iter().all(|l| has(l)) && !existing.lines().any(old) {
        return None;
    }
    let mut text = String::new();
    for line in existing.split_inclusive('\n') {
        if !old(line) && !ours.contains(&line.trim()) {
            text.push_str(line);
        }
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(EXCLUDES);
    Some(text)
}

/// Runs git (in `dir`, when given) and returns stdout; a failure carries git's stderr.
///
/// Paths come back as they are (`core.quotePath=false`): non-ASCII names are not octal-escaped.
/// Names with a tab, newline, `"` or `\` stay C-quoted in a patch; [`crate::diff`] unquotes them,
/// and name lists are read with `-z`, which never quotes.
pub fn run_git(dir: Option<&Path>, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let mut cmd = Command::new("git");
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    let out = cmd
        .args(["-c", "core.quotePath=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|source| GitError::Spawn { source })?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn excludes_are_added_once_and_an_older_line_is_migrated() {
        let fresh = excludes_with_ours("").unwrap();
        assert_eq!(fresh, EXCLUDES);
        assert_eq!(excludes_with_ours(&fresh), None);
        let user = "# git ls-files --others --exclude-from=.git/info/exclude\n*.swp\n";
        let old = format!("{user}# deep-review artifacts\n/.deep-review/\n/build/");
        let migrated = excludes_with_ours(&old).unwrap();
        assert_eq!(migrated, format!("{user}/build/\n{EXCLUDES}"));
        assert_eq!(excludes_with_ours(&migrated), None);
    }

    #[test]
    fn git_ignores_the_reviews_but_not_the_notes() {
        let dir = tempfile::tempdir().unwrap();
        run_git(Some(dir.path()), &["init", "-q"]).unwrap();
        let exclude = dir.path().join(".git/info/exclude");
        std::fs::write(&exclude, "# deep-review artifacts\n/.deep-review/\n").unwrap();
        let repo = Repo::discover(dir.path()).unwrap();
        repo.ensure_excluded().unwrap();
        for (path, ignored) in [
            (".deep-review/context.md", false),
            (
                ".deep-review/reviews/20260426-165750-local-abc/round-1/review.json",
                true,
            ),
            (".deep-review/history.sqlite", true),
            ("src/.deep-review/context.md", false),
        ] {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, "x").unwrap();
            let out = std::process::Command::new("git")
                .args([
                    "-C",
                    dir.path().to_str().unwrap(),
                    "check-ignore",
                    "-q",
                    path,
                ])
                .status()
                .unwrap();
            assert_eq!(out.success(), ignored, "{path}");
        }
        let status = repo.git(&["status", "--porcelain", "-uall"]).unwrap();
        assert_eq!(
            status.trim(),
            "?? .deep-review/context.md\n?? src/.deep-review/context.md".trim(),
            "{status}"
        );
    }

    #[test]
    fn a_refusal_carries_git_stderr_and_a_silent_one_its_status() {
        let dir = tempfile::tempdir().unwrap();
        let e = run_git(Some(dir.path()), &["rev-parse", "--show-toplevel"]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("git rev-parse --show-toplevel failed: "),
            "{text}"
        );
        assert!(text.contains("not a git repository"), "{text}");
        assert!(e.source().is_none());
        let silent = GitError::Failed {
            args: "diff --quiet".into(),
            status: std::process::Command::new("false").status().unwrap(),
            stderr: String::new(),
        };
        assert_eq!(
            silent.to_string(),
            "git diff --quiet failed (exit status: 1, no message)"
        );
    }
}
