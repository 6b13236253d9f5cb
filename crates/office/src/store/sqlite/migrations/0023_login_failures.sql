-- Failed sign-ins, counted per key (an account from an address, an address, an account; each the
-- SHA-256 of what it names): in the database, so that every office process meets the same counts
-- and a restart forgets none (throttle.rs). A key is forgotten an hour after its last failure.
CREATE TABLE login_failures (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_failure  TEXT NOT NULL,
    locked_until  TEXT
) WITHOUT ROWID;
CREATE INDEX login_failures_last ON login_failures(last_failure);
