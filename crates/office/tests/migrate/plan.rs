//! The migration plan against both schemas as this binary's migrations make them.

use heatcrew_office::migrate::MigrateError;
use heatcrew_office::migrate::plan::{TABLES, resolve};
use heatcrew_office::store::{PgStore, SqliteStore};
use heatcrew_testkit::pg::TestDb;

/// Fresh stores of both backends: the SQLite store in a temp dir, the PostgreSQL one migrated.
fn fresh() -> Option<(tempfile::TempDir, SqliteStore, TestDb, postgres::Client)> {
    let db = TestDb::create()?;
    drop(PgStore::open(&db.url).expect("migrate the PostgreSQL schema"));
    let client = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteStore::open(&dir.path().join("office.db")).expect("SQLite store");
    Some((dir, sqlite, db, client))
}

#[test]
fn every_table_of_both_schemas_is_migrated_or_named_with_a_reason() {
    let Some((_dir, sqlite, _db, mut pg)) = fresh() else {
        return;
    };
    let resolved = sqlite
        .with_connection(|c| resolve(c, &mut pg))
        .unwrap_or_else(|e| panic!("the plan must fit both schemas: {e}"));
    assert_eq!(resolved.len(), TABLES.len(), "every planned table resolved");
    let events = resolved
        .iter()
        .find(|t| t.name() == "events")
        .expect("events are copied");
    assert!(
        events.columns.iter().any(|(c, _)| c == "rowid"),
        "the events' receipt order (SQLite's rowid) travels as PostgreSQL's rowid column"
    );
    assert_eq!(
        events.identities,
        ["rowid"],
        "the events' identity is moved past the copied rows at the end"
    );
    let nodes = resolved
        .iter()
        .find(|t| t.name() == "log_nodes")
        .expect("log nodes are copied");
    assert_eq!(
        nodes.source_key,
        ["level", "idx"],
        "a WITHOUT ROWID table is walked by its primary key"
    );
}

#[test]
fn a_table_added_to_either_schema_without_a_plan_stops_the_migration() {
    let Some((_dir, sqlite, _db, mut pg)) = fresh() else {
        return;
    };
    sqlite.with_connection(|c| {
        c.execute_batch("CREATE TABLE new_register (id TEXT PRIMARY KEY)")
            .expect("a new SQLite table")
    });
    let err = sqlite
        .with_connection(|c| resolve(c, &mut pg))
        .expect_err("a new SQLite table is not silently left behind");
    assert!(
        matches!(&err, MigrateError::Schema(m) if m.contains("new_register") && m.contains("SQLite")),
        "{err}"
    );
    sqlite.with_connection(|c| {
        c.execute_batch("DROP TABLE new_register")
            .expect("drop it again")
    });
    pg.batch_execute("CREATE TABLE pg_register (id TEXT PRIMARY KEY)")
        .expect("a new PostgreSQL table");
    let err = sqlite
        .with_connection(|c| resolve(c, &mut pg))
        .expect_err("a new PostgreSQL table is not silently left empty");
    assert!(
        matches!(&err, MigrateError::Schema(m) if m.contains("pg_register") && m.contains("PostgreSQL")),
        "{err}"
    );
}

#[test]
fn a_column_added_to_one_side_only_stops_the_migration() {
    let Some((_dir, sqlite, _db, mut pg)) = fresh() else {
        return;
    };
    sqlite.with_connection(|c| {
        c.execute_batch("ALTER TABLE jobs ADD COLUMN priority INTEGER")
            .expect("a new SQLite column")
    });
    let err = sqlite
        .with_connection(|c| resolve(c, &mut pg))
        .expect_err("a column only SQLite has would be lost");
    assert!(
        matches!(&err, MigrateError::Schema(m) if m.contains("jobs") && m.contains("priority")),
        "{err}"
    );
}
