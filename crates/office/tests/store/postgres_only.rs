//! What only the PostgreSQL store has: its migration bookkeeping across processes, and the
//! transactions PostgreSQL aborts to break a deadlock (SQLite has one writer and none).

use heatcrew_office::store::{MetaStore, PgStore, StoreError};
use heatcrew_testkit::pg::TestDb;

#[test]
fn reopening_keeps_data_and_does_not_rerun_migrations() {
    let Some(db) = TestDb::create() else { return };
    let s = PgStore::open(&db.url).expect("open");
    s.set_meta("k", "v").expect("write");
    drop(s);
    let s = PgStore::open(&db.url).expect("reopen");
    assert_eq!(
        s.meta("k").expect("read").as_deref(),
        Some("v"),
        "a restart keeps what was committed (a rerun migration would fail on existing tables)"
    );
}

#[test]
fn the_pool_holds_as_many_connections_as_it_is_given() {
    let Some(db) = TestDb::create() else { return };
    let url = format!("{}?application_name=sized-pool", db.url);
    let store = PgStore::open_with(&url, 3).expect("open");
    let mut admin = postgres::Client::connect(&db.url, postgres::NoTls).expect("admin");
    let count = |admin: &mut postgres::Client| -> i64 {
        admin
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND application_name = 'sized-pool'",
                &[],
            )
            .expect("count")
            .get(0)
    };
    // Twelve readers at once: they share the three connections.
    std::thread::scope(|scope| {
        for _ in 0..12 {
            scope.spawn(|| {
                for _ in 0..20 {
                    store.meta("k").expect("read");
                }
            });
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count(&mut admin) < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        count(&mut admin),
        3,
        "the pool fills to its size and no further"
    );
}

#[test]
fn offices_starting_together_migrate_once() {
    let Some(db) = TestDb::create() else { return };
    let opened: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| PgStore::open(&db.url).map(|_| ())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for r in opened {
        r.expect("every process opens: the advisory lock serialises the migration");
    }
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let rows: i64 = c
        .query_one("SELECT COUNT(*) FROM schema_version", &[])
        .expect("count")
        .get(0);
    assert_eq!(
        rows,
        heatcrew_office::store::postgres::SCHEMA_VERSION,
        "each migration recorded once"
    );
}

#[test]
fn a_database_from_a_newer_binary_is_refused() {
    let Some(db) = TestDb::create() else { return };
    drop(PgStore::open(&db.url).expect("fresh database"));
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    c.execute(
        "INSERT INTO schema_version (version) VALUES ($1)",
        &[&(heatcrew_office::store::postgres::SCHEMA_VERSION + 1)],
    )
    .expect("bump version");
    assert!(
        matches!(PgStore::open(&db.url), Err(StoreError::NewerSchema { .. })),
        "an older binary must not write into a schema it does not know"
    );
}

/// Text sorts and compares in byte order, as on SQLite, whatever the database's locale: every
/// text column is `COLLATE "C"` (migration 0003 for the first two files' columns; a later
/// migration's new column must say so itself, or this fails).
#[test]
fn every_text_column_sorts_in_byte_order() {
    let Some(db) = TestDb::create_sorting_as("en-US") else {
        return;
    };
    drop(PgStore::open(&db.url).expect("open"));
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let other: Vec<String> = c
        .query(
            "SELECT table_name || '.' || column_name FROM information_schema.columns
             WHERE table_schema = current_schema() AND data_type = 'text'
               AND collation_name IS DISTINCT FROM 'C'
             ORDER BY 1",
            &[],
        )
        .expect("columns")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        other.is_empty(),
        "text columns not in byte order: {other:?}"
    );
    // The triggers whose WHEN names a column were dropped for the change and made again.
    let triggers: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname IN
             ('alerts_raise', 'complaints_intake_fixed', 'complaints_reply_once',
              'complaints_callback_once')",
            &[],
        )
        .expect("triggers")
        .get(0);
    assert_eq!(triggers, 4, "every trigger kept");
}

