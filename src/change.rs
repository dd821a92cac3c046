//! What is reviewed: a local git range (or, later, a pull request), resolved to SHAs, commits,
//! a parsed diff, and a way to read the head tree.
//!
//! All git access goes through the `git` binary as a subprocess, so the behaviour matches what
//! the user sees in their shell. Nothing here writes to the repository except
//! [`Repo::ensure_excluded`] (which only touches `.git/info/exclude`) and worktree handling.

use crate::diff;
use crate::diff::FileDiff;
use crate::errors::Error;
use crate::errors::Result;
use crate::tree_guard::Refusal;
use crate::tree_guard::ReviewedTree;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;

pub use crate::errors::GitError;
pub use crate::git::run_git;
pub use crate::git::Repo;

/// `git diff` as deep-review reads it: plain, with renames, and `a/`/`b/` prefixes whatever
/// the user's configuration says.
pub const DIFF_ARGS: [&str; 6] = [
    "diff",
    "--no-color",
    "--no-ext-diff",
    "-M",
    "--src-prefix=a/",
    "--dst-prefix=b/",
];

/// One commit of the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Commit {
    pub sha: String,
    pub subject: String,
    pub body: String,
    pub author_name: String,
    pub author_email: String,
    /// ISO 8601 author date.
    pub date: String,
    pub parents: usize,
    #[serde(default)]
    pub lines_changed: usize,
}

impl Commit {
    pub fn short(&self) -> &str {
        &self.sha[..self.sha.len().min(8)]
    }
}

pub use crate::tree_guard::TreeSource;

/// The lines of one file, shared between the cache and its readers.
pub type Lines = std::sync::Arc<Vec<String>>;

/// The files of one revision (a commit, or the working tree), read through the path guard
/// ([`ReviewedTree`]) on demand and cached.
#[derive(Debug)]
pub struct HeadFiles {
    tree: ReviewedTree,
    cache: Mutex<HashMap<String, Result<Lines, Refusal>>>,
}

impl HeadFiles {
    pub fn new(repo: Repo, source: TreeSource) -> HeadFiles {
        HeadFiles {
            tree: ReviewedTree::new(repo, source),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The guard this reads through, for other readers of the same revision.
    pub fn tree(&self) -> &ReviewedTree {
        &self.tree
    }

    /// The lines of `path`, or None when it is not a readable file of this revision.
    pub fn lines(&self, path: &str) -> Option<Lines> {
        self.read_lines(path).ok()
    }

    /// Reads those of `paths` not read yet, all at once ([`ReviewedTree::read_many`]).
    pub fn prefetch(&self, paths: &[String]) {
        let missing: Vec<String> = match self.cache.lock() {
            Ok(cache) => {
                let mut m: Vec<String> = paths
                    .iter()
                    .filter(|p| !cache.contains_key(p.as_str()))
                    .cloned()
                    .collect();
                m.sort();
                m.dedup();
                m
            }
            Err(_) => return,
        };
        if missing.is_empty() {
            return;
        }
        let read = self.tree.read_many(&missing);
        if let Ok(mut cache) = self.cache.lock() {
            for (path, bytes) in missing.into_iter().zip(read) {
                cache.insert(path, bytes.map(|b| split_lines(&b)));
            }
        }
    }

    /// The lines of `path`, or why the guard refused it.
    pub fn read_lines(&self, path: &str) -> Result<Lines, Refusal> {
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(path).cloned()) {
            return hit;
        }
        let lines = self.tree.read(path).map(|b| split_lines(&b));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(path.to_string(), lines.clone());
        }
        lines
    }
}

fn split_lines(bytes: &[u8]) -> Lines {
    let text = String::from_utf8_lossy(bytes);
    // A trailing newline ends the last line; it does not start another.
    let text = text.strip_suffix('\n').unwrap_or(&text);
    if text.is_empty() {
        return std::sync::Arc::new(Vec::new());
    }
    std::sync::Arc::new(
        text.split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect::<Vec<_>>(),
    )
}

