//! The sync client: pushes the outbox to the office in sequence order, uploads photos after their
//! records, pulls dispatched work, and keeps trying with backoff when the network or the office
//! fails. Urgent records (accident reports) go first: the chain up to the last one as its own
//! batch, then its job's photos, then the rest of the records, then every other photo; one recorded
//! while photos are uploading goes up before the next photo (docs/design.md, "Sync order"). Modelled as data so it can be reasoned about: the outbox says what is pending, the office
//! answers per event, and nothing is ever dropped on the device side. A stuck photo never keeps new
//! work from being pulled; each pass also checks the device clock for jumps and reports them.

mod error;
pub(crate) mod evidence;
mod http;
mod sign_out;
mod state;
#[cfg(test)]
mod tests;
pub(crate) mod tokens;

pub use error::SyncError;
pub use evidence::EvidenceProblem;
pub use http::{OFFICE_CA_ENV, OfficeApi, Timed, trust_office_ca};
pub use sign_out::{SIGN_OUT_WAIT, SignedOut, sign_out};
pub use state::{Backlog, PendingAttachment, Session};

use crate::clock::ClockWatch;
use crate::store::{OutboxState, Store};
use chrono::{Duration as ChronoDuration, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{AttachmentCreate, LoginRequest, MAX_CHUNK_BYTES, PushRequest};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use ts_rs::TS;

/// Events per push; a 10,000-event backlog goes up in 10 requests.
pub const PUSH_BATCH_EVENTS: usize = 1000;
/// Approximate JSON bytes per push (the office accepts up to 4 MiB).
pub const PUSH_BATCH_BYTES: usize = 3 * 1024 * 1024;
/// Changes per pull page.
pub const PULL_PAGE: u32 = 500;
/// Backoff bounds (full jitter between 0 and the capped exponential).
pub const BACKOFF_MIN: Duration = Duration::from_secs(1);
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// With nothing to do, look for new work this often.
pub const IDLE_POLL: Duration = Duration::from_secs(30);

/// What the UI shows: online or not, what is waiting, what is moving.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct SyncStatus {
    // Counters cross as JSON numbers, far below 2^53 (ts-rs would say `bigint` for u64).
    pub online: bool,
    pub syncing: bool,
    #[ts(type = "number")]
    pub queued: u64,
    #[ts(type = "number")]
    pub rejected: u64,
    #[ts(type = "number")]
    pub events_sent: u64,
    #[ts(type = "number")]
    pub events_total: u64,
    #[ts(type = "number")]
    pub bytes_sent: u64,
    #[ts(type = "number")]
    pub bytes_total: u64,
    pub last_sync_at: Option<chrono::DateTime<Utc>>,
    /// How long the oldest unsynced record has waited: the number that matters in a basement.
    pub oldest_pending_at: Option<chrono::DateTime<Utc>>,
    pub last_error: Option<SyncFailure>,
    /// Photos and signatures not yet at the office (their records may be acknowledged already),
    /// and their bytes still to go: signing out waits for these too.
    #[serde(default)]
    #[ts(type = "number")]
    pub photos_pending: u64,
    #[serde(default)]
    #[ts(type = "number")]
    pub photo_bytes_pending: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncFailure {
    pub code: ErrorCode,
    pub message: String,
    /// This device's own storage failed ([`SyncError::Local`]): the office refused nothing.
    #[serde(default)]
    pub local: bool,
}

/// What one sync pass moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: u64,
    pub rejected: u64,
    pub push_requests: u64,
    /// Time spent waiting for push answers.
    pub push_time: Duration,
    pub attachments: u64,
    pub attachment_bytes: u64,
    pub changes_pulled: u64,
}

