-- Where a device's chain stood when the user of a sign-in signed out, and the device's signature
-- over it (heatcrew.sign-out.v1, sign_out.rs): the events after it and up to the next sign-in's
-- head were made while nobody was signed in, and the office refuses them (`signed_out`). NULL
-- until the device says so (staff sessions, sessions that ran out, apps before December 2026).
ALTER TABLE sessions ADD COLUMN sign_out_seq INTEGER;
ALTER TABLE sessions ADD COLUMN sign_out_hash TEXT;
ALTER TABLE sessions ADD COLUMN sign_out_proof TEXT;
