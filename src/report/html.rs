//! The HTML report: one self-contained page laid out like the seed review (header table,
//! summary, findings with their cited code and suggested diffs, observations, assessments,
//! the agent retro with a chart per agent, the metrics and the reconciliation log folded,
//! process notes and context updates), every section and finding with a ¶ anchor.
//!
//! The page loads nothing: styles are inline, charts are inline SVG, collapsibles are
//! `<details>`, and a Content-Security-Policy that allows no script, font, image or
//! connection stands behind the escaping. Every string from an agent or the change is escaped
//! (by the template's auto-escaping, or by [`md`] for Markdown bodies); the only links are
//! in-page anchors and GitHub addresses built here from the review's own repo and PR number.
//!
//! Reads only a [`Review`]; output is deterministic for a given review.

mod chart;
mod md;

use crate::finding::ContextAction;
use crate::finding::ObservationKind;
use crate::finding::Severity;
use crate::record::Outcome;
use crate::review::*;
use crate::util::human_duration;
use minijinja::Environment;
use minijinja::Value;
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::Duration;

const PAGE: &str = include_str!("html/report.html");
const PARTS: &str = include_str!("html/parts.html");
const STYLE: &str = include_str!("html/report.css");

pub fn render(r: &Review) -> String {
    let mut env = Environment::new();
    let loaded = env
        .add_template("report.html", PAGE)
        .and_then(|()| env.add_template("parts.html", PARTS));
    let page = loaded
        .and_then(|()| env.get_template("report.html"))
        .and_then(|t| t.render(Page::of(r)));
    match page {
        Ok(mut html) => {
            if !html.ends_with('\n') {
                html.push('\n');
            }
            html
        }
        // The templates are compiled in; a failure here is a bug, shown rather than hidden.
        Err(e) => format!(
            "<!doctype html><meta charset=\"utf-8\"><title>deep-review</title><p>deep-review could not render this review as HTML: {}. Render it with --format md instead.</p>\n",
            md::escape(&format!("{e:#}"))
        ),
    }
}

fn safe(html: String) -> Value {
    Value::from_safe_string(html)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(8)]
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The whole page's data; the template lays it out.
#[derive(Serialize)]
struct Page {
    id: String,
    style: Value,
    opening: Vec<String>,
    partial: bool,
    header: Vec<HeaderRow>,
    verdict: String,
    summary: Value,
    counts: SeverityCounts,
    sections: Vec<SeveritySection>,
    gone: Option<Gone>,
    held: Vec<OtherFinding>,
    dropped: Vec<OtherFinding>,
    concerns: Vec<ObservationView>,
    strengths: Vec<ObservationView>,
    assessments: Vec<AssessmentView>,
    agents: Vec<AgentView>,
    metrics: Table,
    record: Option<Table>,
    reconciliation: Vec<ReconciliationView>,
    notes: Vec<Note>,
    context_updates: Vec<ContextView>,
    apply: String,
    tool: String,
}

impl Page {
    fn of(r: &Review) -> Page {
        let ids: BTreeSet<String> = r.findings.iter().map(|f| f.id.clone()).collect();
        let md = |s: &str| safe(md::render(s, &ids));
        let (concerns, strengths) = observations(r, &ids);
        Page {
            id: r.id.clone(),
            style: safe(STYLE.to_string()),
            opening: super::rounds::opening(r)
                .split("\n\n")
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            partial: r.partial,
            header: header(r),
            verdict: r
                .verdict
                .map_or("none", |v| match v {
                    crate::finding::Verdict::Merge => "merge",
                    crate::finding::Verdict::MergeWithFixes => "fixes",
                    crate::finding::Verdict::DoNotMerge => "block",
                })
                .to_string(),
            summary: md(&r.summary),
            counts: r.counts(),
            sections: sections(r, &ids),
            gone: gone(r),
            held: others(r, Status::HeldBack),
            dropped: others(r, Status::Dropped),
            concerns,
            strengths,
            assessments: assessments(r, &ids),
            agents: agents(r, &ids),
            metrics: metrics(r),
            record: record(r),
            reconciliation: reconciliation(r),
            notes: notes(r),
            context_updates: context_updates(r),
            apply: format!(
                "deep-review context apply {}/round-{}",
                r.id,
                r.change.round.max(1)
            ),
            tool: format!("{} {}", r.tool.name, r.tool.version),
        }
    }
}

