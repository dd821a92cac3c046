//! GitHub: which pull request, the REST API client (pagination, rate limits, typed errors),
//! fetching a PR's metadata, commits and diff, the `pr` command around them, and publishing
//! a review (the plan, its requests, the posting and the check run) without duplicates.
//!
//! Nothing here decides what a review says; it moves data between GitHub and [`crate::review`].
//! Tokens are read from the environment or `gh auth token` and never printed.
//!
//! One file per concern: [`target`] (which PR, which API, which token), [`client`] (requests),
//! [`account`] (who the token is), [`fetch`] (the PR's data), [`checkout`] (the cached clone,
//! the base-config rule and the change), [`command`] (`deep-review pr`, step by step),
//! [`existing`] and [`threads`] (what is on the PR already and which of it is ours),
//! [`markdown`] (the bodies), [`plan`] (what to post, as the requests a dry run prints),
//! [`post`] (sending that plan), [`probe`] (which comments GitHub will place), [`publish`] (`deep-review publish`).

mod account;
mod checkout;
pub mod checks;
mod client;
mod command;
pub mod existing;
mod fetch;
pub mod markdown;
mod mentions;
pub mod plan;
mod post;
mod probe;
mod publish;
mod request;
mod target;
pub mod threads;
mod wire;

pub use crate::errors::GitHubError;
pub use crate::errors::PrError;
pub use account::account;
pub use account::Account;
pub use account::ACTIONS_BOT;
pub use account::LOGIN_VAR;
pub use client::Client;
pub use client::MAX_RATE_WAIT;
pub use command::pr;
pub use existing::IgnoredMarker;
pub use existing::SUMMARY_MARKER;
pub use fetch::fetch;
pub use fetch::PrData;
pub use fetch::API_FILE_LIMIT;
pub use publish::publish;
pub use publish::SavedPr;
pub use target::api_for_host;
pub use target::discover_token;
pub use target::parse_target;
pub use target::PrTarget;
pub use wire::*;