impl crate::tree_guard::HeadTree for HeadFiles {
    fn lines(&self, path: &str) -> Option<std::sync::Arc<Vec<String>>> {
        HeadFiles::lines(self, path)
    }

    fn read_lines(&self, path: &str) -> Result<Lines, Refusal> {
        HeadFiles::read_lines(self, path)
    }

    fn prefetch(&self, paths: &[String]) {
        HeadFiles::prefetch(self, paths)
    }
}

/// A resolved change ready to review.
#[derive(Debug)]
pub struct Change {
    pub repo: Repo,
    /// Name shown in the header: the remote's owner/name when known, else the folder name.
    pub repo_name: String,
    pub base_ref: String,
    pub base_sha: String,
    pub head_ref: String,
    pub head_sha: String,
    /// The branch checked out, when the head was given as `HEAD` and it is on one.
    pub head_branch: Option<String>,
    pub uncommitted: bool,
    pub commits: Vec<Commit>,
    pub diff_text: String,
    pub files: Vec<FileDiff>,
    /// The head's files, for citations and the builtin reviewer.
    pub head: HeadFiles,
    /// The directory agents read: the repository itself, or a worktree at the head.
    pub workdir: PathBuf,
    /// Set for a pull request: what GitHub says about it.
    pub pr: Option<PrMeta>,
    /// Which review of this subject this is (1 for the first).
    pub round: u32,
    /// Where the repository's own instructions (AGENTS.md, …) are read: the head, or for a
    /// PR the base, so a PR cannot rewrite the rules of its own review.
    pub instructions_at: Option<String>,
    /// The head is untrusted (a PR, or `--untrusted`): agents read a scrubbed worktree and
    /// run with their CLI's project configuration turned off (`agent::isolation`).
    pub untrusted: bool,
}

/// A pull request's own metadata.
#[derive(Debug, Clone, Default)]
pub struct PrMeta {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    /// The author's login.
    pub author: String,
    pub labels: Vec<String>,
    pub url: String,
}

/// How the user asked for the range.
#[derive(Debug, Clone, Default)]
pub struct RangeSpec {
    pub base: Option<String>,
    pub head: Option<String>,
    pub uncommitted: bool,
}

const FIELD: &str = "\x1f";
const RECORD: &str = "\x1e";

impl Change {
    /// Resolves a local range from the merge base of the base (`--base`, default: the default
    /// branch) and the head; `uncommitted` adds staged and unstaged changes to tracked files.
    pub fn local(repo: Repo, spec: &RangeSpec) -> Result<Change> {
        if spec.uncommitted && spec.head.is_some() {
            return Err(Error::Usage(
                "--uncommitted reviews the working tree, so it cannot be combined with --head"
                    .into(),
            ));
        }
        let head_ref = spec.head.clone().unwrap_or_else(|| "HEAD".to_string());
        let (head_sha, base_ref, base_sha) = resolve_range(&repo, spec, &head_ref)?;
        // The commits, the diff and the remote's name, each its own git process, at once.
        let diff_args = if spec.uncommitted {
            [&DIFF_ARGS[..], &[&base_sha, "--"]].concat()
        } else {
            [&DIFF_ARGS[..], &[&base_sha, &head_sha, "--"]].concat()
        };
        let (commits, diff_text, repo_name, head_branch) = std::thread::scope(|s| {
            let commits = s.spawn(|| {
                if base_sha == head_sha {
                    Ok(Vec::new())
                } else {
                    read_commits(&repo, &base_sha, &head_sha)
                }
            });
            let name = s.spawn(|| repo_display_name(&repo));
            let branch = s.spawn(|| {
                (head_ref == "HEAD")
                    .then(|| repo.git(&["symbolic-ref", "--short", "-q", "HEAD"]).ok())
                    .flatten()
                    .map(|b| b.trim().to_string())
                    .filter(|b| !b.is_empty())
            });
            let diff = repo.git(&diff_args);
            // A panic in a reader stays a panic, as if it had run on this thread.
            let commits = commits
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            let name = name.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            let branch = branch
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (commits, diff, name, branch)
        });
        let (mut commits, diff_text) = (commits?, diff_text?);
        if diff_text.trim().is_empty() {
            let what = if spec.uncommitted {
                format!("no difference between {base_ref} and the working tree")
            } else if base_sha == head_sha {
                format!(
                    "{head_ref} has no commit that {base_ref} lacks; commit your work, pass --uncommitted, or pick another --base"
                )
            } else {
                format!("{base_ref}..{head_ref} changes no file")
            };
            return Err(Error::EmptyChange(what));
        }
        let files = diff::parse(&diff_text);
        count_changed_lines(&repo, &mut commits, spec.uncommitted, &files)?;
        let tree = if spec.uncommitted {
            TreeSource::WorkingTree
        } else {
            TreeSource::Commit(head_sha.clone())
        };
        let workdir = repo.root.clone();
        let head = HeadFiles::new(repo.clone(), tree);
        Ok(Change {
            repo,
            repo_name,
            base_ref,
            base_sha,
            head_ref,
            head_sha,
            head_branch,
            uncommitted: spec.uncommitted,
            commits,
            diff_text,
            files,
            head,
            workdir,
            pr: None,
            round: 1,
            instructions_at: None,
            untrusted: false,
        })
    }

