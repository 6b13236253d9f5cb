//! The network on PostgreSQL, as `sqlite/network.rs`: patrol routes (the checkpoints a patrol
//! round visits, each station with the code posted at it) and outage notices, which reach every
//! device through the change feed.

use super::ledger::add_change;
use super::{PgStore, is_unique_violation};
use crate::store::convert::{json, parse_uuid, to_json, ts};
use crate::store::{CheckpointCode, NetworkStore, Route, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::ChangeKind;
use heatcrew_protocol::{Checkpoint, OutageNotice};
use postgres::GenericClient;
use postgres::types::ToSql;
use uuid::Uuid;

/// Routes matching `filter` (a `WHERE`/`ORDER BY` tail).
fn select_routes(
    c: &mut impl GenericClient,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<Route>> {
    c.query(
        &format!("SELECT id, name, area, checkpoints FROM routes {filter}"),
        params,
    )?
    .iter()
    .map(|r| {
        Ok(Route {
            id: parse_uuid(r.try_get(0)?)?,
            name: r.try_get(1)?,
            area: r.try_get(2)?,
            checkpoints: json(r.try_get(3)?)?,
        })
    })
    .collect()
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
/// station appears (a station keeps its code across routes and rounds). Two offices creating the
/// same new station at once agree: the second insert waits for the first and keeps its code.
pub(super) fn assign_codes(
    c: &mut impl GenericClient,
    checkpoints: &mut [Checkpoint],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for cp in checkpoints.iter_mut() {
        c.execute(
            "INSERT INTO checkpoint_codes (checkpoint_id, code, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (checkpoint_id) DO NOTHING",
            &[&cp.id, &new_code(), &ts(now)],
        )?;
        let code: String = c
            .query_one(
                "SELECT code FROM checkpoint_codes WHERE checkpoint_id = $1",
                &[&cp.id],
            )?
            .try_get(0)?;
        cp.code_sha256 = Some(Checkpoint::code_digest(&cp.id, &code));
    }
    Ok(())
}

impl NetworkStore for PgStore {
    fn create_route(&self, route: Route, now: DateTime<Utc>) -> StoreResult<Route> {
        self.write(|tx| {
            // A retry starts again from what the caller gave.
            let mut route = route.clone();
            assign_codes(tx, &mut route.checkpoints, now)?;
            let res = tx.execute(
                "INSERT INTO routes (id, name, area, checkpoints, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &route.id.to_string(),
                    &route.name,
                    &route.area,
                    &to_json(&route.checkpoints),
                    &ts(now),
                ],
            );
            match res {
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                    code: ErrorCode::RouteExists,
                    message: format!("a route named {:?} exists", route.name),
                }),
                Err(e) => Err(e.into()),
                Ok(_) => Ok(route),
            }
        })
    }

    fn checkpoint_codes(&self) -> StoreResult<Vec<CheckpointCode>> {
        self.conn()?
            .query(
                "SELECT checkpoint_id, code FROM checkpoint_codes ORDER BY checkpoint_id",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(CheckpointCode {
                    checkpoint_id: r.try_get(0)?,
                    code: r.try_get(1)?,
                })
            })
            .collect()
    }

    fn route(&self, id: Uuid) -> StoreResult<Option<Route>> {
        Ok(select_routes(&mut *self.conn()?, "WHERE id = $1", &[&id.to_string()])?.pop())
    }

    fn list_routes(&self) -> StoreResult<Vec<Route>> {
        select_routes(&mut *self.conn()?, "ORDER BY name", &[])
    }

    fn upsert_outage(&self, notice: OutageNotice, now: DateTime<Utc>) -> StoreResult<OutageNotice> {
        self.write(|tx| {
            // A retry starts again from what the caller gave.
            let notice = notice.clone();
            tx.execute(
                "INSERT INTO outages (id, body, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET body = $2, updated_at = $3, cleared_at = NULL",
                &[&notice.id.to_string(), &to_json(&notice), &ts(now)],
            )?;
            add_change(
                tx,
                None,
                &ChangeKind::OutageUpserted {
                    notice: notice.clone(),
                },
                now,
            )?;
            Ok(notice)
        })
    }

    fn clear_outage(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.write(|tx| {
            // The row lock of the UPDATE makes a second clearer wait, then find it cleared: one
            // `OutageCleared` per clearing.
            let n = tx.execute(
                "UPDATE outages SET cleared_at = $2 WHERE id = $1 AND cleared_at IS NULL",
                &[&id.to_string(), &ts(now)],
            )?;
            if n == 0 {
                return Err(StoreError::not_found(format!("active outage {id}")));
            }
            add_change(tx, None, &ChangeKind::OutageCleared { id }, now)?;
            Ok(())
        })
    }

    fn list_outages(&self) -> StoreResult<Vec<OutageNotice>> {
        self.conn()?
            .query(
                "SELECT body FROM outages WHERE cleared_at IS NULL ORDER BY updated_at",
                &[],
            )?
            .iter()
            .map(|r| json(r.try_get(0)?))
            .collect()
    }
}
