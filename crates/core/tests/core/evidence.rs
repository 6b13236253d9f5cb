//! Evidence that holds up in a dispute (docs/evidence.md): old and new event formats side by side,
//! the signing key kept out of the database, office receipts and tree heads, a verifier that
//! cannot change what it checks, and exports that stand alone. Every tampering is detected and
//! named with the spec's fault code.

use super::*;
use ed25519_dalek::SigningKey;
use heatcrew_protocol::Format;

/// A phone's database as a build before format 2 wrote it: format-1 events, key in the table.
fn legacy_device(dir: &Path) -> (PathBuf, SigningKey, Uuid, Job) {
    let db = dir.join("phone.db");
    let key = SigningKey::from_bytes(&[0x42; 32]);
    let device_id = Uuid::now_v7();
    let job = demo::home_repair_job(0, None);
    let bodies = [done("appointment"), done("arrive"), done("identify")];
    heatcrew_core::legacy::write_schema_1_database(
        &db,
        &key,
        device_id,
        &job,
        &bodies,
        Utc::now() - Duration::days(30),
    )
    .expect("an old build's database");
    (db, key, device_id, job)
}

#[test]
fn format_1_events_keep_verifying_beside_the_format_2_events_recorded_after_the_upgrade() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, key, device_id, job) = legacy_device(dir.path());
    let mut store = Store::open(&db).expect("the upgraded build opens an old database");
    assert_eq!(
        store.device_id(),
        device_id,
        "the device keeps its identity"
    );
    assert_eq!(
        store.public_key(),
        key.verifying_key(),
        "and its key: the office has it enrolled"
    );
    store
        .record(job.id, done("knock_consent"))
        .expect("record after the upgrade");
    store
        .record(job.id, done("shoe_covers"))
        .expect("record after the upgrade");

    let events = store.events().expect("events");
    let formats: Vec<Format> = events.iter().map(|e| e.unsigned.format).collect();
    assert_eq!(
        formats,
        [Format::V1, Format::V1, Format::V1, Format::V2, Format::V2],
        "old events keep the format they were sealed in; new ones are sealed in format 2"
    );
    assert_eq!(
        audit(&events, device_id, &key.verifying_key(), Some(store.tip())),
        Ok(5),
        "one chain across the upgrade: both formats verify and link"
    );
    drop(store);
    let out = Command::new(env!("CARGO_BIN_EXE_heatcrew-device"))
        .args(["verify", "--db"])
        .arg(&db)
        .output()
        .expect("run verify");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).starts_with("ok: 5 events"),
        "heatcrew-device verify accepts the mixed chain: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every byte the database consists of: the file, its write-ahead log and shared-memory index.
fn database_bytes(db: &Path) -> Vec<u8> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .filter_map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            std::fs::read(PathBuf::from(p)).ok()
        })
        .flatten()
        .collect()
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn upgrading_moves_the_key_into_an_owner_only_file_and_wipes_it_from_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, key, device_id, job) = legacy_device(dir.path());
    let secret = key.to_bytes();
    assert!(
        holds(&database_bytes(&db), &secret),
        "the old build kept the secret key in the database (the premise of this test)"
    );

    let mut store = Store::open(&db).expect("upgrade");
    let vault = heatcrew_core::keys::FileVault::beside(&db);
    let key_file = vault.path(device_id);
    assert_eq!(
        mode(vault.dir()),
        0o700,
        "the key folder is the owner's alone"
    );
    assert_eq!(mode(&key_file), 0o600, "the key file is the owner's alone");
    store
        .record(job.id, done("knock_consent"))
        .expect("still signs");
    assert!(
        !holds(&database_bytes(&db), &secret),
        "no byte of the open database (file, WAL, shm) holds the secret key any more"
    );
    drop(store);
    let bytes = database_bytes(&db);
    assert!(
        !holds(&bytes, &secret) && !holds(&bytes, hex::encode(secret).as_bytes()),
        "nor after closing, raw or in hex"
    );
    let conn = Connection::open(&db).expect("open");
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('device')")
        .expect("table info")
        .query_map([], |r| r.get(0))
        .expect("columns")
        .collect::<Result<_, _>>()
        .expect("names");
    assert!(
        !columns.iter().any(|c| c == "secret_key"),
        "the key column is gone: {columns:?}"
    );
}

