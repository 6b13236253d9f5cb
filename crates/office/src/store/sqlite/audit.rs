//! The audit log table: append and read, nothing else (`migrations/0005_accounts_security.sql` has
//! the triggers that refuse changes and early deletion).

use super::{SqliteStore, parse_ts, parse_uuid, select, ts};
use crate::audit::{AuditEntry, AuditKind, AuditQuery, NewAudit};
use crate::store::{AuditStore, StoreError, StoreResult};
use rusqlite::params;

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

/// Append `e` on `conn` (inside the caller's transaction, e.g. a complaint's change).
pub(super) fn insert(conn: &rusqlite::Connection, e: &NewAudit) -> StoreResult<u64> {
    conn.execute(
        "INSERT INTO audit_log (at, kind, actor_id, username, address, subject, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            ts(e.at),
            e.kind.as_str(),
            e.actor_id.map(|u| u.to_string()),
            e.username,
            e.address,
            e.subject,
            e.detail.to_string(),
        ],
    )?;
    Ok(conn.last_insert_rowid() as u64)
}

/// The page query. Every filter is optional: a NULL parameter switches its condition off. The
/// keyset (`seq < before`) keeps each page one index range however deep the reader pages. A
/// subject is matched as a plain equality (not `?7 IS NULL OR …`, which no index serves), so the
/// planner walks `audit_log_subject` (migration 0015) instead of the whole log.
fn page_sql(by_subject: bool) -> String {
    let subject = if by_subject {
        "subject = ?7"
    } else {
        "?7 IS NULL"
    };
    format!(
        "SELECT seq, at, kind, actor_id, username, address, subject, detail FROM audit_log
         WHERE (?1 IS NULL OR seq < ?1)
           AND (?2 IS NULL OR actor_id = ?2 OR username = ?2)
           AND (?3 IS NULL OR kind = ?3)
           AND (?4 IS NULL OR at >= ?4)
           AND (?5 IS NULL OR at < ?5)
           AND {subject}
         ORDER BY seq DESC LIMIT ?6"
    )
}

impl AuditStore for SqliteStore {
    fn append_audit(&self, e: &NewAudit) -> StoreResult<u64> {
        insert(&self.conn(), e)
    }

    fn audit_page(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        select(
            &self.reader(),
            &page_sql(q.subject.is_some()),
            params![
                q.before.map(|b| b.min(i64::MAX as u64) as i64),
                q.user,
                q.kind.map(AuditKind::as_str),
                q.from.map(ts),
                q.to.map(ts),
                q.limit,
                q.subject,
            ],
            |r| AuditRow::try_from(r),
            entry,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subjects_page_walks_the_subject_index_not_the_log() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SqliteStore::open(&dir.path().join("office.db")).expect("store");
        let plan: Vec<String> = store
            .with_connection(|c| {
                let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {}", page_sql(true)))?;
                st.query_map(
                    params![
                        None::<i64>,
                        None::<String>,
                        None::<String>,
                        None::<String>,
                        None::<String>,
                        100,
                        "a-job"
                    ],
                    |r| r.get::<_, String>(3),
                )?
                .collect::<rusqlite::Result<Vec<String>>>()
            })
            .expect("plan");
        assert!(
            plan.iter()
                .any(|l| l.contains("USING INDEX audit_log_subject")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|l| l.contains("TEMP B-TREE")),
            "no sort: {plan:?}"
        );
    }
}
