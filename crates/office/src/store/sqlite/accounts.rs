//! Users and crews.

use super::{SqliteStore, is_constraint_violation, parse_uuid, select, ts};
use crate::store::{AccountStore, Crew, NewUser, StoreError, StoreResult, UserRecord};
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{Role, UserInfo};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::HashSet;
use uuid::Uuid;

/// The columns [`user_at`] reads, in order.
pub(super) const USER_COLS: &str = "id, username, display_name, role, badge_no";

/// `USER_COLS` as read, parsed by [`user_info`].
pub(super) type UserRow = (String, String, String, String, String);

/// The `USER_COLS` of a row, from column `at` on (a join may put other columns first).
pub(super) fn user_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<UserRow> {
    Ok((
        r.get(at)?,
        r.get(at + 1)?,
        r.get(at + 2)?,
        r.get(at + 3)?,
        r.get(at + 4)?,
    ))
}

pub(super) fn user_info(t: UserRow) -> StoreResult<UserInfo> {
    Ok(UserInfo {
        id: parse_uuid(&t.0)?,
        username: t.1,
        display_name: t.2,
        role: parse_role(&t.3)?,
        badge_no: t.4,
    })
}

/// Users matching `filter` (a `WHERE`/`ORDER BY` tail).
pub(super) fn select_users(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<UserInfo>> {
    select(
        conn,
        &format!("SELECT {USER_COLS} FROM users {filter}"),
        params,
        |r| user_at(r, 0),
        user_info,
    )
}

/// A role as stored (its wire name).
pub fn role_str(role: Role) -> &'static str {
    match role {
        Role::RepairTechnician => "repair_technician",
        Role::Inspector => "inspector",
        Role::Patrol => "patrol",
        Role::Dispatcher => "dispatcher",
        Role::Admin => "admin",
    }
}

fn parse_role(s: &str) -> StoreResult<Role> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("role {s:?}")))
}

