//! Step 2, cluster: findings that describe the same problem, across agents and within one.
//! Location (same file, overlapping or nearby lines) and words (TF-IDF over title and body,
//! identifiers weighted up) together decide; lines alone never merge two findings, so two
//! problems at the same lines stay apart. Unverifiable findings stay alone: they are dropped.

use super::options::Options;
use super::similarity::tfidf;
use super::similarity::SparseVec;
use super::verify::clean_path;
use super::verify::Item;
use crate::review::VerifiedLocation;
use std::collections::HashMap;

/// Groups the items into clusters: each a sorted list of indexes into `items`, the clusters
/// sorted, every item in exactly one.
pub(super) fn cluster(items: &[Item], opts: &Options) -> Vec<Vec<usize>> {
    let texts: Vec<String> = items.iter().map(item_text).collect();
    let vectors = tfidf(&texts);
    let pairs = scored_pairs(items, &vectors, opts);
    merge(items, &vectors, pairs, opts)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Same file, overlapping or nearby lines.
    Near,
    /// Same file, far apart.
    SameFile,
    /// Both located, in different files.
    Apart,
    /// At least one has no verified location.
    Unknown,
}

fn place(a: &[VerifiedLocation], b: &[VerifiedLocation], nearby: u32) -> Place {
    if a.is_empty() || b.is_empty() {
        return Place::Unknown;
    }
    let mut same_file = false;
    for x in a {
        for y in b {
            if x.path == y.path {
                same_file = true;
                if x.start_line <= y.end_line + nearby && y.start_line <= x.end_line + nearby {
                    return Place::Near;
                }
            }
        }
    }
    if same_file {
        Place::SameFile
    } else {
        Place::Apart
    }
}

/// The words that say what a finding is about: the title twice (it is the densest), the
/// body, without the cited paths (where it is, is the location's job, and a shared file name
/// would make every two findings in one file look alike).
fn item_text(i: &Item) -> String {
    let mut text = format!(
        "{}\n{}\n{}",
        i.finding.title, i.finding.title, i.finding.body
    );
    for l in i.finding.locations.iter().chain(i.finding.locations.iter()) {
        let p = clean_path(&l.path);
        let base = p.rsplit('/').next().unwrap_or(&p).to_string();
        text = text.replace(&p, " ");
        if base.contains('.') {
            text = text.replace(&base, " ");
        }
    }
    text
}

/// How strongly two findings look like the same problem, 0..~1.4.
fn link(a: (&Item, &SparseVec), b: (&Item, &SparseVec), opts: &Options) -> f64 {
    let ((a, va), (b, vb)) = (a, b);
    let cos = va.similarity(vb);
    if a.agent == b.agent {
        // An agent that lists two findings meant two problems, unless it repeated itself
        // nearly word for word.
        return cos - 0.25;
    }
    let category = match (&a.finding.category, &b.finding.category) {
        (Some(x), Some(y)) if !x.eq_ignore_ascii_case(y) => -0.1,
        _ => 0.0,
    };
    category
        + match place(&a.usable, &b.usable, opts.nearby_lines) {
            // Lines alone never merge: two problems at one line differ in their words.
            Place::Near => cos + 0.1,
            Place::SameFile => cos + 0.03,
            Place::Apart => cos - 0.1,
            Place::Unknown => cos,
        }
}

/// Candidate pairs share a term; others cannot reach the threshold (location alone never
/// merges). A term found in a large share of all findings says nothing and is skipped.
/// Each pair is `i << 32 | j` with `i < j`, sorted, distinct.
fn candidate_pairs(items: &[Item], vectors: &[SparseVec]) -> Vec<u64> {
    let mut by_term: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, (it, v)) in items.iter().zip(vectors).enumerate() {
        if it.unverifiable {
            continue;
        }
        for t in v.terms() {
            by_term.entry(t).or_default().push(i as u32);
        }
    }
    let max_posting = 400.max(items.len() / 20);
    let mut candidates: Vec<u64> = Vec::new();
    for list in by_term.values().filter(|l| l.len() <= max_posting) {
        for (x, &i) in list.iter().enumerate() {
            for &j in &list[x + 1..] {
                candidates.push((u64::from(i) << 32) | u64::from(j));
            }
        }
    }
    candidates.sort_unstable();
    candidates.dedup();
    candidates
}

