//! Patrol plans and compliance (巡回检查, issue 13.7).
//!
//! - A [`PatrolPlan`] puts a route on a recurring schedule: daily shifts (start time, length, the
//!   patrol on shift), per-checkpoint intervals that override the route's (head station hourly,
//!   substations twice a day by default), an operating season, the office's time zone.
//! - [`run_due`] (the office's periodic task, [`crate::schedule`]) opens each shift's round as a
//!   `patrol_round` job for the patrol on shift, from [`LEAD`] before the shift starts until it
//!   ends. Exactly once per (plan, shift start), however many runs or processes race: the store
//!   inserts the round's row and its job in one transaction, keyed on both.
//! - [`compliance`] judges every expected round of every checkpoint on time, late or missed, and
//!   flags readings outside their normal range; [`defects`] is the defects register.

pub mod compliance;
pub mod defects;
pub mod grid;

use crate::notices::derived_id;
use crate::store::{OfficeStore, Route, StoreError, StoreResult};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use heatcrew_protocol::{ErrorCode, Job, JobKind, JobStatus, bounds::add_saturating};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// How long before its shift a round is put on the patrol's phone.
pub const LEAD: Duration = Duration::hours(12);
/// Longest plan interval: rounds are laid out per day.
pub const MAX_INTERVAL_MINUTES: u32 = 24 * 60;
/// Most shifts a plan may have per day.
pub const MAX_SHIFTS: usize = 6;

/// A daily shift of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Shift {
    /// Local start time (`08:00:00`).
    #[schema(value_type = String, example = "08:00:00")]
    #[ts(type = "string")]
    pub starts_at: NaiveTime,
    /// 1 to 24.
    pub hours: u32,
    /// The patrol on this shift: the round's assignee.
    pub assignee: Uuid,
}

/// A route on a recurring schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct PatrolPlan {
    pub id: Uuid,
    pub name: String,
    pub route_id: Uuid,
    pub shifts: Vec<Shift>,
    /// Checkpoint id → minutes between rounds, overriding the route (1 … 1440).
    #[serde(default)]
    pub intervals: BTreeMap<String, u32>,
    /// The operating season (运行期间), local dates, both ends included; `None`: open-ended.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub active_from: Option<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub active_until: Option<NaiveDate>,
    /// The plan's time zone, minutes east of UTC (480 for China).
    pub utc_offset_minutes: i32,
    pub created_at: DateTime<Utc>,
    /// When an edit replaced this plan ([`PatrolStore::revise_plan`]): its shifts starting from
    /// then are neither opened nor expected; the days before keep the schedule they ran on.
    #[serde(default)]
    pub retired_at: Option<DateTime<Utc>>,
    /// The plan this one revised.
    #[serde(default)]
    pub replaces: Option<Uuid>,
}

impl PatrolPlan {
    pub fn tz(&self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset_minutes * 60)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"))
    }

    /// Whether the plan generates the round of the shift starting at `start`: after the plan
    /// existed and before an edit retired it.
    pub fn generates(&self, start: DateTime<Utc>) -> bool {
        start >= self.created_at && self.retired_at.is_none_or(|r| start < r)
    }

    /// Whether `date` is in the operating season.
    pub fn operates_on(&self, date: NaiveDate) -> bool {
        self.active_from.is_none_or(|f| date >= f) && self.active_until.is_none_or(|u| date <= u)
    }

    /// The minutes between rounds at `cp` under this plan.
    pub fn interval(&self, cp: &heatcrew_protocol::Checkpoint) -> u32 {
        self.intervals
            .get(&cp.id)
            .copied()
            .unwrap_or_else(|| cp.interval_minutes())
            .clamp(1, MAX_INTERVAL_MINUTES)
    }

    /// Every shift (start, end, shift) starting on the local dates `first..=last`, in the season.
    pub fn shifts_on(
        &self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>, &Shift)> {
        let tz = self.tz();
        let mut out = Vec::new();
        for date in first.iter_days().take_while(|d| *d <= last) {
            if !self.operates_on(date) {
                continue;
            }
            for s in &self.shifts {
                if let Some(start) = tz.from_local_datetime(&date.and_time(s.starts_at)).single() {
                    let start = start.with_timezone(&Utc);
                    out.push((
                        start,
                        add_saturating(start, Duration::hours(i64::from(s.hours))),
                        s,
                    ));
                }
            }
        }
        out.sort_by_key(|(start, ..)| *start);
        out
    }

    /// The shift covering instant `t`, if any.
    pub fn shift_at(&self, t: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>, &Shift)> {
        let day = t.with_timezone(&self.tz()).date_naive();
        self.shifts_on(day.pred_opt()?, day)
            .into_iter()
            .find(|(s, e, _)| *s <= t && t < *e)
    }
}

