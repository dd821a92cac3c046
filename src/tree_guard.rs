//! The one path guard: every read of the reviewed tree on behalf of a reviewer (citations,
//! excerpts, instruction files, and later the HTTP tool loops and the ACP file handler) goes
//! through [`ReviewedTree::read`], so what a change's files can make us read is decided here.
//!
//! The rule: only regular files of the reviewed revision. For a commit, a blob of mode 100644
//! or 100755 at exactly that path of the commit's tree (not a symlink, tree or submodule). For
//! the working tree, a regular file reached without following a symlink anywhere along the
//! path (each folder opened with `O_NOFOLLOW` relative to the one before, so a folder swapped
//! for a symlink mid-read is refused by the kernel), and one git would add: tracked, or
//! untracked and not ignored (`.env`, `target/` are not part of the reviewed tree). Never
//! anything under `.git/`, never a path that leaves the tree. A path is compared as given,
//! lexically: no `..`, no absolute paths, nothing resolved on disk first.

use crate::git::Repo;
use std::path::Component;
use std::path::Path;
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
    /// A working-tree file that git ignores and does not track (`.env`, build output).
    #[error(
        "is ignored by git (.gitignore) and not tracked, so it is not part of the reviewed tree"
    )]
    Ignored,
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
            TreeSource::WorkingTree => {
                let bytes = self.read_file(&rel)?;
                if !self.listed(&rel.join("/")) {
                    return Err(Refusal::Ignored);
                }
                Ok(bytes)
            }
        }
    }

    /// Whether git lists the working-tree file `path` as [`Self::files`] does: tracked, or
    /// untracked and not ignored.
    fn listed(&self, path: &str) -> bool {
        let Ok(out) = self.repo.git_raw(&[
            "--literal-pathspecs",
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            path,
        ]) else {
            return false;
        };
        out.split(|&b| b == 0).any(|e| e == path.as_bytes())
    }

    /// Reads each of `paths` as [`Self::read`] reads it, in one go: for a commit, one
    /// `git ls-tree` for all their entries (chunked on very long lists) and one
    /// `git cat-file --batch` for their blobs, not two processes per file; for the working
    /// tree, each file walked as [`Self::read`] walks it and one `git ls-files` for all.
    pub fn read_many(&self, paths: &[String]) -> Vec<Result<Vec<u8>, Refusal>> {
        let checked: Vec<Result<Vec<String>, Refusal>> =
            paths.iter().map(|p| normalize(p)).collect();
        let joined: Vec<Option<String>> = checked
            .iter()
            .map(|c| c.as_ref().ok().map(|parts| parts.join("/")))
            .collect();
        let wanted: Vec<&str> = joined.iter().flatten().map(String::as_str).collect();
        match &self.source {
            TreeSource::Commit(sha) => {
                let modes = self.tree_entries(sha, &wanted);
                // Started at the first regular file, so a list of absent files costs no reader.
                let mut batch: Option<Option<Batch>> = None;
                checked
                    .into_iter()
                    .zip(&joined)
                    .map(|(c, path)| {
                        let rel = c?;
                        let path = path.as_deref().unwrap_or_default();
                        // Not listed: missing, or a folder that the listing walked into
                        // for another path under it instead of naming it (then asked alone).
                        let Some((mode, object)) = modes.get(path) else {
                            let prefix = format!("{path}/");
                            if wanted.iter().any(|w| w.starts_with(&prefix)) {
                                return self.read_blob(sha, &rel);
                            }
                            return Err(Refusal::Missing);
                        };
                        if !matches!(mode.as_str(), "100644" | "100755") {
                            return Err(refusal_for_mode(mode, path));
                        }
                        match batch
                            .get_or_insert_with(|| Batch::start(&self.repo).ok())
                            .as_mut()
                        {
                            Some(b) => b.blob(object).ok_or(Refusal::Missing),
                            None => self.read_blob(sha, &rel),
                        }
                    })
                    .collect()
            }
            TreeSource::WorkingTree => {
                let listed = self.listed_many(&wanted);
                checked
                    .into_iter()
                    .zip(&joined)
                    .map(|(c, path)| {
                        let bytes = self.read_file(&c?)?;
                        if !path.as_ref().is_some_and(|p| listed.contains(p)) {
                            return Err(Refusal::Ignored);
                        }
                        Ok(bytes)
                    })
                    .collect()
            }
        }
    }

    /// The mode and object of each of `paths` that is an entry of the commit's tree.
    fn tree_entries(
        &self,
        sha: &str,
        paths: &[&str],
    ) -> std::collections::HashMap<String, (String, String)> {
        let mut out = std::collections::HashMap::new();
        for chunk in paths.chunks(PATHS_PER_CALL) {
            let mut args = vec![
                "--literal-pathspecs",
                "ls-tree",
                "-z",
                "--full-tree",
                sha,
                "--",
            ];
            args.extend(chunk.iter().copied());
            let Ok(listing) = self.repo.git_raw(&args) else {
                continue;
            };
            for entry in listing.split(|&b| b == 0) {
                let Some((head, path)) = std::str::from_utf8(entry)
                    .ok()
                    .and_then(|e| e.split_once('\t'))
                else {
                    continue;
                };
                let mut fields = head.split(' ');
                let (Some(mode), Some(object)) = (fields.next(), fields.nth(1)) else {
                    continue;
                };
                out.insert(path.to_string(), (mode.to_string(), object.to_string()));
            }
        }
        out
    }

    /// Which of the working-tree `paths` git lists as [`Self::listed`] does, in one call per
    /// chunk.
    fn listed_many(&self, paths: &[&str]) -> std::collections::HashSet<String> {
        let mut out = std::collections::HashSet::new();
        for chunk in paths.chunks(PATHS_PER_CALL) {
            let mut args = vec![
                "--literal-pathspecs",
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
                "--",
            ];
            args.extend(chunk.iter().copied());
            let Ok(listing) = self.repo.git_raw(&args) else {
                continue;
            };
            out.extend(
                listing
                    .split(|&b| b == 0)
                    .filter_map(|e| std::str::from_utf8(e).ok())
                    .filter(|e| chunk.contains(e))
                    .map(String::from),
            );
        }
        out
    }

    /// Calls `visit` with each file [`Self::files`] lists that `keep` accepts and its bytes,
    /// read as [`Self::read`] reads them, until `visit` says false. A commit's blobs come
    /// through one `git cat-file --batch`, not a process or two per file.
    pub fn each_file(
        &self,
        keep: impl Fn(&str) -> bool,
        mut visit: impl FnMut(&str, &[u8]) -> bool,
    ) {
        let entries: Vec<Entry> = self
            .entries()
            .into_iter()
            .filter(|e| keep(&e.path))
            .collect();
        match &self.source {
            TreeSource::WorkingTree => {
                for e in entries {
                    let parts: Vec<String> = e.path.split('/').map(String::from).collect();
                    if let Ok(bytes) = self.read_file(&parts) {
                        if !visit(&e.path, &bytes) {
                            return;
                        }
                    }
                }
            }
            TreeSource::Commit(_) => {
                let Ok(mut batch) = Batch::start(&self.repo) else {
                    return;
                };
                for e in entries {
                    let Some(bytes) = e.object.as_deref().and_then(|o| batch.blob(o)) else {
                        continue;
                    };
                    if !visit(&e.path, &bytes) {
                        return;
                    }
                }
            }
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
        self.entries().into_iter().map(|e| e.path).collect()
    }

    fn entries(&self) -> Vec<Entry> {
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
        let mut out: Vec<Entry> = listing
            .split(|&b| b == 0)
            .filter_map(|e| {
                let e = std::str::from_utf8(e).ok()?;
                let (path, object) = match &self.source {
                    TreeSource::Commit(_) => {
                        let (head, path) = e.split_once('\t')?;
                        let mut fields = head.split(' ');
                        let mode = fields.next()?;
                        let object = fields.nth(1)?;
                        matches!(mode, "100644" | "100755").then_some((path, Some(object)))?
                    }
                    TreeSource::WorkingTree => (e, None),
                };
                let parts = normalize(path).ok()?;
                if self.source == TreeSource::WorkingTree && !self.is_regular(&parts) {
                    return None;
                }
                Some(Entry {
                    path: parts.join("/"),
                    object: object.map(String::from),
                })
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out.dedup_by(|a, b| a.path == b.path);
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
            _ => Err(refusal_for_mode(mode, &path)),
        }
    }

    /// A working-tree file, walked down from the root: each folder opened with
    /// `O_NOFOLLOW | O_DIRECTORY` relative to the one before, the file with `O_NOFOLLOW`
    /// relative to the last, so no symlink is followed anywhere on the path, even one swapped
    /// in after a check.
    fn read_file(&self, rel: &[String]) -> Result<Vec<u8>, Refusal> {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        use std::os::fd::FromRawFd;
        use std::os::fd::OwnedFd;
        use std::os::unix::fs::OpenOptionsExt;
        let root = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&self.repo.root)
            .map_err(|_| Refusal::Missing)?;
        let mut dir = OwnedFd::from(root);
        for (i, part) in rel.iter().enumerate() {
            let last = i + 1 == rel.len();
            let name = std::ffi::CString::new(part.as_bytes()).map_err(|_| Refusal::Missing)?;
            let kind = if last {
                libc::O_NONBLOCK
            } else {
                libc::O_DIRECTORY
            };
            let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC | kind;
            // SAFETY: `dir` is an open folder and `name` a NUL-terminated string.
            let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
            if fd < 0 {
                return Err(refusal_at(&dir, &name, &rel[..=i], last));
            }
            // SAFETY: `fd` was just opened and is owned by nothing else.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            if !last {
                dir = fd;
                continue;
            }
            let mut file = std::fs::File::from(fd);
            let meta = file.metadata().map_err(|_| Refusal::Missing)?;
            if !meta.is_file() {
                return Err(Refusal::NotRegularFile(kind_of(&meta)));
            }
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(|_| Refusal::Missing)?;
            return Ok(bytes);
        }
        Err(Refusal::Outside)
    }
}

