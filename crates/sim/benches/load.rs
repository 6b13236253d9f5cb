//! Load: many devices syncing at once against the office as production runs it: `heatcrew-office
//! serve` child processes (release) on loopback, either ONE process on an SQLite file (the
//! default) or several processes on one PostgreSQL database and one object folder
//! (`PROCESSES=3 BACKEND=postgres`, devices spread over the processes round-robin). Each device is
//! a light protocol client with its own Ed25519 key and pre-sealed patrol readings
//! (`heatcrew_protocol`'s canonical sealing, as the device core does), so the requests are the
//! real ones: challenge + login (argon2 at the office), push, pull.
//!
//! What a device does decides what is measured, in three phases reported apart:
//! 1. **shift start**: every device signs in (challenge + login), all at once or spread over
//!    `SIGNIN_SPREAD_MS`; a device does this once per shift.
//! 2. **sync burst**: the signed-in devices, with their tokens, each push their backlog
//!    (`EVENTS_PER_DEVICE` readings in one request) and then pull, all at once.
//! 3. **idle sync burst**: every device pulls again at once with nothing to push (a periodic sync
//!    of a device with an empty outbox).
//!
//! Prints errors (target 0), p50/p95/p99 latency per request kind and phase (target p99 ≤ 500
//! ms), each office process's peak memory (VmHWM) and the machine load before and after.
//!
//! Run: `cargo build --release -p heatcrew-office && cargo bench -p heatcrew-sim --bench load`;
//! on PostgreSQL: `eval "$(./dev pg)" && PROCESSES=3 BACKEND=postgres cargo bench -p
//! heatcrew-sim --bench load` (a database of its own on `HEATCREW_TEST_PG`, dropped at the end).
//! Env: `DEVICES` (1000), `EVENTS_PER_DEVICE` (20), `SIGNIN_SPREAD_MS` (0 = all at once),
//! `PROCESSES` (1; more only with `BACKEND=postgres`), `BACKEND` (`sqlite` or `postgres`),
//! `OFFICE_BIN` (default: `heatcrew-office` beside this bench's folder), `OFFICE_ARGS` (extra
//! `serve` arguments).
//!
//! A sign-in answered 429 `login_busy` (the office's bound on argon2 work in flight) is retried
//! after its `Retry-After`, as the device does; its latency counts from the first attempt.

use chrono::Utc;
use ed25519_dalek::{Signer, SigningKey};
use heatcrew_core::demo;
use heatcrew_office::storage::{DatabaseUrl, Storage};
use heatcrew_office::store::NewUser;
use heatcrew_office::{Config, Office};
use heatcrew_protocol::sync::{LoginResponse, PushOutcome, PushResponse, Role};
use heatcrew_protocol::{ChainTip, Event, UnsignedEvent};
use heatcrew_testkit::pg::TestDb;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const PASSWORD: &str = "load-password";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Latencies and errors per request kind.
#[derive(Default)]
struct Tally {
    signin: Vec<Duration>,
    push: Vec<Duration>,
    pull: Vec<Duration>,
    /// Pulls of the idle sync burst (phase 3).
    idle_pull: Vec<Duration>,
    errors: Vec<String>,
    busy_retries: usize,
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i].as_secs_f64() * 1000.0
}

/// The office as a child process, killed when dropped.
struct OfficeChild(Child);

