//! The `builtin` reviewer: deterministic checks that need no model and cost nothing.
//!
//! It looks only at the change (diff and commits) and reports what can be known for sure:
//! secrets and conflict markers added, debug leftovers, code changed without tests, public
//! surface changed without docs, large or binary files, and the commit structure. Every
//! finding cites a line that the change added. Its assessments are facts, not opinions, and
//! they feed the testing, documentation and commit-structure sections of the report.

mod commits;
mod coverage;
mod lines;

use super::AgentRun;
use super::AgentSpec;
use super::Outcome;
use super::RunContext;
use crate::change::Change;
use crate::diff::FileStatus;
use crate::finding::Answer;
use crate::finding::Assessments;
use crate::finding::Finding;
use crate::finding::Location;
use crate::finding::Observation;
use crate::finding::ObservationKind;
use crate::finding::Scope;
use crate::finding::Severity;
use crate::secrets;

/// The builtin reviewer: deterministic checks, in-process, needing no model.
pub struct Builtin;

impl super::Adapter for Builtin {
    fn kind(&self) -> super::AgentKind {
        super::AgentKind::Builtin
    }

    fn run<'a>(
        &'a self,
        spec: &'a AgentSpec,
        ctx: &'a RunContext,
    ) -> super::adapter::BoxFuture<'a, AgentRun> {
        Box::pin(async move { run(spec, ctx) })
    }

    fn program(&self, _spec: &AgentSpec) -> Option<String> {
        None
    }
}

pub fn run(spec: &AgentSpec, ctx: &RunContext) -> AgentRun {
    let started = std::time::Instant::now();
    let answer = review(&ctx.change);
    let mut run = AgentRun::new(spec, Outcome::Ok);
    let path = ctx.dirs.agent.join("stdout.txt");
    if let Ok(text) = serde_json::to_string_pretty(&answer) {
        if crate::artifacts::write_or_log(&path, &text) {
            run.stdout_path = path.strip_prefix(&ctx.dirs.round).ok().map(Into::into);
        }
    }
    run.stats.files_read = ctx
        .change
        .files
        .iter()
        .map(|f| f.path().to_string())
        .collect();
    run.answer = Some(answer);
    run.stats.duration_ms = started.elapsed().as_millis() as u64;
    run
}

fn loc(path: &str, line: u32, quote: &str) -> Location {
    Location {
        path: path.to_string(),
        start_line: line,
        end_line: None,
        quote: Some(secrets::redact_line(quote)),
        replacement: None,
    }
}

fn finding(
    severity: Severity,
    title: String,
    body: String,
    location: Location,
    fix: &str,
    category: &str,
) -> Finding {
    Finding {
        severity,
        title,
        body,
        locations: vec![location],
        fix: Some(fix.to_string()),
        scope: Some(Scope::InScope),
        category: Some(category.to_string()),
        confidence: Some(1.0),
    }
}

/// Runs every check over the change.
pub fn review(change: &Change) -> Answer {
    let mut answer = Answer::empty();
    let mut findings = Vec::new();
    for f in change.files.iter().filter(|f| !f.binary) {
        lines::check_secrets(f, &mut findings);
        lines::check_conflict_markers(f, &mut findings);
        lines::check_debug_leftovers(f, &mut findings);
        lines::check_large_file(f, &mut findings);
    }
    let tests = coverage::check_tests(change, &mut findings);
    let docs = coverage::check_docs(change, &mut findings);
    let (commits_text, commit_concerns) = commits::check_commits(&change.commits);
    for f in change
        .files
        .iter()
        .filter(|f| f.binary && f.status == FileStatus::Added)
    {
        answer.observations.push(Observation {
            kind: ObservationKind::Concern,
            title: format!("Binary file added: `{}`", f.path()),
            body: "Binary files cannot be reviewed from the diff and stay in the repository's history forever; consider Git LFS or a build step that produces it.".into(),
            scope: Some(Scope::InScope),
            locations: Vec::new(),
        });
    }
    answer.observations.extend(commit_concerns);
    answer.summary = format!(
        "Deterministic checks over {} file{} and {} commit{}: {} finding{}.",
        change.files.len(),
        plural(change.files.len()),
        change.commits.len(),
        plural(change.commits.len()),
        findings.len(),
        plural(findings.len())
    );
    answer.findings = findings;
    answer.assessments = Assessments {
        testing: Some(tests),
        documentation: Some(docs),
        commits: Some(commits_text),
    };
    answer
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
