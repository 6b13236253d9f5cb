//! Scripted field days, for simulations longer than one day (tests/month.rs): one phone per crew
//! member per day, signed in as a standing account (so the office's follow-up jobs, such as a
//! notice's re-inspection, reach the person they were opened for), working only the jobs it is
//! told to, each the way it is told — a repair signed and rated or refused, a door nobody opens,
//! an inspection that issues a rectification notice, a re-inspection that finds it complied with,
//! a patrol round — and then draining its outbox. A job left out of the list is not worked (a
//! missed patrol round). Each day gets a fresh device database, as a day's phone would start
//! clean after a reinstall: the office's clock may have moved on between days.

use crate::device::retry_wait;
use anyhow::{Context, bail};
use chrono::NaiveDate;
use heatcrew_core::audit::audit;
use heatcrew_core::demo::{self, VisitScript};
use heatcrew_core::sync::{self, Syncer};
use heatcrew_core::views::NoEntryInput;
use heatcrew_core::{Store, StoredJob};
use heatcrew_protocol::{
    DeclineKind, EventBody, FindingCategory, NoEntryKind, Resolution, Signer, StepEvidence, Witness,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How one job is worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visit {
    /// A whole home repair ([`demo::home_repair_visit`]): `Signed` and `SignedWithDamage` are
    /// rated 5 stars, `Refused` is not rated; all close resolved.
    Repair(VisitScript),
    /// Arrived, nobody home: the door's record and the visit closed as no entry.
    NotHome,
    /// A heat-theft inspection with a finding, a refusal to sign, and a rectification notice due
    /// on `deadline` (a local date); closed resolved.
    Inspection { deadline: NaiveDate },
    /// A re-inspection that finds the notice complied with: everything normal, signed, no new
    /// notice (the step skipped with its reason); closed resolved.
    Complied,
    /// A patrol round: readings at every checkpoint, a defect, handover ([`demo::patrol_visit`]).
    Patrol,
}

/// One crew member's day on one phone.
#[derive(Debug, Clone)]
pub struct Shift {
    pub office: String,
    pub username: String,
    pub password: String,
    /// The day's device database (a new file per day).
    pub db: PathBuf,
    /// The jobs to work, in order, and how.
    pub visits: Vec<(Uuid, Visit)>,
    /// How long to wait for the jobs to arrive and the outbox to drain.
    pub patience: Duration,
    /// Seed for distinct photos.
    pub seed: u64,
    /// Out of signal while working: nothing is pushed until the end of the day.
    pub offline: bool,
}

/// What one shift left behind.
#[derive(Debug, Clone)]
pub struct ShiftOutcome {
    pub username: String,
    pub device_id: Uuid,
    pub events_recorded: u64,
    /// Events still queued after the drain (0 when everything reached the office).
    pub backlog: u64,
    pub rejected: u64,
    pub chain_valid: bool,
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every shift at once, one thread each (one phone per person).
pub fn work_all(shifts: &[Shift]) -> anyhow::Result<Vec<ShiftOutcome>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = shifts
            .iter()
            .map(|s| scope.spawn(move || work(s)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("shift thread panicked")))
            })
            .collect()
    })
}

/// Sign in, wait for the listed jobs, work them as scripted (pushing after each when in signal),
/// drain.
pub fn work(shift: &Shift) -> anyhow::Result<ShiftOutcome> {
    let who = &shift.username;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = Arc::new(Mutex::new(
        Store::open(&shift.db).with_context(|| format!("open {}", shift.db.display()))?,
    ));
    let device_id = lock(&store).device_id();
    let deadline = Instant::now() + shift.patience;
    let mut failures = 0;
    loop {
        match rt.block_on(sync::login(
            &store,
            &shift.office,
            &shift.username,
            &shift.password,
        )) {
            Ok(_) => break,
            Err(e) if e.is_transient() && Instant::now() < deadline => {
                failures += 1;
                std::thread::sleep(retry_wait(failures));
            }
            Err(e) => bail!("{who}: sign in: {e}"),
        }
    }
    let syncer = Syncer::new(store.clone());
    let job_of = |id: Uuid| -> anyhow::Result<Option<StoredJob>> {
        Ok(lock(&store).jobs()?.into_iter().find(|j| j.job.id == id))
    };
    let mut failures = 0;
    loop {
        if let Err(e) = rt.block_on(syncer.sync_once())
            && !e.is_transient()
        {
            bail!("{who}: pulling jobs: {e}");
        }
        let mut missing = Vec::new();
        for (id, _) in &shift.visits {
            if job_of(*id)?.is_none() {
                missing.push(*id);
            }
        }
        if missing.is_empty() {
            break;
        }
        failures += 1;
        if Instant::now() > deadline {
            bail!("{who}: jobs {missing:?} never arrived");
        }
        std::thread::sleep(retry_wait(failures));
    }

    let mut shot = 0u32;
    let tag = shift.seed;
    let mut images = move |label: &str, n: u32| {
        shot += 1;
        demo::generated_png(&format!("{label}-{tag}-{shot}"), n)
    };
    for (id, visit) in &shift.visits {
        let job = job_of(*id)?.context("the job is on the phone")?.job;
        {
            let mut s = lock(&store);
            let s = &mut *s;
            match visit {
                Visit::Repair(script) => demo::home_repair_visit(s, &mut images, &job, *script)?,
                Visit::NotHome => not_home(s, &mut images, job.id)?,
                Visit::Inspection { deadline } => inspection(s, &mut images, job.id, *deadline)?,
                Visit::Complied => complied(s, &mut images, job.id)?,
                Visit::Patrol => demo::patrol_visit(s, &mut images, &job)?,
            }
        }
        // The app pushes after every record when in signal; a failure here is retried below.
        if !shift.offline {
            let _ = rt.block_on(syncer.sync_once());
        }
    }

    let mut failures = 0;
    loop {
        let done = match rt.block_on(syncer.sync_once()) {
            Ok(_) => {
                let b = lock(&store).backlog()?;
                b.queued == 0 && b.attachments == 0
            }
            Err(_) => false,
        };
        if done || Instant::now() > deadline {
            break;
        }
        failures += 1;
        std::thread::sleep(retry_wait(failures));
    }
    let s = lock(&store);
    let events = s.events()?;
    let backlog = s.backlog()?;
    Ok(ShiftOutcome {
        username: shift.username.clone(),
        device_id,
        events_recorded: events.len() as u64,
        backlog: backlog.queued,
        rejected: backlog.rejected,
        chain_valid: audit(&events, s.device_id(), &s.public_key(), Some(s.tip())).is_ok(),
    })
}

