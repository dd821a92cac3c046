//! End-to-end tests of the deep-review binary on real git repositories.

mod support;

mod builtin;
mod consolidation;
mod errors;
mod fake_clis;
mod pipeline;
mod report;
mod transcripts;
