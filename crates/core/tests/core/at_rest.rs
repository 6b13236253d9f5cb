//! The device database encrypted at rest (issue 11, point 5): what a copied file reveals, what a
//! copy without its key or with a wrong one does, plain databases converted in place, and a crash
//! at every step of that conversion.

use super::*;
use base64::Engine;
use heatcrew_core::cipher::{self, Step};
use heatcrew_core::keys::{FileVault, KeyVault, Secret};
use heatcrew_core::sync::Session;
use heatcrew_protocol::sync::{Role, UserInfo};

fn technician() -> UserInfo {
    UserInfo {
        id: Uuid::now_v7(),
        username: "wang.wei".into(),
        display_name: "王伟".into(),
        role: Role::RepairTechnician,
        badge_no: "TJ-0042".into(),
    }
}

/// A session with tokens no other bytes could match by chance.
fn session() -> Session {
    Session {
        office_url: "https://office.example".into(),
        access_token: format!("hc_at_{}", Uuid::new_v4().simple()),
        // Whole milliseconds, as the database keeps times.
        access_expires_at: chrono::SubsecRound::trunc_subsecs(Utc::now() + Duration::hours(1), 3),
        refresh_token: format!("hc_rt_{}", Uuid::new_v4().simple()),
        user: technician(),
        device_code: "D07".into(),
    }
}

/// `<db>`, `<db>-wal` and `<db>-shm`, those that exist, with their names.
fn database_files(db: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            let name = format!("db{suffix}");
            std::fs::read(PathBuf::from(p)).ok().map(|b| (name, b))
        })
        .collect()
}

