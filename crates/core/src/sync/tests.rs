//! Failures of the device's own storage during sync are reported as local, never as the office
//! refusing; a full disk is retried by itself, other local failures wait for the user.

use super::*;
use crate::demo;
use crate::error::CoreError;
use heatcrew_protocol::sync::{LoginResponse, Role, UserInfo};
use heatcrew_protocol::{EventBody, StepEvidence};
use heatcrew_rules::Lang;
use std::io::{Read, Write};
use std::net::TcpListener;

fn user() -> UserInfo {
    UserInfo {
        id: uuid::Uuid::now_v7(),
        username: "wang".into(),
        display_name: "王师傅".into(),
        role: Role::RepairTechnician,
        badge_no: "RX-017".into(),
    }
}

/// An office that answers one sign-in with `answer` (what the real office would send), on loopback.
/// An office that answers one sign-in: the key-possession challenge, then `answer`.
fn office_answering_once(answer: &LoginResponse) -> String {
    let challenge = heatcrew_protocol::sync::ChallengeResponse {
        challenge: "11".repeat(32),
        expires_at: Utc::now() + ChronoDuration::minutes(5),
    };
    office_answering(vec![
        serde_json::to_vec(&challenge).expect("json"),
        serde_json::to_vec(answer).expect("json"),
    ])
}

/// An office that answers its next requests with `bodies`, one per connection, in order.
fn office_answering(bodies: Vec<Vec<u8>>) -> String {
    office_answering_with(bodies.into_iter().map(|b| ("200 OK", b)).collect())
}

/// Like [`office_answering`], with the status line of each answer.
fn office_answering_with(answers: Vec<(&'static str, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for (status, body) in answers {
            answer_one(&listener, status, &body);
        }
    });
    url
}

fn answer_one(listener: &TcpListener, status: &str, body: &[u8]) {
    {
        let (mut conn, _) = listener.accept().expect("the device connects");
        // Read the whole request before answering, so the device never sees a reset.
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = conn.read(&mut buf).expect("read request");
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).expect("answer");
        conn.write_all(body).expect("answer body");
    }
}

#[tokio::test]
async fn a_full_disk_at_sign_in_is_reported_as_local_and_retried() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path().join("device.db")).expect("open store");
    // The database may not grow by a single page: SQLite answers SQLITE_FULL exactly as on a
    // phone whose storage is full, deterministically and without a special filesystem.
    let pages: i64 = store
        .connection()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .expect("page count");
    store
        .connection()
        .pragma_update(None, "max_page_count", pages)
        .expect("cap the database size");
    // A user record far larger than any free space left in the file, so storing the session must
    // grow it (the tokens go to the key vault, not the database).
    let office = office_answering_once(&LoginResponse {
        access_token: "access".into(),
        access_expires_at: Utc::now() + ChronoDuration::hours(1),
        refresh_token: "refresh".into(),
        user: UserInfo {
            display_name: "王".repeat(1 << 19),
            ..user()
        },
        device_code: "D01".into(),
        last_seq: 0,
        server_time: Utc::now(),
        office_public_key: None,
    });
    let store = Mutex::new(store);

    let err = login(&store, &office, "wang", "secret")
        .await
        .expect_err("the session cannot be stored");

    assert!(
        matches!(&err, SyncError::Local { code, .. } if code == "disk_full"),
        "the office accepted the sign-in; it is the phone that could not store it: {err:?}"
    );
    assert!(
        err.is_transient(),
        "a full disk is retried with backoff: the technician may free space at any time"
    );
    let zh = err.message(Lang::Zh);
    assert!(
        zh.contains("存储空间已满") && !zh.contains("拒绝"),
        "the technician is told the phone is full, not that the office refused: {zh}"
    );
    assert!(
        err.message(Lang::En).contains("storage is full"),
        "and in English: {}",
        err.message(Lang::En)
    );
    assert_eq!(
        lock(&store).session().expect("read session"),
        None,
        "nothing of the session was half-stored"
    );
}

