
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    badge_no TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE crews (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE crew_members (
    crew_id TEXT NOT NULL REFERENCES crews(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (crew_id, user_id)
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    code_no INTEGER NOT NULL UNIQUE,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    enrolled_at TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_hash TEXT NOT NULL,
    clock_offset_ms INTEGER,
    clock_checked_at TEXT,
    clock_jumps INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE clock_jumps (
    device_id TEXT NOT NULL REFERENCES devices(id),
    at TEXT NOT NULL,
    from_ms INTEGER NOT NULL,
    to_ms INTEGER NOT NULL
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    device_id TEXT REFERENCES devices(id),
    access_hash TEXT NOT NULL UNIQUE,
    access_expires_at TEXT NOT NULL,
    refresh_hash TEXT NOT NULL UNIQUE,
    previous_refresh_hash TEXT,
    current_used INTEGER NOT NULL DEFAULT 0,
    refresh_expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX sessions_previous ON sessions(previous_refresh_hash);
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    assignee TEXT REFERENCES users(id),
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    cancel_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE job_assignments (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    assigned_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX job_assignments_job ON job_assignments(job_id, user_id);
CREATE TABLE changes (
    server_seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX changes_user ON changes(user_id, server_seq);
CREATE TABLE events (
    device_id TEXT NOT NULL REFERENCES devices(id),
    device_seq INTEGER NOT NULL,
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
    PRIMARY KEY (device_id, device_seq)
);
CREATE INDEX events_job ON events(job_id);
CREATE TABLE attachment_refs (
    sha256 TEXT NOT NULL,
    device_id TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    PRIMARY KEY (sha256, device_id, device_seq)
);
CREATE INDEX attachment_refs_user ON attachment_refs(sha256, user_id);
CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    completed_at TEXT
);
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
