//! Ordered, append-only schema migrations of the device store. Each runs in its own transaction and
//! bumps `PRAGMA user_version`; a database newer than this build is refused, never touched.

use crate::error::{CoreError, Result};
use rusqlite::{Connection, OptionalExtension, Transaction};

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
    // 2: the canonical format each event's hash covers (docs/evidence.md): every event sealed
    // before this column existed is format 1; new events are sealed in format 2.
    r#"
    ALTER TABLE events ADD COLUMN format INTEGER NOT NULL DEFAULT 1 CHECK (format IN (1, 2));
    "#,
    // 3: the device's public key, so that the database can be verified without its secret key.
    r#"
    ALTER TABLE device ADD COLUMN public_key BLOB CHECK (public_key IS NULL OR length(public_key) = 32);
    "#,
    // 4: the secret key leaves the database for the key vault (crate::keys). In the same
    // transaction, before this runs, the store writes the key to the vault and fills public_key
    // ([`KEYS_OUT`]); afterwards it overwrites the freed bytes (secure_delete, VACUUM).
    r#"
    ALTER TABLE device DROP COLUMN secret_key;
    "#,
    // 5: the device's evidence against the office (docs/evidence.md): the office key from sign-in,
    // its signed receipts for pushed events and every signed tree head it handed out. Kept
    // forever, checked before they are kept; two receipts for one event are both kept (the
    // contradiction is itself evidence).
    r#"
    ALTER TABLE sync_state ADD COLUMN office_public_key TEXT;
    CREATE TABLE receipts (
        id          INTEGER PRIMARY KEY,
        device_seq  INTEGER NOT NULL REFERENCES events(seq),
        log_index   INTEGER NOT NULL,
        receipt     TEXT NOT NULL UNIQUE,          -- heatcrew_protocol::log::Receipt as JSON
        kept_at     TEXT NOT NULL
    );
    CREATE INDEX receipts_seq ON receipts(device_seq);
    CREATE TABLE tree_heads (
        id          INTEGER PRIMARY KEY,
        size        INTEGER NOT NULL,
        tree_head   TEXT NOT NULL UNIQUE,          -- heatcrew_protocol::log::TreeHead as JSON
        kept_at     TEXT NOT NULL
    );
    CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts
        BEGIN SELECT RAISE(ABORT, 'receipts are evidence: they are never changed'); END;
    CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts
        BEGIN SELECT RAISE(ABORT, 'receipts are evidence: they are never deleted'); END;
    CREATE TRIGGER tree_heads_no_update BEFORE UPDATE ON tree_heads
        BEGIN SELECT RAISE(ABORT, 'tree heads are evidence: they are never changed'); END;
    CREATE TRIGGER tree_heads_no_delete BEFORE DELETE ON tree_heads
        BEGIN SELECT RAISE(ABORT, 'tree heads are evidence: they are never deleted'); END;
    "#,
    // 6: the office session's tokens leave the database for the key vault (crate::sync::tokens);
    // the store moves them there inside this migration's transaction, before this runs
    // ([`TOKENS_OUT`]). The database is encrypted by then (crate::cipher).
    r#"
    ALTER TABLE sync_state DROP COLUMN access_token;
    ALTER TABLE sync_state DROP COLUMN access_expires_at;
    ALTER TABLE sync_state DROP COLUMN refresh_token;
    "#,
    // 7: the office's acknowledgements of this device's urgent records (accident reports), from
    // pulls: who at the office took the alert, and when. Kept by the urgent event's id. And an
    // index for the sync client's urgent-first order.
    r#"
    CREATE TABLE office_acks (
        event_id        TEXT PRIMARY KEY,
        job_id          TEXT NOT NULL,
        acknowledged_by TEXT NOT NULL,
        acknowledged_at TEXT NOT NULL
    );
    CREATE INDEX office_acks_job ON office_acks(job_id);
    -- Urgent records are few: find them without reading the whole outbox.
    CREATE INDEX outbox_urgent ON outbox(seq) WHERE urgent = 1;
    "#,
    // 8: `job_progress` holds checkpoints (crate::store::projection): a job's projection is its row
    // there plus the job's events after `last_seq`, so an action no longer rewrites the whole
    // projection. Every row an older build wrote is a checkpoint with no event after it: nothing to
    // convert. The version is bumped so that an older build refuses this database instead of
    // reading a checkpoint as the whole projection.
    r#"
    -- no statement: the rows are already in the new reading
    "#,
    // 9 (issue 15, honest time): the last reading of the wall and monotonic clocks, and the
    // jumps of the wall clock seen between readings (crate::clock), until the office has them.
    r#"
    CREATE TABLE clock_reading (
        singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
        wall_at    TEXT NOT NULL,                  -- the device's wall clock, RFC 3339
        boot       TEXT NOT NULL,                  -- which boot (or run) the monotonic clock counts from
        mono_ms    INTEGER NOT NULL
    );
    CREATE TABLE clock_jumps (
        id           TEXT PRIMARY KEY,
        wall_before  TEXT NOT NULL,
        wall_after   TEXT NOT NULL,
        jump_ms      INTEGER NOT NULL,
        rebooted     INTEGER NOT NULL,
        reported     INTEGER NOT NULL DEFAULT 0
    );
    "#,
    // 10 (issue 15, the company profile): the company's details the office sends with every pull
    // (name, service hotline), filled into the standard phrases and the contact card. One row; kept across sign-outs (it is the office's).
    r#"
    CREATE TABLE IF NOT EXISTS company_profile (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        profile     TEXT NOT NULL,             -- heatcrew_protocol::sync::CompanyProfile as JSON
        kept_at     TEXT NOT NULL
    );
    "#,
    // 11 (issue 15, photos in the background): captures waiting to be processed and the actions
    // held behind them (crate::store::intake).
    crate::store::INTAKE_MIGRATION,
    // 12 (issue 15, recording speed): fewer encrypted pages per action (docs/design.md, "What one
    // action costs").
    //
    // The outbox becomes the office's answered prefix of the log (crate::store::outbox) instead of
    // a row and an index entry per event. Every answer of the old outbox is kept: the office has
    // answered everything before the first record still waiting (queued or uploading); the
    // rejected among them keep their reason, the urgent stay urgent. A record after that first
    // waiting one which the office had already answered (it answers in order, so only a push cut
    // short could leave one) waits again: pushed once more, the office answers it as a duplicate,
    // with the same receipt.
    //
    // `events` loses the unique index on `id` (no read needs it: a correction's original is found
    // through the job's index, `crate::store::corrections`): the table is rebuilt with the same
    // rows, byte for byte, and the same triggers. Runs with foreign keys off ([`REBUILDS`]).
    r#"
    ALTER TABLE sync_state ADD COLUMN acked_through INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sync_state ADD COLUMN uploading_through INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE outbox_rejected (
        seq          INTEGER PRIMARY KEY REFERENCES events(seq),
        reason       TEXT,
        rejected_at  TEXT NOT NULL
    );
    -- Urgent records (accident reports), which go first: a row only for those.
    CREATE TABLE urgent_events (
        seq  INTEGER PRIMARY KEY REFERENCES events(seq)
    );
    UPDATE sync_state SET acked_through = IFNULL(
        (SELECT MIN(seq) - 1 FROM outbox WHERE state IN ('queued', 'uploading')),
        (SELECT IFNULL(MAX(seq), 0) FROM events));
    INSERT INTO outbox_rejected (seq, reason, rejected_at)
        SELECT seq, reason, updated_at FROM outbox
        WHERE state = 'rejected' AND seq <= (SELECT acked_through FROM sync_state);
    INSERT INTO urgent_events (seq) SELECT seq FROM outbox WHERE urgent = 1;
    DROP TABLE outbox;

    CREATE TABLE events_12 (
        seq          INTEGER PRIMARY KEY,          -- device_seq: 1, 2, 3, … gap-free
        id           TEXT NOT NULL,                -- UUIDv7
        job_id       TEXT NOT NULL,
        kind         TEXT NOT NULL,
        payload      TEXT NOT NULL,                -- JSON
        recorded_at  TEXT NOT NULL,                -- RFC 3339, milliseconds
        elapsed_ms   INTEGER NOT NULL,
        prev_hash    BLOB NOT NULL,
        hash         BLOB NOT NULL,
        sig          BLOB NOT NULL,
        format       INTEGER NOT NULL DEFAULT 1 CHECK (format IN (1, 2))
    );
    INSERT INTO events_12 (seq, id, job_id, kind, payload, recorded_at, elapsed_ms, prev_hash, hash, sig, format)
        SELECT seq, id, job_id, kind, payload, recorded_at, elapsed_ms, prev_hash, hash, sig, format
        FROM events ORDER BY seq;
    DROP TABLE events;
    ALTER TABLE events_12 RENAME TO events;
    CREATE INDEX events_job ON events(job_id, seq);
    CREATE TRIGGER events_gap_free BEFORE INSERT ON events
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM events)
        BEGIN SELECT RAISE(ABORT, 'events are gap-free: seq must be the last one plus one'); END;
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only: record a correction instead'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only: they cannot be deleted'); END;
    "#,
    // 13 (issue 15, recording speed): `attachments` keyed by its hash alone. As a rowid table
    // with a text primary key it was two b-trees, the rows and the key's automatic index, so an
    // action with a photo or a signature wrote two pages for one row; `WITHOUT ROWID` stores the
    // row in its key's b-tree: one. Same rows, same columns, same reads (docs/design.md, "What one
    // action costs"). Nothing refers to `attachments`, so foreign keys stay on.
    r#"
    CREATE TABLE attachments_13 (
        sha256          TEXT PRIMARY KEY,
        bytes           INTEGER NOT NULL,
        mime            TEXT NOT NULL,
        first_seq       INTEGER NOT NULL REFERENCES events(seq),
        uploaded_bytes  INTEGER NOT NULL DEFAULT 0,
        uploaded        INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    INSERT INTO attachments_13 (sha256, bytes, mime, first_seq, uploaded_bytes, uploaded)
        SELECT sha256, bytes, mime, first_seq, uploaded_bytes, uploaded FROM attachments;
    DROP TABLE attachments;
    ALTER TABLE attachments_13 RENAME TO attachments;
    "#,
    // 14: every sign-in the office accepted, as this device signed it (user, chain head,
    // challenge, proof): whose records its events are, kept as evidence against an office export
    // that leaves one out (docs/evidence.md, `sign_in_withheld`). Kept forever, like receipts.
    r#"
    CREATE TABLE sign_ins (
        id          INTEGER PRIMARY KEY,
        sign_in     TEXT NOT NULL UNIQUE,          -- heatcrew_protocol::export::ExportLine::SignIn as JSON
        kept_at     TEXT NOT NULL
    );
    CREATE TRIGGER sign_ins_no_update BEFORE UPDATE ON sign_ins
        BEGIN SELECT RAISE(ABORT, 'sign-ins are evidence: they are never changed'); END;
    CREATE TRIGGER sign_ins_no_delete BEFORE DELETE ON sign_ins
        BEGIN SELECT RAISE(ABORT, 'sign-ins are evidence: they are never deleted'); END;
    "#,
    // 15: who queued each photo and held action, so that one finished after the phone changed
    // hands is recorded as its taker's (store/intake.rs).
    crate::store::TAKEN_BY_MIGRATION,
    // 16: every sign-out this device signed (where its chain stood as its user signed out), kept
    // like the sign-ins and sent until the office has it (sync/sign_out.rs). Never deleted.
    r#"
    CREATE TABLE sign_outs (
        id          INTEGER PRIMARY KEY,
        statement   TEXT NOT NULL UNIQUE,          -- heatcrew_protocol::sync::SignOutStatement as JSON
        challenge   TEXT NOT NULL UNIQUE,          -- of the sign-in it ends
        sent        INTEGER NOT NULL DEFAULT 0,    -- the office answered (kept, or refused for good)
        kept_at     TEXT NOT NULL
    );
    CREATE TRIGGER sign_outs_no_delete BEFORE DELETE ON sign_outs
        BEGIN SELECT RAISE(ABORT, 'sign-outs are evidence: they are never deleted'); END;
    CREATE TRIGGER sign_outs_only_sent BEFORE UPDATE ON sign_outs
        WHEN NEW.statement IS NOT OLD.statement OR NEW.challenge IS NOT OLD.challenge
        BEGIN SELECT RAISE(ABORT, 'sign-outs are evidence: only whether it was sent changes'); END;
    "#,
    // 17: the office's signature that it kept each sign-out (`heatcrew.sign-out-kept.v1`), kept
    // as evidence against an office export that leaves it out (docs/evidence.md,
    // `sign_out_withheld`). Set once.
    r#"
    ALTER TABLE sign_outs ADD COLUMN office_sig TEXT;
    DROP TRIGGER sign_outs_only_sent;
    CREATE TRIGGER sign_outs_only_sent BEFORE UPDATE ON sign_outs
        WHEN NEW.statement IS NOT OLD.statement OR NEW.challenge IS NOT OLD.challenge
            OR (OLD.office_sig IS NOT NULL AND NEW.office_sig IS NOT OLD.office_sig)
        BEGIN SELECT RAISE(ABORT, 'sign-outs are evidence: only whether it was sent, and once the office''s signature, change'); END;
    "#,
];