#[test]
fn a_key_left_in_an_unmerged_write_ahead_log_is_wiped_too() {
    // A phone that stopped with the old build's log unmerged: the key row sits in the -wal file.
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("phone.db");
    let holder = Connection::open(&db).expect("another connection keeps the log from merging");
    holder
        .pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    holder
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .expect("open the log");
    let key = SigningKey::from_bytes(&[0x24; 32]);
    let job = demo::home_repair_job(0, None);
    heatcrew_core::legacy::write_schema_1_database(
        &db,
        &key,
        Uuid::now_v7(),
        &job,
        &[done("appointment")],
        Utc::now(),
    )
    .expect("old database");
    let image = tempfile::tempdir().expect("the phone's storage, as the crash left it");
    for suffix in ["", "-wal"] {
        std::fs::copy(
            dir.path().join(format!("phone.db{suffix}")),
            image.path().join(format!("phone.db{suffix}")),
        )
        .expect("copy");
    }
    drop(holder);
    let db = image.path().join("phone.db");
    let wal = std::fs::read(image.path().join("phone.db-wal")).expect("log");
    assert!(
        holds(&wal, &key.to_bytes()),
        "the key is in the log (the premise)"
    );

    let store = Store::open(&db).expect("upgrade");
    assert!(
        !holds(&database_bytes(&db), &key.to_bytes()),
        "no byte of the open database or its log holds the key"
    );
    drop(store);
}

#[test]
fn a_database_copied_without_its_key_cannot_sign() {
    let d = device();
    let mut store = d.store;
    let job = demo::home_repair_job(0, None);
    store.add_office_job(&job).expect("job");
    store.record(job.id, done("appointment")).expect("record");
    drop(store);

    let elsewhere = tempfile::tempdir().expect("another machine");
    let copy = elsewhere.path().join("device.db");
    std::fs::copy(&d.db, &copy).expect("copy the database alone");
    let err = Store::open(&copy).expect_err("a copy without its key vault cannot open to record");
    assert_eq!(err.code(), "device_key_missing", "named as such: {err}");
    assert!(
        err.to_string().contains("cannot record"),
        "and the message says what it means: {err}"
    );
}

