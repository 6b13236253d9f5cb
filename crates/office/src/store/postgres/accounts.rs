//! Users and crews, as `sqlite/accounts.rs`. Text is ordered `COLLATE "C"` (byte order, as SQLite
//! orders it) whatever collation the database was created with.

use super::{PgStore, is_unique_violation};
use crate::store::convert::{parse_uuid, ts};
use crate::store::sqlite::role_str;
use crate::store::{AccountStore, Crew, NewUser, StoreError, StoreResult, UserRecord};
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{Role, UserInfo};
use postgres::GenericClient;
use std::collections::HashSet;
use uuid::Uuid;

/// The columns [`user_at`] reads, in order.
pub(super) const USER_COLS: &str = "id, username, display_name, role, badge_no";

/// `USER_COLS` as read, parsed by [`user_info`].
pub(super) type UserRow = (String, String, String, String, String);

/// The `USER_COLS` of a row, from column `at` on (a join may put other columns first).
pub(super) fn user_at(r: &postgres::Row, at: usize) -> StoreResult<UserRow> {
    Ok((
        r.try_get(at)?,
        r.try_get(at + 1)?,
        r.try_get(at + 2)?,
        r.try_get(at + 3)?,
        r.try_get(at + 4)?,
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

fn parse_role(s: &str) -> StoreResult<Role> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("role {s:?}")))
}

