//! One value on its way from SQLite to PostgreSQL, taken as the target column's type: the copy
//! writes it, the verification hashes it. A value SQLite holds that the target's type cannot take
//! (text in an integer column) stops the copy with the table, row and column named, rather than
//! being changed on the way.

use super::plan::ColumnType;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use rusqlite::types::ValueRef;
use sha2::{Digest as _, Sha256};

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Cell {
    /// The SQLite value as a value of `ty`; `None` if it cannot be one.
    pub fn from_sqlite(value: ValueRef<'_>, ty: ColumnType) -> Option<Cell> {
        Some(match (value, ty) {
            (ValueRef::Null, _) => Cell::Null,
            (ValueRef::Integer(i), ColumnType::Integer) => Cell::Integer(i),
            (ValueRef::Integer(i), ColumnType::Real) => Cell::Real(i as f64),
            (ValueRef::Real(f), ColumnType::Real) => Cell::Real(f),
            (ValueRef::Text(t), ColumnType::Text) => {
                Cell::Text(String::from_utf8(t.to_vec()).ok()?)
            }
            (ValueRef::Blob(b), ColumnType::Blob) => Cell::Blob(b.to_vec()),
            _ => return None,
        })
    }

    /// The PostgreSQL value of a column of type `ty`, read from `row` at `i`.
    pub fn from_pg(row: &postgres::Row, i: usize, ty: ColumnType) -> Result<Cell, postgres::Error> {
        Ok(match ty {
            ColumnType::Integer => row
                .try_get::<_, Option<i64>>(i)?
                .map_or(Cell::Null, Cell::Integer),
            ColumnType::Real => row
                .try_get::<_, Option<f64>>(i)?
                .map_or(Cell::Null, Cell::Real),
            ColumnType::Text => row
                .try_get::<_, Option<String>>(i)?
                .map_or(Cell::Null, Cell::Text),
            ColumnType::Blob => row
                .try_get::<_, Option<Vec<u8>>>(i)?
                .map_or(Cell::Null, Cell::Blob),
        })
    }

    /// Bytes of payload, for the progress figures.
    pub fn size(&self) -> u64 {
        match self {
            Cell::Null => 0,
            Cell::Integer(_) | Cell::Real(_) => 8,
            Cell::Text(t) => t.len() as u64,
            Cell::Blob(b) => b.len() as u64,
        }
    }

    /// Feed the value to a row hash, tagged and length-prefixed so no two rows hash alike.
    pub fn hash_into(&self, h: &mut Sha256) {
        match self {
            Cell::Null => h.update([0]),
            Cell::Integer(i) => {
                h.update([1]);
                h.update(i.to_be_bytes());
            }
            Cell::Real(f) => {
                h.update([2]);
                h.update(f.to_bits().to_be_bytes());
            }
            Cell::Text(t) => {
                h.update([3]);
                h.update((t.len() as u64).to_be_bytes());
                h.update(t.as_bytes());
            }
            Cell::Blob(b) => {
                h.update([4]);
                h.update((b.len() as u64).to_be_bytes());
                h.update(b);
            }
        }
    }

    /// The value as JSON, for a batch's last key in the progress table (keys are integers or
    /// text).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Integer(i) => (*i).into(),
            Cell::Text(t) => t.clone().into(),
            Cell::Real(f) => (*f).into(),
            Cell::Null => serde_json::Value::Null,
            Cell::Blob(b) => hex::encode(b).into(),
        }
    }
}

impl ToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Integer(i) => i.to_sql(ty, out),
            Cell::Real(f) => f.to_sql(ty, out),
            Cell::Text(t) => t.to_sql(ty, out),
            Cell::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::INT8, Type::FLOAT8, Type::TEXT, Type::BYTEA].contains(ty)
    }

    to_sql_checked!();
}

/// A JSON key value back as a SQLite parameter.
pub fn json_to_sqlite(v: &serde_json::Value) -> rusqlite::types::Value {
    match v {
        serde_json::Value::Number(n) if n.is_i64() => {
            rusqlite::types::Value::Integer(n.as_i64().unwrap_or_default())
        }
        serde_json::Value::Number(n) => {
            rusqlite::types::Value::Real(n.as_f64().unwrap_or_default())
        }
        serde_json::Value::String(s) => rusqlite::types::Value::Text(s.clone()),
        _ => rusqlite::types::Value::Null,
    }
}
