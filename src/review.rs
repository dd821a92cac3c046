//! `review.json`: what consolidation returns and every renderer reads (version 1).
//!
//! This is a public, versioned contract. Fields are only ever added; a change in meaning bumps
//! [`REVIEW_VERSION`]. Renderers read nothing else, so `deep-review render` can re-render a
//! saved review without running anything.

use crate::finding::ContextAction;
use crate::finding::ObservationKind;
use crate::finding::Scope;
use crate::finding::Severity;
use crate::finding::Verdict;
use crate::record::AgentKind;
use crate::record::Outcome;
use crate::record::Tokens;
use crate::record::Unavailable;
use serde::Deserialize;
use serde::Serialize;
use std::collections::BTreeMap;

pub const REVIEW_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// Version of this document's shape.
    pub version: u32,
    pub tool: ToolInfo,
    /// The review's folder name, e.g. `20260426-165750-local-3b4f6cef`.
    pub id: String,
    /// Local time the review started, RFC 3339.
    pub created_at: String,
    pub wall_clock_ms: u64,
    /// True when the review was interrupted and holds only what had arrived.
    #[serde(default)]
    pub partial: bool,
    pub change: ChangeSummary,
    pub agents: Vec<AgentColumn>,
    /// Reviewers that could have run but were not available, and how to enable each.
    #[serde(default)]
    pub unavailable: Vec<Unavailable>,
    /// Every consolidated finding, reported, held back and dropped, in ID order.
    pub findings: Vec<ConsolidatedFinding>,
    #[serde(default)]
    pub observations: Vec<ConsolidatedObservation>,
    #[serde(default)]
    pub assessments: AssessmentSet,
    #[serde(default)]
    pub reconciliation: Vec<Reconciliation>,
    #[serde(default)]
    pub context_updates: Vec<AttributedContextUpdate>,
    /// The consolidated recommendation; `null` when no model reviewer answered (the builtin
    /// checks alone, or no reviewer at all, make no verdict). `verdict_rationale` says why.
    #[serde(default)]
    pub verdict: Option<Verdict>,
    pub verdict_rationale: String,
    /// The executive summary (markdown).
    pub summary: String,
    /// Notes about the review process (judge ignored, agents failed, …).
    #[serde(default)]
    pub notes: Vec<String>,
    /// How this round follows the previous round of the same subject, and each finding's
    /// lifecycle; absent for a first round (and in reviews written before rounds existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<Rounds>,
}

/// A later round: what it reviewed (the delta since the previous round's head, or the whole
/// change and why), and what became of every finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rounds {
    /// The complete round this one follows (its findings are the baseline).
    pub previous_round: u32,
    /// The head that round reviewed.
    pub previous_head: String,
    /// `incremental`: the brief showed the diff since `previous_head` in full, the whole
    /// change in summary; `full`: the whole change, for `full_reason`.
    pub mode: RoundMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_reason: Option<String>,
    /// This round's findings (reported and held back): new, or still open since a round.
    pub findings: Vec<FindingLifecycle>,
    /// The previous round's reported findings that no finding of this round matches.
    pub gone: Vec<GoneFinding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundMode {
    Incremental,
    Full,
}

/// Where a finding is in its life across the rounds of one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStatus {
    /// No finding of the previous round matches it.
    New,
    /// It matches a finding of the previous round (by fingerprint, else by similarity).
    StillOpen,
    /// Gone: no agent reports it, and its cited code changed.
    Fixed,
    /// Gone: no agent reports it any more, though its cited code is unchanged.
    Withdrawn,
}

impl LifecycleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStatus::New => "new",
            LifecycleStatus::StillOpen => "still open",
            LifecycleStatus::Fixed => "fixed",
            LifecycleStatus::Withdrawn => "withdrawn",
        }
    }
}

/// One finding of this round and its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingLifecycle {
    /// The finding's ID in this review.
    pub id: String,
    /// `new` or `still_open`.
    pub status: LifecycleStatus,
    /// The round it was first reported in (this round for a new one).
    pub first_round: u32,
    /// Its ID in the previous round, when still open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<String>,
}

