//! Attachment metadata: which content a user's accepted events reference (the upload scope) and
//! which files arrived whole. The bytes live in [`crate::files::FileStore`].

use super::{SqliteStore, parse_digest, select, ts};
use crate::store::{AttachmentRow, AttachmentStore, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::Digest;
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::AttachmentCreate;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

impl AttachmentStore for SqliteStore {
    fn attachment_referenced_by(&self, sha256: Digest, user_id: Uuid) -> StoreResult<bool> {
        Ok(self.reader().query_row(
            "SELECT EXISTS (SELECT 1 FROM attachment_refs WHERE sha256 = ?1 AND user_id = ?2)",
            [sha256.to_hex(), user_id.to_string()],
            |r| r.get(0),
        )?)
    }

    fn attachment(&self, sha256: Digest) -> StoreResult<Option<AttachmentRow>> {
        let conn = self.reader();
        let row: Option<(i64, String, bool)> = conn
            .query_row(
                "SELECT size, mime, complete FROM attachments WHERE sha256 = ?1",
                [sha256.to_hex()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(size, mime, complete)| AttachmentRow {
            sha256,
            size: size as u64,
            mime,
            complete,
        }))
    }

    fn create_attachment(
        &self,
        c: &AttachmentCreate,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<AttachmentRow> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO attachments (sha256, size, mime, complete, created_by, created_at) VALUES (?1, ?2, ?3, 0, ?4, ?5)",
            params![c.sha256.to_hex(), c.size as i64, c.mime, user_id.to_string(), ts(now)],
        )?;
        drop(conn);
        let row = self
            .attachment(c.sha256)?
            .ok_or_else(|| StoreError::not_found("attachment"))?;
        if row.size != c.size {
            return Err(StoreError::Conflict {
                code: ErrorCode::SizeConflict,
                message: format!(
                    "attachment {} was announced with {} bytes, not {}",
                    c.sha256, row.size, c.size
                ),
            });
        }
        Ok(row)
    }

    fn complete_attachment(&self, sha256: Digest, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE attachments SET complete = 1, completed_at = COALESCE(completed_at, ?2) WHERE sha256 = ?1",
            params![sha256.to_hex(), ts(now)],
        )?;
        Ok(())
    }

    fn complete_attachments(&self) -> StoreResult<Vec<Digest>> {
        select(
            &self.reader(),
            "SELECT sha256 FROM attachments WHERE complete = 1 ORDER BY sha256",
            [],
            |r| r.get::<_, String>(0),
            |sha| parse_digest(&sha),
        )
    }
}
