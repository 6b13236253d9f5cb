//! The device store: one SQLite file holding the signed event log, its outbox, and the projections.
//!
//! Every user action is one immediate transaction that checks the job's rules, appends one signed
//! event, queues it in the outbox and updates the job's projection. With WAL and
//! `synchronous=FULL`, once [`Store::record`] returns the action survives a crash or power loss.

use crate::cipher;
use crate::error::Result;
use crate::files::{FileKey, FileStore};
use crate::keys::{self, KeyError, KeyVault};
use crate::migrations;
use chrono::{DateTime, Local, NaiveDate, SubsecRound, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use heatcrew_protocol::{ChainTip, Event, EventBody, Format, Job, UnsignedEvent};
use heatcrew_rules::RuleError;
use heatcrew_rules::checklist::JobContext;
use heatcrew_rules::progress::JobProgress;
use heatcrew_rules::template::{self, Template};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use uuid::Uuid;

mod corrections;
mod device_key;
mod intake;
mod job_rows;
mod outbox;
mod projection;
mod rows;

use job_rows::{JobRow, JobRows, load_job};
pub(crate) use projection::project;
use projection::{Folds, Touched};
pub(crate) use rows::{digest_from, format_time, parse_time, parse_uuid, read_events};

pub use corrections::JobRecord;
use device_key::{move_key_to_vault, wipe_free_space};
pub(crate) use intake::MIGRATION as INTAKE_MIGRATION;
pub(crate) use intake::TAKEN_BY_MIGRATION;
pub use intake::{HeldRow, HeldState, PhotoWork};

pub(crate) use outbox::requeue_unanswered_pushes;
pub use outbox::{OutboxEntry, OutboxState};

/// Where the store gets "now" from. Tests and the simulator pass their own.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Staged files younger than this are kept even if no event refers to them yet.
const ORPHAN_MIN_AGE: Duration = Duration::from_secs(24 * 3600);

/// Where a job came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Office,
    Device,
}

/// A job on the device with everything recorded on it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredJob {
    pub job: Job,
    pub origin: Origin,
    pub revoked_reason: Option<String>,
    pub progress: JobProgress,
}

impl StoredJob {
    pub fn template(&self) -> Result<&'static Template, RuleError> {
        template::for_job(&self.job)
    }
}

/// Called with the events of each committed action (to wake the sync loop, refresh the UI).
pub type RecordedHook = Box<dyn FnMut(&[Event]) + Send>;