/// Sign in at the office and enrol this device's key. Nothing recorded is touched.
pub async fn login(
    store: &Mutex<Store>,
    office_url: &str,
    username: &str,
    password: &str,
) -> Result<Session, SyncError> {
    let device_id = lock(store).device_id();
    let api = OfficeApi::new(office_url)?;
    // The records after the point this sign-in names are the new user's. Photos the previous user
    // left still being processed, and their actions held behind them, are theirs: finish them
    // first, and record nothing held until the sign-in is settled.
    crate::photo_worker::process_all(store).map_err(SyncError::local)?;
    lock(store).record_held().map_err(SyncError::local)?;
    // A sign-out not yet told (made offline) goes first: the office then knows where the
    // previous user's records end. Offline still, the sign-in fails below anyway.
    let _ = sign_out::send_sign_outs(store, api.base()).await;
    let _paused = HeldPaused::start(store);
    // Prove that this device holds its key: sign the office's one-time challenge. A challenge is
    // good once: when a bad network replays or delays the login (the office used the challenge on a
    // copy whose answer was lost), ask for a fresh one instead of failing the sign-in.
    let mut attempts = 0;
    let resp = loop {
        attempts += 1;
        let challenge = api.challenge(device_id).await?.body.challenge;
        let (key, proof, chain_head) = {
            let s = lock(store);
            let proof =
                s.prove_enrolment(&challenge, username)
                    .ok_or_else(|| SyncError::Refused {
                        status: 200,
                        code: ErrorCode::BadChallenge,
                        message: format!(
                            "the office sent a malformed login challenge {challenge:?}"
                        ),
                    })?;
            (hex::encode(s.public_key().to_bytes()), proof, s.tip())
        };
        let answer = api
            .login(&LoginRequest {
                username: username.to_owned(),
                password: password.to_owned(),
                device_id,
                device_public_key: key,
                device_name: std::env::var("HOSTNAME").unwrap_or_default(),
                challenge: Some(challenge.clone()),
                proof: Some(proof.clone()),
                chain_head: Some(chain_head),
            })
            .await;
        match answer {
            Err(SyncError::Refused { code, .. })
                if attempts < 3
                    && matches!(
                        code,
                        ErrorCode::ChallengeUnknown | ErrorCode::ChallengeExpired
                    ) => {}
            other => break (other?, chain_head, challenge, proof),
        }
    };
    let (resp, chain_head, challenge, proof) = resp;
    let body = resp.body;
    let session = Session {
        office_url: api.base().to_owned(),
        access_token: body.access_token,
        access_expires_at: body.access_expires_at,
        refresh_token: body.refresh_token,
        user: body.user,
        device_code: body.device_code,
    };
    let mut s = lock(store);
    s.save_session(&session).map_err(SyncError::local)?;
    s.keep_sign_in(username, chain_head, &challenge, &proof)
        .map_err(SyncError::local)?;
    s.save_office_public_key(body.office_public_key.as_deref())
        .map_err(SyncError::local)?;
    s.note_server_time(Some(body.server_time))
        .map_err(SyncError::local)?;
    s.pause_held(false);
    // What this user left waiting at an earlier sign-out (or in a session that ran out).
    s.record_held().map_err(SyncError::local)?;
    Ok(session)
}

/// Held actions wait while a sign-in is under way; dropped, they no longer do (a failed sign-in
/// included).
struct HeldPaused<'a>(&'a Mutex<Store>);

impl<'a> HeldPaused<'a> {
    fn start(store: &'a Mutex<Store>) -> HeldPaused<'a> {
        lock(store).pause_held(true);
        HeldPaused(store)
    }
}

impl Drop for HeldPaused<'_> {
    fn drop(&mut self) {
        lock(self.0).pause_held(false);
    }
}

/// Runs sync passes for one device store.
#[derive(Debug, Clone)]
pub struct Syncer {
    store: Arc<Mutex<Store>>,
    status: watch::Sender<SyncStatus>,
    wake: Arc<Notify>,
    /// Checked at every pass (each record wakes one): clock jumps between actions and app runs.
    clock: Arc<Mutex<ClockWatch>>,
}

impl Syncer {
    pub fn new(store: Arc<Mutex<Store>>) -> Syncer {
        Syncer::with_clock_watch(store, ClockWatch::system())
    }

    /// A syncer whose clock watch reads the given monotonic clock (tests).
    pub fn with_clock_watch(store: Arc<Mutex<Store>>, clock: ClockWatch) -> Syncer {
        let (status, _) = watch::channel(SyncStatus::default());
        let syncer = Syncer {
            store,
            status,
            wake: Arc::new(Notify::new()),
            clock: Arc::new(Mutex::new(clock)),
        };
        syncer.refresh_status(None);
        syncer
    }

