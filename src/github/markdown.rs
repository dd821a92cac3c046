//! The Markdown deep-review posts on GitHub: the summary review's body and each inline
//! comment's (with its committable suggestion, when the finding carries one).

use super::existing::finding_marker;
use super::existing::SUMMARY_MARKER;
use super::threads::HeldBack;
use crate::report;
use crate::review::ConsolidatedFinding;
use crate::review::Review;

pub fn inline_body(r: &Review, f: &ConsolidatedFinding, fp: &str) -> String {
    let who: Vec<String> = f
        .severity_by_agent()
        .iter()
        .map(|(a, s)| format!("{} ({s})", r.agent_display(a)))
        .collect();
    let mut b = format!(
        "**{} · {}: {}**\n\n{}\n",
        f.id,
        f.severity.title(),
        f.title.trim(),
        f.body.trim()
    );
    if let Some(fix) = &f.fix {
        b.push_str(&format!("\n**Fix:** {}\n", fix.trim()));
    }
    b.push_str(&format!(
        "\n<sub>Found by {}. {}</sub>\n{}",
        who.join(", "),
        f.calibration.trim(),
        finding_marker(fp)
    ));
    b
}

/// The summary review's body: verdict, summary, the findings (with those not placed inline),
/// and the retro table, under the hidden marker.
pub fn summary_body(r: &Review, not_inline: &[String], held_back: &[HeldBack]) -> String {
    let mut b = format!(
        "{SUMMARY_MARKER}\n## deep-review: {}\n\n",
        r.verdict_title()
    );
    b.push_str(&format!("{}\n\n", r.verdict_rationale.trim()));
    b.push_str(r.summary.trim());
    b.push_str("\n\n");
    let reported: Vec<&ConsolidatedFinding> = r
        .reported()
        .filter(|f| !held_back.iter().any(|h| h.finding == f.id))
        .collect();
    if reported.is_empty() {
        b.push_str("No findings survived consolidation.\n\n");
    } else {
        b.push_str("| | Finding | Where | Found by |\n|---|---|---|---|\n");
        for f in &reported {
            let place = f
                .locations
                .iter()
                .find(|l| l.verified)
                .map(|l| format!("`{}:{}`", l.path, l.start_line))
                .unwrap_or_else(|| "—".into());
            b.push_str(&format!(
                "| **{}** | {} | {place} | {} |\n",
                f.id,
                f.title.replace('|', "\\|"),
                f.agents().join(", ")
            ));
        }
        b.push('\n');
    }
    let details: Vec<&&ConsolidatedFinding> = reported
        .iter()
        .filter(|f| not_inline.contains(&f.id))
        .collect();
    if !details.is_empty() {
        b.push_str("### Findings outside the diff\n\n");
        for f in details {
            b.push_str(&format!(
                "**{} · {}: {}**\n\n{}\n\n",
                f.id,
                f.severity.title(),
                f.title.trim(),
                f.body.trim()
            ));
        }
    }
    if !held_back.is_empty() {
        b.push_str("### Held back\n\nDismissed on their thread, so not posted again:\n\n");
        for h in held_back {
            let how = match h.how {
                "thumbs_down" => "a 👎",
                _ => "a reply",
            };
            b.push_str(&format!(
                "- **{}** {} — dismissed by `{}` with {how} in [its thread]({})\n",
                h.finding,
                h.title.trim().replace('\n', " "),
                h.by.replace('`', "'"),
                h.url
            ));
        }
        b.push('\n');
    }
    b.push_str(&report::markdown::metrics_table(r));
    b.push_str(&format!(
        "\n<sub>{} · review {}</sub>\n",
        concat!("deep-review ", env!("CARGO_PKG_VERSION")),
        r.id
    ));
    b
}

/// The section listing the findings GitHub would not place inline: each comment's text (its
/// marker left out: the finding is not posted inline), where it would have gone.
pub fn not_placed_section(refused: &[&super::plan::Inline]) -> String {
    if refused.is_empty() {
        return String::new();
    }
    let mut b =
        String::from("\n### Not placed inline\n\nGitHub would not place these on the diff:\n\n");
    for c in refused {
        let text = c
            .body
            .split(super::existing::FINDING_MARKER_START)
            .next()
            .unwrap_or("");
        b.push_str(&format!("`{}:{}`\n\n{}\n\n", c.path, c.line, text.trim()));
    }
    b
}
