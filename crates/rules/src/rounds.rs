//! Patrol rounds: one clock for the phone, the office's read-back of a round job and the office's
//! compliance grid, so a round the patrol sees as on time is on time in the figures too.
//!
//! - **Rounds.** Each local day (the job's time zone, China unless it says otherwise) is cut into
//!   rounds of the checkpoint's interval from midnight: `[00:00, 01:00)`, … for the head station,
//!   `[00:00, 12:00)`, `[12:00, 24:00)` for a substation; the last round of a day ends at midnight.
//!   Intervals longer than a day run in steps from local midnight of 1970-01-01.
//! - **Owed.** A round job owes the rounds that start inside its window; a job without one owes
//!   them from the round its report falls in up to now.
//! - **Judged.** On time: a visit inside the round. Late: none inside, but one within a quarter
//!   interval after its end (the grace). Missed: neither. Pending: the grace is still ahead. A
//!   visit serves one round only: the visit that made a round late does not make the next on time.

use crate::sla::{CheckpointClock, CheckpointState};
use chrono::{DateTime, Duration, Utc};
use heatcrew_protocol::bounds::add_saturating;
use heatcrew_protocol::{
    Checkpoint, DEFAULT_UTC_OFFSET_MINUTES, Job, MAX_UTC_OFFSET_MINUTES,
    bounds::MAX_INTERVAL_MINUTES,
};

/// Most rounds one question is answered with (the newest ones): a window of absurd length must
/// not make a read walk millions of rounds.
pub const MAX_ROUNDS: usize = 100_000;

const DAY_SECONDS: i64 = 86_400;

/// How a round was judged. The office's API names it with its own `RoundState`
/// (`crates/office/src/patrols/compliance.rs`, an exhaustive `From`), for its OpenAPI schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundState {
    OnTime,
    Late,
    Missed,
    /// Its grace is still ahead: not judged, counted in no figure.
    Pending,
}

/// One judged round of one checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub state: RoundState,
    pub visited_at: Option<DateTime<Utc>>,
}

/// How a checkpoint's time is cut into rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rounds {
    interval_seconds: i64,
    offset_seconds: i64,
}

impl Rounds {
    /// Rounds of `interval_minutes` (clamped to 1 minute … 31 days) in the time zone
    /// `utc_offset_minutes` east of UTC (clamped to ±14 h).
    pub fn new(interval_minutes: u32, utc_offset_minutes: i32) -> Self {
        Self {
            interval_seconds: i64::from(interval_minutes.clamp(1, MAX_INTERVAL_MINUTES)) * 60,
            offset_seconds: i64::from(
                utc_offset_minutes.clamp(-MAX_UTC_OFFSET_MINUTES, MAX_UTC_OFFSET_MINUTES),
            ) * 60,
        }
    }

    /// The rounds of `cp` on `job`.
    pub fn of(cp: &Checkpoint, job: &Job) -> Self {
        Self::new(
            cp.interval_minutes(),
            job.utc_offset_minutes.unwrap_or(DEFAULT_UTC_OFFSET_MINUTES),
        )
    }

    /// The round `(start, end)` that instant `t` falls in.
    pub fn containing(&self, t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let local = t.timestamp().saturating_add(self.offset_seconds);
        let (start, end) = if self.interval_seconds <= DAY_SECONDS {
            let day = local.div_euclid(DAY_SECONDS) * DAY_SECONDS;
            let start = day + (local - day) / self.interval_seconds * self.interval_seconds;
            (
                start,
                (start + self.interval_seconds).min(day + DAY_SECONDS),
            )
        } else {
            let start = local.div_euclid(self.interval_seconds) * self.interval_seconds;
            (start, start.saturating_add(self.interval_seconds))
        };
        (self.utc(start), self.utc(end))
    }

    /// The rounds starting in `from..to`, oldest first; at most [`MAX_ROUNDS`], the newest.
    pub fn starting_in(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if to <= from {
            return Vec::new();
        }
        // Walk back from the newest round so an absurd span costs MAX_ROUNDS steps at most.
        let mut out = Vec::new();
        let mut round = self.containing(to - Duration::seconds(1));
        while out.len() < MAX_ROUNDS && round.0 >= from {
            if round.0 < to {
                out.push(round);
            }
            if round.0 <= DateTime::<Utc>::MIN_UTC {
                break;
            }
            round = self.containing(round.0 - Duration::seconds(1));
        }
        // A round starting before `from` may straddle it: only rounds starting inside count.
        out.reverse();
        out
    }

