//! Urgent alerts on PostgreSQL, as `sqlite/alerts.rs`. The `alerts_raise` trigger
//! (migrations/0001_schema.sql) raises one when an accepted urgent event is inserted, in the same
//! transaction; this file reads them and records the acknowledgement. Two dispatchers
//! acknowledging at once take turns on the alert's row: the second is told who was first.

use super::PgStore;
use super::accounts::{USER_COLS, user_at, user_info};
use crate::store::convert::{json, parse_ts, parse_uuid, ts};
use crate::store::{AlertRecord, AlertStore, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::AlertAcknowledgement;
use postgres::GenericClient;
use postgres::types::ToSql;
use uuid::Uuid;

/// An alert joined with its event, job, reporter and acknowledger (`u` and `k` aliases of users).
fn alert_sql(tail: &str) -> String {
    let cols = |alias: &str| {
        USER_COLS
            .split(", ")
            .map(|c| format!("{alias}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (reporter, acker) = (cols("u"), cols("k"));
    format!(
        "SELECT e.body, j.body, a.raised_at, a.acknowledged_at, {reporter}, {acker}
         FROM alerts a
         JOIN events e ON e.device_id = a.device_id AND e.device_seq = a.device_seq
         JOIN users u ON u.id = a.reported_by
         LEFT JOIN users k ON k.id = a.acknowledged_by
         LEFT JOIN jobs j ON j.id = a.job_id
         {tail}"
    )
}

fn read_alert(r: &postgres::Row) -> StoreResult<AlertRecord> {
    let acker: Option<String> = r.try_get(9)?;
    let acknowledged_at: Option<String> = r.try_get(3)?;
    let acknowledged = match (acker, acknowledged_at) {
        (Some(_), Some(at)) => Some((user_info(user_at(r, 9)?)?, parse_ts(&at)?)),
        _ => None,
    };
    let job: Option<&str> = r.try_get(1)?;
    Ok(AlertRecord {
        event: json(r.try_get(0)?)?,
        job: job.map(json).transpose()?,
        raised_at: parse_ts(r.try_get(2)?)?,
        reported_by: user_info(user_at(r, 4)?)?,
        acknowledged,
    })
}

fn select_alerts(
    c: &mut impl GenericClient,
    tail: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<AlertRecord>> {
    c.query(&alert_sql(tail), params)?
        .iter()
        .map(read_alert)
        .collect()
}

fn alert_by_id(c: &mut impl GenericClient, id: Uuid) -> StoreResult<Option<AlertRecord>> {
    Ok(select_alerts(c, "WHERE a.id = $1", &[&id.to_string()])?.pop())
}

impl AlertStore for PgStore {
    fn alerts(&self, limit: u32) -> StoreResult<Vec<AlertRecord>> {
        let mut conn = self.conn()?;
        // One snapshot for both halves: an alert acknowledged in between is listed once.
        let mut tx = conn
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let mut out = select_alerts(
            &mut tx,
            "WHERE a.acknowledged_at IS NULL ORDER BY a.raised_at, a.id",
            &[],
        )?;
        out.extend(select_alerts(
            &mut tx,
            "WHERE a.acknowledged_at IS NOT NULL ORDER BY a.raised_at DESC, a.id LIMIT $1",
            &[&i64::from(limit)],
        )?);
        tx.commit()?;
        Ok(out)
    }

    fn alert(&self, id: Uuid) -> StoreResult<Option<AlertRecord>> {
        alert_by_id(&mut *self.conn()?, id)
    }

    fn acknowledge_alert(
        &self,
        id: Uuid,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<AlertRecord> {
        self.write(|tx| {
            let state: Option<Option<String>> = tx
                .query_opt(
                    "SELECT acknowledged_by FROM alerts WHERE id = $1 FOR UPDATE",
                    &[&id.to_string()],
                )?
                .map(|r| r.try_get(0))
                .transpose()?;
            match state {
                None => return Err(StoreError::not_found(format!("alert {id}"))),
                Some(Some(_)) => {
                    let alert = alert_by_id(tx, id)?
                        .ok_or_else(|| StoreError::not_found(format!("alert {id}")))?;
                    let (who, at) = alert
                        .acknowledged
                        .map(|(u, at)| (u.display_name, ts(at)))
                        .unwrap_or_default();
                    return Err(StoreError::Conflict {
                        code: ErrorCode::AlertAlreadyAcknowledged,
                        message: format!("this alert was already acknowledged by {who} at {at}"),
                    });
                }
                Some(None) => {}
            }
            tx.execute(
                "UPDATE alerts SET acknowledged_by = $2, acknowledged_at = $3 WHERE id = $1",
                &[&id.to_string(), &by.to_string(), &ts(now)],
            )?;
            let alert =
                alert_by_id(tx, id)?.ok_or_else(|| StoreError::not_found(format!("alert {id}")))?;
            Ok(alert)
        })
    }

    fn device_acknowledgements(
        &self,
        device_id: Uuid,
        limit: usize,
    ) -> StoreResult<Vec<AlertAcknowledgement>> {
        self.conn()?
            .query(
                "SELECT a.id, a.job_id, k.display_name, a.acknowledged_at
                 FROM alerts a JOIN users k ON k.id = a.acknowledged_by
                 WHERE a.device_id = $1 AND a.acknowledged_at IS NOT NULL
                 ORDER BY a.acknowledged_at DESC LIMIT $2",
                &[
                    &device_id.to_string(),
                    &i64::try_from(limit).unwrap_or(i64::MAX),
                ],
            )?
            .iter()
            .map(|r| {
                Ok(AlertAcknowledgement {
                    event_id: parse_uuid(r.try_get(0)?)?,
                    job_id: parse_uuid(r.try_get(1)?)?,
                    acknowledged_by: r.try_get(2)?,
                    acknowledged_at: parse_ts(r.try_get(3)?)?,
                })
            })
            .collect()
    }
}
