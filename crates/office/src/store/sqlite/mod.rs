//! The embedded SQLite store: one file, WAL, `synchronous=FULL`, ordered migrations that refuse a
//! database written by a newer binary. One connection behind a mutex writes: SQLite has one writer
//! anyway, and commit order is then exactly `changes.server_seq` order. A few read-only connections
//! read committed state meanwhile.
//!
//! This file opens, migrates and hands out connections; it holds the conversions every table needs
//! and the small [`MetaStore`]. Each other concern of
//! [`OfficeStore`](super::OfficeStore) has a file of its own: `accounts.rs` (users, crews),
//! `enrolment.rs` (devices, sessions, enrolment challenges), `ledger.rs` (push, pull, stored events,
//! the change feed), `evidence.rs` (the office's Merkle log and tree heads),
//! `jobs.rs`, `network.rs` (patrol routes, outages), `attachments.rs`, `reports.rs`, `alerts.rs`,
//! `chains.rs` (how far each device's chain was verified), `clock_jumps.rs` (jumps devices saw in
//! their own clocks). The schema is
//! in `migrations/`.

mod accounts;
mod alerts;
mod attachments;
mod audit;
mod chains;
mod clock_jumps;
mod complaints;
mod enrolment;
mod evidence;
mod feedback;
mod jobs;
mod kpi;
mod ledger;
mod network;
mod notices;
mod patrols;
mod reports;
mod sign_out;
mod throttle;

pub use accounts::role_str;
pub use jobs::phone_key;
pub use ledger::parse_public_key;

use super::convert::{json, parse_digest, parse_ts, parse_uuid, to_json, ts};
use super::{MetaStore, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// The schema, in order. Append-only: a released migration is never edited (a database that ran it
/// never runs it again); add a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_evidence_log.sql"),
    include_str!("migrations/0003_console.sql"),
    include_str!("migrations/0004_field_jobs.sql"),
    include_str!("migrations/0005_accounts_security.sql"),
    include_str!("migrations/0006_upload_sessions.sql"),
    include_str!("migrations/0007_alerts.sql"),
    include_str!("migrations/0008_totp_last_step.sql"),
    include_str!("migrations/0009_chain_checkpoints.sql"),
    include_str!("migrations/0010_device_clock_jumps.sql"),
    include_str!("migrations/0011_checkpoint_codes.sql"),
    include_str!("migrations/0012_device_sync_info.sql"),
    include_str!("migrations/0013_kpi_facts.sql"),
    include_str!("migrations/0014_kpi_targets.sql"),
    include_str!("migrations/0015_complaints.sql"),
    include_str!("migrations/0016_notices.sql"),
    include_str!("migrations/0017_patrols.sql"),
    include_str!("migrations/0018_feedback_documents.sql"),
    include_str!("migrations/0019_job_facts_by_anchor.sql"),
    include_str!("migrations/0020_sessions_by_device.sql"),
    include_str!("migrations/0021_critical_defect_alerts.sql"),
    include_str!("migrations/0022_session_chain_heads.sql"),
    include_str!("migrations/0023_login_failures.sql"),
    include_str!("migrations/0024_sign_outs.sql"),
    include_str!("migrations/0025_notice_follow_up.sql"),
];

/// The schema version this binary writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The SQLite implementation of [`OfficeStore`](super::OfficeStore).
#[derive(Debug)]
pub struct SqliteStore {
    /// The one writer (SQLite has one anyway); its lock order is the commit order.
    conn: Mutex<Connection>,
    /// Read-only connections: WAL lets them read committed state while the writer writes.
    readers: Vec<Mutex<Connection>>,
    next_reader: std::sync::atomic::AtomicUsize,
}

const READERS: usize = 4;

