//! The audit log: who did what to accounts, devices, sessions and evidence, when, and from which
//! address. Append-only (the store has no way to change or delete an entry; the SQLite schema
//! refuses both, deletion for at least 183 days). Admins read it through
//! `GET /api/v1/console/audit` (`crate::api::console::audit`) and the console's audit page.
//!
//! A handler records with one line: `audit::record(&state, NewAudit::by(&auth, AuditKind::Export)
//! .subject(id)).await?;`.

use crate::OfficeState;
use crate::api::extract::{Auth, blocking};
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happened. Stored and filtered by its snake_case name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A password (and second factor) accepted; a session opened.
    SignIn,
    /// A sign-in refused: wrong password or code, unknown user, a device not theirs.
    SignInFailed,
    /// A device key enrolled for the first time.
    DeviceEnrolled,
    /// An admin bound a device to another user.
    DeviceMoved,
    /// An admin marked a device shared (or bound again).
    DeviceShared,
    /// An admin revoked every session of a device.
    DeviceRevoked,
    /// A session ended by its holder (log out).
    SignOut,
    /// A session ended by the office: refresh token reused or from another device, expired.
    SessionEnded,
    UserCreated,
    PasswordChanged,
    UserDeactivated,
    UserActivated,
    /// A second factor set up and confirmed.
    TotpEnabled,
    /// An evidence export (`GET /api/v1/export`).
    Export,
    /// A job's evidence bundle downloaded.
    BundleDownload,
    /// A document with customers' details taken out of the office: a service record or notice PDF
    /// (subject: the job; detail: `document`, the notice `number`, the PDF's `sha256`), the
    /// feedback CSV (detail: its filters) or a month's workbook (detail: `month`).
    DocumentDownload,
    /// An admin set the company's name or service hotline.
    CompanyProfileChanged,
    /// An admin set (or cleared) a KPI's target.
    KpiTargetChanged,
    /// A complaint or report taken (subject: its id; `crate::complaints`).
    ComplaintReceived,
    /// A complaint handed over to another person or a department, with a note.
    ComplaintHandedOver,
    /// A complaint answered.
    ComplaintReplied,
    /// The customer called back after the answer, with their satisfaction.
    ComplaintCalledBack,
    /// Office staff opened a job (subject: the job; detail: its kind and assignee).
    JobCreated,
    /// Office staff assigned or reassigned a job (detail: the assignee).
    JobAssigned,
    /// Office staff set a job's appointment window (detail: start and end).
    JobScheduled,
    /// Office staff cancelled a job (detail: the reason).
    JobCancelled,
    /// Office staff accepted a job opened in the field, which from then on counts in the KPIs
    /// (subject: the job; only the acceptance that took effect).
    FieldJobAccepted,
    /// Office staff put a route on a patrol schedule or changed one (subject: the plan in force
    /// from now; detail: the plan it replaces, its shifts and per-checkpoint intervals).
    PatrolPlanChanged,
    /// Office staff chose who re-inspects a rectification notice (detail: the re-inspector).
    NoticeReinspectorSet,
    /// Office staff recorded a re-inspection's outcome on a notice (subject: the notice; detail:
    /// the outcome, the note, the new notice), only the one that took effect.
    NoticeOutcomeRecorded,
    /// Office staff set a network defect's status by hand: fixed, dismissed, open again (subject:
    /// the defect; detail: the status and note). The register keeps only the latest; this is
    /// every change.
    DefectStatusChanged,
    /// Office staff acknowledged an urgent alert (an accident or hazard report; subject: its job;
    /// detail: the alert, i.e. the report's event id).
    AlertAcknowledged,
    /// Office staff published an outage notice (subject: the notice; detail: area, reason, times).
    OutagePublished,
    /// Office staff cleared an outage notice (subject: the notice).
    OutageCleared,
}

