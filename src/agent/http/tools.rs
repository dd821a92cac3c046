//! The read-only tools an HTTP reviewer may call: `read_file`, `grep`, `list_dir`, and
//! `git_log`, `git_show`, `git_blame` over the reviewed range's history.
//!
//! Every read of a file goes through the one path guard ([`crate::tree_guard`]): regular
//! files of the reviewed revision only, no `..`, no absolute path, no symlink, nothing under
//! `.git/`. Revisions outside the reviewed range are refused. Every result is cut at
//! [`MAX_OUTPUT`] bytes, and says so. A call stops early when the agent's time runs out or
//! the review is interrupted ([`Stop`]).

use crate::git::Repo;
use crate::tree_guard::ReviewedTree;
use serde_json::json;
use serde_json::Value;

/// The most one call returns to the model.
pub const MAX_OUTPUT: usize = 64 * 1024;
const MAX_GREP_MATCHES: usize = 400;

/// A tool as it is declared to the model.
#[derive(Debug, Clone)]
pub struct ToolDef {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: Value,
}

/// The tools' declarations, the same for every format.
pub fn definitions() -> Vec<ToolDef> {
    let path = |d: &str| json!({"type": "string", "description": d});
    let line = |d: &str| json!({"type": "integer", "description": d});
    let obj = |props: Value, required: &[&str]| json!({"type": "object", "properties": props, "required": required});
    vec![
        ToolDef {
            name: "read_file",
            description: "Read a file of the reviewed revision, with line numbers. Paths are relative to the repository root.",
            parameters: obj(
                json!({"path": path("file path, relative to the repository root"),
                       "start_line": line("first line to read, from 1 (optional)"),
                       "end_line": line("last line to read (optional)")}),
                &["path"],
            ),
        },
        ToolDef {
            name: "grep",
            description: "Search the reviewed revision's files for a regular expression; answers path:line: text.",
            parameters: obj(
                json!({"pattern": path("a regular expression (Rust regex syntax)"),
                       "path": path("only files matching this glob or under this folder, e.g. src/**/*.rs (optional)")}),
                &["pattern"],
            ),
        },
        ToolDef {
            name: "list_dir",
            description: "List the files and folders in a folder of the reviewed revision (the root when no path is given).",
            parameters: obj(json!({"path": path("folder, relative to the repository root (optional)")}), &[]),
        },
        ToolDef {
            name: "git_log",
            description: "The commits of the reviewed range (newest first), optionally only those touching a path.",
            parameters: obj(json!({"path": path("only commits touching this path (optional)")}), &[]),
        },
        ToolDef {
            name: "git_show",
            description: "One commit of the reviewed range: its message and patch, optionally only for one path.",
            parameters: obj(
                json!({"rev": path("the commit's SHA (or a prefix of at least 7 characters), from git_log"),
                       "path": path("only this path's changes (optional)")}),
                &["rev"],
            ),
        },
        ToolDef {
            name: "git_blame",
            description: "Which commit of the reviewed range last changed each line of a file; lines from before the range show the base commit with ^.",
            parameters: obj(
                json!({"path": path("file path"),
                       "start_line": line("first line (optional)"),
                       "end_line": line("last line (optional)")}),
                &["path"],
            ),
        },
    ]
}

/// What one call gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub text: String,
    /// Refused or failed: the model is told why.
    pub is_error: bool,
    /// The file it read, for the retro's files-reviewed count.
    pub file: Option<String>,
}

impl Output {
    fn ok(text: String) -> Output {
        Output {
            text: cap(text),
            is_error: false,
            file: None,
        }
    }

    pub fn refused(why: impl Into<String>) -> Output {
        Output {
            text: why.into(),
            is_error: true,
            file: None,
        }
    }
}

fn cap(mut text: String) -> String {
    if text.len() <= MAX_OUTPUT {
        return text;
    }
    let mut end = MAX_OUTPUT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(&format!(
        "\n[output cut at {} KiB; ask for less: a line range, a narrower path or pattern]",
        MAX_OUTPUT / 1024
    ));
    text
}

