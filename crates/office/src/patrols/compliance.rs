//! Patrol compliance: each expected round of each checkpoint judged on time, late or missed, and
//! readings outside their normal range flagged. The rounds and their judgement are the phone's
//! (`heatcrew_rules::rounds`, docs/domain.md "Late and missed rounds"); what is the office's own:
//!
//! - **Expected.** A round is expected when it starts inside one of the plan's shifts that began on
//!   a day of its season, not before the plan existed and not after an edit retired it (the shifts
//!   the plan opens round jobs for).
//! - **Visits** are accepted `reading_recorded` events at that checkpoint on the plan's round
//!   jobs, at their corrected time (device time plus the device's clock offset).
//! - **Pending** rounds (their grace still ahead) are shown but counted in no figure.

use super::{PatrolPlan, PlannedRound};
use crate::readback::corrected;
use crate::store::{OfficeStore, Route, StoreResult, StoredEvent};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use heatcrew_protocol::{Checkpoint, EventBody};
use heatcrew_rules::rounds::{self, Rounds};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum RoundState {
    OnTime,
    Late,
    Missed,
    Pending,
}

impl From<rounds::RoundState> for RoundState {
    fn from(s: rounds::RoundState) -> Self {
        match s {
            rounds::RoundState::OnTime => Self::OnTime,
            rounds::RoundState::Late => Self::Late,
            rounds::RoundState::Missed => Self::Missed,
            rounds::RoundState::Pending => Self::Pending,
        }
    }
}

/// One expected round of one checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RoundResult {
    pub checkpoint: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub state: RoundState,
    pub visited_at: Option<DateTime<Utc>>,
}

/// The expected rounds of `cp` under `plan` on the local dates `first..=last`: the rounds of
/// [`Rounds`] (the phone's clock) that start inside a shift the plan generates a round job for.
pub fn expected_slots(
    plan: &PatrolPlan,
    cp: &Checkpoint,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let tz = plan.tz();
    let rounds = Rounds::new(plan.interval(cp), plan.utc_offset_minutes);
    let mut slots = Vec::new();
    for date in first.iter_days().take_while(|d| *d <= last) {
        let (Some(day), Some(next)) = (
            tz.from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
                .single(),
            date.succ_opt().and_then(|n| {
                tz.from_local_datetime(&n.and_time(chrono::NaiveTime::MIN))
                    .single()
            }),
        ) else {
            continue;
        };
        let (day, next) = (day.with_timezone(&Utc), next.with_timezone(&Utc));
        slots.extend(
            rounds
                .starting_in(day, next)
                .into_iter()
                .filter(|(start, _)| {
                    plan.shift_at(*start).is_some_and(|(s, ..)| {
                        plan.generates(s) && plan.operates_on(s.with_timezone(&tz).date_naive())
                    })
                }),
        );
    }
    slots
}

/// Judge `slots` (in order) against `visits` (any order) at `now`: [`rounds::grade`], the rule
/// the phone shows.
pub fn grade(
    checkpoint: &str,
    slots: &[(DateTime<Utc>, DateTime<Utc>)],
    visits: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Vec<RoundResult> {
    rounds::grade(slots, visits, now)
        .into_iter()
        .map(|r| RoundResult {
            checkpoint: checkpoint.to_owned(),
            start: r.start,
            end: r.end,
            state: r.state.into(),
            visited_at: r.visited_at,
        })
        .collect()
}

/// Counts of judged rounds (pending ones are left out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CheckpointFigures {
    #[ts(type = "number")]
    pub on_time: u64,
    #[ts(type = "number")]
    pub late: u64,
    #[ts(type = "number")]
    pub missed: u64,
    /// Not yet judged (shown, never counted in a rate).
    #[ts(type = "number")]
    pub pending: u64,
}

impl CheckpointFigures {
    pub fn add(&mut self, state: RoundState) {
        match state {
            RoundState::OnTime => self.on_time += 1,
            RoundState::Late => self.late += 1,
            RoundState::Missed => self.missed += 1,
            RoundState::Pending => self.pending += 1,
        }
    }
}

/// Patrol checkpoints on time / late / missed for rounds starting in `from..to`: a plain count for
/// the KPI dashboard.
pub fn checkpoint_figures(
    rounds: &[RoundResult],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CheckpointFigures {
    let mut f = CheckpointFigures::default();
    for r in rounds.iter().filter(|r| r.start >= from && r.start < to) {
        f.add(r.state);
    }
    f
}

/// A reading outside its checkpoint's normal range.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct FlaggedReading {
    pub job_id: Uuid,
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub checkpoint: String,
    pub checkpoint_name: String,
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    pub value: f64,
    pub unit: String,
    pub normal_min: Option<f64>,
    pub normal_max: Option<f64>,
    pub at: DateTime<Utc>,
}

