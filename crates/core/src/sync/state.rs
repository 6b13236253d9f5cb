//! What the device remembers about syncing, kept in the same SQLite file as the events (the
//! session's tokens excepted: they are in the key vault, `sync/tokens.rs`): who is signed in, the
//! pull cursor (applied in the same transaction as its page), outbox states and attachment upload
//! progress.

use super::evidence::{EvidenceProblem, keep_tree_head};
use super::tokens;
use crate::error::{CoreError, Result};
use crate::store::{OutboxState, Store, format_time, parse_time};
use chrono::{DateTime, Utc};
use heatcrew_protocol::sync::{ChangeKind, PullResponse, PushOutcome, PushResult, UserInfo};
use heatcrew_protocol::{Digest, Event, OutageNotice};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// A signed-in session with the office.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub office_url: String,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub user: UserInfo,
    pub device_code: String,
}

/// A photo or signature the office does not have yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAttachment {
    pub sha256: Digest,
    pub bytes: u64,
    pub mime: String,
    pub uploaded_bytes: u64,
    /// It belongs to a job with an urgent record (an accident report): it goes first.
    pub urgent: bool,
}

/// How much is waiting, for the sync badge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    pub queued: u64,
    pub rejected: u64,
    pub oldest_pending_at: Option<DateTime<Utc>>,
    pub attachments: u64,
    pub attachment_bytes: u64,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Office clock minus device clock, from the last answer.
    pub clock_offset_ms: i64,
}

impl Store {
    /// The signed-in session: who and where from the database, the tokens from the key vault.
    pub fn session(&self) -> Result<Option<Session>> {
        let row = self
            .connection()
            .query_row(
                "SELECT office_url, user, device_code FROM sync_state
                 WHERE office_url IS NOT NULL AND user IS NOT NULL AND device_code IS NOT NULL",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((office_url, user, device_code)) = row else {
            return Ok(None);
        };
        let user: UserInfo = serde_json::from_str(&user)?;
        let Some(tokens) = tokens::load(self.vault())? else {
            return Ok(None);
        };
        if tokens.user_id != user.id {
            // A sign-in stopped between its two writes: these tokens are not this user's.
            return Ok(None);
        }
        Ok(Some(Session {
            office_url,
            access_token: tokens.access_token.clone(),
            access_expires_at: tokens.access_expires_at,
            refresh_token: tokens.refresh_token.clone(),
            user,
            device_code,
        }))
    }

    /// Remember a session: its tokens in the key vault, who and where in the database. Signing in
    /// as someone else starts their job list afresh (the pull cursor resets) but never touches the
    /// unsynced records.
    pub fn save_session(&mut self, s: &Session) -> Result<()> {
        let previous_user: Option<String> =
            self.connection()
                .query_row("SELECT user FROM sync_state", [], |r| r.get(0))?;
        let same_user = previous_user
            .and_then(|u| serde_json::from_str::<UserInfo>(&u).ok())
            .is_some_and(|u| u.id == s.user.id);
        tokens::store(
            self.vault(),
            &tokens::Tokens {
                user_id: s.user.id,
                access_token: s.access_token.clone(),
                access_expires_at: s.access_expires_at,
                refresh_token: s.refresh_token.clone(),
            },
        )?;
        self.connection().execute(
            "UPDATE sync_state SET office_url = ?1, user = ?2, device_code = ?3,
                 cursor = CASE WHEN ?4 THEN cursor ELSE 0 END",
            params![
                s.office_url,
                serde_json::to_string(&s.user)?,
                s.device_code,
                same_user
            ],
        )?;
        Ok(())
    }

    /// Forget the tokens. Jobs, events and the outbox stay: unsynced records go up at next sign-in.
    pub fn sign_out(&mut self) -> Result<()> {
        tokens::forget(self.vault())
    }

    pub fn pull_cursor(&self) -> Result<u64> {
        let c: i64 = self
            .connection()
            .query_row("SELECT cursor FROM sync_state", [], |r| r.get(0))?;
        Ok(c as u64)
    }

