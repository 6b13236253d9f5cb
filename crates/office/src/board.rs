//! The dispatch board of one day, computed at the office from the ledger with the field rules
//! (`heatcrew-rules`): each job's state (assigned, arrived, in progress at step k of n, closed,
//! follow-up, cancelled), its 4-hour clock and late-arrival flag, and who it is assigned to. The
//! store answers with the day's jobs only (an indexed range), and then their events in one query
//! (each job's by the events' job index), so the board costs the same with a million events in the
//! office as with ten, and two queries however many jobs the day has.

use crate::readback::corrected;
use crate::store::{JobRecord, OfficeStore, StoreResult, StoredEvent};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use heatcrew_protocol::sync::{Role, UserInfo};
use heatcrew_protocol::{EventBody, Job, JobStatus, Resolution};
use heatcrew_rules::Localized;
use heatcrew_rules::progress::{EventMeta, JobProgress};
use heatcrew_rules::sla::{self, Arrival, Sla};
use heatcrew_rules::template;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

/// Open jobs with neither an appointment nor a report time still show (in the tray or their
/// lane); at most this many, newest first.
pub const UNDATED_LIMIT: u32 = 200;

/// Where a job stands on the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum BoardState {
    Unassigned,
    Assigned,
    /// The `arrive` step is recorded and nothing after it yet.
    Arrived,
    /// A step after arrival is recorded: `steps_done` of `steps_total`.
    InProgress,
    Closed,
    /// Closed as needing another visit.
    FollowUp,
    Cancelled,
    /// Closed at the door: nobody home, or entry refused; to be rescheduled.
    NoEntry,
}

/// Arrival against the appointment window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LateFlag {
    /// Arrived after the window ended.
    ArrivedLate,
    /// The window ended and nobody has arrived.
    NotArrived,
}

/// A checklist step by its id and its title in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct StepTitle {
    pub id: String,
    #[schema(value_type = Object)]
    pub title: Localized,
}

/// One job on the board.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct BoardJob {
    #[schema(value_type = Object)]
    pub job: Job,
    pub created_at: DateTime<Utc>,
    pub state: BoardState,
    /// Steps of the job's checklist recorded (completed or skipped)…
    pub steps_done: u32,
    /// …of the steps that apply to it (0 when this office does not know its template).
    pub steps_total: u32,
    /// The first step not yet recorded, while the job is open.
    pub next_step: Option<StepTitle>,
    /// The 4-hour resolution clock at `BoardView::now`, on the office's corrected clock.
    #[schema(value_type = Object)]
    pub sla: Sla,
    pub late: Option<LateFlag>,
    /// Office-corrected time of the `arrive` step.
    pub arrived_at: Option<DateTime<Utc>>,
    pub assignee_name: Option<String>,
    pub assignee_badge: Option<String>,
    /// Opened by a device in the field rather than by dispatch.
    pub field_created: bool,
    /// Field-created and not yet accepted by a dispatcher (`POST /console/jobs/{id}/accept`):
    /// shown with a mark and left out of the KPIs.
    pub awaiting_acceptance: bool,
    /// The customer is to be given another appointment: the visit closed as not home / no
    /// entry, or the customer asked for one (the console shows it in the tray).
    pub reschedule_requested: bool,
    /// The customer's preferred window, from their last reschedule request.
    #[schema(value_type = Option<Object>)]
    pub preferred_window: Option<heatcrew_protocol::AppointmentWindow>,
    /// A record broke a checklist rule when the office re-checked it (`crate::kpi::conformance`):
    /// the card is flagged and the job never counts as a conforming closure.
    #[serde(default)]
    pub non_conforming: bool,
}

/// The board of one day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct BoardView {
    pub date: NaiveDate,
    /// The day's bounds in UTC (`date` in the caller's UTC offset).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The office clock the clocks were computed at.
    pub now: DateTime<Utc>,
    /// The lanes: active field users, by role then name.
    #[schema(value_type = Vec<Object>)]
    pub field_users: Vec<UserInfo>,
    /// The day's jobs (by appointment, else report time), then open undated ones.
    pub jobs: Vec<BoardJob>,
}

/// The UTC bounds of a local calendar day at a fixed UTC offset (minutes east of UTC).
pub fn day_bounds(
    date: NaiveDate,
    utc_offset_minutes: i32,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let tz = FixedOffset::east_opt(utc_offset_minutes.checked_mul(60)?)?;
    let start = tz
        .from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .single()?
        .with_timezone(&Utc);
    Some((start, start.checked_add_signed(Duration::days(1))?))
}

/// Fold a job's accepted events on the office's corrected clock.
pub fn progress_of(events: &[StoredEvent]) -> JobProgress {
    let mut progress = JobProgress::default();
    for e in events.iter().filter(|e| e.accepted) {
        let u = &e.event.unsigned;
        // A kind this build does not know is kept in the ledger but cannot move the board.
        if let Ok(body) = EventBody::from_parts(&u.kind, &u.payload) {
            let meta = EventMeta {
                id: u.id,
                seq: u.device_seq,
                at: corrected(e),
            };
            progress.apply(meta, &body);
        }
    }
    progress
}

