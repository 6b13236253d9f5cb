//! heatcrew-core's integration tests, one test binary in a file per subject:
//!
//! - `rules`: the field rules as the device store applies them (nothing recorded on a refusal).
//! - `outcomes`: not home at the door (closed in one transaction, refused after entry), reschedule
//!   requests, the outbox naming each record's step.
//! - `opinion`: the customer's opinion form (locked once given), corrections that keep the
//!   original, the company's details from the office in the phrases and the contact card.
//! - `ranges`: the range check before recording; clocks over absurd office jobs.
//! - `store`: the signed log and its projections: append-only, restarts, random actions.
//! - `tampering`: `heatcrew-device verify` names every kind of tampering.
//! - `crash`: SIGKILL at random moments loses nothing that was confirmed.
//! - `hardware`: station codes, the day's shift readiness, outages at the customer's door.
//! - `photo_queue`: photos processed in the background, the records held behind them, a crash
//!   mid-processing, a photo that cannot be processed taken again.
//! - `files`: photos through the media pipeline, orphan files.
//! - `evidence`: formats 1 and 2 side by side, the key vault, receipts and tree heads, read-only
//!   verify, standalone exports, and the tampering each of them catches.
//! - `refresh`: a short-lived session against a real office: the sync refreshes (bound to the
//!   device id) and keeps syncing; the refresh token replayed for another device is refused.
//! - `at_rest`: the database encrypted (no customer data or token in any encoding in its files), a
//!   copy without its key or with a wrong one refused untouched, plain databases converted in
//!   place, and a crash at every step of that conversion.
//! - `projection`: each job's projection rewritten only as the job doubles, read back equal to the
//!   log's fold, nothing kept from a refused transaction, old databases' projections kept.
//!
//! The rules on bare values (templates, checklist, clocks) are tested in crates/rules/tests/rules.rs.
//! Every assertion says why it matters.

use chrono::{Duration, NaiveDate, Utc};
use heatcrew_core::CoreError;
use heatcrew_core::audit::audit;
use heatcrew_core::demo::{self, VisitScript};
use heatcrew_core::store::{Clock, Store};
use heatcrew_protocol::{
    AttachmentRef, DeclineKind, Digest, EventBody, Job, JobKind, JobStatus, Position, Reading,
    Resolution, Signer, StepEvidence, Witness,
};
use heatcrew_rules::checklist::JobContext;
use heatcrew_rules::{Lang, RuleError};
use proptest::prelude::*;
use rusqlite::Connection;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use tempfile::TempDir;
use uuid::Uuid;

mod at_rest;
mod crash;
mod evidence;
mod files;
mod hardware;
mod opinion;
mod outbox;
mod outcomes;
mod photo_queue;
mod projection;
mod ranges;
mod refresh;
mod rules;
mod store;
mod tampering;

// ---------------------------------------------------------------- helpers

/// The device database opened raw (read-write, with its key from `<db>.keys/`), as a tamperer
/// holding the phone and its vault could.
fn raw(db: &Path) -> Connection {
    heatcrew_core::cipher::open(db, &heatcrew_core::keys::FileVault::beside(db))
        .expect("open the database with its key")
}

struct Device {
    _dir: TempDir,
    db: PathBuf,
    store: Store,
}

fn device() -> Device {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("device.db");
    let store = Store::open(&db).expect("open store");
    Device {
        _dir: dir,
        db,
        store,
    }
}

fn png(label: &str, n: u32) -> (Vec<u8>, &'static str) {
    // The file store does not decode; distinct bytes per photo are what matter here.
    (
        format!("photo {label} {n} {}", Uuid::now_v7()).into_bytes(),
        "image/jpeg",
    )
}

fn photo(store: &Store) -> AttachmentRef {
    let (bytes, mime) = png("p", 0);
    AttachmentRef {
        sha256: store.files().put(&bytes).expect("store file"),
        bytes: bytes.len() as u64,
        mime: mime.into(),
        width: 0,
        height: 0,
        taken_at: None,
        gps: None,
    }
}

fn done(step: &str) -> EventBody {
    EventBody::StepCompleted {
        step: step.into(),
        evidence: StepEvidence::default(),
    }
}

fn rule(err: CoreError) -> RuleError {
    match err {
        CoreError::Rule(r) => r,
        other => panic!("expected a rule error, got {other:?}"),
    }
}

/// A home repair job on the device, walked up to (not including) `until`.
fn visit_until(store: &mut Store, until: &str) -> Job {
    let job = demo::home_repair_job(0, None);
    store.add_office_job(&job).expect("dispatch");
    for step in [
        "appointment",
        "arrive",
        "identify",
        "knock_consent",
        "shoe_covers",
        "diagnose_repair",
        "clean_up",
        "signature",
        "rating",
        "contact_card",
    ] {
        if step == until {
            break;
        }
        match step {
            "diagnose_repair" => {
                for _ in 0..2 {
                    let p = photo(store);
                    store
                        .record(
                            job.id,
                            EventBody::PhotoAdded {
                                step: step.into(),
                                photo: p,
                                caption: String::new(),
                            },
                        )
                        .expect("photo");
                }
                let mut ev = StepEvidence::default();
                ev.text.insert("fault_found".into(), "阀门堵塞".into());
                ev.text.insert("work_done".into(), "清洗阀芯".into());
                store
                    .record(
                        job.id,
                        EventBody::StepCompleted {
                            step: step.into(),
                            evidence: ev,
                        },
                    )
                    .expect("diagnose");
            }
            "clean_up" => {
                let p = photo(store);
                store
                    .record(
                        job.id,
                        EventBody::PhotoAdded {
                            step: step.into(),
                            photo: p,
                            caption: String::new(),
                        },
                    )
                    .expect("photo");
                store.record(job.id, done(step)).expect("clean up");
            }
            "signature" => {
                let image = photo(store);
                store
                    .record(
                        job.id,
                        EventBody::SignatureCaptured {
                            step: step.into(),
                            signer: Signer::Customer,
                            signer_name: "王秀英".into(),
                            image,
                        },
                    )
                    .expect("sign");
                store.record(job.id, done(step)).expect("signature step");
            }
            "rating" => {
                store
                    .record(
                        job.id,
                        EventBody::RatingGiven {
                            stars: 4,
                            comment: "好".into(),
                        },
                    )
                    .expect("rate");
                store.record(job.id, done(step)).expect("rating step");
            }
            _ => {
                store.record(job.id, done(step)).expect("confirm step");
            }
        }
    }
    job
}

fn fixed_clock(t: chrono::DateTime<Utc>) -> Clock {
    Arc::new(move || t)
}