/// Users matching `filter` (a `WHERE`/`ORDER BY` tail).
fn select_users(
    c: &mut impl GenericClient,
    filter: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> StoreResult<Vec<UserInfo>> {
    c.query(&format!("SELECT {USER_COLS} FROM users {filter}"), params)?
        .iter()
        .map(|r| user_info(user_at(r, 0)?))
        .collect()
}

/// An `unknown_user` refusal unless `user_id` exists (crew members, assignees).
pub(super) fn require_user(c: &mut impl GenericClient, user_id: Uuid) -> StoreResult<()> {
    let found = c.query_opt("SELECT 1 FROM users WHERE id = $1", &[&user_id.to_string()])?;
    found.map(|_| ()).ok_or_else(|| StoreError::Invalid {
        code: ErrorCode::UnknownUser,
        message: format!("no user {user_id}"),
    })
}

/// Revoke every live session of `user_id`: how many were live.
fn revoke_user_sessions(
    c: &mut impl GenericClient,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(c.execute(
        "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        &[&user_id.to_string(), &ts(now)],
    )?)
}

impl AccountStore for PgStore {
    fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<UserInfo> {
        let id = Uuid::now_v7();
        let res = self.conn()?.execute(
            "INSERT INTO users (id, username, password_hash, display_name, role, badge_no, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &id.to_string(),
                &user.username,
                &user.password_hash,
                &user.display_name,
                &role_str(user.role),
                &user.badge_no,
                &ts(now),
            ],
        );
        match res {
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
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
        let row = self.conn()?.query_opt(
            &format!(
                "SELECT {USER_COLS}, password_hash, deactivated_at IS NULL, totp_secret, totp_pending
                 FROM users WHERE username = $1"
            ),
            &[&username],
        )?;
        row.map(|r| {
            Ok(UserRecord {
                info: user_info(user_at(&r, 0)?)?,
                password_hash: r.try_get(5)?,
                active: r.try_get(6)?,
                totp_secret: r.try_get(7)?,
                totp_pending: r.try_get(8)?,
            })
        })
        .transpose()
    }

    fn user(&self, id: Uuid) -> StoreResult<Option<UserInfo>> {
        Ok(select_users(&mut *self.conn()?, "WHERE id = $1", &[&id.to_string()])?.pop())
    }

    fn list_users(&self) -> StoreResult<Vec<UserInfo>> {
        select_users(&mut *self.conn()?, r#"ORDER BY username COLLATE "C""#, &[])
    }

    fn inactive_users(&self) -> StoreResult<HashSet<Uuid>> {
        self.conn()?
            .query("SELECT id FROM users WHERE deactivated_at IS NOT NULL", &[])?
            .iter()
            .map(|r| parse_uuid(r.try_get(0)?))
            .collect()
    }

    fn set_user_active(&self, id: Uuid, active: bool, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(|tx| {
            require_user(tx, id)?;
            let revoked = if active {
                tx.execute(
                    "UPDATE users SET deactivated_at = NULL WHERE id = $1",
                    &[&id.to_string()],
                )?;
                0
            } else {
                tx.execute(
                    "UPDATE users SET deactivated_at = COALESCE(deactivated_at, $2) WHERE id = $1",
                    &[&id.to_string(), &ts(now)],
                )?;
                revoke_user_sessions(tx, id, now)?
            };
            Ok(revoked)
        })
    }

    fn set_password(&self, id: Uuid, password_hash: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(|tx| {
            require_user(tx, id)?;
            tx.execute(
                "UPDATE users SET password_hash = $2 WHERE id = $1",
                &[&id.to_string(), &password_hash],
            )?;
            // Whoever held the old password may hold a session too.
            let revoked = revoke_user_sessions(tx, id, now)?;
            Ok(revoked)
        })
    }

    fn set_totp_pending(&self, id: Uuid, secret: &str) -> StoreResult<()> {
        let n = self.conn()?.execute(
            "UPDATE users SET totp_pending = $2 WHERE id = $1",
            &[&id.to_string(), &secret],
        )?;
        if n == 0 {
            return Err(StoreError::not_found(format!("user {id}")));
        }
        Ok(())
    }

    fn confirm_totp(&self, id: Uuid) -> StoreResult<bool> {
        let n = self.conn()?.execute(
            "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL
             WHERE id = $1 AND totp_pending IS NOT NULL",
            &[&id.to_string()],
        )?;
        Ok(n == 1)
    }

    fn spend_totp_step(&self, id: Uuid, step: i64) -> StoreResult<bool> {
        // One statement: the row lock makes two sign-ins with the same code spend it once.
        let n = self.conn()?.execute(
            "UPDATE users SET totp_last_step = $2
             WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
            &[&id.to_string(), &step],
        )?;
        Ok(n == 1)
    }

    fn end_totp_setup_sessions(&self, id: Uuid) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE sessions SET totp_setup_only = 0 WHERE user_id = $1 AND totp_setup_only = 1",
            &[&id.to_string()],
        )?;
        Ok(())
    }

    fn add_crew(&self, name: &str, members: &[Uuid], now: DateTime<Utc>) -> StoreResult<Crew> {
        let taken = || StoreError::Conflict {
            code: ErrorCode::CrewExists,
            message: format!("a crew named {name:?} exists"),
        };
        self.write(|tx| {
            let id = Uuid::now_v7();
            // A crew of that name added meanwhile by another office process fails here too.
            match tx.execute(
                "INSERT INTO crews (id, name, created_at) VALUES ($1, $2, $3)",
                &[&id.to_string(), &name, &ts(now)],
            ) {
                Err(e) if is_unique_violation(&e) => return Err(taken()),
                other => other?,
            };
            for m in members {
                require_user(tx, *m)?;
                tx.execute(
                    "INSERT INTO crew_members (crew_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&id.to_string(), &m.to_string()],
                )?;
            }
            Ok(Crew {
                id,
                name: name.to_owned(),
                members: members.to_vec(),
            })
        })
    }

    fn list_crews(&self) -> StoreResult<Vec<Crew>> {
        let rows = self.conn()?.query(
            r#"SELECT c.id, c.name, m.user_id FROM crews c LEFT JOIN crew_members m ON m.crew_id = c.id
               ORDER BY c.name COLLATE "C", m.user_id COLLATE "C""#,
            &[],
        )?;
        let mut crews: Vec<Crew> = Vec::new();
        for r in rows {
            let id = parse_uuid(r.try_get(0)?)?;
            if crews.last().map(|c| c.id) != Some(id) {
                crews.push(Crew {
                    id,
                    name: r.try_get(1)?,
                    members: vec![],
                });
            }
            let member: Option<&str> = r.try_get(2)?;
            if let (Some(m), Some(c)) = (member, crews.last_mut()) {
                c.members.push(parse_uuid(m)?);
            }
        }
        Ok(crews)
    }
}
