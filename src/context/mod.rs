//! The repository's memory: durable review notes in `.deep-review/context.md`, committed and
//! shared by the team, given to every reviewer in the brief.
//!
//! - [`notes`]: the file's Markdown format (parse, edit, write back byte for byte).
//! - [`store`]: where notes are read from (the base commit, for a brief; the working tree,
//!   for the `context` commands) and the one way they are written.
//! - [`proposals`]: a review's proposed additions and removals as a plan.
//! - [`command`]: `deep-review context [apply REVIEW | add TEXT | remove N]`.

mod command;
mod notes;
mod proposals;
mod store;

pub use command::numbered;
pub use command::run;
pub use command::Output;
pub use notes::Note;
pub use notes::Notes;
pub use notes::Provenance;
pub use store::for_brief;
pub use store::Memory;
pub use store::FILE;
