//! Backups that restore (issue 14, docs/deploy.md "Backups"): `scripts/backup.sh` and
//! `scripts/restore.sh` run for real on an office holding a simulated field day (devices pushing
//! visits with photos through the HTTP API), taken while it serves. The original is destroyed, the
//! backup restored to a fresh place, and the restored office must verify with the same events,
//! the same Merkle tree head and the same attachment files. A damaged backup must be refused, and
//! a restore must never overwrite a target that holds anything unless told to.
//!
//! SQLite: the embedded default (database file, key file, files folder). PostgreSQL: a database
//! of its own on the test cluster (`HEATCREW_TEST_PG`, skipped without it unless
//! `HEATCREW_PG_REQUIRED=1`), pg_dump/pg_restore from Debian's PostgreSQL, files in a folder.

use heatcrew_office::objects::{Location, Objects};
use heatcrew_office::store::{OfficeStore, PgStore};
use heatcrew_office::verify::{check, verify_all};
use heatcrew_office::{Config, Office};
use heatcrew_protocol::Digest;
use heatcrew_sim::SimConfig;
use heatcrew_testkit::pg::TestDb;
use heatcrew_testkit::s3_server::S3Server;
use heatcrew_testkit::{DEMO_PASSWORD, Seed, TestOffice};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a restore must give back unchanged.
#[derive(Debug, PartialEq, Eq)]
struct Evidence {
    events: u64,
    devices: u64,
    /// Leaves of the office's Merkle log, and its root at that size: the tree head.
    log_size: u64,
    log_root: Option<Digest>,
    /// Every attachment the office counts received, re-hashed by verify.
    attachments: Vec<Digest>,
}

/// Verify the office (panics naming every fault) and read what must survive a restore.
fn evidence(store: &dyn OfficeStore, files: &Objects) -> Evidence {
    let report =
        verify_all(store, Some(files)).unwrap_or_else(|e| panic!("the office verifies: {e}"));
    let log_size = store.log_size().expect("log size");
    let mut attachments = store.complete_attachments().expect("attachments");
    attachments.sort();
    assert_eq!(
        report.attachments,
        attachments.len() as u64,
        "verify re-hashed every counted file"
    );
    Evidence {
        events: report.events,
        devices: report.devices,
        log_size,
        log_root: store.log_root(log_size).expect("log root"),
        attachments,
    }
}

/// A field day against the office at `url`: devices doing visits with photos, all synced.
async fn field_day(url: String, work: impl AsRef<Path>) {
    let work = work.as_ref();
    let cfg = SimConfig {
        offices: vec![url],
        devices: 3,
        jobs_per_device: 2,
        offline_ratio: 0.0,
        seed: 14,
        admin_user: "admin".into(),
        admin_password: DEMO_PASSWORD.into(),
        workdir: Some(work.join("devices")),
        drain_timeout: Duration::from_secs(240),
    };
    let r = tokio::task::spawn_blocking(move || heatcrew_sim::run(&cfg))
        .await
        .expect("join")
        .expect("the field day runs");
    assert!(
        r.ok() && r.events_on_office == r.events_recorded,
        "the office holds the whole day before it is backed up: {r:?}"
    );
    assert!(
        r.attachments_on_office > 0,
        "with photos, so the files are part of the backup: {r:?}"
    );
}

/// Run `scripts/<name>` with `args` and these environment variables set; its output, and how
/// long it took.
fn script_with(name: &str, args: &[&str], env: &[(&str, String)]) -> (Output, Duration) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(name);
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(&path)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
    (out, started.elapsed())
}

/// Run a script that must succeed; its stdout, and how long it took.
fn script_ok(name: &str, args: &[&str]) -> (String, Duration) {
    script_ok_with(name, args, &[])
}

fn script_ok_with(name: &str, args: &[&str], env: &[(&str, String)]) -> (String, Duration) {
    let (out, took) = script_with(name, args, env);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} {args:?} succeeds:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{name}: {} ({} ms wall)", stdout.trim(), took.as_millis());
    (stdout, took)
}

/// Run a script that must fail; its stderr.
fn script_refused(name: &str, args: &[&str], why: &str) -> String {
    script_refused_with(name, args, &[], why)
}

