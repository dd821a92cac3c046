//! Running the `git` binary.

use crate::errors::GitError;
use std::path::Path;
use std::process::Command;

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
