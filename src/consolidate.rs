//! Consolidation: many agents' answers in, one [`Review`] out. Deterministic and fast.
//!
//! The steps, in order:
//! 1. **Verify** every citation against the head tree: the file exists, the lines exist, the
//!    quoted text matches (a quote found a few lines away relocates the citation). A finding
//!    whose every citation is invalid is dropped and counts as a false positive.
//! 2. **Cluster** findings that describe the same problem, across agents and within one:
//!    location (same file, overlapping or nearby lines) and words (TF-IDF cosine over title
//!    and body, identifiers weighted up) together decide; lines alone never merge two
//!    findings, so two problems at the same lines stay apart.
//! 3. **Vote** a severity per cluster (see [`SeverityPolicy`]) and log every change of an
//!    agent's severity as a [`Reconciliation`] entry.
//! 4. **Decide** what is reported and what is held back (see [`report_status`]).
//! 5. **Number** reported findings `C1.. I1.. S1..` by severity, then agreement, then place.
//! 6. **Measure** each agent (the retro table) and derive the verdict.
//!
//! Nothing here runs an agent, touches the network or prints.

use crate::finding::Finding;
use crate::finding::Location;
use crate::finding::Severity;
use crate::finding::Verdict;
use crate::record::AgentRun;
use crate::record::Outcome;
use crate::record::Unavailable;
use crate::review::*;
use std::collections::HashMap;

pub use crate::tree_guard::HeadTree;

/// How a cluster's severity is chosen from its members' severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeverityPolicy {
    /// Each agent votes its severity; the most votes win; ties go to the lower severity.
    #[default]
    Vote,
    /// The highest severity any agent gave.
    Highest,
    /// The lowest severity any agent gave.
    Lowest,
}

impl SeverityPolicy {
    pub fn parse(s: &str) -> Option<SeverityPolicy> {
        match s {
            "vote" => Some(SeverityPolicy::Vote),
            "highest" | "max" => Some(SeverityPolicy::Highest),
            "lowest" | "min" => Some(SeverityPolicy::Lowest),
            _ => None,
        }
    }
}

/// Knobs for consolidation.
#[derive(Debug, Clone)]
pub struct Options {
    pub severity_policy: SeverityPolicy,
    /// Link score at or above which two findings are the same problem.
    pub merge_threshold: f64,
    /// How far (in lines) two citations may be apart and still count as "nearby".
    pub nearby_lines: u32,
    /// How far a quote is searched for around its cited line.
    pub relocate_window: u32,
    /// The share of answering reviewers that must agree for agreement alone to report a
    /// finding (never fewer than two): two of three reviewers is strong evidence, two of
    /// twelve is not.
    pub agreement_fraction: f64,
}

impl Options {
    /// Distinct agents whose agreement alone reports a finding, given how many answered.
    pub fn min_agreement(&self, answered: usize) -> usize {
        ((self.agreement_fraction * answered as f64).ceil() as usize).max(2)
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            severity_policy: SeverityPolicy::Vote,
            merge_threshold: 0.25,
            nearby_lines: 3,
            relocate_window: 10,
            agreement_fraction: 1.0 / 3.0,
        }
    }
}

/// A validated judge answer and the judge's own run.
pub struct JudgeInput<'a> {
    pub name: String,
    pub answer: &'a crate::judge::JudgeAnswer,
    pub run: &'a AgentRun,
    /// Parts of the answer that were ignored, and why.
    pub notes: Vec<String>,
}

/// Everything consolidation needs besides the runs.
pub struct Input<'a> {
    /// The judge's answer, applied after the deterministic pass.
    pub judge: Option<JudgeInput<'a>>,
    pub runs: &'a [AgentRun],
    pub tree: Option<&'a dyn HeadTree>,
    pub change: ChangeSummary,
    pub unavailable: Vec<Unavailable>,
    pub id: String,
    pub created_at: String,
    pub wall_clock_ms: u64,
    pub partial: bool,
}

/// One agent finding on its way through consolidation.
struct Item<'a> {
    agent: &'a str,
    index: usize,
    finding: &'a Finding,
    locations: Vec<VerifiedLocation>,
    /// Citations that can be used: verified ones, or all of them when there is no tree.
    usable: Vec<VerifiedLocation>,
    /// Every citation was invalid.
    unverifiable: bool,
    vector: SparseVec,
}

