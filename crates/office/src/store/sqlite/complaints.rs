//! The complaints tracker's table (`migrations/0015_complaints.sql`): each change checked by
//! `complaints::rules` on the row as it is inside the writer's transaction, and written with its
//! audit entry in that transaction. The schema's triggers refuse changing what was received, a
//! second reply or callback, and deleting a complaint or its trail.

use super::accounts::select_users;
use super::{SqliteStore, is_constraint_violation, json, select, to_json, ts};
use crate::audit::{AuditEntry, NewAudit};
use crate::complaints::figures::KindCounts;
use crate::complaints::input::HandoverTo;
use crate::complaints::rules::{self, Action};
use crate::complaints::{Complaint, ComplaintKind, company_tz};
use crate::store::complaints::{
    ComplaintChange, ComplaintFilter, ComplaintQuery, ComplaintRow, ComplaintStore, NewComplaint,
    complaint_from_row, complaint_sql,
};
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, Datelike, Utc};
use heatcrew_protocol::sync::UserInfo;
use heatcrew_protocol::{ErrorCode, Job};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;
use uuid::Uuid;

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<ComplaintRow> {
    let mut out: ComplaintRow = Default::default();
    for (i, v) in out.iter_mut().enumerate() {
        *v = r.get(i)?;
    }
    Ok(out)
}

fn load(conn: &Connection, id: Uuid) -> StoreResult<Option<Complaint>> {
    Ok(select(
        conn,
        &complaint_sql("WHERE c.id = ?1"),
        [id.to_string()],
        read,
        complaint_from_row,
    )?
    .pop())
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::not_found(format!("complaint {id}"))
}

/// The target of a handover to a person, with whether they are active (`None`: no such user).
fn target_user(conn: &Connection, id: Uuid) -> StoreResult<Option<(UserInfo, bool)>> {
    let Some(user) = select_users(conn, "WHERE id = ?1", [id.to_string()])?.pop() else {
        return Ok(None);
    };
    let active: bool = conn.query_row(
        "SELECT deactivated_at IS NULL FROM users WHERE id = ?1",
        [id.to_string()],
        |r| r.get(0),
    )?;
    Ok(Some((user, active)))
}

