//! `heatcrew-office migrate` (docs/moving-up.md): a real office on SQLite, with devices that
//! pushed signed visits and uploaded their photos, moved to a test PostgreSQL database and a real
//! S3-protocol server (`s3s-fs`; a second folder when it is not installed and not required).
//!
//! - `plan`: every table of both schemas is migrated or named as not migrated, in foreign-key order;
//! - `move_up`: the moved office serves, a device keeps pushing and pulling without gaps, verify
//!   passes; a non-empty target, another office and a newer source are refused;
//! - `resume`: the real binary SIGKILLed mid-run, again and again, then run to the end;
//! - `tamper`: a changed row at the target is caught by the comparison.
//!
//! PostgreSQL: `eval "$(./dev pg)"`, then `HEATCREW_PG_REQUIRED=1 HEATCREW_S3_REQUIRED=1 cargo test
//! --workspace --locked --test migrate`.

use heatcrew_core::demo;
use heatcrew_office::objects::Location;
use heatcrew_office::store::PgStore;
use heatcrew_office::{Config, Office, RunningOffice};
use heatcrew_testkit::pg::TestDb;
use heatcrew_testkit::s3_server::S3Server;
use heatcrew_testkit::{DEMO_PASSWORD, TestDevice, TestOffice};
use std::sync::Arc;
use std::time::Duration;

mod move_up;
mod plan;
mod resume;
mod tamper;

/// A [`TestDb`] for an async test: the synchronous PostgreSQL client it creates and drops the
/// database with must not run on a runtime thread, so both happen in `block_in_place`.
struct Db(Option<TestDb>);

impl Db {
    fn create() -> Option<Db> {
        blocking(TestDb::create).map(|db| Db(Some(db)))
    }

    fn url(&self) -> &str {
        &self.0.as_ref().expect("alive").url
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let db = self.0.take();
        blocking(move || drop(db));
    }
}

/// Run synchronous database work (the PostgreSQL store, its client) from an async test.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Where the moved office's files go: a bucket prefix of a real S3-protocol server, or a folder.
struct FilesTarget {
    location: Location,
    /// The server, kept running (and its environment, for a child process).
    s3: Option<S3Server>,
    _dir: tempfile::TempDir,
}

impl FilesTarget {
    fn new() -> FilesTarget {
        let dir = tempfile::tempdir().expect("temp dir for the moved files");
        match S3Server::start() {
            Some(s3) => FilesTarget {
                location: s3.location("moved"),
                s3: Some(s3),
                _dir: dir,
            },
            None => FilesTarget {
                location: Location::Folder(dir.path().join("files")),
                s3: None,
                _dir: dir,
            },
        }
    }

    /// `--to-objects` as the command line takes it.
    fn arg(&self) -> String {
        match &self.s3 {
            Some(s3) => s3.url("moved"),
            None => self.location.to_string(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        self.s3
            .as_ref()
            .map(|s| s.env().to_vec())
            .unwrap_or_default()
    }
}

/// A demo office on SQLite where `zhangwei`'s phone recorded `visits` signed home repair visits
/// with photos and synced them all; the office is stopped (its files stay) and the phone kept.
async fn office_with_visits(visits: usize) -> (TestOffice, TestDevice) {
    let mut office = TestOffice::demo().await;
    let phone = TestDevice::sign_in(&office.url(), "zhangwei", DEMO_PASSWORD).await;
    record_visits(
        office.store(),
        office.user_id("zhangwei"),
        &phone,
        visits,
        "before",
    )
    .await;
    let stored = office
        .store()
        .complete_attachments()
        .expect("list the files");
    assert!(
        stored.len() >= visits,
        "the visits' photos reached the office: {}",
        stored.len()
    );
    office.stop().await;
    (office, phone)
}

/// Dispatch `n` jobs to `user` through `store`, record a signed visit with photos on each on the
/// phone, and sync until everything is up.
async fn record_visits(
    store: &dyn heatcrew_office::store::OfficeStore,
    user: uuid::Uuid,
    phone: &TestDevice,
    n: usize,
    label: &str,
) {
    let mut jobs = Vec::new();
    for i in 0..n {
        let job = demo::home_repair_job(i, Some(user));
        jobs.push(blocking(|| store.create_job(job, chrono::Utc::now())).expect("dispatch a job"));
    }
    phone
        .syncer
        .sync_once()
        .await
        .expect("the phone pulls its jobs");
    for job in &jobs {
        assert!(
            phone.lock().job(job.id).expect("read a job").is_some(),
            "the pull brought job {} to the phone",
            job.id
        );
    }
    for job in &jobs {
        let mut images = |l: &str, k: u32| demo::generated_png(&format!("{label}/{l}"), k);
        demo::home_repair_visit(
            &mut phone.lock(),
            &mut images,
            job,
            demo::VisitScript::Signed,
        )
        .expect("record a visit");
    }
    let report = phone.syncer.sync_once().await.expect("the phone syncs");
    assert_eq!(report.rejected, 0, "every record is accepted: {report:?}");
    assert!(report.attachments > 0, "photos went up: {report:?}");
}

/// Serve the PostgreSQL store and the moved files on `addr` (where the old office was, so the
/// phone finds it), with the office key the migration copied.
async fn serve_moved(
    db: &Db,
    files: &FilesTarget,
    key_file: &std::path::Path,
    addr: std::net::SocketAddr,
) -> RunningOffice {
    let mut config = Config::new(key_file.with_extension("unused.db"));
    config.key_file = key_file.to_owned();
    config.objects = files.location.clone();
    let office = blocking(|| {
        let store = PgStore::open(db.url()).expect("open the moved office");
        Office::with_store(config, Arc::new(store)).expect("the moved office starts")
    });
    let started = std::time::Instant::now();
    loop {
        match office.clone().spawn(&addr.to_string()).await {
            Ok(running) => return running,
            Err(e) if started.elapsed() < Duration::from_secs(60) => {
                eprintln!("port not free yet: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("serving the moved office on {addr}: {e}"),
        }
    }
}
