//! What the app holds while it runs: the device store, the UI language, and the background sync
//! loop (started at launch when a session exists and after each sign-in, stopped at sign-out).

use heatcrew_core::photo_worker::PhotoWorker;
use heatcrew_core::sync::Syncer;
use heatcrew_core::views::AppError;
use heatcrew_core::{CoreError, Lang, RuleError, Store};
use heatcrew_protocol::ErrorCode;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// Tests and the E2E suite point the app at their own database with this variable.
pub const DB_ENV: &str = "HEATCREW_DB";

/// The database file: `$HEATCREW_DB`, else `heatcrew.db` in the app's data directory.
pub fn database_path<R: Runtime>(
    app: &AppHandle<R>,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(path) = std::env::var_os(DB_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let dir = app.path().app_data_dir()?;
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("heatcrew.db"))
}

/// The running sync loop and the task that forwards its status to the window.
struct Running {
    syncer: Syncer,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Running {
    /// A dropped handle only detaches its task: end the loop and the forwarder with the state
    /// that started them (sign-out takes the slot; the app's state going away drops it).
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

pub struct AppState {
    pub store: Arc<Mutex<Store>>,
    lang: Mutex<Lang>,
    sync: Arc<Mutex<Option<Running>>>,
    /// Processes photos in the background (heatcrew_core::photo_worker).
    pub photos: PhotoWorker,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    pub fn open(db: &Path) -> Result<AppState, CoreError> {
        let mut store = Store::open(db)?;
        let sync: Arc<Mutex<Option<Running>>> = Arc::new(Mutex::new(None));
        // Every committed record wakes the sync loop, so it goes up as soon as there is signal.
        let slot = Arc::clone(&sync);
        store.on_recorded(Box::new(move |_| {
            if let Some(running) = lock(&slot).as_ref() {
                running.syncer.wake();
            }
        }));
        let store = Arc::new(Mutex::new(store));
        // Started now, so photos an earlier run left unprocessed are done at once.
        let photos = PhotoWorker::start(Arc::clone(&store));
        Ok(AppState {
            store,
            photos,
            lang: Mutex::new(Lang::default()),
            sync,
        })
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub fn lang(&self) -> Lang {
        *lock(&self.lang)
    }

    pub fn set_lang(&self, lang: Lang) {
        *lock(&self.lang) = lang;
    }

    /// The running syncer, if signed in.
    pub fn syncer(&self) -> Option<Syncer> {
        lock(&self.sync).as_ref().map(|r| r.syncer.clone())
    }

    /// Stop syncing (sign-out): the loop and the status forwarder end; nothing recorded is touched.
    pub fn stop_sync(&self) {
        // Dropping it aborts both tasks (`Running`'s `Drop`).
        drop(lock(&self.sync).take());
    }

    /// An error as it crosses IPC, in the current language.
    pub fn fail(&self, e: impl Into<Failure>) -> IpcError {
        let lang = self.lang();
        match e.into() {
            Failure::Core(e) => IpcError::new(e.code(), e.message(lang)),
            Failure::App(e) => IpcError::new(e.code(), e.message(lang)),
            Failure::Sync(e) => IpcError::new(e.code(), e.message(lang)),
        }
    }
}

/// Start the background sync loop (if a session exists and none is running) and forward its
/// status to the window as `sync-status` events.
pub fn start_sync<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let signed_in = matches!(state.store().session(), Ok(Some(_)));
    if !signed_in || state.syncer().is_some() {
        return;
    }
    // Created before taking the slot: Syncer::new reads the store, and the record hook takes the
    // slot while the store is locked.
    let syncer = Syncer::new(Arc::clone(&state.store));
    let mut status = syncer.subscribe();
    let handle = app.clone();
    let forward = tauri::async_runtime::spawn(async move {
        loop {
            let now = status.borrow_and_update().clone();
            // No window yet (or closing): the next change is sent again anyway.
            let _ = handle.emit("sync-status", now);
            if status.changed().await.is_err() {
                break;
            }
        }
    });
    let run = tauri::async_runtime::spawn(syncer.clone().run());
    let mut slot = lock(&state.sync);
    match slot.as_ref() {
        // Lost a race with another start: keep the first loop.
        Some(_) => {
            forward.abort();
            run.abort();
        }
        None => {
            *slot = Some(Running {
                syncer,
                tasks: vec![forward, run],
            });
        }
    }
}

/// Anything a command can fail with.
#[derive(Debug)]
pub enum Failure {
    Core(CoreError),
    App(AppError),
    Sync(heatcrew_core::sync::SyncError),
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::Core(e)
    }
}

impl From<RuleError> for Failure {
    fn from(e: RuleError) -> Self {
        Failure::Core(e.into())
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::App(e)
    }
}

impl From<heatcrew_core::sync::SyncError> for Failure {
    fn from(e: heatcrew_core::sync::SyncError) -> Self {
        Failure::Sync(e)
    }
}

/// The closed error shape the UI branches on (`code`) and shows (`message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: String) -> IpcError {
        IpcError { code, message }
    }
}

/// A poisoned lock only means a panic elsewhere; the store's own transactions keep it consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_running_slot_ends_its_tasks() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Arc::new(Mutex::new(
            Store::open(dir.path().join("device.db")).expect("store"),
        ));
        let (alive, mut gone) = tokio::sync::oneshot::channel::<()>();
        // A task that would run forever, holding `alive` until it is aborted.
        let task = tauri::async_runtime::spawn(async move {
            let _alive = alive;
            std::future::pending::<()>().await;
        });
        drop(Running {
            syncer: Syncer::new(store),
            tasks: vec![task],
        });
        let ended = tauri::async_runtime::block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(10), &mut gone).await
        });
        assert!(
            matches!(ended, Ok(Err(_))),
            "the task was aborted and dropped what it held: {ended:?}"
        );
    }
}