    /// The rounds `job` owes at `cp` at `now`: those starting in its window, or (no window) from the
    /// round its report — else now — falls in, up to now.
    pub fn owed(&self, job: &Job, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        match job.window {
            Some(w) => self.starting_in(w.start, w.end),
            None => {
                let first = self.containing(job.reported_at.unwrap_or(now).min(now)).0;
                self.starting_in(first, add_saturating(now, Duration::seconds(1)))
            }
        }
    }

    fn utc(&self, local: i64) -> DateTime<Utc> {
        let t = local.saturating_sub(self.offset_seconds);
        DateTime::from_timestamp(t, 0).unwrap_or(if t < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
    }
}

/// Judge `rounds` (oldest first) against `visits` (any order) at `now`.
pub fn grade(
    rounds: &[(DateTime<Utc>, DateTime<Utc>)],
    visits: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Vec<Round> {
    let mut visits = visits.to_vec();
    visits.sort();
    // One cursor: rounds come in order and a visit serves one round, so every visit before the
    // cursor is used or lies before the current round (an extra visit in an earlier one).
    let mut next = 0;
    let mut out = Vec::with_capacity(rounds.len());
    for &(start, end) in rounds {
        let grace_end = add_saturating(end, (end - start) / 4);
        while next < visits.len() && visits[next] < start {
            next += 1;
        }
        let mut take = |to: DateTime<Utc>| {
            let t = *visits.get(next).filter(|t| **t < to)?;
            next += 1;
            Some(t)
        };
        let (state, visited_at) = if let Some(t) = take(end) {
            (RoundState::OnTime, Some(t))
        } else if let Some(t) = take(grace_end) {
            (RoundState::Late, Some(t))
        } else if grace_end > now {
            (RoundState::Pending, None)
        } else {
            (RoundState::Missed, None)
        };
        out.push(Round {
            start,
            end,
            state,
            visited_at,
        });
    }
    out
}

/// Where checkpoint `cp` of round job `job` stands at `now`, given its visits (any order): the
/// phone's view of the same rounds the office counts.
///
/// - **Late**: a round has ended unvisited and its grace is running: visit now and it counts late.
/// - **Done**: the running round is visited (or every owed round is over and none was missed, or
///   none is owed: the next round to start is shown).
/// - **Missed**: the last judged round was missed and the running one is not visited yet.
/// - **Due**: the running round — or the first, if none has started — waits for a visit.
///
/// `next_due_at` is when the round to visit next ends (the deadline to be on time), `opens_at` when
/// it starts; `missed_rounds` counts the owed rounds judged missed so far.
pub fn checkpoint(
    cp: &Checkpoint,
    job: &Job,
    visits: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> CheckpointClock {
    let clock = Rounds::of(cp, job);
    let owed = clock.owed(job, now);
    let judged = grade(&owed, visits, now);
    let last_visit_at = visits.iter().max().copied();
    let missed_rounds = judged
        .iter()
        .filter(|r| r.state == RoundState::Missed)
        .count();
    let missed_rounds = u32::try_from(missed_rounds).unwrap_or(u32::MAX);
    let at = |state, r: &Round| CheckpointClock {
        state,
        opens_at: r.start,
        next_due_at: r.end,
        last_visit_at,
        missed_rounds,
    };
    // A round over but still in its grace, unvisited: the most urgent thing on the list.
    if let Some(r) = judged
        .iter()
        .find(|r| r.state == RoundState::Pending && r.end <= now)
    {
        return at(CheckpointState::Late, r);
    }
    let last_judged = judged.iter().rev().find(|r| r.state != RoundState::Pending);
    let behind = if last_judged.is_some_and(|r| r.state == RoundState::Missed) {
        CheckpointState::Missed
    } else {
        CheckpointState::Due
    };
    match judged.iter().position(|r| r.start <= now && now < r.end) {
        Some(i) if judged[i].visited_at.is_some() => match judged.get(i + 1) {
            Some(next) => at(CheckpointState::Done, next),
            None => at(CheckpointState::Done, &judged[i]),
        },
        Some(i) => at(behind, &judged[i]),
        None => match (judged.first(), judged.last()) {
            (Some(first), _) if now < first.start => at(CheckpointState::Due, first),
            (_, Some(last)) => at(
                if missed_rounds > 0 {
                    CheckpointState::Missed
                } else {
                    CheckpointState::Done
                },
                last,
            ),
            // Owes no round at all (no round starts in the window): the next one to start.
            _ => {
                let (opens_at, next_due_at) = clock.containing(clock.containing(now).1);
                CheckpointClock {
                    state: CheckpointState::Done,
                    opens_at,
                    next_due_at,
                    last_visit_at,
                    missed_rounds,
                }
            }
        },
    }
}