/// A row of the header table: its label and one line of text per value (commits), with an
/// optional link this module built.
#[derive(Serialize)]
struct HeaderRow {
    label: &'static str,
    lines: Vec<String>,
    href: Option<String>,
}

fn row(label: &'static str, text: String) -> HeaderRow {
    HeaderRow {
        label,
        lines: vec![text],
        href: None,
    }
}

/// `https://github.com/OWNER/REPO/pull/N`, only for a PR whose repo is a plain `owner/name`.
fn pr_url(c: &ChangeSummary) -> Option<String> {
    let pr = c.pr?;
    let (owner, name) = c.repo.split_once('/')?;
    let plain = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
    };
    (c.kind == "pr" && plain(owner) && plain(name))
        .then(|| format!("https://github.com/{owner}/{name}/pull/{pr}"))
}

fn header(r: &Review) -> Vec<HeaderRow> {
    let c = &r.change;
    let date = r.created_at.get(..16).unwrap_or(&r.created_at);
    let mut rows = vec![
        row("Date", date.replace('T', " ")),
        row("Repo", c.repo.clone()),
        row("Round", c.round.to_string()),
    ];
    if let Some(a) = &c.author {
        rows.push(row("Author", a.clone()));
    }
    if let Some(pr) = c.pr {
        let title = c.title.as_deref().unwrap_or("");
        let mut pr_row = row("PR", format!("#{pr} — {title}"));
        pr_row.href = pr_url(c);
        rows.push(pr_row);
    }
    let range = if c.uncommitted {
        format!("{} ({}) → working tree", c.base_ref, short(&c.base_sha))
    } else {
        let (b, h) = (short(&c.base_sha), short(&c.head_sha));
        format!("{} ({b}) → {} ({h})", c.base_ref, c.head_ref)
    };
    rows.push(row("Range", range));
    let mut commits = row("Commits", String::new());
    commits.lines = if c.commits.is_empty() {
        vec!["(uncommitted changes)".into()]
    } else {
        c.commits
            .iter()
            .map(|k| format!("{} {}", short(&k.sha), k.subject))
            .collect()
    };
    rows.push(commits);
    rows.push(row(
        "Change",
        format!(
            "{} file{}, +{} −{}",
            c.files_changed,
            plural(c.files_changed),
            c.lines_added,
            c.lines_removed
        ),
    ));
    let reviewers: Vec<String> = r
        .reviewers()
        .map(|a| match a.outcome.is_ok() {
            true => a.display.clone(),
            false => format!("{} (failed)", a.display),
        })
        .collect();
    rows.push(row("Reviewers", reviewers.join(", ")));
    if let Some(j) = r.judge() {
        let state = if j.outcome.is_ok() { "" } else { " (failed)" };
        rows.push(row("Judge", format!("{}{state}", j.display)));
    }
    let verdict = format!("{} — {}", r.verdict_title(), r.verdict_rationale.trim());
    rows.push(row("Verdict", verdict));
    let wall = human_duration(Duration::from_millis(r.wall_clock_ms));
    rows.push(row("Wall-clock time", wall));
    rows
}

#[derive(Serialize)]
struct SeveritySection {
    id: &'static str,
    heading: &'static str,
    findings: Vec<FindingView>,
}