/// Paths named on one git command line (well under any system's argument limit).
const PATHS_PER_CALL: usize = 1000;

/// Why a tree entry of `mode` at `path` is not read: anything but a regular file.
fn refusal_for_mode(mode: &str, path: &str) -> Refusal {
    match mode {
        "120000" => Refusal::Symlink(path.to_string()),
        "040000" => Refusal::NotRegularFile("a folder"),
        "160000" => Refusal::NotRegularFile("a submodule"),
        _ => Refusal::NotRegularFile("an unknown tree entry"),
    }
}

/// Why `name` in `dir` could not be opened: a symlink (named by `shown`), something that is
/// not a folder on the way, not a regular file at the end, or missing.
fn refusal_at(
    dir: &std::os::fd::OwnedFd,
    name: &std::ffi::CStr,
    shown: &[String],
    last: bool,
) -> Refusal {
    use std::os::fd::AsRawFd;
    // SAFETY: a zeroed stat is a valid value for fstatat to fill.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `dir` is open, `name` NUL-terminated, `st` writable.
    let found = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if found != 0 {
        return Refusal::Missing;
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFLNK => Refusal::Symlink(shown.join("/")),
        _ if !last => Refusal::Missing,
        libc::S_IFSOCK => Refusal::NotRegularFile("a socket"),
        libc::S_IFIFO => Refusal::NotRegularFile("a FIFO"),
        libc::S_IFDIR => Refusal::NotRegularFile("a folder"),
        libc::S_IFBLK | libc::S_IFCHR => Refusal::NotRegularFile("a device"),
        _ => Refusal::Missing,
    }
}