/// The device's signed event log and projections.
pub struct Store {
    on_recorded: Option<RecordedHook>,
    conn: Connection,
    vault: Arc<dyn KeyVault>,
    path: PathBuf,
    files: FileStore,
    key: SigningKey,
    device_id: Uuid,
    tip: ChainTip,
    clock: Clock,
    started: Instant,
    elapsed_base: u64,
    /// Each job's events folded, kept between actions (`projection`).
    folds: Mutex<Folds>,
    /// Each job's row parsed, kept between actions (`job_rows`).
    job_rows: Mutex<JobRows>,
    /// A sign-in is naming where the chain stands: nothing held is recorded meanwhile (`intake`).
    held_paused: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("device_id", &self.device_id)
            .field("tip", &self.tip)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Open (or create) the store at `path`, with photos in `<path>.files/`.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with_clock(path, system_clock())
    }

    pub fn open_with_clock(path: impl AsRef<Path>, clock: Clock) -> Result<Store> {
        let vault = keys::default_vault(path.as_ref());
        Store::open_with_vault(path, clock, Arc::from(vault))
    }

    /// Open (or create) the store at `path`, its signing key, its encryption key and the session's
    /// tokens in `vault`. A plain database (written before encryption) is encrypted in place
    /// first ([`cipher::open`]); one written before keys left it has its key moved to the vault
    /// and the bytes it occupied overwritten; one written before tokens left it has them moved.
    pub fn open_with_vault(
        path: impl AsRef<Path>,
        clock: Clock,
        vault: Arc<dyn KeyVault>,
    ) -> Result<Store> {
        // OpenSSL (SQLCipher's page crypto) frees its locks in an exit handler; the background
        // sync loop may still be committing then, and crashed on a freed lock (seen in the app's
        // IPC tests). Initialised first, without that handler (`OPENSSL_INIT_NO_ATEXIT`).
        #[cfg(not(target_os = "ios"))]
        openssl_sys::init();
        let path = path.as_ref().to_path_buf();
        let mut conn = cipher::open(&path, vault.as_ref())?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let secrets_inside = (1..migrations::TOKENS_OUT).contains(&found);
        if secrets_inside {
            // Freed pages and cells are zeroed, not just unlinked, while the key and token
            // columns go.
            conn.pragma_update(None, "secure_delete", "ON")?;
        }
        migrations::run(&mut conn, &mut |tx, version| {
            if version == migrations::KEYS_OUT {
                move_key_to_vault(tx, vault.as_ref())?;
            }
            if version == migrations::TOKENS_OUT {
                crate::sync::tokens::move_to_vault(tx, vault.as_ref())?;
            }
            Ok(())
        })?;
        if secrets_inside {
            wipe_free_space(&conn)?;
        }

        let existing = conn
            .query_row(
                "SELECT device_id, public_key, last_seq, last_hash FROM device",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<Vec<u8>>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Vec<u8>>(3)?,
                    ))
                },
            )
            .optional()?;
        let (device_id, key, tip) = match existing {
            Some((id, public, seq, hash)) => {
                let device_id = parse_uuid(&id)?;
                let key = vault.load(device_id)?.ok_or_else(|| KeyError::Missing {
                    device_id,
                    location: vault.location(),
                })?;
                if public.as_deref() != Some(key.verifying_key().as_bytes().as_slice()) {
                    return Err(KeyError::Conflict {
                        device_id,
                        location: vault.location(),
                    }
                    .into());
                }
                (
                    device_id,
                    key,
                    ChainTip {
                        seq: seq as u64,
                        hash: digest_from(&hash)?,
                    },
                )
            }
            None => {
                // First start: create the device identity, its key in the vault before the
                // database names the device.
                let key = SigningKey::generate(&mut rand::rngs::OsRng);
                let id = Uuid::now_v7();
                vault.store(id, &key)?;
                conn.execute(
                    "INSERT INTO device (singleton, device_id, public_key, created_at) VALUES (1, ?1, ?2, ?3)",
                    params![
                        id.to_string(),
                        key.verifying_key().as_bytes().to_vec(),
                        clock().to_rfc3339()
                    ],
                )?;
                (id, key, ChainTip::START)
            }
        };
        let elapsed_base: u64 = conn
            .query_row("SELECT IFNULL(MAX(elapsed_ms), 0) FROM events", [], |r| {
                r.get::<_, i64>(0)
            })?
            .try_into()
            .unwrap_or(0);
        // Pushes that were in flight when the app stopped are simply retried.
        requeue_unanswered_pushes(&conn)?;

        let mut files_dir = path.clone().into_os_string();
        files_dir.push(".files");
        // Photos and signatures are sealed with a key derived from the database key, which
        // cipher::open has just made sure is in the vault.
        let database_key = cipher::load_key(vault.as_ref())?.ok_or_else(|| {
            crate::error::CoreError::Corrupt("the database key left the vault while opening".into())
        })?;
        let files = FileStore::open(PathBuf::from(files_dir), FileKey::derive(&*database_key))?;
        files.seal_plain_files()?;
        let store = Store {
            on_recorded: None,
            conn,
            vault,
            path,
            files,
            key,
            device_id,
            tip,
            clock,
            started: Instant::now(),
            elapsed_base,
            folds: Mutex::default(),
            job_rows: Mutex::default(),
            held_paused: false,
        };
        store.remove_orphan_files(ORPHAN_MIN_AGE)?;
        Ok(store)
    }

    /// Be told of every action after it committed.
    pub fn on_recorded(&mut self, hook: RecordedHook) {
        self.on_recorded = Some(hook);
    }

    fn recorded(&mut self, events: &[Event]) {
        if let Some(hook) = self.on_recorded.as_mut() {
            hook(events);
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn files(&self) -> &FileStore {
        &self.files
    }

    pub fn tip(&self) -> ChainTip {
        self.tip
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The local date, for deadlines: the device clock corrected by the office's
    /// ([`Store::office_now`], `crate::clock`).
    pub fn today(&self) -> NaiveDate {
        self.office_now().with_timezone(&Local).date_naive()
    }

    /// The raw connection, for queries the store does not wrap (read-only use, please).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Where this store's keys and tokens are kept.
    pub(crate) fn vault(&self) -> &dyn KeyVault {
        self.vault.as_ref()
    }

    pub(crate) fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Check `body` against the job's rules and, if it passes, record it durably.
    pub fn record(&mut self, job_id: Uuid, body: EventBody) -> Result<Event> {
        let mut batch = self.begin()?;
        let today = batch.today();
        batch.check(job_id, &body, today)?;
        let event = batch.append(job_id, &body)?;
        batch.commit()?;
        self.recorded(std::slice::from_ref(&event));
        Ok(event)
    }

    /// Check and record several actions on one job in one transaction, each against the job as
    /// the ones before it left it: one refusal records none of them (not home, then closed).
    pub fn record_all(&mut self, job_id: Uuid, bodies: Vec<EventBody>) -> Result<Vec<Event>> {
        let mut batch = self.begin()?;
        let today = batch.today();
        let mut events = Vec::with_capacity(bodies.len());
        for body in bodies {
            let job = batch.job(job_id)?.ok_or(RuleError::UnknownJob(job_id))?;
            JobContext {
                job: &job.job,
                template: job.template()?,
                progress: &job.progress,
                revoked: job.revoked_reason.is_some(),
            }
            .check(&body, today)?;
            events.push(batch.append(job_id, &body)?);
        }
        batch.commit()?;
        self.recorded(&events);
        Ok(events)
    }

    /// Create a job on the device (an urgent accident report, an emergency) and record its first
    /// actions, all in one transaction.
    pub fn create_job(&mut self, job: Job, then: Vec<EventBody>) -> Result<Vec<Event>> {
        template::for_job(&job)?;
        // Only what the field may open (an emergency reported now); the office refuses the rest.
        heatcrew_rules::field_jobs::check(&job, self.now())?;
        let job_id = job.id;
        let mut batch = self.begin()?;
        let today = batch.today();
        if job_row(&batch.tx, job_id)?.is_some() {
            return Err(RuleError::InvalidValue {
                field: "job".into(),
                value: "already exists".into(),
            }
            .into());
        }
        let mut events = vec![batch.append(job_id, &EventBody::JobCreated { job })?];
        for body in then {
            batch.check(job_id, &body, today)?;
            events.push(batch.append(job_id, &body)?);
        }
        batch.commit()?;
        self.recorded(&events);
        Ok(events)
    }

    /// The monotonic milliseconds a record made now carries (`UnsignedEvent::elapsed_ms`).
    pub fn elapsed_ms(&self) -> u64 {
        self.elapsed_base + self.started.elapsed().as_millis() as u64
    }

    fn begin(&mut self) -> Result<Batch<'_>> {
        let now = self.now().trunc_subsecs(3);
        let elapsed_ms = self.elapsed_ms();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(Batch {
            tx,
            touched: Touched::new(self.folds.get_mut().unwrap_or_else(PoisonError::into_inner)),
            job_rows: self
                .job_rows
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
            key: &self.key,
            device_id: self.device_id,
            files: &self.files,
            tip: self.tip,
            committed_tip: &mut self.tip,
            now,
            elapsed_ms,
        })
    }

    /// A job and everything recorded on it.
    pub fn job(&self, job_id: Uuid) -> Result<Option<StoredJob>> {
        load_job(&self.conn, &mut self.folds(), &mut self.job_rows(), job_id)
    }

    /// The cached job rows (started over if a panic interrupted a use of them).
    fn job_rows(&self) -> std::sync::MutexGuard<'_, JobRows> {
        self.job_rows.lock().unwrap_or_else(|poisoned| {
            let mut rows = poisoned.into_inner();
            rows.clear();
            self.job_rows.clear_poison();
            rows
        })
    }

    /// The cached folds (started over if a panic interrupted a use of them).
    fn folds(&self) -> std::sync::MutexGuard<'_, Folds> {
        self.folds.lock().unwrap_or_else(|poisoned| {
            let mut folds = poisoned.into_inner();
            folds.clear();
            self.folds.clear_poison();
            folds
        })
    }

    /// Every job on the device, in a stable order (appointment start, then id).
    pub fn jobs(&self) -> Result<Vec<StoredJob>> {
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT job_id FROM jobs")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut jobs = Vec::with_capacity(ids.len());
        let mut folds = self.folds();
        let mut rows = self.job_rows();
        for id in ids {
            if let Some(j) = load_job(&self.conn, &mut folds, &mut rows, parse_uuid(&id)?)? {
                jobs.push(j);
            }
        }
        jobs.sort_by_key(|j| (j.job.window.map(|w| w.start), j.job.id));
        Ok(jobs)
    }

    /// All events in `device_seq` order.
    pub fn events(&self) -> Result<Vec<Event>> {
        self.events_after(0, usize::MAX)
    }

    /// Up to `limit` events after `seq`.
    pub fn events_after(&self, seq: u64, limit: usize) -> Result<Vec<Event>> {
        read_events(&self.conn, self.device_id, seq, limit, true)
    }

    /// Rebuild every projection from the event log (after an upgrade, or to check them).
    pub fn rebuild_projections(&mut self) -> Result<()> {
        let events = self.events()?;
        let tx = self.conn.transaction()?;
        projection::rebuild(&tx, &events)?;
        tx.commit()?;
        self.folds
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        Ok(())
    }

    /// The projections as the database holds them (each job's checkpoint and the events after
    /// it, read afresh), as rows (job id, fold as JSON, newest event folded in), for comparing a
    /// rebuild with the live state.
    pub fn projection_rows(&self) -> Result<Vec<(String, String, i64)>> {
        projection::rows(&self.conn)
    }

    /// Insert or replace a job dispatched by the office.
    pub fn upsert_office_job(tx: &Transaction<'_>, job: &Job) -> Result<()> {
        tx.execute(
            "INSERT INTO jobs (job_id, origin, job, revoked_reason) VALUES (?1, 'office', ?2, NULL)
             ON CONFLICT(job_id) DO UPDATE SET job = excluded.job, revoked_reason = NULL
             WHERE jobs.origin = 'office'",
            params![job.id.to_string(), serde_json::to_string(job)?],
        )?;
        Ok(())
    }

    /// Put a job on the device as if dispatched (the simulator and the demo use this offline).
    pub fn add_office_job(&mut self, job: &Job) -> Result<()> {
        let tx = self.conn.transaction()?;
        Store::upsert_office_job(&tx, job)?;
        tx.commit()?;
        Ok(())
    }
}