    pub fn short_head(&self) -> &str {
        &self.head_sha[..self.head_sha.len().min(8)]
    }

    /// The author shown in the header: the most frequent commit author.
    pub fn author(&self) -> Option<String> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for c in &self.commits {
            match counts.iter_mut().find(|(n, _)| *n == c.author_name) {
                Some((_, k)) => *k += 1,
                None => counts.push((c.author_name.clone(), 1)),
            }
        }
        counts
            .into_iter()
            .max_by_key(|(_, k)| *k)
            .map(|(name, _)| name)
    }

    /// Whether HEAD of the repository's working tree is the reviewed head (so agents can read
    /// the repository directly instead of a worktree).
    pub fn head_is_checked_out(&self) -> bool {
        // A head given as `HEAD` was resolved from it a moment ago: no need to ask git again.
        self.uncommitted
            || (self.head_ref == "HEAD" && self.pr.is_none())
            || self
                .repo
                .resolve("HEAD")
                .map(|h| h == self.head_sha)
                .unwrap_or(false)
    }

    /// The lines of `path` in the head tree, or None when it does not exist there.
    pub fn head_file(&self, path: &str) -> Option<std::sync::Arc<Vec<String>>> {
        self.head.lines(path)
    }

    /// Reads a repository instruction file (AGENTS.md, …): from the head tree, or for a PR
    /// from its base.
    pub fn instruction_text(&self, path: &str) -> Option<String> {
        match &self.instructions_at {
            Some(sha) => ReviewedTree::new(self.repo.clone(), TreeSource::Commit(sha.clone()))
                .read(path)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            None => self.head_file(path).map(|l| l.join("\n")),
        }
    }

    /// Reads every one of `names` as [`Self::instruction_text`] does, all at once (one
    /// `git ls-tree`, and one reader for those that exist).
    pub fn instruction_texts(&self, names: &[&str]) -> Vec<Option<String>> {
        let paths: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        match &self.instructions_at {
            Some(sha) => ReviewedTree::new(self.repo.clone(), TreeSource::Commit(sha.clone()))
                .read_many(&paths)
                .into_iter()
                .map(|r| r.ok().map(|b| String::from_utf8_lossy(&b).into_owned()))
                .collect(),
            None => {
                self.head.prefetch(&paths);
                paths
                    .iter()
                    .map(|p| self.head_file(p).map(|l| l.join("\n")))
                    .collect()
            }
        }
    }

    /// Reads the instruction files ahead when they come from the head (whose reads are
    /// cached), so a caller can do it alongside other work; [`Self::instruction_texts`]
    /// then finds them read.
    pub fn prefetch_instructions(&self, names: &[&str]) {
        if self.instructions_at.is_none() {
            let paths: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            self.head.prefetch(&paths);
        }
    }

    /// Replaces the diff (e.g. with the one GitHub serves for a PR).
    pub fn set_diff(&mut self, text: String) {
        self.files = crate::diff::parse(&text);
        self.diff_text = text;
    }
}

