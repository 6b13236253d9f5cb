-- When a device last synced (push, pull or sign-in) and the app version it said it runs
-- (`api::device_info`: bounded to 64 printable characters, else "unknown"), for the console's
-- devices page (issue 12 point 6). Both stay NULL until the device's first request after this.
ALTER TABLE devices ADD COLUMN last_sync_at TEXT;
ALTER TABLE devices ADD COLUMN app_version TEXT;