    /// Watch the status (the UI's badge and progress bar).
    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// Ask the background loop to sync now (user tap, new record, connectivity back, foreground).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sync until stopped: a pass whenever woken or every [`IDLE_POLL`], with backoff (full jitter,
    /// 1 s to 5 min, or the office's `Retry-After`) while the network or the office fails, or the
    /// phone's disk is full (see [`SyncError::is_transient`]).
    pub async fn run(self) {
        let mut failures: u32 = 0;
        loop {
            let wait = match self.sync_once().await {
                Ok(_) => {
                    failures = 0;
                    IDLE_POLL
                }
                Err(SyncError::Unavailable {
                    retry_after: Some(after),
                    ..
                }) => {
                    failures += 1;
                    after.min(BACKOFF_MAX)
                }
                Err(e) if e.is_transient() => {
                    failures += 1;
                    backoff(failures)
                }
                // Needs the user (sign in again, update the app, a damaged store): wait to be woken.
                Err(_) => BACKOFF_MAX,
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One pass: records up, then photos, then new work down.
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        self.status.send_modify(|s| s.syncing = true);
        let result = self.pass().await;
        let error = result.as_ref().err();
        {
            let mut s = lock(&self.store);
            // Bookkeeping only: if it fails, pending events simply stay pending.
            let _ = crate::store::requeue_unanswered_pushes(s.connection());
            let _ = s.note_sync_result(error.map(|e| e.to_string()));
        }
        self.refresh_status(error.map(|e| SyncFailure {
            code: e.code(),
            message: e.to_string(),
            local: matches!(e, SyncError::Local { .. }),
        }));
        self.status.send_modify(|s| {
            s.syncing = false;
            s.online = match &result {
                Ok(_) => true,
                Err(e) => !matches!(e, SyncError::Offline(_)),
            };
        });
        result
    }

    /// Look for a jump of the device clock since the last check (see `crate::clock`).
    pub fn check_clock(&self) -> Result<Option<crate::clock::ClockJump>, SyncError> {
        let mut watch = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        watch
            .check(&mut lock(&self.store))
            .map_err(SyncError::local)
    }

    async fn pass(&self) -> Result<SyncReport, SyncError> {
        self.check_clock()?;
        let mut session = lock(&self.store)
            .session()
            .map_err(SyncError::local)?
            .ok_or_else(|| SyncError::Unauthorized("sign in first".into()))?;
        let api = OfficeApi::new(&session.office_url)?;
        if session.access_expires_at - ChronoDuration::seconds(60) < Utc::now() {
            session = self.refresh(&api, &session).await?;
        }
        let mut report = SyncReport::default();
        // A sign-out made offline: the office learns where that user's records ended. Best
        // effort: a statement the office cannot take now never keeps records from going up.
        let _ = sign_out::send_sign_outs(&self.store, &session.office_url).await;
        // An access token that expired early (or was revoked and renewed) answers 401 at
        // whichever step first talks to the office, the pull too when nothing waits to go up:
        // refresh once and run the pass again (what went up stays up).
        match self.stages(&api, &session, &mut report).await {
            Err(SyncError::Unauthorized(_)) => {
                session = self.refresh(&api, &session).await?;
                self.stages(&api, &session, &mut report).await?;
            }
            other => other?,
        }
        Ok(report)
    }

    /// Records up, clock jumps, photos, then new work down. A photo the office refuses (or one
    /// stuck for any reason but an expired token) never keeps new work from being pulled: the
    /// pull runs, then the photo's failure is reported.
    async fn stages(
        &self,
        api: &OfficeApi,
        session: &Session,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        self.push_all(api, session, report).await?;
        self.report_clock_jumps(api, session).await?;
        let photos = self.upload_attachments(api, session, report).await;
        if let Err(SyncError::Unauthorized(_)) = photos {
            return photos;
        }
        self.pull_all(api, session, report).await?;
        photos
    }

    /// Tell the office of clock jumps it has not stored yet. An office that does not know the
    /// endpoint (older than the device) is not an error: the jumps wait for one that does.
    async fn report_clock_jumps(
        &self,
        api: &OfficeApi,
        session: &Session,
    ) -> Result<(), SyncError> {
        let jumps = lock(&self.store)
            .unreported_clock_jumps()
            .map_err(SyncError::local)?;
        for chunk in jumps.chunks(heatcrew_protocol::sync::MAX_CLOCK_JUMPS) {
            let report = heatcrew_protocol::sync::ClockJumpReport {
                jumps: chunk.iter().map(|j| j.record()).collect(),
            };
            match api.report_clock_jumps(&session.access_token, &report).await {
                Ok(ack) => lock(&self.store)
                    .mark_clock_jumps_reported(&ack.body.stored)
                    .map_err(SyncError::local)?,
                Err(SyncError::Refused { status: 404, .. }) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn refresh(&self, api: &OfficeApi, session: &Session) -> Result<Session, SyncError> {
        let device_id = lock(&self.store).device_id();
        let resp = api.refresh(&session.refresh_token, device_id).await?;
        let fresh = Session {
            office_url: session.office_url.clone(),
            access_token: resp.body.access_token,
            access_expires_at: resp.body.access_expires_at,
            refresh_token: resp.body.refresh_token,
            user: resp.body.user,
            device_code: resp.body.device_code,
        };
        let mut s = lock(&self.store);
        s.save_session(&fresh).map_err(SyncError::local)?;
        s.save_office_public_key(resp.body.office_public_key.as_deref())
            .map_err(SyncError::local)?;
        Ok(fresh)
    }

    /// Push every queued record: urgent ones first (the chain up to the last urgent record, then
    /// its job's photos), then the rest.
    async fn push_all(
        &self,
        api: &OfficeApi,
        session: &Session,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let total = lock(&self.store)
            .backlog()
            .map_err(SyncError::local)?
            .queued;
        self.status.send_modify(|s| {
            s.events_total = total;
            s.events_sent = 0;
        });
        let urgent = lock(&self.store)
            .last_urgent_pending()
            .map_err(SyncError::local)?;
        if let Some(last) = urgent {
            self.push_through(api, session, report, last).await?;
            match self
                .upload_photos(api, session, report, Photos::UrgentOnly)
                .await
            {
                // Tried again with every photo after the records; reported from there.
                Err(SyncError::Refused { .. } | SyncError::Local { .. }) => {}
                other => other?,
            }
        }
        self.push_through(api, session, report, u64::MAX).await
    }

    /// Push queued records in sequence order, none after `last_seq`.
    async fn push_through(
        &self,
        api: &OfficeApi,
        session: &Session,
        report: &mut SyncReport,
        last_seq: u64,
    ) -> Result<(), SyncError> {
        let mut gaps = 0;
        loop {
            let batch = {
                let mut s = lock(&self.store);
                let batch = s
                    .pending_push_through(PUSH_BATCH_EVENTS, PUSH_BATCH_BYTES, last_seq)
                    .map_err(SyncError::local)?;
                let seqs: Vec<u64> = batch.iter().map(|e| e.seq()).collect();
                s.mark_outbox(&seqs, OutboxState::Uploading)
                    .map_err(SyncError::local)?;
                batch
            };
            if batch.is_empty() {
                return Ok(());
            }
            let n = batch.len() as u64;
            report.push_requests += 1;
            let started = std::time::Instant::now();
            let answer = api
                .push(&session.access_token, &PushRequest { events: batch })
                .await;
            report.push_time += started.elapsed();
            match answer {
                Ok(resp) => {
                    let rejected = resp
                        .body
                        .results
                        .iter()
                        .filter(|r| {
                            matches!(
                                r.outcome,
                                heatcrew_protocol::sync::PushOutcome::Rejected { .. }
                            )
                        })
                        .count() as u64;
                    let mut s = lock(&self.store);
                    s.apply_push(&resp.body.results).map_err(SyncError::local)?;
                    s.note_server_time(resp.server_time)
                        .map_err(SyncError::local)?;
                    let problems = s
                        .keep_receipts(&resp.body.results)
                        .map_err(SyncError::local)?;
                    SyncError::from_evidence(problems)?;
                    report.pushed += n - rejected;
                    report.rejected += rejected;
                    self.status.send_modify(|st| st.events_sent += n);
                }
                Err(SyncError::SequenceGap { expected_seq }) if gaps < 3 => {
                    gaps += 1;
                    lock(&self.store)
                        .resync_from(expected_seq)
                        .map_err(SyncError::local)?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Upload the photos of acknowledged records (urgent jobs' first). Before each photo, an urgent
    /// record recorded meanwhile is pushed (with the chain before it): an accident report never
    /// waits behind a queue of photos.
    async fn upload_attachments(
        &self,
        api: &OfficeApi,
        session: &Session,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        self.upload_photos(api, session, report, Photos::All).await
    }

    async fn upload_photos(
        &self,
        api: &OfficeApi,
        session: &Session,
        report: &mut SyncReport,
        which: Photos,
    ) -> Result<(), SyncError> {
        let pending = lock(&self.store)
            .pending_attachments()
            .map_err(SyncError::local)?;
        let total: u64 = pending
            .iter()
            .filter(|p| p.urgent || which == Photos::All)
            .map(|p| p.bytes - p.uploaded_bytes)
            .sum();
        self.status.send_modify(|s| {
            s.bytes_total = total;
            s.bytes_sent = 0;
        });
        // Each photo is tried once per pass (one the office cannot complete waits for the next).
        let mut tried = std::collections::HashSet::new();
        let mut refused = None;
        loop {
            if which == Photos::All {
                let urgent = lock(&self.store)
                    .last_urgent_pending()
                    .map_err(SyncError::local)?;
                if let Some(last) = urgent {
                    self.push_through(api, session, report, last).await?;
                }
            }
            let next = lock(&self.store)
                .pending_attachments()
                .map_err(SyncError::local)?
                .into_iter()
                .filter(|p| p.urgent || which == Photos::All)
                .find(|p| !tried.contains(&p.sha256));
            let Some(a) = next else {
                return refused.map_or(Ok(()), Err);
            };
            tried.insert(a.sha256);
            match self.upload_one(api, session, &a, report).await {
                // This photo only: the others still go, the failure is reported at the end.
                Err(e @ (SyncError::Refused { .. } | SyncError::Local { .. })) => {
                    refused.get_or_insert(e);
                }
                other => other?,
            }
        }
    }

    async fn upload_one(
        &self,
        api: &OfficeApi,
        session: &Session,
        a: &PendingAttachment,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let token = &session.access_token;
        let status = api
            .create_attachment(
                token,
                &AttachmentCreate {
                    sha256: a.sha256,
                    size: a.bytes,
                    mime: a.mime.clone(),
                },
            )
            .await?
            .body;
        let mut offset = status.offset;
        let mut complete = status.complete;
        // The photo is on this device: failing to read it is local, not the office. Opened
        // once (it is sealed at rest), sent from memory.
        let files = lock(&self.store).files().clone();
        let bytes = if complete {
            Vec::new()
        } else {
            files.read(&a.sha256).map_err(|e| SyncError::Local {
                code: ErrorCode::FileMissing,
                message: format!("photo {} cannot be read: {e}", a.sha256),
            })?
        };
        while !complete {
            let chunk = chunk_at(&bytes, offset);
            if chunk.is_empty() {
                break;
            }
            let len = chunk.len() as u64;
            match api.upload_chunk(token, &a.sha256, offset, chunk).await {
                Ok(resp) => {
                    offset = resp.body.offset;
                    complete = resp.body.complete;
                    self.status.send_modify(|s| s.bytes_sent += len);
                    report.attachment_bytes += len;
                }
                // Our offset was stale (a chunk landed but its answer was lost): ask.
                Err(SyncError::Refused { status: 409, .. }) => {
                    offset = api.upload_offset(token, &a.sha256).await?;
                }
                Err(e) => return Err(e),
            }
            lock(&self.store)
                .set_attachment_progress(&a.sha256, offset, complete)
                .map_err(SyncError::local)?;
        }
        if complete {
            lock(&self.store)
                .set_attachment_progress(&a.sha256, a.bytes, true)
                .map_err(SyncError::local)?;
            report.attachments += 1;
        }
        Ok(())
    }

    async fn pull_all(
        &self,
        api: &OfficeApi,
        session: &Session,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        loop {
            let cursor = lock(&self.store).pull_cursor().map_err(SyncError::local)?;
            let page = api.pull(&session.access_token, cursor, PULL_PAGE).await?;
            let mut s = lock(&self.store);
            let problems = s.apply_pull(&page.body).map_err(SyncError::local)?;
            s.note_server_time(page.server_time)
                .map_err(SyncError::local)?;
            SyncError::from_evidence(problems)?;
            report.changes_pulled += page.body.changes.len() as u64;
            if !page.body.has_more {
                return Ok(());
            }
        }
    }

    fn refresh_status(&self, error: Option<SyncFailure>) {
        let backlog = lock(&self.store).backlog().unwrap_or_default();
        self.status.send_modify(|s| {
            s.queued = backlog.queued;
            s.rejected = backlog.rejected;
            s.last_sync_at = backlog.last_sync_at;
            s.oldest_pending_at = backlog.oldest_pending_at;
            s.photos_pending = backlog.attachments;
            s.photo_bytes_pending = backlog.attachment_bytes;
            if error.is_some() || s.last_error.is_some() {
                s.last_error = error;
            }
        });
    }
}

/// Which photos an upload round takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Photos {
    /// Only those of jobs with an urgent record (right after the urgent records are pushed).
    UrgentOnly,
    All,
}

/// Full jitter: uniformly random between 0 and min(max, min · 2^failures).
pub fn backoff(failures: u32) -> Duration {
    let cap = BACKOFF_MIN
        .saturating_mul(2u32.saturating_pow(failures.min(16)))
        .min(BACKOFF_MAX);
    let ms = rand::thread_rng().gen_range(0..=cap.as_millis() as u64);
    Duration::from_millis(ms).max(Duration::from_millis(50))
}

/// At most [`MAX_CHUNK_BYTES`] of `bytes` from `offset` (nothing past the end).
fn chunk_at(bytes: &[u8], offset: u64) -> Vec<u8> {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    bytes[start..(start.saturating_add(MAX_CHUNK_BYTES)).min(bytes.len())].to_vec()
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    // A panic while holding the lock leaves SQLite consistent (transactions roll back).
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
