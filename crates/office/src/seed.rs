//! `heatcrew-office seed`: fill a database with a year of a big company's work, to measure the
//! console against (README, "Console at scale"; `crates/office/benches/console.rs`).
//!
//! Nothing here writes a table by hand. Users, devices, jobs and assignments go through the same
//! store methods the API calls; every event is sealed with its device's Ed25519 key and pushed
//! through [`LedgerStore::push`](crate::store::LedgerStore::push), the office's real ledger path:
//! signature, sequence and chain checks, [`crate::ledger::judge`], the office's Merkle log and a
//! signed receipt per event. So a seeded database passes `heatcrew-office verify`. The one
//! shortcut: while seeding, the writer connection runs with `synchronous=OFF` (a crash mid-seed
//! loses the seed, which is rerun); it is back to `FULL` when the seed ends. Last, every device's
//! chain is verified once and its checkpoint signed, as a running office's start does
//! ([`crate::chain_cache`]).
//!
//! The mix: field users in four roles with a phone each, jobs of every kind spread over `days`
//! days ending today (China time) at about equal numbers a day, and three times as many on the
//! busy day (today), appointment windows between 08:00 and 18:00, customers that call again
//! (a third as many customers as repair jobs), finished visits (every step, photos, a signature
//! or a refusal, a rating, the closing) in the past and visits stopped at any step today.

use crate::api::jobs::template_for;
use crate::chain_cache::ChainCache;
use crate::store::{AccountStore, EnrolmentStore, JobStore, LedgerStore, NewUser, SqliteStore};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_protocol::sync::{PushOutcome, Role};
use heatcrew_protocol::{
    AppointmentWindow, AttachmentRef, Customer, Digest, Event, EventBody, Format, Job, JobKind,
    JobStatus, Resolution, Signer, StepEvidence, UnsignedEvent,
};
use heatcrew_rules::template;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub jobs: u64,
    /// Events in all (about `events / jobs` per job; today's visits stop early).
    pub events: u64,
    /// Days the jobs spread over, ending today.
    pub days: u32,
    /// Field users, one phone each.
    pub field_users: u32,
    /// The random generator's seed: the same plan seeds the same company.
    pub seed: u64,
    pub now: DateTime<Utc>,
}

/// What was seeded.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub users: u64,
    pub devices: u64,
    pub jobs: u64,
    pub events: u64,
    /// The day with the most jobs (China time): the board the benchmark loads.
    pub busy_day: NaiveDate,
    pub busy_day_jobs: u64,
    /// The password of every seeded user (usernames `dispatcher1`, `admin1`, `tech1`, …).
    pub password: &'static str,
    /// Events whose signature the final chain check verified, and the seconds it took (the
    /// checkpoints it leaves are what a running office's start leaves, [`crate::chain_cache`]).
    pub chains_checked: u64,
    pub chains_secs: f64,
}

/// Every seeded user's password.
pub const SEED_PASSWORD: &str = "seed-password-1";

/// Events pushed per request, as a device does.
const BATCH: usize = 1000;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "朱", "胡",
];
const GIVEN: &[&str] = &[
    "秀英", "建国", "淑珍", "志明", "丽华", "永刚", "海涛", "桂兰", "伟", "芳", "强", "军", "敏",
];
const ESTATES: &[&str] = &[
    "幸福小区",
    "和平里小区",
    "光明花园",
    "建设路18号院",
    "滨河小区",
    "东风小区",
    "锦绣家园",
];
const FAULTS: &[&str] = &[
    "暖气不热",
    "暖气片接口漏水",
    "进户阀门关不严",
    "散热器有异响",
    "室温偏低",
    "需要放气",
];

struct FieldUser {
    user: Uuid,
    device: Uuid,
    key: SigningKey,
    seq: u64,
    prev: Digest,
    pending: Vec<Event>,
}

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid")
}

