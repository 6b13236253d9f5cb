//! The office console's own views (OpenAPI tag `console`), office staff only: answers shaped for one
//! screen each and computed at the office, so a page is one request whatever the size of the ledger.
//!
//! - [`board`]: `GET /console/board?date=&utc_offset_minutes=`, the dispatch board of a day.
//! - [`job`]: `GET /console/jobs/{id}`, a job's page with its timeline and chain status;
//!   `POST /console/jobs/{id}/accept`, a dispatcher accepts a job opened in the field.
//! - [`customers`]: `GET /console/customers?phone=|account=`, a caller's earlier jobs and address.
//! - [`users`]: `GET /console/users` (with who is deactivated); admins: `POST /users/{id}/password`,
//!   `POST /users/{id}/deactivate`, `POST /users/{id}/activate`.
//! - [`bundle`]: `GET /jobs/{id}/bundle`, a job's evidence bundle (ZIP).
//! - [`alerts`]: `GET /console/alerts`, `POST /console/alerts/{id}/ack`, urgent alerts.
//! - [`audit`] (admins): `GET /console/audit?before=&limit=&user=&kind=&from=&to=`, the audit log.
//! - [`complaints`]: `/console/complaints…`, the complaints and reports tracker (投诉/举报).
//! - [`notices`]: the rectification notice register; [`patrols`]: patrol plans, the compliance
//!   grid and the defects register.

pub mod alerts;
pub mod audit;
pub mod board;
pub mod bundle;
pub mod complaints;
pub mod customers;
pub mod job;
pub mod notices;
pub mod patrols;
pub mod users;

use crate::OfficeState;
use utoipa_axum::router::OpenApiRouter;

/// Each route with its OpenAPI path.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .merge(alerts::routes())
        .merge(board::routes())
        .merge(job::routes())
        .merge(bundle::routes())
        .merge(customers::routes())
        .merge(users::routes())
        .merge(audit::routes())
        .merge(complaints::routes())
        .merge(notices::routes())
        .merge(patrols::routes())
}
