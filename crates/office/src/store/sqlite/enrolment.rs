//! Devices (enrolled keys, short codes, clock offsets) and the sessions their tokens open: refresh
//! rotation with reuse detection, revocation.

use super::accounts::{USER_COLS, user_at, user_info};
use super::{SqliteStore, parse_ts, parse_uuid, select, ts};
use crate::ledger::makers::StoredSignIn;
use crate::store::{
    DeviceRecord, EnrolmentStore, NewSession, RefreshOutcome, Rotation, SessionRecord, StoreError,
    StoreResult,
};
use chrono::{DateTime, Utc};
use heatcrew_protocol::Digest;
use heatcrew_protocol::ErrorCode;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

/// Clock offsets that differ by less than this from the stored one are not recorded again.
const CLOCK_NOISE_MS: i64 = 1000;

const DEVICE_COLS: &str = "id, public_key, code, name, user_id, enrolled_at, last_seq, clock_offset_ms, clock_jumps, shared, last_sync_at, app_version";

/// `DEVICE_COLS` as read.
type DeviceRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    i64,
    bool,
    Option<String>,
    Option<String>,
);

fn device_record(t: DeviceRow) -> StoreResult<DeviceRecord> {
    Ok(DeviceRecord {
        id: parse_uuid(&t.0)?,
        public_key: t.1,
        code: t.2,
        name: t.3,
        user_id: parse_uuid(&t.4)?,
        enrolled_at: parse_ts(&t.5)?,
        last_seq: t.6 as u64,
        clock_offset_ms: t.7,
        clock_jumps: t.8 as u64,
        shared: t.9,
        last_sync_at: t.10.as_deref().map(parse_ts).transpose()?,
        app_version: t.11,
    })
}

/// Devices matching `filter` (a `WHERE`/`ORDER BY` tail).
fn select_devices(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<DeviceRecord>> {
    select(
        conn,
        &format!("SELECT {DEVICE_COLS} FROM devices {filter}"),
        params,
        |r| DeviceRow::try_from(r),
        device_record,
    )
}

/// id, user, device, refresh expiry, revoked, current used, current refresh hash, absolute expiry,
/// last seen.
type RefreshRow = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    bool,
    Option<String>,
    String,
    String,
);

fn one_device(tx: &Connection, device_id: Uuid) -> StoreResult<DeviceRecord> {
    select_devices(tx, "WHERE id = ?1", [device_id.to_string()])?
        .pop()
        .ok_or_else(|| StoreError::not_found(format!("device {device_id}")))
}

