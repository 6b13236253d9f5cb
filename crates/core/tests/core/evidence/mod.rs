//! Evidence that holds up in a dispute (docs/evidence.md): old and new event formats side by side,
//! the signing key kept out of the database, office receipts and tree heads, a verifier that
//! cannot change what it checks, and exports that stand alone. Every tampering is detected and
//! named with the spec's fault code.

use super::*;
use ed25519_dalek::SigningKey;
use heatcrew_protocol::Format;

mod cli;

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
    let conn = raw(&db);
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
    let err = Store::open(&copy).expect_err("a copy without its vault cannot even be read");
    assert_eq!(err.code(), "database_key_missing", "named as such: {err}");
    // With the database's key (as support staff may be given) it reads, but still cannot sign.
    use heatcrew_core::keys::{FileVault, KeyVault, Secret};
    let key = FileVault::beside(&d.db)
        .load_secret(Secret::DatabaseKey)
        .expect("read")
        .expect("the database key");
    FileVault::beside(&copy)
        .store_secret(Secret::DatabaseKey, &key)
        .expect("give the copy its database key");
    let err = Store::open(&copy).expect_err("a copy without its signing key cannot open to record");
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
        acknowledgements: Vec::new(),
        company: None,
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

/// Every sign-in the office accepted is kept as the device signed it, never changed or deleted,
/// and the device's export carries it: the device's evidence against an office export that
/// leaves one out (`sign_in_withheld`).
#[test]
fn sign_ins_are_kept_as_signed_and_exported() {
    let mut d = acknowledged_device();
    let challenge = "ab".repeat(32);
    let head = d.store.tip();
    let proof = d
        .store
        .prove_enrolment(&challenge, "tech_a")
        .expect("a proof");
    d.store
        .keep_sign_in("tech_a", head, &challenge, &proof)
        .expect("kept");
    d.store
        .keep_sign_in("tech_a", head, &challenge, &proof)
        .expect("the same sign-in again is kept once");
    assert!(
        d.store
            .keep_sign_in("tech_a", head, "not hex", &proof)
            .is_err(),
        "a malformed challenge is refused, not kept"
    );
    let conn = raw(&d.db);
    for sql in [
        "UPDATE sign_ins SET sign_in = replace(sign_in, 'tech_a', 'tech_b')",
        "DELETE FROM sign_ins",
    ] {
        let err = conn.execute(sql, []).expect_err("refused");
        assert!(
            err.to_string().contains("sign-ins are evidence"),
            "{sql}: {err}"
        );
    }
    drop(conn);

    let db = heatcrew_core::evidence::DeviceDb::open_read_only(&d.db).expect("open read-only");
    let lines = db.export(Utc::now(), None, false).expect("export");
    let sign_ins: Vec<_> = lines
        .iter()
        .filter_map(|l| match l {
            heatcrew_protocol::export::ExportLine::SignIn {
                username,
                chain_head,
                ..
            } => Some((username.as_str(), *chain_head)),
            _ => None,
        })
        .collect();
    assert_eq!(sign_ins, [("tech_a", head)]);
    let report = db.verify(None).expect("verify");
    assert!(report.ok(), "{:?}", report.checks.faults);
    assert_eq!(report.checks.sign_ins, 1);
    assert_eq!(
        report.checks.makers.len(),
        0,
        "signed in at the tip: nothing after it yet"
    );
}
