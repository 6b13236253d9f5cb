-- Jumps of a device's wall clock that the device's own monotonic clock saw (issue 15, honest time:
-- heatcrew-core `clock`), reported by its sync pass. Kept once per jump id; `user_id` is who was
-- signed in when it was reported. The office's own view of a device's clock (the offset and the
-- jumps it saw in it, `clock_jumps`) is unchanged.
CREATE TABLE device_clock_jumps (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    wall_before TEXT NOT NULL,
    wall_after TEXT NOT NULL,
    jump_ms INTEGER NOT NULL,
    rebooted INTEGER NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX device_clock_jumps_device ON device_clock_jumps(device_id, wall_after);
