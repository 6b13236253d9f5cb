-- Where a device's chain stood when each of its sessions signed in (the device's signed word at
-- login): the events after it, up to the next sign-in's, are that user's records, whoever pushes
-- them, and an event at that position with another hash is refused (ledger::makers). NULL for
-- staff sessions and for device sign-ins before sign-ins named the chain.
ALTER TABLE sessions ADD COLUMN chain_head_seq BIGINT;
ALTER TABLE sessions ADD COLUMN chain_head_hash TEXT;
