//! Photos processed in the background, and the records that wait for them (issue 15, point 11).
//!
//! Taking a photo only writes the camera's bytes durably to `<files>/intake/` and queues them in
//! `held_actions` (core migration 11); the technician goes on at once. A worker
//! ([`crate::photo_worker`]) turns each queued capture into the stored JPEG and thumbnail without
//! holding the store, then records its `photo_added` event, which names the hash of the file it
//! just wrote and verified. While a job has photos in the queue, every further action on that job
//! is checked at once, against the job as it will stand once the queue is recorded, and held in the
//! same queue: it is recorded, in order, right after the photos before it. Nothing is ever signed
//! that names a file not yet on disk, and the log's order is the order the technician acted in.
//!
//! A crash at any point loses nothing: the queue and the captures are on disk before
//! [`Store::take_photo`] returns, a photo and the actions behind it are recorded (and leave the
//! queue) in one transaction, and the worker picks up whatever is still queued when the app starts
//! again. A capture that cannot be processed (damaged data found only by decoding it) stops its
//! job's queue and is shown as failed, asking for the photo again ([`Store::retake_photo`]).

use super::{Batch, Store, StoredJob, format_time, load_job, parse_time};
use crate::error::{CoreError, Result};
use crate::files::FileStore;
use heatcrew_media::{DecodeLimits, PhotoOptions, prepare_photo_from_reader, sniff};
use heatcrew_protocol::{AttachmentRef, Digest, Event, EventBody, Position};
use heatcrew_rules::checklist::JobContext;
use heatcrew_rules::progress::EventMeta;
use heatcrew_rules::{Localized, RuleError};
use rusqlite::{OptionalExtension, params};
use std::path::PathBuf;
use uuid::Uuid;

/// The migration that creates the queue (core migration 11).
pub(crate) const MIGRATION: &str = r#"
    CREATE TABLE held_actions (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,   -- the order the technician acted in
        job_id    TEXT NOT NULL,
        body      TEXT NOT NULL,     -- EventBody as JSON; a photo's names its capture until processed
        capture   TEXT,              -- a photo's capture file in <files>/intake/, NULL for an action
        state     TEXT NOT NULL CHECK (state IN ('waiting', 'ready', 'held', 'failed')),
        error     TEXT,              -- why it failed, as Localized JSON
        held_at   TEXT NOT NULL
    );
    CREATE INDEX held_actions_job ON held_actions(job_id, id);
"#;

/// Core migration 15: who queued each row (the id of the user signed in then; NULL for rows queued
/// before). Events carry no author: whose records they are follows from where the chain stood at
/// each sign-in. So a row is recorded only while its taker is the phone's user ([`drain`]), and a
/// sign-in first finishes what the previous user left ([`crate::sync::login`]).
pub(crate) const TAKEN_BY_MIGRATION: &str = "ALTER TABLE held_actions ADD COLUMN taken_by TEXT;";

/// The phone's user, as the queue stores them (SQL).
const DEVICE_USER: &str = "(SELECT json_extract(user, '$.id') FROM sync_state)";

/// A queued photo or action as the screens show it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldRow {
    pub id: i64,
    pub job_id: Uuid,
    pub body: EventBody,
    pub capture: Option<String>,
    pub state: HeldState,
    pub error: Option<Localized>,
    pub held_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldState {
    /// A photo still to be processed.
    Waiting,
    /// A photo processed and stored, recorded when the photos before it are.
    Ready,
    /// An action waiting for the photos before it.
    Held,
    /// A photo that could not be processed (or an action the rules refused when its turn came).
    Failed,
}

impl HeldState {
    fn as_str(self) -> &'static str {
        match self {
            HeldState::Waiting => "waiting",
            HeldState::Ready => "ready",
            HeldState::Held => "held",
            HeldState::Failed => "failed",
        }
    }
}

/// One capture to process, with what it needs to be processed away from the store's lock.
#[derive(Debug, Clone)]
pub struct PhotoWork {
    pub id: i64,
    pub capture: PathBuf,
    files: FileStore,
}

impl PhotoWork {
    /// The slow part, run without the store: decode, turn upright, downscale, strip, encode, hash,
    /// and store the photo and its thumbnail durably. Returns the reference the event will carry.
    pub fn process(&self) -> Result<AttachmentRef> {
        let capture = self.files.read_named(&self.capture)?;
        let p = prepare_photo_from_reader(std::io::Cursor::new(capture), &PhotoOptions::default())?;
        let sha = self.files.put(&p.jpeg)?;
        self.files.put_thumbnail(&sha, &p.thumbnail)?;
        // Verified: the event names the file as it now is on disk, read back.
        if Digest::of(&self.files.read(&sha)?) != sha {
            return Err(CoreError::Corrupt(format!(
                "photo {sha} did not read back whole"
            )));
        }
        Ok(crate::photos::attachment_of(&p, sha))
    }
}

