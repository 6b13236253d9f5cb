//! Push ingest at the office: 50 devices pushing their backlogs at once over loopback, versus a
//! raw batched insert of the same rows on the same backend in the same run (target ratio ≥ 0.5),
//! on SQLite (same disk) and on PostgreSQL (`HEATCREW_TEST_PG`, a database of its own; skipped
//! with a message when unset); and how many requests one device needs for a 10,000-event backlog
//! (target ≤ 10).
//!
//! Two ingest figures, each on devices of its own: **office ingest**, the push requests (each
//! device's backlog, serialised before the clock starts) sent at once and answered, which is what
//! the office does per event (parse, check every signature and chain link, store, log, sign a
//! receipt, answer); and **device sync**, each device's whole `sync_once` (its outbox read, the
//! push, every receipt checked and stored on the phone, then a pull), which adds the phones' own
//! work on the same cores. The ratio to the raw insert is the office's. Beside them, the ceiling
//! the signatures alone set on this machine: every event's Ed25519 check and its receipt's Ed25519
//! signature on all cores, nothing else; and the ceiling of any design at all (each event's own
//! check plus the raw insert's CPU for its row, on all cores, measured as CPU time).
//!
//! Run: `cargo bench -p heatcrew-sim --bench push` (env `DEVICES`, `EVENTS_PER_DEVICE`, `BACKLOG`).

use heatcrew_core::Store;
use heatcrew_core::demo;
use heatcrew_core::sync::{self, Syncer};
use heatcrew_office::store::PgStore;
use heatcrew_office::{Config, Office};
use heatcrew_protocol::Event;
use heatcrew_protocol::sync::Role;
use heatcrew_testkit::pg::TestDb;
use rusqlite::{Connection, params};
use std::sync::{Arc, Mutex};
use std::time::Instant;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A user and a patrol job for them at the office (before it serves).
fn crew(office: &Office, i: usize) -> (String, heatcrew_protocol::Job) {
    let username = format!("bench{i:03}");
    let user = office
        .add_user(&username, "bench-password", Role::Patrol, "压测", "B")
        .expect("user");
    let job = demo::patrol_job(Some(user.id));
    office
        .store()
        .create_job(job.clone(), chrono::Utc::now())
        .expect("job");
    (username, job)
}

/// A device signed in at the office with `events` patrol readings recorded offline.
async fn device_with_backlog(
    url: &str,
    dir: &std::path::Path,
    i: usize,
    (username, job): &(String, heatcrew_protocol::Job),
    events: usize,
) -> Arc<Mutex<Store>> {
    let store = Arc::new(Mutex::new(
        Store::open(dir.join(format!("d{i}.db"))).expect("device"),
    ));
    sync::login(&store, url, username, "bench-password")
        .await
        .expect("login");
    Syncer::new(store.clone()).sync_once().await.expect("pull");
    let cp = &job.checkpoints[0];
    let body = demo::normal_readings(cp, 0.0);
    {
        let mut s = store.lock().expect("lock");
        for _ in 0..events {
            s.record(job.id, body.clone()).expect("record");
        }
    }
    store
}

/// The calling thread's CPU time so far, user and system, in seconds (`/proc/thread-self/stat`, in
/// ticks of 1/100 s on Linux): what this thread did, whatever the process's other threads do.
fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat");
    // The fields after the command name (which may hold spaces) in its parentheses.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..]
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields[i].parse::<u64>().expect("ticks");
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// A lower bound on the CPU seconds of this thread that `work` costs per item (it handles `n`
/// items a run): runs it until at least half a second of CPU has gone, and takes one tick off
/// what was counted.
fn cpu_per_event(n: usize, mut work: impl FnMut(usize)) -> f64 {
    let start = thread_cpu_seconds();
    let mut runs = 0;
    while runs == 0 || thread_cpu_seconds() - start < 0.5 {
        work(runs);
        runs += 1;
    }
    ((thread_cpu_seconds() - start - 0.01).max(0.0)) / (n * runs) as f64
}