fn script_refused_with(name: &str, args: &[&str], env: &[(&str, String)], why: &str) -> String {
    let (out, _) = script_with(name, args, env);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{why}: {name} {args:?} must fail");
    stderr
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

/// Flip one bit of the byte in the middle of `path`, as a bad disk or a careless hand would.
fn flip_a_byte(path: &Path) {
    let mut bytes = std::fs::read(path).expect("read the file to damage");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(path, bytes).expect("write the damaged file");
}

/// A copy of a backup folder (to damage without touching the good one).
fn copy_backup(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .args(["-a", s(from), s(to)])
        .status()
        .expect("cp");
    assert!(ok.success(), "copy the backup");
}

/// One received photo's file inside a backup.
fn a_photo_in(backup: &Path) -> PathBuf {
    let shard = std::fs::read_dir(backup.join("files/sha256"))
        .expect("the backup holds files")
        .next()
        .expect("a shard folder")
        .expect("entry")
        .path();
    std::fs::read_dir(shard)
        .expect("shard")
        .next()
        .expect("a file")
        .expect("entry")
        .path()
}

fn du_kib(path: &Path) -> String {
    let out = Command::new("du")
        .args(["-sk", s(path)])
        .output()
        .expect("du");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_owned()
}

fn open_sqlite(db: &Path) -> Evidence {
    let office = Office::open(Config::new(db)).expect("the restored office opens (its key fits)");
    evidence(&*office.store(), &office.state().files)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_office_backed_up_while_serving_restores_whole_and_damage_is_caught() {
    let work = tempfile::tempdir().expect("dir");
    let backup = work.path().join("backup");
    let mut office = TestOffice::demo().await;
    field_day(office.url(), work.path()).await;
    let before = {
        let state = office.running().state.clone();
        tokio::task::spawn_blocking(move || evidence(&*state.store, &state.files))
            .await
            .expect("join")
    };

    // Online: the office is still serving while the backup is taken.
    let (_, backup_took) = script_ok("backup.sh", &["--db", s(office.db()), "--out", s(&backup)]);
    eprintln!(
        "SQLite office: {} events, {} files; backup {} KiB in {} ms",
        before.events,
        before.attachments.len(),
        du_kib(&backup),
        backup_took.as_millis()
    );
    office.stop().await;
    // The original is gone: database, key file and files.
    drop(office);

    let fresh = work.path().join("restored");
    let db = fresh.join("office.db");
    let (_, restore_took) = script_ok("restore.sh", &["--from", s(&backup), "--db", s(&db)]);
    eprintln!("SQLite office: restore in {} ms", restore_took.as_millis());
    let restored = tokio::task::spawn_blocking({
        let db = db.clone();
        move || open_sqlite(&db)
    })
    .await
    .expect("join");
    assert_eq!(
        restored, before,
        "the restored office has the same events, tree head and files"
    );

    // A second restore onto it is refused, and leaves it as it was.
    let err = script_refused(
        "restore.sh",
        &["--from", s(&backup), "--db", s(&db)],
        "a restore onto an office that holds data",
    );
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "says why and how: {err}"
    );
    let (_, _) = script_ok(
        "restore.sh",
        &["--from", s(&backup), "--db", s(&db), "--force"],
    );

    // One byte flipped in one photo of a copy of the backup: refused before anything is written.
    let damaged = work.path().join("damaged");
    copy_backup(&backup, &damaged);
    let photo = a_photo_in(&damaged);
    flip_a_byte(&photo);
    let target = work.path().join("restored-from-damaged");
    let err = script_refused(
        "restore.sh",
        &["--from", s(&damaged), "--db", s(&target.join("office.db"))],
        "a backup with a damaged photo",
    );
    let name = photo.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(
        err.contains("damaged") && err.contains(name),
        "names the damaged file: {err}"
    );
    assert!(
        !target.exists(),
        "nothing is restored from a damaged backup"
    );

    // Someone who also rewrote the manifest gets past the restore, but not past verify: the
    // photo no longer hashes to the address its signed event names.
    let manifest = damaged.join("MANIFEST.sha256");
    let rewritten = Command::new("sh")
        .arg("-c")
        .arg("find . -type f ! -name MANIFEST.sha256 -print0 | sort -z | xargs -0 sha256sum > MANIFEST.sha256")
        .current_dir(&damaged)
        .status()
        .expect("sha256sum");
    assert!(
        rewritten.success() && manifest.exists(),
        "manifest rewritten"
    );
    script_ok(
        "restore.sh",
        &["--from", s(&damaged), "--db", s(&target.join("office.db"))],
    );
    let report = tokio::task::spawn_blocking(move || {
        let office = Office::open(Config::new(target.join("office.db"))).expect("opens");
        check(&*office.store(), Some(&office.state().files)).expect("readable")
    })
    .await
    .expect("join");
    assert!(
        report.has("file_mismatch"),
        "verify catches the damaged photo: {:?}",
        report.faults
    );

    // One byte flipped in the database copy: refused too.
    let damaged_db = work.path().join("damaged-db");
    copy_backup(&backup, &damaged_db);
    flip_a_byte(&damaged_db.join("office.db"));
    let err = script_refused(
        "restore.sh",
        &[
            "--from",
            s(&damaged_db),
            "--db",
            s(&work.path().join("r3/office.db")),
        ],
        "a backup with a damaged database",
    );
    assert!(err.contains("office.db"), "names the database: {err}");
}

/// A backup taken while phones push records and upload photos is consistent: the database is
/// copied before the files, so every file the copy counts is in the backup, and the restored
/// office verifies (with fewer events than the office ends the day with).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_taken_mid_sync_restores_consistent() {
    let work = tempfile::tempdir().expect("dir");
    let backup = work.path().join("backup");
    let office = TestOffice::demo().await;
    let day = tokio::spawn(field_day(office.url(), work.path().to_owned()));
    let state = office.running().state.clone();
    let started = Instant::now();
    while state.store.complete_attachments().expect("read").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the field day uploads a photo"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let db = office.db().to_owned();
    let out = backup.clone();
    tokio::task::spawn_blocking(move || {
        script_ok("backup.sh", &["--db", s(&db), "--out", s(&out)]);
    })
    .await
    .expect("join");
    day.await.expect("the field day ends");
    let end = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || evidence(&*state.store, &state.files))
            .await
            .expect("join")
    };

    let db = work.path().join("restored/office.db");
    script_ok("restore.sh", &["--from", s(&backup), "--db", s(&db)]);
    let restored = tokio::task::spawn_blocking(move || open_sqlite(&db))
        .await
        .expect("join");
    assert!(
        restored.events > 0 && !restored.attachments.is_empty(),
        "the backup caught the day under way: {restored:?}"
    );
    assert!(
        restored.events <= end.events && restored.log_size <= end.log_size,
        "and holds no more than the office ended with"
    );
    eprintln!(
        "mid-sync backup: {} of {} events, {} of {} files",
        restored.events,
        end.events,
        restored.attachments.len(),
        end.attachments.len()
    );
}