#[test]
fn a_bad_address_is_a_clear_error() {
    let err = PgStore::open("postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
        .expect_err("nothing listens on port 1");
    assert!(
        err.to_string().starts_with("database:"),
        "a connection failure is a database error, not a panic: {err}"
    );
}

/// A push and another connection lock the same two rows in opposite orders: the push holds its
/// device's row and waits for the ledger counter, which the other connection holds while it asks
/// for the device's row. PostgreSQL breaks the deadlock by aborting the push (the other side waits
/// longer before it looks for deadlocks); the store runs the push again once the other side
/// committed, and every event is stored once.
#[test]
fn a_push_aborted_to_break_a_deadlock_is_tried_again_and_stored_once() {
    use crate::complaints::{t0, user};
    use crate::kpi::{Device, job, push};
    use chrono::Duration;
    use heatcrew_office::store::{EvidenceLogStore, JobStore, LedgerStore};
    use heatcrew_protocol::JobKind;
    use heatcrew_protocol::sync::Role;
    use heatcrew_testkit::key_device::step;

    let Some(db) = TestDb::create() else { return };
    let s = PgStore::open(&db.url).expect("open");
    let tech = user(&s, "zhangwei", Role::RepairTechnician);
    let j = s
        .create_job(job(JobKind::HomeRepair, Some(tech.id), Some(t0())), t0())
        .expect("job")
        .id;
    let mut phone = Device::enrol(&s, tech.id, 8);
    let at = t0() + Duration::hours(1);
    let events = vec![
        phone.record(j, &step("appointment"), at),
        phone.record(j, &step("arrive"), at + Duration::minutes(5)),
    ];
    let mut other = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let deadlocks = |c: &mut postgres::Client| -> i64 {
        c.query_one(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .expect("stats")
        .get(0)
    };
    let before = deadlocks(&mut other);
    let mut tx = other.transaction().expect("begin");
    tx.batch_execute(
        "SET LOCAL deadlock_timeout = '20s';
         UPDATE ledger_counter SET next_change = next_change WHERE id = 1",
    )
    .expect("hold the counter");
    std::thread::scope(|scope| {
        let pushing = scope.spawn(|| push(&s, &phone, tech.id, &events, at));
        // Wait until the push holds the device's row and waits for the counter.
        let mut waiting = 0;
        for _ in 0..200 {
            waiting = tx
                .query_one(
                    "SELECT COUNT(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    &[],
                )
                .expect("activity")
                .get::<_, i64>(0);
            if waiting > 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        assert_eq!(waiting, 1, "the push waits for the counter");
        tx.query_one(
            "SELECT id FROM devices WHERE id = $1 FOR UPDATE",
            &[&phone.id.to_string()],
        )
        .expect("this side is not the one aborted: it gets the device's row once the push is");
        tx.commit().expect("commit");
        pushing.join().expect("the push succeeds on its next try");
    });
    let mut seen = before;
    for _ in 0..150 {
        seen = deadlocks(&mut other);
        if seen > before {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        seen,
        before + 1,
        "PostgreSQL found one deadlock and aborted one side"
    );
    assert_eq!(
        s.device_events(phone.id).expect("events").len(),
        2,
        "each event stored once"
    );
    assert_eq!(s.log_size().expect("log"), 2, "each event logged once");
}

/// Two office processes on one database: one verifies a phone's chain for a job page and keeps
/// the verified prefix in memory; the other keeps taking the phone's pushes (appends: the prefix
/// stands, only the new events are checked) and re-settles its clock offsets (not an edit). Then
/// someone edits a stored event through a connection of their own: the first process drops its
/// memory and names the edited event.
#[test]
fn another_office_s_appends_keep_the_chain_cache_and_any_edit_drops_it() {
    use crate::complaints::{t0, user};
    use crate::kpi::{Device, job, push};
    use chrono::Duration;
    use heatcrew_office::chain_cache::ChainCache;
    use heatcrew_office::store::{EnrolmentStore, JobStore, LedgerStore};
    use heatcrew_office::verify::ChainVerdict;
    use heatcrew_protocol::JobKind;
    use heatcrew_protocol::sync::Role;
    use heatcrew_testkit::key_device::step;

    let Some(db) = TestDb::create() else { return };
    let (pushing, viewing) = (
        PgStore::open(&db.url).expect("open"),
        PgStore::open(&db.url).expect("a second office"),
    );
    let tech = user(&pushing, "zhangwei", Role::RepairTechnician);
    let j = pushing
        .create_job(job(JobKind::HomeRepair, Some(tech.id), Some(t0())), t0())
        .expect("job")
        .id;
    let mut phone = Device::enrol(&pushing, tech.id, 9);
    let phone_id = phone.id;
    let mut minute = 0;
    let mut visit = |phone: &mut Device, n: usize| -> Vec<_> {
        (0..n)
            .map(|_| {
                minute += 1;
                phone.record(j, &step("arrive"), t0() + Duration::minutes(minute))
            })
            .collect()
    };
    let events = visit(&mut phone, 3);
    push(
        &pushing,
        &phone,
        tech.id,
        &events,
        t0() + Duration::hours(1),
    );
    let device = |s: &PgStore| {
        s.list_devices()
            .expect("devices")
            .into_iter()
            .find(|d| d.id == phone_id)
            .expect("the phone")
    };
    let cache = ChainCache::default();
    let first = cache.verdict(&viewing, &device(&viewing)).expect("verify");
    assert_eq!(first.verdict, ChainVerdict::Verified { events: 3 });
    assert_eq!(first.checked_now, 3, "a first load checks all");

    let stamp = viewing.outside_writes().expect("stamp");
    assert!(stamp.is_some(), "PostgreSQL can tell, so the cache is used");
    let more = visit(&mut phone, 2);
    push(&pushing, &phone, tech.id, &more, t0() + Duration::hours(2));
    let mut raw = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    raw.execute(
        "UPDATE events SET offset_ms = 1000, push_offset_ms = 1000 WHERE device_id = $1",
        &[&phone_id.to_string()],
    )
    .expect("a re-settled clock offset, as the store writes it");
    assert_eq!(
        viewing.outside_writes().expect("stamp"),
        stamp,
        "another office's appends and offsets are no edit"
    );
    let next = cache.verdict(&viewing, &device(&viewing)).expect("verify");
    assert_eq!(next.verdict, ChainVerdict::Verified { events: 5 });
    assert_eq!(
        next.checked_now, 2,
        "only the other office's new events are checked: the verified prefix stands"
    );

    let changed = raw
        .execute(
            r#"UPDATE events SET body = replace(body, '"step":"', '"step":"x')
               WHERE device_id = $1 AND device_seq = 2"#,
            &[&phone_id.to_string()],
        )
        .expect("tamper");
    assert_eq!(changed, 1, "the edit took");
    assert_ne!(
        viewing.outside_writes().expect("stamp"),
        stamp,
        "an edit through any connection moves it"
    );
    let after = cache.verdict(&viewing, &device(&viewing)).expect("verify");
    assert!(
        matches!(after.verdict, ChainVerdict::Broken { seq: 2, .. }),
        "the memory is dropped and the edited event named: {:?}",
        after.verdict
    );
    let refused = raw
        .execute("UPDATE event_edits SET edits = 0", &[])
        .expect_err("the count never goes back");
    let why = refused.as_db_error().map(|e| e.message().to_owned());
    assert_eq!(
        why.as_deref(),
        Some("the count of edited events only goes up"),
        "{refused:?}"
    );
}
