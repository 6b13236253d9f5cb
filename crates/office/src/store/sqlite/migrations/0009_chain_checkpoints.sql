-- How far each device's stored chain was verified (crates/office/src/chain_cache.rs): the tip, a
-- running SHA-256 over the stored rows up to it, and the office key's signature over both, so a
-- restarted office re-reads those rows against the digest instead of re-checking every signature.
-- A row here vouches for nothing by itself: one that is edited, forged or stale fails its
-- signature or its digest and the chain is verified from the start again.
CREATE TABLE chain_checkpoints (
    device_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    tip_hash TEXT NOT NULL,
    rows_digest TEXT NOT NULL,
    sig TEXT NOT NULL,
    checked_at TEXT NOT NULL
);