impl ComplaintStore for SqliteStore {
    fn create_complaint(&self, c: &NewComplaint, audit: &NewAudit) -> StoreResult<Complaint> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut customer = c.customer.clone();
        if let Some(job_id) = c.job_id {
            let body: Option<String> = tx
                .query_row(
                    "SELECT body FROM jobs WHERE id = ?1",
                    [job_id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(body) = body else {
                return Err(StoreError::Invalid {
                    code: ErrorCode::UnknownJob,
                    message: format!("there is no job {job_id} to link"),
                });
            };
            if customer.is_none() {
                customer = json::<Job>(&body)?.customer;
            }
        }
        let seq: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM complaints",
            [],
            |r| r.get(0),
        )?;
        let year = c.received_at.with_timezone(&company_tz()).year();
        let number = format!("{}{year}-{seq:05}", c.kind.prefix());
        let inserted = tx.execute(
            "INSERT INTO complaints (id, seq, number, kind, channel, caller_name, caller_phone,
                 subject, body, job_id, customer, received_at, due_at, received_by, created_at,
                 owner_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?14)",
            params![
                c.id.to_string(),
                seq,
                number,
                c.kind.as_str(),
                c.channel.as_str(),
                c.caller_name,
                c.caller_phone,
                c.subject,
                c.text,
                c.job_id.map(|j| j.to_string()),
                customer.as_ref().map(to_json),
                ts(c.received_at),
                ts(c.due_at),
                c.received_by.to_string(),
                ts(c.created_at),
            ],
        );
        match inserted {
            Err(e) if is_constraint_violation(&e) => {
                return Err(StoreError::Conflict {
                    code: ErrorCode::ComplaintExists,
                    message: format!("a complaint with id {} is already stored", c.id),
                });
            }
            other => other?,
        };
        let mut entry = audit.clone();
        entry.subject = c.id.to_string();
        entry.detail = json!({
            "number": number, "kind": c.kind, "channel": c.channel, "subject": c.subject,
            "received_at": ts(c.received_at), "due_at": ts(c.due_at),
            "job_id": c.job_id,
        });
        super::audit::insert(&tx, &entry)?;
        let stored = load(&tx, c.id)?.ok_or_else(|| not_found(c.id))?;
        tx.commit()?;
        Ok(stored)
    }

    fn change_complaint(
        &self,
        id: Uuid,
        change: &ComplaintChange,
        actor: &UserInfo,
        audit: &NewAudit,
    ) -> StoreResult<Complaint> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let c = load(&tx, id)?.ok_or_else(|| not_found(id))?;
        let now = ts(audit.at);
        let detail = match change {
            ComplaintChange::Handover { to, note } => {
                let target = match to {
                    HandoverTo::Person(u) => target_user(&tx, *u)?,
                    HandoverTo::Department(_) => None,
                };
                let action = Action::Handover {
                    to,
                    target: target.as_ref().map(|(u, a)| (u, *a)),
                };
                rules::check(&c, actor, &action)?;
                let from = json!({
                    "person": c.owner.person.as_ref().map(|p| &p.display_name),
                    "department": c.owner.department,
                });
                match to {
                    HandoverTo::Person(u) => tx.execute(
                        "UPDATE complaints SET owner_id = ?2, owner_department = NULL WHERE id = ?1",
                        params![id.to_string(), u.to_string()],
                    )?,
                    HandoverTo::Department(d) => tx.execute(
                        "UPDATE complaints SET owner_id = NULL, owner_department = ?2 WHERE id = ?1",
                        params![id.to_string(), d],
                    )?,
                };
                let to_detail = match (to, &target) {
                    (HandoverTo::Person(_), Some((u, _))) => {
                        json!({"person": u.display_name, "person_id": u.id})
                    }
                    (HandoverTo::Department(d), _) => json!({"department": d}),
                    _ => json!({}),
                };
                json!({"number": c.number, "from": from, "to": to_detail, "note": note})
            }
            ComplaintChange::Reply { text } => {
                rules::check(&c, actor, &Action::Reply)?;
                tx.execute(
                    "UPDATE complaints SET reply_text = ?2, replied_by = ?3, replied_at = ?4
                     WHERE id = ?1",
                    params![id.to_string(), text, actor.id.to_string(), now],
                )?;
                json!({"number": c.number, "text": text, "in_time": audit.at < c.due_at})
            }
            ComplaintChange::Callback { satisfaction, note } => {
                rules::check(&c, actor, &Action::Callback)?;
                tx.execute(
                    "UPDATE complaints SET callback_satisfaction = ?2, callback_note = ?3,
                         called_back_by = ?4, called_back_at = ?5
                     WHERE id = ?1",
                    params![
                        id.to_string(),
                        satisfaction.as_str(),
                        note,
                        actor.id.to_string(),
                        now
                    ],
                )?;
                json!({"number": c.number, "satisfaction": satisfaction, "note": note})
            }
        };
        let mut entry = audit.clone();
        entry.subject = id.to_string();
        entry.detail = detail;
        super::audit::insert(&tx, &entry)?;
        let stored = load(&tx, id)?.ok_or_else(|| not_found(id))?;
        tx.commit()?;
        Ok(stored)
    }

    fn complaint(&self, id: Uuid) -> StoreResult<Option<Complaint>> {
        load(&self.reader(), id)
    }

    fn complaints(&self, q: &ComplaintQuery) -> StoreResult<Vec<Complaint>> {
        let tail = match q.filter {
            ComplaintFilter::Open => "c.replied_at IS NULL ORDER BY c.due_at, c.seq",
            ComplaintFilter::Overdue => {
                "c.replied_at IS NULL AND c.due_at <= ?4 ORDER BY c.due_at, c.seq"
            }
            ComplaintFilter::Answered => {
                "c.replied_at IS NOT NULL ORDER BY c.replied_at DESC, c.seq DESC"
            }
            ComplaintFilter::All => "1 ORDER BY c.received_at DESC, c.seq DESC",
        };
        select(
            &self.reader(),
            &complaint_sql(&format!(
                "WHERE (?1 IS NULL OR c.kind = ?1) AND (?2 IS NULL OR c.owner_id = ?2)
                   AND (?4 IS NOT NULL) AND {tail} LIMIT ?3"
            )),
            params![
                q.kind.map(ComplaintKind::as_str),
                q.owner.map(|u| u.to_string()),
                q.limit,
                ts(q.now),
            ],
            read,
            complaint_from_row,
        )
    }

    fn complaint_trail(&self, id: Uuid) -> StoreResult<Vec<AuditEntry>> {
        select(
            &self.reader(),
            "SELECT seq, at, kind, actor_id, username, address, subject, detail FROM audit_log
             WHERE subject = ?1 AND kind LIKE 'complaint%' ORDER BY seq",
            [id.to_string()],
            |r| super::audit::AuditRow::try_from(r),
            super::audit::entry,
        )
    }

    fn complaint_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<(KindCounts, KindCounts)> {
        let rows = select(
            &self.reader(),
            "SELECT kind, COUNT(*),
                    COALESCE(SUM(replied_at IS NOT NULL AND replied_at < due_at), 0),
                    COALESCE(SUM(replied_at IS NOT NULL AND replied_at >= due_at), 0),
                    COALESCE(SUM(replied_at IS NULL AND due_at <= ?3), 0)
             FROM complaints WHERE received_at >= ?1 AND received_at < ?2 GROUP BY kind",
            params![ts(from), ts(to), ts(now)],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            },
            Ok,
        )?;
        let (mut complaints, mut reports) = (KindCounts::default(), KindCounts::default());
        for (kind, received, in_time, late, overdue) in rows {
            let counts = KindCounts {
                received: received as u64,
                answered_in_time: in_time as u64,
                answered_late: late as u64,
                overdue: overdue as u64,
            };
            match ComplaintKind::parse(&kind) {
                Some(ComplaintKind::Complaint) => complaints = counts,
                Some(ComplaintKind::Report) => reports = counts,
                None => return Err(StoreError::Corrupt(format!("complaint kind {kind:?}"))),
            }
        }
        Ok((complaints, reports))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_refuses_changing_an_answer_or_deleting_a_complaint() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("office.db")).expect("open");
        store.with_connection(|c| {
            c.execute_batch(
                "INSERT INTO users (id, username, password_hash, display_name, role, badge_no, created_at)
                 VALUES ('u', 'u', 'x', '调度员', 'dispatcher', '', 'x');
                 INSERT INTO complaints (id, seq, number, kind, channel, caller_name, caller_phone,
                     subject, body, received_at, due_at, received_by, created_at, owner_id,
                     reply_text, replied_by, replied_at)
                 VALUES ('c', 1, 'TS2026-00001', 'complaint', 'phone', '王', '13800138000', 's',
                     'b', 'r', 'd', 'u', 'x', 'u', '已处理', 'u', '2026-01-01T00:00:00.000Z');
                 INSERT INTO audit_log (at, kind, subject) VALUES ('2000-01-01T00:00:00.000Z', 'complaint_received', 'c');",
            )
            .expect("a replied complaint");
            for (sql, why) in [
                ("UPDATE complaints SET reply_text = 'changed' WHERE id = 'c'", "reply"),
                ("UPDATE complaints SET body = 'changed' WHERE id = 'c'", "intake"),
                ("UPDATE complaints SET due_at = 'later' WHERE id = 'c'", "deadline"),
                ("DELETE FROM complaints WHERE id = 'c'", "complaint"),
                ("DELETE FROM audit_log WHERE subject = 'c'", "old trail"),
            ] {
                assert!(c.execute(sql, []).is_err(), "the {why} cannot be changed: {sql}");
            }
            c.execute("UPDATE complaints SET owner_id = NULL, owner_department = '维修部' WHERE id = 'c'", [])
                .expect("a handover still changes the owner");
        });
    }
}
