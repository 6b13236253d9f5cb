//! `GET /api/v1/console/customers?phone=|account=`: while a dispatcher types a caller's phone or
//! account number, the customer's earlier jobs and address (an index range, newest first).

use crate::OfficeState;
use crate::api::extract::{Auth, STAFF, blocking};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::store::CustomerKey;
use crate::store::sqlite::phone_key;
use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::{Customer, JobKind, JobStatus};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default().routes(routes!(customer_lookup))
}

/// Digits of a phone number before the lookup answers (fewer would match half the city).
pub const MIN_PHONE_DIGITS: usize = 7;
/// Characters of an account number before the lookup answers.
pub const MIN_ACCOUNT_CHARS: usize = 3;
/// Earlier jobs returned at most.
pub const LOOKUP_LIMIT: u32 = 10;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CustomerQuery {
    /// The phone as typed (spaces and dashes ignored), or its first 7+ digits.
    pub phone: Option<String>,
    /// The account number (用户编号), or its first 3+ characters.
    pub account: Option<String>,
}

/// An earlier job of a customer, with the customer as recorded on it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CustomerJob {
    pub job_id: Uuid,
    #[schema(value_type = String)]
    pub kind: JobKind,
    pub title: String,
    #[schema(value_type = Object)]
    pub customer: Customer,
    pub reported_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub status: JobStatus,
}

/// What the lookup found: the newest matching customer (to fill the form) and their jobs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CustomerLookup {
    #[schema(value_type = Option<Object>)]
    pub customer: Option<Customer>,
    pub jobs: Vec<CustomerJob>,
}

#[utoipa::path(get, path = "/api/v1/console/customers", tag = "console", params(CustomerQuery),
    responses((status = 200, body = CustomerLookup),
        (status = 422, body = ErrorBodySchema, description = "lookup_too_short, lookup_key"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn customer_lookup(
    State(state): State<OfficeState>,
    auth: Auth,
    Query(q): Query<CustomerQuery>,
) -> ApiResult<Json<CustomerLookup>> {
    auth.require(STAFF)?;
    let key = match (q.phone, q.account) {
        (Some(phone), None) => {
            if phone_key(&phone).len() < MIN_PHONE_DIGITS {
                return Err(ApiError::invalid(
                    ErrorCode::LookupTooShort,
                    format!("type at least {MIN_PHONE_DIGITS} digits of the phone number"),
                ));
            }
            Key::Phone(phone)
        }
        (None, Some(account)) => {
            if account.trim().chars().count() < MIN_ACCOUNT_CHARS {
                return Err(ApiError::invalid(
                    ErrorCode::LookupTooShort,
                    format!("type at least {MIN_ACCOUNT_CHARS} characters of the account number"),
                ));
            }
            Key::Account(account)
        }
        _ => {
            return Err(ApiError::invalid(
                ErrorCode::LookupKey,
                "look up by phone or by account, one of the two",
            ));
        }
    };
    let records = blocking(&state, move |s| {
        let key = match &key {
            Key::Phone(p) => CustomerKey::Phone(p),
            Key::Account(a) => CustomerKey::Account(a),
        };
        s.customer_jobs(key, LOOKUP_LIMIT)
    })
    .await?;
    let jobs: Vec<CustomerJob> = records
        .into_iter()
        .filter_map(|r| {
            let customer = r.job.customer?;
            Some(CustomerJob {
                job_id: r.job.id,
                kind: r.job.kind,
                title: r.job.title,
                customer,
                reported_at: r.job.reported_at,
                created_at: r.created_at,
                status: r.job.status,
            })
        })
        .collect();
    Ok(Json(CustomerLookup {
        customer: jobs.first().map(|j| j.customer.clone()),
        jobs,
    }))
}

enum Key {
    Phone(String),
    Account(String),
}
