//! Storage behind [`OfficeStore`], so that PostgreSQL can follow the embedded SQLite default. The
//! trait is the sum of one trait per concern ([`AccountStore`], [`EnrolmentStore`],
//! [`LedgerStore`], [`EvidenceLogStore`], [`AttachmentStore`], [`JobStore`], [`NetworkStore`],
//! [`ReportStore`], [`AlertStore`], [`MetaStore`], [`AuditStore`], [`ChainCheckStore`]); [`SqliteStore`] implements each in its own file under `sqlite/`.
//!
//! Methods are synchronous: the HTTP layer calls them on `spawn_blocking`. Every method that changes
//! more than one row does so in one transaction. Rules that do not need the database (chain and
//! signature checks, what an event may touch) live in [`crate::ledger`] and are shared by every backend.

pub mod complaints;
pub(crate) mod convert;
mod error;
pub mod kpi;
pub mod postgres;
pub mod sqlite;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_protocol::log::{LogLeaf, TreeHead};
use heatcrew_protocol::sync::{AttachmentCreate, Change, PushResponse, Role, UserInfo};
use heatcrew_protocol::{
    AppointmentWindow, ChainTip, Checkpoint, Digest, Event, Job, OutageNotice,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

pub use complaints::ComplaintStore;
pub use error::StoreError;
pub use kpi::KpiStore;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

pub type StoreResult<T> = Result<T, StoreError>;

/// A user with the password hash (never leaves the server).
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub info: UserInfo,
    pub password_hash: String,
    /// Not deactivated: may sign in.
    pub active: bool,
    /// The confirmed TOTP secret (base32), if the user set up a second factor.
    pub totp_secret: Option<String>,
    /// A TOTP secret being set up, not yet confirmed with a code.
    pub totp_pending: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub badge_no: String,
}

/// A device as enrolled at this office.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DeviceRecord {
    pub id: Uuid,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// Short code unique at this office (`D0001`), used in offline-issued notice numbers.
    pub code: String,
    pub name: String,
    /// The user the device is bound to: its first, or the one an admin moved it to. Nobody else
    /// signs in on it unless it is `shared`.
    pub user_id: Uuid,
    /// Marked by an admin as a crew's shared phone: any active field user may sign in on it.
    pub shared: bool,
    pub enrolled_at: DateTime<Utc>,
    #[ts(type = "number")]
    pub last_seq: u64,
    /// Server clock minus device clock, from the last request that carried the device's time.
    #[ts(type = "number | null")]
    pub clock_offset_ms: Option<i64>,
    /// How often the offset moved by more than the configured threshold between two requests.
    #[ts(type = "number")]
    pub clock_jumps: u64,
    /// When the device last pushed, pulled or signed in (`None` before its first since 0012).
    #[ts(type = "string | null")]
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The app version its last sync said it runs (`api::device_info`: at most 64 printable
    /// characters, else "unknown").
    pub app_version: Option<String>,
}

/// An access/refresh token pair as stored (hashes only).
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub user_id: Uuid,
    pub device_id: Option<Uuid>,
    pub access_hash: Digest,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_hash: Digest,
    pub refresh_expires_at: DateTime<Utc>,
    /// No refresh renews the session past this.
    pub absolute_expires_at: DateTime<Utc>,
    /// An admin who must still set up a second factor: this session may do only that.
    pub totp_setup_only: bool,
    /// A device sign-in: where the device's chain stood, as the device signed it
    /// (`crate::ledger::makers`). Checked against its tip in the same transaction (`chain_head_mismatch`).
    pub chain_head: Option<crate::ledger::makers::SignedHead>,
    pub now: DateTime<Utc>,
}

/// Who a valid access token belongs to.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user: UserInfo,
    pub device_id: Option<Uuid>,
    pub access_expires_at: DateTime<Utc>,
    pub revoked: bool,
    /// The session ends then, whatever refreshes happened.
    pub absolute_expires_at: DateTime<Utc>,
    /// The last request made with it (written at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    pub totp_setup_only: bool,
}

