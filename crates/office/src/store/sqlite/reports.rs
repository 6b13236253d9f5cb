//! Figures of the summary report that SQL answers directly.

use super::SqliteStore;
use crate::store::{Counts, ReportStore, StoreResult};

impl ReportStore for SqliteStore {
    fn counts(&self) -> StoreResult<Counts> {
        let conn = self.reader();
        let one = |sql: &str| -> StoreResult<u64> {
            Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
        };
        Ok(Counts {
            events_accepted: one("SELECT COUNT(*) FROM events WHERE status = 'accepted'")?,
            events_rejected: one("SELECT COUNT(*) FROM events WHERE status = 'rejected'")?,
            devices: one("SELECT COUNT(*) FROM devices")?,
            devices_clock_flagged: one("SELECT COUNT(*) FROM devices WHERE clock_jumps > 0")?,
            attachments_referenced: one("SELECT COUNT(DISTINCT sha256) FROM attachment_refs")?,
            attachments_received: one(
                "SELECT COUNT(*) FROM attachments WHERE complete = 1 AND sha256 IN (SELECT sha256 FROM attachment_refs)",
            )?,
        })
    }
}
