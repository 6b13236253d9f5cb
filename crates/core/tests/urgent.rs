//! Urgent first, on the real core against a real office on loopback (issue 15, point 5): an
//! accident report goes up before the queue behind it. The office takes a device's events only in
//! `device_seq` order (a hash chain), so the records before the accident go with it, as their own
//! batch; then the accident job's photos; then the other records; then the other photos. And an
//! accident recorded while a queue of photos is uploading goes up before the next photo.
//!
//! What reached the office, in order, is read from the office's live stream (the one open consoles
//! hear): `job_changed` after each push, `alert_raised` when the accident is stored,
//! `attachment_received` when a photo's last byte arrived.

use heatcrew_core::Store;
use heatcrew_core::demo::{self, VisitScript};
use heatcrew_office::api::live::LiveEvent;
use heatcrew_protocol::{AttachmentRef, EventBody, Job, Position, StepEvidence};
use heatcrew_testkit::{PASSWORD, TestDevice, TestOffice};
use serde_json::json;
use std::collections::HashSet;
use tokio::sync::broadcast;
use uuid::Uuid;

/// Home repair visits queued before the accident, and after it.
const VISITS_BEFORE: usize = 16;
const VISITS_AFTER: usize = 16;

/// `n` home repair jobs dispatched to `tech_a`, pulled by the device.
async fn dispatched_jobs(office: &TestOffice, device: &TestDevice, n: usize) -> Vec<Job> {
    let dispatch = office.staff_token("dispatch", PASSWORD).await;
    let tech = office.user_id("tech_a");
    let now = chrono::Utc::now();
    let mut ids = Vec::new();
    for i in 0..n {
        let demo = demo::home_repair_job(i, None);
        let body = json!({"kind": "home_repair", "fault": demo.title, "customer": demo.customer,
            "reported_at": now - chrono::Duration::minutes(30), "window": demo.window,
            "assignee": tech});
        let (status, job) = office
            .post_json("/api/v1/jobs", Some(&dispatch), &body)
            .await;
        assert!(
            status.is_success(),
            "the dispatcher creates job {i}: {status} {job}"
        );
        ids.push(Uuid::parse_str(job["id"].as_str().expect("job id")).expect("uuid"));
    }
    device
        .syncer
        .sync_once()
        .await
        .expect("the device pulls its jobs");
    let store = device.lock();
    ids.iter()
        .map(|id| store.job(*id).expect("read").expect("pulled").job)
        .collect()
}

/// Walk visit `i` of `jobs`, each photo a different picture (so each is its own upload).
fn visit(store: &mut Store, job: &Job, i: usize) {
    let mut images = |label: &str, n: u32| demo::generated_png(&format!("{label}/{i}"), n);
    demo::home_repair_visit(store, &mut images, job, VisitScript::Signed).expect("a visit");
}

/// Report an accident, take the measures and a site photo on its job. Returns (the accident
/// event's id, its job, the photo).
fn accident(store: &mut Store) -> (Uuid, Uuid, AttachmentRef) {
    let (job, events) = store
        .report_accident(
            "井盖缺失，热水外溢".into(),
            "设置围挡，关闭上游阀门".into(),
            Position {
                lat: Some(39.91),
                lon: Some(116.40),
                description: "幸福路12号门前".into(),
                ..Default::default()
            },
            false,
        )
        .expect("the accident is recorded");
    let report = events
        .iter()
        .find(|e| e.unsigned.kind == "accident_reported")
        .expect("the accident event")
        .unsigned
        .id;
    let mut evidence = StepEvidence::default();
    evidence
        .text
        .insert("measures".into(), "设置围挡，关闭上游阀门".into());
    store
        .record(
            job,
            EventBody::StepCompleted {
                step: "secure_site".into(),
                evidence,
            },
        )
        .expect("measures taken");
    let (bytes, _) = demo::generated_png("accident site", 1);
    let photo = store.ingest_photo(&bytes).expect("the site photo");
    store
        .record(
            job,
            EventBody::PhotoAdded {
                step: "repair".into(),
                photo: photo.clone(),
                caption: "现场".into(),
            },
        )
        .expect("the site photo is recorded");
    (report, job, photo)
}

fn drain(rx: &mut broadcast::Receiver<LiveEvent>) -> Vec<LiveEvent> {
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(e) => out.push(e),
            Err(broadcast::error::TryRecvError::Empty) => return out,
            Err(e) => panic!("the office's live stream: {e} (the test fell behind)"),
        }
    }
}

fn position(log: &[LiveEvent], what: &str, f: impl Fn(&LiveEvent) -> bool) -> usize {
    log.iter()
        .position(f)
        .unwrap_or_else(|| panic!("{what} never reached the office: {log:?}"))
}