fn confirm(store: &mut Store, job: Uuid, step: &str) -> anyhow::Result<()> {
    store.record(
        job,
        EventBody::StepCompleted {
            step: step.into(),
            evidence: StepEvidence::default(),
        },
    )?;
    Ok(())
}

fn photo(
    store: &Store,
    images: demo::ImageSource<'_>,
    label: &str,
) -> anyhow::Result<heatcrew_protocol::AttachmentRef> {
    let (bytes, _) = images(label, 1);
    Ok(store.ingest_photo(&bytes)?)
}

fn add_photo(
    store: &mut Store,
    images: demo::ImageSource<'_>,
    job: Uuid,
    step: &str,
) -> anyhow::Result<()> {
    let p = photo(store, images, step)?;
    store.record(
        job,
        EventBody::PhotoAdded {
            step: step.into(),
            photo: p,
            caption: String::new(),
        },
    )?;
    Ok(())
}

/// At the door on time, nobody home: the door's photo and a witness, closed as no entry.
fn not_home(store: &mut Store, images: demo::ImageSource<'_>, job: Uuid) -> anyhow::Result<()> {
    confirm(store, job, "appointment")?;
    confirm(store, job, "arrive")?;
    confirm(store, job, "identify")?;
    let door_photo = photo(store, images, "door")?;
    store.close_not_home(
        job,
        NoEntryInput {
            outcome: NoEntryKind::NotHome,
            reason: "敲门无人应答，电话未接".into(),
            door_photo,
            witness: Some(Witness {
                name: "物业管理员 孙师傅".into(),
                phone: "13900001234".into(),
            }),
            reschedule: None,
        },
    )?;
    Ok(())
}

fn states(pairs: &[(&str, &str)]) -> StepEvidence {
    StepEvidence {
        states: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        ..StepEvidence::default()
    }
}

/// A finding, the customer refusing to sign before a witness, a notice due on `deadline`.
fn inspection(
    store: &mut Store,
    images: demo::ImageSource<'_>,
    job: Uuid,
    deadline: NaiveDate,
) -> anyhow::Result<()> {
    confirm(store, job, "arrive")?;
    confirm(store, job, "identify")?;
    add_photo(store, images, job, "inspect")?;
    let evidence = photo(store, images, "finding")?;
    store.record(
        job,
        EventBody::FindingRecorded {
            finding_id: Uuid::now_v7(),
            category: FindingCategory::UnauthorizedConnection,
            description: "卫生间私接旁通管，绕过计量表".into(),
            states: BTreeMap::from([("seal".to_owned(), "broken".to_owned())]),
            photos: vec![evidence],
        },
    )?;
    store.record(
        job,
        EventBody::StepCompleted {
            step: "inspect".into(),
            evidence: states(&[
                ("meter", "tampered"),
                ("seal", "broken"),
                ("valve", "opened_without_permission"),
            ]),
        },
    )?;
    store.record(
        job,
        EventBody::SignatureDeclined {
            step: "acknowledgement".into(),
            outcome: DeclineKind::Refused,
            reason: "客户否认私接，拒绝签字".into(),
            witness: Some(Witness {
                name: "社区网格员 周敏".into(),
                phone: "13600005678".into(),
            }),
        },
    )?;
    confirm(store, job, "acknowledgement")?;
    store.issue_notice(
        job,
        deadline,
        "拆除私接旁通管，恢复铅封".into(),
        Some(deadline),
    )?;
    confirm(store, job, "notice")?;
    store.record(
        job,
        EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "已开具整改通知书，按期复查".into(),
        },
    )?;
    Ok(())
}

/// The re-inspection: meter, seal and valve as they should be, the customer signs, no new notice.
fn complied(store: &mut Store, images: demo::ImageSource<'_>, job: Uuid) -> anyhow::Result<()> {
    confirm(store, job, "arrive")?;
    confirm(store, job, "identify")?;
    add_photo(store, images, job, "inspect")?;
    store.record(
        job,
        EventBody::StepCompleted {
            step: "inspect".into(),
            evidence: states(&[("meter", "normal"), ("seal", "intact"), ("valve", "closed")]),
        },
    )?;
    let image = store.ingest_signature(&demo::generated_signature(1))?;
    store.record(
        job,
        EventBody::SignatureCaptured {
            step: "acknowledgement".into(),
            signer: Signer::Customer,
            signer_name: "赵强".into(),
            image,
        },
    )?;
    confirm(store, job, "acknowledgement")?;
    store.record(
        job,
        EventBody::StepSkipped {
            step: "notice".into(),
            reason: "已按期整改，无需再开通知书".into(),
        },
    )?;
    store.record(
        job,
        EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "复查合格，已整改".into(),
        },
    )?;
    Ok(())
}
