//! Recording one review: its round, agent runs, consolidated findings and each agent's
//! findings, and what it says about the previous round's reported findings, in ONE
//! transaction, so a crash leaves either the whole review or none of it.

use super::schema::Db;
use crate::errors::HistoryError;
use crate::report::sarif::fingerprint;
use crate::review::ConsolidatedFinding;
use crate::review::Review;
use crate::review::Role;
use crate::review::Status;
use crate::tree_guard::HeadTree;
use rusqlite::params;
use rusqlite::OptionalExtension;
use rusqlite::TransactionBehavior;
use std::collections::HashSet;

/// What a review is of, besides the review itself: who it is about and when it ended.
pub struct Subject {
    /// `owner/repo#12`, or `repo:branch` for a local review.
    pub key: String,
    pub branch: Option<String>,
    pub started_unix: i64,
    pub finished_unix: i64,
}

/// The cited code of a finding, as the fingerprint sees it: the first verified citation's
/// path and its lines with whitespace collapsed.
pub struct CitedCode {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub lines: u32,
    pub hash: String,
}

/// FNV-1a over `lines` (each whitespace-collapsed), as hex.
fn hash_lines<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for line in lines {
        let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        for b in collapsed.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

pub fn cited_code(f: &ConsolidatedFinding) -> Option<CitedCode> {
    let l = f.locations.iter().find(|l| l.verified)?;
    let e = l.excerpt.as_ref()?;
    let cited: Vec<&str> = e
        .lines
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            let n = e.start_line + *i as u32;
            n >= l.start_line && n <= l.end_line
        })
        .map(|(_, s)| s.as_str())
        .collect();
    if cited.is_empty() {
        return None;
    }
    Some(CitedCode {
        path: l.path.clone(),
        start_line: l.start_line,
        end_line: l.end_line,
        lines: cited.len() as u32,
        hash: hash_lines(cited.into_iter()),
    })
}

/// Whether the `lines` cited lines hashing to `hash` are still, together and in order,
/// somewhere in `path` at the head: the code moved up or down, but it did not change.
pub fn code_still_there(tree: &dyn HeadTree, path: &str, lines: u32, hash: &str) -> bool {
    let Ok(file) = tree.read_lines(path) else {
        return false;
    };
    let n = lines as usize;
    n > 0
        && file.len() >= n
        && file
            .windows(n)
            .any(|w| hash_lines(w.iter().map(String::as_str)) == hash)
}

/// How a finding an agent reported ended: reported, held back, or dropped and why.
fn outcome(f: &ConsolidatedFinding) -> (&'static str, Option<String>) {
    match f.status {
        Status::Reported => ("reported", None),
        Status::HeldBack => (
            "held_back",
            Some("below the reporting threshold".to_string()),
        ),
        Status::Dropped => {
            let why = f.drop_reason.clone().unwrap_or_default();
            if why.starts_with("refuted") {
                ("refuted", Some(why))
            } else {
                ("invalid_citation", Some(why))
            }
        }
    }
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Reported => "reported",
        Status::HeldBack => "held_back",
        Status::Dropped => "dropped",
    }
}

/// A reported finding of the previous round, and whether this round found it fixed.
struct Followed {
    earlier: i64,
    still_found: bool,
    code_changed: bool,
}

/// The last complete review of `subject`, and what this round says about each finding it
/// reported. Read before the write transaction: the tree reads take longer than the write.
fn follow_up(
    db: &Db,
    subject: &str,
    review: &Review,
    tree: &dyn HeadTree,
) -> Result<(Option<i64>, Vec<Followed>), HistoryError> {
    let previous: Option<i64> = db
        .conn
        .query_row(
            "SELECT id FROM reviews WHERE subject = ?1 AND partial = 0
             ORDER BY started_unix DESC, id DESC LIMIT 1",
            [subject],
            |r| r.get(0),
        )
        .optional()
        .map_err(db.err("read"))?;
    let Some(prev) = previous else {
        return Ok((None, Vec::new()));
    };
    if review.partial {
        // An interrupted round heard only some agents: it says nothing about what was fixed.
        return Ok((Some(prev), Vec::new()));
    }
    let found: HashSet<String> = review.findings.iter().map(fingerprint).collect();
    let mut stmt = db
        .conn
        .prepare(
            "SELECT id, fingerprint, path, code_lines, code_hash FROM consolidated
             WHERE review = ?1 AND status = 'reported'",
        )
        .map_err(db.err("read"))?;
    let rows = stmt
        .query_map([prev], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<u32>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .map_err(db.err("read"))?;
    let mut out = Vec::new();
    for row in rows {
        let (earlier, fp, path, lines, hash) = row.map_err(db.err("read"))?;
        // Without a verified citation there is no cited code to compare: never counted fixed.
        let code_changed = match (path, lines, hash) {
            (Some(p), Some(n), Some(h)) => !code_still_there(tree, &p, n, &h),
            _ => false,
        };
        out.push(Followed {
            earlier,
            still_found: found.contains(&fp),
            code_changed,
        });
    }
    Ok((Some(prev), out))
}

/// Writes `review` in one transaction.
pub fn write(
    db: &mut Db,
    review: &Review,
    subject: &Subject,
    tree: &dyn HeadTree,
) -> Result<(), HistoryError> {
    let (previous, followed) = follow_up(db, &subject.key, review, tree)?;
    let path = db.path.clone();
    let err = |what| {
        let path = path.clone();
        move |source| HistoryError::Sql { what, path, source }
    };
    let tx = db
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err("write to"))?;
    let id = insert_review(&tx, review, subject, previous).map_err(err("write to"))?;
    insert_agents(&tx, id, review).map_err(err("write to"))?;
    insert_findings(&tx, id, review).map_err(err("write to"))?;
    insert_fixes(&tx, id, &followed).map_err(err("write to"))?;
    tx.commit().map_err(err("write to"))
}