fn capture_dir(files: &FileStore) -> PathBuf {
    files.dir().join("intake")
}

impl Store {
    /// Keep a camera photo for `step` of `job_id` and queue it for processing; returns its queue
    /// id at once. Checked now: that the bytes are a picture we read and not too large, and that
    /// the step takes photos (on the job as it will stand once its queue is recorded).
    pub fn take_photo(
        &mut self,
        job_id: Uuid,
        step: &str,
        bytes: &[u8],
        fix: Option<Position>,
    ) -> Result<i64> {
        self.check_theirs(job_id)?;
        let placeholder = capture_ref(bytes, fix)?;
        let body = EventBody::PhotoAdded {
            step: step.to_owned(),
            photo: placeholder,
            caption: String::new(),
        };
        self.check_as_queued(job_id, &body)?;
        let name = Uuid::new_v4().to_string();
        self.files
            .put_named(&capture_dir(&self.files), &name, bytes)?;
        let inserted = self.conn.execute(
            &format!(
                "INSERT INTO held_actions (job_id, body, capture, state, held_at, taken_by)
                 VALUES (?1, ?2, ?3, 'waiting', ?4, {DEVICE_USER})"
            ),
            params![
                job_id.to_string(),
                serde_json::to_string(&body)?,
                name,
                format_time(self.now())
            ],
        );
        if let Err(e) = inserted {
            let _ = std::fs::remove_file(capture_dir(&self.files).join(&name));
            return Err(e.into());
        }
        Ok(self.conn.last_insert_rowid())
    }

    /// Take a failed photo again: the new capture replaces it in the queue, in its place.
    pub fn retake_photo(&mut self, job_id: Uuid, id: i64, bytes: &[u8]) -> Result<()> {
        self.check_theirs(job_id)?;
        let row = self
            .held_row(id)?
            .filter(|r| r.job_id == job_id && r.state == HeldState::Failed && r.capture.is_some())
            .ok_or_else(|| RuleError::InvalidValue {
                field: "retake".into(),
                value: id.to_string(),
            })?;
        let EventBody::PhotoAdded { step, photo, .. } = &row.body else {
            return Err(RuleError::InvalidValue {
                field: "retake".into(),
                value: id.to_string(),
            }
            .into());
        };
        let body = EventBody::PhotoAdded {
            step: step.clone(),
            photo: capture_ref(bytes, photo.gps.clone())?,
            caption: String::new(),
        };
        let name = row.capture.unwrap_or_default();
        self.files
            .put_named(&capture_dir(&self.files), &name, bytes)?;
        self.conn.execute(
            "UPDATE held_actions SET body = ?2, state = 'waiting', error = NULL WHERE id = ?1",
            params![id, serde_json::to_string(&body)?],
        )?;
        Ok(())
    }

    /// Record `body` now, or, while the job has photos in the queue, check it against the job as
    /// it will stand and hold it behind them (`None`: held, recorded once its photos are).
    pub fn record_or_hold(&mut self, job_id: Uuid, body: EventBody) -> Result<Option<Event>> {
        self.check_theirs(job_id)?;
        if self.held_for(job_id)?.is_empty() {
            return self.record(job_id, body).map(Some);
        }
        self.check_as_queued(job_id, &body)?;
        self.conn.execute(
            &format!(
                "INSERT INTO held_actions (job_id, body, capture, state, held_at, taken_by)
                 VALUES (?1, ?2, NULL, 'held', ?3, {DEVICE_USER})"
            ),
            params![
                job_id.to_string(),
                serde_json::to_string(&body)?,
                format_time(self.now())
            ],
        )?;
        Ok(None)
    }