/// A plan as a dispatcher asks for it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct NewPlan {
    pub name: String,
    pub route_id: Uuid,
    pub shifts: Vec<Shift>,
    #[serde(default)]
    pub intervals: BTreeMap<String, u32>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub active_from: Option<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub active_until: Option<NaiveDate>,
    #[serde(default)]
    pub utc_offset_minutes: Option<i32>,
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        code: ErrorCode::InvalidValue,
        message: message.into(),
    }
}

impl NewPlan {
    /// Check everything that does not need the store; the plan it describes for `route`. Every
    /// refusal's message starts with the field it is about (`shifts: …`), so a form shows it there.
    pub fn validate(self, route: &Route, now: DateTime<Utc>) -> StoreResult<PatrolPlan> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(invalid("name: 1 to 100 characters"));
        }
        if self.shifts.is_empty() || self.shifts.len() > MAX_SHIFTS {
            return Err(invalid(format!("shifts: 1 to {MAX_SHIFTS}")));
        }
        let offset = self
            .utc_offset_minutes
            .unwrap_or(heatcrew_protocol::DEFAULT_UTC_OFFSET_MINUTES);
        if !(-840..=840).contains(&offset) {
            return Err(invalid("utc_offset_minutes: -840 to 840"));
        }
        // Shifts may not overlap, also across midnight: minutes of the day they cover.
        let mut covered = vec![false; 24 * 60];
        for s in &self.shifts {
            if !(1..=24).contains(&s.hours) {
                return Err(invalid("shifts: a shift lasts 1 to 24 hours"));
            }
            let start = (s.starts_at.signed_duration_since(NaiveTime::MIN)).num_minutes() as usize;
            for m in 0..(s.hours as usize * 60) {
                let slot = &mut covered[(start + m) % (24 * 60)];
                if *slot {
                    return Err(invalid("shifts: they overlap (also across midnight)"));
                }
                *slot = true;
            }
        }
        for (cp, minutes) in &self.intervals {
            if !route.checkpoints.iter().any(|c| &c.id == cp) {
                return Err(invalid(format!("intervals: {cp:?} is not on the route")));
            }
            if !(1..=MAX_INTERVAL_MINUTES).contains(minutes) {
                return Err(invalid(format!(
                    "intervals: 1 to {MAX_INTERVAL_MINUTES} minutes"
                )));
            }
        }
        if let (Some(f), Some(u)) = (self.active_from, self.active_until)
            && f > u
        {
            return Err(invalid("active_until: before active_from"));
        }
        Ok(PatrolPlan {
            id: Uuid::now_v7(),
            name,
            route_id: route.id,
            shifts: self.shifts,
            intervals: self.intervals,
            active_from: self.active_from,
            active_until: self.active_until,
            utc_offset_minutes: offset,
            created_at: now,
            retired_at: None,
            replaces: None,
        })
    }
}

/// A round a plan opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRound {
    pub shift_start: DateTime<Utc>,
    pub job_id: Uuid,
}

