-- The rectification notice register (issue 13.6, crates/office/src/notices): one row per accepted
-- `notice_issued` event, imported from the ledger (the event stays the evidence; this row is the
-- office's follow-up of it). A re-inspection job is linked at most once (`reinspection_job_id`
-- UNIQUE, set only while NULL in the transaction that creates the job), and the first outcome
-- recorded stays.
CREATE TABLE notices (
    event_id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    job_id TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    deadline TEXT NOT NULL,
    requirements TEXT NOT NULL,
    reinspector TEXT REFERENCES users(id),
    reinspection_job_id TEXT UNIQUE,
    reinspection_created_at TEXT,
    outcome TEXT CHECK (outcome IN ('complied', 'not_complied', 'new_notice')),
    outcome_note TEXT,
    outcome_by TEXT,
    outcome_at TEXT,
    next_notice TEXT,
    imported_at TEXT NOT NULL
);
CREATE INDEX notices_deadline ON notices(deadline);
CREATE INDEX notices_number ON notices(number);