#[tokio::test]
async fn a_store_that_cannot_be_written_stops_sync_as_a_local_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("device.db")).expect("open store");
    let job = demo::home_repair_job(0, None);
    store.add_office_job(&job).expect("add job");
    store
        .record(
            job.id,
            EventBody::StepCompleted {
                step: "appointment".into(),
                evidence: StepEvidence::default(),
            },
        )
        .expect("a record waits for the office");
    store
        .save_session(&Session {
            // Never contacted: the pass fails on the device before its first request.
            office_url: "http://127.0.0.1:9".into(),
            access_token: "access".into(),
            access_expires_at: Utc::now() + ChronoDuration::hours(1),
            refresh_token: "refresh".into(),
            user: user(),
            device_code: "D01".into(),
        })
        .expect("signed in");
    // From here on SQLite refuses every write, as with a store the app can no longer write to.
    store
        .connection()
        .pragma_update(None, "query_only", true)
        .expect("make the store read-only");
    let store = Arc::new(Mutex::new(store));
    let syncer = Syncer::new(Arc::clone(&store));

    let err = syncer
        .sync_once()
        .await
        .expect_err("the outbox cannot be marked");

    assert!(
        matches!(&err, SyncError::Local { code, .. } if code == "storage"),
        "a local write failure is reported as local, with the device's code: {err:?}"
    );
    assert!(
        !err.is_transient(),
        "a store that cannot be written does not mend itself: it waits for the user"
    );
    assert!(
        !err.message(Lang::Zh).contains("拒绝") && err.message(Lang::Zh).contains("本机存储"),
        "the technician is told the device failed, not the office: {}",
        err.message(Lang::Zh)
    );
    assert_eq!(
        syncer.status().last_error.map(|f| f.code),
        Some(ErrorCode::Storage),
        "the sync badge carries the local code"
    );
    assert_eq!(
        syncer.status().last_error.map(|f| f.local),
        Some(true),
        "and the UI is told the phone failed, so it never says the office refused"
    );
    assert_eq!(
        lock(&store).backlog().expect("backlog").queued,
        1,
        "the record still waits for the office: nothing is dropped"
    );
}

#[test]
fn device_failures_keep_their_code_and_only_a_full_disk_retries_by_itself() {
    let full_db = CoreError::Db(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
        None,
    ));
    let full_files = CoreError::Io(std::io::Error::from(std::io::ErrorKind::StorageFull));
    let damaged = CoreError::Corrupt("device key".into());
    let cases = [
        (full_db, "disk_full", true),
        (full_files, "disk_full", true),
        (damaged, "store_corrupt", false),
    ];
    for (core, code, retried) in cases {
        let what = core.to_string();
        let err = SyncError::local(core);
        assert_eq!(err.code(), code, "{what}: the device error's code is kept");
        assert!(
            matches!(err, SyncError::Local { .. }),
            "{what}: reported as local"
        );
        assert_eq!(
            err.is_transient(),
            retried,
            "{what}: only a full disk is retried without the user"
        );
    }
}

// ------------------------------------------------ the office's signed answers

use ed25519_dalek::SigningKey;
use heatcrew_protocol::log::{LogLeaf, Receipt, TreeHead};
use heatcrew_protocol::sync::{PullResponse, PushOutcome, PushResponse, PushResult};
use heatcrew_protocol::{Digest, Event};

fn office_key() -> SigningKey {
    SigningKey::from_bytes(&[0x0f; 32])
}

/// A signed-in device with two records waiting, that knows the office key.
fn device_with_two_records(dir: &std::path::Path, office: &str) -> (Arc<Mutex<Store>>, Vec<Event>) {
    let mut store = Store::open(dir.join("device.db")).expect("open store");
    let job = demo::home_repair_job(0, None);
    store.add_office_job(&job).expect("add job");
    for step in ["appointment", "arrive"] {
        store
            .record(
                job.id,
                EventBody::StepCompleted {
                    step: step.into(),
                    evidence: StepEvidence::default(),
                },
            )
            .expect("record");
    }
    store
        .save_session(&Session {
            office_url: office.into(),
            access_token: "access".into(),
            access_expires_at: Utc::now() + ChronoDuration::hours(1),
            refresh_token: "refresh".into(),
            user: user(),
            device_code: "D01".into(),
        })
        .expect("signed in");
    store
        .save_office_public_key(Some(&hex::encode(office_key().verifying_key().as_bytes())))
        .expect("office key");
    let events = store.events().expect("events");
    (Arc::new(Mutex::new(store)), events)
}

/// A replayed login used up the challenge at the office and its answer was lost: the device asks
/// for a fresh challenge instead of failing the sign-in (a bad network must not lock a crew out).
#[tokio::test]
async fn a_used_up_challenge_is_replaced_not_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Mutex::new(Store::open(dir.path().join("device.db")).expect("open store"));
    let challenge = |c: &str| {
        serde_json::to_vec(&heatcrew_protocol::sync::ChallengeResponse {
            challenge: c.repeat(32),
            expires_at: Utc::now() + ChronoDuration::minutes(5),
        })
        .expect("json")
    };
    let refused = serde_json::to_vec(&serde_json::json!({
        "code": "challenge_unknown", "message": "no such challenge (used or never issued)"
    }))
    .expect("json");
    let accepted = serde_json::to_vec(&LoginResponse {
        access_token: "a".into(),
        access_expires_at: Utc::now() + ChronoDuration::hours(1),
        refresh_token: "r".into(),
        user: user(),
        device_code: "D01".into(),
        last_seq: 0,
        server_time: Utc::now(),
        office_public_key: None,
    })
    .expect("json");
    let office = office_answering_with(vec![
        ("200 OK", challenge("11")),
        ("409 Conflict", refused.clone()),
        ("200 OK", challenge("22")),
        ("200 OK", accepted),
    ]);
    login(&store, &office, "wang", "secret")
        .await
        .expect("the second challenge signs in");

    // Not forever: an office that keeps refusing its own challenges is reported after three tries.
    let store = Mutex::new(Store::open(dir.path().join("other.db")).expect("open store"));
    let office = office_answering_with(
        (0..3)
            .flat_map(|_| {
                [
                    ("200 OK", challenge("33")),
                    ("409 Conflict", refused.clone()),
                ]
            })
            .collect(),
    );
    let err = login(&store, &office, "wang", "secret")
        .await
        .expect_err("three refused challenges");
    assert!(
        matches!(
            &err,
            SyncError::Refused {
                code: ErrorCode::ChallengeUnknown,
                ..
            }
        ),
        "{err:?}"
    );
}

