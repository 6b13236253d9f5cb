-- Urgent alerts (issue 12): an accepted urgent event (an accident report) raises one, in the same
-- transaction that stores the event, whichever code path inserts it. The alert's id is the event's.
-- The kinds that are urgent, as heatcrew-protocol's URGENT_KINDS names them (a test compares them).
CREATE TABLE urgent_kinds (kind TEXT PRIMARY KEY);
INSERT INTO urgent_kinds (kind) VALUES ('accident_reported');
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    acknowledged_by TEXT REFERENCES users(id),
    acknowledged_at TEXT,
    UNIQUE (device_id, device_seq)
);
-- Open ones first, newest first: the console's list and the banner.
CREATE INDEX alerts_open ON alerts(acknowledged_at IS NOT NULL, raised_at DESC);
-- What a device's pull carries: its own alerts, acknowledged, newest first.
CREATE INDEX alerts_device_acked ON alerts(device_id, acknowledged_at) WHERE acknowledged_at IS NOT NULL;
CREATE TRIGGER alerts_raise AFTER INSERT ON events
    WHEN NEW.status = 'accepted' AND NEW.kind IN (SELECT kind FROM urgent_kinds)
BEGIN
    INSERT OR IGNORE INTO alerts (id, device_id, device_seq, job_id, kind, reported_by, raised_at)
    VALUES (NEW.id, NEW.device_id, NEW.device_seq, NEW.job_id, NEW.kind, NEW.user_id, NEW.received_at);
END;
-- Accidents reported in the last day before this office knew alerts are raised now (still open);
-- older ones were handled by phone and are not brought back.
INSERT OR IGNORE INTO alerts (id, device_id, device_seq, job_id, kind, reported_by, raised_at)
    SELECT id, device_id, device_seq, job_id, kind, user_id, received_at FROM events
    WHERE status = 'accepted' AND kind IN (SELECT kind FROM urgent_kinds)
      AND received_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day');
