-- What `PgStore::outside_writes` reads (docs/storage.md, "The chain cache with several offices"):
-- a count that moves whenever a stored event's row changes in what the chain cache verified (its
-- body, id, device or sequence number) or a stored event is removed. Offices only append events
-- and set their clock offsets (`offset_ms`, `push_offset_ms`), which move nothing here, so another
-- office's pushes leave every process's verified prefixes standing; an edit made by anyone, through
-- any connection, moves the count in the edit's own transaction.
CREATE TABLE event_edits (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    edits BIGINT NOT NULL
);
INSERT INTO event_edits (id, edits) VALUES (1, 0);

CREATE FUNCTION event_edits_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE event_edits SET edits = edits + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_edited AFTER UPDATE ON events
    FOR EACH ROW WHEN (NEW.body IS DISTINCT FROM OLD.body OR NEW.id IS DISTINCT FROM OLD.id
        OR NEW.device_id IS DISTINCT FROM OLD.device_id
        OR NEW.device_seq IS DISTINCT FROM OLD.device_seq)
    EXECUTE FUNCTION event_edits_count();
CREATE TRIGGER events_removed AFTER DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION event_edits_count();
CREATE TRIGGER events_truncated AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION event_edits_count();
-- The count only goes up: set back to what a process last saw, it would hide an edit.
CREATE TRIGGER event_edits_forward BEFORE UPDATE ON event_edits
    FOR EACH ROW WHEN (NEW.edits <= OLD.edits OR NEW.id IS DISTINCT FROM OLD.id)
    EXECUTE FUNCTION refuse_change('the count of edited events only goes up');
CREATE TRIGGER event_edits_kept BEFORE DELETE ON event_edits
    FOR EACH ROW EXECUTE FUNCTION refuse_change('the count of edited events only goes up');
CREATE TRIGGER event_edits_no_truncate BEFORE TRUNCATE ON event_edits
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the count of edited events only goes up');
