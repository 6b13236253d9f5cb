//! Service-level clocks: the 4-hour resolution target (一般故障4小时内解决), arrival against the
//! appointment window, and patrol checkpoints (head station hourly, substations twice per 24 h).
//! Pure functions of the job, what was recorded, and "now"; the office calls them with its
//! corrected clock, the device with its own. Every sum over stored times saturates
//! ([`add_saturating`]): a job with an absurd time shows absurd clocks, never a failed read.

use crate::progress::JobProgress;
use chrono::{DateTime, Duration, Utc};
use heatcrew_protocol::bounds::add_saturating;
use heatcrew_protocol::{Checkpoint, Job, Resolution};
use serde::{Deserialize, Serialize};

/// Ordinary faults are resolved within this time from the report.
pub const RESOLUTION_TARGET: Duration = Duration::hours(4);
/// Within this much of the deadline a job shows as at risk.
pub const AT_RISK_BEFORE: Duration = Duration::hours(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Sla {
    /// No reported time (patrol rounds, planned work).
    None,
    OnTrack {
        due_at: DateTime<Utc>,
    },
    AtRisk {
        due_at: DateTime<Utc>,
    },
    Breached {
        due_at: DateTime<Utc>,
    },
    Met {
        due_at: DateTime<Utc>,
        resolved_at: DateTime<Utc>,
    },
    MetLate {
        due_at: DateTime<Utc>,
        resolved_at: DateTime<Utc>,
    },
}

/// The 4-hour resolution clock of a job.
pub fn resolution(job: &Job, progress: &JobProgress, now: DateTime<Utc>) -> Sla {
    let Some(reported) = job.reported_at else {
        return Sla::None;
    };
    let due_at = add_saturating(reported, RESOLUTION_TARGET);
    match &progress.closed {
        Some(c) if c.resolution == Resolution::Resolved => {
            if c.at <= due_at {
                Sla::Met {
                    due_at,
                    resolved_at: c.at,
                }
            } else {
                Sla::MetLate {
                    due_at,
                    resolved_at: c.at,
                }
            }
        }
        _ if now > due_at => Sla::Breached { due_at },
        _ if due_at - now <= AT_RISK_BEFORE => Sla::AtRisk { due_at },
        _ => Sla::OnTrack { due_at },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Arrival {
    NotArrived,
    Early { arrived_at: DateTime<Utc> },
    OnTime { arrived_at: DateTime<Utc> },
    Late { arrived_at: DateTime<Utc> },
}

/// Arrival (the `arrive` step) against the appointment window.
pub fn arrival(job: &Job, progress: &JobProgress) -> Arrival {
    let Some(arrived_at) = progress.steps.get("arrive").map(|s| s.at()) else {
        return Arrival::NotArrived;
    };
    match job.window {
        Some(w) if arrived_at < w.start => Arrival::Early { arrived_at },
        Some(w) if arrived_at > w.end => Arrival::Late { arrived_at },
        _ => Arrival::OnTime { arrived_at },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CheckpointState {
    /// Visited, next visit not yet due.
    Done,
    /// Due now, within the grace period.
    Due,
    /// Past the grace period, within one interval.
    Late,
    /// A whole interval or more overdue: at least one round was missed.
    Missed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointClock {
    pub state: CheckpointState,
    pub next_due_at: DateTime<Utc>,
    pub last_visit_at: Option<DateTime<Utc>>,
    pub missed_rounds: u32,
}

/// Where a checkpoint stands: due every `interval` after the last visit (or from the round's start
/// if never visited); a quarter interval of grace before it counts as late.
pub fn checkpoint(
    cp: &Checkpoint,
    last_visit_at: Option<DateTime<Utc>>,
    round_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> CheckpointClock {
    let interval = Duration::minutes(i64::from(cp.interval_minutes().max(1)));
    let next_due_at = last_visit_at.map_or(round_start, |v| add_saturating(v, interval));
    let over = now - next_due_at;
    let (state, missed_rounds) = if over < Duration::zero() {
        // Visited and not yet due again; a checkpoint never visited is due as the round starts.
        let state = if last_visit_at.is_some() {
            CheckpointState::Done
        } else {
            CheckpointState::Due
        };
        (state, 0)
    } else if over < interval / 4 {
        (CheckpointState::Due, 0)
    } else if over < interval {
        (CheckpointState::Late, 0)
    } else {
        let missed = over.num_minutes() / interval.num_minutes();
        (
            CheckpointState::Missed,
            u32::try_from(missed).unwrap_or(u32::MAX),
        )
    };
    CheckpointClock {
        state,
        next_due_at,
        last_visit_at,
        missed_rounds,
    }
}

/// When a patrol round starts counting: the shift window's start, else the reported time.
pub fn round_start(job: &Job) -> Option<DateTime<Utc>> {
    job.window.map(|w| w.start).or(job.reported_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use heatcrew_protocol::{AppointmentWindow, CheckpointKind, JobKind, JobStatus, TemplateRef};
    use uuid::Uuid;

    fn job(reported_at: Option<DateTime<Utc>>) -> Job {
        Job {
            id: Uuid::from_u128(1),
            kind: JobKind::HomeRepair,
            template: TemplateRef {
                id: "home_repair".into(),
                version: 1,
            },
            title: "暖气不热".into(),
            customer: None,
            site: None,
            reported_at,
            window: None,
            assignee: None,
            street_work: false,
            checkpoints: vec![],
            status: JobStatus::Open,
            revision: 1,
        }
    }

    #[test]
    fn absurd_times_give_absurd_clocks_not_panics() {
        let max = DateTime::<Utc>::MAX_UTC;
        let min = DateTime::<Utc>::MIN_UTC;
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let progress = JobProgress::default();
        assert_eq!(
            resolution(&job(Some(max - Duration::hours(1))), &progress, now),
            Sla::OnTrack { due_at: max },
            "a report at the end of time is due at the end of time"
        );
        assert_eq!(
            resolution(&job(Some(min)), &progress, max),
            Sla::Breached {
                due_at: min + RESOLUTION_TARGET
            },
            "a report at the start of time, read at its end"
        );
        let mut windowed = job(None);
        windowed.window = Some(AppointmentWindow {
            start: max,
            end: min,
        });
        assert_eq!(
            arrival(&windowed, &progress),
            Arrival::NotArrived,
            "no arrival"
        );
        for interval in [Some(0), Some(1), Some(u32::MAX), None] {
            let cp = Checkpoint {
                id: "hs".into(),
                name: "首站".into(),
                kind: CheckpointKind::HeadStation,
                readings: vec![],
                interval_minutes: interval,
                code_sha256: None,
            };
            for (last, start, at) in [
                (Some(max), min, now),
                (None, min, max),
                (Some(min), max, min),
                (None, max, min),
            ] {
                let clock = checkpoint(&cp, last, start, at);
                assert!(
                    clock.next_due_at >= min && clock.next_due_at <= max,
                    "every {interval:?} min, last {last:?}, start {start}, now {at}: {clock:?}"
                );
            }
        }
    }
}
