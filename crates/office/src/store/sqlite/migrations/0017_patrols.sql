-- Patrol plans, the rounds they generated, and the defects register (issue 13.7,
-- crates/office/src/patrols). A plan's round for one shift is created at most once: the primary key
-- (plan_id, shift_start) and the job id derived from it.
CREATE TABLE patrol_plans (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    route_id TEXT NOT NULL REFERENCES routes(id),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE patrol_rounds (
    plan_id TEXT NOT NULL REFERENCES patrol_plans(id),
    shift_start TEXT NOT NULL,
    job_id TEXT NOT NULL UNIQUE REFERENCES jobs(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (plan_id, shift_start)
);
CREATE INDEX patrol_rounds_start ON patrol_rounds(shift_start);
-- One row per accepted `defect_reported` event; the office's status of it.
CREATE TABLE defects (
    event_id TEXT PRIMARY KEY,
    defect_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    checkpoint TEXT,
    category TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('minor', 'major', 'critical')),
    description TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'repair_ordered', 'fixed', 'dismissed')),
    repair_job_id TEXT UNIQUE,
    status_note TEXT,
    status_by TEXT,
    status_at TEXT,
    imported_at TEXT NOT NULL
);
CREATE INDEX defects_status ON defects(status);
