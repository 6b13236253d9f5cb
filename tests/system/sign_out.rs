//! Signing out on a phone ends the session at the office too: the tokens a tampered app copied
//! before the sign-out are refused afterwards. Offline, the phone forgets its tokens all the same.
//! On a crew's shared phone the sign-out is the phone's signed word on where its chain stood, kept
//! with the office's signed word: what a tampered app records afterwards is nobody's.

use super::shared_phone::shared_phone;
use super::*;
use heatcrew_core::sync::{self, SignedOut};
use reqwest::StatusCode;
use std::sync::{Arc, Mutex};

/// A new phone with tech_a signed in, and a copy of its session (what a tampered app keeps).
async fn signed_in(office: &TestOffice) -> (TempDir, Arc<Mutex<Store>>, sync::Session) {
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(Mutex::new(
        Store::open(dir.path().join("device.db")).expect("open the device store"),
    ));
    sync::login(&store, &office.url(), "tech_a", PASSWORD)
        .await
        .expect("tech_a signs in");
    let copy = store.lock().unwrap().session().unwrap().expect("a session");
    (dir, store, copy)
}

/// What the office answers a pull with `token`, and a refresh with `refresh`.
async fn office_answers(office: &TestOffice, copy: &sync::Session) -> (StatusCode, StatusCode) {
    let (pull, _) = office
        .get_json("/api/v1/sync/pull?cursor=0", &copy.access_token)
        .await;
    let (refresh, _) = office
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": copy.refresh_token}),
        )
        .await;
    (pull, refresh)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_at_the_office() {
    let office = TestOffice::start().await;
    let (_dir, store, copy) = signed_in(&office).await;
    let (pull, _) = office
        .get_json("/api/v1/sync/pull?cursor=0", &copy.access_token)
        .await;
    assert_eq!(pull, StatusCode::OK, "the session works before");

    assert_eq!(sync::sign_out(&store).await.unwrap(), SignedOut::Revoked);
    assert!(
        store.lock().unwrap().session().unwrap().is_none(),
        "the phone forgot its tokens"
    );
    assert_eq!(
        office_answers(&office, &copy).await,
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED),
        "the copied access and refresh tokens are refused"
    );
    assert_eq!(
        sync::sign_out(&store).await.unwrap(),
        SignedOut::NotSignedIn
    );
}

/// An access token that expired on the phone is renewed once to revoke the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_with_an_expired_access_token_still_ends_the_session() {
    let office = TestOffice::start_with(heatcrew_testkit::Seed::TestAccounts, |c| {
        c.access_ttl = Duration::from_secs(1)
    })
    .await;
    let (_dir, store, copy) = signed_in(&office).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sync::sign_out(&store).await.unwrap(), SignedOut::Revoked);
    let (_, refresh) = office_answers(&office, &copy).await;
    assert_eq!(
        refresh,
        StatusCode::UNAUTHORIZED,
        "the copied refresh token is refused"
    );
}

/// Offline, signing out does not wait long or fail: the phone forgets its tokens, and the
/// office's session ends when it expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_offline_forgets_the_tokens_on_the_phone() {
    let mut office = TestOffice::start().await;
    let (_dir, store, _copy) = signed_in(&office).await;
    office.stop().await;
    let outcome = sync::sign_out(&store).await.unwrap();
    assert!(matches!(outcome, SignedOut::NotTold(_)), "{outcome:?}");
    assert!(store.lock().unwrap().session().unwrap().is_none());
}

