-- The code posted at each patrol station, by checkpoint id: a patrol scans or types it to show it
-- was there. Devices receive only its digest (Checkpoint.code_sha256, set on every route and job
-- the office stores); the console lists the codes to print the plates.
CREATE TABLE checkpoint_codes (
    checkpoint_id TEXT PRIMARY KEY,
    code          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