fn photo_of(e: &LiveEvent) -> Option<&str> {
    match e {
        LiveEvent::AttachmentReceived { sha256 } => Some(sha256),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accident_goes_up_before_the_records_and_photos_queued_around_it() {
    let office = TestOffice::start().await;
    let device = TestDevice::sign_in(&office.url(), "tech_a", PASSWORD).await;
    let jobs = dispatched_jobs(&office, &device, VISITS_BEFORE + VISITS_AFTER).await;
    let (report, accident_job, site_photo, accident_seq) = {
        let mut store = device.lock();
        for (i, job) in jobs[..VISITS_BEFORE].iter().enumerate() {
            visit(&mut store, job, i);
        }
        let (report, accident_job, photo) = accident(&mut store);
        let accident_seq = store
            .outbox()
            .expect("outbox")
            .iter()
            .find(|e| e.event_id == report)
            .expect("the accident is in the outbox")
            .seq;
        for (i, job) in jobs[VISITS_BEFORE..].iter().enumerate() {
            visit(&mut store, job, VISITS_BEFORE + i);
        }
        (report, accident_job, photo, accident_seq)
    };
    let (queued, photos) = {
        let store = device.lock();
        let b = store.backlog().expect("backlog");
        (b.queued, b.attachments)
    };
    assert!(
        queued > 400 && queued - accident_seq > 200 && photos > 80,
        "the accident must have a long queue around it: {queued} records ({} after the accident), \
         {photos} photos",
        queued - accident_seq
    );

    let mut live = office.running().state.live.subscribe();
    let report_pass = device.syncer.sync_once().await.expect("one sync pass");
    let log = drain(&mut live);

    let alert = position(
        &log,
        "the accident's alert",
        |e| matches!(e, LiveEvent::AlertRaised { alert } if alert.id == report),
    );
    let site = position(&log, "the accident site photo", |e| {
        photo_of(e) == Some(site_photo.sha256.to_hex().as_str())
    });
    let other_photos: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, e)| photo_of(e).is_some_and(|s| s != site_photo.sha256.to_hex()))
        .map(|(i, _)| i)
        .collect();
    assert!(
        other_photos.len() as u64 + 1 >= photos,
        "every photo arrives in the pass ({} of {photos})",
        other_photos.len() + 1
    );
    assert!(
        other_photos.iter().all(|&p| p > alert),
        "the accident is at the office before any other photo (alert at {alert}, first other photo \
         at {:?})",
        other_photos.first()
    );
    assert!(
        other_photos.iter().all(|&p| p > site),
        "the accident job's photo goes before every other photo (it at {site}, first other at {:?})",
        other_photos.first()
    );
    let later_jobs: HashSet<Uuid> = jobs[VISITS_BEFORE..].iter().map(|j| j.id).collect();
    let first_later_push = position(
        &log,
        "a record queued after the accident",
        |e| matches!(e, LiveEvent::JobChanged { job_id } if later_jobs.contains(job_id)),
    );
    assert!(
        alert < first_later_push,
        "the chain up to the accident goes as its own batch, before the records queued after it \
         (alert at {alert}, first later push at {first_later_push})"
    );
    assert!(
        report_pass.push_requests >= 2,
        "the accident's prefix and the rest are separate pushes ({} pushes)",
        report_pass.push_requests
    );
    assert!(
        matches!(&log[alert], LiveEvent::AlertRaised { alert } if alert.job_id == accident_job),
        "the alert names the accident's job"
    );
    let backlog = device.lock().backlog().expect("backlog");
    assert_eq!(
        (backlog.queued, backlog.attachments),
        (0, 0),
        "nothing is left behind: urgent first does not drop the rest"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accident_recorded_while_photos_upload_goes_before_the_next_photo() {
    let office = TestOffice::start().await;
    let device = TestDevice::sign_in(&office.url(), "tech_a", PASSWORD).await;
    let jobs = dispatched_jobs(&office, &device, 30).await;
    {
        let mut store = device.lock();
        for (i, job) in jobs.iter().enumerate() {
            visit(&mut store, job, i);
        }
    }
    let photos = device.lock().backlog().expect("backlog").attachments;
    assert!(photos >= 80, "a long queue of photos: {photos}");

    let mut live = office.running().state.live.subscribe();
    let syncer = device.syncer.clone();
    let pass = tokio::spawn(async move { syncer.sync_once().await });
    // The first photo is at the office: the rest of the queue is uploading.
    let mut log = Vec::new();
    loop {
        let e = live.recv().await.expect("the live stream");
        let first_photo = photo_of(&e).is_some();
        log.push(e);
        if first_photo {
            break;
        }
    }
    let (report, _, _) = accident(&mut device.lock());
    pass.await
        .expect("the pass task")
        .expect("the pass finishes");
    log.extend(drain(&mut live));

    let alert = position(
        &log,
        "the accident recorded mid-upload",
        |e| matches!(e, LiveEvent::AlertRaised { alert } if alert.id == report),
    );
    let photos_after = log[alert..]
        .iter()
        .filter(|e| photo_of(e).is_some())
        .count();
    assert!(
        photos_after > 0,
        "the accident does not wait for the photo queue: it reaches the office in the same pass, \
         before the photos still queued ({photos_after} photos after it)"
    );
}