pub fn consolidate(input: Input<'_>, opts: &Options) -> Review {
    let answered: Vec<&AgentRun> = input
        .runs
        .iter()
        .filter(|r| r.outcome.is_ok() && r.answer.is_some())
        .collect();

    // 1. Verify.
    let mut items: Vec<Item> = Vec::new();
    for run in &answered {
        let Some(answer) = &run.answer else { continue };
        for (index, f) in answer.findings.iter().enumerate() {
            let locations: Vec<VerifiedLocation> = f
                .locations
                .iter()
                .map(|l| verify(l, input.tree, opts.relocate_window))
                .collect();
            let unverifiable = input.tree.is_some()
                && !locations.is_empty()
                && locations.iter().all(|l| !l.verified);
            let usable = locations
                .iter()
                .filter(|l| l.verified || input.tree.is_none())
                .cloned()
                .collect();
            items.push(Item {
                agent: &run.name,
                index,
                finding: f,
                locations,
                usable,
                unverifiable,
                vector: SparseVec::default(),
            });
        }
    }

    // 2. Cluster (unverifiable findings stay alone: they are dropped).
    let texts: Vec<String> = items.iter().map(item_text).collect();
    let vectors = tfidf(&texts);
    for (item, v) in items.iter_mut().zip(vectors) {
        item.vector = v;
    }
    let clusters = cluster(&items, opts);

    // 3-4. Build consolidated findings.
    let min_agreement = opts.min_agreement(answered.len());
    let build_all = |clusters: &[Vec<usize>]| -> Vec<ConsolidatedFinding> {
        clusters
            .iter()
            .map(|members| {
                let member_items: Vec<&Item> = members.iter().map(|&i| &items[i]).collect();
                let dropped = member_items.iter().all(|i| i.unverifiable);
                build_finding(&member_items, opts, dropped, min_agreement)
            })
            .collect()
    };
    let mut clusters = clusters;
    let mut findings = build_all(&clusters);
    // 5. Number.
    let mut order = number(&mut findings);

    // The judge's edits, by the IDs it saw, then numbered anew.
    let mut judge_notes = Vec::new();
    if let Some(j) = &input.judge {
        let ids: Vec<String> = findings.iter().map(|f| f.id.clone()).collect();
        let (edited, origins) = restructure(j.answer, &clusters, &ids, &items);
        clusters = edited;
        findings = build_all(&clusters);
        for ((f, origin), members) in findings.iter_mut().zip(&origins).zip(&clusters) {
            let Some(origin) = origin else { continue };
            if let Some(c) = j.answer.severities.iter().find(|c| &c.finding == origin) {
                let given: Vec<String> = f
                    .severity_by_agent()
                    .iter()
                    .map(|(a, s)| format!("{a}: {s}"))
                    .collect();
                f.severity = c.severity;
                f.calibration = format!(
                    "{} (the judge, {}; the reviewers gave {}).",
                    c.why.trim().trim_end_matches('.'),
                    j.name,
                    given.join(", ")
                );
                if f.status != Status::Dropped {
                    let (verified, cited) = evidence(members.iter().map(|&i| &items[i]));
                    f.status = report_status(
                        f.severity,
                        f.agreement,
                        min_agreement,
                        verified,
                        cited,
                        f.confidence,
                    );
                }
            }
            if let Some(r) = j.answer.refuted.iter().find(|r| &r.finding == origin) {
                f.status = Status::Dropped;
                f.drop_reason = Some(format!(
                    "refuted by the judge ({}): {}",
                    j.name,
                    r.why.trim()
                ));
            }
        }
        order = number(&mut findings);
        judge_notes.push(format!(
            "Judge {}: {} merge(s), {} split(s), {} refutation(s), {} severity change(s) applied.",
            j.name,
            j.answer.merges.len(),
            j.answer.splits.len(),
            j.answer.refuted.len(),
            j.answer.severities.len()
        ));
    }
    let mut reconciliation = Vec::new();
    for (f, members) in findings.iter().zip(&clusters) {
        for item in members.iter().map(|&i| &items[i]) {
            let sev = item.finding.severity;
            let (to, reason) = match f.status {
                Status::Dropped => (None, f.drop_reason.clone().unwrap_or_default()),
                _ if sev != f.severity => (Some(f.severity), f.calibration.clone()),
                _ => continue,
            };
            reconciliation.push(Reconciliation {
                agent: item.agent.to_string(),
                index: item.index,
                title: crate::secrets::redact_text(&item.finding.title),
                finding: f.id.clone(),
                from: sev,
                to,
                reason,
            });
        }
    }
    let ordered: Vec<ConsolidatedFinding> = order.iter().map(|&i| findings[i].clone()).collect();
    reconciliation.sort_by(|a, b| {
        id_key(&a.finding)
            .cmp(&id_key(&b.finding))
            .then(a.agent.cmp(&b.agent))
            .then(a.index.cmp(&b.index))
    });

    // 6. Measure.
    let observations = consolidate_observations(&answered, input.tree, opts);
    let assessments = collect_assessments(&answered);
    let context_updates = collect_context_updates(&answered);
    let mut agents: Vec<AgentColumn> = input
        .runs
        .iter()
        .map(|r| agent_column(r, &ordered))
        .collect();
    let (verdict, verdict_rationale) = match no_verdict_reason(input.runs) {
        Some(why) => (None, why),
        None => {
            let v = derive_verdict(&ordered);
            (Some(v), verdict_rationale(v, &ordered))
        }
    };
    for a in &mut agents {
        a.retro = retro_paragraph(a, &ordered);
    }
    let mut review = Review {
        version: REVIEW_VERSION,
        tool: ToolInfo::current(),
        id: input.id,
        created_at: input.created_at,
        wall_clock_ms: input.wall_clock_ms,
        partial: input.partial,
        change: input.change,
        agents,
        unavailable: input.unavailable,
        findings: ordered,
        observations,
        assessments,
        reconciliation,
        context_updates,
        verdict,
        verdict_rationale,
        summary: String::new(),
        notes: Vec::new(),
        // Set after consolidation by the round, which knows the previous one (crate::lifecycle).
        rounds: None,
    };
    review.summary = executive_summary(&review);
    if let Some(j) = input.judge {
        let a = j.answer;
        if let Some(text) = a.summary.as_deref().filter(|t| !t.trim().is_empty()) {
            review.summary = text.trim().to_string();
        }
        // With no verdict, the rationale says why there is none; the judge cannot change that.
        if let Some(text) = a
            .verdict_rationale
            .as_deref()
            .filter(|t| !t.trim().is_empty() && review.verdict.is_some())
        {
            review.verdict_rationale = text.trim().to_string();
        }
        for r in &a.retro {
            if let Some(col) = review.agents.iter_mut().find(|c| c.name == r.agent) {
                col.retro = r.text.trim().to_string();
            }
        }
        for u in &a.context_updates {
            review.context_updates.push(AttributedContextUpdate {
                action: u.action,
                note: u.note.clone(),
                why: u.why.clone(),
                agents: vec![j.name.clone()],
            });
        }
        let mut col = agent_column(j.run, &[]);
        col.role = Role::Judge;
        col.metrics.findings = SeverityCounts::default();
        col.retro = match &j.run.outcome {
            Outcome::Ok => format!(
                "Judged the {} consolidated finding{} in {}.",
                review.findings.len(),
                if review.findings.len() == 1 { "" } else { "s" },
                crate::util::human_duration(std::time::Duration::from_millis(
                    j.run.stats.duration_ms
                ))
            ),
            Outcome::Failed { .. } => retro_paragraph(&col, &[]),
        };
        review.agents.push(col);
        review.notes.extend(j.notes);
        review.notes.extend(judge_notes);
    }
    // What each answer's caps held back or cut (see crate::finding::MAX_FINDINGS).
    for run in input.runs {
        for n in run.answer.iter().flat_map(|a| &a.notes) {
            review.notes.push(format!("{}: {n}", run.name));
        }
    }
    // Every string of the review masked once, before anything renders or writes it.
    crate::secrets::mask_value(review)
}

