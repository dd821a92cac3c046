//! Where the notes are read from and the one way they are written.
//!
//! A brief reads the notes committed at the review's base ([`for_brief`]), through the path
//! guard, never the working tree or the head: a change cannot tell its own reviewers what to
//! think of it by editing the notes. The `context` commands edit the working tree's file,
//! which the team then commits.

use super::notes::Note;
use super::notes::Notes;
use crate::change::Change;
use crate::errors::Error;
use crate::errors::Result;
use crate::git::Repo;
use crate::tree_guard::Refusal;
use crate::tree_guard::ReviewedTree;
use crate::tree_guard::TreeSource;
use std::path::PathBuf;

/// The notes file, relative to the repository's root.
pub const FILE: &str = ".deep-review/context.md";

/// The notes a brief carries and the commit they were read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    pub notes: Vec<Note>,
    pub commit: String,
}

/// The notes for `change`'s brief: as committed at the commit the repository's instructions
/// come from when they come from the base (a PR's base branch, an untrusted head's base),
/// else at the range's base. None when that commit has no notes.
pub fn for_brief(change: &Change) -> Option<Memory> {
    let sha = change
        .instructions_at
        .clone()
        .unwrap_or_else(|| change.base_sha.clone());
    let notes = committed(&change.repo, &sha);
    let notes: Vec<Note> = notes.notes().cloned().collect();
    (!notes.is_empty()).then_some(Memory { notes, commit: sha })
}

/// The notes file at commit `sha`, read through the path guard (a symlink or a folder there
/// is refused and logged); empty when the commit has none.
pub fn committed(repo: &Repo, sha: &str) -> Notes {
    let tree = ReviewedTree::new(repo.clone(), TreeSource::Commit(sha.to_string()));
    match tree.read(FILE) {
        Ok(bytes) => Notes::parse(&String::from_utf8_lossy(&bytes)),
        Err(Refusal::Missing) => Notes::default(),
        Err(why) => {
            crate::progress::log(&format!(
                "{FILE} at {} {why}; the brief carries no repository notes",
                &sha[..sha.len().min(12)]
            ));
            Notes::default()
        }
    }
}

/// The notes file in the working tree and its text ("" when it does not exist yet).
pub fn working(repo: &Repo) -> Result<(Notes, String)> {
    let path = path(repo);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Notes::default(), String::new()))
        }
        Err(e) => return Err(Error::io("read", &path, e)),
        Ok(m) if !m.file_type().is_file() => {
            return Err(Error::Usage(format!(
                "{} is not a regular file (a symlink or a folder); make it a plain Markdown file",
                path.display()
            )))
        }
        Ok(_) => {}
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    Ok((Notes::parse(&text), text))
}

/// What [`save`] would write: the notes' text, masked as every write is.
pub fn to_write(notes: &Notes) -> String {
    crate::secrets::mask(&notes.render()).into_owned()
}

/// Writes the notes file (masked, whole or not at all) and makes sure deep-review's git
/// excludes leave it visible to `git add`.
pub fn save(repo: &Repo, notes: &Notes) -> Result<PathBuf> {
    repo.ensure_excluded()?;
    let path = path(repo);
    crate::artifacts::write(&path, &notes.render())?;
    Ok(path)
}

pub fn path(repo: &Repo) -> PathBuf {
    repo.root.join(FILE)
}

/// Whether the working tree's notes file differs from HEAD's (uncommitted, or untracked).
pub fn has_uncommitted_changes(repo: &Repo) -> bool {
    repo.git(&["status", "--porcelain", "--untracked-files=all", "--", FILE])
        .is_ok_and(|s| !s.trim().is_empty())
}
