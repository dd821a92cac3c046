//! The lifecycle of findings across the rounds of one subject: which of this round's findings
//! are new and which are still open, and which of the previous round's are gone (fixed or
//! withdrawn).
//!
//! A pure function over plain data. A finding of this round matches one of the previous
//! round by its fingerprint (`report::sarif::fingerprint`: category, cited path and cited
//! code, no line numbers, so code that moved still matches), else by the similarity
//! consolidation clusters with (TF-IDF over title and body, nudged by the cited files and the
//! category), at consolidation's merge threshold. Each finding matches at most one, best
//! pairs first. A previous finding left unmatched is `fixed` when its cited code changed,
//! else `withdrawn`.

use super::similarity::tfidf;
use crate::review::FindingLifecycle;
use crate::review::LifecycleStatus;

/// A finding as the lifecycle compares it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Finding {
    pub id: String,
    pub fingerprint: String,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    /// The files it cites (verified citations).
    pub paths: Vec<String>,
    /// For a previous round's finding: the round it was first reported in.
    pub first_round: u32,
}

/// What became of a previous round's finding that nothing in this round matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gone {
    pub id: String,
    /// `Fixed` or `Withdrawn`.
    pub status: LifecycleStatus,
    pub first_round: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// One per finding of this round, in its order.
    pub current: Vec<FindingLifecycle>,
    /// The previous round's unmatched findings, in their order.
    pub gone: Vec<Gone>,
}