/// When a call must end early: the agent's deadline, or the review's interruption. Checked
/// between the files grep reads (and every few thousand lines).
#[derive(Clone)]
pub struct Stop {
    deadline: std::time::Instant,
    cancel: tokio::sync::watch::Receiver<bool>,
}

impl Stop {
    pub fn new(deadline: std::time::Instant, cancel: tokio::sync::watch::Receiver<bool>) -> Stop {
        Stop { deadline, cancel }
    }

    /// Why the call must stop now, if it must.
    pub fn reached(&self) -> Option<&'static str> {
        if *self.cancel.borrow() {
            Some("the review was interrupted")
        } else if std::time::Instant::now() >= self.deadline {
            Some("the agent's time ran out")
        } else {
            None
        }
    }
}

/// The reviewed revision and range, as the tools see them.
#[derive(Clone)]
pub struct Tools {
    tree: ReviewedTree,
    repo: Repo,
    base: String,
    head: String,
    /// The commits of `base..head`, full SHAs.
    commits: Vec<String>,
}

impl Tools {
    pub fn new(change: &crate::change::Change) -> Tools {
        let commits = change
            .repo
            .git(&[
                "rev-list",
                &format!("{}..{}", change.base_sha, change.head_sha),
            ])
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default();
        Tools {
            tree: change.head.tree().clone(),
            repo: change.repo.clone(),
            base: change.base_sha.clone(),
            head: change.head_sha.clone(),
            commits,
        }
    }

    /// Runs one call. Unknown tools and bad arguments are refusals the model can read.
    pub fn call(&self, name: &str, args: &Value, stop: &Stop) -> Output {
        let s = |k: &str| args.get(k).and_then(Value::as_str).map(str::trim);
        let n = |k: &str| args.get(k).and_then(Value::as_u64).map(|v| v as usize);
        match name {
            "read_file" => match s("path") {
                Some(p) => self.read_file(p, n("start_line"), n("end_line")),
                None => Output::refused("read_file needs `path`"),
            },
            "grep" => match s("pattern") {
                Some(p) => self.grep(p, s("path").filter(|p| !p.is_empty()), stop),
                None => Output::refused("grep needs `pattern`"),
            },
            "list_dir" => self.list_dir(s("path").unwrap_or("")),
            "git_log" => self.git_log(s("path").filter(|p| !p.is_empty())),
            "git_show" => match s("rev") {
                Some(r) => self.git_show(r, s("path").filter(|p| !p.is_empty())),
                None => Output::refused("git_show needs `rev`"),
            },
            "git_blame" => match s("path") {
                Some(p) => self.git_blame(p, n("start_line"), n("end_line")),
                None => Output::refused("git_blame needs `path`"),
            },
            other => Output::refused(format!(
                "there is no tool `{other}`; the tools are read_file, grep, list_dir, git_log, git_show, git_blame"
            )),
        }
    }

    fn read_file(&self, path: &str, start: Option<usize>, end: Option<usize>) -> Output {
        let bytes = match self.tree.read(path) {
            Ok(b) => b,
            Err(why) => return Output::refused(format!("refused: `{path}` {why}")),
        };
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        let from = start.unwrap_or(1).max(1);
        let to = end.unwrap_or(lines.len()).min(lines.len());
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate().take(to).skip(from - 1) {
            out.push_str(&format!("{:>6}\t{l}\n", i + 1));
        }
        if out.is_empty() {
            out = format!("(no lines {from}-{to}; the file has {} lines)", lines.len());
        }
        let mut o = Output::ok(out);
        o.file = Some(crate::tree_guard::check_path(path).unwrap_or_else(|_| path.to_string()));
        o
    }

