//! Urgent alerts. The `alerts_raise` trigger (migrations/0007_alerts.sql) raises one when an
//! accepted urgent event is inserted, in the same transaction, so no code path that stores events
//! can forget it; this file reads them and records the acknowledgement.

use super::accounts::{USER_COLS, UserRow, user_at, user_info};
use super::{SqliteStore, json, parse_ts, parse_uuid, select, ts};
use crate::store::{AlertRecord, AlertStore, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::AlertAcknowledgement;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

/// An alert joined with its event, job, reporter and acknowledger (`u` and `k` aliases of users).
fn alert_sql(tail: &str) -> String {
    let reporter = USER_COLS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let acker = USER_COLS
        .split(", ")
        .map(|c| format!("k.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
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

type AlertRow = (
    String,
    Option<String>,
    String,
    Option<String>,
    UserRow,
    Option<UserRow>,
);

fn read_alert(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    let acker: Option<String> = r.get(9)?;
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        user_at(r, 4)?,
        match acker {
            Some(_) => Some(user_at(r, 9)?),
            None => None,
        },
    ))
}

fn parse_alert(t: AlertRow) -> StoreResult<AlertRecord> {
    let acknowledged = match (t.5, t.3) {
        (Some(user), Some(at)) => Some((user_info(user)?, parse_ts(&at)?)),
        _ => None,
    };
    Ok(AlertRecord {
        event: json(&t.0)?,
        job: t.1.as_deref().map(json).transpose()?,
        raised_at: parse_ts(&t.2)?,
        reported_by: user_info(t.4)?,
        acknowledged,
    })
}

fn alert_by_id(conn: &Connection, id: Uuid) -> StoreResult<Option<AlertRecord>> {
    Ok(select(
        conn,
        &alert_sql("WHERE a.id = ?1"),
        [id.to_string()],
        read_alert,
        parse_alert,
    )?
    .pop())
}

impl AlertStore for SqliteStore {
    fn alerts(&self, limit: u32) -> StoreResult<Vec<AlertRecord>> {
        let conn = self.reader();
        let mut out = select(
            &conn,
            &alert_sql("WHERE a.acknowledged_at IS NULL ORDER BY a.raised_at, a.id"),
            [],
            read_alert,
            parse_alert,
        )?;
        out.extend(select(
            &conn,
            &alert_sql(
                "WHERE a.acknowledged_at IS NOT NULL ORDER BY a.raised_at DESC, a.id LIMIT ?1",
            ),
            [limit as i64],
            read_alert,
            parse_alert,
        )?);
        Ok(out)
    }

    fn alert(&self, id: Uuid) -> StoreResult<Option<AlertRecord>> {
        alert_by_id(&self.reader(), id)
    }

    fn acknowledge_alert(
        &self,
        id: Uuid,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<AlertRecord> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state: Option<Option<String>> = tx
            .query_row(
                "SELECT acknowledged_by FROM alerts WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        match state {
            None => return Err(StoreError::not_found(format!("alert {id}"))),
            Some(Some(_)) => {
                let alert = alert_by_id(&tx, id)?
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
            "UPDATE alerts SET acknowledged_by = ?2, acknowledged_at = ?3 WHERE id = ?1",
            params![id.to_string(), by.to_string(), ts(now)],
        )?;
        let alert =
            alert_by_id(&tx, id)?.ok_or_else(|| StoreError::not_found(format!("alert {id}")))?;
        tx.commit()?;
        Ok(alert)
    }

    fn device_acknowledgements(
        &self,
        device_id: Uuid,
        limit: usize,
    ) -> StoreResult<Vec<AlertAcknowledgement>> {
        select(
            &self.reader(),
            "SELECT a.id, a.job_id, k.display_name, a.acknowledged_at
             FROM alerts a JOIN users k ON k.id = a.acknowledged_by
             WHERE a.device_id = ?1 AND a.acknowledged_at IS NOT NULL
             ORDER BY a.acknowledged_at DESC LIMIT ?2",
            params![device_id.to_string(), limit as i64],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
            |(id, job, by, at)| {
                Ok(AlertAcknowledgement {
                    event_id: parse_uuid(&id)?,
                    job_id: parse_uuid(&job)?,
                    acknowledged_by: by,
                    acknowledged_at: parse_ts(&at)?,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_office_knows_every_urgent_kind_the_protocol_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("office.db")).expect("open");
        let mut stored: Vec<String> = store.with_connection(|c| {
            let mut st = c.prepare("SELECT kind FROM urgent_kinds").expect("prepare");
            st.query_map([], |r| r.get(0))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows")
        });
        stored.sort();
        let mut known: Vec<String> = heatcrew_protocol::URGENT_KINDS
            .iter()
            .map(|k| k.to_string())
            .collect();
        known.sort();
        assert_eq!(
            stored, known,
            "an urgent kind the office's trigger does not know raises no alert: add a migration \
             inserting it into urgent_kinds"
        );
    }
}