/// The office on PostgreSQL with its files in a folder, serving on loopback on `rt`. The store's
/// client is synchronous: it is opened and read outside the runtime, as the office's handlers
/// call it on blocking threads.
fn pg_office(
    rt: &tokio::runtime::Runtime,
    url: &str,
    dir: &Path,
) -> heatcrew_office::RunningOffice {
    let store = PgStore::open(url).expect("open the PostgreSQL store");
    let office =
        Office::with_store(Config::new(dir.join("office")), Arc::new(store)).expect("office");
    office.seed_demo().expect("seed the demo company");
    rt.block_on(office.spawn("127.0.0.1:0")).expect("serve")
}

fn open_pg(url: &str, key_file: &Path, files: &Path) -> Evidence {
    let store = PgStore::open(url).expect("the restored database opens");
    // No SQLite file is involved: the path only seeds the defaults, both overridden here.
    let mut config = Config::new(files.with_file_name("unused.db"));
    config.key_file = key_file.to_owned();
    config.objects = Location::Folder(files.to_owned());
    let office = Office::with_store(config, Arc::new(store)).expect("its key fits");
    evidence(&*office.store(), &office.state().files)
}

#[test]
fn a_postgres_office_backed_up_with_pg_dump_restores_whole_and_damage_is_caught() {
    let Some(original) = TestDb::create() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let work = tempfile::tempdir().expect("dir");
    let backup = work.path().join("backup");
    let running = pg_office(&rt, &original.url, work.path());
    rt.block_on(field_day(running.url(), work.path()));
    // Held past `stop` so the last handle on the store (and its pool) is dropped here, outside
    // the runtime: the synchronous client cannot close its connections inside one.
    let state = running.state.clone();
    let config = state.config.clone();
    let before = evidence(&*state.store, &state.files);
    let Location::Folder(files) = config.objects.clone() else {
        panic!("files in a folder")
    };

    let (_, backup_took) = script_ok(
        "backup.sh",
        &[
            "--database",
            &original.url,
            "--key-file",
            s(&config.key_file),
            "--objects",
            s(&files),
            "--out",
            s(&backup),
        ],
    );
    eprintln!(
        "PostgreSQL office: {} events, {} files; backup {} KiB (dump {} KiB) in {} ms",
        before.events,
        before.attachments.len(),
        du_kib(&backup),
        du_kib(&backup.join("office.pgdump")),
        backup_took.as_millis()
    );
    rt.block_on(running.stop());
    drop(state);
    // The original is gone: the database dropped, the key file and files deleted.
    drop(original);
    std::fs::remove_dir_all(&files).expect("delete the files");
    std::fs::remove_file(&config.key_file).expect("delete the key");

    let target = TestDb::create().expect("a second database");
    let fresh = work.path().join("restored");
    let key = fresh.join("office-key");
    let fresh_files = fresh.join("files");
    let restore_args = [
        "--from",
        s(&backup),
        "--database",
        &target.url,
        "--key-file",
        s(&key),
        "--objects",
        s(&fresh_files),
    ];
    let (_, restore_took) = script_ok("restore.sh", &restore_args);
    eprintln!(
        "PostgreSQL office: restore in {} ms",
        restore_took.as_millis()
    );
    assert_eq!(
        open_pg(&target.url, &key, &fresh_files),
        before,
        "the restored office has the same events, tree head and files"
    );

    // Onto a database with tables: refused without --force; with it, replaced whole.
    let err = script_refused(
        "restore.sh",
        &restore_args,
        "a restore onto a database that holds an office",
    );
    assert!(
        err.contains("not empty") && err.contains("tables"),
        "says why: {err}"
    );
    let mut forced = restore_args.to_vec();
    forced.push("--force");
    script_ok("restore.sh", &forced);
    assert_eq!(
        open_pg(&target.url, &key, &fresh_files),
        before,
        "a forced restore gives the same office"
    );

    // One byte flipped in the dump: refused before the database is touched.
    let damaged = work.path().join("damaged");
    copy_backup(&backup, &damaged);
    flip_a_byte(&damaged.join("office.pgdump"));
    let empty = TestDb::create().expect("a third database");
    let err = script_refused(
        "restore.sh",
        &[
            "--from",
            s(&damaged),
            "--database",
            &empty.url,
            "--key-file",
            s(&work.path().join("k3")),
            "--objects",
            s(&work.path().join("f3")),
        ],
        "a damaged dump",
    );
    assert!(
        err.contains("damaged") && err.contains("office.pgdump"),
        "names the dump: {err}"
    );
    assert!(
        !work.path().join("k3").exists(),
        "nothing is restored from a damaged backup"
    );
}

