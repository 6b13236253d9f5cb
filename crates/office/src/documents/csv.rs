//! CSV as Chinese Excel opens it: UTF-8 with a byte-order mark (without it Excel reads the bytes as
//! GBK and shows mojibake), RFC 4180 quoting, CRLF line ends, and text that would be a formula
//! written with a leading `'`.

use super::{Cell, DocumentError, Table, formula_like};
use crate::store::OfficeStore;
use std::io::Write;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One field as written: quoted when it holds a comma, quote, CR or LF (quotes doubled).
pub fn field(cell: &Cell) -> String {
    let text = match cell {
        Cell::Text(s) if formula_like(s) => format!("'{s}"),
        Cell::Text(s) => s.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Num(x) if x.is_finite() => x.to_string(),
        Cell::Num(_) | Cell::Empty => String::new(),
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn line(out: &mut dyn Write, cells: impl Iterator<Item = String>) -> std::io::Result<()> {
    let fields: Vec<String> = cells.collect();
    out.write_all(fields.join(",").as_bytes())?;
    out.write_all(b"\r\n")
}

/// Write `table` as CSV to `out` (BOM, heading, rows); returns how many rows were written.
pub fn write_csv(
    table: &mut dyn Table,
    store: &dyn OfficeStore,
    out: &mut dyn Write,
) -> Result<u64, DocumentError> {
    out.write_all(BOM)?;
    let titles: Vec<String> = table
        .columns()
        .iter()
        .map(|c| field(&Cell::text(c.title)))
        .collect();
    line(out, titles.into_iter())?;
    let mut rows = 0u64;
    table.rows(store, &mut |cells| {
        line(out, cells.iter().map(field))?;
        rows += 1;
        Ok(())
    })?;
    out.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be_and_formulas_are_defused() {
        assert_eq!(field(&Cell::text("王秀英")), "王秀英");
        assert_eq!(field(&Cell::text("a,b")), "\"a,b\"");
        assert_eq!(field(&Cell::text("说\"好\"")), "\"说\"\"好\"\"\"");
        assert_eq!(field(&Cell::text("一\n二")), "\"一\n二\"");
        assert_eq!(field(&Cell::text("=1+1")), "'=1+1");
        assert_eq!(
            field(&Cell::text("=HYPERLINK(\"http://evil\",\"x\")")),
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"",
            "defused and quoted"
        );
        assert_eq!(field(&Cell::Int(-3)), "-3", "numbers are numbers");
        assert_eq!(field(&Cell::Num(f64::NAN)), "");
        assert_eq!(field(&Cell::Empty), "");
    }
}