/// The readings of `events` (a round job's) outside the normal ranges of `checkpoints`.
pub fn flagged_readings(
    job_id: Uuid,
    checkpoints: &[Checkpoint],
    events: &[StoredEvent],
) -> Vec<FlaggedReading> {
    let mut out = Vec::new();
    for e in events.iter().filter(|e| e.accepted) {
        let Ok(EventBody::ReadingRecorded {
            checkpoint,
            readings,
            ..
        }) = EventBody::from_parts(&e.event.unsigned.kind, &e.event.unsigned.payload)
        else {
            continue;
        };
        let Some(cp) = checkpoints.iter().find(|c| c.id == checkpoint) else {
            continue;
        };
        for r in readings {
            let Some(spec) = cp.readings.iter().find(|s| s.key == r.key) else {
                continue;
            };
            let low = spec.normal_min.is_some_and(|m| r.value < m);
            let high = spec.normal_max.is_some_and(|m| r.value > m);
            if low || high || !r.value.is_finite() {
                out.push(FlaggedReading {
                    job_id,
                    event_id: e.event.unsigned.id,
                    user_id: e.user_id,
                    checkpoint: cp.id.clone(),
                    checkpoint_name: cp.name.clone(),
                    key: r.key.clone(),
                    label_zh: spec.label_zh.clone(),
                    label_en: spec.label_en.clone(),
                    value: r.value,
                    unit: spec.unit.clone(),
                    normal_min: spec.normal_min,
                    normal_max: spec.normal_max,
                    at: corrected(e),
                });
            }
        }
    }
    out
}

/// A plan's rounds and flagged readings over local dates `first..=last`.
#[derive(Debug, Clone, Default)]
pub struct PlanCompliance {
    pub rounds: Vec<RoundResult>,
    pub flagged: Vec<FlaggedReading>,
}

/// Judge every checkpoint of `plan` (on `route`) over the local dates `first..=last` at `now`.
pub fn plan_compliance(
    store: &dyn OfficeStore,
    plan: &PatrolPlan,
    route: &Route,
    first: NaiveDate,
    last: NaiveDate,
    now: DateTime<Utc>,
) -> StoreResult<PlanCompliance> {
    let rounds: Vec<PlannedRound> = store.plan_rounds(plan.id)?;
    let ids: Vec<Uuid> = rounds.iter().map(|r| r.job_id).collect();
    let events = store.jobs_events(&ids)?;
    let mut visits: BTreeMap<String, Vec<DateTime<Utc>>> = BTreeMap::new();
    let mut out = PlanCompliance::default();
    for r in &rounds {
        let evs = events.get(&r.job_id).map(Vec::as_slice).unwrap_or(&[]);
        let checkpoints = store
            .job(r.job_id)?
            .map(|j| j.job.checkpoints)
            .unwrap_or_default();
        out.flagged
            .extend(flagged_readings(r.job_id, &checkpoints, evs));
        for e in evs.iter().filter(|e| e.accepted) {
            if let Ok(EventBody::ReadingRecorded { checkpoint, .. }) =
                EventBody::from_parts(&e.event.unsigned.kind, &e.event.unsigned.payload)
            {
                visits.entry(checkpoint).or_default().push(corrected(e));
            }
        }
    }
    let tz = plan.tz();
    let in_range = |t: DateTime<Utc>| {
        let d = t.with_timezone(&tz).date_naive();
        d >= first && d <= last
    };
    out.flagged.retain(|f| in_range(f.at));
    out.flagged.sort_by_key(|f| f.at);
    // A late visit for the last slot of the day before `first` must not count twice: judge from a
    // day earlier and keep the days asked for.
    let from = first.pred_opt().unwrap_or(first);
    for cp in &route.checkpoints {
        let slots = expected_slots(plan, cp, from, last);
        let seen = visits.get(&cp.id).map(Vec::as_slice).unwrap_or(&[]);
        out.rounds.extend(
            grade(&cp.id, &slots, seen, now)
                .into_iter()
                .filter(|r| in_range(r.start)),
        );
    }
    Ok(out)
}

/// Patrol checkpoints on time / late / missed over every plan for rounds starting in `from..to`
/// (the KPI dashboard's figure).
pub fn patrol_figures(
    store: &dyn OfficeStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<CheckpointFigures> {
    let mut f = CheckpointFigures::default();
    for plan in store.plans()? {
        let Some(route) = store.route(plan.route_id)? else {
            continue;
        };
        let tz = plan.tz();
        let first = from.with_timezone(&tz).date_naive();
        let last = to.with_timezone(&tz).date_naive();
        let c = plan_compliance(store, &plan, &route, first, last, now)?;
        let part = checkpoint_figures(&c.rounds, from, to);
        f.on_time += part.on_time;
        f.late += part.late;
        f.missed += part.missed;
        f.pending += part.pending;
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t(h: i64, m: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 - 1_800_000_000 % 86_400, 0).expect("time")
            + Duration::hours(h)
            + Duration::minutes(m)
    }

    fn hourly(n: i64) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        (0..n).map(|h| (t(h, 0), t(h + 1, 0))).collect()
    }

    #[test]
    fn rounds_not_yet_past_their_grace_are_pending_and_not_counted() {
        let r = grade("hs", &hourly(3), &[t(0, 5)], t(2, 20));
        let states: Vec<_> = r.iter().map(|r| r.state).collect();
        assert_eq!(
            states,
            [RoundState::OnTime, RoundState::Missed, RoundState::Pending],
            "1–2 is judged at 2:15 (missed by 2:20); 2–3 not before 3:15"
        );
        let f = checkpoint_figures(&r, t(0, 0), t(24, 0));
        assert_eq!(
            (f.on_time, f.late, f.missed, f.pending),
            (1, 0, 1, 1),
            "the pending round counts nowhere"
        );
    }
}