impl crate::tree_guard::HeadTree for Change {
    fn lines(&self, path: &str) -> Option<Arc<Vec<String>>> {
        self.head_file(path)
    }

    fn read_lines(&self, path: &str) -> Result<Arc<Vec<String>>, Refusal> {
        self.head.read_lines(path)
    }

    fn changed_paths(&self) -> Vec<String> {
        self.files.iter().map(|f| f.path().to_string()).collect()
    }

    fn diff(&self) -> Option<&[FileDiff]> {
        Some(&self.files)
    }

    fn prefetch(&self, paths: &[String]) {
        self.head.prefetch(paths)
    }
}

/// The head's SHA, the base's name and the merge base of the two: what `spec` asks to review.
fn resolve_range(
    repo: &Repo,
    spec: &RangeSpec,
    head_ref: &str,
) -> Result<(String, String, String)> {
    // The head and the base (or the default branch) do not depend on each other: asked at
    // once. The base is its name and what to find the merge base with.
    let (head_sha, base) = std::thread::scope(|s| {
        let base = s.spawn(|| match &spec.base {
            Some(b) => repo.resolve(b).map(|sha| (b.clone(), sha)),
            None => repo.default_branch().map(|branch| (branch.clone(), branch)),
        });
        let head = repo.resolve(head_ref);
        let base = base.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (head, base)
    });
    let head_sha = match head_sha {
        Ok(s) => s,
        Err(_) if head_ref == "HEAD" => {
            return Err(Error::EmptyChange(
                "the repository has no commits yet; commit something first".into(),
            ))
        }
        Err(e) => return Err(e),
    };
    let (base_ref, base_at) = base?;
    // As GitHub does: the change is what the head added since it left the base, so
    // commits the base gained later do not show up reverted.
    let merge_base = repo.git(&["merge-base", &base_at, &head_sha]).map_err(|_| {
        Error::Usage(if spec.base.is_some() {
            format!(
                "{head_ref} has no common history with {base_ref}, so there is no merge base to diff from; pick a --base that {head_ref} branched from"
            )
        } else {
            format!("HEAD has no common history with {base_ref}; pass --base REF")
        })
    })?;
    let base_sha = merge_base.trim().to_string();
    Ok((head_sha, base_ref, base_sha))
}

/// The range's commits, oldest first (no diff of any kind: nothing reads the paths each
/// touched). Lines changed are counted later, and only where they are needed
/// ([`count_changed_lines`]).
fn read_commits(repo: &Repo, base: &str, head: &str) -> Result<Vec<Commit>> {
    let format = format!(
        "--format={RECORD}%H{FIELD}%P{FIELD}%an{FIELD}%ae{FIELD}%aI{FIELD}%s{FIELD}%b{FIELD}"
    );
    let range = format!("{base}..{head}");
    let out = repo.git(&["log", "--reverse", &format, &range, "--"])?;
    let mut commits = Vec::new();
    for record in out.split(RECORD).filter(|r| !r.trim().is_empty()) {
        let parts: Vec<&str> = record.splitn(8, FIELD).collect();
        if parts.len() < 8 {
            continue;
        }
        commits.push(Commit {
            sha: parts[0].to_string(),
            parents: parts[1].split_whitespace().count(),
            author_name: parts[2].to_string(),
            author_email: parts[3].to_string(),
            date: parts[4].to_string(),
            subject: parts[5].to_string(),
            body: parts[6].trim().to_string(),
            lines_changed: 0,
        });
    }
    Ok(commits)
}

