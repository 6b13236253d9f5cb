-- 信息反馈: one feedback record per closed visit, written when the job closes (and rewritten when a
-- later event of the job arrives), so the console's list and the monthly workbook read one row per
-- visit instead of folding every job's events on each request. Backfilled at start for visits
-- closed before this migration (`feedback::backfill`).
CREATE TABLE feedback_records (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id),
    job_kind TEXT NOT NULL,
    title TEXT NOT NULL,
    staff_id TEXT,
    staff_name TEXT NOT NULL,
    staff_badge TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    -- digits only, as `jobs.customer_phone`
    customer_phone TEXT NOT NULL,
    customer_account TEXT NOT NULL,
    address TEXT NOT NULL,
    reported_at TEXT,
    arrived_at TEXT,
    resolved_at TEXT,
    -- the office-corrected time of the job_closed: the list's order and date range
    closed_at TEXT NOT NULL,
    result TEXT NOT NULL,
    summary TEXT NOT NULL,
    rating INTEGER,
    comment TEXT NOT NULL,
    -- the opinion form's answers as stored (question key -> option value), JSON
    opinions TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX feedback_closed ON feedback_records(closed_at, job_id);
CREATE INDEX feedback_staff ON feedback_records(staff_id, closed_at);
CREATE INDEX feedback_phone ON feedback_records(customer_phone);
CREATE INDEX feedback_account ON feedback_records(customer_account);
-- The monthly workbook's job sheet reads one month of jobs by creation time.
CREATE INDEX jobs_created ON jobs(created_at, id);
-- Printable documents (service record, rectification notice) as the office made them: the SHA-256
-- of each distinct PDF made for a job, so a copy downloaded later can be checked against it.
CREATE TABLE document_digests (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    -- `service_record` or `notice:<number>`
    document TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    first_made_at TEXT NOT NULL,
    PRIMARY KEY (job_id, document, sha256)
);
