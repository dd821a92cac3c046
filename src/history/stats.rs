//! Reading the history: each agent's record across reviews, and the list of past reviews.

use super::schema::Db;
use crate::errors::HistoryError;
use crate::review::AgentRecord;
use serde::Serialize;
use std::collections::BTreeMap;
use std::collections::HashSet;

/// Per agent, over the complete reviews that started at or after `since` (unix seconds), by
/// agent name.
pub fn agent_records(db: &Db, since: i64) -> Result<BTreeMap<String, AgentRecord>, HistoryError> {
    let mut by: BTreeMap<String, AgentRecord> = BTreeMap::new();
    let mut durations: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut costs: BTreeMap<String, Option<f64>> = BTreeMap::new();
    let mut stmt = db
        .conn
        .prepare(
            "SELECT a.name, a.kind, a.model, a.duration_ms, a.tokens_in, a.tokens_out,
                    a.cost_usd, a.findings
             FROM agent_runs a JOIN reviews r ON a.review = r.id
             WHERE r.partial = 0 AND r.started_unix >= ?1
             ORDER BY r.started_unix, r.id",
        )
        .map_err(db.err("read"))?;
    let rows = stmt
        .query_map([since], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<f64>>(6)?,
                r.get::<_, i64>(7)?,
            ))
        })
        .map_err(db.err("read"))?;
    for row in rows {
        let (name, kind, model, ms, tin, tout, cost, findings) = row.map_err(db.err("read"))?;
        let rec = by.entry(name.clone()).or_insert_with(|| AgentRecord {
            agent: name.clone(),
            ..AgentRecord::default()
        });
        rec.kind = kind;
        rec.model = model;
        rec.reviews += 1;
        rec.findings += findings as u32;
        rec.tokens_input += tin.unwrap_or(0) as u64;
        rec.tokens_output += tout.unwrap_or(0) as u64;
        durations.entry(name.clone()).or_default().push(ms as u64);
        let total = costs.entry(name).or_default();
        if let Some(c) = cost {
            *total = Some(total.unwrap_or(0.0) + c);
        }
    }
    drop(stmt);
    count_findings(db, since, &mut by)?;
    count_fixed(db, since, &mut by)?;
    for (name, rec) in by.iter_mut() {
        rec.median_duration_ms = median(durations.remove(name).unwrap_or_default());
        rec.cost_usd = costs.remove(name).flatten();
        rec.fixed_share = (rec.followed > 0).then(|| rec.fixed as f64 / rec.followed as f64);
        rec.cost_per_reported_finding = match (rec.cost_usd, rec.reported) {
            (Some(c), n) if n > 0 => Some(c / n as f64),
            _ => None,
        };
    }
    Ok(by)
}

fn median(mut v: Vec<u64>) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2
    }
}

/// What became of each agent's findings: survived, unique, held back, dropped and why.
fn count_findings(
    db: &Db,
    since: i64,
    by: &mut BTreeMap<String, AgentRecord>,
) -> Result<(), HistoryError> {
    let mut stmt = db
        .conn
        .prepare(
            "SELECT f.agent, f.outcome, f.unique_insight, f.consolidated
             FROM findings f JOIN reviews r ON f.review = r.id
             WHERE r.partial = 0 AND r.started_unix >= ?1",
        )
        .map_err(db.err("read"))?;
    let rows = stmt
        .query_map([since], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(db.err("read"))?;
    // An agent that reported one problem twice contributed to one reported finding, once.
    let mut reported: HashSet<(String, i64)> = HashSet::new();
    let mut unique: HashSet<(String, i64)> = HashSet::new();
    for row in rows {
        let (agent, outcome, is_unique, cid) = row.map_err(db.err("read"))?;
        let Some(rec) = by.get_mut(&agent) else {
            continue;
        };
        match outcome.as_str() {
            "reported" => {
                rec.survived += 1;
                if reported.insert((agent.clone(), cid)) {
                    rec.reported += 1;
                }
                if is_unique && unique.insert((agent, cid)) {
                    rec.unique_insights += 1;
                }
            }
            "held_back" => rec.held_back += 1,
            "refuted" => {
                rec.refuted += 1;
                rec.dropped += 1;
            }
            _ => {
                rec.invalid_citations += 1;
                rec.dropped += 1;
            }
        }
    }
    Ok(())
}

/// Of each agent's reported findings, how many a later complete round looked at, and fixed.
fn count_fixed(
    db: &Db,
    since: i64,
    by: &mut BTreeMap<String, AgentRecord>,
) -> Result<(), HistoryError> {
    let mut stmt = db
        .conn
        .prepare(
            "SELECT DISTINCT f.agent, c.id, MAX(x.fixed)
             FROM findings f
             JOIN consolidated c ON f.consolidated = c.id
             JOIN reviews r ON c.review = r.id
             JOIN fixes x ON x.earlier = c.id
             JOIN reviews later ON x.review = later.id
             WHERE c.status = 'reported' AND r.partial = 0 AND later.partial = 0
               AND r.started_unix >= ?1
             GROUP BY f.agent, c.id",
        )
        .map_err(db.err("read"))?;
    let rows = stmt
        .query_map([since], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, bool>(2)?))
        })
        .map_err(db.err("read"))?;
    for row in rows {
        let (agent, fixed) = row.map_err(db.err("read"))?;
        if let Some(rec) = by.get_mut(&agent) {
            rec.followed += 1;
            rec.fixed += u32::from(fixed);
        }
    }
    Ok(())
}

