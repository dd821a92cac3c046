//! The Markdown report, section for section like the seed review: header, executive summary,
//! findings by severity, other findings, design observations, assessments, agent retro with
//! the metrics table, reconciliation, process notes and repo context updates.
//!
//! Reads only a [`Review`]; output is deterministic for a given review.

use super::common::*;
use super::metrics::agent_heading;
use super::metrics::metrics_rows;
use super::metrics::record_rows;
use crate::finding::ObservationKind;
use crate::record::Outcome;
use crate::review::*;
use std::fmt::Write as _;

pub fn render(r: &Review) -> String {
    let mut out = String::new();
    header(&mut out, r);
    summary(&mut out, r);
    findings(&mut out, r);
    out.push_str(&super::rounds::gone(r));
    other_findings(&mut out, r);
    observations(&mut out, r);
    assessments(&mut out, r);
    retro(&mut out, r);
    reconciliation(&mut out, r);
    process_notes(&mut out, r);
    context_updates(&mut out, r);
    out
}

/// Escapes text for a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn header(out: &mut String, r: &Review) {
    let c = &r.change;
    let _ = writeln!(out, "# Deep Review: {}\n", r.id);
    out.push_str(&super::rounds::opening(r));
    if r.partial {
        out.push_str("> **Partial review.** The run was interrupted; this review holds only what had arrived.\n\n");
    }
    out.push_str("| | |\n|---|---|\n");
    let _ = writeln!(out, "| Date | {} |", date(r));
    let _ = writeln!(out, "| Repo | {} |", cell(&c.repo));
    let _ = writeln!(out, "| Round | {} |", c.round);
    if let Some(a) = &c.author {
        let _ = writeln!(out, "| Author | {} |", cell(a));
    }
    if let Some(pr) = c.pr {
        let title = c.title.as_deref().unwrap_or("");
        let _ = writeln!(out, "| PR | #{pr} — {} |", cell(title));
    }
    let _ = writeln!(out, "| Range | {} |", cell(&range(c)));
    let _ = writeln!(out, "| Commits | {} |", commits_cell(&c.commits));
    let _ = writeln!(out, "| Change | {} |", change_size(c));
    let _ = writeln!(out, "| Reviewers | {} |", cell(&reviewers(r)));
    if let Some(j) = judge(r) {
        let _ = writeln!(out, "| Judge | {} |", cell(&j));
    }
    let _ = writeln!(
        out,
        "| Verdict | {} — {} |",
        r.verdict_title(),
        cell(&r.verdict_rationale)
    );
    let _ = writeln!(out, "| Wall-clock time | {} |\n", wall_clock(r));
}

/// Commits listed in the header; review.json keeps them all.
const HEADER_COMMITS: usize = 10;

/// The header's commit cell: the first [`HEADER_COMMITS`] commits, then how many more.
fn commits_cell(commits: &[CommitSummary]) -> String {
    if commits.is_empty() {
        return "(uncommitted changes)".to_string();
    }
    let mut lines: Vec<String> = commits
        .iter()
        .take(HEADER_COMMITS)
        .map(|k| format!("{} {}", short(&k.sha), cell(&k.subject)))
        .collect();
    if commits.len() > HEADER_COMMITS {
        lines.push(format!(
            "… and {} more (all {} in review.json)",
            commits.len() - HEADER_COMMITS,
            commits.len()
        ));
    }
    lines.join("<br>")
}

fn summary(out: &mut String, r: &Review) {
    out.push_str("## Executive Summary\n\n");
    out.push_str(r.summary.trim());
    out.push_str("\n\n");
    let c = r.counts();
    let _ = writeln!(
        out,
        "Structure: {} critical, {} important, {} suggestion{}.\n",
        c.critical,
        c.important,
        c.suggestion,
        plural(c.suggestion as usize)
    );
}

fn lang_of(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e).unwrap_or("") {
        "rs" => "rust",
        "go" => "go",
        "py" => "python",
        "js" | "mjs" | "cjs" => "javascript",
        "ts" => "typescript",
        "tsx" => "tsx",
        "jsx" => "jsx",
        "java" => "java",
        "kt" => "kotlin",
        "c" | "h" => "c",
        "cc" | "cpp" | "hpp" | "cxx" => "cpp",
        "rb" => "ruby",
        "sh" | "bash" => "sh",
        "toml" => "toml",
        "yaml" | "yml" => "yaml",
        "json" => "json",
        "md" => "markdown",
        _ => "",
    }
}