fn receipt_for(e: &Event, hash: Digest, index: u64) -> Receipt {
    let leaf = LogLeaf {
        device_id: e.unsigned.device_id,
        device_seq: e.seq(),
        event_hash: hash,
        accepted: true,
    };
    Receipt::sign(&office_key(), &leaf, index, Utc::now())
}

#[tokio::test]
async fn sign_in_keeps_the_office_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Mutex::new(Store::open(dir.path().join("device.db")).expect("open store"));
    let key = hex::encode(office_key().verifying_key().as_bytes());
    let office = office_answering_once(&LoginResponse {
        access_token: "a".into(),
        access_expires_at: Utc::now() + ChronoDuration::hours(1),
        refresh_token: "r".into(),
        user: user(),
        device_code: "D01".into(),
        last_seq: 0,
        server_time: Utc::now(),
        office_public_key: Some(key.clone()),
    });
    login(&store, &office, "wang", "secret")
        .await
        .expect("sign in");
    assert_eq!(
        lock(&store).office_public_key().expect("read"),
        Some(key),
        "the key that receipts and tree heads are checked against is kept"
    );
}

#[tokio::test]
async fn a_receipt_for_another_hash_is_refused_and_reported_and_honest_ones_are_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The office's answer is built before the device exists, so the device is made first with a
    // placeholder address and pointed at the office afterwards.
    let (store, events) = device_with_two_records(dir.path(), "http://127.0.0.1:9");
    let answer = PushResponse {
        results: vec![
            PushResult {
                device_seq: 1,
                event_id: events[0].unsigned.id,
                outcome: PushOutcome::Accepted,
                receipt: Some(receipt_for(&events[0], events[0].hash, 0)),
            },
            PushResult {
                device_seq: 2,
                event_id: events[1].unsigned.id,
                outcome: PushOutcome::Accepted,
                receipt: Some(receipt_for(&events[1], Digest::of(b"not this event"), 1)),
            },
        ],
        last_seq: 2,
        server_time: Utc::now(),
    };
    let office = office_answering(vec![serde_json::to_vec(&answer).expect("json")]);
    {
        let mut s = lock(&store);
        let mut session = s.session().expect("session").expect("signed in");
        session.office_url = office;
        s.save_session(&session).expect("point at the office");
    }
    let syncer = Syncer::new(Arc::clone(&store));
    let err = syncer
        .sync_once()
        .await
        .expect_err("a receipt that does not hold");
    assert_eq!(
        err.code(),
        "receipt_mismatch",
        "reported with the spec's code: {err}"
    );
    assert!(
        !err.is_transient(),
        "not retried blindly: someone must look at the office"
    );
    let s = lock(&store);
    assert_eq!(
        s.receipts().expect("receipts"),
        [answer.results[0].receipt.expect("receipt")],
        "the honest receipt is kept, the other refused"
    );
    assert_eq!(
        s.backlog().expect("backlog").queued,
        0,
        "the records themselves reached the office"
    );
}

#[tokio::test]
async fn a_tree_head_not_signed_by_the_office_key_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = device_with_two_records(dir.path(), "http://127.0.0.1:9");
    lock(&store)
        .resync_from(3)
        .expect("everything acknowledged: the pass goes straight to pull");
    let page = |head| PullResponse {
        changes: Vec::new(),
        next_cursor: 0,
        has_more: false,
        server_time: Utc::now(),
        tree_head: Some(head),
        acknowledgements: Vec::new(),
        company: None,
    };
    let honest = TreeHead::sign(&office_key(), 2, Digest::of(b"root"), Utc::now());
    let stranger = TreeHead::sign(
        &SigningKey::from_bytes(&[3; 32]),
        3,
        Digest::of(b"r"),
        Utc::now(),
    );
    let office = office_answering(vec![
        serde_json::to_vec(&page(honest)).expect("json"),
        serde_json::to_vec(&page(stranger)).expect("json"),
    ]);
    {
        let mut s = lock(&store);
        let mut session = s.session().expect("session").expect("signed in");
        session.office_url = office;
        s.save_session(&session).expect("point at the office");
    }
    let syncer = Syncer::new(Arc::clone(&store));
    syncer.sync_once().await.expect("an honest tree head");
    let err = syncer.sync_once().await.expect_err("a forged tree head");
    assert_eq!(err.code(), "bad_tree_head", "{err}");
    assert_eq!(
        lock(&store).tree_heads().expect("heads"),
        [honest],
        "only the office's own head is kept"
    );
}
