//! `deep-review config init|show|validate`.

use super::Overrides;
use crate::cli::ConfigArgs;
use crate::cli::ConfigCommand;
use crate::errors::exit_codes;
use crate::errors::Result;
use std::path::PathBuf;

/// The report (stdout) and the exit code of a `config` command.
pub fn run(args: ConfigArgs) -> Result<(String, i32)> {
    let root = repo_root(&args.repo);
    match args.command {
        ConfigCommand::Init { force } => {
            super::init::init(&root, force).map(|r| (r, exit_codes::OK))
        }
        ConfigCommand::Show {
            agents,
            timeout,
            judge,
            fail_on,
        } => {
            let flags = Overrides {
                agents,
                judge,
                timeout,
                fail_on,
            };
            super::show::show(&root, &flags).map(|r| (r, exit_codes::OK))
        }
        ConfigCommand::Validate => Ok(super::validate::validate(&root)),
    }
}

/// The repository's top folder, else the folder as given (a configuration can be checked
/// outside a repository too).
fn repo_root(dir: &std::path::Path) -> PathBuf {
    crate::git::Repo::discover(dir)
        .map(|r| r.root)
        .unwrap_or_else(|_| dir.to_path_buf())
}
