//! The audit log table: append and read, nothing else (`migrations/0001_schema.sql` has the
//! triggers that refuse changes and early deletion); as `sqlite/audit.rs`.

use super::PgStore;
use crate::audit::{AuditEntry, AuditKind, AuditQuery, NewAudit};
use crate::store::convert::{parse_ts, parse_uuid, ts};
use crate::store::{AuditStore, StoreError, StoreResult};
use postgres::GenericClient;

/// The columns [`entry`] reads, in order.
pub(super) const AUDIT_COLS: &str = "seq, at, kind, actor_id, username, address, subject, detail";

/// `AUDIT_COLS` as read, parsed by [`entry`].
pub(super) type AuditRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
);

/// The `AUDIT_COLS` of a row.
pub(super) fn audit_row(r: &postgres::Row) -> StoreResult<AuditRow> {
    Ok((
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
        r.try_get(5)?,
        r.try_get(6)?,
        r.try_get(7)?,
    ))
}

pub(super) fn entry(r: AuditRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        seq: r.0 as u64,
        at: parse_ts(&r.1)?,
        kind: AuditKind::parse(&r.2)
            .ok_or_else(|| StoreError::Corrupt(format!("audit kind {:?}", r.2)))?,
        actor_id: r.3.as_deref().map(parse_uuid).transpose()?,
        username: r.4,
        address: r.5,
        subject: r.6,
        detail: serde_json::from_str(&r.7)
            .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
    })
}

/// Append `e` on `c` (inside the caller's transaction, e.g. a complaint's change): its `seq`.
pub(super) fn insert(c: &mut impl GenericClient, e: &NewAudit) -> StoreResult<u64> {
    let seq: i64 = c
        .query_one(
            "INSERT INTO audit_log (at, kind, actor_id, username, address, subject, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
            &[
                &ts(e.at),
                &e.kind.as_str(),
                &e.actor_id.map(|u| u.to_string()),
                &e.username,
                &e.address,
                &e.subject,
                &e.detail.to_string(),
            ],
        )?
        .try_get(0)?;
    Ok(seq as u64)
}

impl AuditStore for PgStore {
    fn append_audit(&self, e: &NewAudit) -> StoreResult<u64> {
        insert(&mut *self.conn()?, e)
    }

    fn audit_page(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        // Every filter is optional: a NULL parameter switches its condition off. The keyset
        // (`seq < before`) keeps each page one index range however deep the reader pages; a
        // subject is a plain equality, so `audit_log_subject` serves it (as on SQLite).
        let subject = if q.subject.is_some() {
            "subject = $7"
        } else {
            "$7::TEXT IS NULL"
        };
        self.conn()?
            .query(
                &format!(
                    "SELECT {AUDIT_COLS} FROM audit_log
                     WHERE ($1::BIGINT IS NULL OR seq < $1)
                       AND ($2::TEXT IS NULL OR actor_id = $2 OR username = $2)
                       AND ($3::TEXT IS NULL OR kind = $3)
                       AND ($4::TEXT IS NULL OR at >= $4::TEXT COLLATE \"C\")
                       AND ($5::TEXT IS NULL OR at < $5::TEXT COLLATE \"C\")
                       AND {subject}
                     ORDER BY seq DESC LIMIT $6"
                ),
                &[
                    &q.before.map(|b| b.min(i64::MAX as u64) as i64),
                    &q.user,
                    &q.kind.map(AuditKind::as_str),
                    &q.from.map(ts),
                    &q.to.map(ts),
                    &i64::from(q.limit),
                    &q.subject,
                ],
            )?
            .iter()
            .map(|r| entry(audit_row(r)?))
            .collect()
    }
}
