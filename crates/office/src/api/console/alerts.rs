//! Urgent alerts (issue 12, point 5): an accident report from the field raises an alert, shown on
//! every open console at once (the live stream's `alert_raised`), acknowledged by the person on duty
//! (`alert_acknowledged` tells the other consoles), and the acknowledgement goes back to the
//! reporting device on its next pull (`PullResponse::acknowledgements`).
//!
//! - `GET /api/v1/console/alerts`: open alerts first (oldest first), then the latest acknowledged.
//! - `POST /api/v1/console/alerts/{id}/ack`: acknowledge one (dispatchers and admins).

use crate::OfficeState;
use crate::api::extract::{Auth, STAFF, blocking};
use crate::api::live::LiveEvent;
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::store::{AlertRecord, StoreError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use heatcrew_protocol::{ErrorCode, EventBody};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Acknowledged alerts listed after the open ones.
pub const ACKNOWLEDGED_LISTED: u32 = 50;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(console_alerts))
        .routes(routes!(acknowledge_alert))
}

/// A person as the alert names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AlertPerson {
    pub id: Uuid,
    pub display_name: String,
    pub badge_no: String,
}

/// Who acknowledged an alert, and when (office clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AlertAck {
    pub by: AlertPerson,
    pub at: DateTime<Utc>,
}

/// An urgent alert as the console shows it: what happened, where, who reported it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ConsoleAlert {
    /// The urgent event's id.
    pub id: Uuid,
    /// The event kind: `accident_reported`, or `defect_reported` for a critical defect.
    pub kind: String,
    pub job_id: Uuid,
    pub job_title: String,
    /// Where: the customer's address or the site, else what the reporter wrote.
    pub place: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub description: String,
    pub measures_taken: String,
    pub injuries: bool,
    pub reporter: AlertPerson,
    /// The device's clock when it was recorded.
    pub reported_at: DateTime<Utc>,
    /// The office's clock when it arrived.
    pub raised_at: DateTime<Utc>,
    pub acknowledged: Option<AlertAck>,
}

fn person(u: heatcrew_protocol::sync::UserInfo) -> AlertPerson {
    AlertPerson {
        id: u.id,
        display_name: u.display_name,
        badge_no: u.badge_no,
    }
}

impl From<AlertRecord> for ConsoleAlert {
    fn from(a: AlertRecord) -> ConsoleAlert {
        let e = &a.event.unsigned;
        let body = EventBody::from_parts(&e.kind, &e.payload).ok();
        let (description, measures_taken, injuries, position) = match body {
            Some(EventBody::AccidentReported {
                description,
                measures_taken,
                position,
                injuries,
            }) => (description, measures_taken, injuries, Some(position)),
            // A critical defect: what was found, and where on the network.
            Some(EventBody::DefectReported {
                description,
                position,
                ..
            }) => (description, String::new(), false, Some(position)),
            _ => (String::new(), String::new(), false, None),
        };
        let job_place = a.job.as_ref().and_then(|j| {
            j.customer
                .as_ref()
                .map(|c| c.address.clone())
                .filter(|s| !s.trim().is_empty())
                .or_else(|| j.site.clone().filter(|s| !s.trim().is_empty()))
        });
        let written = position.as_ref().map(|p| p.description.clone());
        let place = match (job_place, written) {
            (Some(job), Some(w)) if !w.trim().is_empty() && w != job => format!("{job}（{w}）"),
            (Some(job), _) => job,
            (None, Some(w)) => w,
            (None, None) => String::new(),
        };
        ConsoleAlert {
            id: e.id,
            kind: e.kind.clone(),
            job_id: e.job_id,
            job_title: a.job.as_ref().map(|j| j.title.clone()).unwrap_or_default(),
            place,
            lat: position.as_ref().and_then(|p| p.lat),
            lon: position.as_ref().and_then(|p| p.lon),
            description,
            measures_taken,
            injuries,
            reporter: person(a.reported_by),
            reported_at: e.recorded_at,
            raised_at: a.raised_at,
            acknowledged: a.acknowledged.map(|(u, at)| AlertAck { by: person(u), at }),
        }
    }
}

/// Open alerts first (oldest first: the longest waiting on top), then the latest acknowledged.
#[utoipa::path(get, path = "/api/v1/console/alerts", tag = "console",
    responses((status = 200, body = Vec<ConsoleAlert>),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn console_alerts(
    State(state): State<OfficeState>,
    auth: Auth,
) -> ApiResult<Json<Vec<ConsoleAlert>>> {
    auth.require(STAFF)?;
    let alerts = blocking(&state, |s| s.alerts(ACKNOWLEDGED_LISTED)).await?;
    Ok(Json(alerts.into_iter().map(ConsoleAlert::from).collect()))
}

/// Acknowledge an alert (dispatchers and admins): every open console hears it, and the reporting
/// device receives who and when on its next pull.
#[utoipa::path(post, path = "/api/v1/console/alerts/{id}/ack", tag = "console", params(("id" = Uuid, Path)),
    responses((status = 200, body = ConsoleAlert),
        (status = 404, body = ErrorBodySchema, description = "unknown_alert"),
        (status = 409, body = ErrorBodySchema, description = "alert_already_acknowledged"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn acknowledge_alert(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ConsoleAlert>> {
    auth.require(STAFF)?;
    let by = auth.user.id;
    let now = state.now();
    let answer = blocking(&state, move |s| Ok(s.acknowledge_alert(id, by, now))).await?;
    let alert = answer.map_err(|e| match e {
        StoreError::NotFound { .. } => ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownAlert,
            format!("there is no alert {id}"),
        ),
        other => other.into(),
    })?;
    // On the job's page with the rest of what the office did to it (the alert's own id in detail).
    let subject = alert.event.unsigned.job_id;
    crate::audit::record(
        &state,
        crate::audit::NewAudit::by(&auth, crate::audit::AuditKind::AlertAcknowledged)
            .subject(subject)
            .detail(serde_json::json!({"alert": id, "kind": alert.event.unsigned.kind})),
    )
    .await?;
    let alert = ConsoleAlert::from(alert);
    tracing::info!(alert = %id, by = %by, "alert acknowledged");
    state.live.publish(LiveEvent::AlertAcknowledged {
        alert: Box::new(alert.clone()),
    });
    Ok(Json(alert))
}

/// After a push committed: tell every open console about the alerts its urgent events raised (a
/// replayed push repeats an alert, which a console keeps by id; an acknowledged one is not repeated).
/// Awaited before the push is answered, so the alert is out before the device sends anything else.
pub async fn publish_raised(state: &OfficeState, urgent_events: Vec<Uuid>) {
    if urgent_events.is_empty() {
        return;
    }
    let found = blocking(state, move |s| {
        let mut out = Vec::new();
        for id in urgent_events {
            out.extend(s.alert(id)?);
        }
        Ok(out)
    })
    .await;
    match found {
        Ok(alerts) => {
            for a in alerts.into_iter().filter(|a| a.acknowledged.is_none()) {
                state.live.publish(LiveEvent::AlertRaised {
                    alert: Box::new(ConsoleAlert::from(a)),
                });
            }
        }
        // The alert is stored: consoles list it at their next (re)load.
        Err(e) => tracing::error!(error = %e.body.message, "alerts could not be read after a push"),
    }
}