/// One past review, as `deep-review history` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PastReview {
    pub review_id: String,
    pub round: u32,
    pub subject: String,
    pub kind: String,
    pub head_sha: String,
    /// Start, RFC 3339 in UTC.
    pub started_at: String,
    pub verdict: Option<String>,
    pub partial: bool,
    /// Reported findings by severity.
    pub critical: u32,
    pub important: u32,
    pub suggestion: u32,
    pub agents: Vec<PastAgent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PastAgent {
    pub name: String,
    pub role: String,
    pub outcome: String,
}

/// Every review, newest first.
pub fn past_reviews(db: &Db) -> Result<Vec<PastReview>, HistoryError> {
    let mut stmt = db
        .conn
        .prepare(
            "SELECT r.id, r.review_id, r.round, r.subject, r.kind, r.head_sha, r.started_unix,
                    r.verdict, r.partial,
                    (SELECT COUNT(*) FROM consolidated c WHERE c.review = r.id
                        AND c.status = 'reported' AND c.severity = 'critical'),
                    (SELECT COUNT(*) FROM consolidated c WHERE c.review = r.id
                        AND c.status = 'reported' AND c.severity = 'important'),
                    (SELECT COUNT(*) FROM consolidated c WHERE c.review = r.id
                        AND c.status = 'reported' AND c.severity = 'suggestion')
             FROM reviews r ORDER BY r.started_unix DESC, r.id DESC",
        )
        .map_err(db.err("read"))?;
    let rows = stmt
        .query_map([], |r| {
            let started: i64 = r.get(6)?;
            Ok((
                r.get::<_, i64>(0)?,
                PastReview {
                    review_id: r.get(1)?,
                    round: r.get(2)?,
                    subject: r.get(3)?,
                    kind: r.get(4)?,
                    head_sha: r.get(5)?,
                    started_at: chrono::DateTime::from_timestamp(started, 0)
                        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                        .unwrap_or_default(),
                    verdict: r.get(7)?,
                    partial: r.get(8)?,
                    critical: r.get(9)?,
                    important: r.get(10)?,
                    suggestion: r.get(11)?,
                    agents: Vec::new(),
                },
            ))
        })
        .map_err(db.err("read"))?;
    let mut out = Vec::new();
    let mut agents = db
        .conn
        .prepare("SELECT name, role, outcome FROM agent_runs WHERE review = ?1 ORDER BY id")
        .map_err(db.err("read"))?;
    for row in rows {
        let (id, mut past) = row.map_err(db.err("read"))?;
        let list = agents
            .query_map([id], |r| {
                Ok(PastAgent {
                    name: r.get(0)?,
                    role: r.get(1)?,
                    outcome: r.get(2)?,
                })
            })
            .map_err(db.err("read"))?;
        for a in list {
            past.agents.push(a.map_err(db.err("read"))?);
        }
        out.push(past);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), 0);
        assert_eq!(median(vec![5]), 5);
        assert_eq!(median(vec![9, 1, 5]), 5);
        assert_eq!(median(vec![4, 1, 10, 2]), 3);
    }
}
