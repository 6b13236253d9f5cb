//! Honest time (issue 13 point 2): the clock offset each pushed event's corrected time uses is the
//! device's offset **when the event was recorded**, not the device's offset now. The office runs
//! it on every push; the phone runs it on a job's records, anchored at its own "now" with the
//! offset it keeps and the jumps it measured, so the times it shows read as the office's
//! (`heatcrew_core::views`).
//!
//! What the office knows about a push of events `e1 … en` (device order):
//! - the device's offset at the push (`server now − X-Device-Time`, kept in `devices.clock_offset_ms`
//!   by the request extractor before the push runs): the anchor, right for the newest event unless
//!   the clock jumped after it;
//! - each event's wall time and its monotonic `elapsed_ms`: between two events the wall clock
//!   moved `Δwall`, real time passed at least `Δelapsed` (the monotonic clock stops while the app is
//!   closed or the phone sleeps, so more time may have passed), so the *drift*
//!   `Δwall − Δelapsed` is a jump of the wall clock plus any time the monotonic clock did not see;
//!   a drift below −[`TOLERANCE_MS`] can only be a clock set back;
//! - the jumps the device itself measured and reported (`device_clock_jumps`: wall before, wall
//!   after, size), which also tell a clock set forward from time asleep.
//!
//! Walking back from the newest event: `offset(e_i) = offset(e_{i+1}) + jump between them`
//! (a wall clock set forward by J makes the offset J smaller after it). A reported jump is placed
//! between the pair of events whose wall times enclose it and whose drift best matches its size
//! ([`place`]); an unreported backward drift is taken as a jump of that size; an unreported forward
//! drift is taken as time asleep. Events pushed promptly (the app pushes after every record) simply
//! get the push's offset. Not told apart: a jump after the last event of an offline push and
//! before the push itself (no later event shows it); the push's offset is then used for the whole
//! push. Jumps reach the office after the push that follows them; the store settles the device's
//! recent pushes again when they do. Pure: no storage, no clock.

use chrono::{DateTime, Utc};

/// Differences within this much are network latency and clock granularity, not jumps (the
/// device's own jump tolerance, `heatcrew_core::clock::JUMP_TOLERANCE_MS`).
pub const TOLERANCE_MS: i64 = 60_000;

/// One event of a push as the walk needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The device's wall clock when it recorded the event.
    pub wall: DateTime<Utc>,
    /// The device's monotonic milliseconds.
    pub elapsed_ms: u64,
}

/// A jump of the device's wall clock, as the device reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump {
    pub wall_before: DateTime<Utc>,
    pub wall_after: DateTime<Utc>,
    /// How far the wall clock moved beyond real time (negative: set back).
    pub jump_ms: i64,
}

fn ms(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (a - b).num_milliseconds()
}

/// Between which two of `stamps` a reported jump falls: `Some(i)` between `stamps[i]` and
/// `stamps[i+1]`; `None` when it is not inside this push. The device checks its clock after every
/// record (each record wakes a sync pass), so the reading before the jump is not before the earlier
/// event and the reading after it not much after the later one; and the pair's drift must be the
/// jump, give or take time asleep (closer to the jump than to no jump at all). `placed[i]` is the
/// sum of the jumps already placed between the pair: the wall clock had moved by them before this
/// one (a clock set back, then set forward again before the next record), and the drift left to
/// explain is the pair's drift without them.
fn place(stamps: &[Stamp], drifts: &[i64], placed: &[i64], j: &Jump) -> Option<usize> {
    let left = |i: usize| {
        drifts[i]
            .saturating_sub(placed[i])
            .saturating_sub(j.jump_ms)
    };
    (0..stamps.len().saturating_sub(1))
        .filter(|&i| {
            let earlier = stamps[i].wall + chrono::Duration::milliseconds(placed[i]);
            ms(j.wall_before, earlier) >= -TOLERANCE_MS
                && ms(stamps[i + 1].wall, j.wall_after) >= -TOLERANCE_MS
                && left(i).abs() < (j.jump_ms.abs() / 2).max(TOLERANCE_MS)
        })
        .min_by_key(|&i| left(i).unsigned_abs())
}