impl AuditKind {
    pub const ALL: &[AuditKind] = &[
        AuditKind::SignIn,
        AuditKind::SignInFailed,
        AuditKind::DeviceEnrolled,
        AuditKind::DeviceMoved,
        AuditKind::DeviceShared,
        AuditKind::DeviceRevoked,
        AuditKind::SignOut,
        AuditKind::SessionEnded,
        AuditKind::UserCreated,
        AuditKind::PasswordChanged,
        AuditKind::UserDeactivated,
        AuditKind::UserActivated,
        AuditKind::TotpEnabled,
        AuditKind::Export,
        AuditKind::BundleDownload,
        AuditKind::DocumentDownload,
        AuditKind::CompanyProfileChanged,
        AuditKind::KpiTargetChanged,
        AuditKind::ComplaintReceived,
        AuditKind::ComplaintHandedOver,
        AuditKind::ComplaintReplied,
        AuditKind::ComplaintCalledBack,
        AuditKind::JobCreated,
        AuditKind::JobAssigned,
        AuditKind::JobScheduled,
        AuditKind::JobCancelled,
        AuditKind::FieldJobAccepted,
        AuditKind::PatrolPlanChanged,
        AuditKind::NoticeReinspectorSet,
        AuditKind::NoticeOutcomeRecorded,
        AuditKind::DefectStatusChanged,
        AuditKind::AlertAcknowledged,
        AuditKind::OutagePublished,
        AuditKind::OutageCleared,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::SignIn => "sign_in",
            AuditKind::SignInFailed => "sign_in_failed",
            AuditKind::DeviceEnrolled => "device_enrolled",
            AuditKind::DeviceMoved => "device_moved",
            AuditKind::DeviceShared => "device_shared",
            AuditKind::DeviceRevoked => "device_revoked",
            AuditKind::SignOut => "sign_out",
            AuditKind::SessionEnded => "session_ended",
            AuditKind::UserCreated => "user_created",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::UserDeactivated => "user_deactivated",
            AuditKind::UserActivated => "user_activated",
            AuditKind::TotpEnabled => "totp_enabled",
            AuditKind::Export => "export",
            AuditKind::BundleDownload => "bundle_download",
            AuditKind::DocumentDownload => "document_download",
            AuditKind::CompanyProfileChanged => "company_profile_changed",
            AuditKind::KpiTargetChanged => "kpi_target_changed",
            AuditKind::ComplaintReceived => "complaint_received",
            AuditKind::ComplaintHandedOver => "complaint_handed_over",
            AuditKind::ComplaintReplied => "complaint_replied",
            AuditKind::ComplaintCalledBack => "complaint_called_back",
            AuditKind::JobCreated => "job_created",
            AuditKind::JobAssigned => "job_assigned",
            AuditKind::JobScheduled => "job_scheduled",
            AuditKind::JobCancelled => "job_cancelled",
            AuditKind::FieldJobAccepted => "field_job_accepted",
            AuditKind::PatrolPlanChanged => "patrol_plan_changed",
            AuditKind::NoticeReinspectorSet => "notice_reinspector_set",
            AuditKind::NoticeOutcomeRecorded => "notice_outcome_recorded",
            AuditKind::DefectStatusChanged => "defect_status_changed",
            AuditKind::AlertAcknowledged => "alert_acknowledged",
            AuditKind::OutagePublished => "outage_published",
            AuditKind::OutageCleared => "outage_cleared",
        }
    }

    pub fn parse(s: &str) -> Option<AuditKind> {
        AuditKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// An entry to append. `at` is set by [`record`] from the office clock.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub kind: AuditKind,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub username: String,
    pub address: String,
    pub subject: String,
    pub detail: serde_json::Value,
}

impl NewAudit {
    pub fn new(kind: AuditKind) -> NewAudit {
        NewAudit {
            kind,
            at: DateTime::<Utc>::UNIX_EPOCH,
            actor_id: None,
            username: String::new(),
            address: String::new(),
            subject: String::new(),
            detail: serde_json::Value::Object(Default::default()),
        }
    }

    /// Done by the signed-in caller, from their address.
    pub fn by(auth: &Auth, kind: AuditKind) -> NewAudit {
        NewAudit {
            actor_id: Some(auth.user.id),
            username: auth.user.username.clone(),
            address: auth.address.clone().unwrap_or_default(),
            ..NewAudit::new(kind)
        }
    }

    pub fn actor(mut self, id: Uuid, username: &str) -> NewAudit {
        self.actor_id = Some(id);
        self.username = username.to_owned();
        self
    }

    pub fn username(mut self, username: &str) -> NewAudit {
        self.username = username.to_owned();
        self
    }

    pub fn address(mut self, address: Option<&str>) -> NewAudit {
        self.address = address.unwrap_or_default().to_owned();
        self
    }

    pub fn subject(mut self, subject: impl ToString) -> NewAudit {
        self.subject = subject.to_string();
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> NewAudit {
        self.detail = detail;
        self
    }
}

/// Append `entry` at the office clock's now. A failure to record fails the request: an action
/// that cannot be audited is answered as an error (500).
pub async fn record(state: &OfficeState, mut entry: NewAudit) -> ApiResult<()> {
    entry.at = state.now();
    blocking(state, move |s| s.append_audit(&entry)).await?;
    Ok(())
}

/// An entry as stored.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AuditEntry {
    #[ts(type = "number")]
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub kind: AuditKind,
    pub actor_id: Option<Uuid>,
    pub username: String,
    pub address: String,
    pub subject: String,
    #[schema(value_type = Object)]
    #[ts(type = "Record<string, unknown>")]
    pub detail: serde_json::Value,
}

/// Which entries to read: newest first, older than `before` (keyset), matching every filter given.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    pub before: Option<u64>,
    pub limit: u32,
    /// Done by this user id or under this username.
    pub user: Option<String>,
    pub kind: Option<AuditKind>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// About this subject (a job, user or device id, as [`NewAudit::subject`] stored it): read
    /// through the log's subject index, so a job's page finds its entries without a scan.
    pub subject: Option<String>,
}
