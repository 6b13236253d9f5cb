//! A simulated field day against a real office: crews and jobs are created through the dispatch
//! API, then N device cores (each its own SQLite file) sign in, pull their jobs, record whole
//! visits, inspections and patrol rounds with photos, go offline at random and sync when online.
//! At the end every device drains its outbox and the office's ledger is compared event by event
//! and file by file with what the devices recorded.

mod device;
mod dispatch;
pub mod script;

pub use dispatch::DispatchApi;

use anyhow::Context;
use heatcrew_protocol::{CheckpointKind, JobKind};
use serde::Serialize;
use serde_json::json;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The office's address, or several: one office's processes (all on one database), the
    /// devices spread over them in turn (device `i` syncs with `offices[i % n]`); crews and jobs
    /// are created at the first, and the ledger is read back from the first.
    pub offices: Vec<String>,
    pub devices: usize,
    pub jobs_per_device: usize,
    /// Probability that a device is out of signal when it would sync.
    pub offline_ratio: f64,
    pub seed: u64,
    pub admin_user: String,
    pub admin_password: String,
    /// Where the device databases go (a temp dir if none).
    pub workdir: Option<PathBuf>,
    /// How long devices keep trying to drain their outbox at the end.
    pub drain_timeout: Duration,
}

/// The one JSON line the simulator prints.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SimResult {
    pub devices: usize,
    pub events_recorded: u64,
    pub events_on_office: u64,
    pub attachments_recorded: u64,
    pub attachments_on_office: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub chains_valid: bool,
    pub push_events_per_s: f64,
    pub rejected: u64,
    pub sync_errors_ridden_out: u64,
    pub seconds: f64,
}

impl SimResult {
    pub fn ok(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.chains_valid && self.rejected == 0
    }
}

const SIM_PASSWORD: &str = "sim-password-2026";

/// Run the whole day. Errors are setup failures; data problems are in the result.
pub fn run(cfg: &SimConfig) -> anyhow::Result<SimResult> {
    let started = Instant::now();
    anyhow::ensure!(!cfg.offices.is_empty(), "no office address given");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let tmp;
    let workdir = match &cfg.workdir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };

    // Crews and jobs, through the dispatch API.
    let api = rt.block_on(DispatchApi::sign_in(
        &cfg.offices[0],
        &cfg.admin_user,
        &cfg.admin_password,
        Duration::from_secs(60),
    ))?;
    // Unique per run (not per seed), so the same seed can run twice against one office.
    let run_tag: u32 = rand::random();
    let mut plans = Vec::with_capacity(cfg.devices);
    for i in 0..cfg.devices {
        let (role, kind) = match i % 10 {
            8 => ("inspector", JobKind::HeatTheftInspection),
            9 => ("patrol", JobKind::PatrolRound),
            _ => ("repair_technician", JobKind::HomeRepair),
        };
        let username = format!("sim{run_tag:08x}d{i:03}");
        let user = rt
            .block_on(api.create_user(&username, SIM_PASSWORD, role, &format!("模拟{i}号")))
            .with_context(|| format!("create user {username}"))?;
        for j in 0..cfg.jobs_per_device {
            rt.block_on(api.create_job(&job_request(kind, user.id, i, j)))
                .with_context(|| format!("create job {j} for {username}"))?;
        }
        plans.push(device::Plan {
            index: i,
            username,
            password: SIM_PASSWORD.into(),
            db: workdir.join(format!("device-{i:03}.db")),
            jobs: cfg.jobs_per_device,
            offline_ratio: cfg.offline_ratio,
            seed: cfg.seed.wrapping_add(i as u64 * 7919),
            office: cfg.offices[i % cfg.offices.len()].clone(),
            drain_timeout: cfg.drain_timeout,
        });
    }

    // The field day: one thread per device, like one phone per technician.
    let outcomes: Vec<device::Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = plans
            .iter()
            .map(|plan| scope.spawn(move || device::run(plan)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("device thread panicked")))
            })
            .collect::<anyhow::Result<_>>()
    })?;

    // Compare the office's ledger with each device's, event by event and file by file.
    let mut result = SimResult {
        devices: cfg.devices,
        events_recorded: 0,
        events_on_office: 0,
        attachments_recorded: 0,
        attachments_on_office: 0,
        lost: 0,
        duplicated: 0,
        chains_valid: true,
        push_events_per_s: 0.0,
        rejected: 0,
        sync_errors_ridden_out: 0,
        seconds: 0.0,
    };
    let (mut pushed, mut push_secs) = (0u64, 0f64);
    for o in &outcomes {
        result.events_recorded += o.events.len() as u64;
        result.chains_valid &= o.chain_valid;
        result.rejected += o.rejected;
        result.sync_errors_ridden_out += o.sync_errors;
        pushed += o.pushed;
        push_secs += o.push_seconds;
        let on_office = rt.block_on(api.device_events(o.device_id))?;
        result.events_on_office += on_office.len() as u64;
        let office_ids: Vec<_> = on_office.iter().map(|e| (e.unsigned.id, e.hash)).collect();
        let unique: HashSet<_> = office_ids.iter().copied().collect();
        result.duplicated += (office_ids.len() - unique.len()) as u64;
        for e in &o.events {
            if !unique.contains(&(e.unsigned.id, e.hash)) {
                result.lost += 1;
            }
        }
        // Anything on the office that this device never recorded would be a duplicate or forgery.
        let local: HashSet<_> = o.events.iter().map(|e| (e.unsigned.id, e.hash)).collect();
        result.duplicated += unique.iter().filter(|k| !local.contains(k)).count() as u64;
        result.attachments_recorded += o.attachments.len() as u64;
        for sha in &o.attachments {
            if rt.block_on(api.has_attachment(sha))? {
                result.attachments_on_office += 1;
            } else {
                result.lost += 1;
            }
        }
    }
    // Events per second of waiting for push answers, summed over devices: how fast the office
    // ingests pushes (the concurrent figure is the benchmark's).
    if push_secs > 0.0 {
        result.push_events_per_s = (pushed as f64 / push_secs * 10.0).round() / 10.0;
    }
    result.seconds = (started.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    Ok(result)
}

fn job_request(kind: JobKind, assignee: uuid::Uuid, device: usize, j: usize) -> serde_json::Value {
    let now = chrono::Utc::now();
    match kind {
        JobKind::PatrolRound => {
            let cps: Vec<_> = heatcrew_core::demo::patrol_job(None)
                .checkpoints
                .into_iter()
                .map(|mut c| {
                    c.id = format!("{}-{device}-{j}", c.id);
                    c
                })
                .collect();
            debug_assert!(cps.iter().any(|c| c.kind == CheckpointKind::HeadStation));
            json!({"id": uuid::Uuid::now_v7(), "kind": "patrol_round", "fault": format!("模拟巡检 {device}-{j}"), "site": "东区",
                   "assignee": assignee, "checkpoints": cps,
                   "window": {"start": now, "end": now + chrono::Duration::hours(8)}})
        }
        JobKind::HeatTheftInspection => {
            let c = heatcrew_core::demo::inspection_job(None).customer;
            json!({"id": uuid::Uuid::now_v7(), "kind": "heat_theft_inspection", "fault": "疑似私接管道", "customer": c, "assignee": assignee})
        }
        _ => {
            let demo = heatcrew_core::demo::home_repair_job(device + j, None);
            json!({"id": uuid::Uuid::now_v7(), "kind": "home_repair", "fault": demo.title, "customer": demo.customer,
                   "reported_at": now - chrono::Duration::minutes(30), "window": demo.window,
                   "street_work": demo.street_work, "assignee": assignee})
        }
    }
}
