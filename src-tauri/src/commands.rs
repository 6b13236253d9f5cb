//! The contract's commands: parse, call heatcrew-core, map errors. No rules here.

use crate::state::{self, AppState, IpcError};
use chrono::NaiveDate;
use heatcrew_core::sync::SyncStatus;
use heatcrew_core::views::{
    self, AccidentInput, AppError, DamageInput, DefectInput, FindingInput, JobView,
    NetworkDamageInput, OutboxEntryView, SessionView, Today,
};
use heatcrew_core::{Lang, Store};
use heatcrew_protocol::{
    AttachmentRef, DeclineKind, Digest, EventBody, Reading, Resolution, Signer, StepEvidence,
    Witness,
};
use std::sync::MutexGuard;
use tauri::ipc::{InvokeBody, Request, Response};
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;

type Answer<T> = Result<T, IpcError>;

/// The store, if someone is signed in (every command but session/login/language needs one).
fn signed_in<'a>(state: &'a AppState) -> Result<MutexGuard<'a, Store>, IpcError> {
    let store = state.store();
    match store.session() {
        Ok(Some(_)) => Ok(store),
        Ok(None) => Err(state.fail(AppError::NotSignedIn)),
        Err(e) => Err(state.fail(e)),
    }
}

/// Record one action on a job and answer with the job as it now stands.
fn record(state: &AppState, job_id: Uuid, body: EventBody) -> Answer<JobView> {
    let mut store = signed_in(state)?;
    store.record(job_id, body).map_err(|e| state.fail(e))?;
    views::job(&store, job_id).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn session(state: State<'_, AppState>) -> Answer<Option<SessionView>> {
    views::session(&state.store()).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    office: String,
    username: String,
    password: String,
) -> Answer<SessionView> {
    heatcrew_core::sync::login(&state.store, &office, &username, &password)
        .await
        .map_err(|e| state.fail(e))?;
    state.stop_sync();
    // One pass before answering, so today's jobs are on the device when the job list first loads;
    // failing here is fine (the background loop keeps trying).
    let _ = heatcrew_core::sync::Syncer::new(std::sync::Arc::clone(&state.store))
        .sync_once()
        .await;
    state::start_sync(&app);
    views::session(&state.store())
        .map_err(|e| state.fail(e))?
        .ok_or_else(|| state.fail(AppError::NotSignedIn))
}

/// Refuses while records wait for the office, unless `force`; the records stay either way.
#[tauri::command]
pub async fn logout(state: State<'_, AppState>, force: Option<bool>) -> Answer<()> {
    let mut store = state.store();
    if let Some(refusal) =
        views::sign_out_refusal(&store, force.unwrap_or(false)).map_err(|e| state.fail(e))?
    {
        return Err(state.fail(refusal));
    }
    store.sign_out().map_err(|e| state.fail(e))?;
    drop(store);
    state.stop_sync();
    Ok(())
}

#[tauri::command]
pub async fn set_language(state: State<'_, AppState>, lang: Lang) -> Answer<()> {
    state.set_lang(lang);
    Ok(())
}

#[tauri::command]
pub async fn today(state: State<'_, AppState>) -> Answer<Today> {
    let store = signed_in(&state)?;
    views::today(&store).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn job(state: State<'_, AppState>, job_id: Uuid) -> Answer<JobView> {
    let store = signed_in(&state)?;
    views::job(&store, job_id).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn complete_step(
    state: State<'_, AppState>,
    job_id: Uuid,
    step: String,
    evidence: StepEvidence,
) -> Answer<JobView> {
    record(&state, job_id, EventBody::StepCompleted { step, evidence })
}

#[tauri::command]
pub async fn skip_step(
    state: State<'_, AppState>,
    job_id: Uuid,
    step: String,
    reason: String,
) -> Answer<JobView> {
    record(&state, job_id, EventBody::StepSkipped { step, reason })
}

/// The raw body of a photo or signature upload.
fn raw_body<'a>(state: &AppState, request: &'a Request<'_>) -> Answer<&'a [u8]> {
    match request.body() {
        InvokeBody::Raw(bytes) => Ok(bytes),
        InvokeBody::Json(_) => Err(state.fail(AppError::BadRequest(
            "image bytes must be sent as the raw request body".into(),
        ))),
    }
}

/// A header of a raw upload (`x-signer-name` arrives URI-encoded).
fn header(state: &AppState, request: &Request<'_>, name: &str) -> Answer<String> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .ok_or_else(|| state.fail(AppError::BadRequest(format!("missing header {name}"))))
}

fn job_header(state: &AppState, request: &Request<'_>) -> Answer<Uuid> {
    header(state, request, "x-job-id")?
        .parse()
        .map_err(|_| state.fail(AppError::BadRequest("x-job-id is not a job id".into())))
}

/// Run a photo or signature through the media pipeline off the async threads.
async fn ingest(
    state: &AppState,
    bytes: Vec<u8>,
    signature: bool,
) -> Answer<heatcrew_protocol::AttachmentRef> {
    drop(signed_in(state)?);
    let store = std::sync::Arc::clone(&state.store);
    let result = tauri::async_runtime::spawn_blocking(move || {
        let store = store.lock().unwrap_or_else(|e| e.into_inner());
        if signature {
            store.ingest_signature(&bytes)
        } else {
            store.ingest_photo(&bytes)
        }
    })
    .await
    .map_err(|e| state.fail(AppError::BadRequest(e.to_string())))?;
    result.map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn add_photo(state: State<'_, AppState>, request: Request<'_>) -> Answer<JobView> {
    let job_id = job_header(&state, &request)?;
    let step = header(&state, &request, "x-step")?;
    let photo = ingest(&state, raw_body(&state, &request)?.to_vec(), false).await?;
    record(
        &state,
        job_id,
        EventBody::PhotoAdded {
            step,
            photo,
            caption: String::new(),
        },
    )
}

#[tauri::command]
pub async fn stage_photo(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Answer<AttachmentRef> {
    ingest(&state, raw_body(&state, &request)?.to_vec(), false).await
}

#[tauri::command]
pub async fn save_signature(state: State<'_, AppState>, request: Request<'_>) -> Answer<JobView> {
    let job_id = job_header(&state, &request)?;
    let step = header(&state, &request, "x-step")?;
    let signer = match header(&state, &request, "x-signer")?.as_str() {
        "customer" => Signer::Customer,
        "witness" => Signer::Witness,
        "technician" => Signer::Technician,
        other => {
            return Err(state.fail(AppError::BadRequest(format!("unknown signer {other}"))));
        }
    };
    let signer_name = header(&state, &request, "x-signer-name").unwrap_or_default();
    let image = ingest(&state, raw_body(&state, &request)?.to_vec(), true).await?;
    record(
        &state,
        job_id,
        EventBody::SignatureCaptured {
            step,
            signer,
            signer_name,
            image,
        },
    )
}

#[tauri::command]
pub async fn stage_signature(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Answer<AttachmentRef> {
    ingest(&state, raw_body(&state, &request)?.to_vec(), true).await
}

#[tauri::command]
pub async fn decline_signature(
    state: State<'_, AppState>,
    job_id: Uuid,
    step: String,
    outcome: DeclineKind,
    reason: String,
    witness: Option<Witness>,
) -> Answer<JobView> {
    record(
        &state,
        job_id,
        EventBody::SignatureDeclined {
            step,
            outcome,
            reason,
            witness,
        },
    )
}

#[tauri::command]
pub async fn give_rating(
    state: State<'_, AppState>,
    job_id: Uuid,
    stars: u8,
    comment: String,
) -> Answer<JobView> {
    record(&state, job_id, EventBody::RatingGiven { stars, comment })
}

#[tauri::command]
pub async fn record_damage(
    state: State<'_, AppState>,
    job_id: Uuid,
    damage: DamageInput,
) -> Answer<JobView> {
    record(&state, job_id, damage.into_body())
}

#[tauri::command]
pub async fn record_network_damage(
    state: State<'_, AppState>,
    job_id: Uuid,
    damage: NetworkDamageInput,
) -> Answer<JobView> {
    record(&state, job_id, damage.into_body())
}

#[tauri::command]
pub async fn record_finding(
    state: State<'_, AppState>,
    job_id: Uuid,
    finding: FindingInput,
) -> Answer<JobView> {
    record(&state, job_id, finding.into_body())
}

#[tauri::command]
pub async fn issue_notice(
    state: State<'_, AppState>,
    job_id: Uuid,
    deadline: NaiveDate,
    requirements: String,
) -> Answer<JobView> {
    let mut store = signed_in(&state)?;
    store
        .issue_notice(job_id, deadline, requirements, None)
        .map_err(|e| state.fail(e))?;
    views::job(&store, job_id).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn record_reading(
    state: State<'_, AppState>,
    job_id: Uuid,
    checkpoint: String,
    readings: Vec<Reading>,
    note: String,
) -> Answer<JobView> {
    record(
        &state,
        job_id,
        EventBody::ReadingRecorded {
            checkpoint,
            readings,
            note,
        },
    )
}

#[tauri::command]
pub async fn report_defect(
    state: State<'_, AppState>,
    job_id: Uuid,
    defect: DefectInput,
) -> Answer<JobView> {
    record(&state, job_id, defect.into_body())
}

#[tauri::command]
pub async fn report_accident(
    state: State<'_, AppState>,
    accident: AccidentInput,
) -> Answer<JobView> {
    let mut store = signed_in(&state)?;
    let (job_id, _) = store
        .report_accident(
            accident.description,
            accident.measures_taken,
            accident.position,
            accident.injuries,
        )
        .map_err(|e| state.fail(e))?;
    views::job(&store, job_id).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn close_job(
    state: State<'_, AppState>,
    job_id: Uuid,
    resolution: Resolution,
    summary: String,
) -> Answer<JobView> {
    record(
        &state,
        job_id,
        EventBody::JobClosed {
            resolution,
            summary,
        },
    )
}

/// Thumbnail bytes as a raw IPC response (an `ArrayBuffer` in JS), never a JSON array.
#[tauri::command]
pub async fn thumbnail(state: State<'_, AppState>, sha256: String) -> Answer<Response> {
    let sha: Digest = sha256
        .parse()
        .map_err(|_| state.fail(AppError::BadRequest("sha256 is not a hash".into())))?;
    let bytes = state.store().thumbnail(&sha).map_err(|e| state.fail(e))?;
    Ok(Response::new(bytes))
}

#[tauri::command]
pub async fn outbox(state: State<'_, AppState>) -> Answer<Vec<OutboxEntryView>> {
    views::outbox(&state.store()).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Answer<SyncStatus> {
    match state.syncer() {
        Some(syncer) => Ok(syncer.status()),
        None => views::idle_sync_status(&state.store()).map_err(|e| state.fail(e)),
    }
}

/// Wake the background loop now (the user tapped "sync now"); progress arrives as events.
#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Answer<SyncStatus> {
    match state.syncer() {
        Some(syncer) => {
            syncer.wake();
            Ok(syncer.status())
        }
        None => Err(state.fail(AppError::NotSignedIn)),
    }
}

/// `encodeURIComponent` undone (names in headers may be Chinese).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn signer_names_arrive_uri_encoded() {
        assert_eq!(
            percent_decode("%E5%BC%A0%E4%BC%9F"),
            "张伟",
            "encodeURIComponent of a Chinese name decodes back to it"
        );
        assert_eq!(percent_decode("Li%20Na"), "Li Na", "spaces are %20");
        assert_eq!(percent_decode("100%"), "100%", "a lone % is kept as it is");
    }
}
