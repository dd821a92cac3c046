//! Consolidation: many agents' answers in, one [`Review`] out. Deterministic and fast.
//!
//! One file per step, each a function over plain data, run in order by [`consolidate`]
//! (`pipeline.rs`):
//! 1. **Verify** (`verify.rs`) every citation against the head tree: the file exists, the
//!    lines exist, the quoted text matches (a quote found a few lines away relocates the
//!    citation). A finding whose every citation is invalid is dropped and counts as a false
//!    positive.
//! 2. **Cluster** (`cluster.rs`, over `similarity.rs`) findings that describe the same
//!    problem, across agents and within one: location (same file, overlapping or nearby
//!    lines) and words (TF-IDF cosine over title and body, identifiers weighted up) together
//!    decide; lines alone never merge two findings, so two problems at the same lines stay
//!    apart.
//! 3. **Vote** (`vote.rs`) a severity per cluster (see [`SeverityPolicy`]), decide what is
//!    reported and what is held back (see [`report_status`]), and log every change of an
//!    agent's severity as a [`Reconciliation`](crate::review::Reconciliation) entry.
//! 4. **Number** (`number.rs`) reported findings `C1.. I1.. S1..` by severity, then
//!    agreement, then place. The judge's edits (`judge_edits.rs`) apply here, by the IDs the
//!    judge saw, and the findings are numbered anew.
//!    Each finding then takes its committable fix (`replacement.rs`): the highest-severity
//!    member's replacement that applies to the head text inside one hunk of the diff.
//! 5. **Lifecycle** (`lifecycle.rs`): matching findings across rounds (new, still open,
//!    fixed, withdrawn), by fingerprint, then by similarity. Applied by the round
//!    (`crate::round`), which holds the previous round's review, once the IDs are final
//!    (after the judge too); it changes nothing that the later steps read.
//! 6. **Measure** (`metrics.rs`) each agent: the retro table and the retro paragraph.
//! 7. **Verdict** (`verdict.rs`) from the reported findings, and the executive summary
//!    (`summary.rs`).
//!
//! Observations, assessments and context updates are merged and attributed in
//! `observations.rs`; the knobs are in `options.rs`. Nothing here runs an agent, touches the
//! network or prints.
//!
//! [`Review`]: crate::review::Review

mod cluster;
#[cfg(test)]
mod fixtures;
mod judge_edits;
pub mod lifecycle;
mod metrics;
mod number;
mod observations;
mod options;
mod pipeline;
mod replacement;
mod similarity;
mod summary;
mod verdict;
mod verify;
mod vote;

pub use crate::tree_guard::HeadTree;
pub use judge_edits::add_failed_judge;
pub use metrics::retro_paragraph;
pub use options::Options;
pub use options::SeverityPolicy;
pub use pipeline::consolidate;
pub use pipeline::Input;
pub use pipeline::JudgeInput;
pub use similarity::terms;
pub use similarity::tfidf;
pub use similarity::SparseVec;
pub use verify::verify;
pub use vote::report_status;
pub use vote::vote;