#[test]
fn a_key_file_others_can_read_is_refused_and_a_different_key_is_never_stored_over_it() {
    use heatcrew_core::keys::{FileVault, KeyVault};
    use std::os::unix::fs::PermissionsExt;
    let d = device();
    let device_id = d.store.device_id();
    drop(d.store);
    let vault = FileVault::beside(&d.db);
    let key_file = vault.path(device_id);

    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod 644");
    let err = Store::open(&d.db).expect_err("a world-readable key is refused");
    assert_eq!(err.code(), "device_key_exposed", "{err}");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");

    std::fs::set_permissions(vault.dir(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod 755");
    let err = Store::open(&d.db).expect_err("a key folder others can list is refused too");
    assert_eq!(err.code(), "device_key_exposed", "{err}");
    std::fs::set_permissions(vault.dir(), std::fs::Permissions::from_mode(0o700))
        .expect("chmod 700");

    let other = SigningKey::from_bytes(&[7; 32]);
    let err = vault
        .store(device_id, &other)
        .expect_err("a device's key is never replaced");
    assert_eq!(err.code(), "device_key_conflict", "{err}");
    Store::open(&d.db).expect("the device's own key still opens it");
}

// ------------------------------------------------ receipts, tree heads, read-only verify, export

use heatcrew_protocol::log::{LogLeaf, Receipt, TreeHead};
use heatcrew_protocol::merkle::MemoryTree;
use heatcrew_protocol::sync::{PullResponse, PushOutcome, PushResult};

fn office_key() -> SigningKey {
    SigningKey::from_bytes(&[0x0f; 32])
}

/// What an office answers for `events`: one receipt each, at the end of its log.
fn push_results(events: &[heatcrew_protocol::Event], log: &mut MemoryTree) -> Vec<PushResult> {
    events
        .iter()
        .map(|e| {
            let leaf = LogLeaf {
                device_id: e.unsigned.device_id,
                device_seq: e.seq(),
                event_hash: e.hash,
                accepted: true,
            };
            let index = log.push(&leaf.bytes());
            PushResult {
                device_seq: e.seq(),
                event_id: e.unsigned.id,
                outcome: PushOutcome::Accepted,
                receipt: Some(Receipt::sign(&office_key(), &leaf, index, Utc::now())),
            }
        })
        .collect()
}

fn pull_with(head: Option<TreeHead>) -> PullResponse {
    PullResponse {
        changes: Vec::new(),
        next_cursor: 0,
        has_more: false,
        server_time: Utc::now(),
        tree_head: head,
    }
}

fn signed_head(log: &MemoryTree) -> TreeHead {
    TreeHead::sign(
        &office_key(),
        log.size(),
        log.root(log.size()).expect("root"),
        Utc::now(),
    )
}

/// A device that recorded a visit with photos and a signature, pushed it, and kept the office's
/// receipts and a tree head.
fn acknowledged_device() -> Device {
    let mut d = device();
    visit_until(&mut d.store, "contact_card");
    d.store
        .save_office_public_key(Some(&hex::encode(office_key().verifying_key().as_bytes())))
        .expect("signed in");
    let events = d.store.events().expect("events");
    let mut log = MemoryTree::new();
    let problems = d
        .store
        .keep_receipts(&push_results(&events, &mut log))
        .expect("keep receipts");
    assert_eq!(problems, [], "honest receipts are all kept");
    let problems = d
        .store
        .apply_pull(&pull_with(Some(signed_head(&log))))
        .expect("pull");
    assert_eq!(problems, [], "an honest tree head is kept");
    d
}

#[test]
fn receipts_and_tree_heads_are_checked_before_they_are_kept() {
    let mut d = acknowledged_device();
    let n = d.store.events().expect("events").len();
    assert_eq!(
        d.store.receipts().expect("receipts").len(),
        n,
        "one receipt per event"
    );
    assert_eq!(
        d.store.tree_heads().expect("heads").len(),
        1,
        "the tree head is kept"
    );

    let job = demo::home_repair_job(1, None);
    d.store.add_office_job(&job).expect("job");
    let e = d.store.record(job.id, done("appointment")).expect("record");
    let mut log = MemoryTree::new();
    let mut results = push_results(std::slice::from_ref(&e), &mut log);

    let mut forged = results.clone();
    let r = forged[0].receipt.as_mut().expect("receipt");
    r.log_index += 1;
    let problems = d.store.keep_receipts(&forged).expect("check");
    assert_eq!(
        problems.iter().map(|p| p.code).collect::<Vec<_>>(),
        ["bad_receipt"],
        "a receipt whose signature does not hold is refused"
    );

    let other = LogLeaf {
        device_id: d.store.device_id(),
        device_seq: e.seq(),
        event_hash: Digest::of(b"another event"),
        accepted: true,
    };
    results[0].receipt = Some(Receipt::sign(&office_key(), &other, 0, Utc::now()));
    let problems = d.store.keep_receipts(&results).expect("check");
    assert_eq!(
        problems.iter().map(|p| p.code).collect::<Vec<_>>(),
        ["receipt_mismatch"],
        "a validly signed receipt for another hash is refused: the office holds something else"
    );
    assert_eq!(
        d.store.receipts().expect("receipts").len(),
        n,
        "neither refused receipt was kept"
    );

    let stranger = TreeHead::sign(
        &SigningKey::from_bytes(&[1; 32]),
        5,
        Digest::of(b"root"),
        Utc::now(),
    );
    let problems = d
        .store
        .apply_pull(&pull_with(Some(stranger)))
        .expect("pull");
    assert_eq!(
        problems.iter().map(|p| p.code).collect::<Vec<_>>(),
        ["bad_tree_head"],
        "a tree head not signed by the office key is refused"
    );
    let known = d.store.tree_heads().expect("heads")[0];
    let rewritten = TreeHead::sign(&office_key(), known.size, Digest::of(b"other"), Utc::now());
    let problems = d
        .store
        .apply_pull(&pull_with(Some(rewritten)))
        .expect("pull");
    assert_eq!(
        problems.iter().map(|p| p.code).collect::<Vec<_>>(),
        ["log_rewritten"],
        "two signed logs of one size: the office rewrote its history"
    );
    assert_eq!(
        d.store.tree_heads().expect("heads").len(),
        2,
        "the contradicting head is kept: it is the evidence"
    );
}

fn device_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heatcrew-device"))
}

/// Run the CLI; (exit code, stdout + stderr).
fn run_cli(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = device_bin()
        .args(args)
        .output()
        .expect("run heatcrew-device");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn verify(db: &Path) -> (i32, String) {
    run_cli(&["verify".as_ref(), "--db".as_ref(), db.as_os_str()])
}

/// Every file under `dir` with its SHA-256.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Digest> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.insert(
                    path.clone(),
                    Digest::of(&std::fs::read(&path).expect("read")),
                );
            }
        }
    }
    out
}