/// One open transaction that appends events and keeps the chain tip.
struct Batch<'s> {
    tx: Transaction<'s>,
    /// The cached folds, and which of them this transaction changed.
    touched: Touched<'s>,
    /// The cached job rows (checked against the database on every use).
    job_rows: &'s mut JobRows,
    key: &'s SigningKey,
    device_id: Uuid,
    files: &'s FileStore,
    tip: ChainTip,
    committed_tip: &'s mut ChainTip,
    now: DateTime<Utc>,
    elapsed_ms: u64,
}

impl Batch<'_> {
    /// The local date for the rules, as [`Store::today`] gives it (the device clock corrected by
    /// the office's offset), read inside the transaction: reading it before would cost a read
    /// transaction of its own, with its locks, on every action.
    fn today(&self) -> NaiveDate {
        let offset: i64 = self
            .tx
            .prepare_cached("SELECT clock_offset_ms FROM sync_state")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .unwrap_or(0);
        (self.now + chrono::Duration::milliseconds(offset))
            .with_timezone(&Local)
            .date_naive()
    }

    /// A job and everything recorded on it so far in this transaction.
    fn job(&mut self, job_id: Uuid) -> Result<Option<StoredJob>> {
        load_job(&self.tx, self.touched.folds, self.job_rows, job_id)
    }

    /// Check `body` against the job's rules, on the job as this transaction sees it (the cached
    /// fold, borrowed: nothing is copied or parsed that grows with the job).
    fn check(&mut self, job_id: Uuid, body: &EventBody, today: NaiveDate) -> Result<()> {
        // A correction names an earlier record of this job: read it before the fold is borrowed.
        let original = match body {
            EventBody::Correction { corrects, .. } => Some(self.job_event(job_id, *corrects)?),
            _ => None,
        };
        let row = self
            .job_rows
            .get(&self.tx, job_id)?
            .ok_or(RuleError::UnknownJob(job_id))?;
        let template = template::for_job(&row.job)?;
        let fold = self.touched.current(&self.tx, job_id)?;
        let ctx = JobContext {
            job: &row.job,
            template,
            progress: &fold.progress,
            revoked: row.revoked_reason.is_some(),
        };
        ctx.check(body, today)?;
        // A correction's values must fit the record it names (the rules read the original).
        if let EventBody::Correction { replacement, .. } = body {
            let original = original.flatten().ok_or(RuleError::BadCorrection)?;
            ctx.check_correction(&original, replacement.as_ref())?;
        }
        Ok(())
    }

    fn append(&mut self, job_id: Uuid, body: &EventBody) -> Result<Event> {
        // No row without its file: every referenced attachment must already be stored.
        for a in body.attachments() {
            if !self.files.contains(&a.sha256) {
                return Err(RuleError::EvidenceMissing {
                    step: "attachment".into(),
                    what_zh: format!("照片文件 {}", &a.sha256.to_hex()[..8]),
                    what_en: format!("the photo file {}", &a.sha256.to_hex()[..8]),
                }
                .into());
            }
        }
        let (kind, payload) = body.to_parts();
        let event = UnsignedEvent {
            id: Uuid::now_v7(),
            device_id: self.device_id,
            device_seq: self.tip.seq + 1,
            job_id,
            kind,
            payload,
            recorded_at: self.now,
            elapsed_ms: self.elapsed_ms,
            prev_hash: self.tip.hash,
            format: Format::CURRENT,
        };
        // Never seal a number that a verifier in another language could read differently.
        event
            .check_payload()
            .map_err(|fault| RuleError::InvalidValue {
                field: event.kind.clone(),
                value: fault.to_string(),
            })?;
        // The office refuses what is out of range (heatcrew_protocol::bounds); so does the device,
        // before anything is recorded, so the user learns it now (a wrong clock, an absurd value).
        heatcrew_protocol::bounds::check_envelope(&event).map_err(RuleError::from)?;
        heatcrew_protocol::bounds::check_body(body).map_err(RuleError::from)?;
        let event = event.seal(self.key);
        let seq = event.seq() as i64;
        self.tx
            .prepare_cached(
                "INSERT INTO events (seq, id, job_id, kind, payload, recorded_at, elapsed_ms, prev_hash, hash, sig, format)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                seq,
                event.unsigned.id.to_string(),
                job_id.to_string(),
                event.unsigned.kind,
                serde_json::to_string(&event.unsigned.payload)?,
                format_time(event.unsigned.recorded_at),
                event.unsigned.elapsed_ms as i64,
                event.unsigned.prev_hash.0.to_vec(),
                event.hash.0.to_vec(),
                event.sig.to_vec(),
                event.unsigned.format.number(),
            ])?;
        // It waits in the outbox by being after the office's answered prefix: no row of its own.
        if body.is_urgent() {
            outbox::mark_urgent(&self.tx, seq)?;
        }
        for a in body.attachments() {
            self.tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO attachments (sha256, bytes, mime, first_seq) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![a.sha256.to_hex(), a.bytes as i64, a.mime, seq])?;
        }
        projection::fold_in(&self.tx, &mut self.touched, &event, body)?;
        self.tip = ChainTip {
            seq: event.seq(),
            hash: event.hash,
        };
        self.tx
            .prepare_cached("UPDATE device SET last_seq = ?1, last_hash = ?2")?
            .execute(params![seq, event.hash.0.to_vec()])?;
        Ok(event)
    }

    fn commit(self) -> Result<()> {
        let Batch {
            tx,
            touched,
            tip,
            committed_tip,
            ..
        } = self;
        tx.commit()?;
        touched.committed();
        *committed_tip = tip;
        Ok(())
    }
}

/// A row of `jobs`, read and parsed afresh (where a job is looked up once).
fn job_row(conn: &Connection, job_id: Uuid) -> Result<Option<JobRow>> {
    let row = conn
        .prepare_cached("SELECT job, origin, revoked_reason FROM jobs WHERE job_id = ?1")?
        .query_row([job_id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .optional()?;
    let Some((job, origin, revoked_reason)) = row else {
        return Ok(None);
    };
    Ok(Some(JobRow {
        job: serde_json::from_str(&job)?,
        origin: if origin == "device" {
            Origin::Device
        } else {
            Origin::Office
        },
        revoked_reason,
    }))
}