fn insert_review(
    tx: &rusqlite::Transaction<'_>,
    review: &Review,
    subject: &Subject,
    previous: Option<i64>,
) -> rusqlite::Result<i64> {
    let c = &review.change;
    let verdict = review
        .verdict
        .and_then(|v| serde_json::to_value(v).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    tx.execute(
        "INSERT INTO reviews (review_id, round, subject, kind, repo, pr, branch, base_sha,
             head_sha, started_unix, finished_unix, verdict, partial, previous)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            review.id,
            c.round,
            subject.key,
            c.kind,
            c.repo,
            c.pr,
            subject.branch,
            c.base_sha,
            c.head_sha,
            subject.started_unix,
            subject.finished_unix,
            verdict,
            review.partial,
            previous,
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

fn insert_agents(tx: &rusqlite::Transaction<'_>, id: i64, review: &Review) -> rusqlite::Result<()> {
    for a in &review.agents {
        let m = &a.metrics;
        let outcome = match &a.outcome {
            crate::record::Outcome::Ok => "ok",
            crate::record::Outcome::Failed { kind, .. } => kind.label(),
        };
        tx.execute(
            "INSERT INTO agent_runs (review, name, role, kind, model, outcome, duration_ms,
                 tokens_in, tokens_out, cost_usd, tool_calls, findings)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id,
                a.name,
                if a.role == Role::Judge {
                    "judge"
                } else {
                    "reviewer"
                },
                a.kind.as_str(),
                a.model,
                outcome,
                m.duration_ms as i64,
                m.tokens.as_ref().map(|t| t.input as i64),
                m.tokens.as_ref().map(|t| t.output as i64),
                m.cost_usd,
                m.tool_calls,
                m.findings.total(),
            ],
        )?;
    }
    Ok(())
}

/// Every consolidated finding, and each agent's findings in it.
fn insert_findings(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    review: &Review,
) -> rusqlite::Result<()> {
    for f in &review.findings {
        let fp = fingerprint(f);
        let code = cited_code(f);
        tx.execute(
            "INSERT INTO consolidated (review, finding_id, fingerprint, severity, title, status,
                 drop_reason, agreement, path, start_line, end_line, code_lines, code_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                id,
                f.id,
                fp,
                f.severity.as_str(),
                f.title,
                status_str(f.status),
                f.drop_reason,
                f.agreement as i64,
                code.as_ref().map(|c| c.path.clone()),
                code.as_ref().map(|c| c.start_line),
                code.as_ref().map(|c| c.end_line),
                code.as_ref().map(|c| c.lines),
                code.as_ref().map(|c| c.hash.clone()),
            ],
        )?;
        let cid = tx.last_insert_rowid();
        let (outcome, reason) = outcome(f);
        let unique = f.status == Status::Reported && f.agreement == 1;
        for m in &f.members {
            tx.execute(
                "INSERT INTO findings (review, agent, idx, consolidated, fingerprint, severity,
                     title, outcome, unique_insight, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    id,
                    m.agent,
                    m.index as i64,
                    cid,
                    fp,
                    m.severity.as_str(),
                    m.title,
                    outcome,
                    unique,
                    reason,
                ],
            )?;
        }
    }
    Ok(())
}

fn insert_fixes(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    followed: &[Followed],
) -> rusqlite::Result<()> {
    for f in followed {
        tx.execute(
            "INSERT INTO fixes (review, earlier, still_found, code_changed, fixed)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                f.earlier,
                f.still_found,
                f.code_changed,
                !f.still_found && f.code_changed,
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Tree(Vec<String>);
    impl HeadTree for Tree {
        fn lines(&self, path: &str) -> Option<Arc<Vec<String>>> {
            (path == "a.rs").then(|| Arc::new(self.0.clone()))
        }
    }

    fn finding(status: Status, drop_reason: Option<&str>) -> ConsolidatedFinding {
        ConsolidatedFinding {
            id: "D1".into(),
            severity: crate::finding::Severity::Important,
            title: "t".into(),
            body: String::new(),
            fix: None,
            category: None,
            scope: None,
            confidence: None,
            locations: Vec::new(),
            members: Vec::new(),
            agreement: 1,
            status,
            drop_reason: drop_reason.map(str::to_string),
            calibration: String::new(),
            replacement: None,
        }
    }

    #[test]
    fn each_finding_says_why_it_did_not_survive() {
        let refuted = finding(
            Status::Dropped,
            Some("refuted by the judge (j): not reachable"),
        );
        assert_eq!(outcome(&refuted).0, "refuted");
        let invalid = finding(
            Status::Dropped,
            Some("unverifiable: src/x.rs does not exist"),
        );
        assert_eq!(outcome(&invalid).0, "invalid_citation");
        let held = finding(Status::HeldBack, None);
        assert_eq!(
            outcome(&held),
            ("held_back", Some("below the reporting threshold".into()))
        );
        assert_eq!(outcome(&finding(Status::Reported, None)).0, "reported");
        // No verified citation: no cited code to compare later.
        assert!(cited_code(&held).is_none());
    }

    #[test]
    fn cited_code_that_moved_is_still_there_and_edited_code_is_not() {
        let cited = hash_lines(["    a / b", "}"].into_iter());
        let moved = Tree(vec!["// new".into(), "a  /  b".into(), "}".into()]);
        assert!(code_still_there(&moved, "a.rs", 2, &cited));
        let edited = Tree(vec!["a.checked_div(b)".into(), "}".into()]);
        assert!(!code_still_there(&edited, "a.rs", 2, &cited));
        assert!(!code_still_there(&moved, "gone.rs", 2, &cited));
    }
}
