//! One request publishing makes, exactly as sent: what `--dry-run` prints and what
//! [`super::post`] sends are the same values.

use serde::Serialize;

/// What a request is for, which says how [`super::post`] reads its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A review with the inline comments: the summary's own on a first post, a short note's
    /// on a later round (whose summary is edited in place).
    Review,
    /// The summary edited in place.
    Summary,
    /// Resolving one of our threads (the `ThreadAction` at this index of `resolve`).
    Resolve(usize),
    /// The `deep-review` check run created or updated, with the first annotations.
    CheckRun,
    /// More annotations on that check run (50 a request); the path names the check run as
    /// [`CHECK_RUN_ID`] until it exists.
    CheckAnnotations,
}

/// Stands for the id of the check run being created, in the paths of the requests after it.
pub const CHECK_RUN_ID: &str = "{check_run_id}";

/// One request publishing makes, exactly as sent.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub body: serde_json::Value,
    #[serde(skip)]
    pub step: Step,
}
