//! A row changed at the target after the move is caught by the comparison.

use super::*;
use heatcrew_office::migrate::{self, MigrateOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_event_at_the_target_is_named_with_its_device() {
    let Some(db) = Db::create() else { return };
    let files = FilesTarget::new();
    let (office, phone) = office_with_visits(1).await;
    let mut opts = MigrateOptions::new(office.db(), db.url(), files.location.clone());
    opts.batch_rows = 100;
    let rt = tokio::runtime::Handle::current();
    let device = phone.lock().device_id();
    tokio::task::spawn_blocking(move || {
        let report = migrate::run(&opts, &rt).expect("migrate");
        assert!(report.ok(), "{}", report.summary());
        let mut pg = postgres::Client::connect(db.url(), postgres::NoTls).expect("connect");
        // One event's stored body edited at the target (a comma more, the same hash column).
        let changed = pg
            .execute(
                "UPDATE events SET body = body || ' ' WHERE device_id = $1 AND device_seq = 2",
                &[&device.to_string()],
            )
            .expect("tamper");
        assert_eq!(changed, 1, "the tampered row exists");
        let report = migrate::run(&opts, &rt).expect("compare again");
        assert!(
            !report.ok(),
            "a changed row must not pass: {}",
            report.summary()
        );
        let differences = report.comparison.differences();
        assert!(
            differences.iter().any(|d| d.contains("events")
                && d.contains(&device.to_string())
                && d.contains("differ")),
            "the difference names the table and the device: {differences:?}"
        );
        assert!(report.summary().contains("FAILED"), "{}", report.summary());
    })
    .await
    .expect("the tamper check");
}
