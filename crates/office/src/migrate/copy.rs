//! The rows: each table copied in batches walked by key (SQLite's rowid, or the primary key of a
//! WITHOUT ROWID table), each batch written with `COPY … (FORMAT binary)` and its progress row in
//! one PostgreSQL transaction. A kill anywhere loses at most the batch in flight, which the next
//! run copies again from the last key recorded; no batch is ever written twice.

use super::MigrateError;
use super::cell::{Cell, json_to_sqlite};
use super::plan::ResolvedTable;
use super::progress::Bar;
use super::target;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use rusqlite::Connection;
use std::time::Duration;

/// How the copy runs.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Rows per batch (one transaction each).
    pub batch_rows: usize,
    /// A pause after each batch (tests use it to kill a run mid-way).
    pub pause: Duration,
}

/// The SELECT list of a table's source rows: the target's columns (the rowid where a column makes
/// it explicit), then the walk's key.
fn select_list(t: &ResolvedTable) -> String {
    let mut cols: Vec<String> = t
        .columns
        .iter()
        .map(|(c, _)| {
            if Some(c.as_str()) == t.plan.from_rowid {
                "rowid".to_owned()
            } else {
                format!("\"{c}\"")
            }
        })
        .collect();
    cols.extend(t.source_key.iter().map(|k| quote_key(k)));
    cols.join(", ")
}

fn quote_key(k: &str) -> String {
    if k == "rowid" {
        k.to_owned()
    } else {
        format!("\"{k}\"")
    }
}

/// The next batch of `t` after `last_key`: the rows as target cells, and each row's key.
pub fn read_batch(
    source: &Connection,
    t: &ResolvedTable,
    last_key: Option<&serde_json::Value>,
    limit: usize,
) -> Result<Vec<(Vec<Cell>, serde_json::Value)>, MigrateError> {
    let keys: Vec<String> = t.source_key.iter().map(|k| quote_key(k)).collect();
    let key_list = keys.join(", ");
    let mut params: Vec<rusqlite::types::Value> = Vec::new();
    let filter = match last_key {
        Some(serde_json::Value::Array(values)) if values.len() == keys.len() => {
            params.extend(values.iter().map(json_to_sqlite));
            let marks = vec!["?"; values.len()].join(", ");
            format!("WHERE ({key_list}) > ({marks})")
        }
        Some(other) => {
            return Err(MigrateError::Corrupt(format!(
                "the progress of table {} holds a key of another shape ({other}); the target was not written by this tool",
                t.name()
            )));
        }
        None => String::new(),
    };
    params.push(rusqlite::types::Value::Integer(limit as i64));
    let sql = format!(
        "SELECT {} FROM \"{}\" {filter} ORDER BY {key_list} LIMIT ?",
        select_list(t),
        t.name()
    );
    let mut stmt = source.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let n = t.columns.len();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut key = Vec::with_capacity(keys.len());
        for i in 0..keys.len() {
            let v = row.get_ref(n + i)?;
            key.push(match v {
                rusqlite::types::ValueRef::Integer(i) => serde_json::Value::from(i),
                rusqlite::types::ValueRef::Text(s) => {
                    serde_json::Value::from(String::from_utf8_lossy(s).into_owned())
                }
                other => {
                    return Err(MigrateError::Corrupt(format!(
                        "table {}: a key of type {:?} (only integer and text keys are walked)",
                        t.name(),
                        other.data_type()
                    )));
                }
            });
        }
        let key = serde_json::Value::Array(key);
        let mut cells = Vec::with_capacity(n);
        for (i, (col, ty)) in t.columns.iter().enumerate() {
            let v = row.get_ref(i)?;
            let cell = Cell::from_sqlite(v, *ty).ok_or_else(|| {
                MigrateError::Corrupt(format!(
                    "table {} row {key}: column {col} holds a {:?} where the target takes {ty:?}",
                    t.name(),
                    v.data_type()
                ))
            })?;
            cells.push(cell);
        }
        out.push((cells, key));
    }
    Ok(out)
}

/// Copy `t` from where its progress row says, to the end.
pub fn copy_table(
    source: &Connection,
    client: &mut postgres::Client,
    t: &ResolvedTable,
    pace: Pace,
    bar: &Bar,
) -> Result<(), MigrateError> {
    let mut at = target::progress(client, t.name())?;
    bar.set(at.rows, at.bytes);
    if at.done {
        bar.finish();
        return Ok(());
    }
    let types: Vec<Type> = t.columns.iter().map(|(_, ty)| ty.pg_type()).collect();
    let column_list = t
        .columns
        .iter()
        .map(|(c, _)| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    loop {
        let batch = read_batch(source, t, at.last_key.as_ref(), pace.batch_rows)?;
        let done = batch.len() < pace.batch_rows;
        let bytes: u64 = batch
            .iter()
            .map(|(cells, _)| cells.iter().map(Cell::size).sum::<u64>())
            .sum();
        let last_key = batch.last().map(|(_, k)| k.clone());
        let mut tx = client.transaction()?;
        if t.plan.seeded && at.rows == 0 {
            // The target's migrations seeded it; the source's rows replace those.
            tx.execute(&format!("DELETE FROM \"{}\"", t.name()), &[])?;
        }
        if !batch.is_empty() {
            for trigger in t.plan.quiet_triggers {
                tx.batch_execute(&format!(
                    "ALTER TABLE \"{}\" DISABLE TRIGGER \"{trigger}\"",
                    t.name()
                ))?;
            }
            let sink = tx.copy_in(&format!(
                "COPY \"{}\" ({column_list}) FROM STDIN (FORMAT binary)",
                t.name()
            ))?;
            let mut writer = BinaryCopyInWriter::new(sink, &types);
            for (cells, _) in &batch {
                let values: Vec<&(dyn ToSql + Sync)> =
                    cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
                writer.write(&values)?;
            }
            writer.finish()?;
            for trigger in t.plan.quiet_triggers {
                tx.batch_execute(&format!(
                    "ALTER TABLE \"{}\" ENABLE TRIGGER \"{trigger}\"",
                    t.name()
                ))?;
            }
        }
        target::record(
            &mut tx,
            t.name(),
            last_key.as_ref(),
            batch.len() as u64,
            bytes,
            done,
        )?;
        tx.commit()?;
        at.rows += batch.len() as u64;
        at.bytes += bytes;
        if last_key.is_some() {
            at.last_key = last_key;
        }
        bar.set(at.rows, at.bytes);
        if done {
            bar.finish();
            return Ok(());
        }
        if !pace.pause.is_zero() {
            std::thread::sleep(pace.pause);
        }
    }
}