    /// Apply a pulled page, its cursor and its tree head in one transaction. Returns what was
    /// wrong with the tree head, if anything (a refused one is not kept).
    pub fn apply_pull(&mut self, page: &PullResponse) -> Result<Vec<EvidenceProblem>> {
        let now = format_time(self.now());
        let tx = self.connection_mut().transaction()?;
        let problems = match &page.tree_head {
            Some(head) => keep_tree_head(&tx, head, &now)?,
            None => Vec::new(),
        };
        for change in &page.changes {
            match &change.change {
                ChangeKind::JobUpserted { job } => Store::upsert_office_job(&tx, job)?,
                ChangeKind::JobRevoked { job_id, reason } => {
                    tx.execute(
                        "UPDATE jobs SET revoked_reason = ?2 WHERE job_id = ?1 AND origin = 'office'",
                        params![job_id.to_string(), reason],
                    )?;
                }
                ChangeKind::OutageUpserted { notice } => {
                    tx.execute(
                        "INSERT INTO outages (id, notice) VALUES (?1, ?2)
                         ON CONFLICT(id) DO UPDATE SET notice = excluded.notice",
                        params![notice.id.to_string(), serde_json::to_string(notice)?],
                    )?;
                }
                ChangeKind::OutageCleared { id } => {
                    tx.execute("DELETE FROM outages WHERE id = ?1", [id.to_string()])?;
                }
            }
        }
        // The office's acknowledgements of urgent records: kept by event id, so a repeat (every
        // page carries the newest) changes nothing.
        for ack in &page.acknowledgements {
            tx.execute(
                "INSERT INTO office_acks (event_id, job_id, acknowledged_by, acknowledged_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(event_id) DO UPDATE SET acknowledged_by = excluded.acknowledged_by,
                     acknowledged_at = excluded.acknowledged_at",
                params![
                    ack.event_id.to_string(),
                    ack.job_id.to_string(),
                    ack.acknowledged_by,
                    format_time(ack.acknowledged_at)
                ],
            )?;
        }
        if let Some(company) = &page.company {
            Store::keep_company_profile(&tx, company, &now)?;
        }
        tx.execute(
            "UPDATE sync_state SET cursor = ?1",
            [page.next_cursor as i64],
        )?;
        tx.commit()?;
        Ok(problems)
    }