    fn grep(&self, pattern: &str, path: Option<&str>, stop: &Stop) -> Output {
        let re = match regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
        {
            Ok(r) => r,
            Err(e) => return Output::refused(format!("not a regular expression: {e}")),
        };
        let filter = match path.map(glob) {
            Some(Err(why)) => return Output::refused(why),
            Some(Ok(g)) => Some(g),
            None => None,
        };
        let mut out = String::new();
        let mut matches = 0;
        let mut full = false;
        let mut stopped = None;
        let keep = |file: &str| filter.as_ref().is_none_or(|g| g.is_match(file));
        // One pass over the tree's files (one git process for a commit's blobs).
        self.tree.each_file(keep, |file, bytes| {
            stopped = stop.reached();
            if stopped.is_some() {
                return false;
            }
            let text = String::from_utf8_lossy(bytes);
            for (i, l) in text.lines().enumerate() {
                if i % 4096 == 4095 {
                    stopped = stop.reached();
                    if stopped.is_some() {
                        return false;
                    }
                }
                if re.is_match(l) {
                    out.push_str(&format!(
                        "{file}:{}: {}\n",
                        i + 1,
                        super::wire::shorten(l, 300)
                    ));
                    matches += 1;
                }
                if matches >= MAX_GREP_MATCHES || out.len() > MAX_OUTPUT {
                    full = true;
                    return false;
                }
            }
            true
        });
        if let Some(why) = stopped {
            return Output::refused(format!("stopped: {why}"));
        }
        if full {
            out.push_str(&format!(
                "[stopped after {matches} matches; narrow the pattern or the path]\n"
            ));
        } else if out.is_empty() {
            out = "no matches".into();
        }
        Output::ok(out)
    }

    fn list_dir(&self, path: &str) -> Output {
        let dir = match path.trim_matches('/') {
            "" | "." => String::new(),
            p => match crate::tree_guard::check_path(p) {
                Ok(p) => format!("{p}/"),
                Err(why) => return Output::refused(format!("refused: `{path}` {why}")),
            },
        };
        let mut entries: Vec<String> = Vec::new();
        for f in self.tree.files() {
            let Some(rest) = f.strip_prefix(&dir) else {
                continue;
            };
            let entry = match rest.split_once('/') {
                Some((folder, _)) => format!("{folder}/"),
                None => rest.to_string(),
            };
            if entries.last() != Some(&entry) && !entries.contains(&entry) {
                entries.push(entry);
            }
        }
        if entries.is_empty() {
            return Output::refused(format!("no folder `{path}` in the reviewed tree"));
        }
        Output::ok(entries.join("\n") + "\n")
    }

    fn git_log(&self, path: Option<&str>) -> Output {
        let range = format!("{}..{}", self.base, self.head);
        let args = vec![
            "--literal-pathspecs",
            "log",
            "--no-color",
            "--format=%H %ad %an%n    %s",
            "--date=short",
            range.as_str(),
            "--",
        ];
        self.git_on_path(args, path)
    }

    fn git_show(&self, rev: &str, path: Option<&str>) -> Output {
        let rev = rev.to_ascii_lowercase();
        let sha = match self.commit_in_range(&rev) {
            Ok(s) => s,
            Err(why) => return Output::refused(why),
        };
        let args = vec![
            "--literal-pathspecs",
            "show",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--stat",
            "--patch",
            sha.as_str(),
            "--",
        ];
        self.git_on_path(args, path)
    }

    /// Runs git with `args` (ending in `--`), limited to `path` when given, after the path
    /// guard's lexical check.
    fn git_on_path(&self, args: Vec<&str>, path: Option<&str>) -> Output {
        let checked = match path.map(crate::tree_guard::check_path) {
            None => None,
            Some(Ok(c)) => Some(c),
            Some(Err(why)) => {
                let p = path.unwrap_or_default();
                return Output::refused(format!("refused: `{p}` {why}"));
            }
        };
        let mut args = args;
        if let Some(c) = &checked {
            args.push(c);
        }
        self.git(&args)
    }

