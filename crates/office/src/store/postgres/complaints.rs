//! The complaints tracker's table (`migrations/0002_service_standard.sql`), as
//! `sqlite/complaints.rs`: each change checked by `complaints::rules` on the row as it is, locked
//! (`FOR UPDATE`) inside the transaction that writes it with its audit entry. Numbers are handed
//! out under a transaction-scoped advisory lock, so concurrent offices never take the same one. The
//! schema's triggers refuse changing what was received, a second reply or callback, and deleting a
//! complaint or its trail.

use super::accounts::{USER_COLS, user_at, user_info};
use super::audit::{AUDIT_COLS, audit_row, entry, insert as insert_audit};
use super::{PgStore, is_unique_violation};
use crate::audit::{AuditEntry, NewAudit};
use crate::complaints::figures::KindCounts;
use crate::complaints::input::HandoverTo;
use crate::complaints::rules::{self, Action};
use crate::complaints::{Complaint, ComplaintKind, company_tz};
use crate::store::complaints::{
    ComplaintChange, ComplaintFilter, ComplaintQuery, ComplaintRow, ComplaintStore, NewComplaint,
    complaint_from_row, complaint_sql,
};
use crate::store::convert::{json, to_json, ts};
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, Datelike, Utc};
use heatcrew_protocol::sync::UserInfo;
use heatcrew_protocol::{ErrorCode, Job};
use postgres::GenericClient;
use postgres::types::ToSql;
use serde_json::json;
use uuid::Uuid;

/// `pg_advisory_xact_lock` key held while a complaint takes the next number ("Complaint").
const NUMBER_LOCK: i64 = 0x436f_6d70_6c61_696e;

fn parse(row: &postgres::Row) -> StoreResult<Complaint> {
    let mut r: ComplaintRow = Default::default();
    for (i, v) in r.iter_mut().enumerate() {
        *v = row.try_get(i)?;
    }
    complaint_from_row(r)
}

fn load(c: &mut impl GenericClient, id: Uuid) -> StoreResult<Option<Complaint>> {
    c.query_opt(&complaint_sql("WHERE c.id = $1"), &[&id.to_string()])?
        .as_ref()
        .map(parse)
        .transpose()
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::not_found(format!("complaint {id}"))
}

/// The target of a handover to a person, with whether they are active (`None`: no such user).
fn target_user(c: &mut impl GenericClient, id: Uuid) -> StoreResult<Option<(UserInfo, bool)>> {
    let Some(r) = c.query_opt(
        &format!("SELECT {USER_COLS}, deactivated_at IS NULL FROM users WHERE id = $1"),
        &[&id.to_string()],
    )?
    else {
        return Ok(None);
    };
    Ok(Some((user_info(user_at(&r, 0)?)?, r.try_get(5)?)))
}