/// With S3 the scripts copy the bucket's files with the AWS CLI (`aws s3 sync`): a SQLite office
/// whose photos are on a real S3-protocol server (s3s-fs) is backed up, its objects deleted, and
/// restored under another prefix of the bucket; the restored office verifies the same. `./dev test`
/// installs both (Debian's `awscli`, s3s-fs from crates.io) and requires them
/// (`HEATCREW_S3_REQUIRED=1`); elsewhere the case skips, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_office_with_s3_objects_restores_to_another_prefix() {
    if !on_path("aws") {
        assert!(
            std::env::var_os(heatcrew_testkit::s3_server::REQUIRED_ENV).is_none(),
            "the AWS CLI (`aws`) is required here (Debian package awscli, installed by ./dev)"
        );
        eprintln!("skipped: the AWS CLI (`aws`) is not installed");
        return;
    }
    let Some(s3) = S3Server::start() else {
        return;
    };
    let mut env: Vec<(&str, String)> = s3.env().to_vec();
    // The AWS CLI before 1.29/2.13 reads the region only from here.
    env.push(("AWS_DEFAULT_REGION", "us-east-1".into()));
    let work = tempfile::tempdir().expect("dir");
    let backup = work.path().join("backup");
    let location = s3.location("office");
    let mut office = TestOffice::start_with(Seed::Demo, |c| c.objects = location).await;
    field_day(office.url(), work.path()).await;
    let before = {
        let state = office.running().state.clone();
        tokio::task::spawn_blocking(move || evidence(&*state.store, &state.files))
            .await
            .expect("join")
    };
    let original = s3.url("office");
    script_ok_with(
        "backup.sh",
        &[
            "--db",
            s(office.db()),
            "--objects",
            &original,
            "--out",
            s(&backup),
        ],
        &env,
    );
    office.stop().await;
    drop(office);
    std::fs::remove_dir_all(s3.object_file("office")).expect("delete the original objects");

    let db = work.path().join("restored/office.db");
    let target = s3.url("restored");
    let args = ["--from", s(&backup), "--db", s(&db), "--objects", &target];
    script_ok_with("restore.sh", &args, &env);
    let restored = {
        let (db, location) = (db.clone(), s3.location("restored"));
        tokio::task::spawn_blocking(move || {
            let mut config = Config::new(&db);
            config.objects = location;
            let office = Office::open(config).expect("the restored office opens");
            evidence(&*office.store(), &office.state().files)
        })
        .await
        .expect("join")
    };
    assert_eq!(
        restored, before,
        "the same events, tree head and files, now under the new prefix"
    );
    std::fs::remove_file(&db).expect("remove the database, keep the objects");
    std::fs::remove_file(db.with_extension("db.office-key")).expect("and the key");
    let err = script_refused_with("restore.sh", &args, &env, "a prefix that holds objects");
    assert!(
        err.contains("objects under") && err.contains("--force"),
        "a bucket prefix with objects is not overwritten silently: {err}"
    );
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()))
}