/// An `unknown_user` refusal unless `user_id` exists (crew members, assignees).
pub(super) fn require_user(tx: &Connection, user_id: Uuid) -> StoreResult<()> {
    let found: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM users WHERE id = ?1",
            [user_id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    found.map(|_| ()).ok_or_else(|| StoreError::Invalid {
        code: ErrorCode::UnknownUser,
        message: format!("no user {user_id}"),
    })
}

impl AccountStore for SqliteStore {
    fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<UserInfo> {
        let conn = self.conn();
        let id = Uuid::now_v7();
        let res = conn.execute(
            "INSERT INTO users (id, username, password_hash, display_name, role, badge_no, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id.to_string(), user.username, user.password_hash, user.display_name, role_str(user.role), user.badge_no, ts(now)],
        );
        match res {
            Err(e) if is_constraint_violation(&e) => Err(StoreError::Conflict {
                code: ErrorCode::UsernameTaken,
                message: format!("username {:?} is taken", user.username),
            }),
            Err(e) => Err(e.into()),
            Ok(_) => Ok(UserInfo {
                id,
                username: user.username,
                display_name: user.display_name,
                role: user.role,
                badge_no: user.badge_no,
            }),
        }
    }

    fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let conn = self.reader();
        let row = conn
            .query_row(
                &format!(
                    "SELECT {USER_COLS}, password_hash, deactivated_at IS NULL, totp_secret, totp_pending
                     FROM users WHERE username = ?1"
                ),
                [username],
                |r| {
                    Ok((
                        user_at(r, 0)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, bool>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(u, h, active, totp_secret, totp_pending)| {
            Ok(UserRecord {
                info: user_info(u)?,
                password_hash: h,
                active,
                totp_secret,
                totp_pending,
            })
        })
        .transpose()
    }

    fn user(&self, id: Uuid) -> StoreResult<Option<UserInfo>> {
        Ok(select_users(&self.reader(), "WHERE id = ?1", [id.to_string()])?.pop())
    }

    fn list_users(&self) -> StoreResult<Vec<UserInfo>> {
        select_users(&self.reader(), "ORDER BY username", [])
    }

    fn inactive_users(&self) -> StoreResult<HashSet<Uuid>> {
        select(
            &self.reader(),
            "SELECT id FROM users WHERE deactivated_at IS NOT NULL",
            [],
            |r| r.get::<_, String>(0),
            |id| parse_uuid(&id),
        )
        .map(|ids| ids.into_iter().collect())
    }

    fn set_user_active(&self, id: Uuid, active: bool, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_user(&tx, id)?;
        let revoked = if active {
            tx.execute(
                "UPDATE users SET deactivated_at = NULL WHERE id = ?1",
                [id.to_string()],
            )?;
            0
        } else {
            tx.execute(
                "UPDATE users SET deactivated_at = COALESCE(deactivated_at, ?2) WHERE id = ?1",
                params![id.to_string(), ts(now)],
            )?;
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![id.to_string(), ts(now)],
            )?
        };
        tx.commit()?;
        Ok(revoked as u64)
    }

    fn set_password(&self, id: Uuid, password_hash: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_user(&tx, id)?;
        tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![id.to_string(), password_hash],
        )?;
        // Whoever held the old password may hold a session too.
        let revoked = tx.execute(
            "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
            params![id.to_string(), ts(now)],
        )?;
        tx.commit()?;
        Ok(revoked as u64)
    }

    fn set_totp_pending(&self, id: Uuid, secret: &str) -> StoreResult<()> {
        let n = self.conn().execute(
            "UPDATE users SET totp_pending = ?2 WHERE id = ?1",
            params![id.to_string(), secret],
        )?;
        if n == 0 {
            return Err(StoreError::not_found(format!("user {id}")));
        }
        Ok(())
    }

    fn confirm_totp(&self, id: Uuid) -> StoreResult<bool> {
        let n = self.conn().execute(
            "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL
             WHERE id = ?1 AND totp_pending IS NOT NULL",
            [id.to_string()],
        )?;
        Ok(n == 1)
    }

    fn spend_totp_step(&self, id: Uuid, step: i64) -> StoreResult<bool> {
        let n = self.conn().execute(
            "UPDATE users SET totp_last_step = ?2
             WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
            params![id.to_string(), step],
        )?;
        Ok(n == 1)
    }

    fn end_totp_setup_sessions(&self, id: Uuid) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE sessions SET totp_setup_only = 0 WHERE user_id = ?1 AND totp_setup_only = 1",
            [id.to_string()],
        )?;
        Ok(())
    }

    fn add_crew(&self, name: &str, members: &[Uuid], now: DateTime<Utc>) -> StoreResult<Crew> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM crews WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if taken {
            return Err(StoreError::Conflict {
                code: ErrorCode::CrewExists,
                message: format!("a crew named {name:?} exists"),
            });
        }
        let id = Uuid::now_v7();
        tx.execute(
            "INSERT INTO crews (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![id.to_string(), name, ts(now)],
        )?;
        for m in members {
            require_user(&tx, *m)?;
            tx.execute(
                "INSERT OR IGNORE INTO crew_members (crew_id, user_id) VALUES (?1, ?2)",
                params![id.to_string(), m.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(Crew {
            id,
            name: name.to_owned(),
            members: members.to_vec(),
        })
    }

    fn list_crews(&self) -> StoreResult<Vec<Crew>> {
        let conn = self.reader();
        let mut st = conn.prepare(
            "SELECT c.id, c.name, m.user_id FROM crews c LEFT JOIN crew_members m ON m.crew_id = c.id ORDER BY c.name, m.user_id",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut crews: Vec<Crew> = Vec::new();
        for (id, name, member) in rows {
            let id = parse_uuid(&id)?;
            if crews.last().map(|c| c.id) != Some(id) {
                crews.push(Crew {
                    id,
                    name,
                    members: vec![],
                });
            }
            if let (Some(m), Some(c)) = (member, crews.last_mut()) {
                c.members.push(parse_uuid(&m)?);
            }
        }
        Ok(crews)
    }
}
