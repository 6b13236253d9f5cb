-- Complaints (投诉) and reports (举报) taken at the office (issue 13, point 5; crate::complaints).
-- One row per complaint with its current state; every change is also an audit_log entry with the
-- complaint's id as subject, written in the same transaction (the trail the console shows).
CREATE TABLE complaints (
    id TEXT PRIMARY KEY,
    -- counts up; the number people quote (TS2026-00007) is made from it and the received year
    seq INTEGER NOT NULL UNIQUE,
    number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('complaint', 'report')),
    channel TEXT NOT NULL,
    caller_name TEXT NOT NULL,
    caller_phone TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    job_id TEXT REFERENCES jobs(id),
    -- the customer concerned (JSON heatcrew_protocol::Customer), if any
    customer TEXT,
    received_at TEXT NOT NULL,
    -- received_at's day in Asia/Shanghai + 5 (complaint) or 7 (report) days, at 24:00 there
    due_at TEXT NOT NULL,
    -- 首问: who took it first; never changes
    received_by TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    -- the owner now: a person, or a department (exactly one of the two)
    owner_id TEXT REFERENCES users(id),
    owner_department TEXT,
    reply_text TEXT,
    replied_by TEXT REFERENCES users(id),
    replied_at TEXT,
    callback_satisfaction TEXT,
    callback_note TEXT,
    called_back_by TEXT REFERENCES users(id),
    called_back_at TEXT,
    CHECK ((owner_id IS NULL) <> (owner_department IS NULL))
);
CREATE INDEX complaints_open ON complaints(replied_at, due_at);
CREATE INDEX complaints_received ON complaints(received_at);
CREATE INDEX audit_log_subject ON audit_log(subject, seq);

-- The record of what was received, and each answer once given, never change; nothing is deleted.
CREATE TRIGGER complaints_no_delete BEFORE DELETE ON complaints
BEGIN
    SELECT RAISE(ABORT, 'complaints are kept: a complaint is never deleted');
END;
CREATE TRIGGER complaints_intake_fixed BEFORE UPDATE ON complaints
WHEN new.id IS NOT old.id OR new.seq IS NOT old.seq OR new.number IS NOT old.number
  OR new.kind IS NOT old.kind OR new.channel IS NOT old.channel
  OR new.caller_name IS NOT old.caller_name OR new.caller_phone IS NOT old.caller_phone
  OR new.subject IS NOT old.subject OR new.body IS NOT old.body OR new.job_id IS NOT old.job_id
  OR new.customer IS NOT old.customer OR new.received_at IS NOT old.received_at
  OR new.due_at IS NOT old.due_at OR new.received_by IS NOT old.received_by
  OR new.created_at IS NOT old.created_at
BEGIN
    SELECT RAISE(ABORT, 'a complaint as received is never changed');
END;
CREATE TRIGGER complaints_reply_once BEFORE UPDATE ON complaints
WHEN old.replied_at IS NOT NULL AND (new.reply_text IS NOT old.reply_text
  OR new.replied_by IS NOT old.replied_by OR new.replied_at IS NOT old.replied_at)
BEGIN
    SELECT RAISE(ABORT, 'a complaint is answered once: the reply is never changed');
END;
CREATE TRIGGER complaints_callback_once BEFORE UPDATE ON complaints
WHEN old.called_back_at IS NOT NULL AND (new.callback_satisfaction IS NOT old.callback_satisfaction
  OR new.callback_note IS NOT old.callback_note OR new.called_back_by IS NOT old.called_back_by
  OR new.called_back_at IS NOT old.called_back_at)
BEGIN
    SELECT RAISE(ABORT, 'a callback is recorded once and never changed');
END;
-- A complaint's trail outlives the audit log's 183 days: it goes only with its complaint (never).
CREATE TRIGGER audit_log_keep_complaint_trail BEFORE DELETE ON audit_log
WHEN old.kind LIKE 'complaint%' AND EXISTS (SELECT 1 FROM complaints WHERE id = old.subject)
BEGIN
    SELECT RAISE(ABORT, 'a complaint''s trail is kept as long as the complaint');
END;
