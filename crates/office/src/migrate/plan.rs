//! Which tables move, in which order, and how their columns meet.
//!
//! The copy is generic: every table in [`TABLES`] is copied column for column (both schemas keep
//! the same columns, docs/storage.md), with the columns read from each database at run time.
//! [`resolve`] checks the two schemas against this list before anything is copied: every table of
//! either schema is either copied or named in [`NOT_COPIED`] with the reason, every column of a
//! copied table exists on both sides (or is fed from SQLite's rowid), and every foreign key points
//! to a table copied earlier. A table added to either schema without a line here stops the
//! migration, and the test that runs [`resolve`] on fresh schemas fails.

use super::MigrateError;
use postgres::types::Type;
use rusqlite::Connection;
use std::collections::{BTreeSet, HashMap};

/// One copied table.
#[derive(Debug, Clone, Copy)]
pub struct TablePlan {
    pub name: &'static str,
    /// The verification compares this table per value of this column (events per device), so a
    /// difference names where it is.
    pub group_by: Option<&'static str>,
    /// A PostgreSQL column that has no SQLite column because it makes SQLite's implicit rowid
    /// explicit (`events.rowid`, `job_violations.n`): it is filled with the rowid.
    pub from_rowid: Option<&'static str>,
    /// Triggers of the target that derive rows from this table's inserts (an accepted urgent
    /// event raises its alert): switched off while a batch is copied, inside its transaction,
    /// because the derived rows are copied as they are.
    pub quiet_triggers: &'static [&'static str],
    /// The target's migrations put rows in this table (`urgent_kinds`): they are replaced by the
    /// source's, and do not make the target count as non-empty.
    pub seeded: bool,
}

const fn table(name: &'static str) -> TablePlan {
    TablePlan {
        name,
        group_by: None,
        from_rowid: None,
        quiet_triggers: &[],
        seeded: false,
    }
}

/// Every copied table, in an order where each table comes after those its foreign keys name.
pub const TABLES: &[TablePlan] = &[
    table("meta"),
    table("users"),
    table("crews"),
    table("crew_members"),
    table("devices"),
    table("clock_jumps"),
    table("device_clock_jumps"),
    table("sessions"),
    table("enrol_challenges"),
    table("jobs"),
    table("job_assignments"),
    table("changes"),
    table("routes"),
    table("outages"),
    table("checkpoint_codes"),
    TablePlan {
        seeded: true,
        ..table("urgent_kinds")
    },
    table("alerts"),
    TablePlan {
        group_by: Some("device_id"),
        from_rowid: Some("rowid"),
        quiet_triggers: &["alerts_raise"],
        ..table("events")
    },
    table("attachment_refs"),
    table("attachments"),
    table("attachment_uploads"),
    table("log_leaves"),
    table("log_nodes"),
    table("tree_heads"),
    table("chain_checkpoints"),
    table("audit_log"),
    table("job_facts"),
    TablePlan {
        from_rowid: Some("n"),
        ..table("job_violations")
    },
    table("kpi_targets"),
    table("complaints"),
    table("notices"),
    table("patrol_plans"),
    table("patrol_rounds"),
    table("defects"),
    table("feedback_records"),
    table("document_digests"),
];

/// Tables of either schema that are not copied, and why.
pub const NOT_COPIED: &[(&str, &str)] = &[
    (
        "schema_version",
        "each backend records its own migrations (SQLite in PRAGMA user_version)",
    ),
    (
        "ledger_counter",
        "set at the end from the copied change feed and log (MAX(server_seq) + 1, the log's size)",
    ),
    (
        "event_edits",
        "PostgreSQL's count of edited stored events for the chain cache: copying only inserts, so it stays 0",
    ),
    (
        "login_failures",
        "failed sign-in counts (throttle.rs): forgotten within an hour; the moved office starts without",
    ),
    (
        "sqlite_sequence",
        "SQLite's AUTOINCREMENT counters: carried into ledger_counter and the identity sequences",
    ),
    (
        super::target::SOURCE_TABLE,
        "this tool's own record of which office the target holds",
    ),
    (
        super::target::PROGRESS_TABLE,
        "this tool's own progress, kept so a killed run resumes",
    ),
];

/// A column's type on the PostgreSQL side, which decides how a SQLite value is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Integer,
    Real,
    Text,
    Blob,
}

impl ColumnType {
    pub fn pg_type(self) -> Type {
        match self {
            ColumnType::Integer => Type::INT8,
            ColumnType::Real => Type::FLOAT8,
            ColumnType::Text => Type::TEXT,
            ColumnType::Blob => Type::BYTEA,
        }
    }
}

/// A table as both databases have it.
#[derive(Debug, Clone)]
pub struct ResolvedTable {
    pub plan: TablePlan,
    /// The columns copied, in the target's order, with their types.
    pub columns: Vec<(String, ColumnType)>,
    /// How the source is walked in batches: `rowid`, or the primary key of a WITHOUT ROWID table.
    pub source_key: Vec<String>,
    /// Columns of the target that are identities (their sequences are moved past the copied rows).
    pub identities: Vec<String>,
}

impl ResolvedTable {
    pub fn name(&self) -> &'static str {
        self.plan.name
    }
}

