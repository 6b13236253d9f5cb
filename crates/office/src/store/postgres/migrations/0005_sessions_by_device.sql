-- Who signed in on a device, revoked and expired sessions included: a push refused as another
-- user's job is judged again as each user who signed in on the same phone (a crew's shared phone,
-- a phone moved to someone else), so that records queued before the handover stay the work of
-- the user who made them (ledger::push). The older index covers live sessions only.
CREATE INDEX sessions_device_user ON sessions(device_id, user_id, created_at);
