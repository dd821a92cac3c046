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
    if let Some(tree) = tree {
        // Every cited file read up front, through one reader, not one process per file.
        let cited: Vec<String> = answered
            .iter()
            .filter_map(|r| r.answer.as_ref())
            .flat_map(|a| &a.findings)
            .flat_map(|f| &f.locations)
            .map(|l| clean_path(&l.path))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        tree.prefetch(&cited);
    }
    let mut items = Vec::new();
    let mut excerpts = Excerpts::new();
    for run in answered {
        let Some(answer) = &run.answer else { continue };
        for (index, f) in answer.findings.iter().enumerate() {
            let locations: Vec<VerifiedLocation> = f
                .locations
                .iter()
                .map(|l| verify_with(l, tree, window, &mut excerpts))
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

/// Excerpts already cut (and masked), by path and cited lines: agents cite the same lines
/// over and over, and masking an excerpt scans the lines above it for a private key's block.
type Excerpts = std::collections::HashMap<(String, u32, u32), Excerpt>;

/// Checks one citation against the head tree.
pub fn verify(loc: &Location, tree: Option<&dyn HeadTree>, window: u32) -> VerifiedLocation {
    verify_with(loc, tree, window, &mut Excerpts::new())
}

/// [`verify`], reusing the excerpts cut for earlier citations.
fn verify_with(
    loc: &Location,
    tree: Option<&dyn HeadTree>,
    window: u32,
    excerpts: &mut Excerpts,
) -> VerifiedLocation {
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
    let cut = excerpts
        .entry((out.path.clone(), out.start_line, out.end_line))
        .or_insert_with(|| excerpt(&lines, out.start_line, out.end_line));
    out.excerpt = Some(cut.clone());
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
        lines: crate::secrets::redact_lines(lines, from as usize, to as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::cite;
    use super::super::fixtures::finding;
    use super::super::fixtures::located;
    use super::super::fixtures::run;
    use super::super::fixtures::Tree;
    use super::*;
    use crate::finding::Severity;

    fn tree() -> Tree {
        Tree::default().with(
            "src/lib.rs",
            &["fn a() {", "    let x = 1;", "    x.unwrap();", "}", ""],
        )
    }

    #[test]
    fn a_cited_line_that_exists_is_verified_with_its_excerpt() {
        let t = tree();
        let v = verify(&cite("./src/lib.rs", 3, 3, None), Some(&t), 10);
        assert!(v.verified);
        assert_eq!(v.path, "src/lib.rs");
        assert_eq!((v.start_line, v.end_line), (3, 3));
        assert_eq!(v.note, None);
        let e = v.excerpt.unwrap();
        assert_eq!(e.start_line, 1);
        assert_eq!(e.lines.len(), 5);
        assert_eq!(e.lines[2], "    x.unwrap();");
    }

    #[test]
    fn a_citation_to_a_missing_line_is_not_verified_and_says_why() {
        let t = tree();
        let v = verify(&cite("src/lib.rs", 9, 9, None), Some(&t), 10);
        assert!(!v.verified);
        assert_eq!(
            v.note.as_deref(),
            Some("line 9 does not exist: `src/lib.rs` has 5 lines")
        );
        assert_eq!(v.excerpt, None);
        let zero = verify(&cite("src/lib.rs", 0, 1, None), Some(&t), 10);
        assert!(!zero.verified);
        assert_eq!(
            zero.note.as_deref(),
            Some("line 0 does not exist: `src/lib.rs` has 5 lines")
        );
    }

    #[test]
    fn a_missing_file_is_not_verified() {
        let t = tree();
        let v = verify(&cite("src/gone.rs", 1, 1, None), Some(&t), 10);
        assert!(!v.verified);
        assert_eq!(
            v.note.as_deref(),
            Some("`src/gone.rs` does not exist in the head tree")
        );
    }

    #[test]
    fn without_a_tree_nothing_is_verified_but_the_path_is_cleaned() {
        let v = verify(&cite("b/src/lib.rs", 2, 4, None), None, 10);
        assert!(!v.verified);
        assert_eq!(v.path, "src/lib.rs");
        assert_eq!((v.start_line, v.end_line), (2, 4));
        assert_eq!(
            v.note.as_deref(),
            Some("not verified: no repository to check against")
        );
    }

    #[test]
    fn an_end_line_past_the_file_is_clipped() {
        let t = tree();
        let v = verify(&cite("src/lib.rs", 4, 40, None), Some(&t), 10);
        assert!(v.verified);
        assert_eq!(v.end_line, 5);
        assert_eq!(
            v.note.as_deref(),
            Some("end line 40 clipped to the file's 5 lines")
        );
    }

    #[test]
    fn a_quote_a_few_lines_off_relocates_the_citation() {
        let t = tree();
        let v = verify(&cite("src/lib.rs", 1, 2, Some("x.unwrap();")), Some(&t), 10);
        assert!(v.verified);
        assert_eq!((v.start_line, v.end_line), (3, 4));
        assert_eq!(v.relocated_from, Some(1));
        assert_eq!(
            v.note.as_deref(),
            Some("cited line 1, but the quoted code is at line 3; relocated")
        );
    }

    #[test]
    fn a_quote_that_is_not_near_the_line_fails_the_citation() {
        let t = tree();
        let v = verify(&cite("src/lib.rs", 1, 1, Some("x.unwrap();")), Some(&t), 1);
        assert!(!v.verified);
        assert_eq!(v.relocated_from, None);
        assert_eq!(
            v.note.as_deref(),
            Some("the quoted code is not at line 1 of `src/lib.rs` nor within 1 lines of it")
        );
        let elsewhere = verify(&cite("src/lib.rs", 2, 2, Some("panic!()")), Some(&t), 10);
        assert!(!elsewhere.verified);
    }

    #[test]
    fn a_path_given_relative_to_a_folder_is_found_among_the_changed_files() {
        let t = tree();
        let v = verify(&cite("lib.rs", 2, 2, None), Some(&t), 10);
        assert!(v.verified);
        assert_eq!(v.path, "src/lib.rs");
        assert_eq!(v.note.as_deref(), Some("path given as `lib.rs`"));
    }

    #[test]
    fn quotes_match_modulo_whitespace_and_contained_lines() {
        assert!(text_matches("  let   x = 1;", "let x = 1;"));
        assert!(text_matches("anything", "   "));
        assert!(!text_matches("", "let x"));
        // A quote longer than the line holds it, when the line says enough (8 characters).
        assert!(text_matches("x.unwrap();", "let y = x.unwrap();"));
        assert!(!text_matches("}", "} else {"));
        assert_eq!(first_quote_line("\n  \n  first\nsecond"), "  first");
    }

    #[test]
    fn no_runs_give_no_items() {
        assert!(verify_findings(&[], Some(&tree()), 10).is_empty());
    }

    #[test]
    fn findings_whose_every_citation_fails_are_unverifiable() {
        let t = tree();
        let r = run(
            "codex",
            vec![
                located(
                    finding(Severity::Important, "real", ""),
                    vec![
                        cite("src/lib.rs", 3, 3, None),
                        cite("src/lib.rs", 99, 99, None),
                    ],
                ),
                located(
                    finding(Severity::Critical, "invented", ""),
                    vec![cite("src/lib.rs", 99, 99, None)],
                ),
                finding(Severity::Suggestion, "nowhere", ""),
            ],
        );
        let items = verify_findings(&[&r], Some(&t), 10);
        let got: Vec<(&str, usize, bool, usize, usize)> = items
            .iter()
            .map(|i| {
                (
                    i.agent,
                    i.index,
                    i.unverifiable,
                    i.locations.len(),
                    i.usable.len(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("codex", 0, false, 2, 1),
                ("codex", 1, true, 1, 0),
                // No citation at all is not an invalid citation.
                ("codex", 2, false, 0, 0),
            ]
        );
        // Without a tree every citation is usable and nothing is unverifiable.
        let items = verify_findings(&[&r], None, 10);
        assert!(items.iter().all(|i| !i.unverifiable));
        assert_eq!(items[1].usable.len(), 1);
    }
}