impl SqliteStore {
    /// Open (creating if needed) and migrate the database at `path`.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        let backfilled = evidence::backfill(&mut conn)?;
        if backfilled > 0 {
            tracing::info!(
                events = backfilled,
                "appended events stored before the office log existed to the log"
            );
        }
        // Jobs stored before migration 13 (or by an office that crashed mid-way) are re-checked
        // against the rules and get their KPI facts on start.
        let folded = kpi::backfill(&mut conn, true)?;
        if folded > 0 {
            tracing::info!(jobs = folded, "re-checked jobs and folded their KPI facts");
        }
        let readers = (0..READERS)
            .map(|_| {
                let r = Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                r.busy_timeout(std::time::Duration::from_secs(10))?;
                Ok(Mutex::new(r))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            readers,
            next_reader: Default::default(),
        })
    }

    /// Open the database at `path` for reading only, to check it: never created, migrated or
    /// written (every write fails). A file that is not a HeatCrew office database, or one of
    /// another schema version, is refused.
    pub fn open_read_only(path: &Path) -> StoreResult<SqliteStore> {
        let not_office = |why: &str| {
            StoreError::NotOffice(format!(
                "{} is not a HeatCrew office database ({why})",
                path.display()
            ))
        };
        if !path.is_file() {
            return Err(not_office("no such file"));
        }
        let open = || -> StoreResult<Connection> {
            let conn = Connection::open_with_flags(
                read_only_uri(path),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_URI
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            Ok(conn)
        };
        let conn = open()?;
        let version: i64 = match conn.pragma_query_value(None, "user_version", |r| r.get(0)) {
            Ok(v) => v,
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::NotADatabase =>
            {
                return Err(not_office("not an SQLite file"));
            }
            Err(e) => return Err(e.into()),
        };
        let tables: i64 = conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'
             AND name IN ('meta', 'devices', 'events', 'log_leaves', 'log_nodes', 'tree_heads')",
            [],
            |r| r.get(0),
        )?;
        if version == 0 || tables < 3 {
            return Err(not_office("none of its tables"));
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION || tables < 6 {
            return Err(StoreError::NotOffice(format!(
                "{} has schema {version} without the evidence log; start `heatcrew-office serve` on it once to upgrade, then verify",
                path.display()
            )));
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            readers: vec![Mutex::new(open()?)],
            next_reader: Default::default(),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done transaction (rusqlite rolls back on
        // drop), so the connection is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A read-only connection: a free one if any, else the next in turn.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Ok(guard) = r.try_lock() {
                return guard;
            }
        }
        let i = self
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % self.readers.len();
        self.readers[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Direct access for tests and maintenance tools (e.g. to simulate tampering).
    pub fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.conn())
    }
}

/// The URI that opens `path` read-only. Without a write-ahead log beside it the file is complete
/// and opened `immutable` (SQLite then creates no `-wal` or `-shm` file next to the evidence); with
/// one (an office running or stopped uncleanly) the log's committed part is read too.
pub(crate) fn read_only_uri(path: &Path) -> String {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match *b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(*b as char)
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri.push_str("?mode=ro");
    if !Path::new(&wal).exists() {
        uri.push_str("&immutable=1");
    }
    uri
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::backend(e)
    }
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

impl MetaStore for SqliteStore {
    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        // A reader: `/readyz` reads here, and must not wait behind a long write (a push).
        Ok(self
            .reader()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            [key, value],
        )?;
        Ok(())
    }

    fn claim_meta(&self, key: &str, value: &str) -> StoreResult<String> {
        // One statement on the one writer connection: the insert and the read see the same row.
        Ok(self.conn().query_row(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = meta.value
             RETURNING value",
            [key, value],
            |r| r.get(0),
        )?)
    }
}

