//! The network as dispatch sees it: patrol routes (the checkpoints a patrol round visits) and
//! outage notices, which reach every device through the change feed.

use super::ledger::add_change;
use super::{SqliteStore, is_constraint_violation, json, parse_uuid, select, to_json, ts};
use crate::store::{CheckpointCode, NetworkStore, Route, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::ChangeKind;
use heatcrew_protocol::{Checkpoint, OutageNotice};
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use uuid::Uuid;

/// Routes matching `filter` (a `WHERE`/`ORDER BY` tail).
fn select_routes(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<Route>> {
    select(
        conn,
        &format!("SELECT id, name, area, checkpoints FROM routes {filter}"),
        params,
        |r| <(String, String, String, String)>::try_from(r),
        |(id, name, area, checkpoints)| {
            Ok(Route {
                id: parse_uuid(&id)?,
                name,
                area,
                checkpoints: json(&checkpoints)?,
            })
        },
    )
}

/// The alphabet of station codes: no 0/O or 1/I to misread on a plate.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A new station code, `XXXX-XXXX` (40 random bits).
fn new_code() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        code.push(char::from(
            CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())],
        ));
    }
    code
}

/// Give every checkpoint the digest of its station's code, creating the code the first time a
/// station appears (a station keeps its code across routes and rounds).
pub(super) fn assign_codes(
    tx: &Transaction<'_>,
    checkpoints: &mut [Checkpoint],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for cp in checkpoints.iter_mut() {
        tx.execute(
            "INSERT OR IGNORE INTO checkpoint_codes (checkpoint_id, code, created_at) VALUES (?1, ?2, ?3)",
            params![cp.id, new_code(), ts(now)],
        )?;
        let code: String = tx.query_row(
            "SELECT code FROM checkpoint_codes WHERE checkpoint_id = ?1",
            [&cp.id],
            |r| r.get(0),
        )?;
        cp.code_sha256 = Some(Checkpoint::code_digest(&cp.id, &code));
    }
    Ok(())
}

impl NetworkStore for SqliteStore {
    fn create_route(&self, mut route: Route, now: DateTime<Utc>) -> StoreResult<Route> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        assign_codes(&tx, &mut route.checkpoints, now)?;
        let res = tx.execute(
            "INSERT INTO routes (id, name, area, checkpoints, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![route.id.to_string(), route.name, route.area, to_json(&route.checkpoints), ts(now)],
        );
        match res {
            Err(e) if is_constraint_violation(&e) => Err(StoreError::Conflict {
                code: ErrorCode::RouteExists,
                message: format!("a route named {:?} exists", route.name),
            }),
            Err(e) => Err(e.into()),
            Ok(_) => {
                tx.commit()?;
                Ok(route)
            }
        }
    }

    fn checkpoint_codes(&self) -> StoreResult<Vec<CheckpointCode>> {
        select(
            &self.reader(),
            "SELECT checkpoint_id, code FROM checkpoint_codes ORDER BY checkpoint_id",
            [],
            |r| <(String, String)>::try_from(r),
            |(checkpoint_id, code)| {
                Ok(CheckpointCode {
                    checkpoint_id,
                    code,
                })
            },
        )
    }

    fn route(&self, id: Uuid) -> StoreResult<Option<Route>> {
        Ok(select_routes(&self.reader(), "WHERE id = ?1", [id.to_string()])?.pop())
    }

    fn list_routes(&self) -> StoreResult<Vec<Route>> {
        select_routes(&self.reader(), "ORDER BY name", [])
    }

    fn upsert_outage(&self, notice: OutageNotice, now: DateTime<Utc>) -> StoreResult<OutageNotice> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO outages (id, body, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET body = ?2, updated_at = ?3, cleared_at = NULL",
            params![notice.id.to_string(), to_json(&notice), ts(now)],
        )?;
        add_change(
            &tx,
            None,
            &ChangeKind::OutageUpserted {
                notice: notice.clone(),
            },
            now,
        )?;
        tx.commit()?;
        Ok(notice)
    }

    fn clear_outage(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE outages SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL",
            params![id.to_string(), ts(now)],
        )?;
        if n == 0 {
            return Err(StoreError::not_found(format!("active outage {id}")));
        }
        add_change(&tx, None, &ChangeKind::OutageCleared { id }, now)?;
        tx.commit()?;
        Ok(())
    }

    fn list_outages(&self) -> StoreResult<Vec<OutageNotice>> {
        select(
            &self.reader(),
            "SELECT body FROM outages WHERE cleared_at IS NULL ORDER BY updated_at",
            [],
            |r| r.get::<_, String>(0),
            |body| json(&body),
        )
    }
}
