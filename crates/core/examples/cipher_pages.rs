//! SQLCipher's CPU per 4 KiB page on this machine, its default HMAC-SHA512 against HMAC-SHA256
//! (docs/design.md, "What is left"): the experiment that decides whether re-encrypting every
//! device database with `cipher_hmac_algorithm = HMAC_SHA256` is worth it. On tmpfs (no disk),
//! the two settings interleaved in one run, best of `ROUNDS`: writing 4,000 pages in one
//! transaction (each page encrypted, authenticated, given a random IV) and reading them back cold
//! (each page checked and decrypted).
//!
//! Run: `cargo build --workspace --release --examples && target/release/examples/cipher_pages`
//! (env `WORK_DIR`, default `/dev/shm`; `ROUNDS`, default 6).

use rusqlite::Connection;
use std::path::Path;
use std::time::Instant;

/// A connection keyed as the device database is (a raw 32-byte key), with `hmac` and its KDF.
fn open(path: &Path, key: &str, hmac: &str) -> Connection {
    let c = Connection::open(path).expect("open");
    c.pragma_update(None, "key", key).expect("key");
    c.pragma_update(None, "cipher_hmac_algorithm", hmac)
        .expect("hmac");
    let kdf = hmac.replace("HMAC_", "PBKDF2_HMAC_");
    c.pragma_update(None, "cipher_kdf_algorithm", kdf)
        .expect("kdf");
    c
}

/// µs per page written and read with `hmac`.
fn round(dir: &Path, name: &str, key: &str, hmac: &str) -> (f64, f64) {
    let path = dir.join(name);
    let c = open(&path, key, hmac);
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.pragma_update(None, "synchronous", "FULL").expect("full");
    c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)")
        .expect("table");
    let blob = vec![0x5au8; 3500];
    let t = Instant::now();
    c.execute_batch("BEGIN").expect("begin");
    for _ in 0..4000 {
        c.execute("INSERT INTO t (b) VALUES (?1)", [&blob])
            .expect("insert");
    }
    c.execute_batch("COMMIT").expect("commit");
    let write = t.elapsed();
    drop(c);
    let c = open(&path, key, hmac);
    let t = Instant::now();
    let bytes: i64 = c
        .query_row("SELECT sum(length(b)) FROM t", [], |r| r.get(0))
        .expect("read");
    let read = t.elapsed();
    assert_eq!(bytes, 4000 * 3500);
    let pages: i64 = c
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .expect("pages");
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / pages as f64;
    (per(write), per(read))
}

fn main() {
    let work = std::env::var("WORK_DIR").unwrap_or_else(|_| "/dev/shm".into());
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let dir = tempfile::tempdir_in(&work).expect("temp dir");
    let key = format!("x'{}'", hex::encode(rand::random::<[u8; 32]>()));
    let algorithms = ["HMAC_SHA512", "HMAC_SHA256"];
    let mut best = [(f64::MAX, f64::MAX); 2];
    for r in 0..rounds {
        for (i, hmac) in algorithms.iter().enumerate() {
            let (w, rd) = round(dir.path(), &format!("{hmac}-{r}.db"), &key, hmac);
            best[i] = (best[i].0.min(w), best[i].1.min(rd));
        }
    }
    for (hmac, (w, r)) in algorithms.iter().zip(best) {
        println!("{hmac}: write {w:.2} µs/page, read {r:.2} µs/page (best of {rounds})");
    }
    println!(
        "HMAC_SHA256 saves {:.2} µs per page written, {:.2} µs per page read",
        best[0].0 - best[1].0,
        best[0].1 - best[1].1
    );
}