impl Drop for OfficeChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn office_bin() -> PathBuf {
    if let Ok(p) = std::env::var("OFFICE_BIN") {
        return p.into();
    }
    // target/release/deps/load-… → target/release/heatcrew-office
    let exe = std::env::current_exe().expect("exe");
    exe.parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("heatcrew-office")
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A device: key, id, user, its pre-sealed backlog.
struct Device {
    id: Uuid,
    key: SigningKey,
    username: String,
    events: Vec<Event>,
}

async fn sign_in(
    http: &reqwest::Client,
    url: &str,
    d: &Device,
    tally: &Mutex<Tally>,
) -> Option<String> {
    let started = Instant::now();
    loop {
        let c: serde_json::Value = match http
            .post(format!("{url}/api/v1/auth/challenge"))
            .json(&json!({"device_id": d.id}))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r.json().await.ok()?,
            Ok(r) => {
                tally
                    .lock()
                    .unwrap()
                    .errors
                    .push(format!("challenge {}", r.status()));
                return None;
            }
            Err(e) => {
                tally.lock().unwrap().errors.push(format!("challenge: {e}"));
                return None;
            }
        };
        let challenge = c["challenge"].as_str()?.to_owned();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&challenge, &mut bytes).ok()?;
        let public = d.key.verifying_key();
        // A new phone: nothing recorded before this sign-in.
        let head = heatcrew_protocol::ChainTip::START;
        let message =
            heatcrew_protocol::log::enrolment_message(&bytes, d.id, &public, &d.username, &head);
        let proof = hex::encode(d.key.sign(&message).to_bytes());
        let r = http
            .post(format!("{url}/api/v1/auth/login"))
            .json(
                &json!({"username": d.username, "password": PASSWORD, "device_id": d.id,
                "device_public_key": hex::encode(public.as_bytes()), "device_name": "load phone",
                "challenge": challenge, "proof": proof, "chain_head": head}),
            )
            .send()
            .await;
        match r {
            Ok(r) if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1);
                tally.lock().unwrap().busy_retries += 1;
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            Ok(r) if r.status().is_success() => {
                let login: LoginResponse = r.json().await.ok()?;
                tally.lock().unwrap().signin.push(started.elapsed());
                return Some(login.access_token);
            }
            Ok(r) => {
                let s = r.status();
                let body = r.text().await.unwrap_or_default();
                tally
                    .lock()
                    .unwrap()
                    .errors
                    .push(format!("login {s}: {body}"));
                return None;
            }
            Err(e) => {
                tally.lock().unwrap().errors.push(format!("login: {e}"));
                return None;
            }
        }
    }
}

/// A pull from the start (`cursor=0`); its latency goes to the pulls of the sync burst or, when
/// `idle`, of the idle burst.
async fn pull(http: &reqwest::Client, url: &str, token: &str, idle: bool, tally: &Mutex<Tally>) {
    let started = Instant::now();
    match http
        .get(format!("{url}/api/v1/sync/pull?cursor=0"))
        .bearer_auth(token)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => {
            let _ = r.bytes().await;
            let mut t = tally.lock().unwrap();
            let v = if idle { &mut t.idle_pull } else { &mut t.pull };
            v.push(started.elapsed());
        }
        Ok(r) => tally
            .lock()
            .unwrap()
            .errors
            .push(format!("pull {}", r.status())),
        Err(e) => tally.lock().unwrap().errors.push(format!("pull: {e}")),
    }
}

async fn sync(http: &reqwest::Client, url: &str, token: &str, d: &Device, tally: &Mutex<Tally>) {
    let started = Instant::now();
    let r = http
        .post(format!("{url}/api/v1/sync/push"))
        .bearer_auth(token)
        .json(&json!({"events": d.events}))
        .send()
        .await;
    let pushed: Option<PushResponse> = match r {
        Ok(r) if r.status().is_success() => r.json().await.ok(),
        Ok(r) => {
            tally
                .lock()
                .unwrap()
                .errors
                .push(format!("push {}", r.status()));
            None
        }
        Err(e) => {
            tally.lock().unwrap().errors.push(format!("push: {e}"));
            None
        }
    };
    let Some(pushed) = pushed else { return };
    tally.lock().unwrap().push.push(started.elapsed());
    let refused = pushed
        .results
        .iter()
        .filter(|r| !matches!(r.outcome, PushOutcome::Accepted) || r.receipt.is_none())
        .count();
    if refused > 0 || pushed.results.len() != d.events.len() {
        tally
            .lock()
            .unwrap()
            .errors
            .push(format!("push: {refused} events not accepted"));
    }
    pull(http, url, token, false, tally).await;
}

/// Where the offices keep their records: one SQLite file, or a PostgreSQL database of the bench's
/// own (dropped at the end) with a key file and an object folder every process shares.
enum Backend {
    Sqlite(PathBuf),
    Postgres {
        db: TestDb,
        key_file: PathBuf,
        objects: PathBuf,
    },
}

impl Backend {
    fn storage(&self) -> Storage {
        match self {
            Backend::Sqlite(db) => Storage::Sqlite(db.clone()),
            Backend::Postgres { db, .. } => {
                Storage::Postgres(DatabaseUrl::parse(&db.url).expect("the test database's url"))
            }
        }
    }

    /// The office the bench prepares users and jobs through, as `serve` opens it.
    fn open(&self) -> Office {
        match self {
            Backend::Sqlite(db) => Office::open(Config::new(db)).expect("office"),
            Backend::Postgres {
                key_file, objects, ..
            } => {
                let storage = self.storage();
                let config = storage.config(
                    key_file.clone(),
                    heatcrew_office::objects::Location::Folder(objects.clone()),
                );
                Office::open_on(&storage, config).expect("office on PostgreSQL")
            }
        }
    }

