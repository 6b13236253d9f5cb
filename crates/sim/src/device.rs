//! One simulated phone: sign in, pull the day's jobs, record each one, sync when in signal.

use anyhow::{Context, bail};
use heatcrew_core::audit::audit;
use heatcrew_core::demo::{self, VisitScript};
use heatcrew_core::store::Origin;
use heatcrew_core::sync::{self, Syncer};
use heatcrew_core::{Store, StoredJob};
use heatcrew_protocol::{Event, JobKind};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Plan {
    pub index: usize,
    pub username: String,
    pub password: String,
    pub db: PathBuf,
    pub jobs: usize,
    pub offline_ratio: f64,
    pub seed: u64,
    pub office: String,
    pub drain_timeout: Duration,
}

#[derive(Debug)]
pub struct Outcome {
    pub device_id: Uuid,
    pub events: Vec<Event>,
    pub attachments: Vec<String>,
    pub chain_valid: bool,
    pub rejected: u64,
    pub sync_errors: u64,
    pub pushed: u64,
    pub push_seconds: f64,
}

/// Short waits between retries: the simulation wants to ride out an office restart quickly.
pub(crate) fn retry_wait(failures: u32) -> Duration {
    sync::backoff(failures).min(Duration::from_millis(1500))
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn run(plan: &Plan) -> anyhow::Result<Outcome> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(plan.seed);
    let store = Arc::new(Mutex::new(
        Store::open(&plan.db).with_context(|| format!("open {}", plan.db.display()))?,
    ));
    let device_id = lock(&store).device_id();
    let deadline = Instant::now() + plan.drain_timeout;
    let mut sync_errors = 0u64;

    // Sign in (the office may be restarting).
    let mut failures = 0;
    loop {
        match rt.block_on(sync::login(
            &store,
            &plan.office,
            &plan.username,
            &plan.password,
        )) {
            Ok(_) => break,
            Err(e) if e.is_transient() && Instant::now() < deadline => {
                failures += 1;
                sync_errors += 1;
                std::thread::sleep(retry_wait(failures));
            }
            Err(e) => bail!("device {}: sign in: {e}", plan.index),
        }
    }
    let syncer = Syncer::new(store.clone());

    // Pull the day's jobs.
    let my_jobs = |store: &Mutex<Store>| -> anyhow::Result<Vec<StoredJob>> {
        Ok(lock(store)
            .jobs()?
            .into_iter()
            .filter(|j| j.origin == Origin::Office && j.progress.closed.is_none())
            .collect())
    };
    let mut failures = 0;
    while my_jobs(&store)?.len() < plan.jobs {
        if let Err(e) = rt.block_on(syncer.sync_once()) {
            sync_errors += 1;
            if !e.is_transient() || Instant::now() > deadline {
                bail!("device {}: pulling jobs: {e}", plan.index);
            }
        }
        if my_jobs(&store)?.len() < plan.jobs {
            failures += 1;
            if Instant::now() > deadline {
                bail!(
                    "device {}: only {} of {} jobs arrived",
                    plan.index,
                    my_jobs(&store)?.len(),
                    plan.jobs
                );
            }
            std::thread::sleep(retry_wait(failures));
        }
    }

    // Work through them; in signal or not.
    let (mut pushed, mut push_time) = (0, Duration::ZERO);
    // Every photo distinct, as a camera's would be (the office deduplicates identical files).
    let mut shot = 0u32;
    let tag = plan.seed;
    let mut images = move |label: &str, n: u32| {
        shot += 1;
        demo::generated_png(&format!("{label}-{tag}-{shot}"), n)
    };
    for (k, job) in my_jobs(&store)?.into_iter().enumerate() {
        {
            let mut s = lock(&store);
            match job.job.kind {
                JobKind::HeatTheftInspection => {
                    demo::inspection_visit(&mut s, &mut images, &job.job)?
                }
                JobKind::PatrolRound => demo::patrol_visit(&mut s, &mut images, &job.job)?,
                _ => {
                    let script = match k {
                        0 => VisitScript::Refused,
                        1 => VisitScript::SignedWithDamage,
                        _ => VisitScript::Signed,
                    };
                    demo::home_repair_visit(&mut s, &mut images, &job.job, script)?;
                }
            }
        }
        let in_signal = rng.r#gen::<f64>() >= plan.offline_ratio;
        if in_signal {
            match rt.block_on(syncer.sync_once()) {
                Ok(r) => {
                    pushed += r.pushed + r.rejected;
                    push_time += r.push_time;
                }
                Err(_) => sync_errors += 1,
            }
        }
    }

    // End of the day: back in signal until everything is up (or the deadline).
    let mut failures = 0;
    loop {
        match rt.block_on(syncer.sync_once()) {
            Ok(report) => {
                pushed += report.pushed + report.rejected;
                push_time += report.push_time;
                let backlog = lock(&store).backlog()?;
                if backlog.queued == 0 && backlog.attachments == 0 {
                    break;
                }
            }
            Err(_) => {
                sync_errors += 1;
                failures += 1;
                if Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(retry_wait(failures));
            }
        }
    }

    let s = lock(&store);
    let events = s.events()?;
    let chain_valid = audit(&events, s.device_id(), &s.public_key(), Some(s.tip())).is_ok();
    let attachments: Vec<String> = s
        .connection()
        .prepare("SELECT sha256 FROM attachments ORDER BY sha256")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let rejected = s.backlog()?.rejected;
    Ok(Outcome {
        device_id,
        events,
        attachments,
        chain_valid,
        rejected,
        sync_errors,
        pushed,
        push_seconds: push_time.as_secs_f64(),
    })
}