#[derive(Serialize)]
struct FindingView {
    id: String,
    severity: &'static str,
    severity_title: &'static str,
    title: String,
    by: Vec<(String, &'static str)>,
    tags: Vec<String>,
    locations: Vec<LocationView>,
    body: Value,
    fix: Option<Value>,
    diff: Option<DiffView>,
    calibration: Value,
}

#[derive(Serialize)]
struct LocationView {
    label: String,
    verified: bool,
    note: Option<String>,
    relocated_from: Option<u32>,
    lines: Vec<CodeLine>,
}

#[derive(Serialize)]
struct CodeLine {
    n: u32,
    text: String,
    hit: bool,
}

#[derive(Serialize)]
struct DiffView {
    label: String,
    lines: Vec<DiffLine>,
}

#[derive(Serialize)]
struct DiffLine {
    /// `ctx`, `del` or `add`.
    kind: &'static str,
    old: Option<u32>,
    new: Option<u32>,
    text: String,
}

fn sections(r: &Review, ids: &BTreeSet<String>) -> Vec<SeveritySection> {
    [
        (Severity::Critical, "critical-issues", "Critical Issues"),
        (Severity::Important, "important-issues", "Important Issues"),
        (Severity::Suggestion, "suggestions", "Suggestions"),
    ]
    .into_iter()
    .map(|(sev, id, heading)| SeveritySection {
        id,
        heading,
        findings: r
            .reported()
            .filter(|f| f.severity == sev)
            .map(|f| finding(r, f, ids))
            .collect(),
    })
    .collect()
}

fn location_label(l: &VerifiedLocation) -> String {
    if l.end_line > l.start_line {
        format!("{}:{}-{}", l.path, l.start_line, l.end_line)
    } else {
        format!("{}:{}", l.path, l.start_line)
    }
}

fn location(l: &VerifiedLocation) -> LocationView {
    let lines = match (&l.excerpt, l.verified) {
        (Some(ex), true) => ex
            .lines
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let n = ex.start_line + i as u32;
                CodeLine {
                    n,
                    text: text.clone(),
                    hit: n >= l.start_line && n <= l.end_line,
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    LocationView {
        label: location_label(l),
        verified: l.verified,
        note: l.note.clone(),
        relocated_from: l.relocated_from,
        lines,
    }
}

fn finding(r: &Review, f: &ConsolidatedFinding, ids: &BTreeSet<String>) -> FindingView {
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
    let fix = f.fix.as_deref().filter(|x| !x.trim().is_empty());
    FindingView {
        id: f.id.clone(),
        severity: f.severity.as_str(),
        severity_title: f.severity.title(),
        title: f.title.trim().to_string(),
        by: f
            .severity_by_agent()
            .into_iter()
            .map(|(a, s)| (r.agent_display(a), s.as_str()))
            .collect(),
        tags,
        locations: f.locations.iter().map(location).collect(),
        body: safe(md::render(&f.body, ids)),
        fix: fix.map(|x| safe(md::render(x, ids))),
        diff: f.replacement.as_ref().map(|x| diff(f, x)),
        calibration: safe(md::inline(f.calibration.trim(), ids)),
    }
}

/// The suggested replacement as a diff: the cited lines it replaces (from the excerpt, with
/// the excerpt's neighbouring lines as context) against its new text.
fn diff(f: &ConsolidatedFinding, x: &Replacement) -> DiffView {
    let excerpt = f
        .locations
        .iter()
        .filter(|l| l.path == x.path && l.verified)
        .filter_map(|l| l.excerpt.as_ref())
        .find(|e| e.start_line <= x.start_line && e.start_line + e.lines.len() as u32 > x.end_line);
    let mut lines = Vec::new();
    let new_lines: Vec<&str> = if x.text.is_empty() {
        Vec::new()
    } else {
        x.text.split('\n').collect()
    };
    let added = new_lines.len() as u32;
    let removed = x.end_line + 1 - x.start_line.min(x.end_line + 1);
    let ctx = |n: u32, text: &str, shift: bool| DiffLine {
        kind: "ctx",
        old: Some(n),
        new: Some(if shift { n + added - removed } else { n }),
        text: text.to_string(),
    };
    if let Some(e) = excerpt {
        let at = |n: u32| e.lines[(n - e.start_line) as usize].as_str();
        let before = x.start_line.saturating_sub(2).max(e.start_line);
        for n in before..x.start_line {
            lines.push(ctx(n, at(n), false));
        }
        for n in x.start_line..=x.end_line {
            lines.push(DiffLine {
                kind: "del",
                old: Some(n),
                new: None,
                text: at(n).to_string(),
            });
        }
        push_added(&mut lines, x.start_line, &new_lines);
        let last = e.start_line + e.lines.len() as u32 - 1;
        for n in x.end_line + 1..=(x.end_line + 2).min(last) {
            lines.push(ctx(n, at(n), true));
        }
    } else {
        push_added(&mut lines, x.start_line, &new_lines);
    }
    let range = if x.end_line > x.start_line {
        format!("{}-{}", x.start_line, x.end_line)
    } else {
        x.start_line.to_string()
    };
    DiffView {
        label: format!("{}:{range}", x.path),
        lines,
    }
}

fn push_added(lines: &mut Vec<DiffLine>, start: u32, new_lines: &[&str]) {
    for (i, text) in new_lines.iter().enumerate() {
        lines.push(DiffLine {
            kind: "add",
            old: None,
            new: Some(start + i as u32),
            text: text.to_string(),
        });
    }
}

#[derive(Serialize)]
struct Gone {
    heading: String,
    items: Vec<GoneFinding>,
}

fn gone(r: &Review) -> Option<Gone> {
    let rounds = r.rounds.as_ref().filter(|x| !x.gone.is_empty())?;
    let mut items = Vec::new();
    for status in [LifecycleStatus::Fixed, LifecycleStatus::Withdrawn] {
        items.extend(rounds.gone.iter().filter(|g| g.status == status).cloned());
    }
    Some(Gone {
        heading: format!("Gone Since Round {}", rounds.previous_round),
        items,
    })
}

#[derive(Serialize)]
struct OtherFinding {
    id: String,
    severity: &'static str,
    title: String,
    by: String,
    place: Option<String>,
    reason: Option<String>,
}

fn attribution(r: &Review, f: &ConsolidatedFinding) -> String {
    f.severity_by_agent()
        .iter()
        .map(|(a, s)| format!("{} ({s})", r.agent_display(a)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn others(r: &Review, status: Status) -> Vec<OtherFinding> {
    r.findings
        .iter()
        .filter(|f| f.status == status)
        .map(|f| OtherFinding {
            id: f.id.clone(),
            severity: f.severity.as_str(),
            title: f.title.trim().to_string(),
            by: attribution(r, f),
            place: f.locations.first().map(location_label),
            reason: f.drop_reason.clone(),
        })
        .collect()
}

#[derive(Serialize)]
struct ObservationView {
    title: String,
    scope: Option<&'static str>,
    places: Vec<String>,
    who: String,
    body: Value,
}

fn observations(
    r: &Review,
    ids: &BTreeSet<String>,
) -> (Vec<ObservationView>, Vec<ObservationView>) {
    let of = |kind: ObservationKind| {
        r.observations
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| ObservationView {
                title: o.title.trim().to_string(),
                scope: o.scope.map(|s| s.tag()),
                places: o.locations.iter().map(location_label).collect(),
                who: o
                    .agents
                    .iter()
                    .map(|a| r.agent_display(a))
                    .collect::<Vec<_>>()
                    .join(", "),
                body: safe(md::inline(o.body.trim(), ids)),
            })
            .collect()
    };
    (of(ObservationKind::Concern), of(ObservationKind::Strength))
}

#[derive(Serialize)]
struct AssessmentView {
    id: &'static str,
    heading: &'static str,
    empty: &'static str,
    items: Vec<(String, Value)>,
}

fn assessments(r: &Review, ids: &BTreeSet<String>) -> Vec<AssessmentView> {
    let a = &r.assessments;
    [
        ("testing", "Testing Assessment", &a.testing, "testing"),
        (
            "documentation",
            "Documentation Assessment",
            &a.documentation,
            "documentation",
        ),
        (
            "commit-structure",
            "Commit Structure",
            &a.commits,
            "the commits",
        ),
    ]
    .into_iter()
    .map(|(id, heading, items, what)| AssessmentView {
        id,
        heading,
        empty: match what {
            "testing" => "No reviewer assessed testing.",
            "documentation" => "No reviewer assessed documentation.",
            _ => "No reviewer assessed the commits.",
        },
        items: items
            .iter()
            .map(|x| {
                let who = match x.agent.as_str() {
                    "builtin" => "Facts (builtin)".to_string(),
                    name => r.agent_display(name),
                };
                (who, safe(md::render(&x.text, ids)))
            })
            .collect(),
    })
    .collect()
}

#[derive(Serialize)]
struct AgentView {
    anchor: String,
    heading: String,
    judge: bool,
    failed: Option<String>,
    retro: Value,
    chart: Value,
    stderr_tail: Vec<String>,
    raw: Vec<String>,
}

/// `agent-claude`: an anchor from an agent's name (letters, digits and dashes only).
fn anchor(prefix: &str, name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_lowercase(),
            false => '-',
        })
        .collect();
    format!("{prefix}-{}", slug.trim_matches('-'))
}

fn agents(r: &Review, ids: &BTreeSet<String>) -> Vec<AgentView> {
    let scale = chart::Scale::of(&r.agents);
    let mut seen = BTreeSet::new();
    r.agents
        .iter()
        .map(|a| {
            let mut id = anchor("agent", &a.name);
            while !seen.insert(id.clone()) {
                id.push('-');
            }
            let failed = match &a.outcome {
                Outcome::Ok => None,
                Outcome::Failed { kind, .. } => Some(kind.label().to_string()),
            };
            let tail: Vec<String> = a.stderr_tail.lines().map(str::to_string).collect();
            let from = tail.len().saturating_sub(12);
            AgentView {
                anchor: id,
                heading: a.display.clone(),
                judge: a.role == Role::Judge,
                retro: safe(md::render(&a.retro, ids)),
                chart: safe(chart::agent(a, scale)),
                stderr_tail: if failed.is_some() {
                    tail[from..].to_vec()
                } else {
                    Vec::new()
                },
                raw: match failed {
                    Some(_) => a
                        .stdout_path
                        .iter()
                        .chain(&a.stderr_path)
                        .cloned()
                        .collect(),
                    None => Vec::new(),
                },
                failed,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct Table {
    head: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

fn metrics(r: &Review) -> Table {
    let head = r
        .agents
        .iter()
        .map(|a| match a.role {
            Role::Judge => format!("Judge: {}", a.display),
            Role::Reviewer => a.display.clone(),
        })
        .collect();
    Table {
        head,
        rows: super::markdown::metrics_rows(r),
    }
}

fn record(r: &Review) -> Option<Table> {
    let rows = super::markdown::record_rows(r)?;
    Some(Table {
        head: r.agents.iter().map(|a| a.display.clone()).collect(),
        rows,
    })
}

#[derive(Serialize)]
struct ReconciliationView {
    agent: String,
    index: usize,
    title: String,
    finding: String,
    from: &'static str,
    to: &'static str,
    reason: String,
}

fn reconciliation(r: &Review) -> Vec<ReconciliationView> {
    r.reconciliation
        .iter()
        .map(|e| ReconciliationView {
            agent: r.agent_display(&e.agent),
            index: e.index,
            title: e.title.trim().to_string(),
            finding: e.finding.clone(),
            from: e.from.as_str(),
            to: e.to.map_or("dropped", Severity::as_str),
            reason: e.reason.trim().to_string(),
        })
        .collect()
}

#[derive(Serialize)]
struct Note {
    who: Option<String>,
    text: String,
}

fn notes(r: &Review) -> Vec<Note> {
    let mut out = Vec::new();
    if r.partial {
        out.push(Note { who: None, text: "The review was interrupted before every reviewer finished; their raw output so far is in the review folder.".into() });
    }
    for a in &r.agents {
        if let Outcome::Failed {
            kind,
            message,
            hint,
        } = &a.outcome
        {
            out.push(Note {
                who: Some(a.name.clone()),
                text: format!("failed ({}): {message}. To fix: {hint}.", kind.label()),
            });
        }
    }
    for u in &r.unavailable {
        out.push(Note {
            who: Some(u.name.clone()),
            text: format!("not available: {}; to enable it, {}.", u.reason, u.hint),
        });
    }
    out.extend(r.notes.iter().map(|n| Note {
        who: None,
        text: n.clone(),
    }));
    out
}

#[derive(Serialize)]
struct ContextView {
    action: &'static str,
    note: String,
    who: String,
    why: String,
}

fn context_updates(r: &Review) -> Vec<ContextView> {
    r.context_updates
        .iter()
        .map(|u| ContextView {
            action: match u.action {
                ContextAction::Add => "Add",
                ContextAction::Remove => "Remove",
            },
            note: u.note.trim().to_string(),
            who: u
                .agents
                .iter()
                .map(|a| r.agent_display(a))
                .collect::<Vec<_>>()
                .join(", "),
            why: u.why.trim().to_string(),
        })
        .collect()
}
