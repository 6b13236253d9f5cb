//! What the store needs for corrections and the company profile: a job's own events read back
//! (the original a correction names, the records a technician may correct), and the company's
//! details the office sends with every pull (migration 10).

use super::rows::{parse_time, parse_uuid};
use super::{Batch, Store};
use crate::error::Result;
use chrono::{DateTime, Utc};
use heatcrew_protocol::EventBody;
use heatcrew_protocol::sync::CompanyProfile;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;

/// One of a job's events as the views need it.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub event_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub body: EventBody,
}

fn body_of(kind: &str, payload: &str) -> Result<EventBody> {
    let payload: serde_json::Value = serde_json::from_str(payload)?;
    Ok(EventBody::from_parts(kind, &payload)?)
}

/// Found through the job's index (`events_job`): ids have no index of their own since schema 12,
/// which saves a page on every action; a correction reads at most one job's events.
fn event_of(conn: &Connection, job_id: Uuid, event_id: Uuid) -> Result<Option<EventBody>> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT kind, payload FROM events WHERE id = ?1 AND job_id = ?2",
            params![event_id.to_string(), job_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(k, p)| body_of(&k, &p)).transpose()
}

impl Batch<'_> {
    /// The event `event_id` of `job_id` (the original a correction names), if it is this job's.
    pub(super) fn job_event(&self, job_id: Uuid, event_id: Uuid) -> Result<Option<EventBody>> {
        event_of(&self.tx, job_id, event_id)
    }
}

impl Store {
    /// Every event of a job, in `device_seq` order (events of kinds this build does not know are
    /// left out).
    pub fn job_records(&self, job_id: Uuid) -> Result<Vec<JobRecord>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT id, recorded_at, kind, payload FROM events WHERE job_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([job_id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, kind, payload) = row?;
            if let Ok(body) = body_of(&kind, &payload) {
                out.push(JobRecord {
                    event_id: parse_uuid(&id)?,
                    recorded_at: parse_time(&at)?,
                    body,
                });
            }
        }
        Ok(out)
    }

    /// The company's details as the office last sent them (none before the first pull).
    pub fn company_profile(&self) -> Result<Option<CompanyProfile>> {
        let json: Option<String> = self
            .connection()
            .query_row(
                "SELECT profile FROM company_profile WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    /// Keep the company's details a pull brought (inside the pull's transaction).
    pub(crate) fn keep_company_profile(
        tx: &Transaction<'_>,
        profile: &CompanyProfile,
        now: &str,
    ) -> Result<()> {
        tx.execute(
            "INSERT INTO company_profile (id, profile, kept_at) VALUES (1, ?1, ?2)
             ON CONFLICT(id) DO UPDATE SET profile = excluded.profile, kept_at = excluded.kept_at",
            params![serde_json::to_string(profile)?, now],
        )?;
        Ok(())
    }
}
