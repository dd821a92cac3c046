//! End-to-end tests of the deep-review binary on real git repositories.

mod support;

mod builtin;
mod consolidation;
mod errors;
mod eval;
mod fake_clis;
mod github_server;
mod judge;
mod model_server;
mod pipeline;
mod posting;
mod pr;
mod real_clis;
mod report;
mod sarif;
mod transcripts;
