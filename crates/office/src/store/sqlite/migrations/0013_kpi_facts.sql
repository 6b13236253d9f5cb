-- The service standard at the office (issue 13 points 1-3).
-- Honest time: the clock offset (server minus device, ms) each event's corrected time uses, fixed
-- from the device's offset at the push that brought it (`push_offset_ms`), its monotonic clock and
-- its reported clock jumps (kpi::time). NULL for events stored before this migration: they keep
-- the device's current offset, as before.
ALTER TABLE events ADD COLUMN offset_ms INTEGER;
ALTER TABLE events ADD COLUMN push_offset_ms INTEGER;
-- One row of KPI facts per job (kpi::facts), written in the push transaction and whenever dispatch
-- changes the job; times are office-corrected Unix milliseconds. Jobs without a row (stored before
-- this migration) are re-checked and filled when the office starts.
CREATE TABLE job_facts (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    person TEXT,
    anchor_at INTEGER NOT NULL,
    reported_at INTEGER,
    window_start INTEGER,
    window_end INTEGER,
    arrived_at INTEGER,
    resolution TEXT,
    closed_at INTEGER,
    rating INTEGER,
    cancelled INTEGER NOT NULL,
    counted INTEGER NOT NULL,
    conforming INTEGER NOT NULL
);
CREATE INDEX job_facts_anchor ON job_facts(anchor_at);
-- Rules an accepted event broke when the office re-checked it (kpi::conformance): the event stays
-- stored (evidence); its job is non-conforming.
CREATE TABLE job_violations (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    event_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    PRIMARY KEY (job_id, event_id)
);
