//! The Markdown report, section for section like the seed review: header, executive summary,
//! findings by severity, other findings, design observations, assessments, agent retro with
//! the metrics table, reconciliation, process notes and repo context updates.
//!
//! Reads only a [`Review`]; output is deterministic for a given review.

use crate::finding::ContextAction;
use crate::finding::ObservationKind;
use crate::finding::Severity;
use crate::record::Outcome;
use crate::review::*;
use crate::util::human_duration;
use std::fmt::Write as _;
use std::time::Duration;

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
    let date = r
        .created_at
        .get(..16)
        .unwrap_or(&r.created_at)
        .replace('T', " ");
    let _ = writeln!(out, "| Date | {date} |");
    let _ = writeln!(out, "| Repo | {} |", cell(&c.repo));
    let _ = writeln!(out, "| Round | {} |", c.round);
    if let Some(a) = &c.author {
        let _ = writeln!(out, "| Author | {} |", cell(a));
    }
    if let Some(pr) = c.pr {
        let title = c.title.as_deref().unwrap_or("");
        let _ = writeln!(out, "| PR | #{pr} — {} |", cell(title));
    }
    let range = if c.uncommitted {
        format!("{} ({}) → working tree", c.base_ref, short(&c.base_sha))
    } else {
        format!(
            "{} ({}) → {} ({})",
            c.base_ref,
            short(&c.base_sha),
            c.head_ref,
            short(&c.head_sha)
        )
    };
    let _ = writeln!(out, "| Range | {} |", cell(&range));
    let _ = writeln!(out, "| Commits | {} |", commits_cell(&c.commits));
    let _ = writeln!(
        out,
        "| Change | {} file{}, +{} −{} |",
        c.files_changed,
        plural(c.files_changed),
        c.lines_added,
        c.lines_removed
    );
    let reviewers: Vec<String> = r
        .reviewers()
        .map(|a| {
            if a.outcome.is_ok() {
                a.display.clone()
            } else {
                format!("{} (failed)", a.display)
            }
        })
        .collect();
    let _ = writeln!(out, "| Reviewers | {} |", cell(&reviewers.join(", ")));
    if let Some(j) = r.judge() {
        let state = if j.outcome.is_ok() { "" } else { " (failed)" };
        let _ = writeln!(out, "| Judge | {}{state} |", cell(&j.display));
    }
    let _ = writeln!(
        out,
        "| Verdict | {} — {} |",
        r.verdict_title(),
        cell(&r.verdict_rationale)
    );
    let _ = writeln!(
        out,
        "| Wall-clock time | {} |\n",
        human_duration(Duration::from_millis(r.wall_clock_ms))
    );
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(8)]
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
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
        if c.suggestion == 1 { "" } else { "s" }
    );
}

