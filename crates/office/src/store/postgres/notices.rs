//! The rectification notice register (`crate::notices`), as `sqlite/notices.rs`: rows imported
//! from accepted `notice_issued` events, the re-inspection job linked once, the first outcome kept.
//! What SQLite's single writer serialises, the notice's row lock does here: a change reads the row
//! `FOR UPDATE`, and the link is one conditional `UPDATE` (a racing office waits, then finds it set).

use super::PgStore;
use super::accounts::require_user;
use super::jobs::open_for_active_assignee;
use super::ledger::select_events;
use crate::notices::{NoticeOutcome, NoticeRecord, NoticeStore, OutcomeEntry, settled};
use crate::readback::corrected;
use crate::store::convert::{parse_ts, parse_uuid, ts};
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use heatcrew_protocol::{EventBody, Job};
use postgres::GenericClient;
use uuid::Uuid;

const COLS: &str = "event_id, number, job_id, issued_by, issued_at, deadline, requirements, \
    reinspector, reinspection_job_id, reinspection_created_at, outcome, outcome_note, outcome_by, \
    outcome_at, next_notice, follow_up_on";

fn parse(r: &postgres::Row) -> StoreResult<NoticeRecord> {
    let s = |i: usize| r.try_get::<_, String>(i);
    let o = |i: usize| r.try_get::<_, Option<String>>(i);
    let opt_uuid =
        |i: usize| -> StoreResult<Option<Uuid>> { o(i)?.as_deref().map(parse_uuid).transpose() };
    let opt_ts = |i: usize| -> StoreResult<Option<DateTime<Utc>>> {
        o(i)?.as_deref().map(parse_ts).transpose()
    };
    let deadline = s(5)?;
    Ok(NoticeRecord {
        id: parse_uuid(&s(0)?)?,
        number: s(1)?,
        job_id: parse_uuid(&s(2)?)?,
        issued_by: parse_uuid(&s(3)?)?,
        issued_at: parse_ts(&s(4)?)?,
        deadline: NaiveDate::parse_from_str(&deadline, "%Y-%m-%d")
            .map_err(|e| StoreError::Corrupt(format!("notice deadline {deadline:?}: {e}")))?,
        requirements: s(6)?,
        reinspector: opt_uuid(7)?,
        reinspection_job_id: opt_uuid(8)?,
        reinspection_created_at: opt_ts(9)?,
        outcome: o(10)?
            .as_deref()
            .map(|o| {
                NoticeOutcome::parse(o)
                    .ok_or_else(|| StoreError::Corrupt(format!("notice outcome {o:?}")))
            })
            .transpose()?,
        outcome_note: o(11)?,
        outcome_by: opt_uuid(12)?,
        outcome_at: opt_ts(13)?,
        next_notice: opt_uuid(14)?,
        follow_up_on: crate::notices::parse_follow_up(o(15)?.as_deref())?,
    })
}

/// The notice (`lock`: its row locked until the transaction ends).
fn load(c: &mut impl GenericClient, id: Uuid, lock: bool) -> StoreResult<Option<NoticeRecord>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    c.query_opt(
        &format!("SELECT {COLS} FROM notices WHERE event_id = $1{lock}"),
        &[&id.to_string()],
    )?
    .as_ref()
    .map(parse)
    .transpose()
}

fn must(c: &mut impl GenericClient, id: Uuid, lock: bool) -> StoreResult<NoticeRecord> {
    load(c, id, lock)?.ok_or_else(|| StoreError::not_found(format!("notice {id}")))
}

impl NoticeStore for PgStore {
    fn import_notices(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(|tx| {
            let fresh = select_events(
                tx,
                "WHERE e.kind = 'notice_issued' AND e.status = 'accepted'
                   AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.event_id = e.id)
                 ORDER BY e.received_at, e.rowid",
                &[],
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
                // Another office importing at once: its row wins, this one counts nothing.
                added += tx.execute(
                    "INSERT INTO notices (event_id, number, job_id, issued_by, issued_at,
                         deadline, requirements, imported_at, follow_up_on)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                    &[
                        &u.id.to_string(),
                        &number,
                        &u.job_id.to_string(),
                        &e.user_id.to_string(),
                        &ts(corrected(e)),
                        &deadline.format("%Y-%m-%d").to_string(),
                        &requirements,
                        &ts(now),
                        &follow_up_on.map(|d| d.format("%Y-%m-%d").to_string()),
                    ],
                )?;
            }
            Ok(added)
        })
    }

    fn notices(&self) -> StoreResult<Vec<NoticeRecord>> {
        self.conn()?
            .query(
                &format!("SELECT {COLS} FROM notices ORDER BY deadline, number"),
                &[],
            )?
            .iter()
            .map(parse)
            .collect()
    }

    fn notice(&self, id: Uuid) -> StoreResult<Option<NoticeRecord>> {
        load(&mut *self.conn()?, id, false)
    }

    fn set_reinspector(&self, id: Uuid, user: Uuid) -> StoreResult<NoticeRecord> {
        self.write(|tx| {
            let n = must(tx, id, true)?;
            if n.reinspection_job_id.is_some() || n.outcome.is_some() {
                return Err(settled(format!(
                    "notice {} already has its re-inspection job; reassign that job instead",
                    n.number
                )));
            }
            require_user(tx, user)?;
            tx.execute(
                "UPDATE notices SET reinspector = $2 WHERE event_id = $1",
                &[&id.to_string(), &user.to_string()],
            )?;
            let n = must(tx, id, false)?;
            Ok(n)
        })
    }

    fn open_reinspection(
        &self,
        id: Uuid,
        job: Job,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Job>> {
        self.write(|tx| {
            // A retry starts again from what the caller gave.
            let mut job = job.clone();
            // The row is locked from here: another office's run waits, then finds the link set (its
            // UPDATE re-reads the committed row) and opens nothing.
            let linked = tx.execute(
                "UPDATE notices SET reinspection_job_id = $2, reinspection_created_at = $3
                 WHERE event_id = $1 AND reinspection_job_id IS NULL AND outcome IS NULL",
                &[&id.to_string(), &job.id.to_string(), &ts(now)],
            )?;
            if linked == 0 {
                return Ok(None);
            }
            if tx
                .query_opt("SELECT 1 FROM jobs WHERE id = $1", &[&job.id.to_string()])?
                .is_some()
            {
                // Only this notice's link creates this id; a row already there is not ours to touch.
                return Err(settled(format!("job {} exists already", job.id)));
            }
            open_for_active_assignee(tx, &mut job, now)?;
            Ok(Some(job))
        })
    }

    fn record_outcome(
        &self,
        id: Uuid,
        entry: OutcomeEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<NoticeRecord> {
        self.write(|tx| {
            let n = must(tx, id, true)?;
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
                "UPDATE notices SET outcome = $2, outcome_note = $3, outcome_by = $4, outcome_at = $5,
                     next_notice = $6
                 WHERE event_id = $1 AND outcome IS NULL",
                &[
                    &id.to_string(),
                    &entry.outcome.as_str(),
                    &entry.note,
                    &entry.by.map(|b| b.to_string()),
                    &ts(now),
                    &entry.next_notice.map(|b| b.to_string()),
                ],
            )?;
            let n = must(tx, id, false)?;
            Ok(n)
        })
    }
}
