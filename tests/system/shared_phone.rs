//! One phone, several users (a crew's shared phone): what the first user left queued, photos or
//! records, arrives and counts as theirs, and each user sees and works only their own jobs.

use super::*;

/// A new phone that tech_a signed in on and synced once, marked shared by an admin (a crew's
/// phone): its store (in a temporary folder kept alive by the first value) and its device id.
pub(super) async fn shared_phone(
    office: &TestOffice,
) -> (
    tempfile::TempDir,
    std::sync::Arc<std::sync::Mutex<Store>>,
    uuid::Uuid,
) {
    use heatcrew_core::sync::{self, Syncer};
    let dir = tempfile::tempdir().expect("dir");
    let store = std::sync::Arc::new(std::sync::Mutex::new(
        Store::open(dir.path().join("device.db")).expect("open the device store"),
    ));
    sync::login(&store, &office.url(), "tech_a", PASSWORD)
        .await
        .expect("tech_a signs in");
    let device_id = store.lock().unwrap().device_id();
    let admin = office.staff_token("admin", PASSWORD).await;
    let (status, body) = office
        .post_json(
            &format!("/api/v1/devices/{device_id}/shared"),
            Some(&admin),
            &json!({"shared": true}),
        )
        .await;
    assert!(
        status.is_success(),
        "the admin marks the phone shared: {status} {body}"
    );
    Syncer::new(store.clone())
        .sync_once()
        .await
        .expect("tech_a's first sync");
    (dir, store, device_id)
}