fn customer(i: u64) -> Customer {
    let n = i as usize;
    Customer {
        name: format!(
            "{}{}",
            SURNAMES[n % SURNAMES.len()],
            GIVEN[(n / SURNAMES.len()) % GIVEN.len()]
        ),
        phone: format!("139{:08}", i),
        address: format!(
            "{}{}号楼{}单元{}室",
            ESTATES[n % ESTATES.len()],
            n % 30 + 1,
            n % 4 + 1,
            (n % 18 + 1) * 100 + n % 4 + 1
        ),
        account_no: format!("RY-{:06}", i),
    }
}

fn kind_of(r: u32) -> (JobKind, Role) {
    match r {
        0..60 => (JobKind::HomeRepair, Role::RepairTechnician),
        60..75 => (JobKind::EmergencyRepair, Role::RepairTechnician),
        75..85 => (JobKind::HeatTheftInspection, Role::Inspector),
        85..93 => (JobKind::PatrolRound, Role::Patrol),
        _ => (JobKind::AcceptanceInspection, Role::Inspector),
    }
}

fn photo(rng: &mut StdRng) -> AttachmentRef {
    let bytes: [u8; 32] = rng.r#gen();
    AttachmentRef {
        sha256: Digest(bytes),
        bytes: rng.gen_range(200_000..2_000_000),
        mime: "image/jpeg".into(),
        width: 1600,
        height: 1200,
        taken_at: None,
        gps: None,
    }
}

/// The records of a visit to `job`, in order: each step of its checklist with a photo on every
/// third, a signature (or a refusal) and a rating on customer jobs, then the closing.
fn visit(job: &Job, rng: &mut StdRng) -> Vec<EventBody> {
    let mut out = Vec::new();
    let steps: Vec<String> = template::for_job(job)
        .map(|t| t.steps_for(job.street_work).map(|s| s.id.clone()).collect())
        .unwrap_or_default();
    for (i, step) in steps.iter().enumerate() {
        let mut evidence = StepEvidence::default();
        if i + 1 == steps.len() {
            evidence
                .text
                .insert("work_done".into(), "已处理，试运行正常".into());
        }
        out.push(EventBody::StepCompleted {
            step: step.clone(),
            evidence,
        });
        if i % 3 == 1 {
            out.push(EventBody::PhotoAdded {
                step: step.clone(),
                photo: photo(rng),
                caption: String::new(),
            });
        }
    }
    if job.customer.is_some() {
        let step = steps.last().cloned().unwrap_or_else(|| "sign".into());
        out.push(EventBody::SignatureCaptured {
            step,
            signer: Signer::Customer,
            signer_name: job
                .customer
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            image: photo(rng),
        });
        out.push(EventBody::RatingGiven {
            stars: rng.gen_range(3..=5),
            comment: String::new(),
        });
    }
    out.push(EventBody::JobClosed {
        resolution: if rng.gen_ratio(1, 10) {
            Resolution::FollowUpNeeded
        } else {
            Resolution::Resolved
        },
        summary: "处理完毕".into(),
    });
    out
}

/// Seed `plan` into `store` (opened on an empty or demo database); `office` signs the receipts.
pub fn seed(
    store: &SqliteStore,
    office: &SigningKey,
    plan: &SeedPlan,
) -> anyhow::Result<SeedReport> {
    store.with_connection(|c| c.pragma_update(None, "synchronous", "OFF"))?;
    let result = seed_inner(store, office, plan).and_then(|mut report| {
        // As a running office's start does: every chain verified once, its checkpoint signed.
        let started = std::time::Instant::now();
        let cache = ChainCache::with_checkpoints(std::sync::Arc::new(office.clone()));
        let warm = cache.warm(store)?;
        anyhow::ensure!(warm.faulty == 0, "a seeded chain does not verify: {warm:?}");
        report.chains_checked = warm.checked;
        report.chains_secs = started.elapsed().as_secs_f64();
        Ok(report)
    });
    store.with_connection(|c| c.pragma_update(None, "synchronous", "FULL"))?;
    result
}