use std::collections::BTreeMap;

#[test]
fn verify_and_export_leave_every_file_byte_identical() {
    let d = acknowledged_device();
    let dir = d.db.parent().expect("dir").to_path_buf();
    drop(d.store);
    let before = snapshot(&dir);
    assert!(before.len() > 4, "database, key and photos: {before:?}");

    let (code, out) = verify(&d.db);
    assert_eq!(code, 0, "an honest device verifies: {out}");
    assert!(
        out.starts_with("ok: ") && out.contains(" files, ") && !out.contains("0 receipts"),
        "verify says what it checked, files and receipts included: {out}"
    );
    let bundle = tempfile::tempdir().expect("bundle dir");
    let (code, out) = run_cli(&[
        "export".as_ref(),
        "--db".as_ref(),
        d.db.as_os_str(),
        "--bundle".as_ref(),
        bundle.path().as_os_str(),
    ]);
    assert_eq!(code, 0, "export: {out}");
    assert_eq!(
        snapshot(&dir),
        before,
        "verify and export change no byte of the database, its key or its files, and add no file"
    );

    // The same, with a write-ahead log left behind (a copy taken while the app was running).
    let store = Store::open(&d.db).expect("reopen");
    store
        .connection()
        .pragma_update(None, "wal_autocheckpoint", 0)
        .expect("keep the log");
    let mut store = store;
    let job = demo::home_repair_job(2, None);
    store.add_office_job(&job).expect("job");
    store.record(job.id, done("appointment")).expect("record");
    let running = tempfile::tempdir().expect("copy");
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let p = entry.expect("entry").path();
        if p.is_file() {
            std::fs::copy(&p, running.path().join(p.file_name().expect("name"))).expect("copy");
        }
    }
    drop(store);
    let copy_db = running.path().join("device.db");
    let wal = running.path().join("device.db-wal");
    assert!(
        std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0),
        "the copy has an unmerged log"
    );
    let before = snapshot(running.path());
    let (code, out) = verify(&copy_db);
    assert_eq!(
        code, 1,
        "the copy lacks its photo folder, so files are missing: {out}"
    );
    assert!(out.contains("file_missing"), "and verify names them: {out}");
    let events_line = out.lines().next().unwrap_or_default().to_owned();
    assert!(
        events_line.contains("events chain up"),
        "the newest event, still in the log, is read and chains: {out}"
    );
    assert_eq!(
        snapshot(running.path()),
        before,
        "a database with an unmerged log is read without touching it either"
    );
}