/// Check both schemas against [`TABLES`] and [`NOT_COPIED`]; the tables with their columns.
pub fn resolve(
    source: &Connection,
    target: &mut postgres::Client,
) -> Result<Vec<ResolvedTable>, MigrateError> {
    let sqlite_tables = sqlite_tables(source)?;
    let pg_tables = pg_tables(target)?;
    let planned: BTreeSet<&str> = TABLES.iter().map(|t| t.name).collect();
    let skipped: BTreeSet<&str> = NOT_COPIED.iter().map(|(t, _)| *t).collect();
    let mut problems = Vec::new();
    for (side, tables) in [("SQLite", &sqlite_tables), ("PostgreSQL", &pg_tables)] {
        for t in tables {
            if !planned.contains(t.as_str()) && !skipped.contains(t.as_str()) {
                problems.push(format!(
                    "table {t} of the {side} schema is not in the migration plan (crates/office/src/migrate/plan.rs)"
                ));
            }
        }
        for t in &planned {
            if !tables.contains(*t) {
                problems.push(format!(
                    "planned table {t} is missing from the {side} schema"
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(MigrateError::Schema(problems.join("; ")));
    }
    let fks = pg_foreign_keys(target)?;
    let position: HashMap<&str, usize> = TABLES
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name, i))
        .collect();
    for (from, to) in &fks {
        let (Some(f), Some(t)) = (position.get(from.as_str()), position.get(to.as_str())) else {
            continue;
        };
        if t >= f && from != to {
            problems.push(format!(
                "{from} refers to {to}, which the plan copies later (reorder TABLES)"
            ));
        }
    }
    let mut resolved = Vec::new();
    for plan in TABLES {
        match resolve_table(source, target, *plan) {
            Ok(t) => resolved.push(t),
            Err(MigrateError::Schema(p)) => problems.push(p),
            Err(e) => return Err(e),
        }
    }
    if !problems.is_empty() {
        return Err(MigrateError::Schema(problems.join("; ")));
    }
    Ok(resolved)
}

fn resolve_table(
    source: &Connection,
    target: &mut postgres::Client,
    plan: TablePlan,
) -> Result<ResolvedTable, MigrateError> {
    let name = plan.name;
    // (name, declared type, position in the primary key)
    let mut sqlite_cols: Vec<(String, i64)> = Vec::new();
    {
        let mut stmt = source.prepare(&format!("PRAGMA table_info(\"{name}\")"))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)?)))?;
        for row in rows {
            sqlite_cols.push(row?);
        }
    }
    let pg_cols: Vec<(String, String, bool)> = target
        .query(
            "SELECT column_name::text, data_type::text, is_identity = 'YES'
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1
             ORDER BY ordinal_position",
            &[&name],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let sqlite_names: BTreeSet<&str> = sqlite_cols.iter().map(|(c, _)| c.as_str()).collect();
    let pg_names: BTreeSet<&str> = pg_cols.iter().map(|(c, _, _)| c.as_str()).collect();
    let mut only_pg: Vec<&str> = pg_names.difference(&sqlite_names).copied().collect();
    only_pg.retain(|c| Some(*c) != plan.from_rowid);
    let only_sqlite: Vec<&str> = sqlite_names.difference(&pg_names).copied().collect();
    if !only_pg.is_empty() || !only_sqlite.is_empty() {
        return Err(MigrateError::Schema(format!(
            "table {name}: columns only in SQLite {only_sqlite:?}, only in PostgreSQL {only_pg:?}"
        )));
    }
    let mut columns = Vec::new();
    for (col, data_type, _) in &pg_cols {
        let ty = match data_type.as_str() {
            "bigint" => ColumnType::Integer,
            "double precision" => ColumnType::Real,
            "text" => ColumnType::Text,
            "bytea" => ColumnType::Blob,
            other => {
                return Err(MigrateError::Schema(format!(
                    "table {name}: column {col} has type {other}, which the copy does not know"
                )));
            }
        };
        columns.push((col.clone(), ty));
    }
    let has_rowid = source
        .prepare(&format!("SELECT rowid FROM \"{name}\" LIMIT 0"))
        .is_ok();
    let source_key = if has_rowid {
        vec!["rowid".to_owned()]
    } else {
        let mut pk: Vec<&(String, i64)> = sqlite_cols.iter().filter(|(_, k)| *k > 0).collect();
        pk.sort_by_key(|(_, k)| *k);
        pk.into_iter().map(|(c, _)| c.clone()).collect()
    };
    if plan.from_rowid.is_some() && !has_rowid {
        return Err(MigrateError::Schema(format!(
            "table {name}: a column is fed from the rowid, but the SQLite table has none"
        )));
    }
    let identities = pg_cols
        .iter()
        .filter(|(_, _, identity)| *identity)
        .map(|(c, _, _)| c.clone())
        .collect();
    Ok(ResolvedTable {
        plan,
        columns,
        source_key,
        identities,
    })
}

fn sqlite_tables(conn: &Connection) -> Result<BTreeSet<String>, MigrateError> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    Ok(names)
}

fn pg_tables(client: &mut postgres::Client) -> Result<BTreeSet<String>, MigrateError> {
    Ok(client
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// `(table, table it refers to)` for every foreign key of the target.
fn pg_foreign_keys(client: &mut postgres::Client) -> Result<Vec<(String, String)>, MigrateError> {
    Ok(client
        .query(
            "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text
             FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
             WHERE c.contype = 'f' AND n.nspname = current_schema()",
            &[],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}
