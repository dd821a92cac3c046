//! One request publishing makes, exactly as sent: what `--dry-run` prints and what
//! [`super::post`] sends are the same values.

use serde::Serialize;

/// What a request is for, which says how [`super::post`] reads its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The summary review with its inline comments (a first post).
    Review,
    /// The summary edited in place.
    Summary,
    /// One inline comment under an existing summary (the `Inline` at this index).
    Comment(usize),
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
