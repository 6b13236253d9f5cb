//! The monthly workbook (`GET /api/v1/reports/monthly.xlsx`) for a month of 10,000 and of 100,000
//! jobs, each closed with its feedback record: the time to count the summary and write the whole
//! workbook, its size, and the peak memory of the process while writing (VmHWM, reset before each
//! run through /proc/self/clear_refs). Target: 100,000 jobs in ≤ 10 s, memory flat in the rows.
//!
//! `cargo bench --workspace --locked --bench workbook` (debug: add `--profile dev`).

use chrono::{DateTime, Duration, Utc};
use heatcrew_office::documents::monthly::{month_range, monthly_workbook};
use heatcrew_office::feedback::{FeedbackRecord, FeedbackStore};
use heatcrew_office::store::{AccountStore, KpiStore, NewUser, SqliteStore};
use heatcrew_protocol::sync::Role;
use heatcrew_protocol::{Customer, Job, JobKind, JobStatus, TemplateRef};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;
use uuid::Uuid;

/// Counts what the workbook writes (the network would take it).
struct Counted(u64);

impl Write for Counted {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn seed(store: &SqliteStore, jobs: u32, month_start: DateTime<Utc>) -> Uuid {
    let tech = store
        .add_user(
            NewUser {
                username: "li.wei".into(),
                password_hash: "x".into(),
                display_name: "李伟".into(),
                role: Role::RepairTechnician,
                badge_no: "RL-0231".into(),
            },
            month_start,
        )
        .expect("a technician");
    store.with_connection(|c| {
        c.execute_batch("PRAGMA synchronous = OFF; BEGIN")
            .expect("begin");
        let mut st = c
            .prepare(
                "INSERT INTO jobs (id, kind, assignee, status, body, created_at, updated_at)
                 VALUES (?1, 'home_repair', ?2, 'open', ?3, ?4, ?4)",
            )
            .expect("prepare");
        for i in 0..jobs {
            let at = month_start + Duration::seconds(i64::from(i) * 20);
            let job = Job {
                id: Uuid::from_u128(u128::from(i) + 1),
                kind: JobKind::HomeRepair,
                template: TemplateRef {
                    id: "home_repair".into(),
                    version: 1,
                },
                title: "暖气不热".into(),
                customer: Some(Customer {
                    name: format!("客户{i}"),
                    phone: format!("138{i:08}"),
                    address: format!("幸福小区{}号楼{}单元", i % 40, i % 6),
                    account_no: format!("RL-{i:07}"),
                }),
                site: None,
                reported_at: Some(at),
                window: None,
                assignee: Some(tech.id),
                street_work: false,
                checkpoints: vec![],
                status: JobStatus::Open,
                utc_offset_minutes: None,
                revision: 1,
            };
            st.execute(rusqlite::params![
                job.id.to_string(),
                tech.id.to_string(),
                serde_json::to_string(&job).expect("json"),
                at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ])
            .expect("insert a job");
        }
        drop(st);
        c.execute_batch("COMMIT").expect("commit");
    });
    for i in 0..jobs {
        let at = month_start + Duration::seconds(i64::from(i) * 20);
        let mut opinions = BTreeMap::new();
        opinions.insert("punctual".to_owned(), "yes".to_owned());
        store
            .save_feedback(
                &FeedbackRecord {
                    job_id: Uuid::from_u128(u128::from(i) + 1),
                    job_kind: "home_repair".into(),
                    title: "暖气不热".into(),
                    staff_id: Some(tech.id),
                    staff_name: "李伟".into(),
                    staff_badge: "RL-0231".into(),
                    customer_name: format!("客户{i}"),
                    customer_phone: format!("138{i:08}"),
                    customer_account: format!("RL-{i:07}"),
                    address: format!("幸福小区{}号楼{}单元", i % 40, i % 6),
                    reported_at: Some(at),
                    arrived_at: Some(at + Duration::minutes(40)),
                    resolved_at: Some(at + Duration::minutes(90 + i64::from(i % 300))),
                    closed_at: at + Duration::minutes(90 + i64::from(i % 300)),
                    result: "resolved".into(),
                    summary: "更换散热器阀门，试水正常".into(),
                    rating: Some((i % 5 + 1) as u8),
                    comment: if i % 97 == 0 {
                        "=HYPERLINK(\"http://x\",\"y\")".into()
                    } else {
                        "师傅很专业，穿了鞋套".into()
                    },
                    opinions,
                },
                at,
            )
            .expect("a feedback record");
    }
    tech.id
}

fn main() {
    // `cargo bench` passes `--bench`; a test run of the benches (`cargo test --benches`) does not.
    let sizes: &[u32] = if std::env::args().any(|a| a == "--bench") {
        &[10_000, 100_000]
    } else {
        &[1_000]
    };
    let month = "2026-11";
    let (start, _) = month_range(month).expect("a month");
    println!("monthly workbook, month {month} (summary + 4 KPI sheets + feedback + jobs sheets)");
    let mut first: Option<(f64, u64)> = None;
    for &n in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("office.db")).expect("store");
        let t = Instant::now();
        seed(&store, n, start);
        // The jobs were written straight into the tables: fold their KPI facts as the office does
        // for jobs stored before the facts existed, so the KPI sheets count every one.
        let folded = store.refresh_kpi_facts(true).expect("kpi facts");
        assert!(folded >= u64::from(n), "every job has its facts: {folded}");
        let seeded = t.elapsed();
        // Reset the high-water mark: what follows is the workbook's alone.
        if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
            println!("(could not reset VmHWM: {e}; peaks include the seeding)");
        }
        let before = status_kib("VmRSS:");
        let t = Instant::now();
        let now = start + Duration::days(40);
        let book = monthly_workbook(&store, month, now).expect("the summary");
        let mut out = Counted(0);
        let stats = book.write(&store, &mut out).expect("the workbook");
        let secs = t.elapsed().as_secs_f64();
        let peak = status_kib("VmHWM:");
        let grew = peak.saturating_sub(before);
        println!(
            "{n:>7} jobs: {secs:>6.2} s  {:>6.1} MiB written  peak RSS {:>6.1} MiB (+{:>5.1} MiB over the {:.1} MiB before)  rows {:?}  (seeded in {:.1} s)",
            out.0 as f64 / 1_048_576.0,
            peak as f64 / 1024.0,
            grew as f64 / 1024.0,
            before as f64 / 1024.0,
            stats.sheets,
            seeded.as_secs_f64(),
        );
        match first {
            None => first = Some((secs, grew)),
            Some((s0, g0)) => println!(
                "ratio to the first size: time ×{:.1}, memory growth ×{:.2} (flat ≈ 1)",
                secs / s0,
                grew as f64 / g0.max(1) as f64
            ),
        }
    }
}