fn seed_inner(
    store: &SqliteStore,
    office: &SigningKey,
    plan: &SeedPlan,
) -> anyhow::Result<SeedReport> {
    anyhow::ensure!(
        plan.jobs > 0 && plan.days > 0,
        "seed at least one job over one day"
    );
    anyhow::ensure!(plan.field_users >= 4, "seed at least four field users");
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let hash = crate::api::auth::hash_password(SEED_PASSWORD)?;
    let start = plan.now - Duration::days(i64::from(plan.days));
    let add = |username: String, role: Role, name: String| -> anyhow::Result<Uuid> {
        let badge = format!("S-{username}");
        Ok(store
            .add_user(
                NewUser {
                    username: username.clone(),
                    password_hash: hash.clone(),
                    display_name: name,
                    role,
                    badge_no: badge,
                },
                start,
            )?
            .id)
    };
    add("admin1".into(), Role::Admin, "系统管理员".into())?;
    for i in 1..=5 {
        add(
            format!("dispatcher{i}"),
            Role::Dispatcher,
            format!("调度员{i}"),
        )?;
    }
    // Two thirds technicians, the rest inspectors and patrol staff.
    let roles = |i: u32| match i % 6 {
        0 => Role::Inspector,
        1 => Role::Patrol,
        _ => Role::RepairTechnician,
    };
    let mut field: Vec<(Role, FieldUser)> = Vec::new();
    for i in 0..plan.field_users {
        let role = roles(i);
        let name = format!(
            "{}{}",
            SURNAMES[i as usize % SURNAMES.len()],
            GIVEN[i as usize % GIVEN.len()]
        );
        let user = add(format!("field{}", i + 1), role, name)?;
        let key = SigningKey::from_bytes(&rng.r#gen());
        let device = Uuid::from_u128(rng.r#gen());
        store.enrol_device(
            device,
            &hex::encode(key.verifying_key().as_bytes()),
            &format!("手机 {}", i + 1),
            user,
            start,
        )?;
        field.push((
            role,
            FieldUser {
                user,
                device,
                key,
                seq: 0,
                prev: Digest::GENESIS,
                pending: Vec::new(),
            },
        ));
    }
    // Jobs a day: equal shares, three on the busy day (today).
    let today = plan.now.with_timezone(&cst()).date_naive();
    let shares = u64::from(plan.days) + 2;
    let per_day = plan.jobs / shares;
    let events_per_job = plan.events as f64 / plan.jobs as f64;
    let mut jobs_left = plan.jobs;
    let past_jobs = per_day * u64::from(plan.days - 1);
    let reserve = (plan.jobs - past_jobs) * (events_per_job / 2.0) as u64;
    let mut events_left = plan.events;
    let mut customers_seen = 0u64;
    let customers = (plan.jobs / 3).max(1);
    let mut busy_day_jobs = 0;
    let mut jobs_done = 0u64;
    let mut elapsed = 0u64;
    for d in (0..plan.days).rev() {
        let date = today - Duration::days(i64::from(d));
        let n = if d == 0 {
            jobs_left
        } else {
            per_day.min(jobs_left)
        };
        jobs_left -= n;
        if d == 0 {
            busy_day_jobs = n;
        }
        let day_start = cst()
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
            .single()
            .expect("fixed offset")
            .with_timezone(&Utc);
        for _ in 0..n {
            let (kind, role) = kind_of(rng.gen_range(0..100));
            let candidates: Vec<usize> = (0..field.len()).filter(|&i| field[i].0 == role).collect();
            let who = candidates[rng.gen_range(0..candidates.len())];
            let hour = rng.gen_range(8..17);
            let window_start = day_start + Duration::hours(hour);
            let window = AppointmentWindow {
                start: window_start,
                end: window_start + Duration::hours(2),
            };
            let reported_at = window_start - Duration::minutes(rng.gen_range(20..180));
            let created = reported_at.min(plan.now);
            let has_customer = matches!(
                kind,
                JobKind::HomeRepair | JobKind::EmergencyRepair | JobKind::HeatTheftInspection
            );
            let cust = has_customer.then(|| {
                // Repeat callers: most jobs go to a customer seen before.
                let i = if customers_seen < customers && rng.gen_ratio(1, 2) {
                    customers_seen += 1;
                    customers_seen
                } else {
                    rng.gen_range(1..=customers_seen.max(1))
                };
                customer(i)
            });
            let job = Job {
                id: Uuid::from_u128(rng.r#gen()),
                kind,
                template: template_for(kind),
                title: match kind {
                    JobKind::HomeRepair | JobKind::EmergencyRepair => {
                        FAULTS[rng.gen_range(0..FAULTS.len())].to_string()
                    }
                    JobKind::HeatTheftInspection => "疑似私接旁通管窃热".into(),
                    JobKind::PatrolRound => "东区供热管网巡检".into(),
                    JobKind::AcceptanceInspection => "新建换热站验收".into(),
                },
                site: (!has_customer).then(|| "东区".to_string()),
                customer: cust,
                reported_at: matches!(kind, JobKind::HomeRepair | JobKind::EmergencyRepair)
                    .then_some(reported_at),
                window: Some(window),
                assignee: Some(field[who].1.user),
                street_work: kind == JobKind::EmergencyRepair && rng.gen_ratio(1, 3),
                checkpoints: vec![],
                status: JobStatus::Open,
                utc_offset_minutes: None,
                revision: 1,
            };
            store.create_job(job.clone(), created)?;
            jobs_done += 1;
            // This job's share of the events left, so the total comes out at the plan's.
            // Today's visits stop half-way on average: the days before carry the rest.
            let want = if d == 0 {
                (events_per_job.round() as u64).min(events_left)
            } else {
                let past_left = past_jobs - (jobs_done - 1);
                events_left.saturating_sub(reserve).div_ceil(past_left)
            };
            let mut bodies = visit(&job, &mut rng);
            while (bodies.len() as u64) < want {
                bodies.insert(
                    bodies.len() - 1,
                    EventBody::PhotoAdded {
                        step: "work".into(),
                        photo: photo(&mut rng),
                        caption: String::new(),
                    },
                );
            }
            // A visit of today stops at any step (the board's states); past ones are complete.
            let keep = if d == 0 {
                rng.gen_range(0..=bodies.len())
            } else {
                bodies.len()
            };
            bodies.truncate((want as usize).min(keep));
            let mut at = window_start + Duration::minutes(rng.gen_range(-20..60));
            let dev = &mut field[who].1;
            for body in bodies {
                at += Duration::minutes(rng.gen_range(2..12));
                if at > plan.now {
                    break;
                }
                let (kind, payload) = body.to_parts();
                elapsed += 60_000;
                dev.seq += 1;
                let event = UnsignedEvent {
                    id: Uuid::from_u128(rng.r#gen()),
                    device_id: dev.device,
                    device_seq: dev.seq,
                    job_id: job.id,
                    kind,
                    payload,
                    recorded_at: at,
                    elapsed_ms: elapsed,
                    prev_hash: dev.prev,
                    format: Format::CURRENT,
                }
                .seal(&dev.key);
                dev.prev = event.hash;
                dev.pending.push(event);
                events_left -= 1;
            }
        }
        // The day's records reach the office in the evening (or now, today).
        let pushed_at = (day_start + Duration::hours(20)).min(plan.now);
        for (_, dev) in &mut field {
            for batch in dev.pending.chunks(BATCH) {
                let resp = store.push(dev.device, dev.user, batch, pushed_at, office)?;
                if let Some(r) = resp
                    .results
                    .iter()
                    .find(|r| r.outcome != PushOutcome::Accepted)
                {
                    anyhow::bail!("the office did not take a seeded event: {r:?}");
                }
            }
            dev.pending.clear();
        }
    }
    Ok(SeedReport {
        users: 6 + u64::from(plan.field_users),
        devices: u64::from(plan.field_users),
        jobs: jobs_done,
        events: plan.events - events_left,
        busy_day: today,
        busy_day_jobs,
        password: SEED_PASSWORD,
        chains_checked: 0,
        chains_secs: 0.0,
    })
}