/// The candidate pairs whose link reaches the threshold, strongest first (ties by index).
fn scored_pairs(items: &[Item], vectors: &[SparseVec], opts: &Options) -> Vec<(u32, u32, f64)> {
    let candidates = candidate_pairs(items, vectors);
    // Score on every core; the pairs are independent.
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .min(8);
    let chunk = candidates.len().div_ceil(threads).max(1);
    let mut pairs: Vec<(u32, u32, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = candidates
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|&key| {
                            let (i, j) = ((key >> 32) as usize, key as u32 as usize);
                            let s = link((&items[i], &vectors[i]), (&items[j], &vectors[j]), opts);
                            (s >= opts.merge_threshold).then_some((i as u32, j as u32, s))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    pairs.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    pairs
}

/// Average-linkage agglomerative clustering over the scored pairs, greedy by best link.
fn merge(
    items: &[Item],
    vectors: &[SparseVec],
    pairs: Vec<(u32, u32, f64)>,
    opts: &Options,
) -> Vec<Vec<usize>> {
    let n = items.len();
    let mut cluster_of: Vec<usize> = (0..n).collect();
    let mut clusters: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    for (i, j, _) in pairs {
        let (ci, cj) = (cluster_of[i as usize], cluster_of[j as usize]);
        if ci == cj {
            continue;
        }
        let (a, b) = (&clusters[ci], &clusters[cj]);
        let total: f64 = a
            .iter()
            .flat_map(|&x| b.iter().map(move |&y| (x, y)))
            .map(|(x, y)| link((&items[x], &vectors[x]), (&items[y], &vectors[y]), opts))
            // A link under half the threshold is noise: it counts as no link at all.
            .map(|l| {
                if l >= opts.merge_threshold / 2.0 {
                    l
                } else {
                    0.0
                }
            })
            .sum();
        let avg = total / (a.len() * b.len()) as f64;
        // Average linkage: two clusters merge only when their members are, on average, as
        // alike as two findings must be; this keeps chains of loosely related findings from
        // snowballing into one.
        if avg < opts.merge_threshold {
            continue;
        }
        let moved = std::mem::take(&mut clusters[cj]);
        for &m in &moved {
            cluster_of[m] = ci;
        }
        clusters[ci].extend(moved);
    }
    let mut out: Vec<Vec<usize>> = clusters.into_iter().filter(|c| !c.is_empty()).collect();
    for c in &mut out {
        c.sort_unstable();
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::finding;
    use super::super::fixtures::items;
    use super::*;
    use crate::finding::Finding;
    use crate::finding::Severity;

    fn at(path: &str, start: u32, end: u32) -> VerifiedLocation {
        VerifiedLocation {
            path: path.to_string(),
            start_line: start,
            end_line: end,
            verified: true,
            relocated_from: None,
            note: None,
            excerpt: None,
        }
    }

    const RACE: &str = "Data race on `a.client` read without clientMu";
    const RACE_AGAIN: &str = "Unlocked read of `a.client` races with the writer; take clientMu";
    const DOCS: &str = "The new Close method has no documentation";

    fn f(title: &str) -> Finding {
        finding(Severity::Important, title, "")
    }

    #[test]
    fn no_findings_no_clusters() {
        assert!(cluster(&[], &Options::default()).is_empty());
    }

    #[test]
    fn two_agents_describing_one_problem_are_one_cluster() {
        let given = [
            ("claude", f(RACE)),
            ("codex", f(RACE_AGAIN)),
            ("gemini", f(DOCS)),
        ];
        let got = cluster(&items(&given), &Options::default());
        assert_eq!(got, vec![vec![0, 1], vec![2]]);
    }

    #[test]
    fn one_agent_listing_two_findings_needs_more_than_two_agents_do() {
        let given = [
            ("claude", f(RACE)),
            ("codex", f(RACE_AGAIN)),
            ("claude", f(RACE_AGAIN)),
        ];
        let it = items(&given);
        let v = tfidf(&it.iter().map(item_text).collect::<Vec<_>>());
        let o = Options::default();
        let across = link((&it[0], &v[0]), (&it[1], &v[1]), &o);
        let within = link((&it[0], &v[0]), (&it[2], &v[2]), &o);
        assert!((across - within - 0.25).abs() < 1e-9, "{across} {within}");
        // An agent that repeats itself word for word is merged with itself.
        let twice = [("claude", f(RACE)), ("claude", f(RACE))];
        assert_eq!(cluster(&items(&twice), &o), vec![vec![0, 1]]);
    }

    #[test]
    fn one_agent_alone_gives_one_cluster_per_finding() {
        let given = [("claude", f(RACE)), ("claude", f(DOCS))];
        assert_eq!(
            cluster(&items(&given), &Options::default()),
            vec![vec![0], vec![1]]
        );
    }

    #[test]
    fn an_unverifiable_finding_stays_alone_even_with_the_same_words() {
        let given = [("claude", f(RACE)), ("codex", f(RACE))];
        let mut it = items(&given);
        assert_eq!(cluster(&it, &Options::default()), vec![vec![0, 1]]);
        it[1].unverifiable = true;
        assert_eq!(cluster(&it, &Options::default()), vec![vec![0], vec![1]]);
    }

    #[test]
    fn the_same_lines_with_different_words_stay_apart() {
        let given = [("claude", f(RACE)), ("codex", f(DOCS))];
        let mut it = items(&given);
        for i in &mut it {
            i.usable = vec![at("src/a.rs", 10, 12)];
        }
        assert_eq!(cluster(&it, &Options::default()), vec![vec![0], vec![1]]);
    }

    #[test]
    fn places_are_near_same_file_apart_or_unknown() {
        let a = [at("src/a.rs", 10, 12)];
        assert_eq!(place(&a, &[at("src/a.rs", 15, 15)], 3), Place::Near);
        assert_eq!(place(&a, &[at("src/a.rs", 16, 20)], 3), Place::SameFile);
        assert_eq!(place(&a, &[at("src/b.rs", 10, 12)], 3), Place::Apart);
        assert_eq!(place(&a, &[], 3), Place::Unknown);
        assert_eq!(place(&[], &[], 3), Place::Unknown);
    }

    #[test]
    fn a_findings_words_leave_out_its_cited_paths() {
        let mut given = finding(
            Severity::Important,
            "Leak in src/pool.rs",
            "pool.rs never closes the handle",
        );
        given.locations = vec![super::super::fixtures::cite("./src/pool.rs", 1, 1, None)];
        let pairs = [("claude", given)];
        let it = items(&pairs);
        assert_eq!(
            item_text(&it[0]),
            "Leak in  \nLeak in  \n  never closes the handle"
        );
    }
}
