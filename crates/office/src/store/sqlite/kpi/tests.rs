//! The facts' table after migration 19 (clustered on the anchor), the streaming read, and the
//! answers and drill-down folded from it, on a real SQLite database.

use super::super::{MIGRATIONS, SqliteStore, migrate};
use super::{FACT_COLUMNS, ms};
use crate::kpi::figures::{CLOSURE, TIMELY_REPAIR};
use crate::kpi::{self, DRILL_LIMIT, GroupBy, KpiAnswer, KpiQuery};
use crate::store::{AccountStore, KpiStore, NewUser};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use heatcrew_protocol::sync::Role;
use rusqlite::{Connection, params};
use uuid::Uuid;

const INSERT: &str = "INSERT OR REPLACE INTO job_facts (job_id, kind, title, person, anchor_at,
    reported_at, window_start, window_end, arrived_at, resolution, closed_at, rating, cancelled,
    counted, conforming) VALUES (?1, ?2, '暖气不热', ?3, ?4, ?4, NULL, NULL, NULL, ?5, ?6, NULL, 0, 1, 1)";

/// A job row (what the facts refer to); nothing here reads its body.
const JOB: &str = "INSERT INTO jobs (id, kind, status, body, created_at, updated_at)
    VALUES (?1, 'home_repair', 'open', '{}', 't', 't')";

#[test]
fn migration_19_keeps_every_fact_and_reads_a_period_as_one_range_in_anchor_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut conn = Connection::open(dir.path().join("office.db")).expect("open");
    for sql in &MIGRATIONS[..18] {
        conn.execute_batch(sql).expect("older migration");
    }
    conn.pragma_update(None, "user_version", 18)
        .expect("version");
    for (id, anchor) in [("c", 30), ("a", 10), ("b", 20)] {
        conn.execute(JOB, [id]).expect("a job");
        conn.execute(
            INSERT,
            params![
                id,
                "home_repair",
                None::<String>,
                anchor,
                None::<String>,
                None::<i64>
            ],
        )
        .expect("a fact stored before migration 19");
    }
    migrate(&mut conn).expect("migrate");
    let read = |conn: &Connection| -> Vec<(String, i64)> {
        conn.prepare("SELECT job_id, anchor_at FROM job_facts WHERE anchor_at >= 0 ORDER BY anchor_at, job_id")
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(
        read(&conn),
        [("a".into(), 10), ("b".into(), 20), ("c".into(), 30)]
    );
    // The answers' query walks the table's own key: no index-then-table lookups, no sort.
    let plan: Vec<String> = conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN SELECT {FACT_COLUMNS} FROM job_facts
             WHERE anchor_at >= ?1 AND anchor_at < ?2 ORDER BY anchor_at, job_id"
        ))
        .expect("plan")
        .query_map([0, 100], |r| r.get::<_, String>(3))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        plan,
        ["SEARCH job_facts USING PRIMARY KEY (anchor_at>? AND anchor_at<?)"]
    );
    // A job whose anchor moves keeps one row (job_id is still unique), at its new place.
    conn.execute(
        INSERT,
        params![
            "a",
            "home_repair",
            None::<String>,
            40,
            None::<String>,
            None::<i64>
        ],
    )
    .expect("refold");
    assert_eq!(
        read(&conn),
        [("b".into(), 20), ("c".into(), 30), ("a".into(), 40)]
    );
}

/// 2026-12-01 00:00 in China.
fn day0() -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .expect("+8")
        .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .expect("a time")
        .with_timezone(&Utc)
}

fn query(group: GroupBy) -> KpiQuery {
    KpiQuery {
        from: NaiveDate::from_ymd_opt(2026, 12, 1).expect("day"),
        to: NaiveDate::from_ymd_opt(2026, 12, 3).expect("day"),
        utc_offset_minutes: 480,
        group,
        kind: None,
        crew: None,
        person: None,
    }
}

fn figure(a: &KpiAnswer, key: &str) -> (u64, u64) {
    let f = a.figures.iter().find(|f| f.key == key).expect(key);
    (f.numerator, f.denominator)
}