/// A judge that ran but whose answer could not be used: its column and a note, nothing else.
pub fn add_failed_judge(review: &mut Review, run: &AgentRun, why: &str) {
    let mut col = agent_column(run, &[]);
    col.role = Role::Judge;
    col.retro = match &run.outcome {
        Outcome::Ok => format!("Answered, but its answer was ignored: {why}."),
        Outcome::Failed { .. } => retro_paragraph(&col, &[]),
    };
    review.agents.push(col);
    review.notes.push(crate::secrets::redact_text(&format!(
        "Judge {}: {why}; the deterministic review stands.",
        run.name
    )));
}

/// Assigns IDs (`C1.. I1.. S1..` reported by severity, then agreement, then place; `H..`
/// held back; `D..` dropped) and returns the findings' display order.
fn number(findings: &mut [ConsolidatedFinding]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        status_rank(fa.status)
            .cmp(&status_rank(fb.status))
            .then(fb.severity.cmp(&fa.severity))
            .then(fb.agreement.cmp(&fa.agreement))
            .then(first_place(fa).cmp(&first_place(fb)))
            .then(fa.title.cmp(&fb.title))
    });
    let mut counters: HashMap<char, u32> = HashMap::new();
    for &i in &order {
        let f = &mut findings[i];
        let letter = match f.status {
            Status::Reported => f.severity.letter(),
            Status::HeldBack => 'H',
            Status::Dropped => 'D',
        };
        let n = counters.entry(letter).or_insert(0);
        *n += 1;
        f.id = format!("{letter}{n}");
    }
    order
}

/// Applies the judge's merges and splits to the clusters. Returns the new clusters and, for
/// each, the ID it had before (None for a group split off), so calibrations and refutations
/// given by ID land on the right finding.
fn restructure(
    j: &crate::judge::JudgeAnswer,
    clusters: &[Vec<usize>],
    ids: &[String],
    items: &[Item],
) -> (Vec<Vec<usize>>, Vec<Option<String>>) {
    let mut clusters: Vec<Vec<usize>> = clusters.to_vec();
    let mut origins: Vec<Option<String>> = ids.iter().cloned().map(Some).collect();
    let index_of = |id: &str| ids.iter().position(|x| x == id);
    for m in &j.merges {
        let idx: Vec<usize> = m.findings.iter().filter_map(|f| index_of(f)).collect();
        if let Some((&first, rest)) = idx.split_first() {
            for &other in rest {
                if other != first {
                    let moved = std::mem::take(&mut clusters[other]);
                    clusters[first].extend(moved);
                }
            }
        }
    }
    for sp in &j.splits {
        let Some(ci) = index_of(&sp.finding) else {
            continue;
        };
        // The first group keeps the ID; each further group becomes its own finding.
        for group in sp.groups.iter().skip(1) {
            let members: Vec<usize> = clusters[ci]
                .iter()
                .copied()
                .filter(|&i| {
                    group
                        .iter()
                        .any(|m| m.agent == items[i].agent && m.index == items[i].index)
                })
                .collect();
            if members.is_empty() || members.len() == clusters[ci].len() {
                continue;
            }
            clusters[ci].retain(|i| !members.contains(i));
            clusters.push(members);
            origins.push(None);
        }
    }
    let keep: Vec<bool> = clusters.iter().map(|c| !c.is_empty()).collect();
    let clusters = clusters
        .into_iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| c)
        .collect();
    let origins = origins
        .into_iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(o, _)| o)
        .collect();
    (clusters, origins)
}

fn status_rank(s: Status) -> u8 {
    match s {
        Status::Reported => 0,
        Status::HeldBack => 1,
        Status::Dropped => 2,
    }
}

/// Sort key for IDs: C < I < S < H < D, then number.
fn id_key(id: &str) -> (u8, u32) {
    let letter = id.chars().next().unwrap_or('Z');
    let rank = match letter {
        'C' => 0,
        'I' => 1,
        'S' => 2,
        'H' => 3,
        'D' => 4,
        _ => 5,
    };
    (rank, id[1..].parse().unwrap_or(0))
}

fn first_place(f: &ConsolidatedFinding) -> (String, u32) {
    f.locations
        .iter()
        .find(|l| l.verified)
        .or(f.locations.first())
        .map(|l| (l.path.clone(), l.start_line))
        .unwrap_or_else(|| ("~".to_string(), u32::MAX))
}

// ---------------------------------------------------------------------------------------
// Citations.

