//! Time to record one field action durably versus a bare one-row commit on the same kind of
//! connection (SQLCipher-encrypted, WAL, `synchronous=FULL`) on the same disk in the same run.
//! Every record is timed alone and followed by one bare commit, so disk noise hits both alike.
//!
//! 1. **A field day**: realistic jobs, a visit's or a round's worth of actions each (home repair
//!    visits with photos and signatures, a heat-theft inspection, a patrol round), replayed action
//!    by action from a day recorded by `demo::field_day`.
//! 2. **One long job**: `SAMPLES` readings on one patrol job; the first and the last quarter are
//!    compared, so a cost that grows with what the job already holds shows as a ratio above 1.
//! 3. **The disk and SQLCipher**: a bare one-row commit on a plain connection against the same on an
//!    encrypted one (the cost of encryption at rest, issue 11).
//!
//! 4. **Pages per action**: the write-ahead log's frames one action adds, against a bare commit's
//!    (each page is encrypted, authenticated and written before the one fsync).
//!
//! Target: record p95 ≤ 1.1× the encrypted bare commit's p95. Prints the machine's load beside the
//! figures: only ratios measured within one run count.
//!
//! The same run repeats 1, 2 and 4 on tmpfs (`WORK_DIR`, default `/dev/shm`; `WORK_DIR=` skips it),
//! where a commit costs no disk: the work an action costs on its own, printed at the end as a
//! fraction of the disk's own bare commit (on a loaded machine nobody gets a quiet disk, so that
//! fraction is the figure that says how close to the disk's speed recording is), and the work
//! beyond a bare commit's as the fastest disk commit it stays within 1.1x of.
//!
//! Run: `cargo bench --workspace --bench record` (env `SAMPLES`, default 400; `VISITS`, default 20;
//! `BENCH_DIR`, default under the target directory, the disk a real database would be on).

use heatcrew_core::Store;
use heatcrew_core::demo;
use heatcrew_protocol::EventBody;
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use uuid::Uuid;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn p50_p95(samples: &[Duration]) -> (Duration, Duration) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    (percentile(&sorted, 0.50), percentile(&sorted, 0.95))
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// A one-table database for bare one-row commits, with the store's journal settings; encrypted
/// with a raw 32-byte key as the device database is (`crate::cipher`), or plain.
struct Bare {
    conn: Connection,
    payload: String,
}

impl Bare {
    fn open(path: &Path, encrypted: bool, payload: &str) -> Bare {
        let conn = Connection::open(path).expect("bare db");
        if encrypted {
            let key: [u8; 32] = rand::random();
            conn.pragma_update(None, "key", format!("x'{}'", hex::encode(key)))
                .expect("key");
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("wal");
        conn.pragma_update(None, "synchronous", "FULL")
            .expect("full");
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
            .expect("table");
        let cipher: Option<String> = conn
            .query_row("PRAGMA cipher_version", [], |r| r.get(0))
            .ok();
        assert!(cipher.is_some(), "SQLCipher is linked");
        Bare {
            conn,
            payload: payload.to_owned(),
        }
    }

    fn commit(&self) -> Duration {
        let t = Instant::now();
        self.conn
            .execute("INSERT INTO t (payload) VALUES (?1)", params![self.payload])
            .expect("insert");
        t.elapsed()
    }
}

/// Each `record` timed, each followed by one timed bare commit.
#[derive(Default)]
struct Run {
    ours: Vec<Duration>,
    bare: Vec<Duration>,
    /// Each record's class (see [`class`]) and the WAL frames it added (when counted).
    classes: Vec<&'static str>,
    frames: Vec<f64>,
}

/// What an action writes beyond its event: a file reference (photo, signature, door photo), or
/// nothing else.
fn class(body: &EventBody) -> &'static str {
    if !body.attachments().is_empty() {
        "with a file"
    } else if body.is_urgent() {
        "urgent"
    } else {
        "plain"
    }
}

impl Run {
    fn record(&mut self, store: &mut Store, bare: &Bare, job: Uuid, body: EventBody) {
        let class = class(&body);
        let t = Instant::now();
        store.record(job, body).expect("record");
        self.ours.push(t.elapsed());
        self.bare.push(bare.commit());
        self.classes.push(class);
    }

