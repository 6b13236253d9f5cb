-- A critical defect (a hazard found on patrol or at an inspection: 发现安全隐患时应及时报告, 规章制度
-- 2.3) raises an alert as an accident report does, in the transaction that stores it; the device
-- pushes it first (heatcrew-protocol `is_urgent_record` says the same in Rust). `body` is the
-- stored event's JSON, its payload under `payload`.
CREATE OR REPLACE FUNCTION alerts_raise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM urgent_kinds WHERE kind = NEW.kind)
       OR (NEW.kind = 'defect_reported'
           AND (NEW.body::jsonb -> 'payload' ->> 'severity') = 'critical') THEN
        INSERT INTO alerts (id, device_id, device_seq, job_id, kind, reported_by, raised_at)
        VALUES (NEW.id, NEW.device_id, NEW.device_seq, NEW.job_id, NEW.kind, NEW.user_id,
                NEW.received_at)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
