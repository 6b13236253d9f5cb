//! The HeatCrew field app: a Tauri v2 shell around `heatcrew-core`. Every command parses its
//! arguments, calls the core, and maps errors to `{code, message}` in the chosen language; the
//! rules, records, views and sync all live in the core. The commands are the contract in
//! `ui/src/lib/backend/CONTRACT.md`.

mod commands;
mod state;

use heatcrew_core::CoreError;
use state::AppState;
use std::path::Path;
use tauri::{Manager, Runtime};

/// The app on a phone or the desktop.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    run_app(tauri::Builder::default())
        .run(tauri::generate_context!())
        .expect("the HeatCrew app failed to start");
}

/// Everything but the context: the commands, and at setup the state on the device database
/// (`$HEATCREW_DB`, else `heatcrew.db` in the app's data directory) and the sync loop.
pub fn run_app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    with_commands(builder).setup(|app| {
        let db = state::database_path(app.handle())?;
        let state = AppState::open(&db)?;
        app.manage(state);
        // A device that was signed in keeps syncing from the moment the app starts.
        state::start_sync(app.handle());
        Ok(())
    })
}

/// The app on the device database at `db`, opened now rather than at setup: the IPC tests build
/// it on a temp file with `tauri::test::mock_builder()`, whose event loop never runs setup (an
/// environment variable would be shared by every test in the process). Sync starts at sign-in.
pub fn run_app_on_database<R: Runtime>(
    builder: tauri::Builder<R>,
    db: &Path,
) -> Result<tauri::Builder<R>, CoreError> {
    let state = AppState::open(db)?;
    Ok(with_commands(builder).manage(state).setup(|app| {
        state::start_sync(app.handle());
        Ok(())
    }))
}

fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    mobile_plugins(builder).invoke_handler(tauri::generate_handler![
        commands::session,
        commands::login,
        commands::logout,
        commands::set_language,
        commands::today,
        commands::job,
        commands::complete_step,
        commands::skip_step,
        commands::add_photo,
        commands::stage_photo,
        commands::save_signature,
        commands::stage_signature,
        commands::decline_signature,
        commands::give_rating,
        commands::record_damage,
        commands::record_network_damage,
        commands::record_finding,
        commands::issue_notice,
        commands::record_reading,
        commands::report_defect,
        commands::report_accident,
        commands::close_job,
        commands::thumbnail,
        commands::outbox,
        commands::sync_status,
        commands::sync_now,
        commands::close_not_home,
        commands::request_reschedule,
        commands::opinion::give_opinion,
        commands::opinion::correct_record,
        commands::opinion::correctable_records,
        commands::confirm_checkpoint,
        commands::confirm_readiness,
    ])
}

/// Geolocation (the arrive step's position) and the barcode scanner (meter and seal codes) exist
/// only on phones.
#[cfg(mobile)]
fn mobile_plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_geolocation::init())
        .plugin(tauri_plugin_barcode_scanner::init())
}

#[cfg(not(mobile))]
fn mobile_plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
}