/// Migrations that rebuild a table other tables refer to: they run with foreign keys off (SQLite's
/// way to rebuild a table), and every reference is checked before they commit.
const REBUILDS: &[i64] = &[12];

/// The migration that drops the secret key from the database.
pub const KEYS_OUT: i64 = 4;

/// The migration that drops the session's tokens from the database.
pub const TOKENS_OUT: i64 = 6;

/// The migration after which the outbox is a cursor over the log, not a table.
pub const OUTBOX_AS_CURSOR: i64 = 12;

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Bring the database up to [`latest`], refusing one that is newer.
/// `before(tx, n)` runs inside migration `n`'s transaction, before its SQL.
pub fn run(
    conn: &mut Connection,
    before: &mut dyn FnMut(&Transaction<'_>, i64) -> Result<()>,
) -> Result<()> {
    run_to(conn, latest(), before)
}

/// Bring the database up to schema `target` (tests build the databases older builds wrote).
pub(crate) fn run_to(
    conn: &mut Connection,
    target: i64,
    before: &mut dyn FnMut(&Transaction<'_>, i64) -> Result<()>,
) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > latest() {
        return Err(CoreError::DatabaseTooNew {
            found,
            known: latest(),
        });
    }
    let upto = usize::try_from(target).unwrap_or(0).min(MIGRATIONS.len());
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(upto)
        .skip(found as usize)
    {
        let version = i as i64 + 1;
        let rebuild = REBUILDS.contains(&version);
        let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        if rebuild {
            // Outside the transaction: SQLite ignores this pragma inside one.
            conn.pragma_update(None, "foreign_keys", false)?;
        }
        let done = (|| {
            let tx = conn.transaction()?;
            before(&tx, version)?;
            tx.execute_batch(sql)?;
            if rebuild {
                let broken: Option<String> = tx
                    .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
                    .optional()?;
                if let Some(table) = broken {
                    return Err(CoreError::Corrupt(format!(
                        "migration {version}: a row of {table} refers to nothing"
                    )));
                }
            }
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()?;
            Ok(())
        })();
        if rebuild {
            conn.pragma_update(None, "foreign_keys", foreign_keys)?;
        }
        done?;
    }
    Ok(())
}