/// The same rows, inserted raw in batches of 1000 (one transaction per batch, as a push is).
fn raw_insert(path: &std::path::Path, events: &[Event]) -> f64 {
    let conn = Connection::open(path).expect("raw db");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    conn.execute_batch(
        "CREATE TABLE events (device_id TEXT, device_seq INTEGER, id TEXT UNIQUE, job_id TEXT, kind TEXT,
            payload TEXT, recorded_at TEXT, elapsed_ms INTEGER, prev_hash BLOB, hash BLOB, sig BLOB,
            PRIMARY KEY (device_id, device_seq))",
    )
    .expect("table");
    let started = Instant::now();
    let mut conn = conn;
    for batch in events.chunks(1000) {
        let tx = conn.transaction().expect("tx");
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .expect("stmt");
            for e in batch {
                let u = &e.unsigned;
                stmt.execute(params![
                    u.device_id.to_string(),
                    u.device_seq as i64,
                    u.id.to_string(),
                    u.job_id.to_string(),
                    u.kind,
                    u.payload.to_string(),
                    u.recorded_at.to_rfc3339(),
                    u.elapsed_ms as i64,
                    u.prev_hash.0.to_vec(),
                    e.hash.0.to_vec(),
                    e.sig.to_vec()
                ])
                .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    events.len() as f64 / started.elapsed().as_secs_f64()
}

/// The same rows into PostgreSQL, raw, in batches of 1000: one multi-row insert and one commit per
/// batch (the fastest plain way there is, short of COPY). Connected as the office connects (the
/// same TLS, if the server offers it), so the two pay the same for the wire.
fn raw_insert_pg(url: &str, events: &[Event]) -> f64 {
    let mut c = heatcrew_office::store::postgres::PgTarget::parse(url)
        .expect("address")
        .connect()
        .expect("connect");
    let tls: bool = c
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("pg_stat_ssl")
        .get(0);
    println!(
        "PostgreSQL connections: {} (the office's and the raw insert's alike)",
        if tls { "TLS" } else { "plain TCP" }
    );
    c.batch_execute(
        "CREATE TABLE raw_events (device_id TEXT, device_seq BIGINT, id TEXT UNIQUE, job_id TEXT, kind TEXT,
            payload TEXT, recorded_at TEXT, elapsed_ms BIGINT, prev_hash BYTEA, hash BYTEA, sig BYTEA,
            PRIMARY KEY (device_id, device_seq))",
    )
    .expect("table");
    let started = Instant::now();
    for batch in events.chunks(1000) {
        let col = |f: &dyn Fn(&Event) -> String| batch.iter().map(f).collect::<Vec<_>>();
        let dev = col(&|e| e.unsigned.device_id.to_string());
        let seq: Vec<i64> = batch.iter().map(|e| e.unsigned.device_seq as i64).collect();
        let id = col(&|e| e.unsigned.id.to_string());
        let job = col(&|e| e.unsigned.job_id.to_string());
        let kind = col(&|e| e.unsigned.kind.clone());
        let payload = col(&|e| e.unsigned.payload.to_string());
        let at = col(&|e| e.unsigned.recorded_at.to_rfc3339());
        let ms: Vec<i64> = batch.iter().map(|e| e.unsigned.elapsed_ms as i64).collect();
        let prev: Vec<Vec<u8>> = batch
            .iter()
            .map(|e| e.unsigned.prev_hash.0.to_vec())
            .collect();
        let hash: Vec<Vec<u8>> = batch.iter().map(|e| e.hash.0.to_vec()).collect();
        let sig: Vec<Vec<u8>> = batch.iter().map(|e| e.sig.to_vec()).collect();
        let mut tx = c.transaction().expect("tx");
        tx.execute(
            "INSERT INTO raw_events SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[],
                $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::BIGINT[], $9::BYTEA[], $10::BYTEA[], $11::BYTEA[])",
            &[&dev, &seq, &id, &job, &kind, &payload, &at, &ms, &prev, &hash, &sig],
        )
        .expect("insert");
        tx.commit().expect("commit");
    }
    events.len() as f64 / started.elapsed().as_secs_f64()
}

/// The ceiling the signatures alone set: each event's Ed25519 check at the office (with its hash
/// recomputed, as [`Event::verify`] does) and the Ed25519 signature of its receipt, on every core
/// of this machine, and nothing else (no parsing, no storage, no network). Events per second.
fn signatures_alone(events: &[(ed25519_dalek::VerifyingKey, Event)]) -> f64 {
    use heatcrew_protocol::log::{LogLeaf, Receipt};
    let office = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let now = chrono::Utc::now();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for chunk in events.chunks(events.len().div_ceil(cores).max(1)) {
            let office = &office;
            scope.spawn(move || {
                for (i, (key, e)) in chunk.iter().enumerate() {
                    e.verify(key).expect("a good event");
                    let leaf = LogLeaf {
                        device_id: e.unsigned.device_id,
                        device_seq: e.seq(),
                        event_hash: e.hash,
                        accepted: true,
                    };
                    std::hint::black_box(Receipt::sign(office, &leaf, i as u64, now));
                }
            });
        }
    });
    events.len() as f64 / started.elapsed().as_secs_f64()
}