    /// Per class of action: how many, p50 and p95 against the bare commits that followed them,
    /// and the pages each wrote (if counted).
    fn print_classes(&self) {
        let mut names: Vec<&str> = self.classes.clone();
        names.sort();
        names.dedup();
        for name in names {
            let pick = |v: &[Duration]| -> Vec<Duration> {
                v.iter()
                    .zip(&self.classes)
                    .filter(|(_, c)| **c == name)
                    .map(|(d, _)| *d)
                    .collect()
            };
            let (o50, o95) = p50_p95(&pick(&self.ours));
            let (b50, b95) = p50_p95(&pick(&self.bare));
            let n = self.classes.iter().filter(|c| **c == name).count();
            let pages: Vec<f64> = self
                .frames
                .iter()
                .zip(&self.classes)
                .filter(|(_, c)| **c == name)
                .map(|(f, _)| *f)
                .collect();
            let pages = if pages.is_empty() {
                String::new()
            } else {
                format!(
                    ", pages {:.2}",
                    pages.iter().sum::<f64>() / pages.len() as f64
                )
            };
            println!(
                "    {name:<12} {n:>4}: p50 {o50:>10.3?} ({:.2}x)  p95 {o95:>10.3?} ({:.2}x){pages}",
                ratio(o50, b50),
                ratio(o95, b95)
            );
        }
    }

    fn print(&self, title: &str) {
        let (o50, o95) = p50_p95(&self.ours);
        let (b50, b95) = p50_p95(&self.bare);
        println!("{title}, {} records:", self.ours.len());
        println!("  heatcrew record:        p50 {o50:>10.3?}  p95 {o95:>10.3?}");
        println!("  bare encrypted commit:  p50 {b50:>10.3?}  p95 {b95:>10.3?}");
        println!(
            "  ratio:                  p50 {:.2}x  p95 {:.2}x  (target p95 <= 1.1x)",
            ratio(o50, b50),
            ratio(o95, b95)
        );
    }
}

/// The actions of a field day, recorded on a scratch device: its office jobs, then each action's
/// job and body in order, with the files they name copied into `into`. The demo draws the same
/// pictures for every visit (the same photo of each step, the same signature); a camera never
/// does, so each file is made distinct (its last bytes numbered) and its action names the copy:
/// every photo and signature then writes its `attachments` row, as in the field.
fn field_day_actions(dir: &Path, visits: usize, into: &mut Store) -> Vec<(Uuid, EventBody)> {
    let mut scratch = Store::open(dir.join("scratch.db")).expect("scratch");
    demo::field_day(&mut scratch, &mut demo::generated_png, visits).expect("field day");
    for job in scratch.jobs().expect("jobs") {
        into.add_office_job(&job.job).expect("job");
    }
    let mut actions = Vec::new();
    let mut files = 0u64;
    for e in scratch.events().expect("events") {
        let kind = &e.unsigned.kind;
        let body = EventBody::from_parts(kind, &e.unsigned.payload).expect("body");
        let mut payload = serde_json::to_string(&e.unsigned.payload).expect("json");
        for a in body.attachments() {
            let mut bytes = scratch.files().read(&a.sha256).expect("file");
            files += 1;
            let at = bytes.len().saturating_sub(8);
            bytes.truncate(at);
            bytes.extend_from_slice(&files.to_le_bytes());
            let copy = into.files().put(&bytes).expect("copy file");
            payload = payload.replace(&a.sha256.to_hex(), &copy.to_hex());
        }
        let payload = serde_json::from_str(&payload).expect("json");
        let body = EventBody::from_parts(kind, &payload).expect("body");
        actions.push((e.unsigned.job_id, body));
    }
    actions
}

/// What one pass on one directory measured.
struct Pass {
    day: Run,
    long: Run,
    bare: Vec<Duration>,
    plain: Vec<Duration>,
    pages: (f64, f64),
}

