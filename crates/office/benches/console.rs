//! Every console page's API against a big database, p50 and p95 per page (target p95 ≤ 300 ms).
//!
//! ```text
//! heatcrew-office seed --jobs 100000 --events 1000000 --database /tmp/scale.db
//! cargo bench -p heatcrew-office --bench console -- --database /tmp/scale.db
//! ```
//!
//! The office runs in this process on a loopback port, on the seeded file, and is asked over HTTP
//! exactly what the console asks: the board of the busy day (today, China time), job pages of
//! random jobs (first loads, when the office verifies each phone's chain, then loads again with the
//! chains cached), customer lookups by phone and by account prefix, users, devices, outages and the
//! first audit page. `--samples N` per page (default 40).

use chrono::{FixedOffset, Utc};
use heatcrew_office::{Config, Office};
use rusqlite::Connection;
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn measure(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
    paths: &[String],
) -> Duration {
    let mut times = Vec::with_capacity(paths.len());
    let mut bytes = 0usize;
    for path in paths {
        let t = Instant::now();
        let resp = client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("the office answers");
        let status = resp.status();
        let body = resp.bytes().await.expect("a body");
        times.push(t.elapsed());
        assert!(status.is_success(), "{path}: {status} {body:?}");
        bytes += body.len();
    }
    times.sort();
    let p95 = percentile(&times, 0.95);
    println!(
        "{name:<34} n={:<4} p50 {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms  {:>8} bytes/answer{}",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        bytes / paths.len().max(1),
        if p95 > Duration::from_millis(300) {
            "  OVER 300 ms"
        } else {
            ""
        }
    );
    p95
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let Some(db) = arg("--database") else {
        eprintln!(
            "usage: cargo bench -p heatcrew-office --bench console -- --database FILE [--samples N]"
        );
        eprintln!(
            "(seed FILE first: heatcrew-office seed --jobs 100000 --events 1000000 --database FILE)"
        );
        return;
    };
    let samples: usize = arg("--samples").and_then(|s| s.parse().ok()).unwrap_or(40);
    let sql = Connection::open(&db).expect("the seeded database opens");
    let count = |q: &str| -> i64 { sql.query_row(q, [], |r| r.get(0)).expect("a count") };
    println!(
        "database {db}: {} jobs, {} events, {} devices, {} users",
        count("SELECT COUNT(*) FROM jobs"),
        count("SELECT COUNT(*) FROM events"),
        count("SELECT COUNT(*) FROM devices"),
        count("SELECT COUNT(*) FROM users")
    );
    let pick = |q: &str| -> Vec<String> {
        let mut st = sql.prepare(q).expect("query");
        st.query_map([samples as i64], |r| r.get::<_, String>(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let jobs = pick("SELECT id FROM jobs ORDER BY random() LIMIT ?1");
    let phones = pick(
        "SELECT customer_phone FROM jobs WHERE customer_phone IS NOT NULL ORDER BY random() LIMIT ?1",
    );
    let accounts = pick(
        "SELECT substr(customer_account, 1, 6) FROM jobs WHERE customer_account IS NOT NULL ORDER BY random() LIMIT ?1",
    );
    drop(sql);

    let office = Office::open(Config::new(&db)).expect("the office opens the seeded database");
    let running = office.spawn("127.0.0.1:0").await.expect("bind loopback");
    let base = running.url();
    let client = reqwest::Client::new();
    let login = |user: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let resp: serde_json::Value = client
                .post(format!("{base}/api/v1/auth/staff-login"))
                .json(&serde_json::json!({"username": user, "password": heatcrew_office::seed::SEED_PASSWORD}))
                .send()
                .await
                .expect("login answers")
                .json()
                .await
                .expect("login json");
            resp["access_token"]
                .as_str()
                .expect("a token (was the database seeded?)")
                .to_owned()
        }
    };
    let dispatcher = login("dispatcher1").await;
    let admin = login("admin1").await;
    let today = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive();
    let date = arg("--date").unwrap_or_else(|| today.to_string());
    let same = |p: &str| vec![p.to_owned(); samples];
    let paths = |prefix: &str, keys: &[String]| -> Vec<String> {
        keys.iter().map(|k| format!("{prefix}{k}")).collect()
    };
    let job_paths = paths("/api/v1/console/jobs/", &jobs);
    let phone_prefixes: Vec<String> = phones
        .iter()
        .map(|p| p[..p.len().min(8)].to_owned())
        .collect();
    // Each page as the console asks for it, in the order a dispatcher's day meets them; the job page
    // twice: first loads verify each phone's chain, later ones find it cached.
    let pages: Vec<(&str, &str, Vec<String>)> = vec![
        (
            &dispatcher,
            "board (busy day)",
            same(&format!(
                "/api/v1/console/board?date={date}&utc_offset_minutes=480"
            )),
        ),
        (&dispatcher, "job page, first loads", job_paths.clone()),
        (&dispatcher, "job page, chains cached", job_paths),
        (
            &dispatcher,
            "customer lookup (phone prefix)",
            paths("/api/v1/console/customers?phone=", &phone_prefixes),
        ),
        (
            &dispatcher,
            "customer lookup (account prefix)",
            paths("/api/v1/console/customers?account=", &accounts),
        ),
        (&dispatcher, "users", same("/api/v1/console/users")),
        (&dispatcher, "devices", same("/api/v1/devices")),
        (&dispatcher, "outages", same("/api/v1/outages")),
        (&admin, "audit (first page)", same("/api/v1/console/audit")),
    ];
    let mut worst = Duration::ZERO;
    for (token, name, paths) in &pages {
        worst = worst.max(measure(&client, &base, token, name, paths).await);
    }
    println!(
        "worst p95: {:.1} ms (target ≤ 300 ms)",
        worst.as_secs_f64() * 1e3
    );
    running.stop().await;
}