/// The offset (server minus device, ms) each of `stamps` (one push, device order) was recorded
/// with, given the device's offset at the push and the jumps it reported.
pub fn offsets(stamps: &[Stamp], push_offset_ms: i64, jumps: &[Jump]) -> Vec<i64> {
    let n = stamps.len();
    if n == 0 {
        return vec![];
    }
    let drifts: Vec<i64> = stamps
        .windows(2)
        .map(|w| {
            let wall = ms(w[1].wall, w[0].wall);
            let mono = w[1].elapsed_ms.saturating_sub(w[0].elapsed_ms);
            wall.saturating_sub(i64::try_from(mono).unwrap_or(i64::MAX))
        })
        .collect();
    // Reported jumps per gap: gap i is between stamps[i] and stamps[i+1]. Placed in rounds, each
    // round against the jumps placed before it, so that the result does not depend on the order
    // the jumps are listed in: a jump that only fits once another is placed in its gap (a clock
    // set back and then forward again between two records) is placed in a later round.
    let mut reported: Vec<Option<i64>> = vec![None; n];
    let mut placed = vec![false; jumps.len()];
    loop {
        let sums: Vec<i64> = reported.iter().map(|r| r.unwrap_or(0)).collect();
        let round: Vec<(usize, usize)> = jumps
            .iter()
            .enumerate()
            .filter(|(k, _)| !placed[*k])
            .filter_map(|(k, j)| place(stamps, &drifts, &sums, j).map(|i| (k, i)))
            .collect();
        if round.is_empty() {
            break;
        }
        for (k, i) in round {
            placed[k] = true;
            let r = reported[i].get_or_insert(0);
            *r = r.saturating_add(jumps[k].jump_ms);
        }
    }
    let mut out = vec![0i64; n];
    let mut cur = push_offset_ms;
    out[n - 1] = cur;
    for i in (0..n - 1).rev() {
        let jump = match reported[i] {
            Some(j) => j,
            None if drifts[i] < -TOLERANCE_MS => drifts[i],
            None => 0,
        };
        cur = cur.saturating_add(jump);
        out[i] = cur;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    const H: i64 = 3_600_000;

    fn t(h: f64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("t0")
            + Duration::milliseconds((h * H as f64) as i64)
    }

    /// A day on a phone: `true_h` real hours since t0 (the monotonic clock ran all along), shown
    /// on a wall clock `skew_h` hours off.
    fn stamp(true_h: f64, skew_h: f64) -> Stamp {
        Stamp {
            wall: t(true_h + skew_h),
            elapsed_ms: (true_h * H as f64) as u64,
        }
    }

    fn corrected(stamps: &[Stamp], offs: &[i64]) -> Vec<DateTime<Utc>> {
        stamps
            .iter()
            .zip(offs)
            .map(|(s, o)| s.wall + Duration::milliseconds(*o))
            .collect()
    }

    #[test]
    fn a_clock_set_72_hours_ahead_and_back_mid_day_offline_reads_true_times() {
        // 08:00 and 09:00 true; set +72 h at 10:00 (reported by the device); 11:00, 12:00 read
        // +72 h; set back at 13:00 (reported); 14:00 true. Pushed at 15:00 with a true clock.
        let s = [
            stamp(8.0, 0.0),
            stamp(9.0, 0.0),
            stamp(11.0, 72.0),
            stamp(12.0, 72.0),
            stamp(14.0, 0.0),
        ];
        let jumps = [
            Jump {
                wall_before: t(9.5),
                wall_after: t(10.0 + 72.0),
                jump_ms: 72 * H,
            },
            Jump {
                wall_before: t(12.5 + 72.0),
                wall_after: t(13.0),
                jump_ms: -72 * H,
            },
        ];
        let offs = offsets(&s, 0, &jumps);
        assert_eq!(
            corrected(&s, &offs),
            vec![t(8.0), t(9.0), t(11.0), t(12.0), t(14.0)]
        );
        // Without the reports the backward jump still shows in the monotonic clock; the forward
        // one cannot be told from time asleep, so the morning stays uncorrected.
        let offs = offsets(&s, 0, &[]);
        assert_eq!(corrected(&s, &offs)[2..], [t(11.0), t(12.0), t(14.0)]);
    }

    #[test]
    fn a_clock_set_back_72_hours_is_seen_by_the_monotonic_clock_alone() {
        let s = [stamp(8.0, 0.0), stamp(11.0, -72.0), stamp(14.0, -72.0)];
        // Pushed while still 72 h behind: the push's offset is +72 h.
        let offs = offsets(&s, 72 * H, &[]);
        assert_eq!(corrected(&s, &offs), vec![t(8.0), t(11.0), t(14.0)]);
    }

    #[test]
    fn time_asleep_is_not_a_jump_but_a_reported_jump_with_sleep_is() {
        // The app closed for 5 h between events (the monotonic clock saw 1 h).
        let s = [
            stamp(8.0, 0.0),
            Stamp {
                wall: t(14.0),
                elapsed_ms: (9.0 * H as f64) as u64,
            },
        ];
        assert_eq!(offsets(&s, 0, &[]), vec![0, 0]);
        // Set 72 h ahead at 09:00, then 5 h in a pocket; pushed while still ahead.
        let s = [
            stamp(8.0, 0.0),
            Stamp {
                wall: t(14.0 + 72.0),
                elapsed_ms: (9.0 * H as f64) as u64,
            },
        ];
        let jump = [Jump {
            wall_before: t(8.5),
            wall_after: t(9.0 + 72.0),
            jump_ms: 72 * H,
        }];
        let offs = offsets(&s, -72 * H, &jump);
        assert_eq!(corrected(&s, &offs), vec![t(8.0), t(14.0)]);
        // The same report does not belong to a push with no such drift.
        let calm = [stamp(8.0, 0.0), stamp(8.2, 0.0)];
        assert_eq!(offsets(&calm, 0, &jump), vec![0, 0]);
    }

    #[test]
    fn events_pushed_one_by_one_take_the_offset_at_their_push() {
        let s = [stamp(11.0, 72.0)];
        assert_eq!(corrected(&s, &offsets(&s, -72 * H, &[])), vec![t(11.0)]);
        assert!(offsets(&[], 5, &[]).is_empty());
    }

    #[test]
    fn a_clock_set_back_and_forward_again_between_two_records_takes_both_jumps() {
        // 08:00 recorded 72 h ahead; at 08:30 the clock is set back 72 h, at 08:45 an hour
        // forward (a second wrong setting); 09:00 recorded an hour ahead, and pushed so.
        let s = [stamp(8.0, 72.0), stamp(9.0, 1.0)];
        let back = Jump {
            wall_before: t(8.5 + 72.0),
            wall_after: t(8.5),
            jump_ms: -72 * H,
        };
        let forward = Jump {
            wall_before: t(8.75),
            wall_after: t(9.75),
            jump_ms: H,
        };
        for jumps in [[back, forward], [forward, back]] {
            let offs = offsets(&s, -H, &jumps);
            assert_eq!(
                corrected(&s, &offs),
                vec![t(8.0), t(9.0)],
                "both jumps, whatever order they are listed in: {jumps:?}"
            );
        }
    }
}