    /// The office's acknowledgements of a job's urgent records, oldest first.
    pub fn office_acks(&self, job_id: uuid::Uuid) -> Result<Vec<crate::views::OfficeAckView>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT event_id, acknowledged_by, acknowledged_at FROM office_acks
             WHERE job_id = ?1 ORDER BY acknowledged_at",
        )?;
        let rows = stmt.query_map([job_id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (id, by, at) = r?;
            Ok(crate::views::OfficeAckView {
                event_id: crate::store::parse_uuid(&id)?,
                acknowledged_by: by,
                acknowledged_at: parse_time(&at)?,
            })
        })
        .collect()
    }

    pub fn outages(&self) -> Result<Vec<OutageNotice>> {
        let mut stmt = self.connection().prepare("SELECT notice FROM outages")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out: Vec<OutageNotice> = rows
            .map(|r| Ok(serde_json::from_str(&r?)?))
            .collect::<Result<_>>()?;
        out.sort_by_key(|o| o.starts_at);
        Ok(out)
    }

    /// The next events to push, in sequence order: everything not yet acknowledged or rejected,
    /// up to `max_events` and about `max_bytes` of JSON.
    pub fn pending_push(&self, max_events: usize, max_bytes: usize) -> Result<Vec<Event>> {
        self.pending_push_through(max_events, max_bytes, u64::MAX)
    }

    /// [`Store::pending_push`], but none after `last_seq`: the chain prefix that must reach the
    /// office with an urgent record (the office takes `device_seq == last + 1` only).
    pub fn pending_push_through(
        &self,
        max_events: usize,
        max_bytes: usize,
        last_seq: u64,
    ) -> Result<Vec<Event>> {
        // Everything after the answered prefix waits (crate::store::outbox).
        let acked: Option<i64> = self
            .connection()
            .query_row(
                "SELECT acked_through FROM sync_state
                 WHERE acked_through < (SELECT IFNULL(MAX(seq), 0) FROM events)",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let Some(acked) = acked else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut bytes = 0;
        let first = acked.max(0) as u64 + 1;
        if first > last_seq {
            return Ok(Vec::new());
        }
        let max_events =
            max_events.min(usize::try_from(last_seq - first + 1).unwrap_or(usize::MAX));
        for e in self.events_after(first - 1, max_events)? {
            let size = e.unsigned.payload.to_string().len() + 400;
            if !out.is_empty() && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            out.push(e);
        }
        Ok(out)
    }

    /// The office's answer to a push.
    pub fn apply_push(&mut self, results: &[PushResult]) -> Result<()> {
        let updates: Vec<_> = results
            .iter()
            .map(|r| match &r.outcome {
                PushOutcome::Accepted | PushOutcome::Duplicate => {
                    (r.device_seq, OutboxState::Acknowledged, None)
                }
                PushOutcome::Rejected { code, reason } => (
                    r.device_seq,
                    OutboxState::Rejected,
                    Some(format!("{code}: {reason}")),
                ),
            })
            .collect();
        self.set_outbox_state(&updates)
    }

    /// Mark events as being pushed (the UI shows them uploading) or back to queued.
    pub fn mark_outbox(&mut self, seqs: &[u64], state: OutboxState) -> Result<()> {
        let updates: Vec<_> = seqs.iter().map(|s| (*s, state, None)).collect();
        self.set_outbox_state(&updates)
    }

    /// Files whose events the office has acknowledged but whose bytes it does not have yet.
    /// Records go first: a photo never waits in front of a record. The photos of a job with an
    /// urgent record (the accident's job) go before every other photo; then in record order.
    pub fn pending_attachments(&self) -> Result<Vec<PendingAttachment>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT a.sha256, a.bytes, a.mime, a.uploaded_bytes,
                    e.job_id IN (SELECT ue.job_id FROM urgent_events u JOIN events ue ON ue.seq = u.seq)
                        AS urgent
             FROM attachments a
             JOIN events e ON e.seq = a.first_seq
             WHERE a.uploaded = 0
               AND a.first_seq <= (SELECT acked_through FROM sync_state)
               AND a.first_seq NOT IN (SELECT seq FROM outbox_rejected)
             ORDER BY urgent DESC, a.first_seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        rows.map(|r| {
            let (sha, bytes, mime, uploaded, urgent) = r?;
            Ok(PendingAttachment {
                sha256: sha
                    .parse()
                    .map_err(|_| CoreError::Corrupt(format!("attachment {sha}")))?,
                bytes: bytes as u64,
                mime,
                uploaded_bytes: uploaded as u64,
                urgent,
            })
        })
        .collect()
    }

    pub fn set_attachment_progress(
        &mut self,
        sha: &Digest,
        uploaded_bytes: u64,
        complete: bool,
    ) -> Result<()> {
        self.connection().execute(
            "UPDATE attachments SET uploaded_bytes = ?2, uploaded = ?3 WHERE sha256 = ?1",
            params![sha.to_hex(), uploaded_bytes as i64, complete],
        )?;
        Ok(())
    }

    /// Remember the office's clock from an answer (the offset corrects SLA clocks).
    pub fn note_server_time(&mut self, server_time: Option<DateTime<Utc>>) -> Result<()> {
        if let Some(t) = server_time {
            let offset = (t - self.now()).num_milliseconds();
            self.connection()
                .execute("UPDATE sync_state SET clock_offset_ms = ?1", [offset])?;
        }
        Ok(())
    }

    /// Remember how a sync pass ended.
    pub fn note_sync_result(&mut self, error: Option<String>) -> Result<()> {
        let now = format_time(self.now());
        self.connection().execute(
            "UPDATE sync_state SET last_error = ?2,
                 last_sync_at = CASE WHEN ?2 IS NULL THEN ?1 ELSE last_sync_at END",
            params![now, error],
        )?;
        Ok(())
    }

    pub fn backlog(&self) -> Result<Backlog> {
        let conn = self.connection();
        let (queued, rejected, oldest): (i64, i64, Option<String>) = conn.query_row(
            "SELECT
                 MAX((SELECT IFNULL(MAX(seq), 0) FROM events) - s.acked_through, 0),
                 (SELECT COUNT(*) FROM outbox_rejected),
                 (SELECT recorded_at FROM events WHERE seq = s.acked_through + 1)
             FROM sync_state s",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let (attachments, attachment_bytes): (i64, i64) = conn.query_row(
            "SELECT COUNT(*), IFNULL(SUM(bytes - uploaded_bytes), 0) FROM attachments WHERE uploaded = 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (last_sync_at, last_error, clock_offset_ms): (Option<String>, Option<String>, i64) =
            conn.query_row(
                "SELECT last_sync_at, last_error, clock_offset_ms FROM sync_state",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
        Ok(Backlog {
            queued: queued as u64,
            rejected: rejected as u64,
            oldest_pending_at: oldest.as_deref().map(parse_time).transpose()?,
            attachments: attachments as u64,
            attachment_bytes: attachment_bytes as u64,
            last_sync_at: last_sync_at.as_deref().map(parse_time).transpose()?,
            last_error,
            clock_offset_ms,
        })
    }
}