impl ComplaintStore for PgStore {
    fn create_complaint(&self, c: &NewComplaint, audit: &NewAudit) -> StoreResult<Complaint> {
        self.write(|tx| {
            let mut customer = c.customer.clone();
            if let Some(job_id) = c.job_id {
                let Some(row) = tx.query_opt(
                    "SELECT body FROM jobs WHERE id = $1",
                    &[&job_id.to_string()],
                )?
                else {
                    return Err(StoreError::Invalid {
                        code: ErrorCode::UnknownJob,
                        message: format!("there is no job {job_id} to link"),
                    });
                };
                if customer.is_none() {
                    customer = json::<Job>(&row.try_get::<_, String>(0)?)?.customer;
                }
            }
            if tx
                .query_opt(
                    "SELECT 1 FROM complaints WHERE id = $1",
                    &[&c.id.to_string()],
                )?
                .is_some()
            {
                return Err(exists(c.id));
            }
            // Held until commit: the next office to number a complaint reads this one's seq.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&NUMBER_LOCK])?;
            let seq: i64 = tx
                .query_one("SELECT COALESCE(MAX(seq), 0) + 1 FROM complaints", &[])?
                .try_get(0)?;
            let year = c.received_at.with_timezone(&company_tz()).year();
            let number = format!("{}{year}-{seq:05}", c.kind.prefix());
            let inserted = tx.execute(
                "INSERT INTO complaints (id, seq, number, kind, channel, caller_name, caller_phone,
                     subject, body, job_id, customer, received_at, due_at, received_by, created_at,
                     owner_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $14)",
                &[
                    &c.id.to_string(),
                    &seq,
                    &number,
                    &c.kind.as_str(),
                    &c.channel.as_str(),
                    &c.caller_name,
                    &c.caller_phone,
                    &c.subject,
                    &c.text,
                    &c.job_id.map(|j| j.to_string()),
                    &customer.as_ref().map(to_json),
                    &ts(c.received_at),
                    &ts(c.due_at),
                    &c.received_by.to_string(),
                    &ts(c.created_at),
                ],
            );
            match inserted {
                // The same id stored meanwhile by another office.
                Err(e) if is_unique_violation(&e) => {
                    return Err(exists(c.id));
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
            insert_audit(tx, &entry)?;
            let stored = load(tx, c.id)?.ok_or_else(|| not_found(c.id))?;
            Ok(stored)
        })
    }

    fn change_complaint(
        &self,
        id: Uuid,
        change: &ComplaintChange,
        actor: &UserInfo,
        audit: &NewAudit,
    ) -> StoreResult<Complaint> {
        self.write(|tx| {
            // The rules judge the row as it is: a concurrent change waits here for this one's commit.
            tx.query_opt(
                "SELECT 1 FROM complaints WHERE id = $1 FOR UPDATE",
                &[&id.to_string()],
            )?
            .ok_or_else(|| not_found(id))?;
            let c = load(tx, id)?.ok_or_else(|| not_found(id))?;
            let now = ts(audit.at);
            let idv = id.to_string();
            let detail = match change {
                ComplaintChange::Handover { to, note } => {
                    let target = match to {
                        HandoverTo::Person(u) => target_user(tx, *u)?,
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
                            "UPDATE complaints SET owner_id = $2, owner_department = NULL WHERE id = $1",
                            &[&idv, &u.to_string()],
                        )?,
                        HandoverTo::Department(d) => tx.execute(
                            "UPDATE complaints SET owner_id = NULL, owner_department = $2 WHERE id = $1",
                            &[&idv, d],
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
                        "UPDATE complaints SET reply_text = $2, replied_by = $3, replied_at = $4
                         WHERE id = $1",
                        &[&idv, text, &actor.id.to_string(), &now],
                    )?;
                    json!({"number": c.number, "text": text, "in_time": audit.at < c.due_at})
                }
                ComplaintChange::Callback { satisfaction, note } => {
                    rules::check(&c, actor, &Action::Callback)?;
                    tx.execute(
                        "UPDATE complaints SET callback_satisfaction = $2, callback_note = $3,
                             called_back_by = $4, called_back_at = $5
                         WHERE id = $1",
                        &[
                            &idv,
                            &satisfaction.as_str(),
                            note,
                            &actor.id.to_string(),
                            &now,
                        ],
                    )?;
                    json!({"number": c.number, "satisfaction": satisfaction, "note": note})
                }
            };
            let mut entry = audit.clone();
            entry.subject = idv;
            entry.detail = detail;
            insert_audit(tx, &entry)?;
            let stored = load(tx, id)?.ok_or_else(|| not_found(id))?;
            Ok(stored)
        })
    }

    fn complaint(&self, id: Uuid) -> StoreResult<Option<Complaint>> {
        load(&mut *self.conn()?, id)
    }

    fn complaints(&self, q: &ComplaintQuery) -> StoreResult<Vec<Complaint>> {
        let tail = match q.filter {
            ComplaintFilter::Open => "c.replied_at IS NULL ORDER BY c.due_at, c.seq",
            ComplaintFilter::Overdue => {
                "c.replied_at IS NULL AND c.due_at <= $4 ORDER BY c.due_at, c.seq"
            }
            ComplaintFilter::Answered => {
                "c.replied_at IS NOT NULL ORDER BY c.replied_at DESC, c.seq DESC"
            }
            ComplaintFilter::All => "TRUE ORDER BY c.received_at DESC, c.seq DESC",
        };
        let kind = q.kind.map(ComplaintKind::as_str);
        let owner = q.owner.map(|u| u.to_string());
        let params: [&(dyn ToSql + Sync); 4] = [&kind, &owner, &i64::from(q.limit), &ts(q.now)];
        self.conn()?
            .query(
                &complaint_sql(&format!(
                    "WHERE ($1::text IS NULL OR c.kind = $1) AND ($2::text IS NULL OR c.owner_id = $2)
                       AND ($4::text IS NOT NULL) AND {tail} LIMIT $3"
                )),
                &params,
            )?
            .iter()
            .map(parse)
            .collect()
    }

    fn complaint_trail(&self, id: Uuid) -> StoreResult<Vec<AuditEntry>> {
        self.conn()?
            .query(
                &format!(
                    "SELECT {AUDIT_COLS} FROM audit_log
                     WHERE subject = $1 AND kind LIKE 'complaint%' ORDER BY seq"
                ),
                &[&id.to_string()],
            )?
            .iter()
            .map(|r| entry(audit_row(r)?))
            .collect()
    }

    fn complaint_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<(KindCounts, KindCounts)> {
        let rows = self.conn()?.query(
            "SELECT kind, COUNT(*),
                    COUNT(*) FILTER (WHERE replied_at IS NOT NULL AND replied_at < due_at),
                    COUNT(*) FILTER (WHERE replied_at IS NOT NULL AND replied_at >= due_at),
                    COUNT(*) FILTER (WHERE replied_at IS NULL AND due_at <= $3)
             FROM complaints WHERE received_at >= $1 AND received_at < $2 GROUP BY kind",
            &[&ts(from), &ts(to), &ts(now)],
        )?;
        let (mut complaints, mut reports) = (KindCounts::default(), KindCounts::default());
        for r in &rows {
            let kind: String = r.try_get(0)?;
            let n = |i: usize| r.try_get::<_, i64>(i).map(|v| v as u64);
            let counts = KindCounts {
                received: n(1)?,
                answered_in_time: n(2)?,
                answered_late: n(3)?,
                overdue: n(4)?,
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

fn exists(id: Uuid) -> StoreError {
    StoreError::Conflict {
        code: ErrorCode::ComplaintExists,
        message: format!("a complaint with id {id} is already stored"),
    }
}