/// Fresh token hashes to rotate into a session on refresh.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub presented_refresh: Digest,
    /// The device the refresh comes from (`None`: a staff console). A device session refreshed
    /// from another device id (or none) is ended.
    pub device_id: Option<Uuid>,
    /// A staff session not used since before this has been idle too long and ends.
    pub staff_idle_before: DateTime<Utc>,
    pub access_hash: Digest,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_hash: Digest,
    pub refresh_expires_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// What a refresh found.
#[derive(Debug, Clone)]
pub enum RefreshOutcome {
    Rotated {
        user: UserInfo,
        device_id: Option<Uuid>,
    },
    /// Unknown, expired or revoked refresh token.
    Invalid,
    /// Past the session's absolute lifetime, or a staff session idle too long: it is ended.
    Expired,
    /// A device session's refresh token presented by another device (or none): the session is
    /// ended, because the token left the device it was issued to.
    WrongDevice,
    /// An older refresh token came back after its successor was used: the session is revoked,
    /// because one of the two holders is not the device.
    Reused,
}

/// One stored event with the office's verdict on it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub event: Event,
    pub user_id: Uuid,
    pub accepted: bool,
    pub reject_code: Option<String>,
    pub reject_reason: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The clock offset (server minus device) this event's corrected time uses: the device's offset
    /// when it recorded the event (`kpi::time`), or its offset now for events stored before that.
    pub device_clock_offset_ms: Option<i64>,
}

/// A job with office bookkeeping.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub job: Job,
    pub created_at: DateTime<Utc>,
    pub cancel_reason: Option<String>,
    /// Opened by a device in the field (an accident report, a repair found on patrol).
    pub field_created: bool,
    /// When an office dispatcher accepted the field-created job; from then on it counts in KPIs.
    pub accepted_at: Option<DateTime<Utc>>,
}

impl JobRecord {
    /// A field-created job no dispatcher has accepted yet: shown, but left out of the KPIs.
    pub fn awaiting_acceptance(&self) -> bool {
        self.field_created && self.accepted_at.is_none()
    }
}

/// The code posted at a patrol station (`heatcrew_protocol::Checkpoint::code_sha256` is its digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CheckpointCode {
    pub checkpoint_id: String,
    pub code: String,
}

/// A patrol route: the checkpoints a patrol round visits.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Route {
    pub id: Uuid,
    pub name: String,
    pub area: String,
    #[schema(value_type = Vec<Object>)]
    pub checkpoints: Vec<Checkpoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Crew {
    pub id: Uuid,
    pub name: String,
    pub members: Vec<Uuid>,
}

/// An attachment's metadata row. The bytes live in the file store.
#[derive(Debug, Clone)]
pub struct AttachmentRow {
    pub sha256: Digest,
    pub size: u64,
    pub mime: String,
    pub complete: bool,
}

/// Who uploads: a device, or a staff user signed in without one. Each has upload sessions of its
/// own, so nobody's announcement can fix the size of someone else's upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uploader {
    pub user_id: Uuid,
    pub device_id: Option<Uuid>,
}

impl Uploader {
    /// The session key, also part of the partial file's name: `device-<id>` or `user-<id>`.
    pub fn key(&self) -> String {
        match self.device_id {
            Some(d) => format!("device-{d}"),
            None => format!("user-{}", self.user_id),
        }
    }
}

/// One uploader's upload session of one content address.
#[derive(Debug, Clone)]
pub struct UploadRow {
    pub sha256: Digest,
    /// As this uploader announced it.
    pub size: u64,
    /// Its own bytes arrived and hashed to `sha256`.
    pub complete: bool,
}

/// Counts for the summary report that SQL answers directly.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub events_accepted: u64,
    pub events_rejected: u64,
    pub devices: u64,
    pub devices_clock_flagged: u64,
    pub attachments_referenced: u64,
    pub attachments_received: u64,
}

