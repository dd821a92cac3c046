//! `deep-review hook install|uninstall`: an advisory pre-push hook that reviews the commits
//! being pushed and prints the review on the terminal (stderr). It never blocks a push unless
//! it was installed with `--fail-on` and a finding at that level exists; a review that cannot
//! be made (no deep-review on PATH, an unknown remote commit, every reviewer failing) lets the
//! push go on with a note.
//!
//! The hook goes where git looks for hooks (`git rev-parse --git-path hooks`: `core.hooksPath`
//! and worktrees respected). A hook deep-review did not write is never replaced without
//! `--force` (and then kept as a backup), and `uninstall` removes only deep-review's.

use crate::cli::HookArgs;
use crate::cli::HookCommand;
use crate::errors::Error;
use crate::errors::Result;
use crate::finding::Severity;
use crate::git::Repo;
use std::path::Path;
use std::path::PathBuf;

/// The line that marks a hook as deep-review's.
const MARKER: &str = "# deep-review pre-push hook";
const BACKUP: &str = "pre-push.deep-review-backup";

pub fn run(args: HookArgs) -> Result<String> {
    let repo = Repo::discover(&args.repo)?;
    let hooks = hooks_dir(&repo)?;
    let hook = hooks.join("pre-push");
    match args.command {
        HookCommand::Install {
            agents,
            fail_on,
            force,
        } => {
            // The names must mean something here, or every push would print an error.
            let asked = crate::config::Overrides {
                agents: Some(agents.clone()),
                ..Default::default()
            };
            crate::config::load(&repo.root, None, &asked)?;
            install(&hook, &agents, fail_on, force)
        }
        HookCommand::Uninstall => uninstall(&hook),
    }
}

/// Where git runs this repository's hooks: `core.hooksPath` if set, else the common git
/// folder's `hooks` (shared by every worktree).
fn hooks_dir(repo: &Repo) -> Result<PathBuf> {
    let out = repo.git(&["rev-parse", "--git-path", "hooks"])?;
    let p = PathBuf::from(out.trim());
    Ok(if p.is_absolute() {
        p
    } else {
        repo.root.join(p)
    })
}

fn is_ours(text: &str) -> bool {
    text.lines().take(3).any(|l| l.trim() == MARKER)
}

fn install(
    hook: &Path,
    agents: &[String],
    fail_on: Option<Severity>,
    force: bool,
) -> Result<String> {
    let agents: Vec<&str> = agents
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .collect();
    if agents.is_empty() {
        return Err(Error::Usage(
            "--agents names no reviewer; e.g. --agents builtin,claude".into(),
        ));
    }
    if let Some(bad) = agents.iter().find(|a| {
        !a.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }) {
        return Err(Error::Usage(format!(
            "--agents: `{bad}` is not an agent name (letters, digits, `-` and `_`)"
        )));
    }
    refuse_symlink(hook)?;
    let mut backed_up = None;
    match std::fs::read_to_string(hook) {
        Ok(text) if !is_ours(&text) => {
            if !force {
                return Err(Error::Usage(format!(
                    "{} exists and is not deep-review's; it was left as it is. Pass --force to replace it (it is kept as {BACKUP}), or call `deep-review review` from it yourself",
                    hook.display()
                )));
            }
            let backup = hook.with_file_name(BACKUP);
            // An earlier forced install kept another hook there: never overwrite it.
            if std::fs::symlink_metadata(&backup).is_ok() {
                return Err(Error::Usage(format!(
                    "{} exists and is not deep-review's, and {} already keeps the hook an earlier --force replaced; both were left as they are. Move one of them away, then install again",
                    hook.display(),
                    backup.display()
                )));
            }
            std::fs::rename(hook, &backup).map_err(|e| Error::io("move", hook, e))?;
            backed_up = Some(backup);
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        // A folder or an unreadable file where the hook goes.
        Err(e) => return Err(Error::io("read", hook, e)),
    }
    if let Some(dir) = hook.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    let exe = std::env::current_exe().ok();
    let text = script(exe.as_deref(), &agents.join(","), fail_on);
    write_new(hook, &text)?;
    let mut msg = format!(
        "installed {}: before each push it reviews the commits pushed with {}, and prints the review; ",
        hook.display(),
        agents.join(", ")
    );
    msg.push_str(&match fail_on {
        Some(s) => format!(
            "a finding of {} or higher blocks the push (`git push --no-verify` skips the hook)",
            s.as_str()
        ),
        None => "it never blocks the push".into(),
    });
    if let Some(b) = backed_up {
        msg.push_str(&format!("; the previous hook is kept as {}", b.display()));
    }
    crate::progress::log(&msg);
    Ok(String::new())
}

/// A `pre-push` that is a symlink is never written through (that would create or overwrite
/// the link's target, a file the user never named): the user decides what becomes of it.
fn refuse_symlink(hook: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(hook) else {
        return Ok(());
    };
    if !meta.file_type().is_symlink() {
        return Ok(());
    }
    let to = std::fs::read_link(hook)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "?".into());
    Err(Error::Usage(format!(
        "{} is a symlink (to {to}); deep-review does not write through it, so nothing was changed. To install, remove the link (`rm {}`) and install again, or call `deep-review review` from the hook it points to",
        hook.display(),
        hook.display()
    )))
}

