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
use heatcrew_office::chain_cache::ChainCache;
use heatcrew_office::store::{EnrolmentStore, SqliteStore};
use heatcrew_office::{Config, Office};
use rusqlite::Connection;
use std::sync::Arc;
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
    // First loads: a job from the middle of each of as many phones' histories, so each is the
    // first page of its phone since the office started.
    let first_jobs = pick(
        "SELECT (SELECT job_id FROM events e WHERE e.device_id = d.id AND e.device_seq = 1 + d.last_seq / 2)
         FROM devices d WHERE d.last_seq > 0 ORDER BY random() LIMIT ?1",
    );
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
    let first_paths = paths("/api/v1/console/jobs/", &first_jobs);
    let phone_prefixes: Vec<String> = phones
        .iter()
        .map(|p| p[..p.len().min(8)].to_owned())
        .collect();
    // Each page as the console asks for it, in the order a dispatcher's day meets them; the job page
    // twice: a phone's first since the start re-hashes its chain against the signed checkpoint the
    // seed (like `serve`'s start) left, later ones find it verified in memory.
    let pages: Vec<(&str, &str, Vec<String>)> = vec![
        (
            &dispatcher,
            "board (busy day)",
            same(&format!(
                "/api/v1/console/board?date={date}&utc_offset_minutes=480"
            )),
        ),
        (
            &dispatcher,
            "job page, phone's first (checkpoint)",
            first_paths,
        ),
        (&dispatcher, "job page, chains in memory", job_paths),
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
    chain_costs(&db);
}

/// One phone's chain (the busiest) verified the two ways the job page can: every signature (no
/// checkpoint: an office upgraded from before checkpoints, until `serve`'s start has checked it),
/// and re-hashed against its signed checkpoint (a phone's first page after a start).
fn chain_costs(db: &str) {
    let store = SqliteStore::open(std::path::Path::new(db)).expect("open");
    let key = heatcrew_office::office_key::load_or_create(
        &heatcrew_office::office_key::default_path(std::path::Path::new(db)),
        &store,
    )
    .expect("the office key");
    let dev = store
        .list_devices()
        .expect("devices")
        .into_iter()
        .max_by_key(|d| d.last_seq)
        .expect("a device");
    let t = Instant::now();
    let full = ChainCache::default().verdict(&store, &dev).expect("verify");
    let full_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let replay = ChainCache::with_checkpoints(Arc::new(key))
        .verdict(&store, &dev)
        .expect("verify");
    let replay_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "busiest phone's chain ({} events): every signature {full_ms:.0} ms ({} checked); from its checkpoint {replay_ms:.0} ms ({} re-hashed, {} checked)",
        dev.last_seq, full.checked_now, replay.replayed, replay.checked_now
    );
}
