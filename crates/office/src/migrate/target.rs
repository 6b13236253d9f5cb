//! The target database's side of a migration: which office it holds, how far the copy got, and the
//! counters set once every row is in.
//!
//! `migration_source` (one row) names the office being moved (its public key) and a fingerprint
//! of the source taken when the migration began (each table's row count); `migration_progress`
//! has one row per table (and one for the attachment files) with the last key copied, written in
//! the same transaction as each batch. Both stay after the move: a second run with another source,
//! or with this source changed since, is refused; a run after the move finished only compares.

use super::MigrateError;
use super::plan::ResolvedTable;

pub const SOURCE_TABLE: &str = "migration_source";
pub const PROGRESS_TABLE: &str = "migration_progress";

/// The `migration_progress` row of the attachment files.
pub const OBJECTS_ITEM: &str = "attachment files";

/// Held (session-level) for the whole run: two migrations into one database at once are refused.
const RUN_LOCK: i64 = 0x4865_6174_4d69_6772; // "HeatMigr"

/// What the target held when this run began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// An empty office: the migration starts.
    Fresh,
    /// A migration of this source that was cut short: it continues.
    Resumed,
    /// A finished migration of this source: nothing is copied again (the counters were set and the
    /// office may have served since); only the comparison runs.
    Finished { at: String },
}

/// Where one table's (or the files') copy stands.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub last_key: Option<serde_json::Value>,
    pub rows: u64,
    pub bytes: u64,
    pub done: bool,
}

/// Take the run lock, make the bookkeeping tables, and check that the target is empty or holds
/// this very source's migration.
pub fn claim(
    client: &mut postgres::Client,
    tables: &[ResolvedTable],
    office_key: &str,
    source: &str,
    fingerprint: &str,
) -> Result<Claim, MigrateError> {
    let locked: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&RUN_LOCK])?
        .get(0);
    if !locked {
        return Err(MigrateError::Refused(
            "another heatcrew-office migrate is writing to this database right now".into(),
        ));
    }
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {SOURCE_TABLE} (
             id BIGINT PRIMARY KEY CHECK (id = 1),
             office_public_key TEXT NOT NULL,
             source TEXT NOT NULL,
             fingerprint TEXT NOT NULL,
             started_at TEXT NOT NULL,
             finished_at TEXT
         );
         CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (
             item TEXT PRIMARY KEY,
             last_key TEXT,
             rows BIGINT NOT NULL DEFAULT 0,
             bytes BIGINT NOT NULL DEFAULT 0,
             done BIGINT NOT NULL DEFAULT 0
         );"
    ))?;
    let existing = tx.query_opt(
        &format!(
            "SELECT office_public_key, source, fingerprint, finished_at FROM {SOURCE_TABLE}
             WHERE id = 1 FOR UPDATE"
        ),
        &[],
    )?;
    let claim = match existing {
        Some(row) => {
            let (key, from, print, finished): (String, String, String, Option<String>) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            if key != office_key {
                return Err(MigrateError::Refused(format!(
                    "the target holds a migration of another office (key {key}, from {from}); migrate into an empty database"
                )));
            }
            if print != fingerprint {
                return Err(MigrateError::Refused(format!(
                    "the source changed since this migration began (it was {print}, it is {fingerprint}): \
                     an office wrote to it meanwhile. Stop the office, drop and recreate the target database, and migrate again"
                )));
            }
            match finished {
                Some(at) => Claim::Finished { at },
                None => Claim::Resumed,
            }
        }
        None => {
            for t in tables.iter().filter(|t| !t.plan.seeded) {
                let n: i64 = tx
                    .query_one(&format!("SELECT COUNT(*) FROM \"{}\"", t.name()), &[])?
                    .get(0);
                if n > 0 {
                    return Err(MigrateError::Refused(format!(
                        "the target is not empty (table {} has {n} rows) and holds no migration: migrate into a new, empty database",
                        t.name()
                    )));
                }
            }
            tx.execute(
                &format!(
                    "INSERT INTO {SOURCE_TABLE} (id, office_public_key, source, fingerprint, started_at)
                     VALUES (1, $1, $2, $3, $4)"
                ),
                &[
                    &office_key,
                    &source,
                    &fingerprint,
                    &crate::store::convert::ts(chrono::Utc::now()),
                ],
            )?;
            Claim::Fresh
        }
    };
    tx.commit()?;
    Ok(claim)
}

