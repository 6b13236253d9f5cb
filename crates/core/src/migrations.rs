//! Ordered, append-only schema migrations of the device store. Each runs in its own transaction and
//! bumps `PRAGMA user_version`; a database newer than this build is refused, never touched.

use crate::error::{CoreError, Result};
use rusqlite::Connection;

/// Never edit or reorder an entry: add a new one at the end.
const MIGRATIONS: &[&str] = &[
    // 1: the event log, its outbox, and the projections.
    r#"
    CREATE TABLE device (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        device_id   TEXT NOT NULL,
        -- Ed25519 secret key. On phones the store lives in the app's private data directory.
        secret_key  BLOB NOT NULL CHECK (length(secret_key) = 32),
        created_at  TEXT NOT NULL,
        -- The chain tip, written in the same transaction as each event, so that deleting the
        -- newest events is detected too.
        last_seq    INTEGER NOT NULL DEFAULT 0,
        last_hash   BLOB NOT NULL DEFAULT (zeroblob(32))
    );

    -- One row per user action, never updated or deleted (a correction is a new event).
    CREATE TABLE events (
        seq          INTEGER PRIMARY KEY,          -- device_seq: 1, 2, 3, … gap-free
        id           TEXT NOT NULL UNIQUE,         -- UUIDv7
        job_id       TEXT NOT NULL,
        kind         TEXT NOT NULL,
        payload      TEXT NOT NULL,                -- JSON
        recorded_at  TEXT NOT NULL,                -- RFC 3339, milliseconds
        elapsed_ms   INTEGER NOT NULL,
        prev_hash    BLOB NOT NULL,
        hash         BLOB NOT NULL,
        sig          BLOB NOT NULL
    );
    CREATE INDEX events_job ON events(job_id, seq);
    CREATE TRIGGER events_gap_free BEFORE INSERT ON events
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM events)
        BEGIN SELECT RAISE(ABORT, 'events are gap-free: seq must be the last one plus one'); END;
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only: record a correction instead'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only: they cannot be deleted'); END;

    -- Events not yet acknowledged by the office, and what became of them.
    CREATE TABLE outbox (
        seq         INTEGER PRIMARY KEY REFERENCES events(seq),
        state       TEXT NOT NULL CHECK (state IN ('queued', 'uploading', 'acknowledged', 'rejected')),
        reason      TEXT,
        urgent      INTEGER NOT NULL DEFAULT 0,
        updated_at  TEXT NOT NULL
    );
    CREATE INDEX outbox_state ON outbox(state, seq);

    -- Photos and signatures referenced by events; the file is in the content-addressed folder.
    CREATE TABLE attachments (
        sha256          TEXT PRIMARY KEY,
        bytes           INTEGER NOT NULL,
        mime            TEXT NOT NULL,
        first_seq       INTEGER NOT NULL REFERENCES events(seq),
        uploaded_bytes  INTEGER NOT NULL DEFAULT 0,
        uploaded        INTEGER NOT NULL DEFAULT 0
    );

    -- Jobs: dispatched by the office (from pull) or created on the device (from a job_created event).
    CREATE TABLE jobs (
        job_id          TEXT PRIMARY KEY,
        origin          TEXT NOT NULL CHECK (origin IN ('office', 'device')),
        job             TEXT NOT NULL,             -- heatcrew_protocol::Job as JSON
        revoked_reason  TEXT                       -- set when the office reassigned it elsewhere
    );

    -- Projection: each job's events folded (crate::progress::JobProgress). Rebuildable from events.
    CREATE TABLE job_progress (
        job_id    TEXT PRIMARY KEY,
        progress  TEXT NOT NULL,
        last_seq  INTEGER NOT NULL
    );

    CREATE TABLE outages (
        id      TEXT PRIMARY KEY,
        notice  TEXT NOT NULL
    );

    -- Session with the office and the pull cursor (applied in the same transaction as its page).
    CREATE TABLE sync_state (
        singleton         INTEGER PRIMARY KEY CHECK (singleton = 1),
        office_url        TEXT,
        access_token      TEXT,
        access_expires_at TEXT,
        refresh_token     TEXT,
        user              TEXT,
        device_code       TEXT,
        cursor            INTEGER NOT NULL DEFAULT 0,
        last_sync_at      TEXT,
        clock_offset_ms   INTEGER NOT NULL DEFAULT 0,
        last_error        TEXT
    );
    INSERT INTO sync_state (singleton) VALUES (1);
    "#,
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Bring the database up to [`latest`], refusing one that is newer.
pub fn run(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > latest() {
        return Err(CoreError::DatabaseTooNew {
            found,
            known: latest(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
