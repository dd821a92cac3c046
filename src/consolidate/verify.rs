//! Step 1, verify: every citation checked against the head tree. The file exists, the lines
//! exist, the quoted text matches (a quote found a few lines away relocates the citation). A
//! finding whose every citation is invalid is marked unverifiable: it is dropped later and
//! counts as a false positive.

use crate::finding::Finding;
use crate::finding::Location;
use crate::record::AgentRun;
use crate::review::Excerpt;
use crate::review::VerifiedLocation;
use crate::tree_guard::HeadTree;
use crate::tree_guard::Refusal;

/// One agent finding with its citations checked: what the later steps work on.
#[derive(Debug, Clone)]
pub(super) struct Item<'a> {
    pub(super) agent: &'a str,
    /// Position in the agent's `findings`.
    pub(super) index: usize,
    pub(super) finding: &'a Finding,
    pub(super) locations: Vec<VerifiedLocation>,
    /// Citations that can be used: verified ones, or all of them when there is no tree.
    pub(super) usable: Vec<VerifiedLocation>,
    /// Every citation was invalid: the finding is dropped.
    pub(super) unverifiable: bool,
}

/// Checks every finding of the runs that answered, in order (run by run, finding by
/// finding). Findings that are unverifiable stay in the list, marked, so the later steps see
/// every finding (their words still count in the TF-IDF corpus) and report them as dropped.
pub(super) fn verify_findings<'a>(
    answered: &[&'a AgentRun],
    tree: Option<&dyn HeadTree>,
    window: u32,
) -> Vec<Item<'a>> {
    let mut items = Vec::new();
    for run in answered {
        let Some(answer) = &run.answer else { continue };
        for (index, f) in answer.findings.iter().enumerate() {
            let locations: Vec<VerifiedLocation> = f
                .locations
                .iter()
                .map(|l| verify(l, tree, window))
                .collect();
            let unverifiable =
                tree.is_some() && !locations.is_empty() && locations.iter().all(|l| !l.verified);
            let usable = locations
                .iter()
                .filter(|l| l.verified || tree.is_none())
                .cloned()
                .collect();
            items.push(Item {
                agent: &run.name,
                index,
                finding: f,
                locations,
                usable,
                unverifiable,
            });
        }
    }
    items
}

pub(super) fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn quote_matches(line: &str, quote: &str) -> bool {
    // Quotes of lines holding a credential arrive masked (the builtin reviewer masks them);
    // compare them with the masked line.
    if quote.contains("[redacted]") {
        return text_matches(&crate::secrets::redact_line(line), quote);
    }
    text_matches(line, quote)
}

fn text_matches(line: &str, quote: &str) -> bool {
    let l = normalize_ws(line);
    let q = normalize_ws(quote);
    if q.is_empty() {
        return true;
    }
    if l.is_empty() {
        return false;
    }
    l == q || l.contains(&q) || (q.contains(&l) && l.len() >= 8)
}

fn first_quote_line(q: &str) -> &str {
    q.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

pub(super) fn clean_path(p: &str) -> String {
    let p = p.trim().trim_start_matches("./");
    let p = p
        .strip_prefix("a/")
        .or_else(|| p.strip_prefix("b/"))
        .unwrap_or(p);
    p.to_string()
}

/// Checks one citation against the head tree.
pub fn verify(loc: &Location, tree: Option<&dyn HeadTree>, window: u32) -> VerifiedLocation {
    let mut out = VerifiedLocation {
        path: clean_path(&loc.path),
        start_line: loc.start_line,
        end_line: loc.end(),
        verified: false,
        relocated_from: None,
        note: None,
        excerpt: None,
    };
    let Some(tree) = tree else {
        out.note = Some("not verified: no repository to check against".into());
        return out;
    };
    let Some(lines) = read_cited_file(&mut out, tree) else {
        return out;
    };
    let n = lines.len() as u32;
    if out.start_line == 0 || out.start_line > n {
        out.note = Some(format!(
            "line {} does not exist: `{}` has {n} lines",
            out.start_line, out.path
        ));
        return out;
    }
    if out.end_line > n {
        out.note = Some(format!(
            "end line {} clipped to the file's {n} lines",
            out.end_line
        ));
        out.end_line = n;
    }
    if let Some(q) = loc.quote.as_deref().map(first_quote_line) {
        if !q.trim().is_empty()
            && !quote_matches(&lines[(out.start_line - 1) as usize], q)
            && !relocate(&mut out, &lines, q, window)
        {
            return out;
        }
    }
    out.verified = true;
    out.excerpt = Some(excerpt(&lines, out.start_line, out.end_line));
    out
}

/// The cited file's lines; None, with the note saying why, when there are none to check.
fn read_cited_file(
    out: &mut VerifiedLocation,
    tree: &dyn HeadTree,
) -> Option<std::sync::Arc<Vec<String>>> {
    let mut lines = tree.read_lines(&out.path);
    if lines == Err(Refusal::Missing) {
        // Agents sometimes cite a path relative to a subdirectory; accept a unique suffix
        // match among the changed files.
        let candidates: Vec<String> = tree
            .changed_paths()
            .into_iter()
            .filter(|c| c.ends_with(&format!("/{}", out.path)))
            .collect();
        if candidates.len() == 1 {
            out.note = Some(format!("path given as `{}`", out.path));
            out.path = candidates[0].clone();
            lines = tree.read_lines(&out.path);
        }
    }
    match lines {
        Ok(lines) => Some(lines),
        Err(Refusal::Missing) => {
            out.note = Some(format!("`{}` does not exist in the head tree", out.path));
            None
        }
        Err(why) => {
            out.note = Some(format!("invalid citation: `{}` {why}", out.path));
            None
        }
    }
}

/// Searches outward from the cited line, nearest first, for the quoted line; moves the
/// citation there and says so, or says the quote is nowhere near. Returns whether it moved.
fn relocate(out: &mut VerifiedLocation, lines: &[String], q: &str, window: u32) -> bool {
    let n = lines.len() as u32;
    let mut found = None;
    for d in 1..=window {
        for c in [out.start_line.checked_sub(d), out.start_line.checked_add(d)]
            .into_iter()
            .flatten()
        {
            if c >= 1 && c <= n && quote_matches(&lines[(c - 1) as usize], q) {
                found = Some(c);
                break;
            }
        }
        if found.is_some() {
            break;
        }
    }
    match found {
        Some(c) => {
            let span = out.end_line - out.start_line;
            out.relocated_from = Some(out.start_line);
            out.note = Some(format!(
                "cited line {}, but the quoted code is at line {c}; relocated",
                out.start_line
            ));
            out.start_line = c;
            out.end_line = (c + span).min(n);
            true
        }
        None => {
            out.note = Some(format!(
                "the quoted code is not at line {} of `{}` nor within {window} lines of it",
                out.start_line, out.path
            ));
            false
        }
    }
}

/// Up to 24 cited lines plus two of context on each side, secrets masked.
fn excerpt(lines: &[String], start: u32, end: u32) -> Excerpt {
    let n = lines.len() as u32;
    let from = start.saturating_sub(2).max(1);
    let to = end.min(start + 23).saturating_add(2).min(n);
    Excerpt {
        start_line: from,
        lines: (from..=to)
            .map(|i| crate::secrets::redact_line(&lines[(i - 1) as usize]))
            .collect(),
    }
}