/// The office's storage: every concern below behind one `Arc<dyn OfficeStore>`. Implement the
/// concern traits; this one follows.
pub trait OfficeStore:
    AccountStore
    + EnrolmentStore
    + LedgerStore
    + EvidenceLogStore
    + AttachmentStore
    + JobStore
    + NetworkStore
    + ReportStore
    + AlertStore
    + MetaStore
    + AuditStore
    + ChainCheckStore
    + crate::feedback::FeedbackStore
    + KpiStore
    + ComplaintStore
    + crate::notices::NoticeStore
    + crate::patrols::PatrolStore
    + crate::throttle::LoginThrottleStore
    + crate::sign_out::SignOutStore
    + Send
    + Sync
    + 'static
{
}

impl<T> OfficeStore for T where
    T: AccountStore
        + EnrolmentStore
        + LedgerStore
        + EvidenceLogStore
        + AttachmentStore
        + JobStore
        + NetworkStore
        + ReportStore
        + AlertStore
        + MetaStore
        + AuditStore
        + ChainCheckStore
        + crate::feedback::FeedbackStore
        + KpiStore
        + ComplaintStore
        + crate::notices::NoticeStore
        + crate::patrols::PatrolStore
        + crate::throttle::LoginThrottleStore
        + crate::sign_out::SignOutStore
        + Send
        + Sync
        + 'static
{
}