/// Matches `current` (this round, `round`) against `previous` (the previous round's reported
/// findings). `code_changed(previous finding)` says whether its cited code is no longer at
/// the head; `threshold` is consolidation's merge threshold.
pub fn lifecycle(
    previous: &[Finding],
    current: &[Finding],
    round: u32,
    threshold: f64,
    code_changed: &dyn Fn(&Finding) -> bool,
) -> Outcome {
    let mut matched: Vec<Option<usize>> = vec![None; current.len()];
    let mut taken = vec![false; previous.len()];
    // By fingerprint first: the same code cited for the same kind of problem.
    for (c, cur) in current.iter().enumerate() {
        if let Some(p) =
            (0..previous.len()).find(|&p| !taken[p] && previous[p].fingerprint == cur.fingerprint)
        {
            taken[p] = true;
            matched[c] = Some(p);
        }
    }
    // Then by similarity, best pairs first.
    let texts: Vec<String> = previous
        .iter()
        .chain(current)
        .map(|f| format!("{}\n{}\n{}", f.title, f.title, f.body))
        .collect();
    let vectors = tfidf(&texts);
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (c, cur) in current.iter().enumerate() {
        if matched[c].is_some() {
            continue;
        }
        for (p, prev) in previous.iter().enumerate() {
            if taken[p] {
                continue;
            }
            let cos = vectors[p].similarity(&vectors[previous.len() + c]);
            let score = cos + place(prev, cur) + category(prev, cur);
            if score >= threshold {
                pairs.push((score, c, p));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    for (_, c, p) in pairs {
        if matched[c].is_none() && !taken[p] {
            matched[c] = Some(p);
            taken[p] = true;
        }
    }
    let current = current
        .iter()
        .zip(&matched)
        .map(|(cur, m)| match m {
            Some(p) => FindingLifecycle {
                id: cur.id.clone(),
                status: LifecycleStatus::StillOpen,
                first_round: previous[*p].first_round,
                previous_id: Some(previous[*p].id.clone()),
            },
            None => FindingLifecycle {
                id: cur.id.clone(),
                status: LifecycleStatus::New,
                first_round: round,
                previous_id: None,
            },
        })
        .collect();
    let gone = previous
        .iter()
        .zip(&taken)
        .filter(|(_, t)| !**t)
        .map(|(prev, _)| Gone {
            id: prev.id.clone(),
            status: if code_changed(prev) {
                LifecycleStatus::Fixed
            } else {
                LifecycleStatus::Withdrawn
            },
            first_round: prev.first_round,
        })
        .collect();
    Outcome { current, gone }
}

/// As in clustering, but by file only: between rounds the lines move.
fn place(a: &Finding, b: &Finding) -> f64 {
    if a.paths.is_empty() || b.paths.is_empty() {
        0.0
    } else if a.paths.iter().any(|p| b.paths.contains(p)) {
        0.1
    } else {
        -0.1
    }
}

fn category(a: &Finding, b: &Finding) -> f64 {
    match (&a.category, &b.category) {
        (Some(x), Some(y)) if !x.eq_ignore_ascii_case(y) => -0.1,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, fp: &str, title: &str, path: &str, first_round: u32) -> Finding {
        Finding {
            id: id.into(),
            fingerprint: fp.into(),
            title: title.into(),
            body: title.into(),
            category: Some("correctness".into()),
            paths: vec![path.into()],
            first_round,
        }
    }

    fn open(id: &str, first_round: u32, previous: &str) -> FindingLifecycle {
        FindingLifecycle {
            id: id.into(),
            status: LifecycleStatus::StillOpen,
            first_round,
            previous_id: Some(previous.into()),
        }
    }

    fn new(id: &str, round: u32) -> FindingLifecycle {
        FindingLifecycle {
            id: id.into(),
            status: LifecycleStatus::New,
            first_round: round,
            previous_id: None,
        }
    }

    fn gone(id: &str, status: LifecycleStatus, first_round: u32) -> Gone {
        Gone {
            id: id.into(),
            status,
            first_round,
        }
    }

    const NEVER: &dyn Fn(&Finding) -> bool = &|_| false;

    #[test]
    fn matched_by_fingerprint_whatever_the_words() {
        let prev = [f("I1", "fp-a", "Division by zero panics", "src/lib.rs", 1)];
        let cur = [f("I2", "fp-a", "Unchecked divisor", "src/lib.rs", 0)];
        let out = lifecycle(&prev, &cur, 2, 0.25, NEVER);
        assert_eq!(
            out,
            Outcome {
                current: vec![open("I2", 1, "I1")],
                gone: vec![]
            }
        );
    }

    #[test]
    fn matched_by_similarity_when_the_cited_code_changed() {
        // The code under the finding was edited (another fingerprint), the problem stays.
        let prev = [
            f(
                "I1",
                "fp-a",
                "parse unwraps a malformed number string",
                "src/parse.rs",
                1,
            ),
            f(
                "S1",
                "fp-s",
                "Cache grows without a bound",
                "src/cache.rs",
                1,
            ),
        ];
        let cur = [f(
            "I1",
            "fp-b",
            "parse unwraps malformed number strings",
            "src/parse.rs",
            0,
        )];
        let out = lifecycle(&prev, &cur, 3, 0.25, &|p: &Finding| p.id == "S1");
        assert_eq!(
            out,
            Outcome {
                current: vec![open("I1", 1, "I1")],
                gone: vec![gone("S1", LifecycleStatus::Fixed, 1)]
            }
        );
    }

    #[test]
    fn different_problems_in_one_file_do_not_match() {
        let prev = [f(
            "I1",
            "fp-a",
            "Division by zero panics in div",
            "src/lib.rs",
            2,
        )];
        let cur = [f(
            "I1",
            "fp-b",
            "Integer overflow when adding large values",
            "src/lib.rs",
            0,
        )];
        let out = lifecycle(&prev, &cur, 3, 0.25, NEVER);
        assert_eq!(
            out,
            Outcome {
                current: vec![new("I1", 3)],
                gone: vec![gone("I1", LifecycleStatus::Withdrawn, 2)]
            }
        );
    }

    #[test]
    fn moved_code_keeps_its_fingerprint_and_its_first_round() {
        // Lines moved down (the fingerprint has no line numbers); the ID changed with the
        // numbering; the first round carries over from the earlier round.
        let prev = [
            f(
                "I1",
                "fp-x",
                "Leaked file handle in the loader",
                "src/loader.rs",
                1,
            ),
            f("I2", "fp-y", "Retry loop never backs off", "src/net.rs", 2),
        ];
        let cur = [
            f("I1", "fp-y", "Retry loop never backs off", "src/net.rs", 0),
            f(
                "I2",
                "fp-x",
                "File handle leaks when parsing fails",
                "src/loader.rs",
                0,
            ),
        ];
        let out = lifecycle(&prev, &cur, 3, 0.25, NEVER);
        assert_eq!(
            out,
            Outcome {
                current: vec![open("I1", 2, "I2"), open("I2", 1, "I1")],
                gone: vec![]
            }
        );
    }

    #[test]
    fn gone_findings_are_fixed_when_their_code_changed_else_withdrawn() {
        let prev = [
            f(
                "I1",
                "fp-a",
                "Division by zero panics in div",
                "src/lib.rs",
                1,
            ),
            f(
                "I2",
                "fp-b",
                "parse unwraps a malformed number string",
                "src/parse.rs",
                1,
            ),
        ];
        let cur = [
            f(
                "I1",
                "fp-b",
                "parse unwraps a malformed number string",
                "src/parse.rs",
                0,
            ),
            f(
                "I2",
                "fp-c",
                "get indexes the slice without a bounds check",
                "src/cache.rs",
                0,
            ),
        ];
        let out = lifecycle(&prev, &cur, 2, 0.25, &|p: &Finding| p.id == "I1");
        assert_eq!(
            out,
            Outcome {
                current: vec![open("I1", 1, "I2"), new("I2", 2)],
                gone: vec![gone("I1", LifecycleStatus::Fixed, 1)]
            }
        );
        let out = lifecycle(&prev, &cur[1..], 2, 0.25, &|p: &Finding| p.id == "I1");
        assert_eq!(
            out.gone,
            vec![
                gone("I1", LifecycleStatus::Fixed, 1),
                gone("I2", LifecycleStatus::Withdrawn, 1)
            ]
        );
    }

    #[test]
    fn an_empty_previous_round_makes_everything_new() {
        let cur = [
            f(
                "C1",
                "fp-a",
                "SQL injection in the search handler",
                "src/db.rs",
                0,
            ),
            f("S1", "fp-b", "Typo in the error text", "src/db.rs", 0),
        ];
        let out = lifecycle(&[], &cur, 4, 0.25, NEVER);
        assert_eq!(
            out,
            Outcome {
                current: vec![new("C1", 4), new("S1", 4)],
                gone: vec![]
            }
        );
        assert_eq!(lifecycle(&[], &[], 2, 0.25, NEVER), Outcome::default());
    }
}