/// Every way `text` could sit in a file: UTF-8, UTF-16LE/BE, GBK, hex (either case) and base64
/// (standard and URL-safe, at each of the three alignments a surrounding text could give it).
fn encodings(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let utf8 = text.as_bytes().to_vec();
    let mut out = vec![
        ("utf-8", utf8.clone()),
        (
            "utf-16le",
            text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        ),
        (
            "utf-16be",
            text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        ),
        ("gbk", encoding_rs::GBK.encode(text).0.into_owned()),
        ("hex", hex::encode(&utf8).into_bytes()),
        ("HEX", hex::encode_upper(&utf8).into_bytes()),
    ];
    for (name, engine) in [
        ("base64", base64::engine::general_purpose::STANDARD),
        ("base64url", base64::engine::general_purpose::URL_SAFE),
    ] {
        for align in 0..3usize {
            let mut framed = vec![0u8; align];
            framed.extend_from_slice(&utf8);
            let enc = engine.encode(&framed);
            // Only the characters made of the text's own bits, whatever surrounds it.
            let from = (8 * align).div_ceil(6);
            let to = 8 * framed.len() / 6;
            out.push((name, enc.as_bytes()[from..to].to_vec()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(haystack, needle).is_some()
}

/// Shorter encodings are not looked for: a two-character name is 4 bytes in UTF-16 or GBK, and
/// ciphertext holds any given 4 bytes about once per 4 GiB, so a few MiB of encrypted pages and
/// dozens of such needles give a chance hit every few dozen runs (seen once: the UTF-16LE of 赵强
/// in the WAL, nothing leaked). Six bytes (the UTF-8 of any two Chinese characters) make a chance
/// hit once per 2^48 bytes per needle.
const MIN_NEEDLE_BYTES: usize = 6;

/// Each needle found in each file, in each encoding: "file: encoding of needle".
fn leaks(files: &[(String, Vec<u8>)], needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for needle in needles {
        for (encoding, bytes) in encodings(needle) {
            if bytes.len() < MIN_NEEDLE_BYTES {
                continue;
            }
            for (file, data) in files {
                if contains(data, &bytes) {
                    found.push(format!("{file}: {encoding} of {needle:?}"));
                }
            }
        }
    }
    found
}

/// Every customer name, phone, address and account number of the jobs, and every name and phone
/// the events carry (witnesses, signers), read back through the store.
fn customer_data(store: &Store) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    if let (true, Some(s)) = (
                        matches!(k.as_str(), "name" | "phone" | "address" | "account_no"),
                        v.as_str(),
                    ) {
                        out.push(s.to_owned());
                    }
                    walk(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let jobs: Vec<String> = store
        .connection()
        .prepare("SELECT job FROM jobs")
        .expect("jobs")
        .query_map([], |r| r.get(0))
        .expect("jobs")
        .collect::<Result<_, _>>()
        .expect("jobs");
    for job in jobs {
        walk(&serde_json::from_str(&job).expect("job json"), &mut out);
    }
    for e in store.events().expect("events") {
        walk(&e.unsigned.payload, &mut out);
    }
    out.sort();
    out.dedup();
    out.retain(|s| !s.is_empty());
    out
}

#[test]
fn the_scanner_finds_text_in_every_encoding_it_looks_for() {
    // The scan below must be able to fail: each encoding, embedded at an odd offset, is found.
    let text = "和平区幸福里小区3号楼 13812345678";
    for (encoding, bytes) in encodings(text) {
        let mut file = b"xx".to_vec();
        file.extend_from_slice(&bytes);
        file.extend_from_slice(b"yy");
        assert!(
            !leaks(&[("f".into(), file)], &[text.into()]).is_empty(),
            "{encoding} is found"
        );
    }
    for align in 0..3 {
        let mut framed = b"ab"[..align].to_vec();
        framed.extend_from_slice(text.as_bytes());
        framed.extend_from_slice(b"tail");
        let encoded = base64::engine::general_purpose::STANDARD.encode(&framed);
        assert!(
            !leaks(&[("f".into(), encoded.into_bytes())], &[text.into()]).is_empty(),
            "base64 of a larger text is found at alignment {align}"
        );
    }
}

#[test]
fn a_demo_day_leaves_no_customer_data_or_token_in_the_database_files() {
    let d = device();
    let mut store = d.store;
    let s = session();
    store.save_session(&s).expect("sign in");
    let mut images = demo::generated_png;
    // Six visits: every demo customer once, with the inspection and patrol round.
    demo::field_day(&mut store, &mut images, 6).expect("demo day");
    let mut needles = customer_data(&store);
    assert!(
        needles.len() >= 20,
        "the demo day holds customers, phones, addresses and witnesses: {needles:?}"
    );
    for n in [
        "王秀英",
        "13812345678",
        "和平区幸福里小区3号楼2单元501",
        "13900001234",
    ] {
        assert!(needles.contains(&n.to_owned()), "{n} is among them");
    }
    needles.extend([s.access_token.clone(), s.refresh_token.clone()]);

    let open = database_files(&d.db);
    let names: Vec<&str> = open.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["db", "db-wal", "db-shm"],
        "the store is open: file, log and index"
    );
    assert!(
        open[1].1.len() > 4096,
        "the log holds recent pages (the premise)"
    );
    assert_eq!(leaks(&open, &needles), Vec::<String>::new(), "while open");
    assert_eq!(
        store.session().expect("session").as_ref(),
        Some(&s),
        "the session reads back whole, tokens from the vault"
    );
    drop(store);
    let closed = database_files(&d.db);
    assert_eq!(
        leaks(&closed, &needles),
        Vec::<String>::new(),
        "after closing"
    );

    // Control: the same data decrypted into a plain database shows every customer detail, and
    // still no token (they are in the vault, not the database).
    let plain = d.db.with_file_name("plain.db");
    raw(&d.db)
        .execute_batch(&format!(
            "ATTACH DATABASE '{}' AS plain KEY ''; SELECT sqlcipher_export('plain'); DETACH DATABASE plain;",
            plain.display()
        ))
        .expect("decrypt a copy");
    let decrypted = database_files(&plain);
    let found = leaks(&decrypted, &needles);
    for n in &needles[..needles.len() - 2] {
        assert!(
            found.iter().any(|f| f.contains(&format!("utf-8 of {n:?}"))),
            "the decrypted copy shows {n}: the scan would have caught it"
        );
    }
    for token in [&s.access_token, &s.refresh_token] {
        assert!(
            !found.iter().any(|f| f.contains(token.as_str())),
            "no token even inside the database: {found:?}"
        );
    }
    let vault = FileVault::beside(&d.db);
    let meta = std::fs::metadata(vault.secret_path(Secret::Session)).expect("session secret");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "the tokens are in an owner-only file"
    );
}

/// A device with a few records, closed; returns its folder, database and the database's bytes.
fn closed_device() -> (TempDir, PathBuf, Job) {
    let d = device();
    let mut store = d.store;
    let job = demo::home_repair_job(0, None);
    store.add_office_job(&job).expect("job");
    store.record(job.id, done("appointment")).expect("record");
    drop(store);
    (d._dir, d.db, job)
}

#[test]
fn a_copied_database_without_its_key_cannot_be_opened_and_is_left_unchanged() {
    let (_dir, db, _) = closed_device();
    let elsewhere = tempfile::tempdir().expect("another machine");
    let copy = elsewhere.path().join("device.db");
    std::fs::copy(&db, &copy).expect("copy the database alone");
    let before = std::fs::read(&copy).expect("bytes");

    let err = Store::open(&copy).expect_err("no key, no store");
    assert_eq!(err.code(), "database_key_missing", "{err}");
    assert!(
        err.to_string().contains("encrypted") && err.to_string().contains("key"),
        "the message says why: {err}"
    );
    assert!(
        err.message(Lang::Zh).contains("加密"),
        "and the technician's text says it too: {}",
        err.message(Lang::Zh)
    );
    let e = heatcrew_core::evidence::DeviceDb::open_read_only(&copy)
        .expect_err("verify cannot read it either");
    assert!(
        e.to_string().contains("--keys"),
        "and says what to pass: {e}"
    );
    let plain = Connection::open(&copy).expect("sqlite opens any file lazily");
    let read = plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    });
    assert!(read.is_err(), "plain SQLite cannot read it: {read:?}");
    drop(plain);
    assert_eq!(
        std::fs::read(&copy).expect("bytes"),
        before,
        "nothing was written to the copy"
    );
    assert!(
        !FileVault::beside(&copy)
            .secret_path(Secret::DatabaseKey)
            .exists(),
        "and no new key was made in its name"
    );
}