    fn commit_in_range(&self, rev: &str) -> Result<String, String> {
        let refuse = || {
            format!("refused: `{rev}` is not a commit of the reviewed range; git_log lists them")
        };
        if rev.len() < 7 || !rev.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(refuse());
        }
        let mut found = self.commits.iter().filter(|c| c.starts_with(rev));
        match (found.next(), found.next()) {
            (Some(c), None) => Ok(c.clone()),
            (Some(_), Some(_)) => Err(format!("`{rev}` is ambiguous; give more of the SHA")),
            _ => Err(refuse()),
        }
    }

    fn git_blame(&self, path: &str, start: Option<usize>, end: Option<usize>) -> Output {
        // Only a regular file of the reviewed revision is blamed.
        if let Err(why) = self.tree.read(path) {
            return Output::refused(format!("refused: `{path}` {why}"));
        }
        let checked = crate::tree_guard::check_path(path).unwrap_or_default();
        let range = format!("{}..{}", self.base, self.head);
        let lines = match (start, end) {
            (None, None) => None,
            (s, e) => Some(format!(
                "{},{}",
                s.unwrap_or(1).max(1),
                e.map(|e| e.to_string()).unwrap_or_default()
            )),
        };
        let mut args = vec!["blame", "--no-progress", "-s"];
        if let Some(l) = &lines {
            args.extend(["-L", l.as_str()]);
        }
        args.extend([range.as_str(), "--", checked.as_str()]);
        self.git(&args)
    }

    fn git(&self, args: &[&str]) -> Output {
        match self.repo.git(args) {
            Ok(text) if text.trim().is_empty() => Output::ok("(nothing)".into()),
            Ok(text) => Output::ok(text),
            Err(e) => Output::refused(format!("git failed: {}", error_text(&e))),
        }
    }
}

fn error_text(e: &crate::errors::Error) -> String {
    match e {
        crate::errors::Error::Git(crate::errors::GitError::Failed { stderr, .. }) => {
            stderr.lines().next().unwrap_or("").to_string()
        }
        other => other.to_string(),
    }
}

/// A path filter: a glob (`*` within a folder, `**` across folders, `?`), or a folder or
/// file name taken as a prefix. Refused like a path when it climbs out or is absolute.
fn glob(pattern: &str) -> Result<regex::Regex, String> {
    let p = pattern.trim_start_matches("./");
    if p.starts_with('/') || p.split('/').any(|c| c == "..") {
        return Err(format!("refused: `{pattern}` is outside the reviewed tree"));
    }
    let has_glob = p.contains(['*', '?', '[']);
    let mut re = String::from("^");
    let mut chars = p.trim_end_matches('/').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    re.push_str("(?:.*/)?");
                } else {
                    re.push_str(".*");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    if !has_glob {
        re.push_str("(?:/.*)?");
    }
    re.push('$');
    regex::Regex::new(&re).map_err(|e| format!("not a path glob: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_a_shell() {
        let g = glob("src/**/*.rs").unwrap();
        assert!(g.is_match("src/a.rs") && g.is_match("src/x/y/a.rs"));
        assert!(!g.is_match("tests/a.rs"));
        let g = glob("src").unwrap();
        assert!(g.is_match("src/a.rs") && !g.is_match("srcx/a.rs"));
        assert!(glob("*.md").unwrap().is_match("README.md"));
        assert!(!glob("*.md").unwrap().is_match("docs/a.md"));
        assert!(glob("../x").is_err() && glob("/etc").is_err());
    }

    #[test]
    fn output_is_cut_and_says_so() {
        let long = "x".repeat(MAX_OUTPUT + 10);
        let out = Output::ok(long);
        assert!(out.text.len() < MAX_OUTPUT + 200);
        assert!(
            out.text.contains("[output cut at 64 KiB"),
            "{}",
            &out.text[MAX_OUTPUT..]
        );
    }
}
