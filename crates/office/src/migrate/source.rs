//! The SQLite office being moved, opened read-only (nothing is written to it or created beside
//! it), after the store's own check of its schema version: a file written by a newer binary, or
//! not yet upgraded by this one, is refused.
//!
//! Its office must be stopped: SQLite cannot tell this process whether another one has the file
//! open (an office stopped with Ctrl-C leaves its write-ahead log behind too). So the source is
//! fingerprinted when the migration begins (each table's row count) and again at the end: an
//! office writing meanwhile adds rows somewhere, the fingerprints differ, and the run fails; a
//! resumed run whose source changed since is refused.

use super::MigrateError;
use super::plan::ResolvedTable;
use super::target::Counters;
use crate::office_key::META_PUBLIC_KEY;
use crate::store::SqliteStore;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;

/// Open the source for reading, after the check above.
pub fn open(path: &Path) -> Result<Connection, MigrateError> {
    // Checks the schema version (and that it is an office database at all).
    drop(SqliteStore::open_read_only(path)?);
    let conn = Connection::open_with_flags(
        crate::store::sqlite::read_only_uri(path),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    Ok(conn)
}

/// The office's identity: the public key its database records (every receipt was signed by it).
pub fn office_key(conn: &Connection) -> Result<String, MigrateError> {
    conn.query_row(
        "SELECT value FROM meta WHERE key = ?1",
        [META_PUBLIC_KEY],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| {
        MigrateError::Refused(
            "the source has no office key recorded: it never served; there is nothing to move"
                .into(),
        )
    })
}

/// Rows per copied table.
pub fn row_counts(
    conn: &Connection,
    tables: &[ResolvedTable],
) -> Result<Vec<(&'static str, u64)>, MigrateError> {
    tables
        .iter()
        .map(|t| {
            let n: i64 =
                conn.query_row(&format!("SELECT COUNT(*) FROM \"{}\"", t.name()), [], |r| {
                    r.get(0)
                })?;
            Ok((t.name(), n as u64))
        })
        .collect()
}

/// The source as it stood: a fingerprint that any write to it changes in practice (every write
/// path adds rows: events, changes, audit entries).
pub fn fingerprint(counts: &[(&'static str, u64)]) -> String {
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(t, n)| format!("{t}={n}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// SQLite's AUTOINCREMENT high-water marks (`sqlite_sequence`): numbers handed out once are never
/// handed out again, even when their rows are gone.
pub fn autoincrement(conn: &Connection) -> Result<HashMap<String, i64>, MigrateError> {
    let mut stmt = conn.prepare("SELECT name, seq FROM sqlite_sequence")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Where the PostgreSQL ledger's counter must continue.
pub fn counters(
    conn: &Connection,
    autoincrement: &HashMap<String, i64>,
) -> Result<Counters, MigrateError> {
    let max_change: i64 = conn.query_row(
        "SELECT COALESCE(MAX(server_seq), 0) FROM changes",
        [],
        |r| r.get(0),
    )?;
    let handed_out = autoincrement.get("changes").copied().unwrap_or(0);
    let log_size: i64 = conn.query_row("SELECT COUNT(*) FROM log_leaves", [], |r| r.get(0))?;
    Ok(Counters {
        next_change: max_change.max(handed_out) + 1,
        log_size,
    })
}
