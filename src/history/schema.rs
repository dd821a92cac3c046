//! The history database's schema, its migrations, and how a connection is opened.
//!
//! The schema version is SQLite's `PRAGMA user_version`: the number of [`MIGRATIONS`] applied.
//! Opening applies the missing ones in one transaction, so a database is always at one known
//! version; a database from a newer deep-review (a version past the list) is refused rather
//! than misread. Migrations are only ever appended.

use crate::errors::HistoryError;
use rusqlite::Connection;
use rusqlite::TransactionBehavior;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

/// How long a writer waits for another process's lock: two reviews of one repository at once
/// are possible, and each holds the write lock for a few milliseconds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Version 1: reviews, agent runs, consolidated findings, each agent's findings, and what a
/// later round says about the findings an earlier one reported.
const V1: &str = "
CREATE TABLE reviews (
    id            INTEGER PRIMARY KEY,
    review_id     TEXT NOT NULL,            -- the review folder's name
    round         INTEGER NOT NULL,
    subject       TEXT NOT NULL,            -- `owner/repo#12`, or `repo:branch` for a local one
    kind          TEXT NOT NULL,            -- local | pr
    repo          TEXT NOT NULL,
    pr            INTEGER,
    branch        TEXT,
    base_sha      TEXT NOT NULL,
    head_sha      TEXT NOT NULL,
    started_unix  INTEGER NOT NULL,
    finished_unix INTEGER NOT NULL,
    verdict       TEXT,                     -- NULL: no verdict
    partial       INTEGER NOT NULL,         -- 1: interrupted, holds only what had arrived
    previous      INTEGER REFERENCES reviews(id), -- the last complete review of the subject
    UNIQUE (review_id, round)
);
CREATE INDEX reviews_subject ON reviews (subject, started_unix);
CREATE TABLE agent_runs (
    id           INTEGER PRIMARY KEY,
    review       INTEGER NOT NULL REFERENCES reviews(id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,             -- reviewer | judge
    kind         TEXT NOT NULL,
    model        TEXT,
    outcome      TEXT NOT NULL,             -- ok, or the failure kind
    duration_ms  INTEGER NOT NULL,
    tokens_in    INTEGER,
    tokens_out   INTEGER,
    cost_usd     REAL,
    tool_calls   INTEGER NOT NULL,
    findings     INTEGER NOT NULL,          -- as the agent reported them
    UNIQUE (review, name)
);
CREATE TABLE consolidated (
    id           INTEGER PRIMARY KEY,
    review       INTEGER NOT NULL REFERENCES reviews(id),
    finding_id   TEXT NOT NULL,             -- C1, I2, S1; H1 held back; D1 dropped
    fingerprint  TEXT NOT NULL,             -- report::sarif::fingerprint
    severity     TEXT NOT NULL,
    title        TEXT NOT NULL,
    status       TEXT NOT NULL,             -- reported | held_back | dropped
    drop_reason  TEXT,
    agreement    INTEGER NOT NULL,
    path         TEXT,                      -- the first verified citation at the head
    start_line   INTEGER,
    end_line     INTEGER,
    code_lines   INTEGER,                   -- how many cited lines code_hash covers
    code_hash    TEXT                       -- FNV-1a of the cited lines, whitespace collapsed
);
CREATE INDEX consolidated_review ON consolidated (review);
CREATE TABLE findings (
    id             INTEGER PRIMARY KEY,
    review         INTEGER NOT NULL REFERENCES reviews(id),
    agent          TEXT NOT NULL,
    idx            INTEGER NOT NULL,        -- position in the agent's findings
    consolidated   INTEGER NOT NULL REFERENCES consolidated(id),
    fingerprint    TEXT NOT NULL,           -- its consolidated finding's
    severity       TEXT NOT NULL,           -- as the agent gave it
    title          TEXT NOT NULL,
    outcome        TEXT NOT NULL,           -- reported | held_back | invalid_citation | refuted
    unique_insight INTEGER NOT NULL,        -- reported, and by this agent only
    reason         TEXT
);
CREATE INDEX findings_review ON findings (review);
CREATE TABLE fixes (
    review        INTEGER NOT NULL REFERENCES reviews(id),      -- the later round
    earlier       INTEGER NOT NULL REFERENCES consolidated(id), -- a finding the round before reported
    still_found   INTEGER NOT NULL,  -- its fingerprint is among the later round's findings
    code_changed  INTEGER NOT NULL,  -- its cited lines are no longer in the later head
    fixed         INTEGER NOT NULL,  -- not found again, and its code changed
    PRIMARY KEY (review, earlier)
);
";

/// Every migration, in order; the schema version is how many were applied.
const MIGRATIONS: &[&str] = &[V1];

/// The schema version this deep-review writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// An open history database.
pub struct Db {
    pub conn: Connection,
    pub path: PathBuf,
}

impl Db {
    /// Opens (creating it and its folder if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Db, HistoryError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        Self::open_with(path, rusqlite::OpenFlags::default())
    }

    /// Opens an existing database; `Missing` when there is none (reading creates nothing).
    pub fn open_existing(path: &Path) -> Result<Db, HistoryError> {
        if !path.exists() {
            return Err(HistoryError::Missing {
                path: path.to_path_buf(),
            });
        }
        Self::open_with(path, rusqlite::OpenFlags::default())
    }

    fn open_with(path: &Path, flags: rusqlite::OpenFlags) -> Result<Db, HistoryError> {
        let open_err = |source| HistoryError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // WAL: readers never block the writer, and a crash mid-write leaves the last commit.
        let _: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_err)?;
        let mut db = Db {
            conn,
            path: path.to_path_buf(),
        };
        db.migrate()?;
        Ok(db)
    }

    /// Applies the missing migrations in one transaction; refuses a newer schema.
    fn migrate(&mut self) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let sql = |what| {
            let path = path.clone();
            move |source| HistoryError::Sql { what, path, source }
        };
        // Checked before taking the write lock, so a reader of a newer database writes nothing.
        let found = self.version().map_err(sql("read the version of"))?;
        let known = current_version();
        if found > known {
            return Err(HistoryError::Newer { path, found, known });
        }
        if found == known {
            return Ok(());
        }
        // IMMEDIATE: two processes opening a new database at once do not both migrate it.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("migrate"))?;
        let found: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql("migrate"))?;
        if found > known {
            return Err(HistoryError::Newer { path, found, known });
        }
        for m in &MIGRATIONS[found as usize..] {
            tx.execute_batch(m).map_err(sql("migrate"))?;
        }
        tx.pragma_update(None, "user_version", known)
            .map_err(sql("migrate"))?;
        tx.commit().map_err(sql("migrate"))
    }

    fn version(&self) -> rusqlite::Result<i64> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))
    }

    /// A statement's error, naming this database.
    pub fn err(&self, what: &'static str) -> impl Fn(rusqlite::Error) -> HistoryError + '_ {
        move |source| HistoryError::Sql {
            what,
            path: self.path.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_is_at_the_current_version_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/history.sqlite");
        let db = Db::open(&path).unwrap();
        assert_eq!(db.version().unwrap(), current_version());
        let mode: String = db
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(db);
        let again = Db::open_existing(&path).unwrap();
        assert_eq!(again.version().unwrap(), current_version());
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        drop(Db::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Db::open(&path).err().expect("refused").to_string();
        assert!(err.contains("schema version 99"), "{err}");
        assert!(err.contains("upgrade deep-review"), "{err}");
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 99, "the newer database was not touched");
    }

    #[test]
    fn reading_a_missing_database_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        let err = Db::open_existing(&path).err().expect("missing");
        assert!(matches!(err, HistoryError::Missing { .. }));
        assert!(!path.exists());
    }
}
