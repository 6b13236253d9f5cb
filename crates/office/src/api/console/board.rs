//! `GET /api/v1/console/board`: the dispatch board of one day ([`crate::board`]).

use crate::OfficeState;
use crate::api::extract::{Auth, STAFF, blocking};
use crate::board::{self, BoardView};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use axum::Json;
use axum::extract::{Query, State};
use chrono::NaiveDate;
use heatcrew_protocol::ErrorCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default().routes(routes!(board_of_day))
}

/// China Standard Time, where the crews work: the day a date means unless the console says (one
/// constant with the phone's patrol rounds).
pub use heatcrew_protocol::DEFAULT_UTC_OFFSET_MINUTES;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct BoardQuery {
    /// The day, `YYYY-MM-DD` (default: today at the office).
    pub date: Option<NaiveDate>,
    /// The console's UTC offset in minutes east (480 for China; the default).
    pub utc_offset_minutes: Option<i32>,
}

/// The dispatch board of a day: its jobs (by appointment, else report time) and open undated
/// ones, each with its state, step k of n, 4-hour clock, late flag and assignee; the lanes.
#[utoipa::path(get, path = "/api/v1/console/board", tag = "console", params(BoardQuery),
    responses((status = 200, body = BoardView), (status = 400, body = ErrorBodySchema, description = "bad_offset"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn board_of_day(
    State(state): State<OfficeState>,
    auth: Auth,
    Query(q): Query<BoardQuery>,
) -> ApiResult<Json<BoardView>> {
    auth.require(STAFF)?;
    let offset = q.utc_offset_minutes.unwrap_or(DEFAULT_UTC_OFFSET_MINUTES);
    if !(-14 * 60..=14 * 60).contains(&offset) {
        return Err(ApiError::bad_request(
            ErrorCode::BadOffset,
            "utc_offset_minutes must be between -840 and 840",
        ));
    }
    let now = state.now();
    let date = q
        .date
        .unwrap_or_else(|| (now + chrono::Duration::minutes(i64::from(offset))).date_naive());
    let (from, to) = board::day_bounds(date, offset)
        .ok_or_else(|| ApiError::bad_request(ErrorCode::BadDate, "no such day at that offset"))?;
    let view = blocking(&state, move |s| board::board(s, date, from, to, now)).await?;
    Ok(Json(view))
}
