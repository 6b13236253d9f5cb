//! Honest time on the device (docs/design.md, "Device time").
//!
//! The phone's wall clock can be wrong (set by hand, a dead battery, a SIM that lies) and can jump
//! while the app runs. Two things keep the screens honest:
//!
//! - **Office-corrected now.** Every office answer carries the office's clock; the store keeps
//!   `office − device` ([`Store::note_server_time`](crate::Store::note_server_time)). Countdowns,
//!   deadlines, notice dates and "today" use [`Store::office_now`]: the device clock plus that
//!   offset. Records keep the raw device time they were signed with (the office corrects it).
//! - **Jumps seen by the monotonic clock.** [`ClockWatch::check`] compares how far the wall clock
//!   moved with how far a clock nobody can set moved since the last check (between actions, sync
//!   passes and app runs). A difference over [`JUMP_TOLERANCE_MS`] is a jump: it is recorded in
//!   `clock_jumps` (reported to the office by the next sync pass) and the kept offset is shifted
//!   by the jump, so corrected time stays right before the next office answer.
//!
//! The monotonic clock is `CLOCK_BOOTTIME` on Linux and Android (it counts time asleep, so a phone
//! in a pocket is not a jump), tagged with the kernel's boot id. **What survives a reboot**: the
//! last reading is kept in the database, so a jump while the app was closed is measured exactly as
//! long as the phone did not restart. Across a restart the boottime starts again from zero: only
//! a wall clock that went *backwards* past the last reading can be told (recorded as a jump of at
//! least that much, `rebooted`); a forward jump while switched off looks like time passing, and
//! the next office answer corrects it. On other platforms the monotonic clock is the process's
//! own, so jumps are seen within one run of the app only.

use crate::error::Result;
use crate::store::{Store, format_time, parse_time, parse_uuid};
use chrono::{DateTime, Duration, Utc};
use heatcrew_protocol::sync::ClockJumpRecord;
use rusqlite::{OptionalExtension, params};
use std::sync::Arc;
use uuid::Uuid;

/// Wall and monotonic clocks may disagree by this much between two checks before it is a jump
/// (network time nudges the wall clock by milliseconds; countdowns are in minutes).
pub const JUMP_TOLERANCE_MS: i64 = 60_000;

/// Persist the last reading at most this often when nothing jumped (a reading is one row write).
const PERSIST_EVERY_MS: u64 = 60_000;

/// A reading of the monotonic clock: milliseconds since `boot`, which names this boot (or, where
/// the platform has no boot id, this run of the app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonoReading {
    pub boot: String,
    pub ms: u64,
}

/// Where the monotonic clock comes from. Tests pass their own.
pub type Monotonic = Arc<dyn Fn() -> MonoReading + Send + Sync>;

/// The platform's monotonic clock: `CLOCK_BOOTTIME` with the kernel's boot id on Linux and Android,
/// the process's own clock elsewhere.
pub fn system_monotonic() -> Monotonic {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        if let Some(boot) = linux_boot_id() {
            return Arc::new(move || {
                let t = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
                MonoReading {
                    boot: boot.clone(),
                    ms: (t.tv_sec.max(0) as u64) * 1000 + (t.tv_nsec.max(0) as u64) / 1_000_000,
                }
            });
        }
    }
    let run = format!("run-{}", Uuid::now_v7());
    let started = std::time::Instant::now();
    Arc::new(move || MonoReading {
        boot: run.clone(),
        ms: started.elapsed().as_millis() as u64,
    })
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn linux_boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = id.trim();
    (!id.is_empty()).then(|| format!("boot-{id}"))
}

/// A jump of the device's wall clock, as recorded on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockJump {
    pub id: Uuid,
    /// The wall clock at the previous reading and now (device time).
    pub wall_before: DateTime<Utc>,
    pub wall_after: DateTime<Utc>,
    /// How far the wall clock moved beyond the time that really passed (negative: backwards).
    pub jump_ms: i64,
    /// The phone restarted in between: only a backward jump can be seen, at least this big.
    pub rebooted: bool,
}