fn normalize_ws(s: &str) -> String {
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

fn clean_path(p: &str) -> String {
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
    let mut lines = tree.read_lines(&out.path);
    if lines == Err(crate::tree_guard::Refusal::Missing) {
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
    let lines = match lines {
        Ok(lines) => lines,
        Err(crate::tree_guard::Refusal::Missing) => {
            out.note = Some(format!("`{}` does not exist in the head tree", out.path));
            return out;
        }
        Err(why) => {
            out.note = Some(format!("invalid citation: `{}` {why}", out.path));
            return out;
        }
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
        if !q.trim().is_empty() && !quote_matches(&lines[(out.start_line - 1) as usize], q) {
            // Search outward, nearest first.
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
                }
                None => {
                    out.note = Some(format!(
                        "the quoted code is not at line {} of `{}` nor within {window} lines of it",
                        out.start_line, out.path
                    ));
                    return out;
                }
            }
        }
    }
    out.verified = true;
    out.excerpt = Some(excerpt(&lines, out.start_line, out.end_line));
    out
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

// ---------------------------------------------------------------------------------------
// Text similarity.

/// A sparse, L2-normalised TF-IDF vector sorted by term id, with each term's IDF kept for
/// the overlap measure.
#[derive(Debug, Clone, Default)]
pub struct SparseVec {
    /// (term id, normalised TF-IDF weight), sorted by term id.
    weights: Vec<(u32, f32)>,
    /// Each term's IDF, parallel to `weights`.
    idf: Vec<f32>,
    /// The sum of `idf`.
    idf_total: f32,
}

impl SparseVec {
    /// One walk over both sorted term lists: the dot product of the weights, and the IDF of
    /// the shared terms.
    fn shared(&self, other: &SparseVec) -> (f64, f64) {
        let (a, b) = (&self.weights, &other.weights);
        let (mut i, mut j) = (0, 0);
        let (mut dot, mut shared) = (0.0f64, 0.0f64);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += f64::from(a[i].1) * f64::from(b[j].1);
                    shared += f64::from(self.idf[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        (dot, shared)
    }

    fn overlap_of(&self, other: &SparseVec, shared: f64) -> f64 {
        let smaller = f64::from(self.idf_total.min(other.idf_total));
        if smaller > 0.0 {
            shared / smaller
        } else {
            0.0
        }
    }

    /// The IDF-weighted overlap coefficient: the weight of the shared terms over the weight
    /// of the smaller text. Unlike the cosine, a terse finding is not penalised for being
    /// terse: "forEach(async) not awaited in X" is wholly contained in a long explanation
    /// of the same bug.
    pub fn overlap(&self, other: &SparseVec) -> f64 {
        self.overlap_of(other, self.shared(other).1)
    }

    /// The similarity used for clustering: the mean of the cosine (are the two texts about
    /// the same things overall) and the overlap (is the shorter one contained in the longer).
    pub fn similarity(&self, other: &SparseVec) -> f64 {
        let (dot, shared) = self.shared(other);
        0.5 * dot + 0.5 * self.overlap_of(other, shared)
    }

    pub fn cosine(&self, other: &SparseVec) -> f64 {
        self.shared(other).0
    }

    pub fn terms(&self) -> impl Iterator<Item = u32> + '_ {
        self.weights.iter().map(|(t, _)| *t)
    }
}

const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "that",
    "this",
    "with",
    "from",
    "are",
    "was",
    "were",
    "will",
    "would",
    "can",
    "could",
    "should",
    "may",
    "might",
    "not",
    "but",
    "when",
    "which",
    "what",
    "where",
    "into",
    "onto",
    "than",
    "then",
    "there",
    "their",
    "they",
    "them",
    "its",
    "has",
    "have",
    "had",
    "been",
    "being",
    "also",
    "any",
    "all",
    "only",
    "more",
    "most",
    "some",
    "such",
    "does",
    "did",
    "doing",
    "how",
    "why",
    "who",
    "whom",
    "each",
    "other",
    "use",
    "uses",
    "used",
    "using",
    "via",
    "about",
    "after",
    "before",
    "because",
    "while",
    "just",
    "like",
    "one",
    "two",
    "new",
    "code",
    "line",
    "lines",
    "file",
    "files",
    "function",
    "method",
    "value",
    "values",
    "call",
    "calls",
    "called",
    "issue",
    "problem",
    "potential",
    "possible",
    "possibly",
    "instead",
    "ensure",
    "consider",
    "need",
    "needs",
    "make",
    "makes",
    "made",
    "cause",
    "causes",
    "causing",
    "lead",
    "leads",
    "leading",
    "result",
    "results",
    "resulting",
    "without",
    "within",
    "your",
    "you",
    "our",
    "here",
    "these",
    "those",
    "both",
    "same",
    "still",
    "even",
    "very",
    "over",
    "under",
];

fn stem(w: &str) -> String {
    for suffix in ["ingly", "edly", "ing", "ies", "ed", "es", "ly", "s"] {
        if let Some(base) = w.strip_suffix(suffix) {
            if base.len() >= 4 {
                return if suffix == "ies" {
                    format!("{base}y")
                } else {
                    base.to_string()
                };
            }
        }
    }
    w.to_string()
}

/// Terms of a text: stemmed words, plus identifiers (snake_case, camelCase, dotted,
/// backticked) kept whole and weighted up, since a shared identifier is strong evidence.
pub fn terms(text: &str) -> Vec<(String, f32)> {
    let mut out: Vec<(String, f32)> = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || "()[]{}<>,;:'\"!?=|*+&^%$#@~".contains(c))
    {
        let token = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        if token.is_empty() {
            continue;
        }
        let is_ident = token.contains('_')
            || token.contains("::")
            || (token.contains('.')
                && token.chars().any(|c| c.is_alphabetic())
                && !token.ends_with('.'))
            || token.chars().skip(1).any(|c| c.is_uppercase())
                && token.chars().any(|c| c.is_lowercase());
        if is_ident && token.len() >= 3 {
            out.push((format!("#{}", token.to_lowercase()), 2.0));
        }
        for word in token.split(|c: char| !c.is_alphanumeric()) {
            for part in split_camel(word) {
                let lower = part.to_lowercase();
                if lower.len() < 3 || lower.chars().all(|c| c.is_ascii_digit()) {
                    continue;
                }
                if STOPWORDS.contains(&lower.as_str()) {
                    continue;
                }
                out.push((stem(&lower), 1.0));
            }
        }
    }
    out
}

fn split_camel(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    for w in 1..chars.len() {
        let (i, c) = chars[w];
        let prev = chars[w - 1].1;
        if c.is_uppercase() && prev.is_lowercase() {
            parts.push(&word[start..i]);
            start = i;
        }
    }
    parts.push(&word[start..]);
    parts
}

