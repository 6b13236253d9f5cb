//! The outbox as the office's answered prefix of the log (schema 12, `crate::store::outbox`):
//! answers move the prefix in sequence order, resyncs move it back, and a phone's outbox written
//! by an older build keeps every answer through the upgrade.

use super::*;
use heatcrew_core::store::OutboxState;
use rusqlite::OptionalExtension;

fn states(store: &Store) -> Vec<(u64, OutboxState, Option<String>)> {
    store
        .outbox()
        .expect("outbox")
        .into_iter()
        .map(|e| (e.seq, e.state, e.reason))
        .collect()
}

fn pending(store: &Store) -> Vec<u64> {
    store
        .pending_push(100, 1 << 20)
        .expect("pending")
        .iter()
        .map(|e| e.seq())
        .collect()
}

/// A phone database as a schema-1 build left it: `steps` of `job` done two days ago.
fn older_build(db: &std::path::Path, key: &ed25519_dalek::SigningKey, job: &Job, steps: &[&str]) {
    let bodies: Vec<EventBody> = steps.iter().map(|s| done(s)).collect();
    heatcrew_core::legacy::write_schema_1_database(
        db,
        key,
        Uuid::now_v7(),
        job,
        &bodies,
        Utc::now() - Duration::days(2),
    )
    .expect("an old build's database");
}

#[test]
fn an_outbox_written_by_an_older_build_keeps_every_answer_through_the_upgrade() {
    use OutboxState::*;
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("phone.db");
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x42; 32]);
    let job = demo::home_repair_job(0, None);
    let steps = [
        "appointment",
        "arrive",
        "identify",
        "knock_consent",
        "shoe_covers",
        "diagnose_repair",
    ];
    older_build(&db, &key, &job, &steps);
    // As an older build's sync left it: answered up to 4 (3 refused), 5 out in a push that was
    // never answered, 6 queued and urgent.
    let conn = Connection::open(&db).expect("plain, as the old build wrote it");
    conn.execute_batch(
        "UPDATE outbox SET state = 'acknowledged' WHERE seq IN (1, 2, 4);
         UPDATE outbox SET state = 'rejected', reason = 'job_closed: the job was closed' WHERE seq = 3;
         UPDATE outbox SET state = 'uploading' WHERE seq = 5;
         UPDATE outbox SET urgent = 1 WHERE seq = 6;",
    )
    .expect("the old outbox");
    drop(conn);

    let store = Store::open(&db).expect("the new build opens and upgrades it");
    assert_eq!(
        states(&store),
        vec![
            (1, Acknowledged, None),
            (2, Acknowledged, None),
            (3, Rejected, Some("job_closed: the job was closed".into())),
            (4, Acknowledged, None),
            (5, Queued, None),
            (6, Queued, None),
        ],
        "every answer kept; the unanswered push waits again"
    );
    assert_eq!(pending(&store), [5, 6], "what waits is pushed, in order");
    assert_eq!(
        store.last_urgent_pending().expect("urgent"),
        Some(6),
        "the urgent record is still urgent"
    );
    let backlog = store.backlog().expect("backlog");
    assert_eq!(
        (backlog.queued, backlog.rejected),
        (2, 1),
        "the badge counts as before"
    );
    assert_eq!(
        backlog.oldest_pending_at,
        Some(store.events().expect("events")[4].unsigned.recorded_at),
        "the oldest waiting record is the first after the answered prefix"
    );
    let foreign_keys: bool = store
        .connection()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .expect("pragma");
    assert!(foreign_keys, "foreign keys are on again after the rebuild");
    drop(store);

    // The rebuilt log is the same log, as append-only as before.
    let conn = raw(&db);
    let broken: Option<String> = conn
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()
        .expect("check");
    assert_eq!(broken, None, "every reference to an event holds");
    assert!(
        conn.execute("DELETE FROM events WHERE seq = 6", [])
            .is_err(),
        "the rebuilt events table keeps its triggers"
    );
    drop(conn);
    let read = heatcrew_core::evidence::DeviceDb::open_read_only(&db).expect("still evidence");
    assert_eq!(read.events().expect("events").len(), 6);
    assert_eq!(
        audit(
            &read.events().expect("events"),
            read.device_id(),
            &key.verifying_key(),
            Some(read.tip())
        ),
        Ok(6),
        "the events verify, byte for byte as sealed"
    );
}