impl ClockJump {
    /// What the office is told.
    pub fn record(&self) -> ClockJumpRecord {
        ClockJumpRecord {
            id: self.id,
            wall_before: self.wall_before,
            wall_after: self.wall_after,
            jump_ms: self.jump_ms,
            rebooted: self.rebooted,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Reading {
    wall: DateTime<Utc>,
    mono: MonoReading,
}

/// Watches the wall clock against the monotonic clock. Holds no reading of its own: the last one
/// is in the database, so any number of watches (the sync loop's, a sign-in's one-off pass) agree
/// and a jump is recorded once.
pub struct ClockWatch {
    mono: Monotonic,
}

impl std::fmt::Debug for ClockWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClockWatch").finish_non_exhaustive()
    }
}

impl ClockWatch {
    pub fn new(mono: Monotonic) -> ClockWatch {
        ClockWatch { mono }
    }

    pub fn system() -> ClockWatch {
        ClockWatch::new(system_monotonic())
    }

    /// Compare how far the wall clock moved since the kept reading with how far the monotonic
    /// clock did; record a jump if they disagree (and shift the office offset by it). The reading
    /// is kept at the first check, at a jump, after a restart, and once a minute otherwise: a
    /// reading a minute old measures a later jump just as exactly.
    pub fn check(&mut self, store: &mut Store) -> Result<Option<ClockJump>> {
        let now = Reading {
            wall: store.now(),
            mono: (self.mono)(),
        };
        let previous = load_reading(store)?;
        let jump = previous.as_ref().and_then(|before| judge(before, &now));
        let due = previous.as_ref().is_none_or(|p| {
            p.mono.boot != now.mono.boot
                || now.mono.ms < p.mono.ms
                || now.mono.ms - p.mono.ms >= PERSIST_EVERY_MS
        });
        if jump.is_some() || due {
            save(store, &now, jump.as_ref())?;
        }
        Ok(jump)
    }
}

/// A jump between two readings, if any.
fn judge(before: &Reading, now: &Reading) -> Option<ClockJump> {
    let wall_ms = (now.wall - before.wall).num_milliseconds();
    let (jump_ms, rebooted) = if before.mono.boot == now.mono.boot && now.mono.ms >= before.mono.ms
    {
        let mono_ms = i64::try_from(now.mono.ms - before.mono.ms).unwrap_or(i64::MAX);
        (wall_ms.saturating_sub(mono_ms), false)
    } else if wall_ms < 0 {
        // Restarted: time passed, never less than zero, so the wall clock went back at least this.
        (wall_ms, true)
    } else {
        return None;
    };
    (jump_ms.abs() > JUMP_TOLERANCE_MS).then(|| ClockJump {
        id: Uuid::now_v7(),
        wall_before: before.wall,
        wall_after: now.wall,
        jump_ms,
        rebooted,
    })
}

fn load_reading(store: &Store) -> Result<Option<Reading>> {
    let row = store
        .connection()
        .query_row(
            "SELECT wall_at, boot, mono_ms FROM clock_reading",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()?;
    row.map(|(wall, boot, ms)| {
        Ok(Reading {
            wall: parse_time(&wall)?,
            mono: MonoReading {
                boot,
                ms: ms.max(0) as u64,
            },
        })
    })
    .transpose()
}

/// Keep the reading and, in the same transaction, the jump and the shifted office offset.
fn save(store: &mut Store, now: &Reading, jump: Option<&ClockJump>) -> Result<()> {
    let tx = store.connection_mut().transaction()?;
    tx.execute(
        "INSERT INTO clock_reading (singleton, wall_at, boot, mono_ms) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT(singleton) DO UPDATE SET wall_at = excluded.wall_at, boot = excluded.boot,
             mono_ms = excluded.mono_ms",
        params![
            format_time(now.wall),
            now.mono.boot,
            i64::try_from(now.mono.ms).unwrap_or(i64::MAX)
        ],
    )?;
    if let Some(j) = jump {
        tx.execute(
            "INSERT INTO clock_jumps (id, wall_before, wall_after, jump_ms, rebooted)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                j.id.to_string(),
                format_time(j.wall_before),
                format_time(j.wall_after),
                j.jump_ms,
                j.rebooted
            ],
        )?;
        if !j.rebooted {
            // The device clock moved by the jump, the office's did not: office − device shrinks
            // by exactly that. (After a restart the size is unknown: the next answer sets it.)
            tx.execute(
                "UPDATE sync_state SET clock_offset_ms = clock_offset_ms - ?1",
                [j.jump_ms],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

impl Store {
    /// Office clock minus device clock, from the last office answer (shifted by any jump since).
    pub fn office_offset_ms(&self) -> Result<i64> {
        Ok(self
            .connection()
            // cached: every action reads it (`Store::today`)
            .prepare_cached("SELECT clock_offset_ms FROM sync_state")?
            .query_row([], |r| r.get(0))?)
    }

    /// Now as the office would say: the device clock corrected by the last known offset. What
    /// countdowns, deadlines, notice dates and "today" use. Falls back to the device clock if the
    /// offset cannot be read.
    pub fn office_now(&self) -> DateTime<Utc> {
        let offset = self.office_offset_ms().unwrap_or(0);
        self.now() + Duration::milliseconds(offset)
    }

    /// Jumps the office has not been told of yet, oldest first.
    pub fn unreported_clock_jumps(&self) -> Result<Vec<ClockJump>> {
        self.clock_jumps_where("reported = 0")
    }

    /// Every jump this device recorded, oldest first.
    pub fn clock_jumps(&self) -> Result<Vec<ClockJump>> {
        self.clock_jumps_where("1")
    }

    fn clock_jumps_where(&self, filter: &str) -> Result<Vec<ClockJump>> {
        let mut stmt = self.connection().prepare(&format!(
            "SELECT id, wall_before, wall_after, jump_ms, rebooted FROM clock_jumps
             WHERE {filter} ORDER BY rowid"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        rows.map(|r| {
            let (id, before, after, jump_ms, rebooted) = r?;
            Ok(ClockJump {
                id: parse_uuid(&id)?,
                wall_before: parse_time(&before)?,
                wall_after: parse_time(&after)?,
                jump_ms,
                rebooted,
            })
        })
        .collect()
    }

    /// The office stored these jumps.
    pub fn mark_clock_jumps_reported(&mut self, ids: &[Uuid]) -> Result<()> {
        let tx = self.connection_mut().transaction()?;
        for id in ids {
            tx.execute(
                "UPDATE clock_jumps SET reported = 1 WHERE id = ?1",
                [id.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(wall_s: i64, boot: &str, mono_s: u64) -> Reading {
        Reading {
            wall: DateTime::from_timestamp(1_800_000_000 + wall_s, 0).expect("time"),
            mono: MonoReading {
                boot: boot.into(),
                ms: mono_s * 1000,
            },
        }
    }

    #[test]
    fn wall_and_monotonic_moving_together_is_no_jump() {
        assert_eq!(
            judge(&reading(0, "b", 100), &reading(3600, "b", 3600 + 100)),
            None,
            "an hour on both clocks is an hour"
        );
        assert_eq!(
            judge(&reading(0, "b", 100), &reading(30, "b", 100)),
            None,
            "30 s of disagreement is within the tolerance"
        );
    }

    #[test]
    fn a_jump_either_way_is_measured_by_the_monotonic_clock() {
        let fwd = judge(&reading(0, "b", 100), &reading(72 * 3600 + 60, "b", 160)).expect("jump");
        assert_eq!(
            fwd.jump_ms,
            72 * 3600 * 1000,
            "72 h forward, beyond the minute that passed"
        );
        assert!(!fwd.rebooted, "same boot: measured exactly");
        let back = judge(&reading(0, "b", 100), &reading(-3600 + 10, "b", 110)).expect("jump");
        assert_eq!(back.jump_ms, -3600 * 1000, "an hour back");
    }

    #[test]
    fn across_a_restart_only_a_backward_jump_can_be_told() {
        assert_eq!(
            judge(&reading(0, "b1", 5000), &reading(72 * 3600, "b2", 20)),
            None,
            "forward across a restart looks like time passing while switched off"
        );
        let back = judge(&reading(0, "b1", 5000), &reading(-7200, "b2", 20)).expect("jump");
        assert!(back.rebooted, "flagged as seen across a restart");
        assert_eq!(back.jump_ms, -7200 * 1000, "at least two hours back");
        assert_eq!(
            judge(&reading(0, "b", 5000), &reading(-7200, "b", 20)).map(|j| j.rebooted),
            Some(true),
            "a monotonic clock that went back means a restart whatever the boot id says"
        );
    }
}
