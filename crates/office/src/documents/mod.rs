//! Documents the office hands out: lists as CSV (UTF-8 with a BOM, so Chinese Excel opens them),
//! the monthly report as an Excel workbook of tables, and the printable PDFs ([`crate::pdf`]).
//!
//! A list is a [`Table`]: a sheet name, its columns, and its rows handed one at a time to a sink,
//! read straight from the store, so memory stays flat in the number of rows. The same table writes
//! a CSV ([`csv::write_csv`]) or a sheet of the workbook ([`workbook::WorkbookOfTables`]); a new
//! report (the KPI tables) is one more `Table` pushed onto the workbook.
//!
//! Text a customer or a technician typed can reach a spreadsheet: a cell starting with `=`, `+`,
//! `-`, `@`, a tab or a carriage return would be read as a formula by Excel. Such text is written
//! with a leading `'` in CSV and as a quote-prefixed text cell in the workbook ([`formula_like`]),
//! never as a formula.

pub mod csv;
pub mod kpi_tables;
pub mod monthly;
pub mod printable;
pub mod stream;
pub mod tables;
pub mod workbook;

use crate::store::{OfficeStore, StoreError};
use chrono::{DateTime, FixedOffset, Utc};

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Num(f64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// A time as the company reads it (China Standard Time), empty when there is none.
    pub fn time(t: Option<DateTime<Utc>>) -> Cell {
        t.map_or(Cell::Empty, |t| Cell::Text(cst(t)))
    }
}

/// A column: its heading (Chinese first, English second) and its width in characters.
#[derive(Debug, Clone)]
pub struct Column {
    pub title: &'static str,
    pub width: f64,
}

pub const fn col(title: &'static str, width: f64) -> Column {
    Column { title, width }
}

/// What a table hands its rows to; an `Err` stops the table.
pub type RowSink<'a> = dyn FnMut(&[Cell]) -> Result<(), DocumentError> + 'a;

/// A list the office can hand out as CSV or as a sheet of a workbook.
pub trait Table: Send {
    /// The sheet's name (at most 31 characters, none of `[]:*?/\`).
    fn name(&self) -> &str;
    fn columns(&self) -> &[Column];
    /// Hand every row to `sink`, in order, reading from `store` as it goes.
    fn rows(
        &mut self,
        store: &dyn OfficeStore,
        sink: &mut RowSink<'_>,
    ) -> Result<(), DocumentError>;
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("writing the document: {0}")]
    Io(#[from] std::io::Error),
    /// More rows than a sheet holds (1,048,576 with the heading).
    #[error("the sheet {sheet} has more rows than Excel can open; narrow the period")]
    TooManyRows { sheet: String },
}

/// Text a spreadsheet would take for a formula (OWASP's list: `=`, `+`, `-`, `@`, tab, CR).
pub fn formula_like(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// China Standard Time, to the second: how the company reads a clock.
pub fn cst(t: DateTime<Utc>) -> String {
    let tz = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid");
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_recognised_and_ordinary_text_is_not() {
        for s in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            assert!(formula_like(s), "{s:?} would be evaluated");
        }
        for s in ["王秀英", "1-2", "", " =1", "暖气不热=坏"] {
            assert!(!formula_like(s), "{s:?} is plain text");
        }
    }
}
