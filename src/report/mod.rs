//! Renderers: one per format, each reading only a [`crate::review::Review`].

mod common;
pub use common::fence_for;
pub mod html;
pub mod markdown;
pub mod metrics;
pub mod rdjsonl;
pub mod rounds;
pub mod sarif;
pub mod suggestion;

use crate::review::Review;

/// Output formats of `review`, `render` and `consolidate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// The Markdown report (the default).
    Md,
    /// One self-contained HTML page (no network, no scripts).
    Html,
    /// review.json, the versioned machine-readable review.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// reviewdog's Diagnostic Format, one JSON object per line (`reviewdog -f=rdjsonl`).
    Rdjsonl,
}

pub fn render(format: ReportFormat, review: &Review) -> String {
    match format {
        ReportFormat::Md => markdown::render(review),
        ReportFormat::Html => html::render(review),
        ReportFormat::Json => json(review),
        ReportFormat::Sarif => sarif::render(review),
        ReportFormat::Rdjsonl => rdjsonl::render(review),
    }
}

pub fn json(review: &Review) -> String {
    let mut s = serde_json::to_string_pretty(review)
        .unwrap_or_else(|e| format!("{{\"error\": \"could not serialise the review: {e}\"}}"));
    s.push('\n');
    s
}
