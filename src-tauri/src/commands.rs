//! The contract's commands: parse, call heatcrew-core, map errors. No rules here.

use crate::state::{self, AppState, IpcError};
use chrono::NaiveDate;
use heatcrew_core::sync::SyncStatus;
use heatcrew_core::views::{
    self, AccidentInput, AppError, DamageInput, DefectInput, FindingInput, JobView,
    NetworkDamageInput, NoEntryInput, OutboxEntryView, RescheduleInput, SessionView, Today,
};
use heatcrew_core::{Lang, Store};
use heatcrew_protocol::{
    AttachmentRef, CodeEntry, DeclineKind, Digest, EventBody, Position, Reading, Resolution,
    Signer, StepEvidence, Witness,
};
use serde::Deserialize;
use std::sync::MutexGuard;
use tauri::ipc::{CommandArg, CommandItem, InvokeBody, InvokeError, Request, Response};
use tauri::{AppHandle, Manager, Runtime, State};
use uuid::Uuid;

pub mod opinion;

type Answer<T> = Result<T, IpcError>;

/// A command argument from the UI. Tauri rejects an argument that does not parse with a bare
/// string; this one rejects with `{code: "bad_request", message}` in the current language, like
/// every other error the UI gets.
#[derive(Debug)]
pub struct Arg<T>(pub T);

