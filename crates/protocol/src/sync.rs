//! Sync and account messages between a device and the office (docs/design.md, "Sync"). Frozen and versioned.
//!
//! Endpoints (all under `/api/v1`, JSON unless said otherwise, `Authorization: Bearer <access token>`):
//! - `POST /auth/login` [`LoginRequest`] → [`LoginResponse`]: checks the password, enrols the device key.
//! - `POST /auth/refresh` [`RefreshRequest`] → [`LoginResponse`].
//! - `POST /sync/push` [`PushRequest`] → [`PushResponse`], or 409 [`ErrorBody`] with `expected_seq`.
//! - `GET /sync/pull?cursor=S&limit=N` → [`PullResponse`].
//! - `POST /attachments` [`AttachmentCreate`] → [`AttachmentStatus`].
//! - `HEAD /attachments/{sha256}` → `Upload-Offset` header.
//! - `PATCH /attachments/{sha256}` with `Upload-Offset` header and raw bytes → [`AttachmentStatus`].
//! - `POST /sync/clock-jumps` [`ClockJumpReport`] → [`ClockJumpAck`]: the device clock's jumps.
//!
//! Every response carries [`crate::PROTOCOL_HEADER`] and [`crate::SERVER_TIME_HEADER`].

use crate::log::{Receipt, TreeHead};
use crate::{Digest, ErrorCode, Event, Job, OutageNotice};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most events in one push; a device splits a larger backlog into batches.
pub const MAX_PUSH_EVENTS: usize = 1000;
/// Largest push body the office accepts.
pub const MAX_PUSH_BYTES: usize = 4 * 1024 * 1024;
/// Largest attachment chunk (one PATCH body).
pub const MAX_CHUNK_BYTES: usize = 1024 * 1024;
/// Largest attachment.
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;
/// Header with the byte offset of an attachment upload.
pub const UPLOAD_OFFSET_HEADER: &str = "upload-offset";

/// Staff roles. Scope (which jobs a user may read and write) follows from the role and assignments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    RepairTechnician,
    Inspector,
    Patrol,
    Dispatcher,
    Admin,
}

/// Sign in and enrol this device's public key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    pub device_id: Uuid,
    /// Ed25519 public key, 64 hex characters.
    pub device_public_key: String,
    #[serde(default)]
    pub device_name: String,
    /// The one-time challenge from `POST /auth/challenge` (64 hex characters)…
    #[serde(default)]
    pub challenge: Option<String>,
    /// …signed by the device key over [`crate::log::enrolment_message`] (128 hex characters):
    /// proof that whoever enrols this device holds its private key.
    #[serde(default)]
    pub proof: Option<String>,
    /// Where this device's own chain stands as this user signs in (its last event, recorded or
    /// not yet pushed; [`crate::ChainTip::START`] before the first), signed with the proof. The
    /// events after it are this user's records, those up to it are fixed: the office refuses an
    /// event at this position with another hash (`chain_head_mismatch`). Required.
    #[serde(default)]
    pub chain_head: Option<crate::ChainTip>,
}

/// A device's signed word that its user signed out (`POST /auth/sign-out`, no token: the
/// signature is the proof): where its chain stood then. The events after that point and up to the
/// next sign-in's point were made while nobody was signed in on it, and the office refuses them
/// (`signed_out`), so a tampered app cannot record as the user who signed out. Sent at sign-out,
/// or, offline, as soon as the office is reached again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SignOutStatement {
    pub device_id: Uuid,
    /// The challenge of the sign-in this ends (64 hex characters).
    pub challenge: String,
    pub chain_head: crate::ChainTip,
    /// The device key's signature over [`crate::log::sign_out_message`] (128 hex characters).
    pub proof: String,
}

/// The office's answer to a sign-out statement it kept (or had kept already).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SignOutKept {
    /// The office key's signature over [`crate::log::sign_out_kept_message`] (128 hex
    /// characters): the phone keeps it, and its exports carry it.
    pub office_sig: String,
}

/// A one-time challenge for the next login of a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ChallengeRequest {
    pub device_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengeResponse {
    /// 32 random bytes, hex; valid once, until `expires_at`.
    pub challenge: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserInfo {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The service badge number worn on the left chest (统一编号的服务证).
    #[serde(default)]
    pub badge_no: String,
}

/// Tokens and who they belong to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginResponse {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub user: UserInfo,
    /// A short code unique to this device at this office; part of offline-issued notice numbers.
    pub device_code: String,
    /// The highest `device_seq` the office holds for this device (0 if none).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_seq: u64,
    pub server_time: DateTime<Utc>,
    /// The office's Ed25519 key (hex) that signs receipts and tree heads; the device keeps it.
    #[serde(default)]
    pub office_public_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
    /// The device refreshing (as it logged in). A device session's refresh token works only for
    /// the device it was issued to; staff consoles send none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Uuid>,
}