#[test]
fn verify_refuses_what_is_not_a_device_database_and_leaves_it_unchanged() {
    let dir = tempfile::tempdir().expect("dir");
    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign)
        .expect("create")
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello');")
        .expect("another program's database");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("empty file");
    let random = dir.path().join("random.db");
    std::fs::write(
        &random,
        (0..4096u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .expect("random bytes");
    let before = snapshot(dir.path());
    for db in [&foreign, &empty, &random] {
        let (code, out) = verify(db);
        assert_eq!(
            code,
            2,
            "{}: not checkable is not 'ok': {out}",
            db.display()
        );
        assert!(
            out.contains("not a HeatCrew device database"),
            "{}: the error says what it is: {out}",
            db.display()
        );
        let (code, _) = run_cli(&["export".as_ref(), "--db".as_ref(), db.as_os_str()]);
        assert_eq!(code, 2, "{}: nor is it exported", db.display());
    }
    assert_eq!(
        snapshot(dir.path()),
        before,
        "no table, key or file was created in or beside them"
    );
}

// ------------------------------------------------ tampering, each named with the spec's fault code

/// Rewrite the chain from `from` on as someone holding the device key would: edit, re-seal every
/// later event so that the chain links, move the tip. The triggers are no obstacle to them.
fn rewrite_with_key(db: &Path, key: &SigningKey, from: u64, edit: impl Fn(&mut serde_json::Value)) {
    let store = Store::open(db).expect("open");
    let events = store.events().expect("events");
    drop(store);
    let conn = Connection::open(db).expect("open");
    conn.execute_batch("DROP TRIGGER events_no_update;")
        .expect("drop trigger");
    let mut prev = events[from as usize - 2].hash;
    for e in events.iter().filter(|e| e.seq() >= from) {
        let mut u = e.unsigned.clone();
        if u.device_seq == from {
            edit(&mut u.payload);
        }
        u.prev_hash = prev;
        let sealed = u.seal(key);
        conn.execute(
            "UPDATE events SET payload = ?2, prev_hash = ?3, hash = ?4, sig = ?5 WHERE seq = ?1",
            rusqlite::params![
                sealed.seq() as i64,
                serde_json::to_string(&sealed.unsigned.payload).expect("json"),
                sealed.unsigned.prev_hash.0.to_vec(),
                sealed.hash.0.to_vec(),
                sealed.sig.to_vec()
            ],
        )
        .expect("rewrite");
        prev = sealed.hash;
    }
    conn.execute("UPDATE device SET last_hash = ?1", [prev.0.to_vec()])
        .expect("move the tip");
}

fn stolen_key(db: &Path, device_id: Uuid) -> SigningKey {
    use heatcrew_core::keys::KeyVault;
    heatcrew_core::keys::FileVault::beside(db)
        .load(device_id)
        .expect("read key file")
        .expect("the attacker copied the key file")
}

#[test]
fn a_rating_re_signed_with_a_copied_key_after_the_office_receipted_it_is_detected() {
    let d = acknowledged_device();
    let device_id = d.store.device_id();
    let rating = d
        .store
        .events()
        .expect("events")
        .into_iter()
        .find(|e| e.unsigned.kind == "rating_given")
        .expect("a rating")
        .seq();
    drop(d.store);
    let key = stolen_key(&d.db, device_id);
    rewrite_with_key(&d.db, &key, rating, |p| p["stars"] = serde_json::json!(1));
    assert_eq!(
        Store::open(&d.db)
            .expect("open")
            .events()
            .expect("events")
            .into_iter()
            .find(|e| e.seq() == rating)
            .map(|e| e.unsigned.payload["stars"].clone()),
        Some(serde_json::json!(1)),
        "the rewrite took (the premise)"
    );
    let (code, out) = verify(&d.db);
    assert_eq!(
        code, 1,
        "the chain itself holds, but the receipts do not: {out}"
    );
    assert!(
        out.contains("fault receipt_mismatch"),
        "named with the spec's code: {out}"
    );
}

#[test]
fn deleting_the_newest_events_and_rewinding_the_tip_is_detected_by_the_receipts() {
    let d = acknowledged_device();
    let tip = d.store.tip();
    let events = d.store.events().expect("events");
    drop(d.store);
    let keep = tip.seq - 2;
    let conn = Connection::open(&d.db).expect("open");
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; DROP TRIGGER events_no_delete; DROP TRIGGER receipts_no_delete;",
    )
    .expect("drop triggers");
    conn.execute("DELETE FROM outbox WHERE seq > ?1", [keep as i64])
        .expect("delete");
    conn.execute("DELETE FROM events WHERE seq > ?1", [keep as i64])
        .expect("delete");
    conn.execute(
        "UPDATE device SET last_seq = ?1, last_hash = ?2",
        rusqlite::params![keep as i64, events[keep as usize - 1].hash.0.to_vec()],
    )
    .expect("rewind the tip");
    drop(conn);
    let (code, out) = verify(&d.db);
    assert_eq!(code, 1, "a clean-looking shorter chain: {out}");
    assert!(
        out.contains("fault events_removed"),
        "the receipts for the removed events name it: {out}"
    );
}