#[test]
fn a_wrong_key_is_a_clear_error_and_no_corruption() {
    let (_dir, db, job) = closed_device();
    let vault = FileVault::beside(&db);
    let right = vault
        .load_secret(Secret::DatabaseKey)
        .expect("read")
        .expect("key");
    let before = database_files(&db);
    vault
        .store_secret(Secret::DatabaseKey, &[0x5a; 32])
        .expect("swap in another key");

    let err = Store::open(&db).expect_err("a wrong key opens nothing");
    assert_eq!(err.code(), "database_key_wrong", "{err}");
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    let e = heatcrew_core::evidence::DeviceDb::open_read_only(&db).expect_err("nor verify");
    assert!(e.to_string().contains("does not open"), "{e}");
    assert_eq!(
        database_files(&db),
        before,
        "the database, log and index are byte for byte as they were"
    );

    vault
        .store_secret(Secret::DatabaseKey, &right)
        .expect("the right key back");
    let mut store = Store::open(&db).expect("opens with the right key");
    store
        .record(job.id, done("arrive"))
        .expect("and records as before");
    assert_eq!(store.events().expect("events").len(), 2);
}

/// A plain database as builds before encryption left it: schema 1, key inside, signed in.
fn plain_signed_in_device(dir: &Path) -> (PathBuf, Job, Session) {
    let db = dir.join("phone.db");
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x42; 32]);
    let job = demo::home_repair_job(1, None);
    heatcrew_core::legacy::write_schema_1_database(
        &db,
        &key,
        Uuid::now_v7(),
        &job,
        &[done("appointment"), done("arrive")],
        Utc::now() - Duration::days(3),
    )
    .expect("an old build's database");
    let s = session();
    Connection::open(&db)
        .expect("plain")
        .execute(
            "UPDATE sync_state SET office_url = ?1, access_token = ?2, access_expires_at = ?3,
                 refresh_token = ?4, user = ?5, device_code = ?6",
            rusqlite::params![
                s.office_url,
                s.access_token,
                s.access_expires_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                s.refresh_token,
                serde_json::to_string(&s.user).expect("json"),
                s.device_code
            ],
        )
        .expect("the old build kept the session in the database");
    (db, job, s)
}

#[test]
fn a_plain_database_is_encrypted_in_place_with_its_tokens_moved_to_the_vault() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, job, s) = plain_signed_in_device(dir.path());
    let customer = job.customer.clone().expect("customer");
    let needles = vec![
        customer.name.clone(),
        customer.phone.clone(),
        customer.address.clone(),
        s.access_token.clone(),
        s.refresh_token.clone(),
    ];
    assert!(
        !leaks(&database_files(&db), &needles).is_empty(),
        "the old database shows the customer and the tokens (the premise)"
    );
    assert!(
        cipher::is_plain(&db).expect("read"),
        "plain before (the premise)"
    );

    let mut store = Store::open(&db).expect("the new build opens the old database");
    assert!(!cipher::is_plain(&db).expect("read"), "encrypted after");
    assert_eq!(
        store.session().expect("session"),
        Some(s.clone()),
        "still signed in: the tokens moved to the vault"
    );
    store.record(job.id, done("identify")).expect("records");
    assert_eq!(leaks(&database_files(&db), &needles), Vec::<String>::new());
    drop(store);
    assert_eq!(leaks(&database_files(&db), &needles), Vec::<String>::new());
    assert!(
        !cipher::copy_path(&db).exists(),
        "no encrypted copy left beside it"
    );
    let columns: Vec<String> = raw(&db)
        .prepare("SELECT name FROM pragma_table_info('sync_state')")
        .expect("info")
        .query_map([], |r| r.get(0))
        .expect("columns")
        .collect::<Result<_, _>>()
        .expect("names");
    assert!(
        !columns.iter().any(|c| c.contains("token")),
        "no token column left: {columns:?}"
    );
    let report = heatcrew_core::evidence::DeviceDb::open_read_only(&db)
        .expect("verify reads it with the key beside it")
        .verify(None)
        .expect("verify");
    assert!(report.ok(), "and the chain holds: {:?}", report.chain);
}