/// The ceiling of ANY design on this machine, whatever it does about parsing, storage or receipts:
/// each event's own Ed25519 check (with its hash, as [`Event::verify`] does) and the raw insert's
/// work for its row both have to happen, so no more events per second go through than the cores
/// can do both for. Both are measured as the CPU time of the threads doing them, less a tick (the
/// cheapest of the cores' checks; the insert as `insert_cpu` measured it): lower bounds, so the
/// ceiling is an upper bound.
fn any_design_ceiling(
    events: &[(ed25519_dalek::VerifyingKey, Event)],
    insert_cpu: f64,
) -> (f64, f64) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Every core checks its share over and over, each thread timing its own CPU.
    let per_thread: Vec<f64> = std::thread::scope(|scope| {
        let workers: Vec<_> = events
            .chunks(events.len().div_ceil(cores).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    cpu_per_event(chunk.len(), |_| {
                        for (key, e) in chunk {
                            e.verify(key).expect("a good event");
                        }
                    })
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("checker"))
            .collect()
    });
    let verify_cpu = per_thread.iter().copied().fold(f64::INFINITY, f64::min);
    (cores as f64 / (verify_cpu + insert_cpu), verify_cpu)
}

/// The office's side of a push alone: each store's pending events as one push request body (serialised
/// now, before the clock starts), posted at once with the device's token; returns the events/s from
/// the first request sent to the last answer read, after checking every event was accepted.
async fn office_ingest(url: &str, stores: &[Arc<Mutex<Store>>]) -> (usize, f64) {
    let http = reqwest::Client::new();
    let requests: Vec<(String, Vec<u8>, usize)> = stores
        .iter()
        .map(|s| {
            let s = s.lock().expect("lock");
            let token = s
                .session()
                .expect("session")
                .expect("signed in")
                .access_token;
            let events = s.pending_push(usize::MAX, usize::MAX).expect("events");
            let n = events.len();
            let body =
                serde_json::to_vec(&heatcrew_protocol::sync::PushRequest { events }).expect("json");
            (token, body, n)
        })
        .collect();
    let started = Instant::now();
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(token, body, n)| {
            let req = http
                .post(format!("{url}/api/v1/sync/push"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body);
            tokio::spawn(async move {
                let resp = req.send().await.expect("push sent");
                assert!(
                    resp.status().is_success(),
                    "push answered {}",
                    resp.status()
                );
                (resp.bytes().await.expect("push answer"), n)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("join"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut pushed = 0;
    for (bytes, n) in answers {
        let resp: heatcrew_protocol::sync::PushResponse =
            serde_json::from_slice(&bytes).expect("push response");
        assert_eq!(resp.results.len(), n);
        for r in &resp.results {
            assert!(
                matches!(r.outcome, heatcrew_protocol::sync::PushOutcome::Accepted)
                    && r.receipt.is_some(),
                "every event stored with a receipt: {r:?}"
            );
        }
        pushed += n;
    }
    (pushed, pushed as f64 / elapsed)
}

/// `devices` devices with `per_device` events each push at once to `office` (served on loopback);
/// then `raw` inserts the same rows. Prints both rates and their ratio; then the backlog test.
async fn ingest(
    name: &str,
    office: Office,
    dir: &std::path::Path,
    (devices, per_device, backlog): (usize, usize, usize),
    raw: impl FnOnce(&[Event]) -> (f64, f64),
) {
    let crews: Vec<_> =
        tokio::task::block_in_place(|| (0..=2 * devices).map(|i| crew(&office, i)).collect());
    let running = office.spawn("127.0.0.1:0").await.expect("serve");
    let url = running.url();
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).expect("device dir");
    let dir = dir.as_path();

    // Two sets of devices, each with its own crew member and job: the office's side alone, then
    // the devices' whole sync.
    let mut office_side = Vec::new();
    let mut stores = Vec::new();
    for (i, c) in crews.iter().take(2 * devices).enumerate() {
        let store = device_with_backlog(&url, dir, i, c, per_device).await;
        if i < devices {
            office_side.push(store);
        } else {
            stores.push(store);
        }
    }
    let keyed: Vec<(ed25519_dalek::VerifyingKey, Event)> = office_side
        .iter()
        .flat_map(|s| {
            let s = s.lock().expect("lock");
            let key = s.public_key();
            s.pending_push(usize::MAX, usize::MAX)
                .expect("events")
                .into_iter()
                .map(move |e| (key, e))
        })
        .collect();
    let all: Vec<Event> = keyed.iter().map(|(_, e)| e.clone()).collect();

    let (office_pushed, ingest) = office_ingest(&url, &office_side).await;
    assert_eq!(office_pushed, all.len(), "every event was accepted");

    let started = Instant::now();
    let tasks: Vec<_> = stores
        .iter()
        .map(|s| {
            let syncer = Syncer::new(s.clone());
            tokio::spawn(async move { syncer.sync_once().await.expect("push") })
        })
        .collect();
    let mut pushed = 0;
    for t in tasks {
        pushed += t.await.expect("join").pushed;
    }
    let device_sync = pushed as f64 / started.elapsed().as_secs_f64();
    assert_eq!(pushed as usize, all.len(), "every event was accepted");
    let (raw, insert_cpu) = raw(&all);
    println!(
        "push ingest on {name}, {devices} devices x {per_device} events at once over loopback:"
    );
    println!("  office ingest:     {ingest:>10.0} events/s (the push requests alone)");
    println!("  raw {name} insert: {raw:>10.0} events/s (batches of 1000)");
    println!(
        "  ratio:             {:>10.3} (target >= 0.5)",
        ingest / raw
    );
    let ceiling = signatures_alone(&keyed);
    println!(
        "  signatures alone:  {ceiling:>10.0} events/s ({:.3} of the raw insert: the office's Ed25519 check and receipt per event on all cores, nothing else; ingest cannot pass it)",
        ceiling / raw
    );
    println!("  ingest / that:     {:>10.3}", ingest / ceiling);
    let (bound, verify_cpu) = any_design_ceiling(&keyed, insert_cpu);
    println!(
        "  any design:        {bound:>10.0} events/s ({:.3} of the raw insert): each event's own Ed25519 check ({:.1} µs CPU) and its raw insert ({:.1} µs CPU{}) on all cores; no receipts, parsing or network. 0.5 needs about: check CPU <= (2 x cores - 1) x insert CPU",
        bound / raw,
        verify_cpu * 1e6,
        insert_cpu * 1e6,
        if name == "SQLite" {
            ""
        } else {
            " in this process; the server's is not counted"
        }
    );
    println!(
        "  device sync:       {device_sync:>10.0} events/s ({:.3} of the raw insert: each phone's whole sync, receipts checked and stored, on the same cores)",
        device_sync / raw
    );

    let big = device_with_backlog(&url, dir, 2 * devices, &crews[2 * devices], backlog).await;
    let started = Instant::now();
    let report = Syncer::new(big).sync_once().await.expect("push backlog");
    println!(
        "backlog of {backlog} events from one device on {name}: {} push requests, {:.2} s (target <= 10 requests)",
        report.push_requests,
        started.elapsed().as_secs_f64()
    );
    running.stop().await;
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let sizes = (
        env("DEVICES", if quick { 3 } else { 50 }),
        env("EVENTS_PER_DEVICE", if quick { 20 } else { 200 }),
        env("BACKLOG", if quick { 1500 } else { 10_000 }),
    );
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let office = Office::open(Config::new(dir.path().join("office.db"))).expect("office");
        let raw_db = dir.path().join("raw.db");
        ingest("SQLite", office, dir.path(), sizes, |all| {
            let rate = raw_insert(&raw_db, all);
            // The insert's CPU per row: the same insert again on fresh files beside it.
            let cpu = cpu_per_event(all.len(), |run| {
                raw_insert(&dir.path().join(format!("raw-cpu-{run}.db")), all);
            });
            (rate, cpu)
        })
        .await;

        // PostgreSQL: the office's store and the raw table each in a database of their own.
        // (The synchronous PostgreSQL client runs a runtime of its own: not on this one's threads.)
        use tokio::task::block_in_place as blocking;
        let (Some(office_db), Some(raw_db)) = blocking(|| (TestDb::create(), TestDb::create()))
        else {
            println!(
                "push ingest on PostgreSQL: skipped (set HEATCREW_TEST_PG, e.g. by `./dev pg`)"
            );
            return;
        };
        // The last handle on the store is dropped off the runtime's threads, at the end.
        let store = blocking(|| {
            std::sync::Arc::new(PgStore::open(&office_db.url).expect("PostgreSQL store"))
        });
        let office = blocking(|| {
            Office::with_store(Config::new(dir.path().join("pg-office.db")), store.clone())
                .expect("office on PostgreSQL")
        });
        ingest("PostgreSQL", office, dir.path(), sizes, |all| {
            // The client's share of the insert's CPU is next to nothing: the ceiling below is
            // the checks' alone there.
            (blocking(|| raw_insert_pg(&raw_db.url, all)), 0.0)
        })
        .await;
        blocking(move || drop((store, office_db, raw_db)));
    });
}
