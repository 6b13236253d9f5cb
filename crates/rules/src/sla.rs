//! Service-level clocks: the 4-hour resolution target (一般故障4小时内解决), arrival against the
//! appointment window, and the shape of a patrol checkpoint's clock (the rounds themselves, head
//! station hourly and substations twice per 24 h, are in [`crate::rounds`]).
//! Pure functions of the job, what was recorded, and "now"; the office calls them with its
//! corrected clock, the device with its own. Every sum over stored times saturates
//! ([`add_saturating`]): a job with an absurd time shows absurd clocks, never a failed read.

use crate::progress::JobProgress;
use chrono::{DateTime, Duration, Utc};
use heatcrew_protocol::bounds::add_saturating;
use heatcrew_protocol::{Job, Resolution};
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
    /// The running round is visited (or every round owed is over, none missed).
    Done,
    /// The running round — or the first, before the shift starts — waits for a visit.
    Due,
    /// A round ended unvisited and its grace is running: a visit now counts late.
    Late,
    /// The last judged round was missed and the running one is not visited yet.
    Missed,
}

/// Where one checkpoint stands ([`crate::rounds::checkpoint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointClock {
    pub state: CheckpointState,
    /// When the round to visit next starts.
    pub opens_at: DateTime<Utc>,
    /// When it ends: the deadline to be on time.
    pub next_due_at: DateTime<Utc>,
    pub last_visit_at: Option<DateTime<Utc>>,
    /// Owed rounds judged missed so far.
    pub missed_rounds: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use heatcrew_protocol::{AppointmentWindow, JobKind, JobStatus, TemplateRef};
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
            utc_offset_minutes: None,
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
    }
}