/// A finding of the previous round that this round no longer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoneFinding {
    /// Its ID in the previous round.
    pub id: String,
    /// `fixed` or `withdrawn`.
    pub status: LifecycleStatus,
    pub first_round: u32,
    pub severity: Severity,
    pub title: String,
    /// Its first cited place in the previous round, `path:line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Its fingerprint in the previous round (the one its GitHub marker carries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    pub fn current() -> ToolInfo {
        ToolInfo {
            name: "deep-review".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSummary {
    pub sha: String,
    pub subject: String,
    #[serde(default)]
    pub body: String,
    pub author: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSummary {
    pub repo: String,
    /// `local` or `pr`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub round: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub base_ref: String,
    pub base_sha: String,
    pub head_ref: String,
    pub head_sha: String,
    #[serde(default)]
    pub uncommitted: bool,
    pub commits: Vec<CommitSummary>,
    pub files_changed: usize,
    pub lines_added: usize,
    pub lines_removed: usize,
}

impl ChangeSummary {
    /// A change known only by name: saved answers consolidated without a repository, evals,
    /// benchmarks.
    pub fn named(repo: &str, kind: &str) -> ChangeSummary {
        ChangeSummary {
            repo: repo.into(),
            kind: kind.into(),
            pr: None,
            title: None,
            round: 1,
            author: None,
            base_ref: String::new(),
            base_sha: String::new(),
            head_ref: String::new(),
            head_sha: String::new(),
            uncommitted: false,
            commits: Vec::new(),
            files_changed: 0,
            lines_added: 0,
            lines_removed: 0,
        }
    }
}

/// Findings counted by severity, shown as `2I 1S`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: u32,
    pub important: u32,
    pub suggestion: u32,
}

impl SeverityCounts {
    pub fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::Important => self.important += 1,
            Severity::Suggestion => self.suggestion += 1,
        }
    }

    pub fn total(&self) -> u32 {
        self.critical + self.important + self.suggestion
    }

    pub fn short(&self) -> String {
        let mut parts = Vec::new();
        for (n, l) in [
            (self.critical, 'C'),
            (self.important, 'I'),
            (self.suggestion, 'S'),
        ] {
            if n > 0 {
                parts.push(format!("{n}{l}"));
            }
        }
        if parts.is_empty() {
            "0".into()
        } else {
            parts.join(" ")
        }
    }
}

/// The retro table's row values for one agent (DESIGN.md, "Metrics per agent").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub duration_ms: u64,
    /// Findings as the agent reported them.
    pub findings: SeverityCounts,
    pub tool_calls: u32,
    pub tool_calls_by_name: BTreeMap<String, u32>,
    pub observations: u32,
    /// Findings dropped because no citation exists, or refuted by the judge.
    pub false_positives: u32,
    /// Reported consolidated findings that only this agent found.
    pub unique_insights: u32,
    pub files_reviewed: u32,
    /// Reported consolidated findings of important or above that this agent did not report.
    pub coverage_misses: u32,
    /// The consolidated severities of the reported findings this agent contributed to.
    pub totals: SeverityCounts,
    pub downgraded: u32,
    pub upgraded: u32,
    pub dropped: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// The agent's and the review's spend limits, and which one it reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<crate::record::BudgetUse>,
    /// Its record across the earlier reviews in this repository's history (absent when it
    /// has none, or the history could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<AgentRecord>,
}

/// An agent's record across reviews, from the history database (`deep-review stats`). Counts
/// are over complete reviews (an interrupted one holds only what had arrived).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub agent: String,
    /// Its kind and model in its latest review.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Reviews it ran in (as a reviewer or the judge).
    pub reviews: u32,
    /// Findings as it reported them.
    pub findings: u32,
    /// Of those, how many ended in a reported consolidated finding.
    pub survived: u32,
    /// Reported consolidated findings that it alone reported.
    pub unique_insights: u32,
    /// Its findings held back: below the reporting threshold.
    pub held_back: u32,
    /// Its findings dropped: `invalid_citations` plus `refuted`.
    pub dropped: u32,
    /// Dropped because no citation exists at the head.
    pub invalid_citations: u32,
    /// Dropped because the judge refuted them.
    pub refuted: u32,
    /// Reported consolidated findings it contributed to.
    pub reported: u32,
    /// Of those, how many a later complete round of the same subject looked at.
    pub followed: u32,
    /// Of `followed`, how many that round found fixed: no agent reported them again and
    /// their cited code changed.
    pub fixed: u32,
    /// `fixed / followed`: the share of its reported findings that authors acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_share: Option<f64>,
    pub median_duration_ms: u64,
    pub tokens_input: u64,
    pub tokens_output: u64,
    /// Total cost, when any of its runs reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// `cost_usd / reported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_reported_finding: Option<f64>,
}

/// What an agent did in the review.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Reviewer,
    /// Read the clusters and calibrated them; reported no findings of its own.
    Judge,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentColumn {
    pub name: String,
    #[serde(default)]
    pub role: Role,
    pub kind: AgentKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// "Claude Opus 4.7 (effort: xhigh)".
    pub display: String,
    pub outcome: Outcome,
    pub metrics: Metrics,
    /// The agent's own summary and verdict, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr_tail: String,
    /// Raw output, relative to the round folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_path: Option<String>,
    /// The retro paragraph (from the judge, else built from the metrics).
    #[serde(default)]
    pub retro: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In the report's main list.
    Reported,
    /// Kept in "Other findings": plausible, but not enough support to lead with.
    HeldBack,
    /// Not shown as a finding; `drop_reason` says why.
    Dropped,
}