/// A batch of events in `device_seq` order. The device is the token's device, never a request field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub events: Vec<Event>,
}

/// What happened to one pushed event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PushOutcome {
    /// Stored now.
    Accepted,
    /// Stored before (a retry); the stored copy has the same hash.
    Duplicate,
    /// Not stored and never will be: shown to the user, not retried.
    Rejected { code: ErrorCode, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    pub device_seq: u64,
    pub event_id: Uuid,
    #[serde(flatten)]
    pub outcome: PushOutcome,
    /// The office's signed receipt for a stored event (accepted, or refused for its content but
    /// kept as a link of the chain); the device keeps it as evidence against the office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
    /// The office's ledger position for this device after the batch.
    pub last_seq: u64,
    pub server_time: DateTime<Utc>,
}

/// One change in the technician's scope, in office commit order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub server_seq: u64,
    #[serde(flatten)]
    pub change: ChangeKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChangeKind {
    /// A job assigned to this user, or changed (reassigned here, rescheduled, cancelled).
    JobUpserted {
        job: Job,
    },
    /// The job is no longer this user's (reassigned elsewhere). Its unsynced local records are kept.
    JobRevoked {
        job_id: Uuid,
        reason: String,
    },
    OutageUpserted {
        notice: OutageNotice,
    },
    OutageCleared {
        id: Uuid,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Pass back as `cursor` next time; apply it in the same transaction as the changes.
    pub next_cursor: u64,
    pub has_more: bool,
    pub server_time: DateTime<Utc>,
    /// The office's latest signed tree head; the device keeps the newest it has seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree_head: Option<TreeHead>,
    /// The office's acknowledgements of this device's urgent records (accident reports): who at
    /// the office took the alert, and when. The most recent [`MAX_PULL_ACKNOWLEDGEMENTS`], on every
    /// page, whatever the cursor: a device keeps them by `event_id`, so a repeat changes nothing.
    /// Added in protocol 1 by addition: an older office sends none, an older device ignores them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledgements: Vec<AlertAcknowledgement>,
    /// The company's details as the office's admin set them (name, service hotline), on every
    /// page: the device fills them into the standard phrases and the contact card. Added in
    /// protocol 1 by addition: an older office sends none, an older device ignores them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<CompanyProfile>,
}

/// The heating company's details the field app shows: in the standard phrases
/// (「您好，我是{company}维修人员{name}」) and on the contact card left with the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct CompanyProfile {
    /// The company's name as the staff say it (XX热力公司).
    pub name: String,
    /// The service hotline (供热服务热线) left with every customer.
    pub hotline: String,
}

/// Most acknowledgements one pull answer carries (the newest first).
pub const MAX_PULL_ACKNOWLEDGEMENTS: usize = 100;

/// The office acknowledged the alert an urgent record of this device raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AlertAcknowledgement {
    /// The urgent event (its `id`), which is also the alert's id at the office.
    pub event_id: Uuid,
    pub job_id: Uuid,
    /// Who acknowledged it: their name as the office shows it.
    pub acknowledged_by: String,
    pub acknowledged_at: DateTime<Utc>,
}

/// Start (or look up) a resumable upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct AttachmentCreate {
    pub sha256: Digest,
    pub size: u64,
    pub mime: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentStatus {
    pub sha256: Digest,
    /// Bytes the office holds; the next PATCH starts here.
    pub offset: u64,
    pub size: u64,
    /// True once all bytes arrived and their SHA-256 matched.
    pub complete: bool,
}

/// Every error response: a stable code to branch on and a message for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorBody {
    /// A code from the closed vocabulary; one this build does not know reads as `unknown`.
    pub code: ErrorCode,
    pub message: String,
    /// For `sequence_gap` (409): the `device_seq` the office expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(as = "Option<f64>", optional))]
    pub expected_seq: Option<u64>,
}

/// Most clock jumps in one report.
pub const MAX_CLOCK_JUMPS: usize = 100;

/// `POST /sync/clock-jumps`: jumps of the device's wall clock its monotonic clock saw (the
/// device's `ClockWatch`), reported by the next sync pass. Kept once per `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ClockJumpReport {
    pub jumps: Vec<ClockJumpRecord>,
}

/// One jump of a device's wall clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClockJumpRecord {
    pub id: Uuid,
    /// The device's wall clock at the reading before the jump, and at the one that saw it.
    pub wall_before: DateTime<Utc>,
    pub wall_after: DateTime<Utc>,
    /// How far the wall clock moved beyond the time that really passed (negative: backwards).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub jump_ms: i64,
    /// Seen across a restart of the phone: a backward jump of at least `jump_ms`.
    pub rebooted: bool,
}

/// The office's answer to a [`ClockJumpReport`]: the ids it holds (new or already known).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ClockJumpAck {
    pub stored: Vec<Uuid>,
}
