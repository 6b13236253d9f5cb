//! Figures of the summary report that SQL answers directly; as `sqlite/reports.rs`.

use super::PgStore;
use crate::store::{Counts, ReportStore, StoreResult};

impl ReportStore for PgStore {
    fn counts(&self) -> StoreResult<Counts> {
        // One statement: one snapshot, so the figures agree with each other.
        let r = self.conn()?.query_one(
            "SELECT
                 (SELECT COUNT(*) FROM events WHERE status = 'accepted'),
                 (SELECT COUNT(*) FROM events WHERE status = 'rejected'),
                 (SELECT COUNT(*) FROM devices),
                 (SELECT COUNT(*) FROM devices WHERE clock_jumps > 0),
                 (SELECT COUNT(DISTINCT sha256) FROM attachment_refs),
                 (SELECT COUNT(*) FROM attachments
                  WHERE complete = 1 AND sha256 IN (SELECT sha256 FROM attachment_refs))",
            &[],
        )?;
        let n = |i: usize| -> StoreResult<u64> { Ok(r.try_get::<_, i64>(i)? as u64) };
        Ok(Counts {
            events_accepted: n(0)?,
            events_rejected: n(1)?,
            devices: n(2)?,
            devices_clock_flagged: n(3)?,
            attachments_referenced: n(4)?,
            attachments_received: n(5)?,
        })
    }
}
