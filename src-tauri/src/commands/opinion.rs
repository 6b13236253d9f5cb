//! The customer's opinion form and corrections: parse, call heatcrew-core, map errors (the rules
//! that lock the form and check a correction are heatcrew-rules', applied by `Store::record`).

use super::{Answer, Arg, record, signed_in};
use crate::state::AppState;
use heatcrew_core::views::{self, CorrectableRecord, CorrectionInput, JobView, OpinionInput};
use tauri::State;
use uuid::Uuid;

/// The customer's opinion form from customer mode; once recorded it is locked.
#[tauri::command]
pub async fn give_opinion(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    opinion: Arg<OpinionInput>,
) -> Answer<JobView> {
    record(&state, job_id.0, opinion.0.into_body())
}

/// A correction of one of the job's records, with its reason; the original stays.
#[tauri::command]
pub async fn correct_record(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    correction: Arg<CorrectionInput>,
) -> Answer<JobView> {
    record(&state, job_id.0, correction.0.into_body())
}

/// The job's records a technician may correct, as recorded and as they stand now.
#[tauri::command]
pub async fn correctable_records(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
) -> Answer<Vec<CorrectableRecord>> {
    let store = signed_in(&state)?;
    views::correctable(&store, job_id.0).map_err(|e| state.fail(e))
}