    /// `serve`'s storage arguments.
    fn args(&self) -> Vec<String> {
        match self {
            Backend::Sqlite(db) => vec!["--db".into(), db.display().to_string()],
            Backend::Postgres {
                db,
                key_file,
                objects,
            } => vec![
                "--database".into(),
                db.url.clone(),
                "--key-file".into(),
                key_file.display().to_string(),
                "--objects".into(),
                objects.display().to_string(),
            ],
        }
    }
}

/// Start one `heatcrew-office serve` child on a free port; its pid and URL.
fn start_office(bin: &std::path::Path, backend: &Backend) -> (OfficeChild, u32, String) {
    let mut args = vec![
        "serve".to_owned(),
        "--listen".to_owned(),
        "127.0.0.1:0".to_owned(),
    ];
    args.extend(backend.args());
    if let Ok(extra) = std::env::var("OFFICE_ARGS") {
        args.extend(extra.split_whitespace().map(str::to_owned));
    }
    let mut child = Command::new(bin)
        .args(&args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the office");
    let stdout = child.stdout.take().expect("stdout");
    let pid = child.id();
    let child = OfficeChild(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the office prints its address")
            .expect("read");
        if let Some(at) = line.find("listening on ") {
            break line[at + "listening on ".len()..].trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, pid, url)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let devices = env("DEVICES", if quick { 20 } else { 1000 });
    let per_device = env("EVENTS_PER_DEVICE", 20);
    let spread = Duration::from_millis(env("SIGNIN_SPREAD_MS", 0) as u64);
    let processes = env("PROCESSES", 1).max(1);
    let postgres = match std::env::var("BACKEND").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("BACKEND={other}: sqlite or postgres"),
    };
    assert!(
        postgres || processes == 1,
        "PROCESSES={processes} needs BACKEND=postgres: one SQLite file has one office process"
    );
    let bin = office_bin();
    if !bin.is_file() {
        println!(
            "load: no office binary at {} (cargo build --release -p heatcrew-office, or OFFICE_BIN); skipped",
            bin.display()
        );
        return;
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
    let backend = if postgres {
        let Some(db) = TestDb::create() else {
            println!(
                "load: BACKEND=postgres without HEATCREW_TEST_PG (eval \"$(./dev pg)\"); skipped"
            );
            return;
        };
        Backend::Postgres {
            db,
            key_file: dir.path().join("office-key"),
            objects: dir.path().join("files"),
        }
    } else {
        Backend::Sqlite(dir.path().join("office.db"))
    };

    // Users and their patrol jobs, written through the storage the offices serve before they
    // start (one argon2 hash for all).
    let prepared = Instant::now();
    let mut fleet = Vec::with_capacity(devices);
    {
        let office = backend.open();
        let hash = heatcrew_office::api::auth::hash_password(PASSWORD).expect("hash");
        for i in 0..devices {
            let username = format!("load{i:04}");
            let user = office
                .store()
                .add_user(
                    NewUser {
                        username: username.clone(),
                        password_hash: hash.clone(),
                        display_name: "压测".into(),
                        role: Role::Patrol,
                        badge_no: format!("L{i:04}"),
                    },
                    Utc::now(),
                )
                .expect("user");
            let job = demo::patrol_job(Some(user.id));
            office
                .store()
                .create_job(job.clone(), Utc::now())
                .expect("job");
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let id = Uuid::now_v7();
            let body = demo::normal_readings(&job.checkpoints[0], 0.0);
            let (kind, payload) = body.to_parts();
            let mut tip = ChainTip::START;
            let events = (0..per_device)
                .map(|_| {
                    let e = UnsignedEvent {
                        id: Uuid::now_v7(),
                        device_id: id,
                        device_seq: tip.seq + 1,
                        job_id: job.id,
                        kind: kind.clone(),
                        payload: payload.clone(),
                        recorded_at: Utc::now(),
                        elapsed_ms: tip.seq * 1000,
                        prev_hash: tip.hash,
                        format: heatcrew_protocol::Format::V2,
                    }
                    .seal(&key);
                    tip = ChainTip {
                        seq: e.seq(),
                        hash: e.hash,
                    };
                    e
                })
                .collect();
            fleet.push(Device {
                id,
                key,
                username,
                events,
            });
        }
    }
    println!(
        "load: {devices} users, jobs and devices prepared in {:.1} s",
        prepared.elapsed().as_secs_f64()
    );

    let offices: Vec<(OfficeChild, u32, String)> = (0..processes)
        .map(|_| start_office(&bin, &backend))
        .collect();
    let urls: Arc<Vec<String>> = Arc::new(offices.iter().map(|o| o.2.clone()).collect());
    let load_before = loadavg();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let tally = Arc::new(Mutex::new(Tally::default()));
    let fleet = Arc::new(fleet);
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(devices)
            .timeout(Duration::from_secs(300))
            .build()
            .expect("client");
        // Device i talks to process i mod N (a round-robin load balancer, sticky per device).
        let url_of = |i: usize| urls[i % urls.len()].clone();
        // Phase 1, shift start: every device signs in (spread over SIGNIN_SPREAD_MS).
        let started = Instant::now();
        let tasks: Vec<_> = (0..devices)
            .map(|i| {
                let (http, url, fleet, tally) =
                    (http.clone(), url_of(i), fleet.clone(), tally.clone());
                let delay = spread.mul_f64(i as f64 / devices.max(1) as f64);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    sign_in(&http, &url, &fleet[i], &tally).await
                })
            })
            .collect();
        let mut tokens = Vec::with_capacity(devices);
        for t in tasks {
            tokens.push(t.await.expect("join"));
        }
        let signin_s = started.elapsed().as_secs_f64();
        let signed_in: Vec<(usize, String)> = tokens
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|t| (i, t)))
            .collect();
        // The shift has started; the sign-ins' work is over before the devices sync.
        tokio::time::sleep(Duration::from_secs(1)).await;
        // Phase 2, sync burst: every signed-in device pushes its backlog and pulls, all at once.
        let started = Instant::now();
        let tasks: Vec<_> = signed_in
            .iter()
            .cloned()
            .map(|(i, token)| {
                let (http, url, fleet, tally) =
                    (http.clone(), url_of(i), fleet.clone(), tally.clone());
                tokio::spawn(async move { sync(&http, &url, &token, &fleet[i], &tally).await })
            })
            .collect();
        for t in tasks {
            t.await.expect("join");
        }
        let sync_s = started.elapsed().as_secs_f64();
        // Phase 3, idle sync burst: every device pulls again at once, nothing to push.
        let started = Instant::now();
        let tasks: Vec<_> = signed_in
            .iter()
            .cloned()
            .map(|(i, token)| {
                let (http, url, tally) = (http.clone(), url_of(i), tally.clone());
                tokio::spawn(async move { pull(&http, &url, &token, true, &tally).await })
            })
            .collect();
        for t in tasks {
            t.await.expect("join");
        }
        let idle_s = started.elapsed().as_secs_f64();
        let load_after = loadavg();
        let mut guard = tally.lock().unwrap();
        let t: &mut Tally = &mut guard;
        println!(
            "load: {devices} devices x {per_device} events, {processes} office process(es) on {} ({})",
            if postgres { "PostgreSQL" } else { "SQLite" },
            bin.display()
        );
        println!(
            "  errors:   {} (target 0){}",
            t.errors.len(),
            t.errors
                .first()
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        );
        println!(
            "  shift start: {} sign-ins in {signin_s:.1} s (spread {} ms, {} login_busy retries)",
            t.signin.len(),
            spread.as_millis(),
            t.busy_retries
        );
        println!(
            "  sync burst:  {} pushes of {per_device} events + pulls in {sync_s:.1} s",
            t.push.len()
        );
        println!(
            "  idle burst:  {} pulls in {idle_s:.1} s",
            t.idle_pull.len()
        );
        for (name, v) in [
            ("sign-in", &mut t.signin),
            ("push", &mut t.push),
            ("pull", &mut t.pull),
            ("idle pull", &mut t.idle_pull),
        ] {
            println!(
                "  {name:<9} p50 {:>7.0} ms  p95 {:>7.0} ms  p99 {:>7.0} ms (target p99 <= 500 ms)",
                pct(v, 0.50),
                pct(v, 0.95),
                pct(v, 0.99)
            );
        }
        let hwm: Vec<String> = offices
            .iter()
            .map(|(_, pid, _)| {
                vm_hwm_kib(*pid).map_or("?".into(), |k| format!("{:.0}", k as f64 / 1024.0))
            })
            .collect();
        println!(
            "  office peak memory (VmHWM) per process: {} MiB",
            hwm.join(", ")
        );
        println!("  machine load (1/5/15 min): before {load_before}, after {load_after}");
    });
    // The offices stop before their database is dropped.
    drop(offices);
    drop(backend);
}