#[test]
fn answers_move_the_answered_prefix_in_order_and_resyncs_move_it_back() {
    use OutboxState::*;
    let mut d = device();
    let job = visit_until(&mut d.store, "identify");
    assert_eq!(pending(&d.store), [1, 2], "two records wait");
    d.store
        .record(job.id, done("identify"))
        .expect("a third record");
    d.store
        .mark_outbox(&[1, 2], Uploading)
        .expect("a push goes out");
    assert_eq!(
        states(&d.store)
            .into_iter()
            .map(|s| s.1)
            .collect::<Vec<_>>(),
        [Uploading, Uploading, Queued]
    );
    // An answer after a record still waiting moves nothing: that record and the ones after it
    // go again and are answered again.
    d.store
        .set_outbox_state(&[(2, Acknowledged, None)])
        .expect("an answer out of order");
    assert_eq!(pending(&d.store), [1, 2, 3], "nothing skipped");
    d.store
        .set_outbox_state(&[
            (1, Acknowledged, None),
            (2, Rejected, Some("bad: refused".into())),
        ])
        .expect("the push answered");
    assert_eq!(
        states(&d.store),
        vec![
            (1, Acknowledged, None),
            (2, Rejected, Some("bad: refused".into())),
            (3, Queued, None),
        ]
    );
    assert_eq!(pending(&d.store), [3]);
    assert_eq!(d.store.backlog().expect("backlog").rejected, 1);

    // The office lost its copy from 2 on: 2 and 3 go again, 2's refusal forgotten.
    d.store.resync_from(2).expect("resync");
    assert_eq!(pending(&d.store), [2, 3]);
    assert_eq!(d.store.backlog().expect("backlog").rejected, 0);
    // The office holds more than this log (a log restored from an older copy): everything here
    // counts as held, and what is recorded next is pushed.
    d.store.resync_from(10).expect("resync");
    assert_eq!(pending(&d.store), Vec::<u64>::new());
    d.store
        .record(job.id, done("knock_consent"))
        .expect("a fourth record");
    assert_eq!(pending(&d.store), [4], "a new record waits");
}

#[test]
fn attachments_written_by_an_older_build_keep_their_upload_progress_through_the_upgrade() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("phone.db");
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x43; 32]);
    let job = demo::home_repair_job(0, None);
    let steps = ["appointment", "arrive", "identify", "knock_consent"];
    older_build(&db, &key, &job, &steps);
    // As an older build's sync left it: 1 to 3 answered; a file of record 2 half uploaded, one of
    // record 3 uploaded, one of record 4 (still queued) not started.
    let sha = |b: u8| Digest([b; 32]).to_hex();
    let conn = Connection::open(&db).expect("plain, as the old build wrote it");
    conn.execute_batch("UPDATE outbox SET state = 'acknowledged' WHERE seq <= 3")
        .expect("the old outbox");
    for (b, seq, uploaded_bytes, uploaded) in [(0xa1, 2, 40, 0), (0xa2, 3, 100, 1), (0xa3, 4, 0, 0)]
    {
        conn.execute(
            "INSERT INTO attachments (sha256, bytes, mime, first_seq, uploaded_bytes, uploaded)
             VALUES (?1, 100, 'image/jpeg', ?2, ?3, ?4)",
            rusqlite::params![sha(b), seq, uploaded_bytes, uploaded],
        )
        .expect("an attachment row");
    }
    drop(conn);

    let store = Store::open(&db).expect("the new build opens and upgrades it");
    let pending: Vec<(String, u64, u64, String)> = store
        .pending_attachments()
        .expect("pending")
        .into_iter()
        .map(|a| (a.sha256.to_hex(), a.bytes, a.uploaded_bytes, a.mime))
        .collect();
    assert_eq!(
        pending,
        [(sha(0xa1), 100, 40, "image/jpeg".to_owned())],
        "the half-uploaded file of an answered record resumes where it stopped"
    );
    let backlog = store.backlog().expect("backlog");
    assert_eq!(
        (backlog.attachments, backlog.attachment_bytes),
        (2, 160),
        "the files still to upload and their bytes, as before"
    );
    assert!(
        store
            .connection()
            .prepare("SELECT rowid FROM attachments")
            .is_err(),
        "one b-tree keyed by the file's hash (schema 13): no rowid"
    );
}

/// A critical defect is a hazard to report at once (发现安全隐患时应及时报告, 规章制度 2.3): the phone
/// marks it urgent as it does an accident report, so the next push takes the chain up to it first;
/// a major or minor defect waits its turn.
#[test]
fn a_critical_defect_is_pushed_first_a_lesser_one_waits_its_turn() {
    use heatcrew_protocol::Severity;
    let mut d = device();
    let job = demo::patrol_job(None);
    d.store.add_office_job(&job).expect("job");
    let defect = heatcrew_testkit::defect;
    d.store
        .record(job.id, defect(Severity::Major))
        .expect("a major defect");
    assert_eq!(
        d.store.last_urgent_pending().expect("urgent"),
        None,
        "a major defect is not urgent"
    );
    let critical = d
        .store
        .record(job.id, defect(Severity::Critical))
        .expect("a critical defect");
    d.store
        .record(job.id, defect(Severity::Minor))
        .expect("a minor one after it");
    assert_eq!(
        d.store.last_urgent_pending().expect("urgent"),
        Some(critical.seq()),
        "the critical defect is urgent: the chain up to it goes first"
    );
}
