//! What can go wrong running the `git` binary ([`crate::change::run_git`]).

/// Why a git invocation gave us nothing. The message says what deep-review was doing; the OS
/// error (for [`GitError::Spawn`]) is its source, printed once by `main`.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git could not be started: not installed, not on PATH, or not executable. Retrying does
    /// not help until PATH is fixed.
    #[error("could not run git (install git, or put it on PATH)")]
    Spawn {
        #[source]
        source: std::io::Error,
    },
    /// git ran and refused; its stderr says why (an unknown object, a network failure, …).
    #[error("git {args} failed{}", stderr_tail(.status, .stderr))]
    Failed {
        args: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// `: <git's stderr>`, or the exit status when git said nothing.
fn stderr_tail(status: &std::process::ExitStatus, stderr: &str) -> String {
    if stderr.is_empty() {
        format!(" ({status}, no message)")
    } else {
        format!(": {stderr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_missing_git_names_the_fix_and_keeps_the_os_error_as_source() {
        let e = GitError::Spawn {
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let text = e.to_string();
        assert_eq!(text, "could not run git (install git, or put it on PATH)");
        assert!(e.source().is_some());
    }
}
