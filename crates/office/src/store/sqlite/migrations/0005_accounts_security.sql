-- Accounts and sessions hardening (issue 11, points 3, 4, 8, 9).
--
-- A device is bound to its first user (`devices.user_id`); another user may sign in on it only once
-- an admin marked it shared (a crew's phone) or moved it to them.
ALTER TABLE devices ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
-- Sessions end at an absolute time however often they are refreshed; staff sessions also end after
-- a stretch without requests (`last_seen_at`, written at most once a minute).
ALTER TABLE sessions ADD COLUMN absolute_expires_at TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
UPDATE sessions SET absolute_expires_at = refresh_expires_at, last_seen_at = created_at;
CREATE INDEX sessions_user ON sessions(user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_device ON sessions(device_id) WHERE revoked_at IS NULL;
-- A second factor for staff: the confirmed TOTP secret (base32), and one being set up.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
-- Sessions opened by a password alone for an admin who must still set up a second factor: they can
-- do nothing but that.
ALTER TABLE sessions ADD COLUMN totp_setup_only INTEGER NOT NULL DEFAULT 0;

-- The audit log: who did what, when, from where. Append-only: no row is ever changed, and none is
-- deleted before it is 183 days old (the store has no path to do either; these triggers refuse it
-- to anyone else who opens the file).
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries are never changed');
END;
CREATE TRIGGER audit_log_keep_six_months BEFORE DELETE ON audit_log
WHEN julianday(old.at) > julianday('now', '-183 days') OR julianday(old.at) IS NULL
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries are kept at least 183 days');
END;
