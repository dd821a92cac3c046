//! Plain data for the steps' unit tests: findings, runs, citations and an in-memory head
//! tree, built by hand.

use super::verify::Item;
use crate::finding::Answer;
use crate::finding::Finding;
use crate::finding::Location;
use crate::finding::Severity;
use crate::record::AgentRun;
use crate::tree_guard::HeadTree;
use std::collections::HashMap;
use std::sync::Arc;

pub(super) fn finding(severity: Severity, title: &str, body: &str) -> Finding {
    Finding {
        severity,
        title: title.to_string(),
        body: body.to_string(),
        locations: Vec::new(),
        fix: None,
        scope: None,
        category: None,
        confidence: None,
    }
}

pub(super) fn located(f: Finding, locations: Vec<Location>) -> Finding {
    Finding { locations, ..f }
}

/// A citation of `start..=end` in `path`, with an optional quote.
pub(super) fn cite(path: &str, start: u32, end: u32, quote: Option<&str>) -> Location {
    Location {
        path: path.to_string(),
        start_line: start,
        end_line: Some(end),
        quote: quote.map(str::to_string),
        replacement: None,
    }
}

/// A run of agent `name` that answered these findings.
pub(super) fn run(name: &str, findings: Vec<Finding>) -> AgentRun {
    let mut answer = Answer::empty();
    answer.findings = findings;
    AgentRun::from_answer(name, answer)
}

/// Items as the verify step would give them for findings without citations.
pub(super) fn items<'a>(findings: &'a [(&'a str, Finding)]) -> Vec<Item<'a>> {
    let mut per_agent: HashMap<&str, usize> = HashMap::new();
    findings
        .iter()
        .map(|(agent, f)| {
            let index = per_agent.entry(agent).or_insert(0);
            *index += 1;
            Item {
                agent,
                index: *index - 1,
                finding: f,
                locations: Vec::new(),
                usable: Vec::new(),
                unverifiable: false,
            }
        })
        .collect()
}

/// The head tree: files by path, and the paths the change touched.
#[derive(Default)]
pub(super) struct Tree {
    files: HashMap<String, Arc<Vec<String>>>,
    changed: Vec<String>,
    /// The change's diff, when a test gives one.
    diff: Option<Vec<crate::diff::FileDiff>>,
}

impl Tree {
    pub(super) fn with(mut self, path: &str, lines: &[&str]) -> Tree {
        let lines = lines.iter().map(|l| l.to_string()).collect();
        self.files.insert(path.to_string(), Arc::new(lines));
        self.changed.push(path.to_string());
        self
    }

    /// The change's diff, as `git diff` prints it.
    pub(super) fn with_diff(mut self, text: &str) -> Tree {
        self.diff = Some(crate::diff::parse(text));
        self
    }
}

impl HeadTree for Tree {
    fn lines(&self, path: &str) -> Option<Arc<Vec<String>>> {
        self.files.get(path).cloned()
    }

    fn changed_paths(&self) -> Vec<String> {
        self.changed.clone()
    }

    fn diff(&self) -> Option<&[crate::diff::FileDiff]> {
        self.diff.as_deref()
    }
}

/// A numbered consolidated finding with these members (index 0 each).
pub(super) fn consolidated(
    id: &str,
    severity: Severity,
    status: crate::review::Status,
    members: &[(&str, Severity)],
) -> crate::review::ConsolidatedFinding {
    crate::review::ConsolidatedFinding {
        id: id.to_string(),
        severity,
        title: format!("title of {id}"),
        body: String::new(),
        fix: None,
        category: None,
        scope: None,
        confidence: None,
        locations: Vec::new(),
        members: members
            .iter()
            .map(|(agent, s)| crate::review::Member {
                agent: agent.to_string(),
                index: 0,
                severity: *s,
                title: String::new(),
            })
            .collect(),
        agreement: members.len(),
        status,
        drop_reason: None,
        calibration: String::new(),
        replacement: None,
    }
}

/// Consolidation's input for these runs, with no judge.
pub(super) fn input<'a>(
    runs: &'a [AgentRun],
    tree: Option<&'a dyn HeadTree>,
) -> super::pipeline::Input<'a> {
    super::pipeline::Input {
        judge: None,
        runs,
        tree,
        change: crate::review::ChangeSummary::named("repo", "local"),
        unavailable: Vec::new(),
        id: "test".into(),
        created_at: String::new(),
        wall_clock_ms: 0,
        partial: false,
    }
}
