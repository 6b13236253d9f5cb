-- Where a device's chain stood when each of its sessions signed in, and the device's signature
-- over it (the login's challenge and proof, heatcrew.enrol.v2): the events after it, up to the
-- next sign-in's, are that user's records, whoever pushes them, and an event at that position with
-- another hash is refused (ledger::makers); `heatcrew-office verify` re-checks both from the
-- signature. NULL for staff sessions and for device sign-ins before sign-ins named the chain.
ALTER TABLE sessions ADD COLUMN chain_head_seq BIGINT;
ALTER TABLE sessions ADD COLUMN chain_head_hash TEXT COLLATE "C";
ALTER TABLE sessions ADD COLUMN chain_head_challenge TEXT COLLATE "C";
ALTER TABLE sessions ADD COLUMN chain_head_proof TEXT COLLATE "C";