/// Where one job stands, from the job and what was recorded on it.
pub fn board_job(
    rec: &JobRecord,
    progress: &JobProgress,
    assignee: Option<&UserInfo>,
    now: DateTime<Utc>,
) -> BoardJob {
    let job = &rec.job;
    let steps: Vec<_> = template::for_job(job)
        .map(|t| t.steps_for(job.street_work).collect())
        .unwrap_or_default();
    let recorded = |id: &str| progress.steps.contains_key(id);
    let steps_done = steps.iter().filter(|s| recorded(&s.id)).count() as u32;
    let arrive_at = steps.iter().position(|s| s.id == "arrive");
    // Past arrival: a step after `arrive` in checklist order (any step, for checklists without one).
    let past_arrival = steps
        .iter()
        .enumerate()
        .any(|(i, s)| recorded(&s.id) && arrive_at.is_none_or(|a| i > a));
    let state = if job.status == JobStatus::Cancelled {
        BoardState::Cancelled
    } else if let Some(closed) = &progress.closed {
        match closed.resolution {
            Resolution::FollowUpNeeded => BoardState::FollowUp,
            Resolution::Resolved => BoardState::Closed,
            Resolution::NoEntry => BoardState::NoEntry,
        }
    } else if past_arrival {
        BoardState::InProgress
    } else if recorded("arrive") {
        BoardState::Arrived
    } else if job.assignee.is_some() {
        BoardState::Assigned
    } else {
        BoardState::Unassigned
    };
    let open = !matches!(
        state,
        BoardState::Cancelled | BoardState::Closed | BoardState::FollowUp | BoardState::NoEntry
    );
    let next_step = open
        .then(|| steps.iter().find(|s| !recorded(&s.id)))
        .flatten()
        .map(|s| StepTitle {
            id: s.id.clone(),
            title: s.title.clone(),
        });
    let arrival = sla::arrival(job, progress);
    let late = match arrival {
        Arrival::Late { .. } => Some(LateFlag::ArrivedLate),
        Arrival::NotArrived if open && job.window.is_some_and(|w| now > w.end) => {
            Some(LateFlag::NotArrived)
        }
        _ => None,
    };
    let arrived_at = match arrival {
        Arrival::NotArrived => None,
        Arrival::Early { arrived_at }
        | Arrival::OnTime { arrived_at }
        | Arrival::Late { arrived_at } => Some(arrived_at),
    };
    BoardJob {
        job: job.clone(),
        created_at: rec.created_at,
        state,
        steps_done,
        steps_total: steps.len() as u32,
        next_step,
        sla: if state == BoardState::Cancelled {
            Sla::None
        } else {
            sla::resolution(job, progress, now)
        },
        late,
        arrived_at,
        assignee_name: assignee.map(|u| u.display_name.clone()),
        assignee_badge: assignee.map(|u| u.badge_no.clone()),
        field_created: rec.field_created,
        awaiting_acceptance: rec.awaiting_acceptance(),
        reschedule_requested: progress.reschedule_wanted(),
        preferred_window: progress.reschedule_requests.last().map(|r| r.preferred),
        non_conforming: false,
    }
}

const FIELD_ROLES: [Role; 3] = [Role::RepairTechnician, Role::Inspector, Role::Patrol];

/// The board of `date` at a UTC offset: one indexed range of jobs, then all their events in one
/// query (by the events' job index), however many jobs the day has.
pub fn board(
    store: &dyn OfficeStore,
    date: NaiveDate,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<BoardView> {
    let users: HashMap<Uuid, UserInfo> =
        store.list_users()?.into_iter().map(|u| (u.id, u)).collect();
    let records = store.board_jobs(from, to, UNDATED_LIMIT)?;
    let ids: Vec<Uuid> = records.iter().map(|r| r.job.id).collect();
    let mut events = store.jobs_events(&ids)?;
    let flagged = store.non_conforming(&ids)?;
    let jobs = records
        .iter()
        .map(|rec| {
            let progress = progress_of(&events.remove(&rec.job.id).unwrap_or_default());
            let assignee = rec.job.assignee.and_then(|a| users.get(&a));
            let mut card = board_job(rec, &progress, assignee, now);
            card.non_conforming = flagged.contains(&rec.job.id);
            card
        })
        .collect();
    let inactive = store.inactive_users()?;
    let mut field_users: Vec<UserInfo> = users
        .into_values()
        .filter(|u| FIELD_ROLES.contains(&u.role) && !inactive.contains(&u.id))
        .collect();
    field_users.sort_by(|a, b| {
        let rank = |r: Role| FIELD_ROLES.iter().position(|x| *x == r);
        rank(a.role)
            .cmp(&rank(b.role))
            .then_with(|| a.display_name.cmp(&b.display_name))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(BoardView {
        date,
        from,
        to,
        now,
        field_users,
        jobs,
    })
}
