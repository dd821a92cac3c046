//! Command-line definitions (clap derive structs only; no logic).

use crate::finding::Severity;
use crate::report::ReportFormat;
use clap::Args;
use clap::Parser;
use clap::Subcommand;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "deep-review",
    version,
    about = "Put several AI coding agents on one change as independent reviewers, in parallel, and consolidate what they say into one review.",
    after_help = "Exit codes: 0 reviewed; 1 reviewed and a finding at or above --fail-on exists; 2 no review could be produced; 3 reviewed, but every model reviewer failed and only the builtin checks answered (no verdict); 130 interrupted by Ctrl-C, 143 by SIGTERM, 129 by SIGHUP (a partial review is written)."
)]
pub struct Cli {
    /// Print only errors on stderr: no progress, no notes.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print each agent's activity on stderr as it streams: its tool calls with their
    /// targets (files, patterns, commands) and its token counts.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Review a local git range (default: merge-base with the default branch .. HEAD).
    Review(ReviewArgs),
    /// Review a GitHub pull request (OWNER/REPO#N, a PR URL, or N inside a clone), and
    /// optionally post the review on it.
    Pr(PrArgs),
    /// Post a saved `deep-review pr` review on its PR (reads only the review folder).
    Publish(PublishArgs),
    /// Consolidate saved answers (findings JSON or saved agent runs) without running agents.
    Consolidate(ConsolidateArgs),
    /// Re-render a saved review (a review folder, round folder or review.json).
    Render(RenderArgs),
    /// Print the findings JSON Schema that every reviewer answers in.
    Schema,
    /// List the reviewer kinds, whether each is usable here, and why not.
    Agents(AgentsArgs),
    /// Score consolidation on a labelled benchmark (e.g. shared/eval/martian-dev.json).
    Eval(EvalArgs),
    /// List past reviews of this repository, newest first (.deep-review/history.sqlite).
    History(HistoryArgs),
    /// Each agent's record across past reviews: findings that survived, were fixed, cost.
    Stats(StatsArgs),
    /// The repository's memory (.deep-review/context.md): list the notes every brief
    /// includes, apply a review's proposed notes, add or remove one.
    Context(ContextArgs),
    /// Write, show or check the configuration (.deep-review.toml and the user's file).
    Config(ConfigArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Install or remove an advisory pre-push hook that reviews what is being pushed.
    Hook(HookArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The repository whose configuration to write, show or check (default: the current
    /// directory).
    #[arg(long, value_name = "DIR", default_value = ".", global = true)]
    pub repo: PathBuf,
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented .deep-review.toml for the reviewers found on this machine.
    Init {
        /// Overwrite an existing .deep-review.toml.
        #[arg(long)]
        force: bool,
    },
    /// Print the merged configuration, each value with where it came from (default, user
    /// config file, repository .deep-review.toml, environment, flag).
    Show {
        /// As `review --agents` would select them.
        #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
        agents: Option<Vec<String>>,
        /// As `review --timeout` would set it.
        #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
        timeout: Option<Duration>,
        /// As `review --judge` would set it.
        #[arg(long, value_name = "NAME")]
        judge: Option<String>,
        /// As `review --fail-on` would set it.
        #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
        fail_on: Option<Severity>,
    },
    /// Check the user's config file and the repository's .deep-review.toml: exit 0 when
    /// both are valid, 2 (naming the file, the line and what to do) when not.
    Validate,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// The repository whose hook to install or remove (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".", global = true)]
    pub repo: PathBuf,
    #[command(subcommand)]
    pub command: HookCommand,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write a pre-push hook (in `git rev-parse --git-path hooks`) that reviews the commits
    /// being pushed and prints the review; it never blocks the push unless --fail-on is given.
    Install {
        /// The reviewers the hook runs (default: builtin only, which needs no model).
        #[arg(
            long,
            value_delimiter = ',',
            value_name = "A,B,C",
            default_value = "builtin"
        )]
        agents: Vec<String>,
        /// Block the push when a finding has this severity or higher.
        #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
        fail_on: Option<Severity>,
        /// Replace a pre-push hook that deep-review did not write (it is kept beside it as
        /// pre-push.deep-review-backup).
        #[arg(long)]
        force: bool,
    },
    /// Remove the pre-push hook deep-review wrote (never another one).
    Uninstall,
}

/// Where the history is: the repository's, or a database named outright.
#[derive(Debug, Args)]
pub struct HistoryPlace {
    /// The repository whose history to read (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// The history database to read (default: <repo>/.deep-review/history.sqlite).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub place: HistoryPlace,
    /// Print the reviews as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub place: HistoryPlace,
    /// Only reviews started since then: a date (2026-04-01) or a duration back from now (30d).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Print the records as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    /// The repository whose notes to read or edit (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".", global = true)]
    pub repo: PathBuf,
    #[command(subcommand)]
    pub command: Option<ContextCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ContextCommand {
    /// Show a review's proposed additions and removals as a diff of the notes, and apply
    /// them (asking first on a terminal).
    Apply {
        /// A review folder, round folder or review.json; a review's ID (its folder name in
        /// .deep-review/reviews, optionally with /round-N); or `latest`.
        review: String,
        /// Apply without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Add a note (its provenance: you, today).
    Add {
        /// The note (Markdown); several words are joined with spaces.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Remove note N (as numbered by `deep-review context`).
    Remove {
        #[arg(value_name = "N")]
        number: usize,
    },
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The labelled dataset (JSON: prs[].golden, agents, labels).
    pub dataset: PathBuf,
    /// Extra subsets of tools to score, each a comma-separated list (repeatable). The full
    /// set, `claude,gemini,coderabbit`, and each tool alone are always scored.
    #[arg(long = "tools", value_name = "A,B,C")]
    pub subsets: Vec<String>,
    /// Print the scores as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Override the link score at which two findings merge (to study the trade-off).
    #[arg(long, value_name = "SCORE")]
    pub merge_threshold: Option<f64>,
    /// Write each reported cluster of the full set, with its members' labels, to stderr.
    #[arg(long)]
    pub explain: bool,
    /// Override the share of reviewers whose agreement alone reports a finding.
    #[arg(long, value_name = "SHARE")]
    pub agreement_fraction: Option<f64>,
    /// Choose agreement_fraction and merge_threshold on this repository's PRs (a fold, as
    /// the dataset names it) and report them on the other repositories.
    #[arg(long, value_name = "REPO", conflicts_with = "cross")]
    pub tune_on: Option<String>,
    /// Tune on each repository in turn and report on the others (both ways for two).
    #[arg(long)]
    pub cross: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::util::parse_duration(s)
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("`{s}` is not a severity; use critical, important or suggestion"))
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Base of the range (default: origin/HEAD, else main/master). The diff starts at the merge
    /// base of this ref and the head, as on GitHub: only what the head added since it branched
    /// off is reviewed, not what the base gained since.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Head of the range (default: HEAD).
    #[arg(long, value_name = "REF")]
    pub head: Option<String>,
    /// Review the working tree: staged and unstaged changes to tracked files on top of HEAD.
    #[arg(long)]
    pub uncommitted: bool,
    /// The repository to review (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Treat the head as untrusted, as for a PR (e.g. a contributor's branch): agents read
    /// a worktree without its agent configuration and instruction files, and configuration
    /// and instructions come from the base.
    #[arg(long)]
    pub untrusted: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

/// The flags every command that runs reviewers takes.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Reviewers to run, by name (default: [review].agents in .deep-review.toml, else all).
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    pub agents: Option<Vec<String>>,
    /// Per-agent timeout, e.g. 90s, 20m (default 20m, or the config's).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// An agent (by name) that judges the consolidated clusters: calibrates severities,
    /// refutes, merges or splits, and writes the summary and retro prose.
    #[arg(long, value_name = "NAME")]
    pub judge: Option<String>,
    /// Root folder for review artifacts (default: <repo>/.deep-review/reviews; for a PR
    /// reviewed outside a clone of its repository, the cache folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// Exit 1 when a reported finding has this severity or higher.
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Review the whole change, even when an earlier round of the same PR or branch
    /// reviewed part of it (a later round otherwise reviews what changed since).
    #[arg(long)]
    pub full: bool,
    /// Review even when nothing changed since the previous round (otherwise such a round
    /// is skipped with a message).
    #[arg(long)]
    pub rerun: bool,
}

#[derive(Debug, Args)]
pub struct PrArgs {
    /// OWNER/REPO#N, https://github.com/OWNER/REPO/pull/N, or N (from this clone's origin).
    pub target: String,
    /// The GitHub API base URL, for GitHub Enterprise (default: from the PR URL or GH_HOST,
    /// else https://api.github.com).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Publish the review on the PR: a summary review, edited in place on later runs, and
    /// one inline comment per finding on its cited lines (never twice for one finding).
    #[arg(long)]
    pub post: bool,
    /// Print exactly what --post would send (the requests, as JSON) instead of the report,
    /// and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The review folder (or its round folder) written by `deep-review pr`.
    pub path: PathBuf,
    /// The GitHub API base URL (default: the one the review was made with).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Print the requests instead of sending them.
    #[arg(long)]
    pub dry_run: bool,
    /// The deep-review check run fails when a reported finding is at or above this severity
    /// (default: the threshold the review ran with); given here, publish exits 1 then too.
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
}

#[derive(Debug, Args)]
pub struct ConsolidateArgs {
    /// An agent's saved answer: NAME=FILE, where FILE holds findings JSON (schema 1) or a
    /// saved agent run (run.json). Repeat for each agent.
    #[arg(long = "agent", value_name = "NAME=FILE", required = true)]
    pub agents: Vec<String>,
    /// Repository whose head tree verifies citations (without it, citations are not checked).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The head to verify against (default: HEAD).
    #[arg(long, value_name = "REF")]
    pub head: Option<String>,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// A review folder, one of its round folders, or a review.json file.
    pub path: PathBuf,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct AgentsArgs {
    /// The repository whose configuration to read (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}