/// A UNIQUE (or other constraint) refused the write: the caller turns it into a conflict.
fn is_constraint_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// Run a query and parse each row: `read` takes the raw columns inside SQLite's row callback,
/// `parse` turns them into an office type after it.
fn select<R, T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<R>,
    parse: impl FnMut(R) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut st = conn.prepare_cached(sql)?;
    let rows = st.query_map(params, read)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use heatcrew_protocol::Digest;

    #[test]
    fn a_database_from_a_newer_binary_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("office.db");
        drop(SqliteStore::open(&path).expect("fresh database"));
        Connection::open(&path)
            .and_then(|c| c.pragma_update(None, "user_version", SCHEMA_VERSION + 1))
            .expect("bump version");
        assert!(
            matches!(
                SqliteStore::open(&path),
                Err(StoreError::NewerSchema { .. })
            ),
            "an older binary must not write into a schema it does not know"
        );
    }

    #[test]
    fn reopening_keeps_data_and_does_not_rerun_migrations() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("office.db");
        let s = SqliteStore::open(&path).expect("open");
        s.set_meta("k", "v").expect("write");
        drop(s);
        let s = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            s.meta("k").expect("read").as_deref(),
            Some("v"),
            "a restart must keep what was committed"
        );
    }

    #[test]
    fn migration_3_fills_the_console_lookups_of_jobs_stored_before_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("office.db");
        let mut conn = Connection::open(&path).expect("open");
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).expect("older migration");
        }
        conn.pragma_update(None, "user_version", 2)
            .expect("version");
        let body = serde_json::json!({
            "id": "0190f3c2-0000-7000-8000-000000000001", "kind": "home_repair",
            "template": {"id": "home_repair", "version": 1}, "title": "暖气不热",
            "customer": {"name": "王秀英", "phone": "138 0013-8000", "address": "幸福里", "account_no": "RL-1"},
            "site": null, "reported_at": "2025-01-06T00:30:00Z",
            "window": {"start": "2025-01-06T01:00:00.5Z", "end": "2025-01-06T03:00:00Z"},
            "assignee": null, "street_work": false, "checkpoints": [], "status": "open", "revision": 1
        });
        conn.execute(
            "INSERT INTO jobs (id, kind, status, body, created_at, updated_at) VALUES ('j', 'home_repair', 'open', ?1, 'x', 'x')",
            [body.to_string()],
        )
        .expect("a job stored before migration 3");
        migrate(&mut conn).expect("migrate");
        let row: (Option<String>, Option<String>, Option<String>) = conn
            .query_row(
                "SELECT board_at, customer_phone, customer_account FROM jobs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("row");
        assert_eq!(
            row,
            (
                Some("2025-01-06T01:00:00.500Z".into()),
                Some("13800138000".into()),
                Some("RL-1".into())
            ),
            "the appointment in the `ts` format, the phone as digits, the account as is"
        );
    }

    #[test]
    fn released_migrations_are_never_edited() {
        let digests: Vec<String> = MIGRATIONS
            .iter()
            .map(|sql| Digest::of(sql.as_bytes()).to_hex())
            .collect();
        assert_eq!(
            digests,
            [
                "e3a51b978dec6fe5f62ca58004265e6e66e316bb0ba10b1e0ad860227625a0b5",
                "f9cd8a6e652eba36e445fffccf643728fa9fe71c8674e3b3d227de6c486d5719",
                "afb4354d8ddb28c01c26649198f69355db149c89be7ceeee9002bf6396c81cc7",
                "344eacd90a58554a71bc11fd6af58da6f16bef0508cd101eb6912db2b9c72a06",
                "ac4e2615a7e0cd57b9d74449b95cb6f61fc56129cb144f472af0f9b3c3cd022e",
                "768effe0c85543963e75dbede036f3edcb36c8798cf7c69157177c90d5380f5b",
                "94c7b716c2cb39dc23185af5e5cb320cebedd1d7e2633896841a989fbdef5c24",
                "2e2fed70fd4d4222432ee0cb3bb590ef5b81f7c0515f51d097b06518a5264c8b",
                "9c8a11e2333ec5522e38b82259db3811874260f5a82dbe77ee9c255624348379",
                "954e902631471e5842e474424951ad9162c191094c47c578e9d8901f80b797e4",
                "0d382074d305d449669c29fdfe0049175229d4c3fc2d388c3046134f578e655e",
                "096ef0d43411b8e63a7a596569e638b44223acd7274b684b2371acee10d25484",
                "ad84967c9bf5c71492a0f8856cb012741ca859bf5b17a5ba3b1f566e7da7095a",
                "48e2e0293fc4a72727e33bb9cde446bc64855478af5bfe8aac5bda3b24ee34bb",
                "5ef35475a56a68af7811855eca888187085df4506301ce5f59bbf6ea07bc913d",
                "d0af406e4e080ed7fe96e2137596a341489ea813df4f5f8c19c85bf98c5f40b3",
                "fce464bba7a74ee45493f3e09a290a4f7450046499bd9747d4fa4a255e53e55d",
                "c41d454a9cdd8b2c453d0ab344c8165426782deef1029753e691f808cd921b2c",
                "6b0768d0f600766c8d34fae2a032ce40ce98db6d8a3896c0eeb3f35f60f8d3ce",
                "f3556a2a9dbbcfb93939268f38c26ea82d2d483b6e640c78949ec8bbfaddc34d",
                "13e085b06b3ad4bf37cdde32253d252cc62956f970a02bb5c2290ff90cbe6f51",
                "1243dad04d534a2463b3234aa88ab4f007de479316681cf153bb46abf27123f0",
                "83610e4bb8f8ebc77a728ffc3ae08e99136200ba958bdcdc76076568c684ba6f",
                "f3e24209ad69d2e7ea9e46149cc996d8265421a22d2cc94f02368f924d3560c0",
                "12561f278990728f57dc85860d56d55c3ff92d592d9f878925fbf38744a11575"
            ],
            "a database that ran a migration never runs it again, so an edit would reach new \
             databases only: add a new migration file instead"
        );
    }
}
