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
mod findings;
mod md;
mod retro;

use findings::*;
use retro::*;

use super::common::*;
use crate::finding::ObservationKind;
use crate::review::*;
use minijinja::Environment;
use minijinja::Value;
use serde::Serialize;
use std::collections::BTreeSet;

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
            notes: notes(r, &ids),
            context_updates: context_updates(r, &ids),
            apply: apply_command(r),
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
    let mut rows = vec![
        row("Date", date(r)),
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
    rows.push(row("Range", range(c)));
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
    rows.push(row("Change", change_size(c)));
    rows.push(row("Reviewers", reviewers(r)));
    if let Some(j) = judge(r) {
        rows.push(row("Judge", j));
    }
    let mut verdict = row("Verdict", r.verdict_title().to_string());
    verdict.lines.push(r.verdict_rationale.trim().to_string());
    rows.push(verdict);
    rows.push(row("Wall-clock time", wall_clock(r)));
    rows
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
                who: agents_display(r, &o.agents),
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
    empty: String,
    items: Vec<(String, Value)>,
}

fn assessments(r: &Review, ids: &BTreeSet<String>) -> Vec<AssessmentView> {
    assessment_sections(r)
        .into_iter()
        .map(|a| AssessmentView {
            id: a.id,
            heading: a.heading,
            empty: a.empty(),
            items: a
                .items
                .iter()
                .map(|x| (assessor(r, &x.agent), safe(md::render(&x.text, ids))))
                .collect(),
        })
        .collect()
}

#[derive(Serialize)]
struct Note {
    who: Option<String>,
    text: Value,
}

fn notes(r: &Review, ids: &BTreeSet<String>) -> Vec<Note> {
    review_notes(r)
        .into_iter()
        .map(|n| Note {
            who: n.who.map(str::to_string),
            text: safe(md::inline(&n.text, ids)),
        })
        .collect()
}

#[derive(Serialize)]
struct ContextView {
    action: &'static str,
    note: Value,
    who: String,
    why: Value,
}

fn context_updates(r: &Review, ids: &BTreeSet<String>) -> Vec<ContextView> {
    r.context_updates
        .iter()
        .map(|u| ContextView {
            action: action(u.action),
            note: safe(md::inline(u.note.trim(), ids)),
            who: agents_display(r, &u.agents),
            why: safe(md::inline(u.why.trim(), ids)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_owner_and_name_of_a_pr_get_a_github_link() {
        let mut c = ChangeSummary::named("lima-vm/lima", "pr");
        assert_eq!(pr_url(&c), None, "no PR number");
        c.pr = Some(4889);
        assert_eq!(
            pr_url(&c).as_deref(),
            Some("https://github.com/lima-vm/lima/pull/4889")
        );
        for repo in ["evil/\"><x", "a/b/c", "javascript:x/y", "../x", "/x", "x/"] {
            c.repo = repo.into();
            assert_eq!(pr_url(&c), None, "{repo}");
        }
        let mut local = ChangeSummary::named("lima-vm/lima", "local");
        local.pr = Some(1);
        assert_eq!(pr_url(&local), None);
    }
}
