//! Photos processed in the background (issue 15, point 11): taking a photo answers at once, the
//! visit goes on, and the records wait for their photos: every `photo_added` names the processed
//! file, verified on disk, and the log keeps the order the technician acted in, through a crash.

use super::*;
use heatcrew_core::photo_worker::{self, PhotoWorker};
use heatcrew_core::views;
use std::sync::Mutex;

fn diagnose(text: &str) -> EventBody {
    let mut ev = StepEvidence::default();
    ev.text.insert("fault_found".into(), text.into());
    ev.text.insert("work_done".into(), "清洗阀芯".into());
    EventBody::StepCompleted {
        step: "diagnose_repair".into(),
        evidence: ev,
    }
}

/// The job's events after `from`, as (kind, step, photo) for reading the order.
fn kinds_after(store: &Store, job: Uuid, from: usize) -> Vec<(String, String)> {
    store
        .events()
        .expect("events")
        .into_iter()
        .filter(|e| e.unsigned.job_id == job)
        .skip(from)
        .map(|e| {
            let body = body_of(&e);
            let step = match &body {
                EventBody::PhotoAdded { step, .. } | EventBody::StepCompleted { step, .. } => {
                    step.clone()
                }
                _ => String::new(),
            };
            (e.unsigned.kind.clone(), step)
        })
        .collect()
}

fn body_of(e: &heatcrew_protocol::Event) -> EventBody {
    EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload).expect("a known event")
}

fn job_events(store: &Store, job: Uuid) -> usize {
    store
        .events()
        .expect("events")
        .iter()
        .filter(|e| e.unsigned.job_id == job)
        .count()
}

/// Every photo in the log names a processed JPEG that is on disk and hashes to its name.
fn every_photo_is_verified(store: &Store) {
    for e in store.events().expect("events") {
        if let EventBody::PhotoAdded { photo, .. } = &body_of(&e) {
            let bytes = store
                .files()
                .read(&photo.sha256)
                .expect("the named file exists");
            assert_eq!(
                Digest::of(&bytes),
                photo.sha256,
                "the event names the file's own hash"
            );
            assert_eq!(
                photo.mime, "image/jpeg",
                "the processed photo, not the capture"
            );
            assert!(photo.width > 0, "with its processed size");
        }
    }
}

fn intake_files(d: &Device) -> usize {
    std::fs::read_dir(d.store.files().dir().join("intake"))
        .map(|r| r.count())
        .unwrap_or(0)
}

#[test]
fn photos_answer_at_once_and_the_step_record_waits_for_them_in_order() {
    let mut d = device();
    let job = visit_until(&mut d.store, "diagnose_repair");
    let before = job_events(&d.store, job.id);
    let (a, _) = demo::generated_png("queue", 1);
    let (b, _) = demo::generated_png("queue", 2);
    let (c, _) = demo::generated_png("queue", 3);

    // Bad input is refused at once, and nothing is kept.
    let err = d
        .store
        .take_photo(job.id, "diagnose_repair", b"not a picture", None)
        .expect_err("text is not a photo");
    assert_eq!(err.code().as_str(), "not_an_image", "a clear code");
    let err = d
        .store
        .take_photo(job.id, "signature", &a, None)
        .expect_err("a step that is not current takes no photo");
    assert!(
        matches!(err, CoreError::Rule(_)),
        "refused by the rules: {err:?}"
    );
    assert_eq!(intake_files(&d), 0, "a refused photo leaves no file behind");

    d.store
        .take_photo(job.id, "diagnose_repair", &a, None)
        .expect("first photo kept");
    d.store
        .take_photo(job.id, "diagnose_repair", &b, None)
        .expect("second photo kept");
    assert_eq!(
        job_events(&d.store, job.id),
        before,
        "nothing is signed before its photo is processed"
    );
    let view = views::job(&d.store, job.id).expect("view");
    assert_eq!(
        view.processing_photos.len(),
        2,
        "both photos show as processing"
    );
    assert_eq!(view.current_step.as_deref(), Some("diagnose_repair"));

    // The technician confirms the step and goes on: held, not refused.
    assert!(
        d.store
            .record_or_hold(job.id, diagnose("阀门堵塞"))
            .expect("the step is confirmed")
            .is_none(),
        "held behind its photos"
    );
    let view = views::job(&d.store, job.id).expect("view");
    assert_eq!(
        view.current_step.as_deref(),
        Some("clean_up"),
        "the visit goes on"
    );
    assert_eq!(view.held_records, 1, "one record waits for its photos");
    assert!(
        view.steps
            .iter()
            .all(|s| s.photos.is_empty() || s.id != "diagnose_repair"),
        "a photo is not shown as recorded before it is"
    );
    // An action the rules refuse even then is refused now, not held.
    let err = d
        .store
        .record_or_hold(job.id, done("rating"))
        .expect_err("out of order");
    assert!(
        matches!(err, CoreError::Rule(_)),
        "refused by the rules: {err:?}"
    );
    d.store
        .take_photo(job.id, "clean_up", &c, None)
        .expect("the next step's photo");
    assert!(
        d.store
            .record_or_hold(job.id, done("clean_up"))
            .expect("clean up")
            .is_none()
    );
    assert_eq!(
        d.store.held_count().expect("count"),
        5,
        "three photos and two records wait"
    );
    assert_eq!(job_events(&d.store, job.id), before, "still nothing signed");

    let store = Mutex::new(d.store);
    assert_eq!(photo_worker::process_all(&store).expect("process"), 3);
    d.store = store.into_inner().expect("store");
    assert_eq!(
        kinds_after(&d.store, job.id, before),
        [
            ("photo_added", "diagnose_repair"),
            ("photo_added", "diagnose_repair"),
            ("step_completed", "diagnose_repair"),
            ("photo_added", "clean_up"),
            ("step_completed", "clean_up"),
        ]
        .map(|(k, s)| (k.to_owned(), s.to_owned())),
        "each record right after its photos, in the order the technician acted"
    );
    every_photo_is_verified(&d.store);
    assert_eq!(
        d.store.held_count().expect("count"),
        0,
        "the queue is empty"
    );
    assert_eq!(
        intake_files(&d),
        0,
        "the camera's originals are gone once recorded"
    );
    let view = views::job(&d.store, job.id).expect("view");
    assert!(view.processing_photos.is_empty() && view.held_records == 0);
    let diag = view
        .steps
        .iter()
        .find(|s| s.id == "diagnose_repair")
        .expect("step");
    assert_eq!(diag.photos.len(), 2, "both photos recorded on their step");
    assert_eq!(
        audit(
            &d.store.events().expect("events"),
            d.store.device_id(),
            &d.store.public_key(),
            Some(d.store.tip())
        ),
        Ok(d.store.events().expect("events").len() as u64),
        "the signed chain verifies"
    );
}