    /// The oldest capture still to process, if any.
    pub fn next_photo_to_process(&self) -> Result<Option<PhotoWork>> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT id, capture FROM held_actions WHERE state = 'waiting' ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.map(|(id, name)| PhotoWork {
            id,
            capture: capture_dir(&self.files).join(name),
            files: self.files.clone(),
        }))
    }

    /// The outcome of [`PhotoWork::process`]: on success, the photo's event is recorded and so is
    /// every action queued behind it up to the next photo not yet processed, in one transaction;
    /// on failure the photo is marked failed (its job's queue stops there) and the capture kept.
    pub fn finish_photo(&mut self, id: i64, outcome: Result<AttachmentRef>) -> Result<Vec<Event>> {
        let Some(row) = self.held_row(id)?.filter(|r| r.state == HeldState::Waiting) else {
            return Ok(Vec::new()); // retaken or finished meanwhile
        };
        let photo = match outcome {
            Ok(photo) => photo,
            Err(e) => {
                let why = Localized::new(e.message(crate::Lang::Zh), e.message(crate::Lang::En));
                self.conn.execute(
                    "UPDATE held_actions SET state = 'failed', error = ?2 WHERE id = ?1",
                    params![id, serde_json::to_string(&why)?],
                )?;
                return Ok(Vec::new());
            }
        };
        let EventBody::PhotoAdded {
            step,
            photo: placeholder,
            caption,
        } = row.body
        else {
            return Err(CoreError::Corrupt(format!(
                "queued photo {id} is not a photo"
            )));
        };
        // The camera's own position (EXIF) stays; else the phone's fix taken with the photo.
        let gps = photo.gps.clone().or(placeholder.gps);
        let body = EventBody::PhotoAdded {
            step,
            photo: AttachmentRef { gps, ..photo },
            caption,
        };
        let job_id = row.job_id;
        let today = self.today();
        let paused = self.held_paused || self.stands_signed_out()?;
        let mut batch = self.begin()?;
        // Its turn comes when every photo taken before it on the job is recorded: photos finish
        // in the order they were taken, but one before it may have failed and wait to be retaken.
        batch.tx.execute(
            "UPDATE held_actions SET state = 'ready', body = ?2 WHERE id = ?1",
            params![id, serde_json::to_string(&body)?],
        )?;
        let (events, captures) = if paused {
            (Vec::new(), Vec::new()) // ready; recorded after the sign-in (`record_held`)
        } else {
            drain(&mut batch, job_id, today)?
        };
        batch.commit()?;
        for name in captures {
            // The event names the processed file; the camera's original is no longer needed.
            let _ = std::fs::remove_file(capture_dir(&self.files).join(name));
        }
        self.recorded(&events);
        Ok(events)
    }

    /// Record every job's processed photos and held actions that wait only for their turn: those
    /// at the head of a queue that the phone's user took. After a sign-in (what the new user, or
    /// the same one, left waiting) and after each pass of the photo worker.
    pub fn record_held(&mut self) -> Result<Vec<Event>> {
        if self.held_paused || self.stands_signed_out()? {
            return Ok(Vec::new());
        }
        let jobs = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT job_id FROM held_actions WHERE state IN ('ready', 'held')",
            )?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let today = self.today();
        let mut batch = self.begin()?;
        let (mut events, mut captures) = (Vec::new(), Vec::new());
        for job in jobs {
            let (e, c) = drain(&mut batch, super::parse_uuid(&job)?, today)?;
            events.extend(e);
            captures.extend(c);
        }
        batch.commit()?;
        for name in captures {
            let _ = std::fs::remove_file(capture_dir(&self.files).join(name));
        }
        self.recorded(&events);
        Ok(events)
    }

    /// While a sign-in names where the chain stands and waits for the office, nothing held is
    /// recorded: it would fall after that point, where the records are the new user's.
    pub fn pause_held(&mut self, paused: bool) {
        self.held_paused = paused;
    }

    /// Delete staged files that no event refers to and are older than `min_age`.
    pub fn remove_orphan_files(&self, min_age: std::time::Duration) -> Result<usize> {
        let referenced: std::collections::HashSet<Digest> = self
            .conn
            .prepare("SELECT sha256 FROM attachments")?
            .query_map([], |r| r.get::<_, String>(0))?
            .filter_map(|s| s.ok()?.parse().ok())
            .collect();
        Ok(self.files.remove_orphans(&referenced, min_age)?)
    }

    /// The job's queue, oldest first (empty when nothing waits).
    pub fn held_for(&self, job_id: Uuid) -> Result<Vec<HeldRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, job_id, body, capture, state, error, held_at FROM held_actions
             WHERE job_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([job_id.to_string()], read_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().collect()
    }

    /// How many photos and actions the phone's user left waiting, in every job's queue (another
    /// user's wait for them, and do not stop this one signing out).
    pub fn held_count(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM held_actions
                 WHERE taken_by IS NULL OR taken_by IS {DEVICE_USER}"
            ),
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// The job as it will stand once its queue is recorded (the queue applied to a copy of its
    /// fold, never stored), with the queue itself.
    pub fn job_as_queued(&self, job_id: Uuid) -> Result<Option<(StoredJob, Vec<HeldRow>)>> {
        let Some(mut job) = load_job(&self.conn, &mut self.folds(), &mut self.job_rows(), job_id)?
        else {
            return Ok(None);
        };
        let held = self.held_for(job_id)?;
        for row in &held {
            let meta = EventMeta {
                id: Uuid::from_u128(row.id as u128),
                seq: u64::MAX,
                at: row.held_at,
            };
            job.progress.apply(meta, &row.body);
        }
        Ok(Some((job, held)))
    }

    fn check_as_queued(&self, job_id: Uuid, body: &EventBody) -> Result<()> {
        let (job, _) = self
            .job_as_queued(job_id)?
            .ok_or(RuleError::UnknownJob(job_id))?;
        JobContext {
            job: &job.job,
            template: job.template()?,
            progress: &job.progress,
            revoked: job.revoked_reason.is_some(),
        }
        .check(body, self.today())?;
        Ok(())
    }

    fn held_row(&self, id: i64) -> Result<Option<HeldRow>> {
        self.conn
            .query_row(
                "SELECT id, job_id, body, capture, state, error, held_at FROM held_actions
                 WHERE id = ?1",
                [id],
                read_row,
            )
            .optional()?
            .transpose()
    }
}