/// Writes the hook as a new file beside it and renames it into place: whatever `hook` is by
/// then (a symlink swapped in since the check), it is replaced, never written through.
fn write_new(hook: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let tmp = hook.with_file_name(format!(".pre-push.deep-review-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    // `create_new` follows no symlink: a link put at `tmp` makes it fail.
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io("write", &tmp, e))
        .and_then(|()| make_executable(&tmp))
        .and_then(|()| std::fs::rename(&tmp, hook).map_err(|e| Error::io("write", hook, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn uninstall(hook: &Path) -> Result<String> {
    match std::fs::read_to_string(hook) {
        Ok(text) if is_ours(&text) => {
            std::fs::remove_file(hook).map_err(|e| Error::io("remove", hook, e))?;
            let backup = hook.with_file_name(BACKUP);
            if backup.exists() {
                std::fs::rename(&backup, hook).map_err(|e| Error::io("restore", &backup, e))?;
                crate::progress::log(&format!(
                    "removed deep-review's pre-push hook and put back the one it replaced ({})",
                    hook.display()
                ));
            } else {
                crate::progress::log(&format!("removed {}", hook.display()));
            }
            Ok(String::new())
        }
        Ok(_) => Err(Error::Usage(format!(
            "{} is not deep-review's pre-push hook; it was left as it is (remove it yourself if you mean to)",
            hook.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::progress::log(&format!(
                "no pre-push hook at {}; nothing to remove",
                hook.display()
            ));
            Ok(String::new())
        }
        Err(e) => Err(Error::io("read", hook, e)),
    }
}

#[cfg(unix)]
fn make_executable(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io("make executable", p, e))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

/// `s` quoted for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The hook: for each ref pushed, `deep-review review` of what the remote does not have yet
/// (a new branch: since it left the default branch), its report on stderr.
fn script(exe: Option<&Path>, agents: &str, fail_on: Option<Severity>) -> String {
    let exe = exe
        .map(|p| quote(&p.to_string_lossy()))
        .unwrap_or_else(|| "deep-review".into());
    let fail_on_arg = fail_on
        .map(|s| format!(" --fail-on {}", s.as_str()))
        .unwrap_or_default();
    let on_findings = match fail_on {
        Some(s) => format!(
            "status=1; echo \"deep-review: a finding of {} or higher: push blocked (fix it, or push with --no-verify)\" >&2",
            s.as_str()
        ),
        None => ":".into(),
    };
    format!(
        r#"#!/bin/sh
{MARKER}
# Written by `deep-review hook install`; `deep-review hook uninstall` removes it.
# Reviews the commits being pushed and prints the review here. Advisory: it blocks a push
# only when installed with --fail-on. Skip it once: DEEP_REVIEW_SKIP=1 git push.
[ -n "$DEEP_REVIEW_SKIP" ] && exit 0
exe={exe}
[ -x "$exe" ] || exe=deep-review
if ! command -v "$exe" >/dev/null 2>&1; then
    echo "deep-review: not found on PATH; pushing without a review" >&2
    exit 0
fi
status=0
while read -r local_ref local_sha remote_ref remote_sha; do
    # A deleted ref has nothing to review.
    case "$local_sha" in *[!0]*) ;; *) continue ;; esac
    base=""
    case "$remote_sha" in
        *[!0]*) git cat-file -e "$remote_sha^{{commit}}" 2>/dev/null && base="--base=$remote_sha" ;;
    esac
    echo "deep-review: reviewing $local_ref before it is pushed to $remote_ref" >&2
    "$exe" review $base --head "$local_sha" --agents {agents}{fail_on_arg} </dev/null >&2
    code=$?
    case "$code" in
        0) ;;
        1) {on_findings} ;;
        *) echo "deep-review: no complete review (exit $code); the push goes on" >&2 ;;
    esac
done
exit $status
"#,
        agents = quote(agents),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_is_ours_and_quotes_what_it_is_given() {
        let s = script(
            Some(Path::new("/opt/it's/deep-review")),
            "builtin,claude",
            Some(Severity::Important),
        );
        assert!(is_ours(&s));
        assert!(s.contains(r"exe='/opt/it'\''s/deep-review'"), "{s}");
        assert!(s.contains("--agents 'builtin,claude' --fail-on important </dev/null >&2"));
        assert!(s.contains("status=1;"));
        let advisory = script(None, "builtin", None);
        assert!(!advisory.contains("status=1"));
        assert!(!is_ours("#!/bin/sh\nexec lint\n"));
    }
}
