//! `deep-review eval`: scores consolidation on a labelled benchmark of many reviewers'
//! findings (the format of `shared/eval/martian-dev.json`; see its README), on the whole
//! dataset and on each repository in it as a fold, and tunes the consolidation knobs on one
//! fold to report them on the others.

mod dataset;
mod report;
mod score;
mod tune;

pub use dataset::Dataset;
pub use dataset::Fold;
pub use dataset::Pr;
pub use report::render;
pub use report::score;
pub use report::Plan;
pub use report::Tune;
pub use score::evaluate;
pub use score::single_tool;
pub use score::Knobs;
pub use score::Prf;
pub use score::Scores;
pub use score::Tuning;
pub use tune::AGREEMENT_GRID;
pub use tune::MERGE_GRID;
