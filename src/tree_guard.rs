//! The one path guard: every read of the reviewed tree on behalf of a reviewer (citations,
//! excerpts, instruction files, and later the HTTP tool loops and the ACP file handler) goes
//! through [`ReviewedTree::read`], so what a change's files can make us read is decided here.
//!
//! The rule: only regular files of the reviewed revision. For a commit, a blob of mode 100644
//! or 100755 at exactly that path of the commit's tree (not a symlink, tree or submodule). For
//! the working tree, a regular file reached without following a symlink anywhere along the
//! path. Never anything under `.git/`, never a path that leaves the tree. A path is compared
//! as given, lexically: no `..`, no absolute paths, nothing resolved on disk first.

use crate::git::Repo;
use std::path::Component;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

/// Why a path of the reviewed tree was not read. The text reads after "`path` …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Absolute, empty, or climbing out with `..`.
    #[error("is outside the reviewed tree")]
    Outside,
    /// A symlink is the file itself or one of the folders on the way to it.
    #[error("goes through a symlink (`{0}`), which is never followed")]
    Symlink(String),
    /// A folder, a submodule, a device, a FIFO, …
    #[error("is not a regular file ({0})")]
    NotRegularFile(&'static str),
    /// Under `.git/`: the repository's own data, not the reviewed tree.
    #[error("is inside `.git/`, which is never read")]
    GitDir,
    #[error("does not exist in the reviewed tree")]
    Missing,
}

/// Which revision the reviewed tree is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeSource {
    /// A committed tree.
    Commit(String),
    /// The working tree (for `--uncommitted`).
    WorkingTree,
}

/// One revision of a repository, readable only through the guard.
#[derive(Debug, Clone)]
pub struct ReviewedTree {
    repo: Repo,
    source: TreeSource,
}

impl ReviewedTree {
    pub fn new(repo: Repo, source: TreeSource) -> ReviewedTree {
        ReviewedTree { repo, source }
    }

    pub fn source(&self) -> &TreeSource {
        &self.source
    }

    /// The bytes of the regular file at `path` (relative to the repository root, `/`
    /// separated, a leading `./` allowed), or why it may not be read.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, Refusal> {
        let rel = normalize(path)?;
        match &self.source {
            TreeSource::Commit(sha) => self.read_blob(sha, &rel),
            TreeSource::WorkingTree => self.read_file(&rel),
        }
    }

    /// `abs` as a path relative to the repository root, for callers that are handed absolute
    /// paths (the ACP file handler); refused when it is not lexically inside the root.
    pub fn relative(&self, abs: &Path) -> Result<String, Refusal> {
        let rest = abs
            .strip_prefix(&self.repo.root)
            .map_err(|_| Refusal::Outside)?;
        let text = rest.to_str().ok_or(Refusal::Missing)?;
        normalize(text).map(|parts| parts.join("/"))
    }

    /// Every regular file of the revision (relative, `/` separated, sorted), as [`Self::read`]
    /// would read them: no symlink, nothing under `.git/`. For the working tree, the files git
    /// knows or would add (ignored files are not listed).
    pub fn files(&self) -> Vec<String> {
        let listing = match &self.source {
            TreeSource::Commit(sha) => {
                self.repo
                    .git_raw(&["ls-tree", "-r", "-z", "--full-tree", sha])
            }
            TreeSource::WorkingTree => self.repo.git_raw(&[
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ]),
        };
        let Ok(listing) = listing else {
            return Vec::new();
        };
        let mut out: Vec<String> = listing
            .split(|&b| b == 0)
            .filter_map(|e| {
                let e = std::str::from_utf8(e).ok()?;
                let path = match &self.source {
                    TreeSource::Commit(_) => {
                        let (head, path) = e.split_once('\t')?;
                        let mode = head.split(' ').next()?;
                        matches!(mode, "100644" | "100755").then_some(path)?
                    }
                    TreeSource::WorkingTree => e,
                };
                let parts = normalize(path).ok()?;
                if self.source == TreeSource::WorkingTree && !self.is_regular(&parts) {
                    return None;
                }
                Some(parts.join("/"))
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// A working-tree file reached without a symlink on the way, and regular.
    fn is_regular(&self, rel: &[String]) -> bool {
        let mut at = self.repo.root.clone();
        for (i, part) in rel.iter().enumerate() {
            at.push(part);
            let Ok(meta) = std::fs::symlink_metadata(&at) else {
                return false;
            };
            let last = i + 1 == rel.len();
            if meta.file_type().is_symlink() || (!last && !meta.is_dir()) {
                return false;
            }
            if last {
                return meta.is_file();
            }
        }
        false
    }

    fn read_blob(&self, sha: &str, rel: &[String]) -> Result<Vec<u8>, Refusal> {
        let path = rel.join("/");
        // `ls-tree` names the entry at exactly this path; it never looks through a symlinked
        // folder, so `link/file` with `link` a symlink is simply missing.
        let listing = self
            .repo
            .git_raw(&[
                "--literal-pathspecs",
                "ls-tree",
                "-z",
                "--full-tree",
                sha,
                "--",
                &path,
            ])
            .map_err(|_| Refusal::Missing)?;
        let entry = listing
            .split(|&b| b == 0)
            .find(|e| e.splitn(2, |&b| b == b'\t').nth(1) == Some(path.as_bytes()))
            .ok_or(Refusal::Missing)?;
        let head = String::from_utf8_lossy(entry.splitn(2, |&b| b == b'\t').next().unwrap_or(&[]))
            .into_owned();
        let mut fields = head.split(' ');
        let mode = fields.next().unwrap_or("");
        let object = fields.nth(1).unwrap_or("");
        match mode {
            "100644" | "100755" => self
                .repo
                .git_raw(&["cat-file", "blob", object])
                .map_err(|_| Refusal::Missing),
            "120000" => Err(Refusal::Symlink(path)),
            "040000" => Err(Refusal::NotRegularFile("a folder")),
            "160000" => Err(Refusal::NotRegularFile("a submodule")),
            _ => Err(Refusal::NotRegularFile("an unknown tree entry")),
        }
    }

    fn read_file(&self, rel: &[String]) -> Result<Vec<u8>, Refusal> {
        let mut at = self.repo.root.clone();
        for (i, part) in rel.iter().enumerate() {
            at.push(part);
            let meta = std::fs::symlink_metadata(&at).map_err(|_| Refusal::Missing)?;
            let shown = rel[..=i].join("/");
            if meta.file_type().is_symlink() {
                return Err(Refusal::Symlink(shown));
            }
            let last = i + 1 == rel.len();
            if !last && !meta.is_dir() {
                return Err(Refusal::Missing);
            }
            if last && !meta.is_file() {
                return Err(Refusal::NotRegularFile(kind_of(&meta)));
            }
        }
        read_no_follow(&at)
    }
}

/// Opens without following a final symlink (one swapped in since the check is refused by
/// the kernel) and reads only if it is still a regular file.
fn read_no_follow(path: &PathBuf) -> Result<Vec<u8>, Refusal> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|_| Refusal::Missing)?;
    let meta = file.metadata().map_err(|_| Refusal::Missing)?;
    if !meta.is_file() {
        return Err(Refusal::NotRegularFile(kind_of(&meta)));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|_| Refusal::Missing)?;
    Ok(bytes)
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a file"
    }
}