/// Where plans, their rounds and the defects register live (`store/sqlite/patrols.rs`).
pub trait PatrolStore {
    /// Store a validated plan; its route and every shift's assignee must exist.
    fn create_plan(&self, plan: PatrolPlan) -> StoreResult<PatrolPlan>;
    fn plans(&self) -> StoreResult<Vec<PatrolPlan>>;
    fn plan(&self, id: Uuid) -> StoreResult<Option<PatrolPlan>>;
    /// Create `job` as the plan's round for the shift starting at `shift_start`, in one
    /// transaction with its row, unless that round exists: `None` then, nothing written.
    fn open_round(
        &self,
        plan_id: Uuid,
        shift_start: DateTime<Utc>,
        job: Job,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Job>>;
    /// Edit plan `id`: in one transaction it is retired at `now`, `plan` (validated, `replaces`
    /// set) is stored in its place, and the retired plan's rounds for shifts starting from `now`
    /// are cancelled (the new plan opens its own). A retired plan cannot be edited again: conflict.
    fn revise_plan(
        &self,
        id: Uuid,
        plan: PatrolPlan,
        now: DateTime<Utc>,
    ) -> StoreResult<PatrolPlan>;
    /// The rounds a plan opened, by shift start.
    fn plan_rounds(&self, plan_id: Uuid) -> StoreResult<Vec<PlannedRound>>;
    /// The defects register ([`defects`]).
    fn import_defects(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    fn defects(&self) -> StoreResult<Vec<defects::DefectRecord>>;
    fn defect(&self, id: Uuid) -> StoreResult<Option<defects::DefectRecord>>;
    /// Set a defect's status (`fixed`, `dismissed`, `open` again); `by` `None`: the office itself.
    fn set_defect_status(
        &self,
        id: Uuid,
        change: defects::StatusChange,
        now: DateTime<Utc>,
    ) -> StoreResult<defects::DefectRecord>;
    /// Create `job` as the defect's repair and mark the defect `repair_ordered`, in one
    /// transaction, unless it has a repair job already: then the defect as it is and `false`.
    fn open_repair(
        &self,
        id: Uuid,
        job: Job,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<(defects::DefectRecord, bool)>;
}

/// The round job of `plan` for the shift `start..end`, for `assignee`.
pub fn round_job(
    plan: &PatrolPlan,
    route: &Route,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    assignee: Uuid,
) -> Job {
    let kind = JobKind::PatrolRound;
    let local = start.with_timezone(&plan.tz());
    let checkpoints = route
        .checkpoints
        .iter()
        .map(|cp| {
            let mut cp = cp.clone();
            cp.interval_minutes = Some(plan.interval(&cp));
            cp
        })
        .collect();
    Job {
        id: derived_id(
            "heatcrew-patrol-round",
            &[&plan.id.to_string(), &start.timestamp().to_string()],
        ),
        kind,
        template: crate::api::jobs::template_for(kind),
        title: format!("{} {}", plan.name, local.format("%m-%d %H:%M")),
        customer: None,
        site: Some(route.area.clone()).filter(|a| !a.is_empty()),
        reported_at: None,
        window: Some(heatcrew_protocol::AppointmentWindow { start, end }),
        assignee: Some(assignee),
        street_work: false,
        checkpoints,
        status: JobStatus::Open,
        utc_offset_minutes: Some(plan.utc_offset_minutes),
        revision: 1,
    }
}

/// What one run of [`run_due`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PatrolRun {
    pub rounds_opened: u64,
    pub defects_imported: u64,
    pub defects_fixed: u64,
}

/// The periodic task: open every plan's rounds whose shift starts within [`LEAD`] and has not
/// ended (shifts that started before the plan existed are left out), import new defects, and mark
/// fixed the defects whose repair job was closed resolved. Idempotent.
pub fn run_due(store: &dyn OfficeStore, now: DateTime<Utc>) -> StoreResult<PatrolRun> {
    let mut run = PatrolRun::default();
    for plan in store.plans()? {
        let Some(route) = store.route(plan.route_id)? else {
            continue;
        };
        let today = now.with_timezone(&plan.tz()).date_naive();
        let (Some(first), Some(last)) = (today.pred_opt(), today.succ_opt()) else {
            continue;
        };
        for (start, end, shift) in plan.shifts_on(first, last) {
            if end <= now || !plan.generates(start) || start > add_saturating(now, LEAD) {
                continue;
            }
            let job = round_job(&plan, &route, start, end, shift.assignee);
            if store.open_round(plan.id, start, job, now)?.is_some() {
                run.rounds_opened += 1;
            }
        }
    }
    run.defects_imported = store.import_defects(now)?;
    run.defects_fixed = defects::close_repaired(store, now)?;
    Ok(run)
}
