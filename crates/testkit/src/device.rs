//! A device as the field app runs it: the real core store on a temp SQLite file, signed in to an
//! office (its key enrolled there), and the sync client over it.

use heatcrew_core::Store;
use heatcrew_core::sync::{self, Session, Syncer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// A signed-in device core. Dropping it removes its database.
#[derive(Debug)]
pub struct TestDevice {
    pub store: Arc<Mutex<Store>>,
    pub syncer: Syncer,
    pub session: Session,
    db: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestDevice {
    /// Open a fresh device store and sign in at `office_url` as `username`, enrolling its key.
    pub async fn sign_in(office_url: &str, username: &str, password: &str) -> TestDevice {
        let dir = tempfile::tempdir().expect("temp dir for the device");
        let db = dir.path().join("device.db");
        let store = Arc::new(Mutex::new(Store::open(&db).expect("open the device store")));
        let session = sync::login(&store, office_url, username, password)
            .await
            .unwrap_or_else(|e| panic!("{username} signs in at {office_url}: {e}"));
        TestDevice {
            syncer: Syncer::new(store.clone()),
            store,
            session,
            db,
            _dir: dir,
        }
    }

    /// The store, locked.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().expect("the device store lock")
    }

    /// The device's SQLite file.
    pub fn db(&self) -> &Path {
        &self.db
    }
}
