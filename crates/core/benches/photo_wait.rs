//! The wait a technician sees per phone photo, at the core: before (issue 15, point 11), the photo
//! was processed inside the tap (`Store::ingest_photo` then `record`: decode, downscale, encode,
//! hash, write, then the event); now the tap keeps the capture and queues it
//! (`Store::take_photo`) and the worker processes it afterwards. Both on the same 12 MP camera-like
//! JPEGs (`demo::camera_photo`), alternated, medians of `SAMPLES` (default 5) each; the worker's
//! own time is printed too (it no longer blocks anyone). Prints figures and the ratio; asserts
//! nothing about time.
//!
//! Run: `cargo bench -p heatcrew-core --bench photo_wait` (a debug build measures what the e2e
//! app does: `cargo run`-style builds are debug; `--profile dev` is not needed, `cargo bench` is
//! optimised; both are worth a look).

use heatcrew_core::Store;
use heatcrew_core::demo;
use heatcrew_core::photo_worker;
use heatcrew_protocol::EventBody;
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let samples: u32 = std::env::var("SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("device.db")).expect("store");
    let photos: Vec<Vec<u8>> = (0..samples * 2).map(demo::camera_photo).collect();
    let (mut before, mut after, mut worker) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..samples as usize {
        // Each round on a fresh job at its photo step, so every photo is taken where it is allowed.
        let job = demo::home_repair_job(i, None);
        store.add_office_job(&job).expect("dispatch");
        for step in [
            "appointment",
            "arrive",
            "identify",
            "knock_consent",
            "shoe_covers",
        ] {
            store
                .record(
                    job.id,
                    EventBody::StepCompleted {
                        step: step.into(),
                        evidence: Default::default(),
                    },
                )
                .expect("walk to the repair step");
        }
        let started = Instant::now();
        let photo = store
            .ingest_photo(&photos[2 * i])
            .expect("processed in the tap");
        store
            .record(
                job.id,
                EventBody::PhotoAdded {
                    step: "diagnose_repair".into(),
                    photo,
                    caption: String::new(),
                },
            )
            .expect("recorded");
        before.push(started.elapsed());

        let started = Instant::now();
        store
            .take_photo(job.id, "diagnose_repair", &photos[2 * i + 1], None)
            .expect("kept and queued");
        after.push(started.elapsed());

        let shared = Mutex::new(store);
        let started = Instant::now();
        photo_worker::process_all(&shared).expect("processed by the worker");
        worker.push(started.elapsed());
        store = shared.into_inner().expect("store");
    }
    let bytes = photos[0].len();
    let (b, a, w) = (median(before), median(after), median(worker));
    println!(
        "photo wait per 12 MP photo ({:.1} MB JPEG), median of {samples}: processed in the tap {:.0} ms; \
         kept and queued {:.1} ms ({:.3}× of before); the worker's processing afterwards {:.0} ms",
        bytes as f64 / 1e6,
        b.as_secs_f64() * 1e3,
        a.as_secs_f64() * 1e3,
        a.as_secs_f64() / b.as_secs_f64(),
        w.as_secs_f64() * 1e3,
    );
}
