//! The rectification notice register (`crate::notices`): rows imported from accepted
//! `notice_issued` events, the re-inspection job linked once, the first outcome kept.

use super::accounts::require_user;
use super::jobs::{add_assignment, save_job};
use super::ledger::{add_change, select_events};
use super::{SqliteStore, parse_ts, parse_uuid, select, ts};
use crate::notices::{NoticeOutcome, NoticeRecord, NoticeStore, OutcomeEntry, settled};
use crate::readback::corrected;
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use heatcrew_protocol::sync::ChangeKind;
use heatcrew_protocol::{EventBody, Job};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

const COLS: &str = "event_id, number, job_id, issued_by, issued_at, deadline, requirements, \
    reinspector, reinspection_job_id, reinspection_created_at, outcome, outcome_note, outcome_by, \
    outcome_at, next_notice, follow_up_on";

type Row = ([String; 7], [Option<String>; 9]);

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let mut a: [String; 7] = Default::default();
    for (i, slot) in a.iter_mut().enumerate() {
        *slot = r.get(i)?;
    }
    let mut b: [Option<String>; 9] = Default::default();
    for (i, slot) in b.iter_mut().enumerate() {
        *slot = r.get(7 + i)?;
    }
    Ok((a, b))
}

fn parse((a, b): Row) -> StoreResult<NoticeRecord> {
    let opt_uuid = |s: &Option<String>| s.as_deref().map(parse_uuid).transpose();
    let opt_ts = |s: &Option<String>| s.as_deref().map(parse_ts).transpose();
    Ok(NoticeRecord {
        id: parse_uuid(&a[0])?,
        number: a[1].clone(),
        job_id: parse_uuid(&a[2])?,
        issued_by: parse_uuid(&a[3])?,
        issued_at: parse_ts(&a[4])?,
        deadline: NaiveDate::parse_from_str(&a[5], "%Y-%m-%d")
            .map_err(|e| StoreError::Corrupt(format!("notice deadline {:?}: {e}", a[5])))?,
        requirements: a[6].clone(),
        reinspector: opt_uuid(&b[0])?,
        reinspection_job_id: opt_uuid(&b[1])?,
        reinspection_created_at: opt_ts(&b[2])?,
        outcome: b[3]
            .as_deref()
            .map(|o| {
                NoticeOutcome::parse(o)
                    .ok_or_else(|| StoreError::Corrupt(format!("notice outcome {o:?}")))
            })
            .transpose()?,
        outcome_note: b[4].clone(),
        outcome_by: opt_uuid(&b[5])?,
        outcome_at: opt_ts(&b[6])?,
        next_notice: opt_uuid(&b[7])?,
        follow_up_on: crate::notices::parse_follow_up(b[8].as_deref())?,
    })
}

fn load(conn: &Connection, id: Uuid) -> StoreResult<Option<NoticeRecord>> {
    Ok(select(
        conn,
        &format!("SELECT {COLS} FROM notices WHERE event_id = ?1"),
        [id.to_string()],
        read,
        parse,
    )?
    .pop())
}

fn must(conn: &Connection, id: Uuid) -> StoreResult<NoticeRecord> {
    load(conn, id)?.ok_or_else(|| StoreError::not_found(format!("notice {id}")))
}

