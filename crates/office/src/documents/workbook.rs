//! A workbook of tables: one sheet per [`Table`], written with rust_xlsxwriter in constant-memory
//! mode (each sheet's rows go to a temporary file as they are written, not into memory) and zipped
//! into any writer as a stream. The monthly report is `WorkbookOfTables::new()` with its sheets
//! pushed in order; a new report table is one more `.sheet(...)`.

use super::{Cell, DocumentError, Table, formula_like};
use crate::store::OfficeStore;
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use std::io::Write;

/// Rows a sheet holds, the heading included (Excel's limit).
const MAX_ROWS: u32 = 1_048_576;

/// The sheets of a workbook, in order.
#[derive(Default)]
pub struct WorkbookOfTables {
    tables: Vec<Box<dyn Table>>,
}

impl std::fmt::Debug for WorkbookOfTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.tables.iter().map(|t| t.name()).collect();
        f.debug_struct("WorkbookOfTables")
            .field("sheets", &names)
            .finish()
    }
}

/// What was written: rows per sheet (headings not counted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkbookStats {
    pub sheets: Vec<(String, u64)>,
}

impl WorkbookOfTables {
    pub fn new() -> WorkbookOfTables {
        WorkbookOfTables::default()
    }

    /// Append a sheet.
    pub fn sheet(mut self, table: impl Table + 'static) -> WorkbookOfTables {
        self.tables.push(Box::new(table));
        self
    }

    /// Append a sheet already boxed (tables chosen at run time).
    pub fn boxed_sheet(mut self, table: Box<dyn Table>) -> WorkbookOfTables {
        self.tables.push(table);
        self
    }

    /// Write every sheet, reading rows from `store`, and the finished `.xlsx` to `out`.
    pub fn write(
        self,
        store: &dyn OfficeStore,
        out: impl Write + Send,
    ) -> Result<WorkbookStats, DocumentError> {
        let mut book = Workbook::new();
        let heading = Format::new().set_bold().set_background_color(0xE8EEF4);
        // Text that would be a formula stays text when a user edits the cell, as if typed with a '.
        let defused = Format::new().set_quote_prefix();
        let mut stats = WorkbookStats::default();
        for mut table in self.tables {
            let sheet = book.add_worksheet_with_constant_memory()?;
            sheet.set_name(table.name())?;
            for (c, column) in table.columns().iter().enumerate() {
                let c = c as u16;
                sheet.set_column_width(c, column.width)?;
                sheet.write_string_with_format(0, c, column.title, &heading)?;
            }
            sheet.set_freeze_panes(1, 0)?;
            let mut row: u32 = 0;
            let name = table.name().to_owned();
            table.rows(store, &mut |cells| {
                row += 1;
                if row >= MAX_ROWS {
                    return Err(DocumentError::TooManyRows {
                        sheet: name.clone(),
                    });
                }
                write_row(sheet, row, cells, &defused)
            })?;
            stats.sheets.push((name, u64::from(row)));
        }
        book.save_to_writer(out)?;
        Ok(stats)
    }
}

/// A cell holds at most 32,767 characters; longer text is cut there (never refused whole).
fn fitted(s: &str) -> &str {
    match s.char_indices().nth(32_767) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

fn write_row(
    sheet: &mut Worksheet,
    row: u32,
    cells: &[Cell],
    defused: &Format,
) -> Result<(), DocumentError> {
    for (c, cell) in cells.iter().enumerate() {
        let c = c as u16;
        match cell {
            // Always a string cell: nothing a customer typed is ever written as a formula.
            Cell::Text(s) if formula_like(s) => {
                sheet.write_string_with_format(row, c, fitted(s), defused)?;
            }
            Cell::Text(s) if !s.is_empty() => {
                sheet.write_string(row, c, fitted(s))?;
            }
            Cell::Int(n) => {
                sheet.write_number(row, c, *n as f64)?;
            }
            Cell::Num(x) if x.is_finite() => {
                sheet.write_number(row, c, *x)?;
            }
            Cell::Text(_) | Cell::Num(_) | Cell::Empty => {}
        }
    }
    Ok(())
}
