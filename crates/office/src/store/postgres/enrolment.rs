//! Devices (enrolled keys, short codes, clock offsets) and the sessions their tokens open: refresh
//! rotation with reuse detection, revocation; as `sqlite/enrolment.rs`.
//!
//! SQLite's single writer makes each read-then-write safe; here several office processes write at
//! once, so each such read locks what it decides on: the device or session row (`FOR UPDATE`), and
//! for a new device's short code an advisory lock that only enrolments of new devices take.

use super::PgStore;
use super::accounts::{USER_COLS, require_user, user_at, user_info};
use crate::ledger::makers::StoredSignIn;
use crate::store::convert::{parse_ts, parse_uuid, ts};
use crate::store::{
    DeviceRecord, EnrolmentStore, NewSession, RefreshOutcome, Rotation, SessionRecord, StoreError,
    StoreResult,
};
use chrono::{DateTime, Utc};
use heatcrew_protocol::Digest;
use heatcrew_protocol::ErrorCode;
use postgres::GenericClient;
use postgres::types::ToSql;
use uuid::Uuid;

/// Clock offsets that differ by less than this from the stored one are not recorded again.
const CLOCK_NOISE_MS: i64 = 1000;

/// `pg_advisory_xact_lock` key held while a new device takes the next short code (`D0001`, …):
/// `MAX(code_no) + 1` read by two enrolments at once would be the same number.
const DEVICE_CODE_LOCK: i64 = 0x4865_6174_436f_6465; // "HeatCode"

const DEVICE_COLS: &str = "id, public_key, code, name, user_id, enrolled_at, last_seq, clock_offset_ms, clock_jumps, shared, last_sync_at, app_version";

fn device_record(r: &postgres::Row) -> StoreResult<DeviceRecord> {
    Ok(DeviceRecord {
        id: parse_uuid(r.try_get(0)?)?,
        public_key: r.try_get(1)?,
        code: r.try_get(2)?,
        name: r.try_get(3)?,
        user_id: parse_uuid(r.try_get(4)?)?,
        enrolled_at: parse_ts(r.try_get(5)?)?,
        last_seq: r.try_get::<_, i64>(6)? as u64,
        clock_offset_ms: r.try_get(7)?,
        clock_jumps: r.try_get::<_, i64>(8)? as u64,
        shared: r.try_get::<_, i64>(9)? != 0,
        last_sync_at: r
            .try_get::<_, Option<&str>>(10)?
            .map(parse_ts)
            .transpose()?,
        app_version: r.try_get(11)?,
    })
}

/// Devices matching `filter` (a `WHERE`/`ORDER BY` tail).
fn select_devices(
    c: &mut impl GenericClient,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<DeviceRecord>> {
    c.query(
        &format!("SELECT {DEVICE_COLS} FROM devices {filter}"),
        params,
    )?
    .iter()
    .map(device_record)
    .collect()
}

fn one_device(c: &mut impl GenericClient, device_id: Uuid) -> StoreResult<DeviceRecord> {
    select_devices(c, "WHERE id = $1", &[&device_id.to_string()])?
        .pop()
        .ok_or_else(|| StoreError::not_found(format!("device {device_id}")))
}

/// The key, bound user and shared flag of a known device, its row locked until commit.
fn known_device(
    c: &mut impl GenericClient,
    device_id: Uuid,
) -> StoreResult<Option<(String, String, bool)>> {
    c.query_opt(
        "SELECT public_key, user_id, shared FROM devices WHERE id = $1 FOR UPDATE",
        &[&device_id.to_string()],
    )?
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get::<_, i64>(2)? != 0)))
    .transpose()
}

