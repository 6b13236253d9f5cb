//! The evidence CLI: `heatcrew-device verify`, `export` and `verify-export` leave what they check
//! byte-identical, refuse what is not a device database, and name every tampering.

use super::*;

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
    // Support staff are given the database key (not the signing key) with the copy.
    {
        use heatcrew_core::keys::{FileVault, KeyVault, Secret};
        let key = FileVault::beside(&d.db)
            .load_secret(Secret::DatabaseKey)
            .expect("read")
            .expect("the database key");
        FileVault::beside(&copy_db)
            .store_secret(Secret::DatabaseKey, &key)
            .expect("hand over the database key");
    }
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
        .expect("open")
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
    let conn = raw(db);
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
    let conn = raw(&d.db);
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; DROP TRIGGER events_no_delete; DROP TRIGGER receipts_no_delete;",
    )
    .expect("drop triggers");
    conn.execute(
        "UPDATE sync_state SET acked_through = MIN(acked_through, ?1)",
        [keep as i64],
    )
    .expect("rewind the outbox");
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