impl EnrolmentStore for SqliteStore {
    fn enrol_device(
        &self,
        device_id: Uuid,
        public_key: &str,
        name: &str,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<DeviceRecord> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: Option<(String, String, bool)> = tx
            .query_row(
                "SELECT public_key, user_id, shared FROM devices WHERE id = ?1",
                [device_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match known {
            Some((k, _, _)) if k != public_key => {
                return Err(StoreError::Conflict {
                    code: ErrorCode::DeviceKeyMismatch,
                    message: format!(
                        "device {device_id} is enrolled with another key; a reinstalled app must use a new device id"
                    ),
                });
            }
            Some((_, bound, shared)) if bound != user_id.to_string() && !shared => {
                return Err(StoreError::Conflict {
                    code: ErrorCode::DeviceOtherUser,
                    message: format!(
                        "device {device_id} belongs to another user; an admin can mark it shared (a crew's phone) or move it to you"
                    ),
                });
            }
            Some(_) => {
                // The binding stays: a shared phone stays its first user's, whoever signs in.
                tx.execute(
                    "UPDATE devices SET name = CASE WHEN ?2 = '' THEN name ELSE ?2 END WHERE id = ?1",
                    params![device_id.to_string(), name],
                )?;
            }
            None => {
                let next: i64 = tx.query_row(
                    "SELECT COALESCE(MAX(code_no), 0) + 1 FROM devices",
                    [],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "INSERT INTO devices (id, public_key, code, code_no, name, user_id, enrolled_at, last_seq, last_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
                    params![device_id.to_string(), public_key, format!("D{next:04}"), next, name, user_id.to_string(), ts(now), Digest::GENESIS.to_hex()],
                )?;
            }
        }
        let rec = one_device(&tx, device_id)?;
        tx.commit()?;
        Ok(rec)
    }

    fn device(&self, id: Uuid) -> StoreResult<Option<DeviceRecord>> {
        Ok(select_devices(&self.reader(), "WHERE id = ?1", [id.to_string()])?.pop())
    }

    fn move_device(
        &self,
        device_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<(DeviceRecord, u64)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        super::accounts::require_user(&tx, user_id)?;
        let n = tx.execute(
            "UPDATE devices SET user_id = ?2, shared = 0 WHERE id = ?1",
            params![device_id.to_string(), user_id.to_string()],
        )?;
        if n == 0 {
            return Err(StoreError::not_found(format!("device {device_id}")));
        }
        let revoked = tx.execute(
            "UPDATE sessions SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
            params![device_id.to_string(), ts(now)],
        )?;
        let rec = one_device(&tx, device_id)?;
        tx.commit()?;
        Ok((rec, revoked as u64))
    }

    fn set_device_shared(&self, device_id: Uuid, shared: bool) -> StoreResult<DeviceRecord> {
        let conn = self.conn();
        let n = conn.execute(
            "UPDATE devices SET shared = ?2 WHERE id = ?1",
            params![device_id.to_string(), shared],
        )?;
        if n == 0 {
            return Err(StoreError::not_found(format!("device {device_id}")));
        }
        one_device(&conn, device_id)
    }

    fn list_devices(&self) -> StoreResult<Vec<DeviceRecord>> {
        select_devices(&self.reader(), "ORDER BY code_no", [])
    }

    fn record_clock_offset(
        &self,
        device_id: Uuid,
        offset_ms: i64,
        jump_ms: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // Devices send their clock on every request: an offset within a second of the stored one is
        // network latency, not news, and is not worth a write (and an fsync) per request.
        let stored: Option<Option<i64>> = self
            .reader()
            .query_row(
                "SELECT clock_offset_ms FROM devices WHERE id = ?1",
                [device_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(Some(p)) = stored
            && (p - offset_ms).abs() <= CLOCK_NOISE_MS
        {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let prev: Option<Option<i64>> = tx
            .query_row(
                "SELECT clock_offset_ms FROM devices WHERE id = ?1",
                [device_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(prev) = prev else {
            return Err(StoreError::not_found(format!("device {device_id}")));
        };
        let jumped = prev.is_some_and(|p| (p - offset_ms).abs() > jump_ms);
        if jumped {
            tx.execute(
                "INSERT INTO clock_jumps (device_id, at, from_ms, to_ms) VALUES (?1, ?2, ?3, ?4)",
                params![device_id.to_string(), ts(now), prev, offset_ms],
            )?;
        }
        tx.execute(
            "UPDATE devices SET clock_offset_ms = ?2, clock_checked_at = ?3, clock_jumps = clock_jumps + ?4 WHERE id = ?1",
            params![device_id.to_string(), offset_ms, ts(now), jumped as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn record_device_sync(
        &self,
        device_id: Uuid,
        app_version: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let n = self.conn().execute(
            "UPDATE devices SET last_sync_at = ?2, app_version = ?3 WHERE id = ?1",
            params![device_id.to_string(), ts(now), app_version],
        )?;
        if n == 0 {
            return Err(StoreError::not_found(format!("device {device_id}")));
        }
        Ok(())
    }

    fn create_session(&self, s: NewSession) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let (Some(device), Some(signed)) = (s.device_id, &s.chain_head) {
            use crate::ledger::LedgerTx as _;
            let tip = super::ledger::Tx(&tx)
                .tip(device)?
                .ok_or_else(|| StoreError::not_found(format!("device {device}")))?;
            crate::ledger::makers::check_chain_head(tip, signed.head)?;
        }
        tx.execute(
            "INSERT INTO sessions (id, user_id, device_id, access_hash, access_expires_at, refresh_hash, refresh_expires_at, created_at,
                 absolute_expires_at, last_seen_at, totp_setup_only, chain_head_seq, chain_head_hash,
                 chain_head_challenge, chain_head_proof)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, MIN(?7, ?9), ?8, ?9, ?8, ?10, ?11, ?12, ?13, ?14)",
            params![
                s.id.to_string(),
                s.user_id.to_string(),
                s.device_id.map(|d| d.to_string()),
                s.access_hash.to_hex(),
                ts(s.access_expires_at),
                s.refresh_hash.to_hex(),
                ts(s.refresh_expires_at),
                ts(s.now),
                ts(s.absolute_expires_at),
                s.totp_setup_only,
                s.chain_head.as_ref().map(|h| h.head.seq as i64),
                s.chain_head.as_ref().map(|h| h.head.hash.to_hex()),
                s.chain_head.as_ref().map(|h| h.challenge.as_str()),
                s.chain_head.as_ref().map(|h| h.proof.as_str()),
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn sign_ins_of_device(&self, device_id: Uuid) -> StoreResult<Vec<StoredSignIn>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT s.user_id, u.username, s.chain_head_seq, s.chain_head_hash, s.chain_head_challenge,
                    s.chain_head_proof, s.sign_out_seq, s.sign_out_hash, s.sign_out_proof
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.device_id = ?1
             ORDER BY s.created_at, s.id",
        )?;
        type Row = (
            String,
            String,
            (Option<i64>, Option<String>, Option<String>, Option<String>),
            (Option<i64>, Option<String>, Option<String>),
        );
        let rows = stmt
            .query_map([device_id.to_string()], |r| {
                Ok::<Row, _>((
                    r.get(0)?,
                    r.get(1)?,
                    (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
                    (r.get(6)?, r.get(7)?, r.get(8)?),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(
                |(user, username, (seq, hash, challenge, proof), (os, oh, op))| {
                    crate::ledger::makers::stored_sign_in(
                        &user,
                        username,
                        (seq, hash.as_deref(), challenge, proof),
                        (os, oh.as_deref(), op),
                    )
                },
            )
            .collect()
    }

    fn session_by_access(&self, access_hash: Digest) -> StoreResult<Option<SessionRecord>> {
        let conn = self.reader();
        let row = conn
            .query_row(
                // Every authenticated request asks this: the session, then the `USER_COLS` of its user.
                "SELECT s.id, s.device_id, s.access_expires_at, s.revoked_at, s.current_used,
                        u.id, u.username, u.display_name, u.role, u.badge_no,
                        s.absolute_expires_at, s.last_seen_at, s.totp_setup_only
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.access_hash = ?1",
                [access_hash.to_hex()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, bool>(4)?,
                        user_at(r, 5)?,
                        (
                            r.get::<_, String>(10)?,
                            r.get::<_, String>(11)?,
                            r.get::<_, bool>(12)?,
                        ),
                    ))
                },
            )
            .optional()?;
        let Some((id, device, exp, revoked, used, user, (absolute, seen, setup_only))) = row else {
            return Ok(None);
        };
        drop(conn);
        if !used {
            // The device has the new pair: an older refresh token coming back now is a reuse.
            self.conn()
                .execute("UPDATE sessions SET current_used = 1 WHERE id = ?1", [&id])?;
        }
        Ok(Some(SessionRecord {
            id: parse_uuid(&id)?,
            user: user_info(user)?,
            device_id: device.as_deref().map(parse_uuid).transpose()?,
            access_expires_at: parse_ts(&exp)?,
            revoked: revoked.is_some(),
            absolute_expires_at: parse_ts(&absolute)?,
            last_seen_at: parse_ts(&seen)?,
            totp_setup_only: setup_only,
        }))
    }

    fn refresh_session(&self, r: Rotation) -> StoreResult<RefreshOutcome> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let presented = r.presented_refresh.to_hex();
        let row: Option<RefreshRow> = tx
            .query_row(
                "SELECT id, user_id, device_id, refresh_expires_at, revoked_at, current_used, refresh_hash,
                        absolute_expires_at, last_seen_at
                 FROM sessions WHERE refresh_hash = ?1 OR previous_refresh_hash = ?1",
                [&presented],
                |r| RefreshRow::try_from(r),
            )
            .optional()?;
        let Some((
            id,
            user_id,
            device_id,
            refresh_exp,
            revoked,
            current_used,
            current_hash,
            absolute,
            seen,
        )) = row
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        if revoked.is_some() || parse_ts(&refresh_exp)? <= r.now {
            return Ok(RefreshOutcome::Invalid);
        }
        let end = |tx: rusqlite::Transaction<'_>, outcome| -> StoreResult<RefreshOutcome> {
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1",
                params![id, ts(r.now)],
            )?;
            tx.commit()?;
            Ok(outcome)
        };
        if device_id != r.device_id.map(|d| d.to_string()) {
            return end(tx, RefreshOutcome::WrongDevice);
        }
        let idle = device_id.is_none() && parse_ts(&seen)? < r.staff_idle_before;
        if parse_ts(&absolute)? <= r.now || idle {
            return end(tx, RefreshOutcome::Expired);
        }
        let is_current = current_hash.as_deref() == Some(presented.as_str());
        if !is_current && current_used {
            // The previous token came back although its successor is in use: someone copied it.
            return end(tx, RefreshOutcome::Reused);
        }
        // Current token, or the previous one whose successor never arrived (a lost response):
        // either way rotate to a fresh pair and remember the presented token as the previous one.
        tx.execute(
            "UPDATE sessions SET access_hash = ?2, refresh_hash = ?4,
                 previous_refresh_hash = ?5, refresh_expires_at = MIN(?6, absolute_expires_at),
                 access_expires_at = MIN(?3, absolute_expires_at), current_used = 0 WHERE id = ?1",
            params![
                id,
                r.access_hash.to_hex(),
                ts(r.access_expires_at),
                r.refresh_hash.to_hex(),
                presented,
                ts(r.refresh_expires_at)
            ],
        )?;
        let user = tx.query_row(
            &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
            [&user_id],
            |r| user_at(r, 0),
        )?;
        tx.commit()?;
        Ok(RefreshOutcome::Rotated {
            user: user_info(user)?,
            device_id: device_id.as_deref().map(parse_uuid).transpose()?,
        })
    }

    fn revoke_session(&self, session_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            params![session_id.to_string(), ts(now)],
        )?;
        Ok(())
    }

    fn touch_session(&self, session_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1",
            params![session_id.to_string(), ts(now)],
        )?;
        Ok(())
    }

    fn revoke_device_sessions(&self, device_id: Uuid, now: DateTime<Utc>) -> StoreResult<u64> {
        let n = self.conn().execute(
            "UPDATE sessions SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
            params![device_id.to_string(), ts(now)],
        )?;
        Ok(n as u64)
    }

    fn create_challenge(
        &self,
        challenge: &str,
        device_id: Uuid,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM enrol_challenges WHERE expires_at < ?1",
            [ts(now)],
        )?;
        tx.execute(
            "INSERT INTO enrol_challenges (challenge, device_id, expires_at) VALUES (?1, ?2, ?3)",
            params![challenge, device_id.to_string(), ts(expires_at)],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn take_challenge(
        &self,
        challenge: &str,
        device_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(String, String)> = tx
            .query_row(
                "DELETE FROM enrol_challenges WHERE challenge = ?1 RETURNING device_id, expires_at",
                [challenge],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        tx.commit()?;
        let invalid = |code, message: &str| {
            Err(StoreError::Conflict {
                code,
                message: message.to_owned(),
            })
        };
        match found {
            None => invalid(
                ErrorCode::ChallengeUnknown,
                "this challenge was never issued or is already used: ask for a new one (POST /api/v1/auth/challenge)",
            ),
            Some((dev, _)) if dev != device_id.to_string() => invalid(
                ErrorCode::ChallengeWrongDevice,
                "this challenge was issued to another device: ask for one for this device",
            ),
            Some((_, expires)) if parse_ts(&expires)? < now => invalid(
                ErrorCode::ChallengeExpired,
                "this challenge expired: ask for a new one and sign it at once",
            ),
            Some(_) => Ok(()),
        }
    }

    fn record_device_clock_jumps(
        &self,
        device_id: Uuid,
        user_id: Uuid,
        jumps: &[heatcrew_protocol::sync::ClockJumpRecord],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Uuid>> {
        super::clock_jumps::record(self, device_id, user_id, jumps, now)
    }

    fn device_clock_jumps(
        &self,
        device_id: Uuid,
        limit: u32,
    ) -> StoreResult<Vec<heatcrew_protocol::sync::ClockJumpRecord>> {
        super::clock_jumps::list(self, device_id, limit)
    }
}
