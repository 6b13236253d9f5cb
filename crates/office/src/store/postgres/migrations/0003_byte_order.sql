-- Every text column compares and sorts in byte order (COLLATE "C", SQLite's BINARY), whatever the
-- locale the database was created with: lists, keyset pages and prefix ranges come out as on
-- SQLite without a COLLATE in each query, and the indexes serve those orders. Columns declared
-- earlier without a collation take "C" here (their indexes are rebuilt; the rows stay); a column
-- added by a later migration declares COLLATE "C" itself (a test checks every text column).
--
-- A trigger whose WHEN names a column blocks the column's change: such triggers are dropped and
-- created again, exactly as they were (pg_get_triggerdef), in this same transaction.
DO $$
DECLARE
    trg RECORD;
    col RECORD;
    kept TEXT[] := '{}';
    def TEXT;
BEGIN
    FOR trg IN
        SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid) AS def
        FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = current_schema()::regnamespace
          AND NOT t.tgisinternal
          AND (t.tgqual IS NOT NULL OR cardinality(t.tgattr) > 0)
    LOOP
        kept := kept || trg.def;
        EXECUTE format('DROP TRIGGER %I ON %I', trg.tgname, trg.relname);
    END LOOP;
    FOR col IN
        SELECT c.table_name, c.column_name
        FROM information_schema.columns c
        JOIN information_schema.tables t
          ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema()
          AND t.table_type = 'BASE TABLE'
          AND c.data_type = 'text'
          AND c.collation_name IS DISTINCT FROM 'C'
        ORDER BY c.table_name, c.ordinal_position
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE TEXT COLLATE "C"',
                       col.table_name, col.column_name);
    END LOOP;
    FOREACH def IN ARRAY kept LOOP
        EXECUTE def;
    END LOOP;
END
$$;