/// Two technicians on one phone that an admin marked shared: the first one's records went up but
/// the signal dropped before their photos, and the second signs in. The second one's sync uploads
/// the first one's photos (no 403: the device pushed the records that reference them) and pulls
/// the second one's jobs; everything arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_on_a_shared_phone_photos_queued_at_the_switch_all_arrive() {
    use heatcrew_core::sync::{self, OfficeApi, Syncer};
    use heatcrew_core::views::{self, AppError};
    use std::sync::Mutex;

    let office = TestOffice::start().await;
    let a_job = job_for(&office, "tech_a", 0).await;
    let b_job = job_for(&office, "tech_b", 1).await;
    let (_dir, store, _) = shared_phone(&office).await;

    // tech_a's visit with photos; the records reach the office, the photos do not yet (the push
    // is the sync client's own request, then the signal drops).
    {
        let mut s = store.lock().unwrap();
        let job = s.job(a_job).unwrap().expect("pulled").job;
        let mut images = |label: &str, n: u32| demo::generated_png(&format!("shared/{label}"), n);
        demo::home_repair_visit(&mut s, &mut images, &job, demo::VisitScript::Signed)
            .expect("tech_a's visit");
    }
    let session = store.lock().unwrap().session().unwrap().expect("session");
    let api = OfficeApi::new(&office.url()).expect("client");
    loop {
        let batch = store.lock().unwrap().pending_push(1000, 3 << 20).unwrap();
        if batch.is_empty() {
            break;
        }
        let resp = api
            .push(&session.access_token, &PushRequest { events: batch })
            .await
            .expect("push");
        store
            .lock()
            .unwrap()
            .apply_push(&resp.body.results)
            .unwrap();
    }
    let photos: Vec<_> = store.lock().unwrap().pending_attachments().unwrap();
    assert!(
        photos.len() >= 2,
        "the visit's photos wait: {}",
        photos.len()
    );
    let today = views::today(&store.lock().unwrap()).unwrap();
    let card = today
        .jobs
        .iter()
        .find(|j| j.id == a_job)
        .expect("tech_a's job");
    assert_eq!(card.pending_records, 0, "every record is at the office");
    assert_eq!(
        card.photos_pending as usize,
        photos.len(),
        "but the job says photos pending"
    );
    assert_eq!(
        card.photo_bytes_pending,
        photos.iter().map(|p| p.bytes).sum::<u64>(),
        "with the bytes to go"
    );
    assert!(
        matches!(
            views::sign_out_refusal(&store.lock().unwrap(), false).unwrap(),
            Some(AppError::UnsyncedPhotos { .. })
        ),
        "signing out waits for the photos too"
    );

    // The phone is handed over anyway (forced sign-out keeps everything), tech_b signs in.
    store.lock().unwrap().sign_out().expect("sign out");
    sync::login(&store, &office.url(), "tech_b", PASSWORD)
        .await
        .expect("tech_b signs in on the shared phone");
    let report = Syncer::new(store.clone())
        .sync_once()
        .await
        .expect("tech_b's sync uploads the waiting photos without a 403 and pulls");
    assert_eq!(
        report.attachments as usize,
        photos.len(),
        "every photo went up: {report:?}"
    );
    assert!(
        store
            .lock()
            .unwrap()
            .pending_attachments()
            .unwrap()
            .is_empty(),
        "nothing waits on the phone"
    );
    for p in &photos {
        let row = office
            .store()
            .attachment(p.sha256)
            .unwrap()
            .expect("at the office");
        assert!(row.complete, "photo {} is complete at the office", p.sha256);
    }
    assert!(
        store.lock().unwrap().job(b_job).unwrap().is_some(),
        "tech_b received their job"
    );
    // The phone is tech_b's now: tech_b's list has tech_b's job and not tech_a's, and tech_a's
    // job cannot be opened or worked by tech_b (refused on the phone, nothing queued).
    let listed = |store: &Mutex<Store>| -> Vec<uuid::Uuid> {
        views::today(&store.lock().unwrap())
            .unwrap()
            .jobs
            .iter()
            .map(|j| j.id)
            .collect()
    };
    assert_eq!(listed(&store), vec![b_job], "tech_b sees only their job");
    {
        let mut s = store.lock().unwrap();
        let err = views::job(&s, a_job).expect_err("tech_a's job is not tech_b's");
        assert_eq!(
            err.code(),
            heatcrew_protocol::ErrorCode::ForbiddenJob,
            "{err}"
        );
        let before = s.events().unwrap().len();
        let err = s
            .record_or_hold(
                a_job,
                heatcrew_protocol::EventBody::RatingGiven {
                    stars: 1,
                    comment: "recorded by the wrong person".into(),
                },
            )
            .expect_err("tech_b cannot add to tech_a's visit");
        assert_eq!(
            err.code(),
            heatcrew_protocol::ErrorCode::ForbiddenJob,
            "{err}"
        );
        assert_eq!(s.events().unwrap().len(), before, "nothing was recorded");
        views::job(&s, b_job).expect("tech_b opens their own job");
        s.sign_out().expect("tech_b signs out");
    }

    // tech_a takes the phone back: their job is listed again, tech_b's is not.
    sync::login(&store, &office.url(), "tech_a", PASSWORD)
        .await
        .expect("tech_a signs in again");
    Syncer::new(store.clone())
        .sync_once()
        .await
        .expect("tech_a's sync");
    assert_eq!(listed(&store), vec![a_job], "tech_a sees only their job");
    let today = views::today(&store.lock().unwrap()).unwrap();
    assert_eq!(
        today.jobs[0].photos_pending, 0,
        "no photos pending any more"
    );
}

