//! The Markdown deep-review posts on GitHub: the summary review's body and each inline
//! comment's (with its committable suggestion, when the finding carries one).

use super::existing::finding_marker;
use super::existing::SUMMARY_MARKER;
use super::mentions::quiet;
use super::threads::HeldBack;
use crate::report;
use crate::report::fence_for;
use crate::review::ConsolidatedFinding;
use crate::review::Review;

/// How an inline comment carries the finding's replacement text, if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suggestion {
    /// No replacement.
    None,
    /// A committable ```` ```suggestion ```` block: the comment sits exactly on the
    /// replacement's lines.
    Committable,
    /// The replacement's lines are not within one hunk of the diff, so GitHub cannot commit
    /// it: shown as a plain code block, with where it goes.
    Shown,
}

/// `text` (a file name: the PR author's) as a code span its own backticks cannot close, so
/// nothing in it renders as Markdown or mentions anyone: fenced by a run of backticks longer
/// than any inside (padded when it starts or ends with one), its control characters
/// (a newline would end the paragraph, and the span) written as escapes.
pub fn code_span(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        match c.is_control() {
            true => shown.extend(c.escape_default()),
            false => shown.push(c),
        }
    }
    let fence = "`".repeat(shown.split(|c| c != '`').map(str::len).max().unwrap_or(0) + 1);
    let pad = if shown.starts_with('`') || shown.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{shown}{pad}{fence}")
}

/// A GitHub suggestion block replacing the commented lines with `text` (empty deletes them).
pub fn suggestion_block(text: &str) -> String {
    let fence = fence_for([text]);
    if text.is_empty() {
        format!("{fence}suggestion\n{fence}\n")
    } else {
        format!("{fence}suggestion\n{text}\n{fence}\n")
    }
}

pub fn inline_body(
    r: &Review,
    f: &ConsolidatedFinding,
    fp: &str,
    suggestion: Suggestion,
) -> String {
    let who: Vec<String> = f
        .severity_by_agent()
        .iter()
        .map(|(a, s)| format!("{} ({s})", r.agent_display(a)))
        .collect();
    let mut b = format!(
        "**{} · {}: {}**\n\n{}\n",
        f.id,
        f.severity.title(),
        quiet(f.title.trim()),
        quiet(f.body.trim())
    );
    if let Some(fix) = &f.fix {
        b.push_str(&format!("\n**Fix:** {}\n", quiet(fix.trim())));
    }
    match (suggestion, &f.replacement) {
        (Suggestion::Committable, Some(rep)) => {
            b.push('\n');
            b.push_str(&suggestion_block(&rep.text));
        }
        (Suggestion::Shown, Some(rep)) => {
            let fence = fence_for([rep.text.as_str()]);
            b.push_str(&format!(
                "\nSuggested text for {} lines {}–{} (not committable here: those lines are not within one hunk of the diff):\n\n{fence}\n{}\n{fence}\n",
                code_span(&rep.path), rep.start_line, rep.end_line, rep.text
            ));
        }
        _ => {}
    }
    b.push_str(&format!(
        "\n<sub>Found by {}. {}</sub>\n{}",
        quiet(&who.join(", ")),
        quiet(f.calibration.trim()),
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
    b.push_str(&format!("{}\n\n", quiet(r.verdict_rationale.trim())));
    b.push_str(&quiet(r.summary.trim()));
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
                .map(|l| code_span(&format!("{}:{}", l.path, l.start_line)))
                .unwrap_or_else(|| "—".into());
            b.push_str(&format!(
                "| **{}** | {} | {place} | {} |\n",
                f.id,
                quiet(&f.title.replace('|', "\\|")),
                quiet(&f.agents().join(", "))
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
                quiet(f.title.trim()),
                quiet(f.body.trim())
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
                quiet(&h.title.trim().replace('\n', " ")),
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

/// The body of a later round's review of new inline comments.
pub fn round_note(r: &Review, new: usize) -> String {
    format!(
        "**deep-review, round {}**: {new} new finding{} inline below; the summary review is edited in place.\n",
        r.change.round,
        if new == 1 { "" } else { "s" }
    )
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
            .rsplit_once(super::existing::FINDING_MARKER_START)
            .map_or(c.body.as_str(), |(text, _)| text);
        b.push_str(&format!(
            "{}\n\n{}\n\n",
            code_span(&format!("{}:{}", c.path, c.line)),
            text.trim()
        ));
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_span_cannot_be_closed_by_its_text() {
        assert_eq!(code_span("src/a.rs:2"), "`src/a.rs:2`");
        assert_eq!(code_span("a` @o/t `b"), "``a` @o/t `b``");
        assert_eq!(code_span("`x``"), "``` `x`` ```");
        assert_eq!(code_span("a\n\n@o/t"), "`a\\n\\n@o/t`");
    }

    #[test]
    fn a_suggestion_fence_outgrows_the_backticks_in_its_text() {
        assert_eq!(fence_for(["let x = 1;"]), "```");
        assert_eq!(fence_for(["a `b` c"]), "```");
        assert_eq!(fence_for(["// ```rust\n// ````"]), "`````");
        assert_eq!(
            suggestion_block("x\n```y```"),
            "````suggestion\nx\n```y```\n````\n"
        );
        assert_eq!(
            suggestion_block(""),
            "```suggestion\n```\n",
            "deletes the lines"
        );
    }
}
