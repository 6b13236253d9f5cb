//! Service-level clocks: the 4-hour resolution target (一般故障4小时内解决), arrival against the
//! appointment window, and patrol checkpoints (head station hourly, substations twice per 24 h).
//! Pure functions of the job, what was recorded, and "now"; the office calls them with its
//! corrected clock, the device with its own.

use crate::progress::JobProgress;
use chrono::{DateTime, Duration, Utc};
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
    let due_at = reported + RESOLUTION_TARGET;
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
    let next_due_at = last_visit_at.map_or(round_start, |v| v + interval);
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