/// A shared phone handed over with records still queued (the first user's session ran out in a
/// cellar, or they were signed out by force): the second user's sync pushes them, and they count
/// at the office as the first user's work: the visit closes their job, their accident report opens
/// a job for them, and nothing lands refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_queued_at_a_shared_phones_handover_count_as_their_makers() {
    use heatcrew_core::sync::{self, Syncer};
    use heatcrew_protocol::Position;

    let office = TestOffice::start().await;
    let a_job = job_for(&office, "tech_a", 0).await;
    let b_job = job_for(&office, "tech_b", 1).await;
    let (dir, store, device_id) = shared_phone(&office).await;

    // tech_a's whole visit and an accident report, all offline: nothing reaches the office.
    let accident = {
        let mut s = store.lock().unwrap();
        let job = s.job(a_job).unwrap().expect("pulled").job;
        let mut images = |label: &str, n: u32| demo::generated_png(&format!("handover/{label}"), n);
        demo::home_repair_visit(&mut s, &mut images, &job, demo::VisitScript::Signed)
            .expect("tech_a's visit");
        let (accident, _) = s
            .report_accident(
                "楼道暖气管爆裂".into(),
                "已关闭单元阀门".into(),
                Position {
                    description: "幸福路12号2单元".into(),
                    ..Position::default()
                },
                false,
            )
            .expect("tech_a reports an accident");
        accident
    };
    let queued = store
        .lock()
        .unwrap()
        .pending_push(10_000, 64 << 20)
        .unwrap()
        .len();
    assert!(
        queued >= 10,
        "the visit waits on the phone: {queued} records"
    );

    store
        .lock()
        .unwrap()
        .sign_out()
        .expect("signed out by force");
    sync::login(&store, &office.url(), "tech_b", PASSWORD)
        .await
        .expect("tech_b signs in on the shared phone");
    Syncer::new(store.clone())
        .sync_once()
        .await
        .expect("tech_b's sync pushes what tech_a left");

    let tech_a = office.user_id("tech_a");
    let stored = office.store().device_events(device_id).expect("events");
    let refused: Vec<_> = stored
        .iter()
        .filter(|e| !e.accepted)
        .map(|e| (e.event.unsigned.kind.clone(), e.reject_code.clone()))
        .collect();
    assert!(
        refused.is_empty(),
        "nothing of tech_a's was refused: {refused:?}"
    );
    let of_a_jobs = stored
        .iter()
        .filter(|e| e.event.unsigned.job_id == a_job || e.event.unsigned.job_id == accident);
    assert_eq!(
        of_a_jobs.clone().count(),
        queued,
        "every queued record arrived"
    );
    assert!(
        of_a_jobs.clone().all(|e| e.user_id == tech_a),
        "each is tech_a's record, not tech_b's"
    );
    let dispatch = office.staff_token("dispatch", PASSWORD).await;
    let (status, page) = office
        .get_json(&format!("/api/v1/console/jobs/{a_job}"), &dispatch)
        .await;
    assert!(status.is_success(), "{status} {page}");
    assert_eq!(
        page["status"]["state"], "closed",
        "tech_a's visit closed their job"
    );
    let timeline = page["timeline"].as_array().expect("timeline");
    assert!(
        !timeline.is_empty() && timeline.iter().all(|r| r["user_name"] == "张伟"),
        "the office shows every record as tech_a's (张伟): {timeline:?}"
    );
    let opened = office
        .store()
        .job(accident)
        .unwrap()
        .expect("the accident's job is open");
    assert_eq!(
        opened.job.assignee,
        Some(tech_a),
        "for tech_a, who reported it"
    );
    assert!(
        store.lock().unwrap().job(b_job).unwrap().is_some(),
        "tech_b received their job"
    );
    assert!(
        store
            .lock()
            .unwrap()
            .pending_push(10, 1 << 20)
            .unwrap()
            .is_empty(),
        "nothing waits on the phone"
    );

    // An outside expert, given the phone's export and the office's, reads the same from the
    // phone's signatures: every record so far is tech_a's, and tech_b's sign-in is in both.
    let phone = heatcrew_core::evidence::DeviceDb::open_read_only(&dir.path().join("device.db"))
        .expect("open the phone's database read-only")
        .export(chrono::Utc::now(), None, false)
        .expect("the phone's export");
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
    use heatcrew_protocol::export::{Export, verify_exports};
    let exports = [
        Export {
            name: "phone".into(),
            lines: phone,
        },
        Export::parse("office", &text).expect("the office's export parses"),
    ];
    let r = verify_exports(&exports, |_| None);
    assert!(r.ok(), "{:?}", r.faults);
    assert_eq!(r.sign_ins, 2, "tech_a's and tech_b's sign-ins, once each");
    let makers: Vec<(&str, u64, u64)> = r
        .makers
        .iter()
        .map(|m| (m.username.as_str(), m.first_seq, m.last_seq))
        .collect();
    let tip = store.lock().unwrap().tip().seq;
    assert_eq!(
        makers,
        [("tech_a", 1, tip)],
        "tech_b has recorded nothing yet"
    );
    let without_b = Export {
        lines: exports[1]
            .lines
            .iter()
            .filter(|l| !matches!(l, heatcrew_protocol::export::ExportLine::SignIn { username, .. } if username == "tech_b"))
            .cloned()
            .collect(),
        ..exports[1].clone()
    };
    assert!(
        verify_exports(&[exports[0].clone(), without_b], |_| None).ok(),
        "leaving out a sign-in ahead of what the office shows is not withholding"
    );
}