/// One agent's contribution to a consolidated finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub agent: String,
    /// Position in that agent's `findings` array, from 0.
    pub index: usize,
    pub severity: Severity,
    pub title: String,
}

/// Lines of the head tree quoted in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excerpt {
    pub start_line: u32,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedLocation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    /// The file and lines exist in the head tree (and the quote, if any, matches).
    pub verified: bool,
    /// The agent cited this start line, but the quoted text is here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relocated_from: Option<u32>,
    /// What was wrong with the citation, when something was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<Excerpt>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsolidatedFinding {
    /// `C1`, `I2`, `S1` for reported findings; `H1` held back; `D1` dropped.
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    pub locations: Vec<VerifiedLocation>,
    pub members: Vec<Member>,
    /// Number of distinct agents that reported it.
    pub agreement: usize,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_reason: Option<String>,
    /// Why the final severity was chosen.
    #[serde(default)]
    pub calibration: String,
    /// A committable fix: exact new text for verified lines of one location, kept only when it
    /// applies to the head text inside one hunk of the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Replacement>,
}

/// The exact new text for lines `start_line..=end_line` of `path` in the head tree (without
/// the trailing newline of the last line; empty text deletes the lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub text: String,
}

impl ConsolidatedFinding {
    pub fn agents(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for m in &self.members {
            if !v.contains(&m.agent.as_str()) {
                v.push(&m.agent);
            }
        }
        v
    }

    /// The severity each agent gave (its highest, when it reported the problem twice).
    pub fn severity_by_agent(&self) -> Vec<(&str, Severity)> {
        let mut v: Vec<(&str, Severity)> = Vec::new();
        for m in &self.members {
            match v.iter_mut().find(|(a, _)| *a == m.agent) {
                Some((_, s)) => *s = (*s).max(m.severity),
                None => v.push((&m.agent, m.severity)),
            }
        }
        v
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsolidatedObservation {
    pub kind: ObservationKind,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(default)]
    pub locations: Vec<VerifiedLocation>,
    pub agents: Vec<String>,
}

/// One agent's text for an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributed {
    pub agent: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentSet {
    pub testing: Vec<Attributed>,
    pub documentation: Vec<Attributed>,
    pub commits: Vec<Attributed>,
}

/// One change of an agent's severity, or a drop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub agent: String,
    /// The agent's finding (index in its `findings`).
    pub index: usize,
    pub title: String,
    /// The consolidated finding's ID.
    pub finding: String,
    pub from: Severity,
    /// None when the finding was dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Severity>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributedContextUpdate {
    pub action: ContextAction,
    pub note: String,
    pub why: String,
    pub agents: Vec<String>,
}

impl AgentRecord {
    /// "1 of 3 (33%)": fixed by the next round, of its findings a next round looked at; "—"
    /// when none was looked at.
    pub fn fixed_label(&self) -> String {
        match self.fixed_share {
            Some(s) => format!("{} of {} ({:.0}%)", self.fixed, self.followed, s * 100.0),
            None => "—".into(),
        }
    }
}

impl Review {
    /// The verdict as a heading: its title, or "No verdict".
    pub fn verdict_title(&self) -> &'static str {
        self.verdict.map_or("No verdict", Verdict::title)
    }

    /// The lifecycle of finding `id`, in a later round.
    pub fn lifecycle_of(&self, id: &str) -> Option<&FindingLifecycle> {
        self.rounds.as_ref()?.findings.iter().find(|l| l.id == id)
    }

    pub fn reported(&self) -> impl Iterator<Item = &ConsolidatedFinding> {
        self.findings
            .iter()
            .filter(|f| f.status == Status::Reported)
    }

    pub fn counts(&self) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for f in self.reported() {
            c.add(f.severity);
        }
        c
    }

    /// The display name of an agent by its config name.
    pub fn reviewers(&self) -> impl Iterator<Item = &AgentColumn> {
        self.agents.iter().filter(|a| a.role == Role::Reviewer)
    }

    pub fn judge(&self) -> Option<&AgentColumn> {
        self.agents.iter().find(|a| a.role == Role::Judge)
    }

    pub fn agent_display(&self, name: &str) -> String {
        self.agents
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.display.clone())
            .unwrap_or_else(|| name.to_string())
    }
}
