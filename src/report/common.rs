//! What the Markdown and the HTML report both show, worked out once from the [`Review`]: the
//! header's values, a finding's tags and attribution, the assessments, the process notes. Each
//! renderer lays them out (and escapes them) its own way.

use crate::finding::ContextAction;
use crate::finding::Severity;
use crate::record::Outcome;
use crate::review::*;
use crate::util::human_duration;
use std::time::Duration;

/// The reported findings' sections, most severe first: severity, anchor, heading.
pub const SEVERITY_SECTIONS: [(Severity, &str, &str); 3] = [
    (Severity::Critical, "critical-issues", "Critical Issues"),
    (Severity::Important, "important-issues", "Important Issues"),
    (Severity::Suggestion, "suggestions", "Suggestions"),
];

/// A commit's short SHA.
pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(8)]
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A fence of backticks longer than any run of backticks in `texts` (at least three), so
/// nothing quoted inside can close it.
pub fn fence_for<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let longest = texts
        .into_iter()
        .flat_map(|t| t.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// `path:start` or `path:start-end`.
pub fn place(path: &str, start: u32, end: u32) -> String {
    if end > start {
        format!("{path}:{start}-{end}")
    } else {
        format!("{path}:{start}")
    }
}

pub fn location_label(l: &VerifiedLocation) -> String {
    place(&l.path, l.start_line, l.end_line)
}

/// A verified location's excerpt, line by line: its number, its text, whether it is cited.
/// Nothing for a location that is not verified.
pub fn cited_lines(l: &VerifiedLocation) -> Vec<(u32, &str, bool)> {
    match (&l.excerpt, l.verified) {
        (Some(ex), true) => ex
            .lines
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let n = ex.start_line + i as u32;
                (n, text.as_str(), n >= l.start_line && n <= l.end_line)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The review's date and time to the minute: `2026-03-01 12:34`.
pub fn date(r: &Review) -> String {
    r.created_at
        .get(..16)
        .unwrap_or(&r.created_at)
        .replace('T', " ")
}

/// `main (1234abcd) → topic (5678ef90)`, or `… → working tree`.
pub fn range(c: &ChangeSummary) -> String {
    if c.uncommitted {
        format!("{} ({}) → working tree", c.base_ref, short(&c.base_sha))
    } else {
        let (b, h) = (short(&c.base_sha), short(&c.head_sha));
        format!("{} ({b}) → {} ({h})", c.base_ref, c.head_ref)
    }
}

/// `3 files, +40 −2`.
pub fn change_size(c: &ChangeSummary) -> String {
    format!(
        "{} file{}, +{} −{}",
        c.files_changed,
        plural(c.files_changed),
        c.lines_added,
        c.lines_removed
    )
}

/// The reviewers by display name, a failed one marked: `Claude, Codex (failed)`.
pub fn reviewers(r: &Review) -> String {
    r.reviewers()
        .map(|a| match a.outcome.is_ok() {
            true => a.display.clone(),
            false => format!("{} (failed)", a.display),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The judge by display name, marked when it failed; None without a judge.
pub fn judge(r: &Review) -> Option<String> {
    let j = r.judge()?;
    let state = if j.outcome.is_ok() { "" } else { " (failed)" };
    Some(format!("{}{state}", j.display))
}

pub fn wall_clock(r: &Review) -> String {
    human_duration(Duration::from_millis(r.wall_clock_ms))
}

/// Agents by display name, comma-separated.
pub fn agents_display(r: &Review, agents: &[String]) -> String {
    agents
        .iter()
        .map(|a| r.agent_display(a))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who reported a finding, each with the severity they gave: `Claude (important), Codex
/// (suggestion)`.
pub fn attribution(r: &Review, f: &ConsolidatedFinding) -> String {
    f.severity_by_agent()
        .iter()
        .map(|(a, s)| format!("{} ({s})", r.agent_display(a)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A finding's tags after its attribution: its lifecycle since the previous round, scope,
/// category, confidence.
pub fn tags(r: &Review, f: &ConsolidatedFinding) -> Vec<String> {
    let mut tags: Vec<String> = super::rounds::tag(r, &f.id).into_iter().collect();
    if let Some(s) = f.scope {
        tags.push(format!("scope: {}", s.tag()));
    }
    if let Some(c) = &f.category {
        tags.push(format!("category: {c}"));
    }
    if let Some(c) = f.confidence {
        tags.push(format!("confidence: {c:.2}"));
    }
    tags
}

/// One assessment section: anchor, heading, the assessments, and what it is about (for the
/// line shown when nobody assessed it).
pub struct Assessment<'a> {
    pub id: &'static str,
    pub heading: &'static str,
    pub items: &'a [Attributed],
    pub what: &'static str,
}

impl Assessment<'_> {
    /// The line shown when nobody assessed it.
    pub fn empty(&self) -> String {
        format!("No reviewer assessed {}.", self.what)
    }
}

pub fn assessment_sections(r: &Review) -> [Assessment<'_>; 3] {
    let a = &r.assessments;
    [
        Assessment {
            id: "testing",
            heading: "Testing Assessment",
            items: &a.testing,
            what: "testing",
        },
        Assessment {
            id: "documentation",
            heading: "Documentation Assessment",
            items: &a.documentation,
            what: "documentation",
        },
        Assessment {
            id: "commit-structure",
            heading: "Commit Structure",
            items: &a.commits,
            what: "the commits",
        },
    ]
}

/// Who wrote an assessment: an agent's display name, or the builtin facts.
pub fn assessor(r: &Review, agent: &str) -> String {
    match agent {
        "builtin" => "Facts (builtin)".to_string(),
        name => r.agent_display(name),
    }
}

/// A process note: about an agent (its name) or the whole review, and its text (Markdown).
pub struct ProcessNote<'a> {
    pub who: Option<&'a str>,
    pub text: String,
}

/// The process notes: an interrupted review, each failed agent with its fix, each
/// unavailable reviewer with how to enable it, then the review's own notes.
pub fn review_notes(r: &Review) -> Vec<ProcessNote<'_>> {
    let mut out = Vec::new();
    if r.partial {
        out.push(ProcessNote { who: None, text: "The review was interrupted before every reviewer finished; their raw output so far is in the review folder.".into() });
    }
    for a in &r.agents {
        if let Outcome::Failed {
            kind,
            message,
            hint,
        } = &a.outcome
        {
            out.push(ProcessNote {
                who: Some(&a.name),
                text: format!("failed ({}): {message}. To fix: {hint}.", kind.label()),
            });
        }
    }
    for u in &r.unavailable {
        out.push(ProcessNote {
            who: Some(&u.name),
            text: format!("not available: {}; to enable it, {}.", u.reason, u.hint),
        });
    }
    out.extend(r.notes.iter().map(|n| ProcessNote {
        who: None,
        text: n.clone(),
    }));
    out
}

pub fn action(a: ContextAction) -> &'static str {
    match a {
        ContextAction::Add => "Add",
        ContextAction::Remove => "Remove",
    }
}

/// The command that keeps the review's context updates: `deep-review context apply ID/round-N`.
pub fn apply_command(r: &Review) -> String {
    format!(
        "deep-review context apply {}/round-{}",
        r.id,
        r.change.round.max(1)
    )
}
