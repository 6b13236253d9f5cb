//! Attachment metadata on PostgreSQL, as `sqlite/attachments.rs`: which content a user's accepted
//! events reference (the upload scope), each uploader's upload sessions (`attachment_uploads`),
//! which content arrived whole (`attachments`), and who may read it. The bytes live in
//! [`crate::files::FileStore`].
//!
//! An uploader's session row is read `FOR UPDATE` before it changes, so two office processes
//! serving the same uploader's retries take turns on it.

use super::PgStore;
use crate::store::convert::{parse_digest, ts};
use crate::store::sqlite::role_str;
use crate::store::{AttachmentRow, AttachmentStore, StoreError, StoreResult, UploadRow, Uploader};
use chrono::{DateTime, Utc};
use heatcrew_protocol::Digest;
use heatcrew_protocol::sync::{AttachmentCreate, Role};
use postgres::GenericClient;
use uuid::Uuid;

/// `uploader`'s session of `sha256`; `lock` holds its row until the transaction ends.
fn upload_row(
    c: &mut impl GenericClient,
    sha256: Digest,
    key: &str,
    lock: bool,
) -> StoreResult<Option<UploadRow>> {
    let sql = if lock {
        "SELECT size, complete FROM attachment_uploads WHERE sha256 = $1 AND uploader = $2 FOR UPDATE"
    } else {
        "SELECT size, complete FROM attachment_uploads WHERE sha256 = $1 AND uploader = $2"
    };
    c.query_opt(sql, &[&sha256.to_hex(), &key])?
        .map(|r| {
            Ok(UploadRow {
                sha256,
                size: r.try_get::<_, i64>(0)? as u64,
                complete: r.try_get::<_, i64>(1)? != 0,
            })
        })
        .transpose()
}

fn exists(c: &mut impl GenericClient, sql: &str, a: &str, b: &str) -> StoreResult<bool> {
    Ok(c.query_one(sql, &[&a, &b])?.try_get(0)?)
}

impl AttachmentStore for PgStore {
    fn attachment_referenced_by(&self, sha256: Digest, user_id: Uuid) -> StoreResult<bool> {
        exists(
            &mut *self.conn()?,
            "SELECT EXISTS (SELECT 1 FROM attachment_refs WHERE sha256 = $1 AND user_id = $2)",
            &sha256.to_hex(),
            &user_id.to_string(),
        )
    }

    fn attachment_pushed_from(&self, sha256: Digest, device_id: Uuid) -> StoreResult<bool> {
        exists(
            &mut *self.conn()?,
            "SELECT EXISTS (SELECT 1 FROM attachment_refs WHERE sha256 = $1 AND device_id = $2)",
            &sha256.to_hex(),
            &device_id.to_string(),
        )
    }

    fn attachment_readable_by(&self, sha256: Digest, user_id: Uuid) -> StoreResult<bool> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT EXISTS (
                     SELECT 1 FROM attachment_uploads WHERE sha256 = $1 AND user_id = $2 AND complete = 1
                 ) OR EXISTS (
                     SELECT 1 FROM attachment_refs r JOIN jobs j ON j.id = r.job_id
                     WHERE r.sha256 = $1 AND j.assignee = $2
                       AND (r.user_id IN (SELECT user_id FROM attachment_uploads WHERE sha256 = $1 AND complete = 1)
                            OR r.device_id IN (SELECT device_id FROM attachment_uploads WHERE sha256 = $1 AND complete = 1)
                            OR r.user_id IN (SELECT id FROM users WHERE role IN ($3, $4)))
                 )",
                &[
                    &sha256.to_hex(),
                    &user_id.to_string(),
                    &role_str(Role::Dispatcher),
                    &role_str(Role::Admin),
                ],
            )?
            .try_get(0)?)
    }

    fn attachment(&self, sha256: Digest) -> StoreResult<Option<AttachmentRow>> {
        self.conn()?
            .query_opt(
                "SELECT size, mime, complete FROM attachments WHERE sha256 = $1",
                &[&sha256.to_hex()],
            )?
            .map(|r| {
                Ok(AttachmentRow {
                    sha256,
                    size: r.try_get::<_, i64>(0)? as u64,
                    mime: r.try_get(1)?,
                    complete: r.try_get::<_, i64>(2)? != 0,
                })
            })
            .transpose()
    }

    fn open_upload(
        &self,
        c: &AttachmentCreate,
        uploader: Uploader,
        now: DateTime<Utc>,
    ) -> StoreResult<(UploadRow, bool)> {
        self.write(|tx| {
            let key = uploader.key();
            let found = upload_row(tx, c.sha256, &key, true)?;
            let answer = match found {
                Some(row) if row.complete || row.size == c.size => (row, false),
                found => {
                    // A first announcement racing another of the same uploader: the insert waits for
                    // the other's commit, then overwrites it with this size, as a later call would.
                    tx.execute(
                        "INSERT INTO attachment_uploads (sha256, uploader, device_id, user_id, size, mime, complete, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, 0, $7)
                         ON CONFLICT (sha256, uploader) DO UPDATE SET size = excluded.size, mime = excluded.mime, created_at = excluded.created_at",
                        &[
                            &c.sha256.to_hex(),
                            &key,
                            &uploader.device_id.map(|d| d.to_string()),
                            &uploader.user_id.to_string(),
                            &(c.size as i64),
                            &c.mime,
                            &ts(now),
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
            Ok(answer)
        })
    }

    fn upload(&self, sha256: Digest, uploader: Uploader) -> StoreResult<Option<UploadRow>> {
        upload_row(&mut *self.conn()?, sha256, &uploader.key(), false)
    }

    fn complete_upload(
        &self,
        sha256: Digest,
        uploader: Uploader,
        mime: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(|tx| {
            let key = uploader.key();
            let row = upload_row(tx, sha256, &key, true)?
                .ok_or_else(|| StoreError::not_found("upload session"))?;
            tx.execute(
                "UPDATE attachment_uploads SET complete = 1, completed_at = COALESCE(completed_at, $3)
                 WHERE sha256 = $1 AND uploader = $2",
                &[&sha256.to_hex(), &key, &ts(now)],
            )?;
            tx.execute(
                "INSERT INTO attachments (sha256, size, mime, complete, created_by, created_at, completed_at)
                 VALUES ($1, $2, $3, 1, $4, $5, $5)
                 ON CONFLICT (sha256) DO UPDATE SET complete = 1,
                     completed_at = COALESCE(attachments.completed_at, excluded.completed_at)",
                &[
                    &sha256.to_hex(),
                    &(row.size as i64),
                    &mime,
                    &uploader.user_id.to_string(),
                    &ts(now),
                ],
            )?;
            Ok(())
        })
    }

    fn complete_attachments(&self) -> StoreResult<Vec<Digest>> {
        self.conn()?
            .query(
                "SELECT sha256 FROM attachments WHERE complete = 1 ORDER BY sha256",
                &[],
            )?
            .iter()
            .map(|r| parse_digest(r.try_get(0)?))
            .collect()
    }
}
