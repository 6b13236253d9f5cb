-- The office schema on PostgreSQL: the same tables as the SQLite store's migrations 0001–0018
-- (crates/office/src/store/sqlite/migrations/), written once for PostgreSQL. Not yet released:
-- extended in place until the first release, then append-only like SQLite's.
--
-- This file holds the tables of SQLite's 0001–0012, in their final shape (with the columns and
-- indexes that 0013–0018 add to them); 0002_service_standard.sql holds the service standard's
-- tables of 0013–0018 (issue 13).
--
-- Conventions, so that rows copy between the two backends unchanged (docs/storage.md,
-- "PostgreSQL"): column for column as in SQLite, in the same order; TEXT stays TEXT (times as
-- `convert::ts` RFC 3339 millisecond text, so text order is time order; uuids and hex digests as
-- text; JSON bodies as the exact JSON text, never JSONB: event bodies are hashed); INTEGER becomes
-- BIGINT (0/1 flags too), BLOB BYTEA, REAL DOUBLE PRECISION; AUTOINCREMENT a BIGINT identity. The
-- same primary keys, uniques, foreign keys, CHECKs and indexes; SQLite's triggers as plpgsql
-- triggers.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Accounts -------------------------------------------------------------------------------------

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    badge_no TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    -- A deactivated user cannot sign in and their sessions are revoked; their records stay theirs.
    deactivated_at TEXT,
    -- A second factor for staff: the confirmed TOTP secret (base32), and one being set up.
    totp_secret TEXT,
    totp_pending TEXT,
    -- The 30 s step of the last TOTP code accepted (RFC 6238 §5.2): that step or an earlier one is
    -- refused from then on.
    totp_last_step BIGINT
);
CREATE TABLE crews (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE crew_members (
    crew_id TEXT NOT NULL REFERENCES crews(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (crew_id, user_id)
);

-- Devices and sessions -------------------------------------------------------------------------

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    code_no BIGINT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- Bound to its first user; another may sign in on it only once an admin marked it `shared`
    -- (a crew's phone) or moved it to them.
    user_id TEXT NOT NULL REFERENCES users(id),
    enrolled_at TEXT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_hash TEXT NOT NULL,
    clock_offset_ms BIGINT,
    clock_checked_at TEXT,
    clock_jumps BIGINT NOT NULL DEFAULT 0,
    shared BIGINT NOT NULL DEFAULT 0,
    -- When it last pushed, pulled or signed in, and the app version it said it runs.
    last_sync_at TEXT,
    app_version TEXT
);
-- The office's own view of a device's clock: the jumps it saw in the device's offset.
CREATE TABLE clock_jumps (
    device_id TEXT NOT NULL REFERENCES devices(id),
    at TEXT NOT NULL,
    from_ms BIGINT NOT NULL,
    to_ms BIGINT NOT NULL
);
-- Jumps of a device's wall clock that its own monotonic clock saw (issue 15), reported by its
-- sync pass, once per jump id; `user_id` is who was signed in when it was reported.
CREATE TABLE device_clock_jumps (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    wall_before TEXT NOT NULL,
    wall_after TEXT NOT NULL,
    jump_ms BIGINT NOT NULL,
    rebooted BIGINT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX device_clock_jumps_device ON device_clock_jumps(device_id, wall_after);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    device_id TEXT REFERENCES devices(id),
    access_hash TEXT NOT NULL UNIQUE,
    access_expires_at TEXT NOT NULL,
    refresh_hash TEXT NOT NULL UNIQUE,
    previous_refresh_hash TEXT,
    current_used BIGINT NOT NULL DEFAULT 0,
    refresh_expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    -- Sessions end at an absolute time however often they are refreshed; staff sessions also end
    -- after a stretch without requests (`last_seen_at`, written at most once a minute).
    absolute_expires_at TEXT,
    last_seen_at TEXT,
    -- Opened by a password alone for an admin who must still set up a second factor.
    totp_setup_only BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_previous ON sessions(previous_refresh_hash);
CREATE INDEX sessions_user ON sessions(user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_device ON sessions(device_id) WHERE revoked_at IS NULL;
-- One-time challenges a device signs to prove it holds its key when it logs in.
CREATE TABLE enrol_challenges (
    challenge TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- Jobs -----------------------------------------------------------------------------------------

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    assignee TEXT REFERENCES users(id),
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    cancel_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- The console's lookups, each from an index rather than a scan of bodies: the instant the job
    -- belongs on the dispatch board (appointment, else report time; `ts` text), its customer's
    -- phone (digits only, as `phone_key` makes it) and account number. The customer lookups are
    -- prefix ranges (`>= key AND < key || U+10FFFF`): byte order ("C"), whatever the database's
    -- collation, or a language's would skip the `-` of an account number and widen the range.
    board_at TEXT,
    customer_phone TEXT COLLATE "C",
    customer_account TEXT COLLATE "C",
    -- Opened by a device in the field; counts in the KPIs once a dispatcher accepts it.
    field_created BIGINT NOT NULL DEFAULT 0,
    accepted_at TEXT,
    accepted_by TEXT REFERENCES users(id)
);
CREATE INDEX jobs_board_at ON jobs(board_at);
CREATE INDEX jobs_undated_open ON jobs(created_at) WHERE board_at IS NULL AND status = 'open';
CREATE INDEX jobs_customer_phone ON jobs(customer_phone, created_at);
CREATE INDEX jobs_customer_account ON jobs(customer_account, created_at);
CREATE INDEX jobs_created ON jobs(created_at, id);
CREATE TABLE job_assignments (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    assigned_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX job_assignments_job ON job_assignments(job_id, user_id);

-- The change feed devices pull, in office commit order (`server_seq`). Not an identity: numbers
-- come from `ledger_counter` (postgres/ledger.rs `add_change`), so they follow commit order.
CREATE TABLE changes (
    server_seq BIGINT PRIMARY KEY,
    user_id TEXT,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX changes_user ON changes(user_id, server_seq);

-- The ledger -----------------------------------------------------------------------------------

CREATE TABLE events (
    device_id TEXT NOT NULL REFERENCES devices(id),
    device_seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reject_code TEXT,
    reject_reason TEXT,
    received_at TEXT NOT NULL,
    -- The clock offset (server minus device, ms) the event's corrected time uses, and the device's
    -- offset at the push that brought it (kpi::time).
    offset_ms BIGINT,
    push_offset_ms BIGINT,
    -- SQLite's implicit rowid, made explicit: the order the office stored events in ("office
    -- receipt order": `ORDER BY e.rowid`). A copy from SQLite carries the rowids over.
    rowid BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
    PRIMARY KEY (device_id, device_seq)
);
-- (job_id, rowid): SQLite's index on job_id holds the rowid too, so a job's events come in order.
CREATE INDEX events_job ON events(job_id, rowid);

-- Attachments ----------------------------------------------------------------------------------

CREATE TABLE attachment_refs (
    sha256 TEXT NOT NULL,
    device_id TEXT NOT NULL,
    device_seq BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    PRIMARY KEY (sha256, device_id, device_seq)
);
CREATE INDEX attachment_refs_user ON attachment_refs(sha256, user_id);
CREATE INDEX attachment_refs_job ON attachment_refs(sha256, job_id);
-- Content that arrived (its bytes hashed to the address); the type it is served with is
-- recognised from its bytes on every download.
CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    complete BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    completed_at TEXT
);
-- One upload session per (content, uploader): `device-<id>` or `user-<id>` (store::Uploader).
CREATE TABLE attachment_uploads (
    sha256 TEXT NOT NULL,
    uploader TEXT NOT NULL,
    device_id TEXT,
    user_id TEXT NOT NULL,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    complete BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (sha256, uploader)
);
CREATE INDEX attachment_uploads_done ON attachment_uploads(sha256, user_id) WHERE complete = 1;

-- The network ----------------------------------------------------------------------------------

CREATE TABLE routes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    area TEXT NOT NULL,
    checkpoints TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE outages (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    cleared_at TEXT
);
-- The code posted at each patrol station; devices receive only its digest.
CREATE TABLE checkpoint_codes (
    checkpoint_id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The office's evidence log (docs/evidence.md, "The office's log") -----------------------------

-- One leaf per stored event, in commit order, appended in the same transaction as the event.
CREATE TABLE log_leaves (
    log_index BIGINT PRIMARY KEY,
    device_id TEXT NOT NULL,
    device_seq BIGINT NOT NULL,
    event_hash TEXT NOT NULL,
    accepted BIGINT NOT NULL CHECK (accepted IN (0, 1)),
    received_at TEXT NOT NULL,
    UNIQUE (device_id, device_seq)
);
-- The next change-feed number and the log's size: one row, updated as the last statement of every
-- transaction that appends to either, so its row lock is held until the commit and numbers are
-- handed out in commit order (docs/design.md, "PostgreSQL: commit order"). A copy of a database
-- sets it to MAX(changes.server_seq) + 1 and the number of leaves.
CREATE TABLE ledger_counter (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    next_change BIGINT NOT NULL,
    log_size BIGINT NOT NULL
);
INSERT INTO ledger_counter (id, next_change, log_size) VALUES (1, 1, 0);
-- The perfect subtrees of the log: the node at (level, idx) covers leaves idx·2^level up to
-- (idx+1)·2^level; level 0 holds the leaf hashes.
CREATE TABLE log_nodes (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
-- Tree heads handed out: the first one the office signed for each size.
CREATE TABLE tree_heads (
    size BIGINT PRIMARY KEY,
    root TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    sig TEXT NOT NULL
);
-- How far each device's stored chain was verified (crate::chain_cache); vouches for nothing by
-- itself (its signature and digest are checked on use).
CREATE TABLE chain_checkpoints (
    device_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    tip_hash TEXT NOT NULL,
    rows_digest TEXT NOT NULL,
    sig TEXT NOT NULL,
    checked_at TEXT NOT NULL
);

-- Urgent alerts (issue 12) ---------------------------------------------------------------------

-- The kinds that are urgent, as heatcrew-protocol's URGENT_KINDS names them.
CREATE TABLE urgent_kinds (kind TEXT PRIMARY KEY);
INSERT INTO urgent_kinds (kind) VALUES ('accident_reported');
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    device_seq BIGINT NOT NULL,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    acknowledged_by TEXT REFERENCES users(id),
    acknowledged_at TEXT,
    UNIQUE (device_id, device_seq)
);
-- Open ones first, newest first: the console's list and the banner.
CREATE INDEX alerts_open ON alerts((acknowledged_at IS NOT NULL), raised_at DESC);
-- What a device's pull carries: its own alerts, acknowledged, newest first.
CREATE INDEX alerts_device_acked ON alerts(device_id, acknowledged_at) WHERE acknowledged_at IS NOT NULL;

-- The audit log --------------------------------------------------------------------------------

-- Who did what, when, from where. Append-only: no row is ever changed, none deleted before it is
-- 183 days old (the store has no path to do either; the triggers below refuse it to anyone else).
CREATE TABLE audit_log (
    seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- who acted (a user id), if known
    actor_id TEXT,
    -- the username the actor gave or has
    username TEXT NOT NULL DEFAULT '',
    -- the client address the request came from
    address TEXT NOT NULL DEFAULT '',
    -- what it touched: a user, device, job id
    subject TEXT NOT NULL DEFAULT '',
    -- what else is worth knowing (JSON object)
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_kind ON audit_log(kind, seq);
CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);
CREATE INDEX audit_log_username ON audit_log(username, seq);
CREATE INDEX audit_log_subject ON audit_log(subject, seq);

-- Triggers -------------------------------------------------------------------------------------

-- Append-only against mistakes (not against someone with the database's owner role: that is
-- what receipts and tree heads held by devices are for). The message is the trigger's argument.
-- TRUNCATE skips row triggers, so it is refused by a statement trigger of its own.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER log_leaves_append_only BEFORE UPDATE OR DELETE ON log_leaves
    FOR EACH ROW EXECUTE FUNCTION refuse_change('the office log is append-only');
CREATE TRIGGER log_leaves_no_truncate BEFORE TRUNCATE ON log_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the office log is append-only');
CREATE TRIGGER log_nodes_append_only BEFORE UPDATE OR DELETE ON log_nodes
    FOR EACH ROW EXECUTE FUNCTION refuse_change('the office log is append-only');
CREATE TRIGGER log_nodes_no_truncate BEFORE TRUNCATE ON log_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the office log is append-only');
CREATE TRIGGER tree_heads_append_only BEFORE UPDATE OR DELETE ON tree_heads
    FOR EACH ROW EXECUTE FUNCTION refuse_change('signed tree heads are kept as signed');
CREATE TRIGGER tree_heads_no_truncate BEFORE TRUNCATE ON tree_heads
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('signed tree heads are kept as signed');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION
    refuse_change('the audit log is append-only: entries are never changed');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION
    refuse_change('the audit log is append-only: entries are kept at least 183 days');
-- An entry goes only once it is 183 days old (an `at` that is not a time cannot be cast: refused
-- as well).
CREATE FUNCTION audit_log_keep_six_months() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.at IS NULL OR OLD.at::timestamptz > now() - interval '183 days' THEN
        RAISE EXCEPTION 'the audit log is append-only: entries are kept at least 183 days'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER audit_log_keep_six_months BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_keep_six_months();

-- An accepted urgent event raises its alert in the transaction that stores it, whichever code
-- path inserts it (COPY included). The alert's id is the event's.
CREATE FUNCTION alerts_raise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM urgent_kinds WHERE kind = NEW.kind) THEN
        INSERT INTO alerts (id, device_id, device_seq, job_id, kind, reported_by, raised_at)
        VALUES (NEW.id, NEW.device_id, NEW.device_seq, NEW.job_id, NEW.kind, NEW.user_id,
                NEW.received_at)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER alerts_raise AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.status = 'accepted') EXECUTE FUNCTION alerts_raise();