/// TF-IDF vectors (sublinear tf, smoothed idf), L2-normalised.
pub fn tfidf(texts: &[String]) -> Vec<SparseVec> {
    let mut vocab: HashMap<String, u32> = HashMap::new();
    let docs: Vec<HashMap<u32, f32>> = texts
        .iter()
        .map(|t| {
            let mut tf: HashMap<u32, f32> = HashMap::new();
            for (term, w) in terms(t) {
                let next = vocab.len() as u32;
                let id = *vocab.entry(term).or_insert(next);
                *tf.entry(id).or_insert(0.0) += w;
            }
            tf
        })
        .collect();
    let mut df = vec![0u32; vocab.len()];
    for d in &docs {
        for &id in d.keys() {
            df[id as usize] += 1;
        }
    }
    let n = texts.len() as f32;
    docs.into_iter()
        .map(|d| {
            let idf_of = |id: u32| ((n + 1.0) / (df[id as usize] as f32 + 1.0)).ln() + 1.0;
            let mut v: Vec<(u32, f32)> = d
                .into_iter()
                .map(|(id, tf)| (id, (1.0 + tf.ln()) * idf_of(id)))
                .collect();
            let norm: f32 = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            if norm > 0.0 {
                for (_, w) in &mut v {
                    *w /= norm;
                }
            }
            v.sort_by_key(|(id, _)| *id);
            let idf: Vec<f32> = v.iter().map(|(id, _)| idf_of(*id)).collect();
            let total = idf.iter().sum();
            SparseVec {
                weights: v,
                idf,
                idf_total: total,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Clustering.

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
fn link(a: &Item, b: &Item, opts: &Options) -> f64 {
    let cos = a.vector.similarity(&b.vector);
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

/// Average-linkage agglomerative clustering over candidate pairs, greedy by best link.
fn cluster(items: &[Item], opts: &Options) -> Vec<Vec<usize>> {
    let n = items.len();
    // Candidate pairs share a term; others cannot reach the threshold (location alone never
    // merges). A term found in a large share of all findings says nothing and is skipped.
    let mut by_term: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if it.unverifiable {
            continue;
        }
        for t in it.vector.terms() {
            by_term.entry(t).or_default().push(i as u32);
        }
    }
    let max_posting = 400.max(n / 20);
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
                            let (i, j) = ((key >> 32) as u32, key as u32);
                            let s = link(&items[i as usize], &items[j as usize], opts);
                            (s >= opts.merge_threshold).then_some((i, j, s))
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
            .map(|(x, y)| link(&items[x], &items[y], opts))
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

// ---------------------------------------------------------------------------------------
// Severity and status.

/// Chooses the cluster's severity and says why.
pub fn vote(by_agent: &[(&str, Severity)], policy: SeverityPolicy) -> (Severity, String) {
    let max = by_agent
        .iter()
        .map(|(_, s)| *s)
        .max()
        .unwrap_or(Severity::Suggestion);
    let min = by_agent
        .iter()
        .map(|(_, s)| *s)
        .min()
        .unwrap_or(Severity::Suggestion);
    let given = by_agent
        .iter()
        .map(|(a, s)| format!("{a}: {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    if max == min {
        let who = if by_agent.len() == 1 {
            format!("Reported as {max} by {}", by_agent[0].0)
        } else {
            format!("All {} agents gave {max}", by_agent.len())
        };
        return (max, format!("{who}; kept."));
    }
    match policy {
        SeverityPolicy::Highest => (
            max,
            format!("{given}: the highest severity is kept (policy `highest`)."),
        ),
        SeverityPolicy::Lowest => (
            min,
            format!("{given}: the lowest severity is kept (policy `lowest`)."),
        ),
        SeverityPolicy::Vote => {
            let mut best = Severity::Suggestion;
            let mut best_n = 0;
            for s in [
                Severity::Suggestion,
                Severity::Important,
                Severity::Critical,
            ] {
                let n = by_agent.iter().filter(|(_, x)| *x == s).count();
                // Strictly more votes to move up: ties go to the lower severity.
                if n > best_n {
                    best = s;
                    best_n = n;
                }
            }
            let tie = [
                Severity::Suggestion,
                Severity::Important,
                Severity::Critical,
            ]
            .iter()
            .filter(|s| **s != best)
            .any(|s| by_agent.iter().filter(|(_, x)| x == s).count() == best_n);
            let why = if tie {
                format!("{given}: the vote is tied, and ties go to the lower severity, {best}.")
            } else {
                format!(
                    "{given}: {best} has the most votes ({best_n} of {}).",
                    by_agent.len()
                )
            };
            (best, why)
        }
    }
}

/// The reporting policy. Given a cluster that was not dropped:
/// - at least `min_agreement` agents agree ([`Options::min_agreement`]: two, or a quarter of
///   the reviewers that answered when more than eight did): reported;
/// - critical or important with a verified citation (or, with no repository to verify
///   against, with a citation given): reported, even from one agent;
/// - a suggestion with a verified citation and confidence of at least 0.5: reported;
/// - anything else (too little agreement and no verifiable location, or low confidence):
///   held back.
pub fn report_status(
    severity: Severity,
    agreement: usize,
    min_agreement: usize,
    verified: bool,
    cited: bool,
    confidence: Option<f64>,
) -> Status {
    if agreement >= min_agreement {
        return Status::Reported;
    }
    let confident = confidence.map(|c| c >= 0.5).unwrap_or(true);
    match severity {
        Severity::Critical | Severity::Important if verified || cited => Status::Reported,
        Severity::Suggestion if verified && confident => Status::Reported,
        _ => Status::HeldBack,
    }
}

/// Whether some member's citation was verified, and whether some member cites code that can
/// be relied on: a verified citation, or any citation when there is no tree to check.
fn evidence<'a>(members: impl Iterator<Item = &'a Item<'a>>) -> (bool, bool) {
    members.fold((false, false), |(verified, cited), m| {
        (
            verified || m.usable.iter().any(|l| l.verified),
            cited || !m.usable.is_empty(),
        )
    })
}

fn build_finding(
    members: &[&Item],
    opts: &Options,
    dropped: bool,
    min_agreement: usize,
) -> ConsolidatedFinding {
    let mut by_agent: Vec<(&str, Severity)> = Vec::new();
    for m in members {
        match by_agent.iter_mut().find(|(a, _)| *a == m.agent) {
            Some((_, s)) => *s = (*s).max(m.finding.severity),
            None => by_agent.push((m.agent, m.finding.severity)),
        }
    }
    let (severity, calibration) = vote(&by_agent, opts.severity_policy);
    // The representative: a member at the chosen severity, most confident, most explained.
    let rep = members
        .iter()
        .max_by(|a, b| {
            (a.finding.severity == severity)
                .cmp(&(b.finding.severity == severity))
                .then(
                    a.finding
                        .confidence
                        .unwrap_or(0.5)
                        .total_cmp(&b.finding.confidence.unwrap_or(0.5)),
                )
                .then(a.finding.body.len().cmp(&b.finding.body.len()))
                .then(b.agent.cmp(a.agent))
        })
        .expect("a cluster has members");
    // Verified citations first (the representative's, then the others'), then, marked as
    // such, the citations that could not be verified: a partly valid finding says which part.
    let mut locations: Vec<VerifiedLocation> = Vec::new();
    let mut add = |l: &VerifiedLocation| {
        let dup = locations
            .iter()
            .any(|x| x.path == l.path && x.start_line <= l.end_line && l.start_line <= x.end_line);
        if !dup {
            locations.push(l.clone());
        }
    };
    for m in std::iter::once(rep).chain(members.iter()) {
        let cited = if dropped { &m.locations } else { &m.usable };
        cited.iter().for_each(&mut add);
    }
    if !dropped {
        for m in members {
            m.locations
                .iter()
                .filter(|l| !m.usable.contains(l))
                .for_each(&mut add);
        }
    }
    let (verified, cited) = evidence(members.iter().copied());
    let agreement = by_agent.len();
    let confidence = members
        .iter()
        .filter_map(|m| m.finding.confidence)
        .fold(None, |acc: Option<f64>, c| {
            Some(acc.map_or(c, |a| a.max(c)))
        });
    let (status, drop_reason) = if dropped {
        let why: Vec<String> = members
            .iter()
            .flat_map(|m| m.locations.iter().filter_map(|l| l.note.clone()))
            .collect();
        (
            Status::Dropped,
            Some(format!("unverifiable: {}", why.join("; "))),
        )
    } else {
        (
            report_status(
                severity,
                agreement,
                min_agreement,
                verified,
                cited,
                confidence,
            ),
            None,
        )
    };
    let fix = rep
        .finding
        .fix
        .clone()
        .or_else(|| members.iter().find_map(|m| m.finding.fix.clone()));
    let mut ms: Vec<Member> = members
        .iter()
        .map(|m| Member {
            agent: m.agent.to_string(),
            index: m.index,
            severity: m.finding.severity,
            title: crate::secrets::redact_text(&m.finding.title),
        })
        .collect();
    ms.sort_by(|a, b| a.agent.cmp(&b.agent).then(a.index.cmp(&b.index)));
    ConsolidatedFinding {
        id: String::new(),
        severity,
        // An agent may quote a credential it saw; it goes no further than its own transcript.
        title: crate::secrets::redact_text(&rep.finding.title),
        body: crate::secrets::redact_text(&rep.finding.body),
        fix: fix.map(|f| crate::secrets::redact_text(&f)),
        category: rep.finding.category.clone(),
        scope: rep.finding.scope,
        confidence,
        locations,
        members: ms,
        agreement,
        status,
        drop_reason,
        calibration,
    }
}

/// Why there is no verdict, when no model reviewer answered: the builtin checks find only
/// what a pattern can, so their silence is no reason to merge.
fn no_verdict_reason(runs: &[AgentRun]) -> Option<String> {
    let models: Vec<&AgentRun> = runs
        .iter()
        .filter(|r| r.kind != crate::record::AgentKind::Builtin)
        .collect();
    if models
        .iter()
        .any(|r| r.outcome.is_ok() && r.answer.is_some())
    {
        return None;
    }
    let builtin = runs
        .iter()
        .any(|r| r.kind == crate::record::AgentKind::Builtin && r.outcome.is_ok());
    let ran = if models.is_empty() {
        "no model reviewer ran".to_string()
    } else {
        let names: Vec<&str> = models.iter().map(|r| r.name.as_str()).collect();
        format!("no model reviewer answered ({} failed)", names.join(", "))
    };
    let rest = if builtin {
        "only the builtin checks did, and they cannot judge the change as a whole"
    } else {
        "nothing reviewed the change"
    };
    Some(format!("{ran}; {rest}."))
}

fn derive_verdict(findings: &[ConsolidatedFinding]) -> Verdict {
    let reported = findings.iter().filter(|f| f.status == Status::Reported);
    match reported.map(|f| f.severity).max() {
        Some(Severity::Critical) => Verdict::DoNotMerge,
        Some(Severity::Important) => Verdict::MergeWithFixes,
        _ => Verdict::Merge,
    }
}

fn verdict_rationale(v: Verdict, findings: &[ConsolidatedFinding]) -> String {
    let list = |s: Severity| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.status == Status::Reported && f.severity == s)
            .map(|f| format!("{} {}", f.id, f.title))
            .collect()
    };
    match v {
        Verdict::DoNotMerge => format!(
            "critical findings must be resolved first: {}.",
            list(Severity::Critical).join("; ")
        ),
        Verdict::MergeWithFixes => format!(
            "no critical findings, but important ones should be fixed before merging: {}.",
            list(Severity::Important).join("; ")
        ),
        Verdict::Merge => {
            let s = list(Severity::Suggestion).len();
            if s == 0 {
                "no reviewer reported a problem that survived consolidation.".to_string()
            } else {
                format!(
                    "no critical or important findings; {s} suggestion{} to consider.",
                    if s == 1 { "" } else { "s" }
                )
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Observations, assessments, context updates.

fn consolidate_observations(
    answered: &[&AgentRun],
    tree: Option<&dyn HeadTree>,
    opts: &Options,
) -> Vec<ConsolidatedObservation> {
    let mut raw = Vec::new();
    for r in answered {
        if let Some(a) = &r.answer {
            for o in &a.observations {
                raw.push((r.name.as_str(), o));
            }
        }
    }
    let texts: Vec<String> = raw
        .iter()
        .map(|(_, o)| format!("{}\n{}", o.title, o.body))
        .collect();
    let vecs = tfidf(&texts);
    let mut out: Vec<(ConsolidatedObservation, usize)> = Vec::new();
    for (i, (agent, o)) in raw.iter().enumerate() {
        let hit = out.iter_mut().find(|(c, rep)| {
            // One agent's observations are distinct by construction; only others' can repeat them.
            c.kind == o.kind
                && !c.agents.iter().any(|a| a == agent)
                && vecs[*rep].cosine(&vecs[i]) >= 0.5
        });
        match hit {
            Some((c, _)) => {
                if !c.agents.iter().any(|a| a == agent) {
                    c.agents.push(agent.to_string());
                }
            }
            None => out.push((
                ConsolidatedObservation {
                    kind: o.kind,
                    title: o.title.clone(),
                    body: o.body.clone(),
                    scope: o.scope,
                    locations: o
                        .locations
                        .iter()
                        .map(|l| verify(l, tree, opts.relocate_window))
                        .filter(|l| l.verified || tree.is_none())
                        .collect(),
                    agents: vec![agent.to_string()],
                },
                i,
            )),
        }
    }
    out.into_iter().map(|(c, _)| c).collect()
}

fn collect_assessments(answered: &[&AgentRun]) -> AssessmentSet {
    let mut set = AssessmentSet::default();
    for r in answered {
        let Some(a) = &r.answer else { continue };
        let push = |v: &mut Vec<Attributed>, t: &Option<String>| {
            if let Some(t) = t {
                if !t.trim().is_empty() {
                    v.push(Attributed {
                        agent: r.name.clone(),
                        text: t.trim().to_string(),
                    });
                }
            }
        };
        push(&mut set.testing, &a.assessments.testing);
        push(&mut set.documentation, &a.assessments.documentation);
        push(&mut set.commits, &a.assessments.commits);
    }
    set
}

fn collect_context_updates(answered: &[&AgentRun]) -> Vec<AttributedContextUpdate> {
    let mut out: Vec<AttributedContextUpdate> = Vec::new();
    for r in answered {
        let Some(a) = &r.answer else { continue };
        for u in &a.context_updates {
            let key = normalize_ws(&u.note).to_lowercase();
            match out
                .iter_mut()
                .find(|x| x.action == u.action && normalize_ws(&x.note).to_lowercase() == key)
            {
                Some(x) => {
                    if !x.agents.contains(&r.name) {
                        x.agents.push(r.name.clone());
                    }
                }
                None => out.push(AttributedContextUpdate {
                    action: u.action,
                    note: u.note.clone(),
                    why: u.why.clone(),
                    agents: vec![r.name.clone()],
                }),
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Metrics and prose.

fn agent_column(run: &AgentRun, findings: &[ConsolidatedFinding]) -> AgentColumn {
    let mut m = Metrics {
        duration_ms: run.stats.duration_ms,
        tool_calls: run.stats.total_tool_calls(),
        tool_calls_by_name: run.stats.tool_calls.clone(),
        files_reviewed: run.stats.files_read.len() as u32,
        tokens: run.stats.tokens.clone(),
        cost_usd: run.stats.cost_usd,
        budget: run.stats.budget.clone(),
        ..Metrics::default()
    };
    if let Some(a) = &run.answer {
        for f in &a.findings {
            m.findings.add(f.severity);
        }
        m.observations = a.observations.len() as u32;
    }
    let ok = run.outcome.is_ok();
    for f in findings {
        let mine: Vec<&Member> = f.members.iter().filter(|x| x.agent == run.name).collect();
        if mine.is_empty() {
            if ok && f.status == Status::Reported && f.severity >= Severity::Important {
                m.coverage_misses += 1;
            }
            continue;
        }
        match f.status {
            Status::Dropped => {
                m.false_positives += mine.len() as u32;
                m.dropped += mine.len() as u32;
            }
            Status::Reported | Status::HeldBack => {
                let given = mine.iter().map(|x| x.severity).max().unwrap_or(f.severity);
                if given > f.severity {
                    m.downgraded += 1;
                } else if given < f.severity {
                    m.upgraded += 1;
                }
                if f.status == Status::Reported {
                    m.totals.add(f.severity);
                    if f.agreement == 1 {
                        m.unique_insights += 1;
                    }
                }
            }
        }
    }
    AgentColumn {
        name: run.name.clone(),
        role: Role::Reviewer,
        kind: run.kind,
        model: run.model.clone(),
        effort: run.effort.clone(),
        display: run.display(),
        outcome: run.outcome.clone(),
        metrics: m,
        summary: run
            .answer
            .as_ref()
            .map(|a| a.summary.clone())
            .filter(|s| !s.is_empty()),
        verdict: run.answer.as_ref().and_then(|a| a.verdict),
        stderr_tail: run.stderr_tail.clone(),
        stdout_path: run.stdout_path.as_ref().map(|p| p.display().to_string()),
        stderr_path: run.stderr_path.as_ref().map(|p| p.display().to_string()),
        retro: String::new(),
    }
}

/// The deterministic retro paragraph for one agent, built from its metrics.
pub fn retro_paragraph(a: &AgentColumn, findings: &[ConsolidatedFinding]) -> String {
    let dur = crate::util::human_duration(std::time::Duration::from_millis(a.metrics.duration_ms));
    if let Outcome::Failed {
        kind,
        message,
        hint,
    } = &a.outcome
    {
        return format!(
            "Did not answer ({}): {message}. To fix: {hint}.",
            kind.label()
        );
    }
    let m = &a.metrics;
    let mut s = format!(
        "Answered in {dur} with {} finding{} ({})",
        m.findings.total(),
        if m.findings.total() == 1 { "" } else { "s" },
        m.findings.short()
    );
    if m.tool_calls > 0 {
        s.push_str(&format!(
            " after {} tool call{}",
            m.tool_calls,
            if m.tool_calls == 1 { "" } else { "s" }
        ));
    }
    s.push('.');
    let ids = |pred: &dyn Fn(&ConsolidatedFinding) -> bool| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.status == Status::Reported && pred(f))
            .map(|f| f.id.clone())
            .collect()
    };
    let unique = ids(&|f| f.agreement == 1 && f.members.iter().any(|x| x.agent == a.name));
    if !unique.is_empty() {
        s.push_str(&format!(" Only it found {}.", unique.join(", ")));
    }
    let shared = ids(&|f| f.agreement > 1 && f.members.iter().any(|x| x.agent == a.name));
    if !shared.is_empty() {
        s.push_str(&format!(" Confirmed by others: {}.", shared.join(", ")));
    }
    let missed =
        ids(&|f| f.severity >= Severity::Important && !f.members.iter().any(|x| x.agent == a.name));
    if !missed.is_empty() {
        s.push_str(&format!(" Missed {}.", missed.join(", ")));
    }
    if m.downgraded + m.upgraded > 0 {
        s.push_str(&format!(
            " Severity changed by consolidation: {} downgraded, {} upgraded.",
            m.downgraded, m.upgraded
        ));
    }
    if m.false_positives > 0 {
        s.push_str(&format!(
            " {} finding{} dropped because the cited code does not exist.",
            m.false_positives,
            if m.false_positives == 1 {
                " was"
            } else {
                "s were"
            }
        ));
    }
    s
}

fn executive_summary(r: &Review) -> String {
    let answered: Vec<&AgentColumn> = r.agents.iter().filter(|a| a.outcome.is_ok()).collect();
    let failed: Vec<&AgentColumn> = r.agents.iter().filter(|a| !a.outcome.is_ok()).collect();
    let c = r.counts();
    let raw: u32 = r.agents.iter().map(|a| a.metrics.findings.total()).sum();
    let held = r
        .findings
        .iter()
        .filter(|f| f.status == Status::HeldBack)
        .count();
    let dropped = r
        .findings
        .iter()
        .filter(|f| f.status == Status::Dropped)
        .count();
    let mut s = format!(
        "{} of {} reviewer{} answered ({}). They reported {raw} finding{}, consolidated into {} critical, {} important and {} suggestion{}",
        answered.len(),
        r.agents.len(),
        if r.agents.len() == 1 { "" } else { "s" },
        answered.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
        if raw == 1 { "" } else { "s" },
        c.critical,
        c.important,
        c.suggestion,
        if c.suggestion == 1 { "" } else { "s" },
    );
    let mut extra = Vec::new();
    if held > 0 {
        extra.push(format!("{held} held back for lack of support"));
    }
    if dropped > 0 {
        extra.push(format!("{dropped} dropped as unverifiable"));
    }
    if !extra.is_empty() {
        s.push_str(&format!(" ({})", extra.join(", ")));
    }
    s.push('.');
    if !failed.is_empty() {
        let f: Vec<String> = failed
            .iter()
            .map(|a| match &a.outcome {
                Outcome::Failed { kind, .. } => format!("{} ({})", a.name, kind.label()),
                Outcome::Ok => a.name.clone(),
            })
            .collect();
        s.push_str(&format!(" Did not answer: {}.", f.join(", ")));
    }
    if r.partial {
        s.push_str(" The review was interrupted: this is what had arrived by then.");
    }
    let top: Vec<String> = r
        .reported()
        .filter(|f| f.severity >= Severity::Important)
        .map(|f| {
            let place = f
                .locations
                .iter()
                .find(|l| l.verified)
                .map(|l| format!(" (`{}:{}`)", l.path, l.start_line))
                .unwrap_or_default();
            format!("- **{}** {}{place}", f.id, f.title)
        })
        .collect();
    if !top.is_empty() {
        s.push_str("\n\nWhat needs attention before merging:\n\n");
        s.push_str(&top.join("\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vote_ties_go_lower_and_majority_wins() {
        let (s, why) = vote(
            &[
                ("codex", Severity::Important),
                ("gemini", Severity::Critical),
            ],
            SeverityPolicy::Vote,
        );
        assert_eq!(s, Severity::Important);
        assert!(why.contains("tied"), "{why}");
        let (s, _) = vote(
            &[
                ("a", Severity::Critical),
                ("b", Severity::Critical),
                ("c", Severity::Suggestion),
            ],
            SeverityPolicy::Vote,
        );
        assert_eq!(s, Severity::Critical);
        let (s, _) = vote(
            &[("a", Severity::Critical), ("b", Severity::Suggestion)],
            SeverityPolicy::Highest,
        );
        assert_eq!(s, Severity::Critical);
    }

    #[test]
    fn similar_texts_score_higher_than_different_ones() {
        let v = tfidf(&[
            "Data race on `a.client` read without clientMu in watchGuestAgentEvents".to_string(),
            "Unprotected read of a.client races with getOrCreateClient setting it to nil"
                .to_string(),
            "Missing documentation for the new Close method".to_string(),
        ]);
        assert!(v[0].cosine(&v[1]) > v[0].cosine(&v[2]));
        assert!(v[0].cosine(&v[2]) < 0.1);
    }

    #[test]
    fn reporting_policy() {
        let st = report_status;
        assert_eq!(
            st(Severity::Important, 1, 2, true, true, None),
            Status::Reported
        );
        assert_eq!(
            st(Severity::Important, 1, 2, false, false, None),
            Status::HeldBack
        );
        assert_eq!(
            st(Severity::Suggestion, 2, 2, false, false, None),
            Status::Reported
        );
        assert_eq!(
            st(Severity::Suggestion, 2, 3, false, false, None),
            Status::HeldBack
        );
        assert_eq!(
            st(Severity::Suggestion, 1, 2, true, true, Some(0.2)),
            Status::HeldBack
        );
        let o = Options::default();
        let m: Vec<usize> = [2, 3, 6, 7, 12]
            .iter()
            .map(|&n| o.min_agreement(n))
            .collect();
        assert_eq!(m, vec![2, 2, 2, 3, 4]);
    }
}