/// A finding's locations: each verified one with its excerpt, the cited lines marked `>`.
fn locations(out: &mut String, f: &ConsolidatedFinding) {
    for l in &f.locations {
        if !l.verified {
            let note = l.note.as_deref().unwrap_or("not verified");
            let _ = writeln!(
                out,
                "`{}` (citation not verified: {note})\n",
                location_label(l)
            );
            continue;
        }
        let _ = write!(out, "`{}`", location_label(l));
        if let Some(from) = l.relocated_from {
            let _ = write!(out, " (cited as line {from}; the quoted code is here)");
        }
        out.push_str("\n\n");
        if l.excerpt.is_some() {
            let _ = writeln!(out, "```{}", lang_of(&l.path));
            for (n, line, hit) in cited_lines(l) {
                let mark = if hit { '>' } else { ' ' };
                let _ = writeln!(out, "{mark}{n:>5} | {line}");
            }
            out.push_str("```\n\n");
        }
    }
}

fn finding_block(out: &mut String, r: &Review, f: &ConsolidatedFinding) {
    let _ = writeln!(out, "### {}. {}\n", f.id, f.title.trim());
    let mut meta = vec![format!("Found by {}", attribution(r, f))];
    meta.extend(tags(r, f));
    let _ = writeln!(out, "*{}*\n", meta.join(" · "));
    locations(out, f);
    if !f.body.trim().is_empty() {
        out.push_str(f.body.trim());
        out.push_str("\n\n");
    }
    if let Some(fix) = &f.fix {
        if !fix.trim().is_empty() {
            let _ = writeln!(out, "**Fix:** {}\n", fix.trim());
        }
    }
    if let Some(r) = &f.replacement {
        out.push_str(&super::suggestion::markdown(f, r));
    }
    let _ = writeln!(out, "**Severity calibration:** {}\n", f.calibration.trim());
}

fn findings(out: &mut String, r: &Review) {
    for (sev, _, heading) in SEVERITY_SECTIONS {
        let _ = writeln!(out, "## {heading}\n");
        let list: Vec<&ConsolidatedFinding> = r.reported().filter(|f| f.severity == sev).collect();
        if list.is_empty() {
            out.push_str("None.\n\n");
            continue;
        }
        for f in list {
            finding_block(out, r, f);
        }
    }
}