/// Where the copy of `item` stands.
pub fn progress(client: &mut postgres::Client, item: &str) -> Result<Progress, MigrateError> {
    let row = client.query_opt(
        &format!("SELECT last_key, rows, bytes, done FROM {PROGRESS_TABLE} WHERE item = $1"),
        &[&item],
    )?;
    Ok(match row {
        None => Progress::default(),
        Some(r) => Progress {
            last_key: r
                .get::<_, Option<String>>(0)
                .and_then(|k| serde_json::from_str(&k).ok()),
            rows: r.get::<_, i64>(1) as u64,
            bytes: r.get::<_, i64>(2) as u64,
            done: r.get::<_, i64>(3) != 0,
        },
    })
}

/// Record a batch of `item` in `tx`, the transaction that wrote the batch.
pub fn record(
    tx: &mut postgres::Transaction<'_>,
    item: &str,
    last_key: Option<&serde_json::Value>,
    rows: u64,
    bytes: u64,
    done: bool,
) -> Result<(), MigrateError> {
    let key = last_key.map(|k| k.to_string());
    tx.execute(
        &format!(
            "INSERT INTO {PROGRESS_TABLE} (item, last_key, rows, bytes, done) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (item) DO UPDATE SET
                 last_key = COALESCE(EXCLUDED.last_key, {PROGRESS_TABLE}.last_key),
                 rows = {PROGRESS_TABLE}.rows + EXCLUDED.rows,
                 bytes = {PROGRESS_TABLE}.bytes + EXCLUDED.bytes,
                 done = EXCLUDED.done"
        ),
        &[&item, &key, &(rows as i64), &(bytes as i64), &(done as i64)],
    )?;
    Ok(())
}

/// What the counters must continue from, read from the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    /// The next change-feed number: past every number SQLite ever handed out.
    pub next_change: i64,
    /// Leaves in the office log.
    pub log_size: i64,
}

/// Set `ledger_counter` and move every identity sequence past the copied rows (and past what
/// SQLite's AUTOINCREMENT handed out), then mark the migration finished: one transaction, so a
/// kill leaves either all of it or none.
pub fn finish(
    client: &mut postgres::Client,
    tables: &[ResolvedTable],
    counters: Counters,
    autoincrement: &std::collections::HashMap<String, i64>,
) -> Result<(), MigrateError> {
    let mut tx = client.transaction()?;
    tx.execute(
        "UPDATE ledger_counter SET next_change = $1, log_size = $2 WHERE id = 1",
        &[&counters.next_change, &counters.log_size],
    )?;
    for t in tables {
        for col in &t.identities {
            let max: Option<i64> = tx
                .query_one(&format!("SELECT MAX(\"{col}\") FROM \"{}\"", t.name()), &[])?
                .get(0);
            let handed_out = autoincrement.get(t.name()).copied();
            let last = max.max(handed_out);
            if let Some(last) = last {
                // is_called = true: the next value is last + 1.
                tx.query_one(
                    "SELECT setval(pg_get_serial_sequence($1, $2), $3, true)",
                    &[&t.name(), &col, &last],
                )?;
            }
        }
    }
    tx.execute(
        &format!("UPDATE {SOURCE_TABLE} SET finished_at = $1 WHERE id = 1"),
        &[&crate::store::convert::ts(chrono::Utc::now())],
    )?;
    tx.commit()?;
    Ok(())
}

/// The counters as the target holds them (for the comparison).
pub fn ledger_counter(client: &mut postgres::Client) -> Result<Counters, MigrateError> {
    let row = client.query_one(
        "SELECT next_change, log_size FROM ledger_counter WHERE id = 1",
        &[],
    )?;
    Ok(Counters {
        next_change: row.get(0),
        log_size: row.get(1),
    })
}