impl EnrolmentStore for PgStore {
    fn enrol_device(
        &self,
        device_id: Uuid,
        public_key: &str,
        name: &str,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<DeviceRecord> {
        self.write(|tx| {
            let mut known = known_device(tx, device_id)?;
            if known.is_none() {
                // A new device: take the code lock, then look again (the same device may have been
                // enrolled by another process while this one waited).
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DEVICE_CODE_LOCK])?;
                known = known_device(tx, device_id)?;
            }
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
                        "UPDATE devices SET name = CASE WHEN $2 = '' THEN name ELSE $2 END WHERE id = $1",
                        &[&device_id.to_string(), &name],
                    )?;
                }
                None => {
                    let next: i64 = tx
                        .query_one("SELECT COALESCE(MAX(code_no), 0) + 1 FROM devices", &[])?
                        .try_get(0)?;
                    tx.execute(
                        "INSERT INTO devices (id, public_key, code, code_no, name, user_id, enrolled_at, last_seq, last_hash)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
                        &[
                            &device_id.to_string(),
                            &public_key,
                            &format!("D{next:04}"),
                            &next,
                            &name,
                            &user_id.to_string(),
                            &ts(now),
                            &Digest::GENESIS.to_hex(),
                        ],
                    )?;
                }
            }
            let rec = one_device(tx, device_id)?;
            Ok(rec)
        })
    }

    fn device(&self, id: Uuid) -> StoreResult<Option<DeviceRecord>> {
        Ok(select_devices(&mut *self.conn()?, "WHERE id = $1", &[&id.to_string()])?.pop())
    }

    fn move_device(
        &self,
        device_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<(DeviceRecord, u64)> {
        self.write(|tx| {
            require_user(tx, user_id)?;
            let n = tx.execute(
                "UPDATE devices SET user_id = $2, shared = 0 WHERE id = $1",
                &[&device_id.to_string(), &user_id.to_string()],
            )?;
            if n == 0 {
                return Err(StoreError::not_found(format!("device {device_id}")));
            }
            let revoked = tx.execute(
                "UPDATE sessions SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL",
                &[&device_id.to_string(), &ts(now)],
            )?;
            let rec = one_device(tx, device_id)?;
            Ok((rec, revoked))
        })
    }

    fn set_device_shared(&self, device_id: Uuid, shared: bool) -> StoreResult<DeviceRecord> {
        let row = self
            .conn()?
            .query_opt(
                &format!("UPDATE devices SET shared = $2 WHERE id = $1 RETURNING {DEVICE_COLS}"),
                &[&device_id.to_string(), &(shared as i64)],
            )?
            .ok_or_else(|| StoreError::not_found(format!("device {device_id}")))?;
        device_record(&row)
    }

    fn list_devices(&self) -> StoreResult<Vec<DeviceRecord>> {
        select_devices(&mut *self.conn()?, "ORDER BY code_no", &[])
    }

    fn record_clock_offset(
        &self,
        device_id: Uuid,
        offset_ms: i64,
        jump_ms: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        // Devices send their clock on every request: an offset within a second of the stored one is
        // network latency, not news, and is not worth a write per request.
        let stored: Option<Option<i64>> = conn
            .query_opt(
                "SELECT clock_offset_ms FROM devices WHERE id = $1",
                &[&device_id.to_string()],
            )?
            .map(|r| r.try_get(0))
            .transpose()?;
        if let Some(Some(p)) = stored
            && (p - offset_ms).abs() <= CLOCK_NOISE_MS
        {
            return Ok(());
        }
        let mut tx = conn.transaction()?;
        // Locked: two requests of one device at once count one jump, not two.
        let prev: Option<Option<i64>> = tx
            .query_opt(
                "SELECT clock_offset_ms FROM devices WHERE id = $1 FOR UPDATE",
                &[&device_id.to_string()],
            )?
            .map(|r| r.try_get(0))
            .transpose()?;
        let Some(prev) = prev else {
            return Err(StoreError::not_found(format!("device {device_id}")));
        };
        let jumped = prev.is_some_and(|p| (p - offset_ms).abs() > jump_ms);
        if let (true, Some(prev)) = (jumped, prev) {
            tx.execute(
                "INSERT INTO clock_jumps (device_id, at, from_ms, to_ms) VALUES ($1, $2, $3, $4)",
                &[&device_id.to_string(), &ts(now), &prev, &offset_ms],
            )?;
        }
        tx.execute(
            "UPDATE devices SET clock_offset_ms = $2, clock_checked_at = $3, clock_jumps = clock_jumps + $4 WHERE id = $1",
            &[&device_id.to_string(), &offset_ms, &ts(now), &(jumped as i64)],
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
        let n = self.conn()?.execute(
            "UPDATE devices SET last_sync_at = $2, app_version = $3 WHERE id = $1",
            &[&device_id.to_string(), &ts(now), &app_version],
        )?;
        if n == 0 {
            return Err(StoreError::not_found(format!("device {device_id}")));
        }
        Ok(())
    }

    fn create_session(&self, s: NewSession) -> StoreResult<()> {
        self.write(|tx| {
            if let (Some(device), Some(signed)) = (s.device_id, &s.chain_head) {
                let tip = super::ledger::locked_tip(tx, device)?
                    .ok_or_else(|| StoreError::not_found(format!("device {device}")))?;
                crate::ledger::makers::check_chain_head(tip, signed.head)?;
            }
            tx.execute(
                "INSERT INTO sessions (id, user_id, device_id, access_hash, access_expires_at, refresh_hash, refresh_expires_at, created_at,
                     absolute_expires_at, last_seen_at, totp_setup_only, chain_head_seq, chain_head_hash,
                 chain_head_challenge, chain_head_proof)
                 VALUES ($1, $2, $3, $4, $5, $6, LEAST($7::TEXT COLLATE \"C\", $9), $8, $9, $8, $10, $11, $12, $13, $14)",
                &[
                    &s.id.to_string(),
                    &s.user_id.to_string(),
                    &s.device_id.map(|d| d.to_string()),
                    &s.access_hash.to_hex(),
                    &ts(s.access_expires_at),
                    &s.refresh_hash.to_hex(),
                    &ts(s.refresh_expires_at),
                    &ts(s.now),
                    &ts(s.absolute_expires_at),
                    &(s.totp_setup_only as i64),
                    &s.chain_head.as_ref().map(|h| h.head.seq as i64),
                    &s.chain_head.as_ref().map(|h| h.head.hash.to_hex()),
                    &s.chain_head.as_ref().map(|h| h.challenge.as_str()),
                    &s.chain_head.as_ref().map(|h| h.proof.as_str()),
                ],
            )?;
            Ok(())
        })
    }

    fn sign_ins_of_device(&self, device_id: Uuid) -> StoreResult<Vec<StoredSignIn>> {
        self.conn()?
            .query(
                "SELECT s.user_id, u.username, s.chain_head_seq, s.chain_head_hash,
                        s.chain_head_challenge, s.chain_head_proof, s.sign_out_seq,
                        s.sign_out_hash, s.sign_out_proof
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.device_id = $1
                 ORDER BY s.created_at, s.id",
                &[&device_id.to_string()],
            )?
            .iter()
            .map(|r| {
                crate::ledger::makers::stored_sign_in(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    (r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?),
                    (r.try_get(6)?, r.try_get(7)?, r.try_get(8)?),
                )
            })
            .collect()
    }

    fn session_by_access(&self, access_hash: Digest) -> StoreResult<Option<SessionRecord>> {
        let mut conn = self.conn()?;
        // Every authenticated request asks this: the session, then the `USER_COLS` of its user.
        let row = conn.query_opt(
            "SELECT s.id, s.device_id, s.access_expires_at, s.revoked_at, s.current_used,
                    s.absolute_expires_at, s.last_seen_at, s.totp_setup_only,
                    u.id, u.username, u.display_name, u.role, u.badge_no
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.access_hash = $1",
            &[&access_hash.to_hex()],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        let id: String = r.try_get(0)?;
        if r.try_get::<_, i64>(4)? == 0 {
            // The device has the new pair: an older refresh token coming back now is a reuse.
            conn.execute(
                "UPDATE sessions SET current_used = 1 WHERE id = $1 AND current_used = 0",
                &[&id],
            )?;
        }
        Ok(Some(SessionRecord {
            id: parse_uuid(&id)?,
            user: user_info(user_at(&r, 8)?)?,
            device_id: r
                .try_get::<_, Option<&str>>(1)?
                .map(parse_uuid)
                .transpose()?,
            access_expires_at: parse_ts(r.try_get(2)?)?,
            revoked: r.try_get::<_, Option<&str>>(3)?.is_some(),
            absolute_expires_at: parse_ts(r.try_get(5)?)?,
            last_seen_at: parse_ts(r.try_get(6)?)?,
            totp_setup_only: r.try_get::<_, i64>(7)? != 0,
        }))
    }

    fn refresh_session(&self, r: Rotation) -> StoreResult<RefreshOutcome> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let presented = r.presented_refresh.to_hex();
        // Locked: two refreshes with one token (a copy and the device) are decided one after the
        // other, the second seeing what the first did, as behind SQLite's single writer.
        let row = tx.query_opt(
            "SELECT id, user_id, device_id, refresh_expires_at, revoked_at, current_used, refresh_hash,
                    absolute_expires_at, last_seen_at
             FROM sessions WHERE refresh_hash = $1 OR previous_refresh_hash = $1 FOR UPDATE",
            &[&presented],
        )?;
        let Some(row) = row else {
            return Ok(RefreshOutcome::Invalid);
        };
        let id: String = row.try_get(0)?;
        let user_id: String = row.try_get(1)?;
        let device_id: Option<String> = row.try_get(2)?;
        let refresh_exp: &str = row.try_get(3)?;
        let revoked: Option<&str> = row.try_get(4)?;
        let current_used = row.try_get::<_, i64>(5)? != 0;
        let current_hash: &str = row.try_get(6)?;
        let absolute: &str = row.try_get(7)?;
        let seen: &str = row.try_get(8)?;
        if revoked.is_some() || parse_ts(refresh_exp)? <= r.now {
            return Ok(RefreshOutcome::Invalid);
        }
        let end = |mut tx: postgres::Transaction<'_>, outcome| -> StoreResult<RefreshOutcome> {
            tx.execute(
                "UPDATE sessions SET revoked_at = $2 WHERE id = $1",
                &[&id, &ts(r.now)],
            )?;
            tx.commit()?;
            Ok(outcome)
        };
        if device_id != r.device_id.map(|d| d.to_string()) {
            return end(tx, RefreshOutcome::WrongDevice);
        }
        let idle = device_id.is_none() && parse_ts(seen)? < r.staff_idle_before;
        if parse_ts(absolute)? <= r.now || idle {
            return end(tx, RefreshOutcome::Expired);
        }
        let is_current = current_hash == presented;
        if !is_current && current_used {
            // The previous token came back although its successor is in use: someone copied it.
            return end(tx, RefreshOutcome::Reused);
        }
        // Current token, or the previous one whose successor never arrived (a lost response):
        // either way rotate to a fresh pair and remember the presented token as the previous one.
        tx.execute(
            "UPDATE sessions SET access_hash = $2, refresh_hash = $4,
                 previous_refresh_hash = $5,
                 refresh_expires_at = LEAST($6::TEXT COLLATE \"C\", absolute_expires_at),
                 access_expires_at = LEAST($3::TEXT COLLATE \"C\", absolute_expires_at),
                 current_used = 0
             WHERE id = $1",
            &[
                &id,
                &r.access_hash.to_hex(),
                &ts(r.access_expires_at),
                &r.refresh_hash.to_hex(),
                &presented,
                &ts(r.refresh_expires_at),
            ],
        )?;
        let user = tx.query_one(
            &format!("SELECT {USER_COLS} FROM users WHERE id = $1"),
            &[&user_id],
        )?;
        let user = user_info(user_at(&user, 0)?)?;
        tx.commit()?;
        Ok(RefreshOutcome::Rotated {
            user,
            device_id: device_id.as_deref().map(parse_uuid).transpose()?,
        })
    }

    fn revoke_session(&self, session_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
            &[&session_id.to_string(), &ts(now)],
        )?;
        Ok(())
    }

    fn touch_session(&self, session_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE sessions SET last_seen_at = $2 WHERE id = $1",
            &[&session_id.to_string(), &ts(now)],
        )?;
        Ok(())
    }

    fn revoke_device_sessions(&self, device_id: Uuid, now: DateTime<Utc>) -> StoreResult<u64> {
        Ok(self.conn()?.execute(
            "UPDATE sessions SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL",
            &[&device_id.to_string(), &ts(now)],
        )?)
    }

    fn create_challenge(
        &self,
        challenge: &str,
        device_id: Uuid,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM enrol_challenges WHERE expires_at < $1",
                &[&ts(now)],
            )?;
            tx.execute(
                "INSERT INTO enrol_challenges (challenge, device_id, expires_at) VALUES ($1, $2, $3)",
                &[&challenge, &device_id.to_string(), &ts(expires_at)],
            )?;
            Ok(())
        })
    }

    fn take_challenge(
        &self,
        challenge: &str,
        device_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // One statement: of two requests with one challenge, one deletes it, the other finds none.
        let found: Option<(String, String)> = self
            .conn()?
            .query_opt(
                "DELETE FROM enrol_challenges WHERE challenge = $1 RETURNING device_id, expires_at",
                &[&challenge],
            )?
            .map(|r| Ok::<_, StoreError>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?;
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
