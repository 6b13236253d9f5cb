//! The clock offset each record was made with, so that the phone shows a record's time as the
//! office will: its device time moved by the offset in force when it was recorded, not by the
//! offset now. After a jump of the phone's clock (set right after a reboot to a wrong date, set by
//! hand) the kept offset moves with the jump (`crate::clock`), and moving older records by it
//! would shift them by the jump: an arrival 72 hours late, a round visited tomorrow.
//!
//! The walk is the office's own (`heatcrew_rules::time::offsets`): anchored at the phone's "now"
//! with the offset it keeps, back through the records, each gap taking the jump this phone measured
//! there (or a drift backwards that only a clock set back gives). Keyed by a record's device time,
//! which the job's records and the outbox carry.

use crate::error::Result;
use crate::store::{Store, parse_time};
use chrono::{DateTime, Duration, Utc};
use heatcrew_rules::time::{self, Jump, Stamp};
use std::collections::HashMap;
use uuid::Uuid;

/// Office time for records: each record's device time moved by its own offset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordOffsets {
    now: Duration,
    by_time: HashMap<DateTime<Utc>, Duration>,
}

impl RecordOffsets {
    /// Every record at the offset `now` (nothing known of jumps).
    pub fn uniform(now: Duration) -> RecordOffsets {
        RecordOffsets {
            now,
            by_time: HashMap::new(),
        }
    }

    /// The offset the record made at device time `at` was made with (the offset now for a time
    /// not among the records: one still held behind a photo is being made now).
    pub fn at(&self, at: DateTime<Utc>) -> Duration {
        self.by_time.get(&at).copied().unwrap_or(self.now)
    }

    /// `at` (device time) in office time.
    pub fn office_time(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        heatcrew_protocol::bounds::add_saturating(at, self.at(at))
    }
}

/// The phone's clock as the walk needs it: its offset and "now", and the jumps it measured.
pub(crate) struct PhoneClock {
    offset_ms: i64,
    now: Stamp,
    jumps: Vec<Jump>,
}

impl PhoneClock {
    pub(crate) fn read(store: &Store) -> Result<PhoneClock> {
        let jumps = store
            .clock_jumps()?
            .into_iter()
            .map(|j| Jump {
                wall_before: j.wall_before,
                wall_after: j.wall_after,
                jump_ms: j.jump_ms,
            })
            .collect();
        Ok(PhoneClock {
            offset_ms: store.office_offset_ms().unwrap_or(0),
            now: Stamp {
                wall: store.now(),
                elapsed_ms: store.elapsed_ms(),
            },
            jumps,
        })
    }

    /// The offsets of records made at `stamps` (device order, oldest first).
    pub(crate) fn walk(&self, mut stamps: Vec<Stamp>) -> RecordOffsets {
        let now = Duration::milliseconds(self.offset_ms);
        if stamps.is_empty() {
            return RecordOffsets::uniform(now);
        }
        stamps.push(self.now);
        let offsets = time::offsets(&stamps, self.offset_ms, &self.jumps);
        let by_time = stamps
            .iter()
            .zip(offsets)
            .take(stamps.len() - 1)
            .map(|(s, o)| (s.wall, Duration::milliseconds(o)))
            .collect();
        RecordOffsets { now, by_time }
    }

    /// The offsets of a job's records.
    pub(crate) fn job(&self, store: &Store, job_id: Uuid) -> Result<RecordOffsets> {
        let mut stmt = store.connection().prepare_cached(
            "SELECT recorded_at, elapsed_ms FROM events WHERE job_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([job_id.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let stamps = rows
            .map(|r| {
                let (at, elapsed) = r?;
                Ok(Stamp {
                    wall: parse_time(&at)?,
                    elapsed_ms: elapsed.max(0) as u64,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(self.walk(stamps))
    }
}
