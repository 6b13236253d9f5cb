//! Load: many devices syncing at once against ONE office process (`heatcrew-office serve`, release,
//! a child process as in production) on loopback. Each device is a light protocol client with its
//! own Ed25519 key and pre-sealed patrol readings (`heatcrew_protocol`'s canonical sealing, as the
//! device core does), so the requests are the real ones: challenge + login (argon2 at the office),
//! push, pull. Prints errors (target 0), p50/p95/p99 latency per request kind (target p99 ≤ 500 ms)
//! and the office's peak memory (VmHWM of the child).
//!
//! Run: `cargo build --release -p heatcrew-office && cargo bench -p heatcrew-sim --bench load`
//! (env `DEVICES` (1000), `EVENTS_PER_DEVICE` (20), `SIGNIN_SPREAD_MS` (sign-ins spread evenly over
//! this long; 0 = all at once), `OFFICE_BIN` (default: `heatcrew-office` beside this bench's
//! folder), `OFFICE_ARGS` (extra `serve` arguments, e.g. `--database postgres://…` once serving
//! PostgreSQL exists)).
//!
//! A sign-in answered 429 `login_busy` (the office's bound on argon2 work in flight) is retried
//! after its `Retry-After`, as the device does; its latency counts from the first attempt.

use chrono::Utc;
use ed25519_dalek::{Signer, SigningKey};
use heatcrew_core::demo;
use heatcrew_office::store::NewUser;
use heatcrew_office::{Config, Office};
use heatcrew_protocol::sync::{LoginResponse, PushOutcome, PushResponse, Role};
use heatcrew_protocol::{ChainTip, Event, UnsignedEvent};
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
        let message = heatcrew_protocol::log::enrolment_message(&bytes, d.id, &public, &d.username);
        let proof = hex::encode(d.key.sign(&message).to_bytes());
        let r = http
            .post(format!("{url}/api/v1/auth/login"))
            .json(
                &json!({"username": d.username, "password": PASSWORD, "device_id": d.id,
                "device_public_key": hex::encode(public.as_bytes()), "device_name": "load phone",
                "challenge": challenge, "proof": proof}),
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
    let started = Instant::now();
    match http
        .get(format!("{url}/api/v1/sync/pull?cursor=0"))
        .bearer_auth(token)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => {
            let _ = r.bytes().await;
            tally.lock().unwrap().pull.push(started.elapsed());
        }
        Ok(r) => tally
            .lock()
            .unwrap()
            .errors
            .push(format!("pull {}", r.status())),
        Err(e) => tally.lock().unwrap().errors.push(format!("pull: {e}")),
    }
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let devices = env("DEVICES", if quick { 20 } else { 1000 });
    let per_device = env("EVENTS_PER_DEVICE", 20);
    let spread = Duration::from_millis(env("SIGNIN_SPREAD_MS", 0) as u64);
    let bin = office_bin();
    if !bin.is_file() {
        println!(
            "load: no office binary at {} (cargo build --release -p heatcrew-office, or OFFICE_BIN); skipped",
            bin.display()
        );
        return;
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
    let db = dir.path().join("office.db");

    // Users and their patrol jobs, written before the office serves (one argon2 hash for all).
    let prepared = Instant::now();
    let mut fleet = Vec::with_capacity(devices);
    {
        let office = Office::open(Config::new(&db)).expect("office");
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

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut args = vec![
        "serve".to_owned(),
        "--db".to_owned(),
        db.display().to_string(),
        "--listen".to_owned(),
        format!("127.0.0.1:{port}"),
    ];
    if let Ok(extra) = std::env::var("OFFICE_ARGS") {
        args.extend(extra.split_whitespace().map(str::to_owned));
    }
    let mut child = Command::new(&bin)
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
        // Phase 1: every device signs in (spread over SIGNIN_SPREAD_MS).
        let started = Instant::now();
        let tasks: Vec<_> = (0..devices)
            .map(|i| {
                let (http, url, fleet, tally) =
                    (http.clone(), url.clone(), fleet.clone(), tally.clone());
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
        // Phase 2: every signed-in device pushes its backlog and pulls, all at once.
        let started = Instant::now();
        let tasks: Vec<_> = tokens
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|t| (i, t)))
            .map(|(i, token)| {
                let (http, url, fleet, tally) =
                    (http.clone(), url.clone(), fleet.clone(), tally.clone());
                tokio::spawn(async move { sync(&http, &url, &token, &fleet[i], &tally).await })
            })
            .collect();
        for t in tasks {
            t.await.expect("join");
        }
        let sync_s = started.elapsed().as_secs_f64();
        let mut guard = tally.lock().unwrap();
        let t: &mut Tally = &mut guard;
        let hwm = vm_hwm_kib(pid).map_or(f64::NAN, |k| k as f64 / 1024.0);
        println!(
            "load: {devices} devices x {per_device} events, one office process ({})",
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
            "  sign-in:  {} in {signin_s:.1} s (spread {} ms, {} login_busy retries)",
            t.signin.len(),
            spread.as_millis(),
            t.busy_retries
        );
        println!("  sync:     {} pushes in {sync_s:.1} s", t.push.len());
        for (name, v) in [
            ("sign-in", &mut t.signin),
            ("push", &mut t.push),
            ("pull", &mut t.pull),
        ] {
            println!(
                "  {name:<8} p50 {:>7.0} ms  p95 {:>7.0} ms  p99 {:>7.0} ms (target p99 <= 500 ms)",
                pct(v, 0.50),
                pct(v, 0.95),
                pct(v, 0.99)
            );
        }
        println!("  office peak memory (VmHWM): {hwm:.0} MiB");
    });
    drop(child);
}