fn other_findings(out: &mut String, r: &Review) {
    let held: Vec<&ConsolidatedFinding> = r
        .findings
        .iter()
        .filter(|f| f.status == Status::HeldBack)
        .collect();
    let dropped: Vec<&ConsolidatedFinding> = r
        .findings
        .iter()
        .filter(|f| f.status == Status::Dropped)
        .collect();
    if held.is_empty() && dropped.is_empty() {
        return;
    }
    out.push_str("## Other Findings\n\n");
    if !held.is_empty() {
        out.push_str("Held back: reported by one reviewer without a verified citation, or with low confidence. Worth a look, not a blocker.\n\n");
        for f in held {
            let place = f
                .locations
                .first()
                .map(|l| format!(" — `{}`", location_label(l)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- **{}** {} ({}){place}",
                f.id,
                f.title.trim(),
                attribution(r, f)
            );
        }
        out.push('\n');
    }
    if !dropped.is_empty() {
        out.push_str(
            "Dropped: every citation points at code that does not exist in the head tree.\n\n",
        );
        for f in dropped {
            let _ = writeln!(
                out,
                "- **{}** {} ({}): {}",
                f.id,
                f.title.trim(),
                attribution(r, f),
                f.drop_reason.as_deref().unwrap_or("")
            );
        }
        out.push('\n');
    }
}

fn observations(out: &mut String, r: &Review) {
    out.push_str("## Design Observations\n\n");
    for (kind, heading) in [
        (ObservationKind::Concern, "Concerns"),
        (ObservationKind::Strength, "Strengths"),
    ] {
        let _ = writeln!(out, "### {heading}\n");
        let list: Vec<&ConsolidatedObservation> =
            r.observations.iter().filter(|o| o.kind == kind).collect();
        if list.is_empty() {
            out.push_str("None reported.\n\n");
            continue;
        }
        for o in list {
            let scope = o
                .scope
                .map(|s| format!(" ({})", s.tag()))
                .unwrap_or_default();
            let places: Vec<String> = o
                .locations
                .iter()
                .map(|l| format!("`{}`", location_label(l)))
                .collect();
            let places = if places.is_empty() {
                String::new()
            } else {
                format!(" — {}", places.join(", "))
            };
            let _ = write!(
                out,
                "- **{}**{scope}{places} — {}.",
                o.title.trim(),
                agents_display(r, &o.agents)
            );
            if !o.body.trim().is_empty() {
                let _ = write!(out, " {}", o.body.trim().replace('\n', " "));
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

fn assessments(out: &mut String, r: &Review) {
    for a in assessment_sections(r) {
        let _ = writeln!(out, "## {}\n", a.heading);
        if a.items.is_empty() {
            let _ = writeln!(out, "{}\n", a.empty());
            continue;
        }
        for x in a.items {
            let _ = writeln!(out, "**{}:** {}\n", assessor(r, &x.agent), x.text.trim());
        }
    }
}

fn retro(out: &mut String, r: &Review) {
    out.push_str("## Agent Performance Retro\n\n");
    for a in &r.agents {
        let _ = writeln!(out, "### {}\n", agent_heading(a));
        let _ = writeln!(out, "{}\n", a.retro.trim());
        if let Outcome::Failed { .. } = a.outcome {
            if !a.stderr_tail.trim().is_empty() {
                out.push_str("Last lines of its stderr:\n\n```text\n");
                let tail: Vec<&str> = a.stderr_tail.lines().collect();
                let from = tail.len().saturating_sub(12);
                for l in &tail[from..] {
                    let _ = writeln!(out, "{l}");
                }
                out.push_str("```\n\n");
            }
            if let Some(p) = &a.stdout_path {
                let _ = writeln!(
                    out,
                    "Raw output: `{p}`{}.\n",
                    a.stderr_path
                        .as_ref()
                        .map(|e| format!(", `{e}`"))
                        .unwrap_or_default()
                );
            }
        }
    }
    out.push_str("### Summary\n\n");
    out.push_str(&metrics_table(r));
    out.push_str(&record_table(r));
}

/// Each agent's record across the earlier reviews in the history, when any agent has one.
pub fn record_table(r: &Review) -> String {
    let Some(rows) = record_rows(r) else {
        return String::new();
    };
    let mut out = String::from(
        "### Record so far\n\nFrom this repository's review history (`.deep-review/history.sqlite`), before this review; `deep-review stats` shows it for every agent.\n\n| |",
    );
    for a in &r.agents {
        let _ = write!(out, " {} |", cell(&a.display));
    }
    out.push_str(&table_body(r.agents.len(), &rows));
    out
}

/// The separator row and the rows of a table with `columns` agent columns.
fn table_body(columns: usize, rows: &[(String, Vec<String>)]) -> String {
    let mut out = String::from("\n|---|");
    for _ in 0..columns {
        out.push_str("---|");
    }
    out.push('\n');
    for (label, values) in rows {
        let _ = write!(out, "| {label} |");
        for v in values {
            let _ = write!(out, " {} |", cell(v));
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The retro's metrics table (DESIGN.md, "Metrics per agent"), one column per agent.
pub fn metrics_table(r: &Review) -> String {
    let mut out = String::new();
    let _ = write!(out, "| |");
    for a in &r.agents {
        let _ = write!(out, " {} |", cell(&agent_heading(a)));
    }
    out.push_str(&table_body(r.agents.len(), &metrics_rows(r)));
    out
}

fn reconciliation(out: &mut String, r: &Review) {
    out.push_str("## Reconciliation\n\n");
    if r.reconciliation.is_empty() {
        out.push_str("No severity changed: every consolidated finding kept the severity its reviewers gave.\n\n");
        return;
    }
    for e in &r.reconciliation {
        let to = match e.to {
            Some(s) => format!("{} → {s} ({})", e.from, e.finding),
            None => format!("{} → dropped ({})", e.from, e.finding),
        };
        let _ = writeln!(
            out,
            "- {} finding {} “{}”: {to}. {}",
            r.agent_display(&e.agent),
            e.index,
            e.title.trim(),
            e.reason.trim()
        );
    }
    out.push('\n');
}

fn process_notes(out: &mut String, r: &Review) {
    let notes = review_notes(r);
    if notes.is_empty() {
        return;
    }
    out.push_str("## Review Process Notes\n\n");
    for n in notes {
        match n.who {
            Some(who) => writeln!(out, "- **{who}** {}", n.text),
            None => writeln!(out, "- {}", n.text),
        }
        .ok();
    }
    out.push('\n');
}

fn context_updates(out: &mut String, r: &Review) {
    out.push_str("## Repo Context Updates\n\n");
    if r.context_updates.is_empty() {
        out.push_str("No reviewer proposed a note for future reviews of this repository.\n");
        return;
    }
    for u in &r.context_updates {
        let _ = write!(
            out,
            "- **{}** — {} ({})",
            action(u.action),
            u.note.trim(),
            agents_display(r, &u.agents)
        );
        if !u.why.trim().is_empty() {
            let _ = write!(out, "\n  *Why:* {}", u.why.trim());
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nTo keep them for future reviews, run `{}` in the repository (it shows the change to `.deep-review/context.md` as a diff before writing it; a review folder or review.json path works too), then commit `.deep-review/context.md`: reviews read the notes from the base branch.",
        apply_command(r)
    );
}