fn attribution(r: &Review, f: &ConsolidatedFinding) -> String {
    f.severity_by_agent()
        .iter()
        .map(|(a, s)| format!("{} ({s})", r.agent_display(a)))
        .collect::<Vec<_>>()
        .join(", ")
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

fn location_label(l: &VerifiedLocation) -> String {
    if l.end_line > l.start_line {
        format!("{}:{}-{}", l.path, l.start_line, l.end_line)
    } else {
        format!("{}:{}", l.path, l.start_line)
    }
}

fn finding_block(out: &mut String, r: &Review, f: &ConsolidatedFinding) {
    let _ = writeln!(out, "### {}. {}\n", f.id, f.title.trim());
    let mut meta = vec![format!("Found by {}", attribution(r, f))];
    meta.extend(super::rounds::tag(r, &f.id));
    if let Some(s) = f.scope {
        meta.push(format!("scope: {}", s.tag()));
    }
    if let Some(c) = &f.category {
        meta.push(format!("category: {c}"));
    }
    if let Some(c) = f.confidence {
        meta.push(format!("confidence: {c:.2}"));
    }
    let _ = writeln!(out, "*{}*\n", meta.join(" · "));
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
        if let Some(ex) = &l.excerpt {
            let _ = writeln!(out, "```{}", lang_of(&l.path));
            for (i, line) in ex.lines.iter().enumerate() {
                let n = ex.start_line + i as u32;
                let mark = if n >= l.start_line && n <= l.end_line {
                    '>'
                } else {
                    ' '
                };
                let _ = writeln!(out, "{mark}{n:>5} | {line}");
            }
            out.push_str("```\n\n");
        }
    }
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
    for (sev, heading) in [
        (Severity::Critical, "Critical Issues"),
        (Severity::Important, "Important Issues"),
        (Severity::Suggestion, "Suggestions"),
    ] {
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
            let who: Vec<String> = o.agents.iter().map(|a| r.agent_display(a)).collect();
            let _ = write!(
                out,
                "- **{}**{scope}{places} — {}.",
                o.title.trim(),
                who.join(", ")
            );
            if !o.body.trim().is_empty() {
                let _ = write!(out, " {}", o.body.trim().replace('\n', " "));
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

fn assessment(out: &mut String, r: &Review, heading: &str, items: &[Attributed], what: &str) {
    let _ = writeln!(out, "## {heading}\n");
    if items.is_empty() {
        let _ = writeln!(out, "No reviewer assessed {what}.\n");
        return;
    }
    for a in items {
        let who = if a.agent == "builtin" {
            "Facts (builtin)".to_string()
        } else {
            r.agent_display(&a.agent)
        };
        let _ = writeln!(out, "**{who}:** {}\n", a.text.trim());
    }
}

fn assessments(out: &mut String, r: &Review) {
    assessment(
        out,
        r,
        "Testing Assessment",
        &r.assessments.testing,
        "testing",
    );
    assessment(
        out,
        r,
        "Documentation Assessment",
        &r.assessments.documentation,
        "documentation",
    );
    assessment(
        out,
        r,
        "Commit Structure",
        &r.assessments.commits,
        "the commits",
    );
}

fn tool_calls(m: &Metrics) -> String {
    if m.tool_calls == 0 {
        return "0".into();
    }
    let mut by: Vec<(&String, &u32)> = m.tool_calls_by_name.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = by.iter().map(|(n, c)| format!("{n} {c}")).collect();
    format!("{} ({})", m.tool_calls, parts.join(", "))
}

fn retro(out: &mut String, r: &Review) {
    out.push_str("## Agent Performance Retro\n\n");
    for a in &r.agents {
        let role = if a.role == Role::Judge { "Judge: " } else { "" };
        let _ = writeln!(out, "### {role}{}\n", a.display);
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

/// The record table's rows (label, one value per agent), or None when no agent has a record.
pub fn record_rows(r: &Review) -> Option<Vec<(String, Vec<String>)>> {
    if r.agents.iter().all(|a| a.metrics.record.is_none()) {
        return None;
    }
    type Row = (&'static str, fn(&AgentRecord) -> String);
    let rows: [Row; 8] = [
        ("Reviews", |x| x.reviews.to_string()),
        ("Findings", |x| x.findings.to_string()),
        ("Survived consolidation", |x| x.survived.to_string()),
        ("Unique insights", |x| x.unique_insights.to_string()),
        ("Refuted or dropped", |x| x.dropped.to_string()),
        ("Fixed by the next round", AgentRecord::fixed_label),
        ("Median duration", |x| {
            human_duration(Duration::from_millis(x.median_duration_ms))
        }),
        ("Cost per reported finding", |x| {
            x.cost_per_reported_finding
                .map(|c| format!("${c:.2}"))
                .unwrap_or_else(|| "—".into())
        }),
    ];
    let values = |f: fn(&AgentRecord) -> String| {
        r.agents
            .iter()
            .map(|a| a.metrics.record.as_ref().map_or("—".to_string(), f))
            .collect()
    };
    Some(
        rows.into_iter()
            .map(|(label, f)| (label.to_string(), values(f)))
            .collect(),
    )
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
        let role = if a.role == Role::Judge { "Judge: " } else { "" };
        let _ = write!(out, " {role}{} |", cell(&a.display));
    }
    out.push_str(&table_body(r.agents.len(), &metrics_rows(r)));
    out
}

/// The metrics table's rows: a label and one value per agent ("—" where it does not apply).
pub fn metrics_rows(r: &Review) -> Vec<(String, Vec<String>)> {
    // `true`: measured from the run itself, so shown for every agent, a failed one or the
    // judge included. `false`: about the findings a reviewer reported, shown only for
    // reviewers that answered.
    type Row = (&'static str, bool, fn(&AgentColumn) -> String);
    let rows: Vec<Row> = vec![
        ("Outcome", true, |a| match &a.outcome {
            Outcome::Ok => "ok".into(),
            Outcome::Failed { kind, .. } => format!("failed: {}", kind.label()),
        }),
        ("Duration", true, |a| {
            human_duration(Duration::from_millis(a.metrics.duration_ms))
        }),
        ("Findings", false, |a| a.metrics.findings.short()),
        ("Tool calls", true, |a| tool_calls(&a.metrics)),
        ("Design observations", false, |a| {
            a.metrics.observations.to_string()
        }),
        ("False positives", false, |a| {
            a.metrics.false_positives.to_string()
        }),
        ("Unique insights", false, |a| {
            a.metrics.unique_insights.to_string()
        }),
        ("Files reviewed", true, |a| {
            a.metrics.files_reviewed.to_string()
        }),
        ("Coverage misses", false, |a| {
            a.metrics.coverage_misses.to_string()
        }),
        ("Totals", false, |a| a.metrics.totals.short()),
        ("Downgraded", false, |a| a.metrics.downgraded.to_string()),
        ("Upgraded", false, |a| a.metrics.upgraded.to_string()),
        ("Dropped", false, |a| a.metrics.dropped.to_string()),
        ("Tokens", true, |a| match &a.metrics.tokens {
            Some(t) => format!("{} in / {} out", t.input, t.output),
            None => "—".into(),
        }),
        ("Cost", true, |a| match a.metrics.cost_usd {
            Some(c) => format!("${c:.2}"),
            None => "—".into(),
        }),
    ];
    let mut rows = rows;
    if r.agents.iter().any(|a| a.metrics.budget.is_some()) {
        rows.push(("Budget", true, |a| budget_cell(&a.metrics)));
    }
    rows.into_iter()
        .map(|(label, measured, f)| {
            let values = r
                .agents
                .iter()
                .map(|a| {
                    if measured || (a.outcome.is_ok() && a.role == Role::Reviewer) {
                        f(a)
                    } else {
                        "—".to_string()
                    }
                })
                .collect();
            (label.to_string(), values)
        })
        .collect()
}

/// Spend against budget: "1200 of 2000 tokens, $0.01 of $0.05; reached the agent's token
/// budget of 2000".
fn budget_cell(m: &crate::review::Metrics) -> String {
    let Some(b) = &m.budget else {
        return "—".into();
    };
    let tokens = m.tokens.as_ref().map(|t| t.input + t.output).unwrap_or(0);
    let cost = m.cost_usd.unwrap_or(0.0);
    let mut parts = Vec::new();
    if let Some(max) = b.limits.max_tokens {
        parts.push(format!("{tokens} of {max} tokens"));
    }
    if let Some(max) = b.limits.max_cost_usd {
        parts.push(format!("${cost:.2} of ${max:.2}"));
    }
    if let Some(max) = b.limits.review_max_tokens {
        parts.push(format!("{tokens} of the review's {max} tokens"));
    }
    if let Some(max) = b.limits.review_max_cost_usd {
        parts.push(format!("${cost:.2} of the review's ${max:.2}"));
    }
    let mut s = parts.join(", ");
    if let Some(why) = &b.reached {
        s.push_str(&format!("; reached {why}"));
    }
    s
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
    let failed: Vec<&AgentColumn> = r.agents.iter().filter(|a| !a.outcome.is_ok()).collect();
    if failed.is_empty() && r.unavailable.is_empty() && r.notes.is_empty() && !r.partial {
        return;
    }
    out.push_str("## Review Process Notes\n\n");
    if r.partial {
        out.push_str("- The review was interrupted before every reviewer finished; their raw output so far is in the review folder.\n");
    }
    for a in failed {
        if let Outcome::Failed {
            kind,
            message,
            hint,
        } = &a.outcome
        {
            let _ = writeln!(
                out,
                "- **{}** failed ({}): {message}. To fix: {hint}.",
                a.name,
                kind.label()
            );
        }
    }
    for u in &r.unavailable {
        let _ = writeln!(
            out,
            "- **{}** not available: {}; to enable it, {}.",
            u.name, u.reason, u.hint
        );
    }
    for n in &r.notes {
        let _ = writeln!(out, "- {n}");
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
        let action = match u.action {
            ContextAction::Add => "Add",
            ContextAction::Remove => "Remove",
        };
        let who: Vec<String> = u.agents.iter().map(|a| r.agent_display(a)).collect();
        let _ = write!(
            out,
            "- **{action}** — {} ({})",
            u.note.trim(),
            who.join(", ")
        );
        if !u.why.trim().is_empty() {
            let _ = write!(out, "\n  *Why:* {}", u.why.trim());
        }
        out.push('\n');
    }
    let round = r.change.round.max(1);
    let _ = writeln!(
        out,
        "\nTo keep them for future reviews, run `deep-review context apply {}/round-{round}` in the repository (it shows the change to `.deep-review/context.md` as a diff before writing it; a review folder or review.json path works too), then commit `.deep-review/context.md`: reviews read the notes from the base branch.",
        r.id
    );
}
