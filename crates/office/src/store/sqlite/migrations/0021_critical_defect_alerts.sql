-- A critical defect (a hazard found on patrol or at an inspection: 发现安全隐患时应及时报告, 规章制度
-- 2.3) raises an alert as an accident report does, in the transaction that stores it; the device
-- pushes it first (heatcrew-protocol `is_urgent_record` says the same in Rust). `body` is the
-- stored event's JSON, its payload under `payload`.
DROP TRIGGER alerts_raise;
CREATE TRIGGER alerts_raise AFTER INSERT ON events
    WHEN NEW.status = 'accepted' AND (
        NEW.kind IN (SELECT kind FROM urgent_kinds)
        OR (NEW.kind = 'defect_reported'
            AND json_extract(NEW.body, '$.payload.severity') = 'critical'))
BEGIN
    INSERT OR IGNORE INTO alerts (id, device_id, device_seq, job_id, kind, reported_by, raised_at)
    VALUES (NEW.id, NEW.device_id, NEW.device_seq, NEW.job_id, NEW.kind, NEW.user_id, NEW.received_at);
END;
