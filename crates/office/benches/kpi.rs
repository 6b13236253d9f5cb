//! The KPIs of a month over 100,000 jobs (issue 13: answer in ≤ 300 ms), from the per-job facts the
//! push transaction keeps. Seeds a company once (`heatcrew_office::seed`, the same as
//! `heatcrew-office seed`: 100,000 jobs over 30 days, 400,000 events pushed through the store) into
//! `$HEATCREW_KPI_DB` (default `/tmp/heatcrew-kpi-bench.db`, reused when present), then measures
//! `kpi::answer` for the whole month: totals, per crew, per person, the drill-down of a figure, and
//! `kpi::answers` with the workbook's three breakdowns (crew, person, kind) from one pass.
//!
//! ```text
//! cargo bench --workspace --locked --bench kpi
//! ```

use chrono::{Duration, FixedOffset, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use heatcrew_office::kpi::{self, GroupBy, KpiQuery};
use heatcrew_office::seed::{SeedPlan, seed};
use heatcrew_office::store::{AccountStore, KpiStore, SqliteStore};
use std::path::PathBuf;
use std::time::Instant;

const JOBS: u64 = 100_000;

fn store() -> SqliteStore {
    let path = PathBuf::from(
        std::env::var("HEATCREW_KPI_DB").unwrap_or_else(|_| "/tmp/heatcrew-kpi-bench.db".into()),
    );
    if path.exists() {
        return SqliteStore::open(&path).expect("open the seeded database");
    }
    let store = SqliteStore::open(&path).expect("create the database");
    let t = Instant::now();
    let plan = SeedPlan {
        jobs: JOBS,
        events: 4 * JOBS,
        days: 30,
        field_users: 60,
        seed: 13,
        now: Utc::now(),
    };
    let report = seed(&store, &SigningKey::from_bytes(&[13; 32]), &plan).expect("seed");
    // Six crews of the field users, so the per-crew answer has groups.
    let field: Vec<_> = store
        .list_users()
        .expect("users")
        .into_iter()
        .filter(|u| u.username.starts_with("field"))
        .map(|u| u.id)
        .collect();
    for (i, members) in field.chunks(10).enumerate() {
        store
            .add_crew(&format!("维修{}班", i + 1), members, plan.now)
            .expect("a crew");
    }
    println!(
        "seeded {} jobs, {} events in {:.0} s (facts kept in the push transaction)",
        report.jobs,
        report.events,
        t.elapsed().as_secs_f64()
    );
    store
}

fn month(group: GroupBy) -> KpiQuery {
    let today = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("+8"))
        .date_naive();
    KpiQuery {
        from: today - Duration::days(30),
        to: today,
        utc_offset_minutes: 480,
        group,
        kind: None,
        crew: None,
        person: None,
    }
}

fn bench(c: &mut Criterion) {
    let store = store();
    let q = month(GroupBy::None);
    let (_, from, to) = q.bounds().expect("a month");
    let mut facts = 0usize;
    store
        .each_kpi_fact(from, to, &mut |_| {
            facts += 1;
            true
        })
        .expect("facts");
    println!("a month holds {facts} jobs");
    assert!(
        facts as u64 >= JOBS * 9 / 10,
        "the month covers the seeded jobs"
    );
    let now = Utc::now();
    let mut g = c.benchmark_group("kpi_month_100k_jobs");
    g.sample_size(20);
    for (name, group) in [
        ("totals_and_daily_trend", GroupBy::None),
        ("per_crew", GroupBy::Crew),
        ("per_person", GroupBy::Person),
    ] {
        let q = month(group);
        g.bench_function(name, |b| {
            b.iter(|| {
                kpi::answer(&store, &q, now)
                    .expect("answer")
                    .expect("a period")
            })
        });
    }
    g.bench_function("drill_down_timely_repair", |b| {
        b.iter(|| kpi::drill(&store, &q, "timely_repair", now).expect("jobs"))
    });
    // The monthly workbook's KPI sheets: per crew, person and kind from one pass.
    let by = [GroupBy::Crew, GroupBy::Person, GroupBy::Kind];
    g.bench_function("workbook_crew_person_kind_one_pass", |b| {
        b.iter(|| {
            kpi::answers(&store, &q, &by, now)
                .expect("answers")
                .expect("a period")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