/// Signing out on a shared phone says where the phone's chain stood (signed by the device key):
/// a tampered app that records after the sign-out cannot make that record the signed-out user's.
/// tech_a signs out online; a record made afterwards and pushed with tech_b's sync is refused
/// `signed_out`, while tech_a's earlier records count as tech_a's. tech_b then signs out offline:
/// the statement waits on the phone, goes first when tech_a signs in again, and the record made
/// meanwhile is refused the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_made_after_a_sign_out_is_nobodys() {
    use heatcrew_core::sync::{self, SignedOut, Syncer};
    use heatcrew_protocol::{EventBody, StepEvidence};

    let office = TestOffice::start().await;
    let a_job = job_for(&office, "tech_a", 0).await;
    let b_job = job_for(&office, "tech_b", 1).await;
    let (_dir, store, device_id) = shared_phone(&office).await;
    let done = |step: &str| EventBody::StepCompleted {
        step: step.into(),
        evidence: StepEvidence::default(),
    };
    {
        let mut s = store.lock().unwrap();
        for step in ["appointment", "arrive"] {
            s.record(a_job, done(step)).expect(step);
        }
    }
    assert_eq!(
        sync::sign_out(&store).await.expect("sign out"),
        SignedOut::Revoked
    );
    {
        let mut s = store.lock().unwrap();
        assert!(
            s.unsent_sign_outs().unwrap().is_empty(),
            "the office has it"
        );
        assert!(s.stands_signed_out().unwrap());
        // A tampered app goes on as tech_a.
        s.record(a_job, done("identify"))
            .expect("recorded by a tampered app");
    }
    sync::login(&store, &office.url(), "tech_b", PASSWORD)
        .await
        .expect("tech_b signs in");
    Syncer::new(store.clone())
        .sync_once()
        .await
        .expect("tech_b's sync");
    let tech_a = office.user_id("tech_a");
    let of_job = |job: uuid::Uuid| -> Vec<(String, Option<String>, bool)> {
        office
            .store()
            .device_events(device_id)
            .expect("events")
            .iter()
            .filter(|e| e.event.unsigned.job_id == job)
            .map(|e| {
                (
                    e.event.unsigned.payload["step"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    e.reject_code.clone(),
                    e.user_id == tech_a,
                )
            })
            .collect()
    };
    assert_eq!(
        of_job(a_job),
        [
            ("appointment".to_owned(), None, true),
            ("arrive".to_owned(), None, true),
            ("identify".to_owned(), Some("signed_out".to_owned()), true),
        ],
        "tech_a's records count; the one made after tech_a signed out is nobody's work"
    );

    // tech_b signs out with no office in reach.
    {
        let mut s = store.lock().unwrap();
        s.record(b_job, done("appointment"))
            .expect("tech_b's record");
        let mut session = s.session().unwrap().expect("signed in");
        session.office_url = "http://127.0.0.1:9".into();
        s.save_session(&session).expect("the office out of reach");
    }
    assert!(matches!(
        sync::sign_out(&store).await.expect("sign out offline"),
        SignedOut::NotTold(_)
    ));
    {
        let mut s = store.lock().unwrap();
        assert_eq!(s.unsent_sign_outs().unwrap().len(), 1, "kept until told");
        s.record(b_job, done("arrive"))
            .expect("recorded by a tampered app");
    }
    sync::login(&store, &office.url(), "tech_a", PASSWORD)
        .await
        .expect("tech_a signs in again");
    assert!(
        store.lock().unwrap().unsent_sign_outs().unwrap().is_empty(),
        "the sign-in told the office first"
    );
    Syncer::new(store.clone())
        .sync_once()
        .await
        .expect("tech_a's sync");
    let codes: Vec<Option<String>> = of_job(b_job).into_iter().map(|e| e.1).collect();
    assert_eq!(
        codes,
        [None, Some("signed_out".to_owned())],
        "tech_b's record counts, the one after tech_b signed out offline does not"
    );

    // An outside expert, given the phone's export and the office's, reads the same: the phone
    // kept both sign-outs with the office's signed word that it keeps them (the offline one got it
    // at tech_a's sign-in), and the two records made while nobody was signed in have no maker.
    use heatcrew_protocol::export::{Export, ExportLine, verify_exports};
    let phone = heatcrew_core::evidence::DeviceDb::open_read_only(&_dir.path().join("device.db"))
        .expect("open the phone's database read-only")
        .export(chrono::Utc::now(), None, false)
        .expect("the phone's export");
    let acknowledged = phone
        .iter()
        .filter(|l| {
            matches!(
                l,
                ExportLine::SignOut {
                    office_sig: Some(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(
        acknowledged, 2,
        "both sign-outs, each with the office's signature"
    );
    let dispatch = office.staff_token("dispatch", PASSWORD).await;
    let text = reqwest::Client::new()
        .get(office.endpoint(&format!("/api/v1/export?device={device_id}")))
        .bearer_auth(&dispatch)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("the office's export")
        .text()
        .await
        .expect("text");
    let office_export = Export::parse("office", &text).expect("the office's export parses");
    let phone = Export {
        name: "phone".into(),
        lines: phone,
    };
    let r = verify_exports(&[phone.clone(), office_export.clone()], |_| None);
    assert!(r.ok(), "{:?}", r.faults);
    assert_eq!((r.sign_ins, r.sign_outs), (3, 2));
    let makers: Vec<(&str, u64, u64)> = r
        .makers
        .iter()
        .map(|m| (m.username.as_str(), m.first_seq, m.last_seq))
        .collect();
    assert_eq!(
        makers,
        [("tech_a", 1, 2), ("tech_b", 4, 4)],
        "records 3 and 5 were made while nobody was signed in"
    );
    // An office export that leaves out a sign-out it kept is caught with the phone's copy.
    let without = Export {
        lines: office_export
            .lines
            .iter()
            .filter(|l| !matches!(l, ExportLine::SignOut { username, .. } if username == "tech_a"))
            .cloned()
            .collect(),
        ..office_export
    };
    let r = verify_exports(&[phone, without], |_| None);
    assert!(r.has("sign_out_withheld"), "{:?}", r.faults);
}

/// Signing out finishes the photos still being processed and the step held behind them first:
/// they are the user's work, and recorded after the sign-out statement they would be nobody's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_records_the_photos_still_processing_first() {
    use heatcrew_core::sync::{self, SignedOut, Syncer};
    use heatcrew_protocol::{EventBody, StepEvidence};

    let office = TestOffice::start().await;
    let a_job = job_for(&office, "tech_a", 0).await;
    let (_dir, store, device_id) = shared_phone(&office).await;
    {
        let mut s = store.lock().unwrap();
        for step in [
            "appointment",
            "arrive",
            "identify",
            "knock_consent",
            "shoe_covers",
        ] {
            let done = EventBody::StepCompleted {
                step: step.into(),
                evidence: StepEvidence::default(),
            };
            s.record(a_job, done).expect(step);
        }
        for n in 1..=2 {
            let (png, _) = demo::generated_png("sign-out/processing", n);
            s.take_photo(a_job, "diagnose_repair", &png, None)
                .expect("photo queued");
        }
        let mut ev = StepEvidence::default();
        ev.text.insert("fault_found".into(), "阀门堵塞".into());
        ev.text.insert("work_done".into(), "清洗阀芯".into());
        let step = EventBody::StepCompleted {
            step: "diagnose_repair".into(),
            evidence: ev,
        };
        assert!(s.record_or_hold(a_job, step).expect("held").is_none());
    }
    assert_eq!(
        sync::sign_out(&store).await.expect("sign out"),
        SignedOut::Revoked
    );
    assert_eq!(
        store.lock().unwrap().held_count().unwrap(),
        0,
        "finished first"
    );
    sync::login(&store, &office.url(), "tech_b", PASSWORD)
        .await
        .expect("tech_b signs in");
    Syncer::new(store.clone()).sync_once().await.expect("sync");
    let stored = office.store().device_events(device_id).expect("events");
    let refused: Vec<_> = stored.iter().filter(|e| !e.accepted).collect();
    assert!(
        refused.is_empty(),
        "nothing of tech_a's was refused: {refused:?}"
    );
    assert_eq!(
        stored
            .iter()
            .filter(|e| e.event.unsigned.job_id == a_job)
            .count(),
        8,
        "five steps, two photos and the step behind them"
    );
}

/// An office that cannot take a sign-out statement now (503 from a restarting office behind a load
/// balancer) never costs the phone anything: signing out still forgets the tokens, the statement
/// waits on the phone, the next sign-in and every sync pass go on without it, and it is kept, with
/// the office's signed word, once the office takes it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_the_office_cannot_take_now_waits_and_never_stops_a_sync() {
    use heatcrew_core::sync::Syncer;
    use heatcrew_protocol::export::ExportLine;
    use heatcrew_testkit::fault_proxy::{FaultProxy, Faults};

    let office = TestOffice::start().await;
    let proxy = FaultProxy::start(
        office.addr(),
        Faults {
            unavailable: Some("/api/v1/auth/sign-out"),
            ..Faults::NONE
        },
    )
    .await
    .expect("proxy");
    let job = job_for(&office, "tech_a", 0).await;
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(Mutex::new(
        Store::open(dir.path().join("device.db")).expect("open the device store"),
    ));
    sync::login(&store, &proxy.url(), "tech_a", PASSWORD)
        .await
        .expect("tech_a signs in");
    let device_id = store.lock().unwrap().device_id();
    let step = |s: &Arc<Mutex<Store>>, name: &str| {
        s.lock()
            .unwrap()
            .record(
                job,
                heatcrew_protocol::EventBody::StepCompleted {
                    step: name.into(),
                    evidence: Default::default(),
                },
            )
            .expect(name);
    };
    Syncer::new(store.clone())
        .sync_once()
        .await
        .expect("tech_a's sync");
    step(&store, "appointment");
    Syncer::new(store.clone())
        .sync_once()
        .await
        .expect("tech_a's sync");
    assert!(
        matches!(
            sync::sign_out(&store).await.expect("sign out"),
            SignedOut::NotTold(_)
        ),
        "the office answered 503"
    );
    assert_eq!(
        store.lock().unwrap().unsent_sign_outs().unwrap().len(),
        1,
        "kept until told"
    );
    assert!(
        store.lock().unwrap().session().unwrap().is_none(),
        "the tokens are gone all the same"
    );

    // The next sign-in and its syncs go on while the office still cannot take the statement.
    sync::login(&store, &proxy.url(), "tech_a", PASSWORD)
        .await
        .expect("tech_a signs in again: the statement does not stop the sign-in");
    step(&store, "arrive");
    let report = Syncer::new(store.clone())
        .sync_once()
        .await
        .expect("a sync pass goes on");
    assert_eq!(store.lock().unwrap().unsent_sign_outs().unwrap().len(), 1);
    assert!(
        store
            .lock()
            .unwrap()
            .pending_push(10, 1 << 20)
            .unwrap()
            .is_empty(),
        "{report:?}"
    );
    let refused = proxy
        .counts
        .unavailable
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        refused >= 3,
        "sign-out, sign-in and sync each tried it: {refused}"
    );

    // The office takes it again: the next pass sends it, and both sides keep it.
    {
        let mut s = store.lock().unwrap();
        let mut session = s.session().unwrap().expect("signed in");
        session.office_url = office.url();
        s.save_session(&session).expect("straight to the office");
    }
    Syncer::new(store.clone()).sync_once().await.expect("sync");
    assert!(store.lock().unwrap().unsent_sign_outs().unwrap().is_empty());
    let kept = office
        .store()
        .sign_ins_of_device(device_id)
        .expect("sign-ins")
        .into_iter()
        .filter(|s| s.signed_out.is_some())
        .count();
    assert_eq!(kept, 1, "the office keeps the sign-out");
    let phone = heatcrew_core::evidence::DeviceDb::open_read_only(&dir.path().join("device.db"))
        .expect("open read-only")
        .export(chrono::Utc::now(), None, false)
        .expect("export");
    assert!(
        phone.iter().any(|l| matches!(
            l,
            ExportLine::SignOut {
                office_sig: Some(_),
                ..
            }
        )),
        "the phone keeps the office's signed word"
    );
    let stored = office.store().device_events(device_id).expect("events");
    assert!(stored.iter().all(|e| e.accepted), "no record was refused");
}
