//! The check at the end: every copied table read back from both databases, each row hashed over
//! every column (as the target's types take them), and the rows' count and hash sum compared per
//! table — per device for the events, so a difference names the device. Sums of row hashes do not
//! depend on the order rows are read in, so neither side needs sorting; any changed, missing or
//! extra row changes the sum. Then the ledger's counter against what the source handed out.

use super::MigrateError;
use super::cell::Cell;
use super::plan::ResolvedTable;
use super::target::{self, Counters};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use rusqlite::Connection;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

/// Count and 256-bit sum of row hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    rows: u64,
    sum: [u64; 4],
}

impl Tally {
    fn add(&mut self, cells: &[Cell]) {
        let mut h = Sha256::new();
        for c in cells {
            c.hash_into(&mut h);
        }
        let digest: [u8; 32] = h.finalize().into();
        let mut carry = 0u128;
        for (i, limb) in self.sum.iter_mut().enumerate() {
            let part = u64::from_be_bytes(digest[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            let s = *limb as u128 + part as u128 + carry;
            *limb = s as u64;
            carry = s >> 64;
        }
        self.rows += 1;
    }
}

/// One table as the comparison found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCheck {
    pub table: &'static str,
    pub source_rows: u64,
    pub target_rows: u64,
    /// What differs (empty: the table is the same on both sides).
    pub differences: Vec<String>,
}

/// Everything the comparison found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    pub tables: Vec<TableCheck>,
    /// Differences outside the tables (the ledger's counter).
    pub other: Vec<String>,
}

impl Comparison {
    /// Every difference, one line each.
    pub fn differences(&self) -> Vec<String> {
        self.tables
            .iter()
            .flat_map(|t| t.differences.iter().cloned())
            .chain(self.other.iter().cloned())
            .collect()
    }
}

/// Compare every table and the counters.
pub fn compare(
    source: &Connection,
    client: &mut postgres::Client,
    tables: &[ResolvedTable],
    expected: Counters,
) -> Result<Comparison, MigrateError> {
    let mut out = Comparison::default();
    for t in tables {
        out.tables.push(compare_table(source, client, t)?);
    }
    let found = target::ledger_counter(client)?;
    if found != expected {
        out.other.push(format!(
            "ledger_counter: next change {} and log size {} at the target, the source continues at {} and {}",
            found.next_change, found.log_size, expected.next_change, expected.log_size
        ));
    }
    Ok(out)
}

fn group_index(t: &ResolvedTable) -> Option<usize> {
    let g = t.plan.group_by?;
    t.columns.iter().position(|(c, _)| c == g)
}

fn group_name(cells: &[Cell], index: Option<usize>) -> String {
    match index.map(|i| &cells[i]) {
        None => String::new(),
        Some(Cell::Text(s)) => s.clone(),
        Some(other) => format!("{other:?}"),
    }
}

fn compare_table(
    source: &Connection,
    client: &mut postgres::Client,
    t: &ResolvedTable,
) -> Result<TableCheck, MigrateError> {
    let group = group_index(t);
    let mut src: BTreeMap<String, Tally> = BTreeMap::new();
    {
        let cols: Vec<String> = t
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
        let mut stmt =
            source.prepare(&format!("SELECT {} FROM \"{}\"", cols.join(", "), t.name()))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(t.columns.len());
            for (i, (col, ty)) in t.columns.iter().enumerate() {
                let v = row.get_ref(i)?;
                cells.push(Cell::from_sqlite(v, *ty).ok_or_else(|| {
                    MigrateError::Corrupt(format!(
                        "table {}: column {col} holds a {:?} where the target takes {ty:?}",
                        t.name(),
                        v.data_type()
                    ))
                })?);
            }
            src.entry(group_name(&cells, group))
                .or_default()
                .add(&cells);
        }
    }
    let mut dst: BTreeMap<String, Tally> = BTreeMap::new();
    {
        let cols: Vec<String> = t.columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
        let no_params: [&(dyn ToSql + Sync); 0] = [];
        let mut rows = client.query_raw(
            &format!("SELECT {} FROM \"{}\"", cols.join(", "), t.name()),
            no_params,
        )?;
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(t.columns.len());
            for (i, (_, ty)) in t.columns.iter().enumerate() {
                cells.push(Cell::from_pg(&row, i, *ty)?);
            }
            dst.entry(group_name(&cells, group))
                .or_default()
                .add(&cells);
        }
    }
    let mut differences = Vec::new();
    let groups: std::collections::BTreeSet<&String> = src.keys().chain(dst.keys()).collect();
    for g in groups {
        let (a, b) = (
            src.get(g).copied().unwrap_or_default(),
            dst.get(g).copied().unwrap_or_default(),
        );
        if a != b {
            let place = match t.plan.group_by {
                Some(col) => format!("{} ({col} {g})", t.name()),
                None => t.name().to_owned(),
            };
            differences.push(if a.rows != b.rows {
                format!(
                    "{place}: {} rows in the source, {} in the target",
                    a.rows, b.rows
                )
            } else {
                format!(
                    "{place}: {} rows on both sides, but their contents differ",
                    a.rows
                )
            });
        }
    }
    Ok(TableCheck {
        table: t.name(),
        source_rows: src.values().map(|t| t.rows).sum(),
        target_rows: dst.values().map(|t| t.rows).sum(),
        differences,
    })
}