/// Users and crews.
pub trait AccountStore {
    fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<UserInfo>;
    fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    fn user(&self, id: Uuid) -> StoreResult<Option<UserInfo>>;
    fn list_users(&self) -> StoreResult<Vec<UserInfo>>;
    /// The users deactivated (they cannot sign in; their records stay theirs).
    fn inactive_users(&self) -> StoreResult<HashSet<Uuid>>;
    /// Deactivate (revoking every session of the user in the same transaction; returns how many
    /// were live) or activate again.
    fn set_user_active(&self, id: Uuid, active: bool, now: DateTime<Utc>) -> StoreResult<u64>;
    /// A new password hash; every session of the user is revoked (returns how many were live).
    fn set_password(&self, id: Uuid, password_hash: &str, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Remember a TOTP secret being set up (replacing one set up before and never confirmed).
    fn set_totp_pending(&self, id: Uuid, secret: &str) -> StoreResult<()>;
    /// Make the pending TOTP secret the user's second factor; `false` if none was pending.
    fn confirm_totp(&self, id: Uuid) -> StoreResult<bool>;
    /// The sessions opened for setting up a second factor become full sessions.
    fn end_totp_setup_sessions(&self, id: Uuid) -> StoreResult<()>;
    /// Spend the TOTP step `step` of user `id`: `true` if it is later than the last one spent (and
    /// is now the last), `false` if that code (or a later one) was already used.
    fn spend_totp_step(&self, id: Uuid, step: i64) -> StoreResult<bool>;
    fn add_crew(&self, name: &str, members: &[Uuid], now: DateTime<Utc>) -> StoreResult<Crew>;
    fn list_crews(&self) -> StoreResult<Vec<Crew>>;
}

/// Devices (enrolled keys, clock offsets) and the sessions their tokens open.
pub trait EnrolmentStore {
    /// Enrol `device_id` with `public_key` bound to `user_id`, or confirm it; a different key for
    /// a known id is a `device_key_mismatch` conflict, another user on a device neither shared nor
    /// moved to them a `device_other_user` conflict.
    fn enrol_device(
        &self,
        device_id: Uuid,
        public_key: &str,
        name: &str,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<DeviceRecord>;
    fn device(&self, id: Uuid) -> StoreResult<Option<DeviceRecord>>;
    /// Bind a device to another user (an admin's decision): it is no longer shared, and every
    /// session on it ends (returns the device and how many were live).
    fn move_device(
        &self,
        device_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<(DeviceRecord, u64)>;
    /// Mark a device a crew's shared phone (any field user may sign in on it), or bound again to
    /// its user.
    fn set_device_shared(&self, device_id: Uuid, shared: bool) -> StoreResult<DeviceRecord>;
    fn list_devices(&self) -> StoreResult<Vec<DeviceRecord>>;
    /// Remember the device's clock offset; count a jump when it moved by more than `jump_ms`.
    fn record_clock_offset(
        &self,
        device_id: Uuid,
        offset_ms: i64,
        jump_ms: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Remember that the device synced now, running `app_version` (already bounded).
    fn record_device_sync(
        &self,
        device_id: Uuid,
        app_version: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    fn create_session(&self, session: NewSession) -> StoreResult<()>;
    /// Every sign-in on `device_id`, the oldest first, with what the device signed (for `verify`).
    fn sign_ins_of_device(
        &self,
        device_id: Uuid,
    ) -> StoreResult<Vec<crate::ledger::makers::StoredSignIn>>;
    fn session_by_access(&self, access_hash: Digest) -> StoreResult<Option<SessionRecord>>;
    fn refresh_session(&self, rotation: Rotation) -> StoreResult<RefreshOutcome>;
    fn revoke_session(&self, session_id: Uuid, now: DateTime<Utc>) -> StoreResult<()>;
    /// Note that a session was used now (for the staff idle timeout).
    fn touch_session(&self, session_id: Uuid, now: DateTime<Utc>) -> StoreResult<()>;
    /// Revoke every session of a device (a lost phone); returns how many were live.
    fn revoke_device_sessions(&self, device_id: Uuid, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Remember a one-time enrolment challenge (hex) for `device_id` until `expires_at`; forget
    /// expired ones.
    fn create_challenge(
        &self,
        challenge: &str,
        device_id: Uuid,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Use up a challenge: it is gone afterwards whatever the answer. Unknown (or already used),
    /// issued to another device, or expired is a [`StoreError::Conflict`] with the code
    /// `challenge_unknown`, `challenge_wrong_device` or `challenge_expired`.
    fn take_challenge(
        &self,
        challenge: &str,
        device_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Keep the clock jumps `device_id` reported (its monotonic clock saw them), once per id.
    /// Returns the ids now held for this device (new or known); an id another device already
    /// used is not this device's and is left out.
    fn record_device_clock_jumps(
        &self,
        device_id: Uuid,
        user_id: Uuid,
        jumps: &[heatcrew_protocol::sync::ClockJumpRecord],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Uuid>>;
    /// The clock jumps a device reported, newest first, at most `limit`.
    fn device_clock_jumps(
        &self,
        device_id: Uuid,
        limit: u32,
    ) -> StoreResult<Vec<heatcrew_protocol::sync::ClockJumpRecord>>;
}

/// Each device's ledger of signed events (push), the change feed devices pull, and the stored
/// events read back.
pub trait LedgerStore {
    /// Apply a push batch for `device_id` on behalf of `user_id` in one transaction: every stored
    /// event (accepted or refused for its content) is appended to the office log in the same
    /// transaction, and its result carries a receipt signed with `office`. A retried event gets
    /// the same receipt again (same log index and time; Ed25519 signatures are deterministic).
    fn push(
        &self,
        device_id: Uuid,
        user_id: Uuid,
        events: &[Event],
        now: DateTime<Utc>,
        office: &SigningKey,
    ) -> StoreResult<PushResponse>;
    /// Changes in `user_id`'s scope after `cursor`: `(changes, next_cursor, has_more)`.
    fn pull(&self, user_id: Uuid, cursor: u64, limit: u32)
    -> StoreResult<(Vec<Change>, u64, bool)>;
    /// Every stored event of a device in `device_seq` order, for verification.
    fn device_events(&self, device_id: Uuid) -> StoreResult<Vec<StoredEvent>>;
    /// A page of a device's stored events with `device_seq > after`, in sequence order.
    fn device_events_after(
        &self,
        device_id: Uuid,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>>;
    /// Accepted and rejected events of a job, in office receipt order.
    fn job_events(&self, job_id: Uuid) -> StoreResult<Vec<StoredEvent>>;
    /// A number that moves whenever something other than this store may have changed stored
    /// events that were already there (a hand edit, a removal): what was verified over stored rows
    /// is forgotten when it moves ([`crate::chain_cache`]). Appends by other office processes may
    /// leave it (PostgreSQL's count of edits) or move it (SQLite's `data_version`): they never
    /// change a verified prefix. `None`: this backend cannot tell, so nothing is cached.
    fn outside_writes(&self) -> StoreResult<Option<u64>> {
        Ok(None)
    }
}

/// One leaf of the office log with where and when it was appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogEntry {
    pub index: u64,
    pub leaf: LogLeaf,
    /// The office's clock when it stored the event (the receipt's `received_at`).
    pub received_at: DateTime<Utc>,
}

/// The office's append-only Merkle log (`docs/evidence.md`, "The office's log"): leaves are
/// appended by [`LedgerStore::push`]; this reads them, their stored subtrees (roots and proofs),
/// and keeps the tree heads the office handed out.
pub trait EvidenceLogStore {
    /// How many leaves the log holds.
    fn log_size(&self) -> StoreResult<u64>;
    /// The Merkle root of the first `size` leaves (`None` if the log is smaller).
    fn log_root(&self, size: u64) -> StoreResult<Option<Digest>>;
    /// A stored perfect subtree (level 0: a leaf hash), as stored.
    fn log_node(&self, level: u32, index: u64) -> StoreResult<Option<Digest>>;
    /// RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves (`None`: no such leaf
    /// or tree).
    fn inclusion_proof(&self, index: u64, size: u64) -> StoreResult<Option<Vec<Digest>>>;
    /// RFC 9162 consistency proof between the trees of `first` and `second` leaves (`None` unless
    /// `0 < first <= second <= size`).
    fn consistency_proof(&self, first: u64, second: u64) -> StoreResult<Option<Vec<Digest>>>;
    /// Up to `limit` leaves from log index `from` on, in log order.
    fn log_entries(&self, from: u64, limit: u32) -> StoreResult<Vec<LogEntry>>;
    /// The leaf of a device's event, if the office stored it.
    fn log_entry_of(&self, device_id: Uuid, device_seq: u64) -> StoreResult<Option<LogEntry>>;
    /// The tree head handed out for `size`, if any.
    fn tree_head(&self, size: u64) -> StoreResult<Option<TreeHead>>;
    /// Every tree head handed out, by size.
    fn tree_heads(&self) -> StoreResult<Vec<TreeHead>>;
    /// Keep a signed tree head; if one of that size was kept before, that one stays and is
    /// returned (one root per size, one signature for it).
    fn save_tree_head(&self, head: &TreeHead) -> StoreResult<TreeHead>;
    /// The largest tree head handed out (`None`: none yet).
    fn newest_tree_head(&self) -> StoreResult<Option<TreeHead>>;
    /// As [`save_tree_head`](Self::save_tree_head) when that needs no wait for a busy writer;
    /// `None` (and nothing kept) when it would. A store whose writes do not queue behind one
    /// writer always keeps it.
    fn try_save_tree_head(&self, head: &TreeHead) -> StoreResult<Option<TreeHead>> {
        self.save_tree_head(head).map(Some)
    }
    /// A device's ledger position as the office holds it (`None`: not enrolled).
    fn device_tip(&self, device_id: Uuid) -> StoreResult<Option<ChainTip>>;
}

/// Attachment metadata; the bytes live in [`crate::objects::Objects`].
pub trait AttachmentStore {
    /// An accepted event of `user_id` references the content (the upload scope).
    fn attachment_referenced_by(&self, sha256: Digest, user_id: Uuid) -> StoreResult<bool>;
    /// Whether an accepted event pushed from `device_id` (by any user) references the file.
    fn attachment_pushed_from(&self, sha256: Digest, device_id: Uuid) -> StoreResult<bool>;
    /// A field user may read the content: they uploaded it, or a job now assigned to them has an
    /// accepted event referencing it pushed by one of its uploaders or by office staff.
    fn attachment_readable_by(&self, sha256: Digest, user_id: Uuid) -> StoreResult<bool>;
    /// The content, once it arrived (`complete`).
    fn attachment(&self, sha256: Digest) -> StoreResult<Option<AttachmentRow>>;
    /// Open (or find) `uploader`'s session. An unfinished one announced with another size starts
    /// over: the answer's `bool` says so, and the caller drops its partial file.
    fn open_upload(
        &self,
        create: &AttachmentCreate,
        uploader: Uploader,
        now: DateTime<Utc>,
    ) -> StoreResult<(UploadRow, bool)>;
    fn upload(&self, sha256: Digest, uploader: Uploader) -> StoreResult<Option<UploadRow>>;
    /// Count `uploader`'s session (its bytes hashed to `sha256`) and, if it is the first, the
    /// content as received.
    fn complete_upload(
        &self,
        sha256: Digest,
        uploader: Uploader,
        mime: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Every attachment counted as received.
    fn complete_attachments(&self) -> StoreResult<Vec<Digest>>;
}

/// Work orders as dispatched: created, assigned, scheduled, cancelled.
pub trait JobStore {
    fn create_job(&self, job: Job, now: DateTime<Utc>) -> StoreResult<Job>;
    /// Assign or reassign; the previous assignee gets a `JobRevoked` change, the new one `JobUpserted`.
    fn assign_job(&self, job_id: Uuid, assignee: Uuid, now: DateTime<Utc>) -> StoreResult<Job>;
    fn schedule_job(
        &self,
        job_id: Uuid,
        window: AppointmentWindow,
        now: DateTime<Utc>,
    ) -> StoreResult<Job>;
    fn cancel_job(&self, job_id: Uuid, reason: &str, now: DateTime<Utc>) -> StoreResult<Job>;
    /// A dispatcher accepts a field-created job (idempotent: the first acceptance stays);
    /// `not_field_created` for a job the office opened.
    fn accept_field_job(
        &self,
        job_id: Uuid,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<JobRecord>;
    fn job(&self, job_id: Uuid) -> StoreResult<Option<JobRecord>>;
    fn list_jobs(&self) -> StoreResult<Vec<JobRecord>>;
    /// The jobs on the dispatch board between `from` and `to` (appointment, else report time;
    /// indexed), then up to `undated_limit` open jobs with neither, newest first.
    fn board_jobs(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        undated_limit: u32,
    ) -> StoreResult<Vec<JobRecord>>;
    /// Jobs whose customer's phone (digits only) or account number starts with the key (an index
    /// range), newest first.
    fn customer_jobs(&self, key: CustomerKey<'_>, limit: u32) -> StoreResult<Vec<JobRecord>>;
    /// The stored events of each of `job_ids` (each job's in office receipt order, as
    /// [`LedgerStore::job_events`]), in one query: the board's jobs without a query per job.
    fn jobs_events(&self, job_ids: &[Uuid]) -> StoreResult<HashMap<Uuid, Vec<StoredEvent>>>;
}

/// How the console looks a customer up while a dispatcher types.
#[derive(Debug, Clone, Copy)]
pub enum CustomerKey<'a> {
    Phone(&'a str),
    Account(&'a str),
}

/// The network as dispatch sees it: patrol routes and outage notices.
pub trait NetworkStore {
    fn create_route(&self, route: Route, now: DateTime<Utc>) -> StoreResult<Route>;
    fn route(&self, id: Uuid) -> StoreResult<Option<Route>>;
    fn list_routes(&self) -> StoreResult<Vec<Route>>;
    fn upsert_outage(&self, notice: OutageNotice, now: DateTime<Utc>) -> StoreResult<OutageNotice>;
    fn clear_outage(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()>;
    fn list_outages(&self) -> StoreResult<Vec<OutageNotice>>;
    /// The code posted at each patrol station, to print the plates (staff only).
    fn checkpoint_codes(&self) -> StoreResult<Vec<CheckpointCode>>;
}

/// Figures for the summary report that the store answers directly.
pub trait ReportStore {
    fn counts(&self) -> StoreResult<Counts>;
}

/// Small key/value facts about the office itself (e.g. that the demo company was seeded).
pub trait MetaStore {
    fn meta(&self, key: &str) -> StoreResult<Option<String>>;
    fn set_meta(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Record `value` for `key` unless a value is already recorded; give back the value recorded
    /// now (`value`, or the first one's). Of several processes claiming at once, exactly one wins
    /// and all of them read the same answer.
    fn claim_meta(&self, key: &str, value: &str) -> StoreResult<String>;
}

/// An urgent alert as stored: raised when an urgent event (an accident report) is stored, in the
/// same transaction; its id is the event's.
#[derive(Debug, Clone)]
pub struct AlertRecord {
    pub event: Event,
    /// The job as the office holds it (a job the device created arrives with its first event).
    pub job: Option<Job>,
    pub reported_by: UserInfo,
    /// When the office stored the event.
    pub raised_at: DateTime<Utc>,
    pub acknowledged: Option<(UserInfo, DateTime<Utc>)>,
}

/// Urgent alerts (issue 12): raised by the store itself when an urgent event is stored, listed and
/// acknowledged by office staff, the acknowledgement carried back to the reporting device.
pub trait AlertStore {
    /// Open alerts (oldest first), then up to `limit` acknowledged ones (newest first).
    fn alerts(&self, limit: u32) -> StoreResult<Vec<AlertRecord>>;
    fn alert(&self, id: Uuid) -> StoreResult<Option<AlertRecord>>;
    /// Acknowledge an open alert: `NotFound` for an unknown id, `Conflict`
    /// (`alert_already_acknowledged`) when someone was first.
    fn acknowledge_alert(&self, id: Uuid, by: Uuid, now: DateTime<Utc>)
    -> StoreResult<AlertRecord>;
    /// The newest acknowledged alerts raised by `device_id`'s events, at most `limit`.
    fn device_acknowledgements(
        &self,
        device_id: Uuid,
        limit: usize,
    ) -> StoreResult<Vec<heatcrew_protocol::sync::AlertAcknowledgement>>;
}

/// The audit log (`crate::audit`): appended to, read back by admins. There is no method to change
/// or delete an entry, on purpose; the SQLite schema refuses it too.
pub trait AuditStore {
    /// Append one entry; returns its sequence number.
    fn append_audit(&self, entry: &crate::audit::NewAudit) -> StoreResult<u64>;
    /// Entries matching `query`, newest first (keyset: `seq < query.before`).
    fn audit_page(
        &self,
        query: &crate::audit::AuditQuery,
    ) -> StoreResult<Vec<crate::audit::AuditEntry>>;
}

/// The office's signed note of how far a device's stored chain was verified
/// ([`crate::chain_cache`]): the tip, and a running SHA-256 over the stored rows up to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheckpoint {
    pub device_id: Uuid,
    /// The enrolled key the chain was verified under (hex).
    pub public_key: String,
    pub tip: ChainTip,
    pub rows_digest: Digest,
    /// The office key's Ed25519 signature over all of the above.
    pub sig: [u8; 64],
    pub checked_at: DateTime<Utc>,
}

/// Where [`crate::chain_cache`] keeps its checkpoints and reads the stored rows they cover.
pub trait ChainCheckStore {
    /// Hand `f` each stored event of `device_id` with `after < device_seq <= upto`, in sequence
    /// order, as stored: `(device_seq, event id column, body JSON)`, from one consistent read. `f`
    /// returns false to stop.
    fn device_rows(
        &self,
        device_id: Uuid,
        after: u64,
        upto: u64,
        f: &mut dyn FnMut(u64, &str, &str) -> bool,
    ) -> StoreResult<()>;
    fn chain_checkpoint(&self, device_id: Uuid) -> StoreResult<Option<ChainCheckpoint>>;
    /// Keep `checkpoint` as the device's (replacing the one before).
    fn save_chain_checkpoint(&self, checkpoint: &ChainCheckpoint) -> StoreResult<()>;
}
