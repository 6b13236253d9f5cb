//! Time to record one field action durably versus a bare one-row SQLite commit with
//! `synchronous=FULL` on the same disk in the same run. Prints p50/p95 of each and their ratio
//! (target: p95 ratio ≤ 1.5).
//!
//! Run: `cargo bench -p heatcrew-core --bench record` (env `SAMPLES`, default 400).

use heatcrew_core::Store;
use heatcrew_core::demo;
use rusqlite::{Connection, params};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a short smoke then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let samples: usize = std::env::var("SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 20 } else { 400 });
    // Same disk as where a real database would live: under the target directory, not tmpfs.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");

    let bare = Connection::open(dir.path().join("bare.db")).expect("bare db");
    bare.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    bare.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    bare.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .expect("table");

    let mut store = Store::open(dir.path().join("device.db")).expect("store");
    let job = demo::patrol_job(None);
    store.add_office_job(&job).expect("job");
    let cp = &job.checkpoints[0];
    let body = demo::normal_readings(cp, 0.0);
    let payload = serde_json::to_string(&body).expect("json");

    // Warm up both, then interleave so that disk noise hits both sides alike.
    for _ in 0..10 {
        store.record(job.id, body.clone()).expect("record");
        bare.execute("INSERT INTO t (payload) VALUES (?1)", params![payload])
            .expect("insert");
    }
    let (mut ours, mut theirs) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
    for _ in 0..samples {
        let t = Instant::now();
        store.record(job.id, body.clone()).expect("record");
        ours.push(t.elapsed());
        let t = Instant::now();
        bare.execute("INSERT INTO t (payload) VALUES (?1)", params![payload])
            .expect("insert");
        theirs.push(t.elapsed());
    }
    ours.sort();
    theirs.sort();
    let (o50, o95) = (percentile(&ours, 0.50), percentile(&ours, 0.95));
    let (b50, b95) = (percentile(&theirs, 0.50), percentile(&theirs, 0.95));
    println!(
        "record one action (signed event + outbox + projection, one commit), {samples} samples:"
    );
    println!("  heatcrew record: p50 {o50:>10.3?}  p95 {o95:>10.3?}");
    println!("  bare commit:     p50 {b50:>10.3?}  p95 {b95:>10.3?}");
    println!(
        "  ratio:           p50 {:.2}x  p95 {:.2}x  (target p95 <= 1.5x)",
        o50.as_secs_f64() / b50.as_secs_f64(),
        o95.as_secs_f64() / b95.as_secs_f64()
    );
}
