-- The office's append-only Merkle log (docs/evidence.md, "The office's log"): one leaf per stored
-- event, in commit order, appended in the same transaction as the event.
CREATE TABLE log_leaves (
    log_index INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    event_hash TEXT NOT NULL,
    accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    received_at TEXT NOT NULL,
    UNIQUE (device_id, device_seq)
);
-- The perfect subtrees of the log: the node at (level, idx) covers leaves idx·2^level up to
-- (idx+1)·2^level; level 0 holds the leaf hashes. Every root and proof is a few lookups here.
CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
-- Tree heads handed out: the first one the office signed for each size (one root per size).
CREATE TABLE tree_heads (
    size INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    sig TEXT NOT NULL
);
-- One-time challenges a device signs to prove it holds its key when it logs in.
CREATE TABLE enrol_challenges (
    challenge TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
-- Append-only against mistakes (not against someone with the file: that is what receipts and tree
-- heads held by devices are for).
CREATE TRIGGER log_leaves_append_only_update BEFORE UPDATE ON log_leaves
BEGIN SELECT RAISE(ABORT, 'the office log is append-only'); END;
CREATE TRIGGER log_leaves_append_only_delete BEFORE DELETE ON log_leaves
BEGIN SELECT RAISE(ABORT, 'the office log is append-only'); END;
CREATE TRIGGER log_nodes_append_only_update BEFORE UPDATE ON log_nodes
BEGIN SELECT RAISE(ABORT, 'the office log is append-only'); END;
CREATE TRIGGER log_nodes_append_only_delete BEFORE DELETE ON log_nodes
BEGIN SELECT RAISE(ABORT, 'the office log is append-only'); END;
CREATE TRIGGER tree_heads_append_only_update BEFORE UPDATE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'signed tree heads are kept as signed'); END;
CREATE TRIGGER tree_heads_append_only_delete BEFORE DELETE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'signed tree heads are kept as signed'); END;