/// Photos still being processed when the phone changes hands (tech_a took them and was signed out
/// by force before the phone finished them): the photos and the step held behind them are
/// tech_a's work. tech_b's sign-in finishes them before it names where the chain stands, so they count as
/// tech_a's at the office and nothing is refused; before, the worker recorded them after tech_b's
/// sign-in, where they were tech_b's records on tech_a's job and the office refused them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_still_processing_at_a_handover_counts_as_its_takers() {
    use heatcrew_core::photo_worker;
    use heatcrew_core::sync::{self, Syncer};
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
        for step in [
            "appointment",
            "arrive",
            "identify",
            "knock_consent",
            "shoe_covers",
        ] {
            s.record(a_job, done(step)).expect(step);
        }
        for n in 1..=2 {
            let (png, _) = demo::generated_png("handover/processing", n);
            s.take_photo(a_job, "diagnose_repair", &png, None)
                .expect("tech_a's photo is queued");
        }
        let mut ev = StepEvidence::default();
        ev.text.insert("fault_found".into(), "阀门堵塞".into());
        ev.text.insert("work_done".into(), "清洗阀芯".into());
        let held = s
            .record_or_hold(
                a_job,
                EventBody::StepCompleted {
                    step: "diagnose_repair".into(),
                    evidence: ev,
                },
            )
            .expect("the step waits behind its photo");
        assert!(held.is_none(), "held, not recorded yet");
        assert_eq!(
            heatcrew_core::views::sign_out_refusal(&s, false)
                .unwrap()
                .map(|e| e.code()),
            Some(heatcrew_protocol::ErrorCode::UnsyncedRecords),
            "signing out waits for them"
        );
        s.sign_out().expect("tech_a is signed out by force");
    }
    sync::login(&store, &office.url(), "tech_b", PASSWORD)
        .await
        .expect("tech_b signs in on the shared phone");
    assert_eq!(
        store.lock().unwrap().held_count().unwrap(),
        0,
        "the sign-in finished tech_a's photo and step first"
    );
    // The phone's worker finds nothing left to do.
    assert_eq!(photo_worker::process_all(&store).expect("worker"), 0);
    Syncer::new(store.clone())
        .sync_once()
        .await
        .expect("tech_b's sync pushes what tech_a left");

    let tech_a = office.user_id("tech_a");
    let stored = office.store().device_events(device_id).expect("events");
    let refused: Vec<_> = stored
        .iter()
        .filter(|e| !e.accepted)
        .map(|e| (e.event.unsigned.kind.clone(), e.reject_code.clone()))
        .collect();
    assert!(refused.is_empty(), "nothing was refused: {refused:?}");
    let of_a_job: Vec<_> = stored
        .iter()
        .filter(|e| e.event.unsigned.job_id == a_job)
        .map(|e| (e.event.unsigned.kind.as_str(), e.user_id == tech_a))
        .collect();
    assert_eq!(
        of_a_job.iter().filter(|(k, _)| *k == "photo_added").count(),
        2,
        "the photos arrived: {of_a_job:?}"
    );
    assert!(
        of_a_job.len() == 8 && of_a_job.iter().all(|(_, theirs)| *theirs),
        "five steps, the two photos and the step behind it, all tech_a's: {of_a_job:?}"
    );
    assert!(
        store.lock().unwrap().job(b_job).unwrap().is_some(),
        "tech_b received their job"
    );
}
