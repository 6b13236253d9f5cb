//! A whole office moved up, then serving from PostgreSQL and the object store.

use super::*;
use heatcrew_office::migrate::{self, Claim, MigrateError, MigrateOptions};
use heatcrew_office::store::StoreError;
use heatcrew_office::verify;

fn options(office: &TestOffice, db: &Db, files: &FilesTarget) -> MigrateOptions {
    let mut opts = MigrateOptions::new(office.db(), db.url(), files.location.clone());
    opts.to_key = Some(office.dir().join("moved.office-key"));
    opts.batch_rows = 50;
    opts
}

async fn migrate_now(opts: &MigrateOptions) -> Result<migrate::MigrationReport, MigrateError> {
    let opts = opts.clone();
    let rt = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || migrate::run(&opts, &rt))
        .await
        .expect("the migration thread")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_office_serves_and_a_phone_keeps_pushing_and_pulling_without_gaps() {
    let Some(db) = Db::create() else { return };
    let files = FilesTarget::new();
    let (office, phone) = office_with_visits(3).await;
    let source = heatcrew_office::store::SqliteStore::open_read_only(office.db()).expect("source");
    let events_before = verify::check(&source, None)
        .expect("verify the source")
        .events;
    drop(source);
    let changes_before: i64 = rusqlite::Connection::open(office.db())
        .expect("open the source")
        .query_row("SELECT MAX(server_seq) FROM changes", [], |r| r.get(0))
        .expect("the source's change feed");

    let opts = options(&office, &db, &files);
    let report = migrate_now(&opts).await.expect("the migration runs");
    assert!(report.ok(), "{}", report.summary());
    assert_eq!(report.claim, Claim::Fresh);
    assert!(report.files >= 3, "the photos moved: {}", report.summary());
    assert_eq!(report.verify.events, events_before, "every event moved");
    assert_eq!(
        report.verify.attachments, report.files,
        "verify re-hashed every moved file at the target"
    );

    // Run again with the same arguments: nothing is copied twice, the comparison still holds.
    let again = migrate_now(&opts).await.expect("a second run");
    assert!(
        matches!(again.claim, Claim::Finished { .. }),
        "{:?}",
        again.claim
    );
    assert!(again.ok(), "{}", again.summary());

    // The moved office serves where the old one did; the phone carries on.
    let key = opts.to_key.clone().expect("the key was copied");
    let running = serve_moved(&db, &files, &key, office.addr()).await;
    let store = running.state.store.clone();
    let user = blocking(|| store.user_by_username("zhangwei"))
        .expect("read users")
        .expect("the technician moved")
        .info
        .id;
    record_visits(&*store, user, &phone, 2, "after").await;
    let after = blocking(|| verify::check(&*store, Some(&running.state.files)))
        .expect("verify the moved office");
    assert!(after.faults.is_empty(), "{:?}", after.faults);
    assert!(
        after.events > events_before,
        "the new visits were accepted after the move ({} then {})",
        events_before,
        after.events
    );
    assert_eq!(
        after.log_entries, after.events,
        "the office log grew by exactly the new events: no index reused or skipped"
    );
    let new_changes: Vec<i64> = blocking(|| {
        let mut pg = postgres::Client::connect(db.url(), postgres::NoTls).expect("connect");
        pg.query(
            "SELECT server_seq FROM changes WHERE server_seq > $1 ORDER BY server_seq",
            &[&changes_before],
        )
        .expect("the change feed")
        .iter()
        .map(|r| r.get(0))
        .collect()
    });
    let want: Vec<i64> = (1..=new_changes.len() as i64)
        .map(|i| changes_before + i)
        .collect();
    assert!(
        new_changes.len() >= 2,
        "the jobs dispatched after the move are in the feed"
    );
    assert_eq!(
        new_changes, want,
        "changes after the move continue the source's numbers with no gap and no reuse"
    );
    let device = blocking(|| store.list_devices())
        .expect("devices")
        .into_iter()
        .find(|d| d.code == phone.session.device_code)
        .expect("the phone moved");
    assert_eq!(
        device.last_seq,
        phone.lock().tip().seq,
        "the office holds the phone's whole chain, before and after the move"
    );
    running.stop().await;
    // The last handle on the PostgreSQL pool: closed off the runtime's threads.
    blocking(move || drop(store));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_with_data_or_another_office_and_a_newer_source_are_refused() {
    let Some(db) = Db::create() else { return };
    let files = FilesTarget::new();
    let (office, _phone) = office_with_visits(1).await;

    // A database some office already writes to.
    let busy = Db::create().expect("a second database");
    let other = TestOffice::start().await;
    blocking(|| {
        let store = PgStore::open(busy.url()).expect("open");
        let mut c = postgres::Client::connect(busy.url(), postgres::NoTls).expect("connect");
        c.execute(
            "INSERT INTO users (id, username, password_hash, display_name, role, created_at)
             VALUES ('u1', 'someone', 'x', '某人', 'admin', '2026-01-01T00:00:00.000Z')",
            &[],
        )
        .expect("a user");
        drop(store);
    });
    let mut opts = options(&office, &busy, &files);
    opts.to_key = None;
    let err = migrate_now(&opts).await.expect_err("a target in use");
    assert!(
        matches!(&err, MigrateError::Refused(m) if m.contains("not empty")),
        "{err}"
    );

    // A target that holds this office's migration refuses another office.
    let opts = options(&office, &db, &files);
    assert!(migrate_now(&opts).await.expect("migrate").ok());
    let mut other_office = other;
    other_office.stop().await;
    let mut other_opts = MigrateOptions::new(other_office.db(), db.url(), files.location.clone());
    other_opts.batch_rows = 50;
    let err = migrate_now(&other_opts).await.expect_err("a second source");
    assert!(
        matches!(&err, MigrateError::Refused(m) if m.contains("another office")),
        "{err}"
    );

    // A source written by a newer binary.
    let newer = office.dir().join("newer.db");
    // The office's write-ahead log holds part of it: a copy of the file alone would miss that.
    rusqlite::Connection::open(office.db())
        .expect("open the source")
        .execute("VACUUM INTO ?1", [newer.to_str().expect("a UTF-8 path")])
        .expect("copy the source");
    rusqlite::Connection::open(&newer)
        .expect("open the copy")
        .pragma_update(None, "user_version", 999)
        .expect("pretend a newer schema");
    let fresh = Db::create().expect("a third database");
    let newer_opts = MigrateOptions::new(&newer, fresh.url(), files.location.clone());
    let err = migrate_now(&newer_opts).await.expect_err("a newer source");
    assert!(
        matches!(
            &err,
            MigrateError::Store(StoreError::NewerSchema { found: 999, .. })
        ),
        "{err}"
    );
}
