-- KPI answers read a period's job_facts as one range of the table itself (issue 13: a month of
-- 100,000 jobs in <= 300 ms). Before, the rows were found through job_facts_anchor and each was
-- then looked up in the table by rowid: one random b-tree descent per job, most of an answer's
-- time. The table is rebuilt clustered on (anchor_at, job_id) (WITHOUT ROWID), so a period is one
-- contiguous walk of its leaves; job_id stays unique, so the push transaction's INSERT OR REPLACE
-- still replaces a job's row (and moves it when its anchor changes). Columns are unchanged.
CREATE TABLE job_facts_by_anchor (
    job_id TEXT NOT NULL UNIQUE REFERENCES jobs(id),
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
    conforming INTEGER NOT NULL,
    PRIMARY KEY (anchor_at, job_id)
) WITHOUT ROWID;
INSERT INTO job_facts_by_anchor (job_id, kind, title, person, anchor_at, reported_at,
    window_start, window_end, arrived_at, resolution, closed_at, rating, cancelled, counted,
    conforming)
SELECT job_id, kind, title, person, anchor_at, reported_at, window_start, window_end, arrived_at,
    resolution, closed_at, rating, cancelled, counted, conforming
FROM job_facts;
DROP TABLE job_facts;
ALTER TABLE job_facts_by_anchor RENAME TO job_facts;