/// `path` checked lexically as [`ReviewedTree::read`] checks it (relative, no `..`, not under
/// `.git`), normalized (`./a//b` → `a/b`), for callers that hand a path to git.
pub fn check_path(path: &str) -> Result<String, Refusal> {
    normalize(path).map(|parts| parts.join("/"))
}

/// The path's parts, checked lexically: relative, no `..`, not under `.git`.
fn normalize(path: &str) -> Result<Vec<String>, Refusal> {
    let p = Path::new(path);
    let mut parts = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => {
                let s = s.to_str().ok_or(Refusal::Missing)?;
                if s.eq_ignore_ascii_case(".git") {
                    return Err(Refusal::GitDir);
                }
                parts.push(s.to_string());
            }
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(Refusal::Outside)
            }
        }
    }
    if parts.is_empty() {
        return Err(Refusal::Outside);
    }
    Ok(parts)
}

/// Read access to the head tree, for verifying citations and quoting code.
pub trait HeadTree {
    /// The lines of `path` at the head, or None when the file does not exist there.
    fn lines(&self, path: &str) -> Option<Arc<Vec<String>>>;
    /// The lines of `path`, or why the path guard refused it (a symlink, a folder, `.git/`, …).
    fn read_lines(&self, path: &str) -> Result<Arc<Vec<String>>, Refusal> {
        self.lines(path).ok_or(Refusal::Missing)
    }
    /// Paths the change touched, for resolving citations that give a partial path.
    fn changed_paths(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked_lexically() {
        assert_eq!(normalize("./src/a.rs").unwrap(), vec!["src", "a.rs"]);
        assert_eq!(normalize("src/f\u{fc}nf/x y.js").unwrap().len(), 3);
        assert_eq!(normalize("../etc/passwd"), Err(Refusal::Outside));
        assert_eq!(normalize("src/../../x"), Err(Refusal::Outside));
        assert_eq!(normalize("/etc/passwd"), Err(Refusal::Outside));
        assert_eq!(normalize(""), Err(Refusal::Outside));
        assert_eq!(normalize(".git/config"), Err(Refusal::GitDir));
        assert_eq!(normalize("sub/.GIT/HEAD"), Err(Refusal::GitDir));
    }

    #[test]
    fn absolute_paths_are_taken_only_from_inside_the_root() {
        let tree = ReviewedTree::new(
            Repo {
                root: PathBuf::from("/work/repo"),
            },
            TreeSource::WorkingTree,
        );
        assert_eq!(
            tree.relative(Path::new("/work/repo/src/a.rs")).as_deref(),
            Ok("src/a.rs")
        );
        assert_eq!(
            tree.relative(Path::new("/work/repo/../etc/passwd")),
            Err(Refusal::Outside)
        );
        assert_eq!(
            tree.relative(Path::new("/work/repository/x")),
            Err(Refusal::Outside)
        );
        assert_eq!(
            tree.relative(Path::new("/work/repo/.git/config")),
            Err(Refusal::GitDir)
        );
    }
}