// ---------------------------------------------------------------- a crash at every step

const CIPHER_CHILD_DB: &str = "HEATCREW_CIPHER_CHILD_DB";
const CIPHER_CHILD_STOP: &str = "HEATCREW_CIPHER_CHILD_STOP";

/// Run as a child process by `a_crash_at_any_step_of_the_conversion_leaves_a_usable_database`:
/// converts the database and dies on the spot at the step named (or runs to the end).
#[test]
#[ignore = "not a test: the child process the conversion crash test starts"]
fn cipher_child() {
    let Ok(db) = std::env::var(CIPHER_CHILD_DB) else {
        return;
    };
    let stop = std::env::var(CIPHER_CHILD_STOP).unwrap_or_default();
    let db = PathBuf::from(db);
    cipher::encrypt_in_place(&db, &FileVault::beside(&db), &mut |step| {
        if format!("{step:?}") == stop {
            std::process::abort();
        }
    })
    .expect("convert");
}

fn run_cipher_child(db: &Path, stop: &str, kill_after: Option<std::time::Duration>) {
    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "at_rest::cipher_child",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CIPHER_CHILD_DB, db)
        .env(CIPHER_CHILD_STOP, stop)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    if let Some(after) = kill_after {
        std::thread::sleep(after);
        let _ = child.kill();
    }
    child.wait().expect("reap");
}

/// After a crash: the store opens, converts if needed, and everything is there.
fn check_after_crash(db: &Path, job: &Job, s: &Session, what: &str) {
    let store = Store::open(db).unwrap_or_else(|e| panic!("{what}: the store opens: {e}"));
    assert!(
        !cipher::is_plain(db).expect("read"),
        "{what}: encrypted now"
    );
    assert!(!cipher::copy_path(db).exists(), "{what}: no copy left");
    let events = store.events().expect("events");
    assert_eq!(events.len(), 2, "{what}: every event is there");
    audit(
        &events,
        store.device_id(),
        &store.public_key(),
        Some(store.tip()),
    )
    .unwrap_or_else(|f| panic!("{what}: the chain verifies: {f}"));
    assert!(
        store.job(job.id).expect("job").is_some(),
        "{what}: the job is there"
    );
    assert_eq!(
        store.session().expect("session").as_ref(),
        Some(s),
        "{what}: still signed in"
    );
    let check: String = store
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(check, "ok", "{what}: SQLite is intact");
}

#[test]
fn a_crash_at_any_step_of_the_conversion_leaves_a_usable_database() {
    let steps = [
        Step::KeyStored,
        Step::LogMerged,
        Step::CopyWritten,
        Step::Renamed,
        Step::Wiped,
    ];
    for step in steps {
        let dir = tempfile::tempdir().expect("dir");
        let (db, job, s) = plain_signed_in_device(dir.path());
        run_cipher_child(&db, &format!("{step:?}"), None);
        let plain_left = cipher::is_plain(&db).expect("read");
        let expect_plain = matches!(step, Step::KeyStored | Step::LogMerged | Step::CopyWritten);
        assert_eq!(
            plain_left, expect_plain,
            "stopped at {step:?}: the database is whole, plain until the rename"
        );
        check_after_crash(&db, &job, &s, &format!("stopped at {step:?}"));
    }
    // And SIGKILL at random moments of a whole conversion (process start included).
    let rounds: u64 = std::env::var("HEATCREW_CIPHER_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for round in 0..rounds {
        let dir = tempfile::tempdir().expect("dir");
        let (db, job, s) = plain_signed_in_device(dir.path());
        let after = std::time::Duration::from_millis((round * 7919) % 60);
        run_cipher_child(&db, "", Some(after));
        check_after_crash(&db, &job, &s, &format!("killed after {after:?}"));
    }
}