/// The write-ahead log's frames: its size less its header, in frames of a page and a 24-byte header.
fn wal_frames(db: &Path, conn: &Connection) -> f64 {
    // SQLCipher answers `page_size` as its `cipher_page_size`, in text.
    let page: u64 = conn
        .query_row("PRAGMA page_size", [], |r| {
            Ok(match r.get::<_, rusqlite::types::Value>(0)? {
                rusqlite::types::Value::Integer(n) => n as u64,
                rusqlite::types::Value::Text(t) => t.parse().unwrap_or(4096),
                _ => 4096,
            })
        })
        .expect("page size");
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let len = std::fs::metadata(PathBuf::from(wal)).map_or(0, |m| m.len());
    len.saturating_sub(32) as f64 / (page + 24) as f64
}

/// Checkpoints off and the write-ahead log emptied, to count the frames the next commits add.
fn wal_emptied(conn: &Connection) {
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .expect("no checkpoint");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
}

/// The frames `n` commits added since [`wal_emptied`], per commit; checkpoints on again.
fn frames_per_commit(db: &Path, conn: &Connection, n: usize) -> f64 {
    let frames = wal_frames(db, conn);
    conn.pragma_update(None, "wal_autocheckpoint", 1000)
        .expect("checkpoints again");
    frames / n as f64
}

/// The same field day replayed on a fresh store with checkpoints off: the WAL frames each action
/// adds (untimed: reading the WAL's size is not free).
fn field_day_pages(dir: &Path, visits: usize) -> Vec<f64> {
    let path = dir.join("pages.db");
    let mut store = Store::open(&path).expect("store");
    let scratch = dir.join("pages-scratch");
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let actions = field_day_actions(&scratch, visits, &mut store);
    wal_emptied(store.connection());
    let mut frames = Vec::with_capacity(actions.len());
    let mut before = wal_frames(&path, store.connection());
    for (job, body) in actions {
        store.record(job, body).expect("record");
        let after = wal_frames(&path, store.connection());
        frames.push(after - before);
        before = after;
    }
    frames
}