/// The app closed (or was killed) while photos were being processed: nothing is lost, and the
/// worker started on the reopened store finishes the queue in order.
#[test]
fn a_crash_mid_processing_loses_no_photo_and_the_queue_resumes_at_start() {
    let mut d = device();
    let job = visit_until(&mut d.store, "diagnose_repair");
    let before = job_events(&d.store, job.id);
    let (a, _) = demo::generated_png("crash", 1);
    let (b, _) = demo::generated_png("crash", 2);
    d.store
        .take_photo(job.id, "diagnose_repair", &a, None)
        .expect("photo");
    d.store
        .take_photo(job.id, "diagnose_repair", &b, None)
        .expect("photo");
    d.store
        .record_or_hold(job.id, diagnose("漏水"))
        .expect("held");
    // Mid-processing: the first photo's files are written, its event not yet recorded.
    let work = d
        .store
        .next_photo_to_process()
        .expect("next")
        .expect("a photo waits");
    work.process().expect("processed");
    let db = d.db.clone();
    let Device {
        _dir: dir, store, ..
    } = d;
    drop(store); // the app is gone

    let reopened = Store::open(&db).expect("reopen");
    assert_eq!(
        reopened.held_count().expect("count"),
        3,
        "every photo and record survived"
    );
    assert_eq!(
        job_events(&reopened, job.id),
        before,
        "and nothing half-recorded"
    );
    let view = views::job(&reopened, job.id).expect("view");
    assert_eq!(
        view.processing_photos.len(),
        2,
        "shown as processing after the restart"
    );
    assert_eq!(view.current_step.as_deref(), Some("clean_up"));

    let store = Arc::new(Mutex::new(reopened));
    let worker = PhotoWorker::start(Arc::clone(&store));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while store.lock().expect("lock").held_count().expect("count") > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker finishes the queue"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    worker.stop();
    let store = store.lock().expect("lock");
    assert_eq!(
        kinds_after(&store, job.id, before),
        [
            ("photo_added", "diagnose_repair"),
            ("photo_added", "diagnose_repair"),
            ("step_completed", "diagnose_repair"),
        ]
        .map(|(k, s)| (k.to_owned(), s.to_owned())),
        "resumed in order"
    );
    every_photo_is_verified(&store);
    drop(dir);
}

/// A capture whose damage shows only when decoded stops its job's queue: it is shown as failed
/// (the record behind it waits, even when a later photo is done), and taken again it all goes on.
#[test]
fn a_photo_that_cannot_be_processed_is_shown_and_taken_again_nothing_jumps_it() {
    let mut d = device();
    let job = visit_until(&mut d.store, "diagnose_repair");
    let before = job_events(&d.store, job.id);
    let (good, _) = demo::generated_png("retake", 1);
    let damaged = good[..good.len() / 2].to_vec(); // a PNG cut short: found only when decoded
    let first = d
        .store
        .take_photo(job.id, "diagnose_repair", &damaged, None)
        .expect("kept");
    d.store
        .take_photo(job.id, "diagnose_repair", &good, None)
        .expect("kept");
    d.store
        .record_or_hold(job.id, diagnose("阀门"))
        .expect("held");

    let store = Mutex::new(d.store);
    photo_worker::process_all(&store).expect("process");
    d.store = store.into_inner().expect("store");
    assert_eq!(
        job_events(&d.store, job.id),
        before,
        "nothing recorded past the failed photo"
    );
    let view = views::job(&d.store, job.id).expect("view");
    let failed = &view.processing_photos[0];
    assert_eq!(failed.id, first);
    assert_eq!(
        failed.state,
        views::queued::ProcessingState::Failed,
        "shown as failed"
    );
    assert!(
        failed.error.as_ref().is_some_and(|e| !e.zh.is_empty()),
        "with the reason, in Chinese"
    );

    let (again, _) = demo::generated_png("retake", 2);
    d.store
        .retake_photo(job.id, first, &again)
        .expect("taken again");
    let store = Mutex::new(d.store);
    photo_worker::process_all(&store).expect("process");
    d.store = store.into_inner().expect("store");
    assert_eq!(
        kinds_after(&d.store, job.id, before),
        [
            ("photo_added", "diagnose_repair"),
            ("photo_added", "diagnose_repair"),
            ("step_completed", "diagnose_repair"),
        ]
        .map(|(k, s)| (k.to_owned(), s.to_owned())),
    );
    every_photo_is_verified(&d.store);
    assert_eq!(d.store.held_count().expect("count"), 0);
}