fn export_to(db: &Path, bundle: &Path) -> PathBuf {
    let (code, out) = run_cli(&[
        "export".as_ref(),
        "--db".as_ref(),
        db.as_os_str(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
    ]);
    assert_eq!(code, 0, "export: {out}");
    bundle.join("export.jsonl")
}

fn verify_export(files: &[&Path]) -> (i32, String) {
    let mut args: Vec<&std::ffi::OsStr> = vec!["verify-export".as_ref()];
    args.extend(files.iter().map(|f| f.as_os_str()));
    run_cli(&args)
}

#[test]
fn an_export_stands_alone_and_a_truncated_one_is_detected() {
    let d = acknowledged_device();
    let tip = d.store.tip();
    let public_key = hex::encode(d.store.public_key().as_bytes());
    drop(d.store);
    let bundle = tempfile::tempdir().expect("bundle");
    let export = export_to(&d.db, bundle.path());
    let text = std::fs::read_to_string(&export).expect("read");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines[0]["type"], "header", "a header first");
    assert_eq!(
        lines[0]["office_public_key"],
        hex::encode(office_key().verifying_key().as_bytes()),
        "with the office key the device received"
    );
    assert_eq!(lines[1]["type"], "device");
    assert_eq!(lines[1]["public_key"], public_key, "the device's own key");
    assert_eq!(lines[1]["tip"]["seq"], tip.seq, "and its chain tip");
    assert_eq!(lines[1]["tip"]["hash"], tip.hash.to_hex());
    let count = |t: &str| lines.iter().filter(|l| l["type"] == t).count() as u64;
    assert_eq!(count("event"), tip.seq, "every event");
    assert_eq!(count("receipt"), tip.seq, "every receipt");
    assert_eq!(count("tree_head"), 1, "the tree head");
    assert!(count("file") >= 4, "the photos and the signature");

    let (code, out) = verify_export(&[&export]);
    assert_eq!(code, 0, "the bundle verifies on its own: {out}");

    // Drop the newest events.
    let mut kept: Vec<&str> = text.lines().collect();
    let last_event = kept
        .iter()
        .rposition(|l| l.contains(r#""type":"event""#))
        .expect("events");
    kept.drain(last_event - 1..=last_event);
    let truncated = bundle.path().join("truncated.jsonl");
    std::fs::write(&truncated, kept.join("\n") + "\n").expect("write");
    let (code, out) = verify_export(&[&truncated]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("fault tip_mismatch"), "named: {out}");

    // Replace a photo in the bundle.
    let photo = std::fs::read_dir(bundle.path().join("files"))
        .expect("files")
        .next()
        .expect("a file")
        .expect("entry")
        .path();
    std::fs::write(&photo, b"another picture").expect("replace");
    let (code, out) = verify_export(&[&export]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("fault file_mismatch"), "named: {out}");
}

#[test]
fn a_replaced_or_missing_photo_fails_verify() {
    let d = acknowledged_device();
    let shas: Vec<Digest> = d
        .store
        .connection()
        .prepare("SELECT sha256 FROM attachments ORDER BY first_seq")
        .expect("query")
        .query_map([], |r| r.get::<_, String>(0))
        .expect("rows")
        .map(|s| s.expect("sha").parse().expect("digest"))
        .collect();
    let files = d.store.files().clone();
    drop(d.store);
    std::fs::write(files.path(&shas[0]), b"a different photo").expect("replace");
    let (code, out) = verify(&d.db);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("fault file_mismatch"),
        "a replaced photo is named: {out}"
    );
    std::fs::remove_file(files.path(&shas[1])).expect("delete");
    let (_, out) = verify(&d.db);
    assert!(
        out.contains("fault file_missing"),
        "a deleted one too: {out}"
    );
}

#[test]
fn an_upgraded_device_exports_both_formats_and_the_export_verifies() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, _key, _id, job) = legacy_device(dir.path());
    let mut store = Store::open(&db).expect("upgrade");
    store.record(job.id, done("knock_consent")).expect("record");
    drop(store);
    let bundle = tempfile::tempdir().expect("bundle");
    let export = export_to(&db, bundle.path());
    let text = std::fs::read_to_string(&export).expect("read");
    assert!(
        text.contains(r#""format":2"#),
        "new events carry their format on the wire"
    );
    let (code, out) = verify_export(&[&export]);
    assert_eq!(
        code, 0,
        "format-1 and format-2 events verify as one chain: {out}"
    );
}