/// Record the processed photos and held actions at the head of the job's queue, in order, up to
/// the next photo not yet processed or the next row another user took. Returns the events and the captures they free.
fn drain(
    batch: &mut Batch<'_>,
    job_id: Uuid,
    today: chrono::NaiveDate,
) -> Result<(Vec<Event>, Vec<String>)> {
    let (mut events, mut captures) = (Vec::new(), Vec::new());
    loop {
        let head: Option<(i64, String, Option<String>, String, bool)> = batch
            .tx
            .prepare_cached(&format!(
                "SELECT id, body, capture, state, taken_by IS NULL OR taken_by IS {DEVICE_USER}
                 FROM held_actions WHERE job_id = ?1 ORDER BY id LIMIT 1"
            ))?
            .query_row([job_id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let Some((id, body, capture, state, theirs)) = head else {
            break;
        };
        if state != HeldState::Held.as_str() && state != HeldState::Ready.as_str() {
            break;
        }
        // Another user's (the phone changed hands before it was finished): it waits for them,
        // and what was queued after it on the job waits behind it.
        if !theirs {
            break;
        }
        let body: EventBody = serde_json::from_str(&body)?;
        match batch.check(job_id, &body, today) {
            Ok(()) => {
                events.push(batch.append(job_id, &body)?);
                batch
                    .tx
                    .execute("DELETE FROM held_actions WHERE id = ?1", [id])?;
                captures.extend(capture);
            }
            // The rules changed under it (the office took the job back): shown, never dropped.
            Err(e) => {
                fail_row(batch, id, &e)?;
                break;
            }
        }
    }
    Ok((events, captures))
}

fn fail_row(batch: &Batch<'_>, id: i64, e: &CoreError) -> Result<()> {
    let why = Localized::new(e.message(crate::Lang::Zh), e.message(crate::Lang::En));
    batch.tx.execute(
        "UPDATE held_actions SET state = 'failed', error = ?2 WHERE id = ?1",
        params![id, serde_json::to_string(&why)?],
    )?;
    Ok(())
}

/// What a capture stands for until it is processed: its own hash, never signed (the event is
/// recorded with the processed file's), checked to be a picture we read and within the limits.
fn capture_ref(bytes: &[u8], fix: Option<Position>) -> Result<AttachmentRef> {
    sniff(bytes)?;
    let limits = DecodeLimits::default();
    if bytes.len() as u64 > limits.max_input_bytes {
        return Err(heatcrew_media::MediaError::TooLarge {
            bytes: bytes.len() as u64,
            max_bytes: limits.max_input_bytes,
        }
        .into());
    }
    Ok(AttachmentRef {
        sha256: Digest::of(bytes),
        bytes: bytes.len() as u64,
        mime: "image/jpeg".into(),
        width: 0,
        height: 0,
        taken_at: None,
        gps: fix,
    })
}

type RawRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
);

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<HeldRow>> {
    let raw: RawRow = (
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    );
    Ok(parse_row(raw))
}

fn parse_row((id, job, body, capture, state, error, at): RawRow) -> Result<HeldRow> {
    Ok(HeldRow {
        id,
        job_id: super::parse_uuid(&job)?,
        body: serde_json::from_str(&body)?,
        capture,
        state: match state.as_str() {
            "waiting" => HeldState::Waiting,
            "ready" => HeldState::Ready,
            "held" => HeldState::Held,
            _ => HeldState::Failed,
        },
        error: error.map(|e| serde_json::from_str(&e)).transpose()?,
        held_at: parse_time(&at)?,
    })
}
