//! `deep-review history` and `deep-review stats`: the history database, as tables or JSON.

use super::schema::Db;
use super::stats::PastReview;
use crate::change::Repo;
use crate::cli::HistoryArgs;
use crate::cli::HistoryPlace;
use crate::cli::StatsArgs;
use crate::errors::Error;
use crate::errors::Result;
use crate::review::AgentRecord;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The database `place` names: `--db`, else the repository's.
fn database(place: &HistoryPlace) -> Result<PathBuf> {
    Ok(match &place.db {
        Some(db) => db.clone(),
        None => Repo::discover(&place.repo)?
            .root
            .join(".deep-review")
            .join("history.sqlite"),
    })
}

pub fn history(args: HistoryArgs) -> Result<String> {
    let db = Db::open_existing(&database(&args.place)?)?;
    let reviews = super::stats::past_reviews(&db)?;
    if args.json {
        let doc = serde_json::json!({ "reviews": reviews });
        return Ok(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n");
    }
    Ok(history_table(&reviews))
}

fn history_table(reviews: &[PastReview]) -> String {
    if reviews.is_empty() {
        return "No reviews recorded yet.\n".into();
    }
    let mut out = String::from(
        "| Date | Subject | Round | Verdict | Findings | Agents |\n|---|---|---|---|---|---|\n",
    );
    for r in reviews {
        let mut findings = Vec::new();
        for (n, l) in [(r.critical, 'C'), (r.important, 'I'), (r.suggestion, 'S')] {
            if n > 0 {
                findings.push(format!("{n}{l}"));
            }
        }
        let findings = if findings.is_empty() {
            "0".to_string()
        } else {
            findings.join(" ")
        };
        let agents: Vec<String> = r
            .agents
            .iter()
            .map(|a| {
                let judge = if a.role == "judge" { "judge " } else { "" };
                let failed = if a.outcome == "ok" {
                    String::new()
                } else {
                    format!(" ({})", a.outcome)
                };
                format!("{judge}{}{failed}", a.name)
            })
            .collect();
        let mut verdict = r.verdict.clone().unwrap_or_else(|| "none".into());
        if r.partial {
            verdict.push_str(" (partial)");
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.started_at.replacen('T', " ", 1),
            r.subject.replace('|', "\\|"),
            r.round,
            verdict,
            findings,
            agents.join(", ").replace('|', "\\|")
        );
    }
    out
}

/// `--since`: a date (local midnight) or a duration back from now; unix seconds.
pub fn parse_since(text: &str, now: chrono::DateTime<chrono::Local>) -> Result<i64> {
    let t = text.trim();
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        return Ok(midnight
            .and_local_timezone(chrono::Local)
            .earliest()
            .map(|t| t.timestamp())
            .unwrap_or_else(|| midnight.and_utc().timestamp()));
    }
    match humantime::parse_duration(t) {
        Ok(d) => Ok(now.timestamp().saturating_sub(d.as_secs() as i64)),
        Err(e) => Err(Error::Usage(format!(
            "--since `{t}` is neither a date nor a duration ({e}); write a date like 2026-04-01 or a duration like 30d or 12h"
        ))),
    }
}

pub fn stats(args: StatsArgs) -> Result<String> {
    let since = match &args.since {
        Some(s) => Some(parse_since(s, chrono::Local::now())?),
        None => None,
    };
    let db = Db::open_existing(&database(&args.place)?)?;
    let records = super::stats::agent_records(&db, since.unwrap_or(i64::MIN))?;
    let agents: Vec<&AgentRecord> = records.values().collect();
    if args.json {
        let since_at = since
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        let doc = serde_json::json!({ "since": since_at, "agents": agents });
        return Ok(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n");
    }
    Ok(stats_table(&agents))
}

fn stats_table(agents: &[&AgentRecord]) -> String {
    if agents.is_empty() {
        return "No complete reviews recorded in that period.\n".into();
    }
    let mut out = String::from(
        "| Agent | Reviews | Findings | Survived | Unique | Dropped | Fixed next round | Median time | Tokens | Cost per reported |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for a in agents {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            a.agent.replace('|', "\\|"),
            a.reviews,
            a.findings,
            a.survived,
            a.unique_insights,
            a.dropped,
            a.fixed_label(),
            crate::util::human_duration(std::time::Duration::from_millis(a.median_duration_ms)),
            tokens_cell(a),
            a.cost_per_reported_finding
                .map(|c| format!("${c:.2}"))
                .unwrap_or_else(|| "—".into()),
        );
    }
    out
}

fn tokens_cell(a: &AgentRecord) -> String {
    if a.tokens_input + a.tokens_output == 0 {
        "—".into()
    } else {
        format!("{} in / {} out", a.tokens_input, a.tokens_output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_date_or_a_duration() {
        let now = chrono::Local::now();
        let day = parse_since("30d", now).unwrap();
        assert_eq!(now.timestamp() - day, 30 * 86_400);
        let date = parse_since("2026-04-01", now).unwrap();
        let back = chrono::DateTime::from_timestamp(date, 0)
            .unwrap()
            .with_timezone(&chrono::Local);
        assert_eq!(
            back.format("%Y-%m-%d %H:%M").to_string(),
            "2026-04-01 00:00"
        );
        let err = parse_since("last tuesday", now).unwrap_err().to_string();
        assert!(err.contains("2026-04-01") && err.contains("30d"), "{err}");
    }
}
