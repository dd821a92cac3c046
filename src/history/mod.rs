//! The review history: every review, round, agent run and finding, in an SQLite database
//! per repository (`.deep-review/history.sqlite`, beside the `reviews/` folder).
//!
//! - [`schema`]: the tables, the migrations (`PRAGMA user_version`), opening in WAL mode;
//! - [`write`]: one review in one transaction, and which of the previous round's findings
//!   this round found fixed;
//! - [`stats`]: each agent's record across reviews, and the list of past reviews;
//! - [`hook`]: the one call the review pipeline makes ([`record`]);
//! - [`command`]: `deep-review history` and `deep-review stats`.

pub mod command;
pub mod hook;
pub mod schema;
pub mod stats;
pub mod write;

pub use command::history;
pub use command::stats;
pub use hook::location;
pub use hook::record;