impl<'de, T: Deserialize<'de>, R: Runtime> CommandArg<'de, R> for Arg<T> {
    fn from_command(item: CommandItem<'de, R>) -> Result<Self, InvokeError> {
        let (command, key) = (item.name, item.key);
        let webview = item.message.webview_ref().clone();
        T::deserialize(item).map(Arg).map_err(|e| {
            let problem = AppError::BadRequest(format!("{command}: argument {key}: {e}"));
            let error = match webview.try_state::<AppState>() {
                Some(state) => state.fail(problem),
                None => IpcError::new(problem.code(), problem.message(Lang::default())),
            };
            InvokeError::from(error)
        })
    }
}

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
    // Held, not refused, while the job's photos are still being processed: the record waits for
    // its photos, the technician does not.
    store
        .record_or_hold(job_id, body)
        .map_err(|e| state.fail(e))?;
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
    office: Arg<String>,
    username: Arg<String>,
    password: Arg<String>,
) -> Answer<SessionView> {
    heatcrew_core::sync::login(&state.store, &office.0, &username.0, &password.0)
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
pub async fn logout(state: State<'_, AppState>, force: Arg<Option<bool>>) -> Answer<()> {
    let refusal = views::sign_out_refusal(&state.store(), force.0.unwrap_or(false))
        .map_err(|e| state.fail(e))?;
    if let Some(refusal) = refusal {
        return Err(state.fail(refusal));
    }
    state.stop_sync();
    // The office ends the session too when it can be reached (at most SIGN_OUT_WAIT); the tokens
    // go from the phone either way, and offline the session ends at the office when it expires.
    heatcrew_core::sync::sign_out(&state.store)
        .await
        .map(drop)
        .map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn set_language(state: State<'_, AppState>, lang: Arg<Lang>) -> Answer<()> {
    state.set_lang(lang.0);
    Ok(())
}

#[tauri::command]
pub async fn today(state: State<'_, AppState>) -> Answer<Today> {
    let store = signed_in(&state)?;
    views::today(&store).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn job(state: State<'_, AppState>, job_id: Arg<Uuid>) -> Answer<JobView> {
    let store = signed_in(&state)?;
    views::job(&store, job_id.0).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn complete_step(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    step: Arg<String>,
    evidence: Arg<StepEvidence>,
) -> Answer<JobView> {
    record(
        &state,
        job_id.0,
        EventBody::StepCompleted {
            step: step.0,
            evidence: evidence.0,
        },
    )
}

#[tauri::command]
pub async fn skip_step(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    step: Arg<String>,
    reason: Arg<String>,
) -> Answer<JobView> {
    record(
        &state,
        job_id.0,
        EventBody::StepSkipped {
            step: step.0,
            reason: reason.0,
        },
    )
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

/// The phone's position sent with a photo (`x-position`: URI-encoded JSON), if any.
fn device_position(state: &AppState, request: &Request<'_>) -> Answer<Option<Position>> {
    let Ok(text) = header(state, request, "x-position") else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| state.fail(AppError::BadRequest(format!("x-position: {e}"))))
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

/// For the few actions recorded outside the job's queue (a checkpoint's code, the shift
/// readiness, not home at the door): the job's queued photos are processed and recorded first, so
/// the log keeps the order the technician acted in. Usually there is nothing to wait for.
async fn settle(state: &AppState, job_id: Uuid) -> Answer<()> {
    let held = state.store().held_for(job_id).map_err(|e| state.fail(e))?;
    if held.is_empty() {
        return Ok(());
    }
    let store = std::sync::Arc::clone(&state.store);
    tauri::async_runtime::spawn_blocking(move || heatcrew_core::photo_worker::process_all(&store))
        .await
        .map_err(|e| state.fail(AppError::BadRequest(e.to_string())))?
        .map_err(|e| state.fail(e))?;
    Ok(())
}

/// Keep the photo and queue it for processing; answers at once with the job, the photo shown
/// as processing (`x-retake: <id>` takes a failed one again in its place).
#[tauri::command]
pub async fn add_photo(state: State<'_, AppState>, request: Request<'_>) -> Answer<JobView> {
    let job_id = job_header(&state, &request)?;
    let step = header(&state, &request, "x-step")?;
    let fix = device_position(&state, &request)?;
    let bytes = raw_body(&state, &request)?;
    let mut store = signed_in(&state)?;
    match header(&state, &request, "x-retake") {
        Ok(id) => {
            let id = id
                .parse()
                .map_err(|_| state.fail(AppError::BadRequest("x-retake is not a number".into())))?;
            store.retake_photo(job_id, id, bytes)
        }
        Err(_) => store.take_photo(job_id, &step, bytes, fix).map(|_| ()),
    }
    .map_err(|e| state.fail(e))?;
    state.photos.wake();
    views::job(&store, job_id).map_err(|e| state.fail(e))
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
        "contractor" => Signer::Contractor,
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
    job_id: Arg<Uuid>,
    step: Arg<String>,
    outcome: Arg<DeclineKind>,
    reason: Arg<String>,
    witness: Arg<Option<Witness>>,
) -> Answer<JobView> {
    record(
        &state,
        job_id.0,
        EventBody::SignatureDeclined {
            step: step.0,
            outcome: outcome.0,
            reason: reason.0,
            witness: witness.0,
        },
    )
}

#[tauri::command]
pub async fn give_rating(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    stars: Arg<u8>,
    comment: Arg<String>,
) -> Answer<JobView> {
    record(
        &state,
        job_id.0,
        EventBody::RatingGiven {
            stars: stars.0,
            comment: comment.0,
        },
    )
}

#[tauri::command]
pub async fn record_damage(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    damage: Arg<DamageInput>,
) -> Answer<JobView> {
    record(&state, job_id.0, damage.0.into_body())
}

#[tauri::command]
pub async fn record_network_damage(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    damage: Arg<NetworkDamageInput>,
) -> Answer<JobView> {
    record(&state, job_id.0, damage.0.into_body())
}

#[tauri::command]
pub async fn record_finding(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    finding: Arg<FindingInput>,
) -> Answer<JobView> {
    record(&state, job_id.0, finding.0.into_body())
}

#[tauri::command]
pub async fn issue_notice(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    deadline: Arg<NaiveDate>,
    requirements: Arg<String>,
    follow_up_on: Arg<Option<NaiveDate>>,
) -> Answer<JobView> {
    let mut store = signed_in(&state)?;
    store
        .issue_notice(job_id.0, deadline.0, requirements.0, follow_up_on.0)
        .map_err(|e| state.fail(e))?;
    views::job(&store, job_id.0).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn record_reading(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    checkpoint: Arg<String>,
    readings: Arg<Vec<Reading>>,
    note: Arg<String>,
) -> Answer<JobView> {
    record(
        &state,
        job_id.0,
        EventBody::ReadingRecorded {
            checkpoint: checkpoint.0,
            readings: readings.0,
            note: note.0,
        },
    )
}

/// Presence at a patrol checkpoint, with the code posted there (scanned or typed).
#[tauri::command]
pub async fn confirm_checkpoint(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    checkpoint: Arg<String>,
    code: Arg<String>,
    method: Arg<CodeEntry>,
    position: Arg<Option<Position>>,
) -> Answer<JobView> {
    settle(&state, job_id.0).await?;
    let mut store = signed_in(&state)?;
    store
        .confirm_checkpoint(job_id.0, checkpoint.0, code.0, method.0, position.0)
        .map_err(|e| state.fail(e))?;
    views::job(&store, job_id.0).map_err(|e| state.fail(e))
}

/// The day's shift readiness, recorded on the job it opens.
#[tauri::command]
pub async fn confirm_readiness(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    checks: Arg<Vec<String>>,
) -> Answer<JobView> {
    settle(&state, job_id.0).await?;
    let mut store = signed_in(&state)?;
    store
        .confirm_readiness(job_id.0, checks.0)
        .map_err(|e| state.fail(e))?;
    views::job(&store, job_id.0).map_err(|e| state.fail(e))
}

#[tauri::command]
pub async fn report_defect(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    defect: Arg<DefectInput>,
) -> Answer<JobView> {
    record(&state, job_id.0, defect.0.into_body())
}

#[tauri::command]
pub async fn report_accident(
    state: State<'_, AppState>,
    accident: Arg<AccidentInput>,
) -> Answer<JobView> {
    let mut store = signed_in(&state)?;
    let accident = accident.0;
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
    job_id: Arg<Uuid>,
    resolution: Arg<Resolution>,
    summary: Arg<String>,
) -> Answer<JobView> {
    record(
        &state,
        job_id.0,
        EventBody::JobClosed {
            resolution: resolution.0,
            summary: summary.0,
        },
    )
}

/// Not home / no entry at the door: the outcome, the customer's window if given, and the visit
/// closed, in one transaction (`Store::close_not_home`).
#[tauri::command]
pub async fn close_not_home(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    no_entry: Arg<NoEntryInput>,
) -> Answer<JobView> {
    settle(&state, job_id.0).await?;
    let mut store = signed_in(&state)?;
    store
        .close_not_home(job_id.0, no_entry.0)
        .map_err(|e| state.fail(e))?;
    views::job(&store, job_id.0).map_err(|e| state.fail(e))
}

/// The customer asks for another appointment, at the door or by phone.
#[tauri::command]
pub async fn request_reschedule(
    state: State<'_, AppState>,
    job_id: Arg<Uuid>,
    request: Arg<RescheduleInput>,
) -> Answer<JobView> {
    record(&state, job_id.0, request.0.into_body())
}

/// Thumbnail bytes as a raw IPC response (an `ArrayBuffer` in JS), never a JSON array.
#[tauri::command]
pub async fn thumbnail(state: State<'_, AppState>, sha256: Arg<String>) -> Answer<Response> {
    let sha: Digest = sha256
        .0
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