/// 700 repairs over three days by two technicians (one in two crews): every third resolved within
/// 4 h, every third 6 h after the report, the rest not closed (all due at `now`).
#[test]
fn a_period_is_folded_as_read_once_for_every_breakdown_and_the_drill_keeps_the_first_500() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("office.db")).expect("store");
    let user = |name: &str| {
        store
            .add_user(
                NewUser {
                    username: name.into(),
                    password_hash: "x".into(),
                    display_name: name.into(),
                    role: Role::RepairTechnician,
                    badge_no: name.into(),
                },
                day0(),
            )
            .expect("a technician")
            .id
    };
    let (li, wang) = (user("li"), user("wang"));
    store.add_crew("一班", &[li], day0()).expect("crew");
    store.add_crew("二班", &[li, wang], day0()).expect("crew");
    let n = 700;
    store.with_connection(|c| {
        for i in 0..n {
            let id = Uuid::from_u128(i + 1).to_string();
            let at = day0() + Duration::minutes(i as i64 * 6);
            let person = if i % 2 == 0 { li } else { wang };
            let (res, closed) = match i % 3 {
                0 => (Some("resolved"), Some(ms(at + Duration::hours(1)))),
                1 => (Some("resolved"), Some(ms(at + Duration::hours(6)))),
                _ => (None, None),
            };
            c.execute(JOB, [&id]).expect("a job");
            c.execute(
                INSERT,
                params![id, "home_repair", person.to_string(), ms(at), res, closed],
            )
            .expect("its facts");
        }
    });
    let now = day0() + Duration::days(10);
    let (_, start, end) = query(GroupBy::None).bounds().expect("a period");

    let mut seen = Vec::new();
    store
        .each_kpi_fact(start, end, &mut |f| {
            seen.push(f.anchor_at);
            seen.len() < 5
        })
        .expect("read");
    assert_eq!(seen.len(), 5, "reading stops when the fold says so");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in anchor order");

    let [crew, person, kind]: [KpiAnswer; 3] = kpi::answers(
        &store,
        &query(GroupBy::None),
        &[GroupBy::Crew, GroupBy::Person, GroupBy::Kind],
        now,
    )
    .expect("answers")
    .expect("a period")
    .try_into()
    .expect("three answers");
    let timely = (n as u64).div_ceil(3);
    assert_eq!(figure(&crew, TIMELY_REPAIR), (timely, n as u64));
    assert_eq!(figure(&crew, CLOSURE).1, n as u64);
    let groups = |a: &KpiAnswer| -> Vec<(String, u64)> {
        a.groups
            .iter()
            .map(|g| (g.label.clone(), g.figures[1].denominator))
            .collect()
    };
    let half = n as u64 / 2;
    assert_eq!(
        groups(&crew),
        [("一班".into(), half), ("二班".into(), n as u64)],
        "a person in two crews counts in both"
    );
    assert_eq!(
        groups(&person),
        [("li".into(), half), ("wang".into(), half)]
    );
    assert_eq!(groups(&kind), [("home_repair".into(), n as u64)]);
    for (a, by) in [(&crew, GroupBy::Crew), (&person, GroupBy::Person)] {
        let alone = kpi::answer(&store, &query(by), now)
            .expect("answer")
            .expect("a period");
        assert_eq!(
            serde_json::to_value(a).expect("json"),
            serde_json::to_value(&alone).expect("json"),
            "one pass for three breakdowns answers as one answer each"
        );
    }
    assert_eq!(
        crew.trend
            .iter()
            .map(|d| d.figures[1].denominator)
            .sum::<u64>(),
        n as u64,
        "every job on its day"
    );
    assert_eq!(
        crew.trend[0].figures[1].denominator, 240,
        "a day of 6-minute reports"
    );

    let jobs = kpi::drill(&store, &query(GroupBy::None), TIMELY_REPAIR, now)
        .expect("drill")
        .expect("a period");
    assert_eq!(jobs.len(), DRILL_LIMIT);
    let against = n as usize - timely as usize;
    assert!(
        jobs[..against].iter().all(|j| !j.in_numerator)
            && jobs[against..].iter().all(|j| j.in_numerator),
        "those counting against the figure first"
    );
    assert!(
        jobs[..against]
            .windows(2)
            .all(|w| w[0].anchor_at < w[1].anchor_at)
            && jobs[against..]
                .windows(2)
                .all(|w| w[0].anchor_at < w[1].anchor_at),
        "then by time"
    );
    assert_eq!(
        jobs[against].job_id,
        Uuid::from_u128(1),
        "the earliest job in B is the first listed after those against"
    );
}
