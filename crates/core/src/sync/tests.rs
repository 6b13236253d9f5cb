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
fn office_answering_once(answer: &LoginResponse) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let body = serde_json::to_vec(answer).expect("json");
    std::thread::spawn(move || {
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
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).expect("answer");
        conn.write_all(&body).expect("answer body");
    });
    url
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
    // Tokens far larger than any free space left in the file, so storing the session must grow it.
    let token = "t".repeat(1 << 20);
    let office = office_answering_once(&LoginResponse {
        access_token: token.clone(),
        access_expires_at: Utc::now() + ChronoDuration::hours(1),
        refresh_token: token,
        user: user(),
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