/// Lines changed by each commit that has no message body (the builtin reviewer asks a
/// non-trivial one for a body; nothing else reads the count). A range of one commit on the
/// base takes them from the diff already parsed; others from one `git show --numstat` over
/// just those commits, never a second diff of the whole range.
fn count_changed_lines(
    repo: &Repo,
    commits: &mut [Commit],
    uncommitted: bool,
    files: &[FileDiff],
) -> Result<()> {
    let wanted: Vec<usize> = (0..commits.len())
        .filter(|&i| commits[i].body.is_empty() && commits[i].parents <= 1)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    // `base` is the merge base of the head, so the one commit of `base..head` with one parent
    // has `base` for its parent: its diff is the range's.
    if let ([only], false) = (&mut *commits, uncommitted) {
        if only.parents == 1 {
            only.lines_changed = files
                .iter()
                .map(|f| f.count(diff::LineKind::Added) + f.count(diff::LineKind::Removed))
                .sum();
            return Ok(());
        }
    }
    let mut args = vec!["show", "-z", "-M", "--numstat", "--format=%x1e%H%x1f"];
    args.extend(wanted.iter().map(|&i| commits[i].sha.as_str()));
    let out = repo.git(&args)?;
    for record in out.split(RECORD).filter(|r| !r.trim().is_empty()) {
        let Some((sha, stats)) = record.split_once(FIELD) else {
            continue;
        };
        if let Some(c) = commits.iter_mut().find(|c| c.sha == sha.trim()) {
            c.lines_changed = parse_numstat_z(stats).1;
        }
    }
    Ok(())
}

/// `git log -z --numstat` entries: `added\tdeleted\tpath\0`, or for a rename
/// `added\tdeleted\t\0old\0new\0`. Returns the paths (the new one for a rename) and the
/// lines added plus deleted (binary files count none).
fn parse_numstat_z(text: &str) -> (Vec<String>, usize) {
    let mut files = Vec::new();
    let mut lines_changed = 0;
    let mut tokens = text.split('\0');
    while let Some(token) = tokens.next() {
        let token = token.trim_start_matches('\n');
        let cols: Vec<&str> = token.splitn(3, '\t').collect();
        if cols.len() != 3 {
            continue;
        }
        lines_changed += cols[0].parse::<usize>().unwrap_or(0);
        lines_changed += cols[1].parse::<usize>().unwrap_or(0);
        if cols[2].is_empty() {
            let _old = tokens.next();
            if let Some(new) = tokens.next() {
                files.push(new.to_string());
            }
        } else {
            files.push(cols[2].to_string());
        }
    }
    (files, lines_changed)
}

/// owner/name from the origin remote when it looks like a hosted repository, else the
/// repository folder's name.
fn repo_display_name(repo: &Repo) -> String {
    if let Ok(url) = repo.git(&["remote", "get-url", "origin"]) {
        if let Some(name) = owner_name_from_url(url.trim()) {
            return name;
        }
    }
    repo.root
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repository".to_string())
}

pub fn owner_name_from_url(url: &str) -> Option<String> {
    let url = url.trim_end_matches('/').trim_end_matches(".git");
    let tail = if let Some(idx) = url.find("://") {
        let rest = &url[idx + 3..];
        rest.split_once('/')?.1
    } else if let Some((_, rest)) = url.split_once(':') {
        rest
    } else {
        return None;
    };
    let parts: Vec<&str> = tail.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() >= 2 {
        Some(format!(
            "{}/{}",
            parts[parts.len() - 2],
            parts[parts.len() - 1]
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numstat_z_keeps_every_name_and_follows_renames() {
        let text = concat!(
            "\0\n1\t0\tnew\nline.txt\0-\t-\tlogo.png\0",
            "2\t3\tsrc/f\u{fc}nf/a b.js\0",
            "0\t0\t\0old name\0new\tname\0",
        );
        let (files, lines) = parse_numstat_z(text);
        assert_eq!(
            files,
            vec![
                "new\nline.txt",
                "logo.png",
                "src/f\u{fc}nf/a b.js",
                "new\tname"
            ]
        );
        assert_eq!(lines, 6);
    }

    #[test]
    fn owner_name_from_common_urls() {
        assert_eq!(
            owner_name_from_url("https://github.com/lima-vm/lima.git").as_deref(),
            Some("lima-vm/lima")
        );
        assert_eq!(
            owner_name_from_url("git@github.com:lima-vm/lima.git").as_deref(),
            Some("lima-vm/lima")
        );
        assert_eq!(owner_name_from_url("/tmp/x"), None);
    }
}
