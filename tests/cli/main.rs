//! End-to-end tests of the deep-review binary on real git repositories.

mod support;

mod acp;
mod acp_attacks;
mod architecture;
mod builtin;
mod codex_cli;
mod consolidation;
mod context;
mod converge;
mod errors;
mod eval;
mod fake_clis;
mod faults;
mod github_server;
mod histories;
mod history;
mod http_model_server;
mod http_recovery;
mod http_reviewers;
mod install_script;
mod judge;
mod malicious_pr;
mod masking;
mod model_server;
mod path_guard;
mod pipeline;
mod posting;
mod pr;
mod privilege;
mod rdjsonl;
mod real_clis;
mod report;
mod rounds;
mod sarif;
mod transcripts;
