//! Attachment metadata: which content a user's accepted events reference (the upload scope), each
//! uploader's upload sessions (`attachment_uploads`), which content arrived whole (`attachments`),
//! and who may read it. The bytes live in [`crate::objects::Objects`].

use super::{SqliteStore, parse_digest, role_str, select, ts};
use crate::store::{AttachmentRow, AttachmentStore, StoreError, StoreResult, UploadRow, Uploader};
use chrono::{DateTime, Utc};
use heatcrew_protocol::Digest;
use heatcrew_protocol::sync::{AttachmentCreate, Role};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

fn upload_row(conn: &Connection, sha256: Digest, key: &str) -> StoreResult<Option<UploadRow>> {
    let row: Option<(i64, bool)> = conn
        .query_row(
            "SELECT size, complete FROM attachment_uploads WHERE sha256 = ?1 AND uploader = ?2",
            params![sha256.to_hex(), key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.map(|(size, complete)| UploadRow {
        sha256,
        size: size as u64,
        complete,
    }))
}

impl AttachmentStore for SqliteStore {
    fn attachment_referenced_by(&self, sha256: Digest, user_id: Uuid) -> StoreResult<bool> {
        Ok(self.reader().query_row(
            "SELECT EXISTS (SELECT 1 FROM attachment_refs WHERE sha256 = ?1 AND user_id = ?2)",
            [sha256.to_hex(), user_id.to_string()],
            |r| r.get(0),
        )?)
    }

    fn attachment_pushed_from(&self, sha256: Digest, device_id: Uuid) -> StoreResult<bool> {
        Ok(self.reader().query_row(
            "SELECT EXISTS (SELECT 1 FROM attachment_refs WHERE sha256 = ?1 AND device_id = ?2)",
            [sha256.to_hex(), device_id.to_string()],
            |r| r.get(0),
        )?)
    }

    fn attachment_readable_by(&self, sha256: Digest, user_id: Uuid) -> StoreResult<bool> {
        Ok(self.reader().query_row(
            "SELECT EXISTS (
                 SELECT 1 FROM attachment_uploads WHERE sha256 = ?1 AND user_id = ?2 AND complete = 1
             ) OR EXISTS (
                 SELECT 1 FROM attachment_refs r JOIN jobs j ON j.id = r.job_id
                 WHERE r.sha256 = ?1 AND j.assignee = ?2
                   AND (r.user_id IN (SELECT user_id FROM attachment_uploads WHERE sha256 = ?1 AND complete = 1)
                        OR r.device_id IN (SELECT device_id FROM attachment_uploads WHERE sha256 = ?1 AND complete = 1)
                        OR r.user_id IN (SELECT id FROM users WHERE role IN (?3, ?4)))
             )",
            params![
                sha256.to_hex(),
                user_id.to_string(),
                role_str(Role::Dispatcher),
                role_str(Role::Admin)
            ],
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

    fn open_upload(
        &self,
        c: &AttachmentCreate,
        uploader: Uploader,
        now: DateTime<Utc>,
    ) -> StoreResult<(UploadRow, bool)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let key = uploader.key();
        let found = upload_row(&tx, c.sha256, &key)?;
        let answer = match found {
            Some(row) if row.complete || row.size == c.size => (row, false),
            found => {
                tx.execute(
                    "INSERT INTO attachment_uploads (sha256, uploader, device_id, user_id, size, mime, complete, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)
                     ON CONFLICT (sha256, uploader) DO UPDATE SET size = excluded.size, mime = excluded.mime, created_at = excluded.created_at",
                    params![
                        c.sha256.to_hex(),
                        key,
                        uploader.device_id.map(|d| d.to_string()),
                        uploader.user_id.to_string(),
                        c.size as i64,
                        c.mime,
                        ts(now)
                    ],
                )?;
                let row = UploadRow {
                    sha256: c.sha256,
                    size: c.size,
                    complete: false,
                };
                (row, found.is_some())
            }
        };
        tx.commit()?;
        Ok(answer)
    }

    fn upload(&self, sha256: Digest, uploader: Uploader) -> StoreResult<Option<UploadRow>> {
        upload_row(&self.reader(), sha256, &uploader.key())
    }

    fn complete_upload(
        &self,
        sha256: Digest,
        uploader: Uploader,
        mime: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let key = uploader.key();
        let row = upload_row(&tx, sha256, &key)?
            .ok_or_else(|| StoreError::not_found("upload session"))?;
        tx.execute(
            "UPDATE attachment_uploads SET complete = 1, completed_at = COALESCE(completed_at, ?3) WHERE sha256 = ?1 AND uploader = ?2",
            params![sha256.to_hex(), key, ts(now)],
        )?;
        tx.execute(
            "INSERT INTO attachments (sha256, size, mime, complete, created_by, created_at, completed_at)
             VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)
             ON CONFLICT (sha256) DO UPDATE SET complete = 1, completed_at = COALESCE(completed_at, excluded.completed_at)",
            params![
                sha256.to_hex(),
                row.size as i64,
                mime,
                uploader.user_id.to_string(),
                ts(now)
            ],
        )?;
        tx.commit()?;
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

#[cfg(test)]
mod tests {
    use super::super::{MIGRATIONS, migrate};
    use rusqlite::Connection;

    #[test]
    fn migration_6_keeps_received_files_with_their_announcer_and_restarts_unfinished_uploads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = Connection::open(dir.path().join("office.db")).expect("open");
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).expect("older migration");
        }
        conn.pragma_update(None, "user_version", 3)
            .expect("version");
        conn.execute_batch(
            "INSERT INTO attachments (sha256, size, mime, complete, created_by, created_at, completed_at)
                 VALUES ('aa', 10, 'image/jpeg', 1, 'u1', 't0', 't1'), ('bb', 5, 'text/html', 0, 'u2', 't0', NULL);",
        )
        .expect("attachments stored before migration 6");
        migrate(&mut conn).expect("migrate");
        let uploads: Vec<(String, String, String, i64, bool)> = conn
            .prepare("SELECT sha256, uploader, user_id, size, complete FROM attachment_uploads")
            .expect("prepare")
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            uploads,
            [("aa".into(), "user-u1".into(), "u1".into(), 10, true)],
            "a received file keeps its announcer as uploader; an unfinished one has no session"
        );
        let left: Vec<String> = conn
            .prepare("SELECT sha256 FROM attachments")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(left, ["aa"], "only content that arrived stays counted");
    }
}
