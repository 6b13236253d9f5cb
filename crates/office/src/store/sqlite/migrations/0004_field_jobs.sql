-- Jobs a device opened in the field (an accident report, a repair found on patrol) are marked, and
-- count in the KPIs only once an office dispatcher accepts them (docs/domain.md, "Field-created
-- jobs"). Jobs devices opened before this migration are marked too, awaiting acceptance.
ALTER TABLE jobs ADD COLUMN field_created INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN accepted_at TEXT;
ALTER TABLE jobs ADD COLUMN accepted_by TEXT REFERENCES users(id);
UPDATE jobs SET field_created = 1
    WHERE id IN (SELECT job_id FROM events WHERE kind = 'job_created' AND status = 'accepted');