/// One file of a listing: its path and, for a commit, its blob.
struct Entry {
    path: String,
    object: Option<String>,
}

/// One `git cat-file --batch`, asked for blobs one at a time.
struct Batch {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: std::io::BufReader<std::process::ChildStdout>,
}

impl Batch {
    fn start(repo: &Repo) -> std::io::Result<Batch> {
        use std::process::Stdio;
        let mut child = std::process::Command::new("git")
            .arg("-C")
            .arg(&repo.root)
            .args(["cat-file", "--batch"])
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("git cat-file has no pipes"));
        };
        Ok(Batch {
            child,
            input,
            output: std::io::BufReader::new(output),
        })
    }

    /// The blob `object`'s bytes; None when git has no such blob.
    fn blob(&mut self, object: &str) -> Option<Vec<u8>> {
        use std::io::BufRead;
        use std::io::Read;
        use std::io::Write;
        if !object.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        writeln!(self.input, "{object}").ok()?;
        self.input.flush().ok()?;
        let mut header = String::new();
        self.output.read_line(&mut header).ok()?;
        // `<oid> blob <size>`, or `<oid> missing`.
        let mut fields = header.split_whitespace();
        let (_, kind, size) = (fields.next()?, fields.next()?, fields.next());
        let size: usize = size?.parse().ok()?;
        let mut bytes = vec![0; size + 1];
        self.output.read_exact(&mut bytes).ok()?;
        bytes.pop();
        (kind == "blob").then_some(bytes)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    /// The change's diff, file by file, when known: a committable replacement must lie within
    /// one of its hunks. None for saved answers consolidated without the change.
    fn diff(&self) -> Option<&[crate::diff::FileDiff]> {
        None
    }
    /// Reads `paths` ahead, all at once, so the reads that follow hit a cache (a tree
    /// backed by git reads them through one process, not one or two per file).
    fn prefetch(&self, _paths: &[String]) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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

    /// Reading many paths at once answers exactly as reading each does, for a commit and for
    /// the working tree: files, a symlink, a symlinked folder, a folder, a missing file, an
    /// ignored file, `.git/` and `..`.
    #[test]
    fn reading_many_paths_answers_as_reading_each() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(["-c", "user.name=A", "-c", "user.email=a@b"])
                .args(args)
                .current_dir(root)
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        git(&["init", "-q"]);
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::write(root.join("src/a.rs"), "fn a() {}\n").unwrap();
        std::fs::write(root.join("src/deep/b.rs"), "fn b() {}\n").unwrap();
        std::fs::write(root.join("name with space.txt"), "x\n").unwrap();
        std::fs::write(root.join(".gitignore"), "secret.env\n").unwrap();
        std::fs::write(root.join("secret.env"), "KEY=1\n").unwrap();
        std::os::unix::fs::symlink("src/a.rs", root.join("link.rs")).unwrap();
        std::os::unix::fs::symlink("src", root.join("linkdir")).unwrap();
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "x"]);
        let head = git(&["rev-parse", "HEAD"]).trim().to_string();
        let paths: Vec<String> = [
            "src/a.rs",
            "./src/deep/b.rs",
            "name with space.txt",
            "link.rs",
            "linkdir/a.rs",
            "src",
            "src/missing.rs",
            "linkdir",
            "src/deep",
            "src/deep/none.rs",
            "secret.env",
            ".git/config",
            "../outside",
            "src/a.rs",
        ]
        .map(String::from)
        .to_vec();
        let repo = Repo {
            root: root.to_path_buf(),
        };
        for source in [TreeSource::Commit(head), TreeSource::WorkingTree] {
            let tree = ReviewedTree::new(repo.clone(), source.clone());
            let one: Vec<_> = paths.iter().map(|p| tree.read(p)).collect();
            let many = tree.read_many(&paths);
            assert_eq!(many, one, "{source:?}");
            assert_eq!(many[0].as_deref(), Ok(&b"fn a() {}\n"[..]));
        }
    }

    /// A folder in the middle of the path swapped for a symlink out of the tree, over and
    /// over, while it is read: no read may ever return what is outside.
    #[test]
    fn a_folder_swapped_for_a_symlink_mid_read_is_never_followed() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("a/b")).unwrap();
        std::fs::write(root.path().join("a/b/f.txt"), "inside\n").unwrap();
        std::fs::create_dir_all(outside.path().join("b")).unwrap();
        std::fs::write(outside.path().join("b/f.txt"), "OUTSIDE\n").unwrap();
        let tree = ReviewedTree::new(
            Repo {
                root: root.path().to_path_buf(),
            },
            TreeSource::WorkingTree,
        );
        let rel: Vec<String> = ["a", "b", "f.txt"].map(String::from).to_vec();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let swapper = {
            let (stop, root, outside) = (
                Arc::clone(&stop),
                root.path().to_path_buf(),
                outside.path().to_path_buf(),
            );
            std::thread::spawn(move || {
                let (a, real) = (root.join("a"), root.join("a.real"));
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::fs::rename(&a, &real).unwrap();
                    std::os::unix::fs::symlink(&outside, &a).unwrap();
                    std::thread::yield_now();
                    std::fs::remove_file(&a).unwrap();
                    std::fs::rename(&real, &a).unwrap();
                }
            })
        };
        let mut leaked = 0;
        let mut read = 0;
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(2) {
            match tree.read_file(&rel) {
                Ok(b) if b.starts_with(b"OUTSIDE") => leaked += 1,
                Ok(_) => read += 1,
                Err(_) => {}
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        swapper.join().unwrap();
        assert_eq!(
            leaked, 0,
            "read through the swapped-in symlink {leaked} times"
        );
        assert!(read > 0, "the folder was read when it was a folder");
        // A symlinked folder in the middle of the path, standing still: refused, named.
        std::fs::rename(root.path().join("a"), root.path().join("a.real")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("a")).unwrap();
        assert_eq!(tree.read_file(&rel), Err(Refusal::Symlink("a".into())));
    }
}