fn pass(base: &str, samples: usize, visits: usize) -> Pass {
    let dir = tempfile::tempdir_in(base).expect("temp dir");
    println!(
        "== databases in {base}; machine load (1, 5, 15 min) at start: {}",
        load()
    );

    let patrol = demo::patrol_job(None);
    let reading = demo::normal_readings(&patrol.checkpoints[0], 0.0);
    let payload = serde_json::to_string(&reading).expect("json");
    let bare_path = dir.path().join("bare-encrypted.db");
    let encrypted = Bare::open(&bare_path, true, &payload);
    let plain = Bare::open(&dir.path().join("bare-plain.db"), false, &payload);

    // 1. A field day of realistic jobs.
    let store_path = dir.path().join("device.db");
    let mut store = Store::open(&store_path).expect("store");
    let actions = field_day_actions(dir.path(), visits, &mut store);
    for _ in 0..10 {
        encrypted.commit();
        plain.commit();
    }
    let mut day = Run::default();
    for (job, body) in actions {
        day.record(&mut store, &encrypted, job, body);
    }
    day.print(&format!(
        "a field day ({visits} home repair visits, an inspection, a patrol round), one action each"
    ));
    day.frames = field_day_pages(dir.path(), visits);
    day.print_classes();

    // 2. One long job.
    store.add_office_job(&patrol).expect("job");
    let mut long = Run::default();
    for _ in 0..samples {
        long.record(&mut store, &encrypted, patrol.id, reading.clone());
    }
    long.print(&format!(
        "one long job: {samples} readings on one patrol job"
    ));
    let quarter = (samples / 4).max(1);
    let (first50, first95) = p50_p95(&long.ours[..quarter]);
    let (last50, last95) = p50_p95(&long.ours[samples - quarter..]);
    println!(
        "  last vs first {quarter} records of the job: p50 {:.2}x  p95 {:.2}x  (independent of the job's size: ~1x)",
        ratio(last50, first50),
        ratio(last95, first95)
    );

    // 3. The disk's own commit, plain and encrypted.
    let (mut p, mut e) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
    for _ in 0..samples {
        p.push(plain.commit());
        e.push(encrypted.commit());
    }
    let (p50, p95) = p50_p95(&p);
    let (e50, e95) = p50_p95(&e);
    println!("the disk's own one-row commit (WAL, synchronous=FULL), {samples} each, interleaved:");
    println!("  plain SQLite:           p50 {p50:>10.3?}  p95 {p95:>10.3?}");
    println!("  SQLCipher (encrypted):  p50 {e50:>10.3?}  p95 {e95:>10.3?}");
    println!(
        "  encrypted vs plain:     p50 {:.2}x  p95 {:.2}x  (the cost of encryption at rest)",
        ratio(e50, p50),
        ratio(e95, p95)
    );

    // 4. Pages written per action.
    let n = 50;
    wal_emptied(store.connection());
    for _ in 0..n {
        store.record(patrol.id, reading.clone()).expect("record");
    }
    let ours = frames_per_commit(&store_path, store.connection(), n);
    wal_emptied(&encrypted.conn);
    for _ in 0..n {
        encrypted.commit();
    }
    let bare = frames_per_commit(&bare_path, &encrypted.conn, n);
    println!(
        "pages written per commit (WAL frames, {n} each): a reading {ours:.2}, a bare one-row commit {bare:.2}"
    );
    println!("machine load (1, 5, 15 min) at end: {}", load());
    Pass {
        day,
        long,
        bare: e,
        plain: p,
        pages: (ours, bare),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a short smoke then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let env = |name: &str, full: usize, smoke: usize| -> usize {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(if quick { smoke } else { full })
    };
    let samples = env("SAMPLES", 400, 20);
    let visits = env("VISITS", 20, 2);
    // Same disk as where a real database would live: under the target directory, not tmpfs.
    let base = std::env::var("BENCH_DIR").unwrap_or_else(|_| env!("CARGO_TARGET_TMPDIR").into());
    let work = std::env::var("WORK_DIR").unwrap_or_else(|_| "/dev/shm".into());
    let disk = pass(&base, samples, visits);
    if work.is_empty() || work == base || !Path::new(&work).is_dir() {
        return;
    }
    let alone = pass(&work, samples, visits);

    // The work alone beside the disk's own commit: each record against the bare commits that
    // followed each record in the same pass (the disk as it was at that moment).
    println!("== summary: the disk ({base}) beside the work alone ({work})");
    for (name, on_disk, on_tmpfs) in [
        ("field day", &disk.day, &alone.day),
        ("long job ", &disk.long, &alone.long),
    ] {
        let (d50, d95) = p50_p95(&on_disk.ours);
        let (b50, b95) = p50_p95(&on_disk.bare);
        let (w50, w95) = p50_p95(&on_tmpfs.ours);
        let (t50, t95) = p50_p95(&on_tmpfs.bare);
        println!(
            "  {name}: the disk's bare encrypted commit p50 {b50:.3?} p95 {b95:.3?}; record on disk p50 {d50:.3?} ({:.2}x) p95 {d95:.3?} ({:.2}x)",
            ratio(d50, b50),
            ratio(d95, b95)
        );
        println!(
            "             work alone (tmpfs) p50 {w50:.3?} = {:.2} of the disk's commit, p95 {w95:.3?} = {:.2}  (a bare commit's own work: p50 {t50:.3?}, p95 {t95:.3?})",
            ratio(w50, b50),
            ratio(w95, b95)
        );
        // Recording costs the disk's commit plus its work beyond a bare commit's: within 1.1x
        // only of a disk whose commit takes at least ten times that extra work.
        let extra = w50.saturating_sub(t50);
        println!(
            "             work beyond a bare commit's (tmpfs, p50) {extra:.3?}: p50 within 1.1x only of a disk whose commit takes >= {:.3?}",
            extra * 10
        );
    }
    let (p50, _) = p50_p95(&disk.plain);
    let (e50, _) = p50_p95(&disk.bare);
    println!(
        "  the disk's own commit alone: encrypted p50 {e50:.3?}, plain p50 {p50:.3?};  pages per commit: a reading {:.2}, a bare commit {:.2}",
        disk.pages.0, disk.pages.1
    );
}
