//! Jobs as the office dispatches them and devices receive them. Frozen and versioned (see crate docs).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What kind of work a job is. Each kind has a checklist template (versioned data in `heatcrew-core`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// 上门维修: appointment-based repair in a customer's home.
    HomeRepair,
    /// 违约用热/窃热稽查: heat-theft inspection.
    HeatTheftInspection,
    /// 巡回检查: a patrol round over head station, substations and pipeline segments.
    PatrolRound,
    /// 供热工程验收: acceptance inspection of finished work.
    AcceptanceInspection,
    /// 抢修: emergency repair (also what an urgent accident report opens on the device).
    EmergencyRepair,
}

impl JobKind {
    pub const ALL: [JobKind; 5] = [
        JobKind::HomeRepair,
        JobKind::HeatTheftInspection,
        JobKind::PatrolRound,
        JobKind::AcceptanceInspection,
        JobKind::EmergencyRepair,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            JobKind::HomeRepair => "home_repair",
            JobKind::HeatTheftInspection => "heat_theft_inspection",
            JobKind::PatrolRound => "patrol_round",
            JobKind::AcceptanceInspection => "acceptance_inspection",
            JobKind::EmergencyRepair => "emergency_repair",
        }
    }
}

/// A heat customer (热用户).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Customer {
    pub name: String,
    pub phone: String,
    pub address: String,
    /// 用户编号 / account number.
    #[serde(default)]
    pub account_no: String,
}

/// The time window agreed with the customer (预约时间).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "Window"))]
pub struct AppointmentWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Which checklist template (and which version of it) a job follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TemplateRef {
    pub id: String,
    pub version: u32,
}

/// A place on a patrol round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CheckpointKind {
    /// 首站: checked every hour during operation.
    HeadStation,
    /// 小区换热站: checked twice per 24 hours.
    Substation,
    /// A pipeline segment (管线段), walked once per 24 hours unless the route says otherwise.
    PipelineSegment,
}

/// A reading to take at a checkpoint, e.g. supply temperature in °C.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReadingSpec {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    pub unit: String,
    /// Values outside this range are flagged on the device (not refused: the reading is what it is).
    #[serde(default)]
    pub normal_min: Option<f64>,
    #[serde(default)]
    pub normal_max: Option<f64>,
}

/// A checkpoint on a patrol route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Checkpoint {
    pub id: String,
    pub name: String,
    pub kind: CheckpointKind,
    #[serde(default)]
    pub readings: Vec<ReadingSpec>,
    /// Overrides the interval that follows from `kind`.
    #[serde(default)]
    pub interval_minutes: Option<u32>,
    /// The SHA-256 (hex) of the code posted at the station ([`Checkpoint::code_digest`]):
    /// the device checks a scanned or typed code against it offline, without holding the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub code_sha256: Option<String>,
}

impl Checkpoint {
    /// How often this checkpoint must be visited (docs/domain.md, patrol).
    pub fn interval_minutes(&self) -> u32 {
        self.interval_minutes.unwrap_or(match self.kind {
            CheckpointKind::HeadStation => 60,
            CheckpointKind::Substation => 12 * 60,
            CheckpointKind::PipelineSegment => 24 * 60,
        })
    }

    /// The code as a person may type it: case, spaces and dashes do not matter (`hc-7k3m 9q2p`
    /// is `HC7K3M9Q2P`).
    pub fn normalize_code(code: &str) -> String {
        code.chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_uppercase)
            .collect()
    }

    /// The digest the office puts in [`Checkpoint::code_sha256`]: SHA-256 over a label, the
    /// checkpoint id and the normalized code, so one station's code is no use at another.
    pub fn code_digest(checkpoint_id: &str, code: &str) -> String {
        use sha2::{Digest as _, Sha256};
        let mut h = Sha256::new();
        h.update(b"heatcrew-checkpoint-code\0");
        h.update(checkpoint_id.as_bytes());
        h.update(b"\0");
        h.update(Self::normalize_code(code).as_bytes());
        hex::encode(h.finalize())
    }

    /// Whether `code` is the one posted at this checkpoint (false when it has none).
    pub fn code_matches(&self, code: &str) -> bool {
        self.code_sha256
            .as_deref()
            .is_some_and(|want| want == Self::code_digest(&self.id, code))
    }
}

/// Whether the office still wants the job done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    #[default]
    Open,
    Cancelled,
}

/// The company's local time zone unless a job says otherwise: China, UTC+8, no daylight saving.
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 8 * 60;
/// The widest offset a time zone has (UTC-14 … UTC+14).
pub const MAX_UTC_OFFSET_MINUTES: i32 = 14 * 60;

/// A job as dispatched to a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Job {
    pub id: Uuid,
    pub kind: JobKind,
    pub template: TemplateRef,
    /// Short human title, e.g. the fault as reported ("暖气不热").
    pub title: String,
    #[serde(default)]
    pub customer: Option<Customer>,
    /// Where the work is, when there is no customer (a substation, a street).
    #[serde(default)]
    pub site: Option<String>,
    /// When the fault was reported; the 4-hour SLA runs from here.
    #[serde(default)]
    pub reported_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub window: Option<AppointmentWindow>,
    /// The user the job is assigned to.
    #[serde(default)]
    pub assignee: Option<Uuid>,
    /// Street work that affects traffic: safety signs must be hung.
    #[serde(default)]
    pub street_work: bool,
    /// Patrol rounds: the checkpoints to visit.
    #[serde(default)]
    pub checkpoints: Vec<Checkpoint>,
    #[serde(default)]
    pub status: JobStatus,
    /// The local time zone of a patrol round job, minutes east of UTC: where its days start and its
    /// rounds are cut (`None`: [`DEFAULT_UTC_OFFSET_MINUTES`], China).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_minutes: Option<i32>,
    /// Bumped by the office on each change, so a device can tell newer from older.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub revision: u64,
}

/// A planned or unplanned heating outage that crews at the door should know about (停热通知).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutageNotice {
    pub id: Uuid,
    pub area: String,
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    /// 预计恢复供热时间.
    pub expected_restore_at: DateTime<Utc>,
}