impl NoticeStore for SqliteStore {
    fn import_notices(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let fresh = select_events(
            &tx,
            "WHERE e.kind = 'notice_issued' AND e.status = 'accepted'
               AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.event_id = e.id)
             ORDER BY e.received_at",
            [],
        )?;
        let mut added = 0;
        for e in &fresh {
            let u = &e.event.unsigned;
            // Accepted events were checked against the protocol; one that no longer parses (a
            // future payload version) waits for a binary that reads it.
            let Ok(EventBody::NoticeIssued {
                number,
                deadline,
                requirements,
                follow_up_on,
            }) = EventBody::from_parts(&u.kind, &u.payload)
            else {
                continue;
            };
            added += tx.execute(
                "INSERT OR IGNORE INTO notices (event_id, number, job_id, issued_by, issued_at,
                     deadline, requirements, imported_at, follow_up_on)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    u.id.to_string(),
                    number,
                    u.job_id.to_string(),
                    e.user_id.to_string(),
                    ts(corrected(e)),
                    deadline.format("%Y-%m-%d").to_string(),
                    requirements,
                    ts(now),
                    follow_up_on.map(|d| d.format("%Y-%m-%d").to_string()),
                ],
            )? as u64;
        }
        tx.commit()?;
        Ok(added)
    }

    fn notices(&self) -> StoreResult<Vec<NoticeRecord>> {
        select(
            &self.reader(),
            &format!("SELECT {COLS} FROM notices ORDER BY deadline, number"),
            [],
            read,
            parse,
        )
    }

    fn notice(&self, id: Uuid) -> StoreResult<Option<NoticeRecord>> {
        load(&self.reader(), id)
    }

    fn set_reinspector(&self, id: Uuid, user: Uuid) -> StoreResult<NoticeRecord> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = must(&tx, id)?;
        if n.reinspection_job_id.is_some() || n.outcome.is_some() {
            return Err(settled(format!(
                "notice {} already has its re-inspection job; reassign that job instead",
                n.number
            )));
        }
        require_user(&tx, user)?;
        tx.execute(
            "UPDATE notices SET reinspector = ?2 WHERE event_id = ?1",
            params![id.to_string(), user.to_string()],
        )?;
        let n = must(&tx, id)?;
        tx.commit()?;
        Ok(n)
    }

    fn open_reinspection(
        &self,
        id: Uuid,
        mut job: Job,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Job>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The write lock is held from here: another process's run waits, then finds the link.
        let linked = tx.execute(
            "UPDATE notices SET reinspection_job_id = ?2, reinspection_created_at = ?3
             WHERE event_id = ?1 AND reinspection_job_id IS NULL AND outcome IS NULL",
            params![id.to_string(), job.id.to_string(), ts(now)],
        )?;
        if linked == 0 {
            return Ok(None);
        }
        let exists: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM jobs WHERE id = ?1",
                [job.id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            // Only this notice's link creates this id; a row already there is not ours to touch.
            return Err(settled(format!("job {} exists already", job.id)));
        }
        if let Some(a) = job.assignee {
            let active: Option<bool> = tx
                .query_row(
                    "SELECT deactivated_at IS NULL FROM users WHERE id = ?1",
                    [a.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if active != Some(true) {
                // A deactivated inspector gets nothing; the job waits for a dispatcher.
                job.assignee = None;
            }
        }
        save_job(&tx, &job, now)?;
        if let Some(a) = job.assignee {
            add_assignment(&tx, job.id, a, now)?;
            add_change(
                &tx,
                Some(a),
                &ChangeKind::JobUpserted { job: job.clone() },
                now,
            )?;
        }
        tx.commit()?;
        Ok(Some(job))
    }

    fn record_outcome(
        &self,
        id: Uuid,
        entry: OutcomeEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<NoticeRecord> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = must(&tx, id)?;
        if let Some(o) = n.outcome {
            if o == entry.outcome {
                return Ok(n);
            }
            return Err(settled(format!(
                "notice {} is already settled as {}",
                n.number,
                o.as_str()
            )));
        }
        tx.execute(
            "UPDATE notices SET outcome = ?2, outcome_note = ?3, outcome_by = ?4, outcome_at = ?5,
                 next_notice = ?6
             WHERE event_id = ?1 AND outcome IS NULL",
            params![
                id.to_string(),
                entry.outcome.as_str(),
                entry.note,
                entry.by.map(|b| b.to_string()),
                ts(now),
                entry.next_notice.map(|b| b.to_string()),
            ],
        )?;
        let n = must(&tx, id)?;
        tx.commit()?;
        Ok(n)
    }
}
