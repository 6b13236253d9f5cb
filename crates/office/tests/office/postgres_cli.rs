//! The real `heatcrew-office` binary on PostgreSQL (`--database postgres://…`): what it refuses
//! (no key file, no objects, an unreachable server: each a clear error naming the flag, never the
//! password), then `user add`, `serve` taking a device's pushes, `verify` and `export` on the
//! same database.

use heatcrew_testkit::TestDevice;
use heatcrew_testkit::pg::TestDb;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Given in every address: the test cluster trusts loopback, so it is never checked, and it must
/// never appear in anything the office prints.
const SECRET: &str = "Pw-n0t-for-logs";

fn office() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heatcrew-office"))
}

fn run(cmd: &mut Command) -> (bool, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run heatcrew-office");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    assert!(
        !text.contains(SECRET),
        "the database password is never printed: {text}"
    );
    (status.success(), text)
}

/// `postgres://user@host…` with [`SECRET`] as the user's password.
fn with_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// url");
    let (user, host) = rest
        .split_once('@')
        .expect("the test cluster's url names a user");
    let user = user.split(':').next().unwrap_or(user);
    format!("{scheme}://{user}:{SECRET}@{host}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_binary_serves_verifies_and_exports_on_postgres() {
    let Some(db) = tokio::task::block_in_place(TestDb::create) else {
        return;
    };
    let url = with_password(&db.url);
    let dir = tempfile::tempdir().expect("dir");
    let key = dir.path().join("office-key");
    let files = dir.path().join("files");

    // What is refused, and how it is said.
    let (ok, text) = run(office().args(["serve", "--database", &url]));
    assert!(!ok && text.contains("--key-file"), "no key file: {text}");
    let (ok, text) = run(office()
        .args(["serve", "--database", &url, "--key-file"])
        .arg(&key));
    assert!(!ok && text.contains("--objects"), "no objects: {text}");
    let (ok, text) = run(office().args(["verify", "--database", &url]));
    assert!(!ok && text.contains("--objects"), "verify too: {text}");
    let (ok, text) = run(office()
        .args(["serve", "--db", "x.db", "--database", &url])
        .arg("--key-file")
        .arg(&key));
    assert!(!ok && text.contains("not both"), "one database: {text}");
    let unreachable = format!("postgres://office:{SECRET}@127.0.0.1:1/heatcrew");
    let (ok, text) = run(office()
        .args(["user", "add", "--database", &unreachable])
        .args([
            "--username",
            "x",
            "--password",
            "long enough pw",
            "--role",
            "admin",
            "--name",
            "x",
        ]));
    assert!(
        !ok && text.contains("cannot connect") && text.contains("office:***@127.0.0.1:1"),
        "an unreachable server is named without its password: {text}"
    );
    assert!(!key.exists(), "nothing was created by the refused starts");

    // user add creates the schema and the user.
    let (ok, text) = run(office()
        .args(["user", "add", "--database", &url])
        .args([
            "--username",
            "boss",
            "--password",
            "boss password 1",
            "--role",
            "dispatcher",
        ])
        .args(["--name", "调度长"]));
    assert!(ok, "user add on PostgreSQL: {text}");

    // serve, the address from the environment; a demo technician's phone pushes.
    let log = dir.path().join("serve.log");
    let mut child = office()
        .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--objects"])
        .arg(&files)
        .arg("--key-file")
        .arg(&key)
        .env("HEATCREW_DATABASE", &url)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = String::new();
    let office_url = loop {
        let line = lines
            .next()
            .expect("serve prints its address")
            .expect("read");
        printed.push_str(&line);
        printed.push('\n');
        if let Some(a) = line.strip_prefix("listening on ") {
            break a.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let device =
        TestDevice::sign_in(&office_url, "zhangwei", heatcrew_testkit::DEMO_PASSWORD).await;
    device.syncer.sync_once().await.expect("pull");
    {
        let mut s = device.lock();
        let job = s.jobs().expect("jobs").first().expect("a demo job").job.id;
        for step in ["appointment", "arrive"] {
            s.record(
                job,
                heatcrew_protocol::EventBody::StepCompleted {
                    step: step.into(),
                    evidence: Default::default(),
                },
            )
            .expect("record");
        }
    }
    let report = device.syncer.sync_once().await.expect("push");
    assert_eq!(report.pushed, 2, "the office on PostgreSQL took both");
    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(&log).expect("log");
    assert!(
        !logged.contains(SECRET) && !printed.contains(SECRET),
        "serve never prints the password: {logged}{printed}"
    );
    assert!(
        logged.contains(":***@"),
        "it names the database it serves, password hidden: {logged}"
    );
    assert!(key.exists(), "the first start created the key file given");

    let (ok, text) = run(office()
        .args(["verify", "--database", &url, "--objects"])
        .arg(&files));
    assert!(
        ok && text.contains("ok: 2 events"),
        "verify on PostgreSQL: {text}"
    );

    let out = dir.path().join("export.jsonl");
    let (ok, text) = run(office()
        .args(["export", "--database", &url, "--key-file"])
        .arg(&key)
        .arg("--out")
        .arg(&out));
    assert!(ok, "export on PostgreSQL: {text}");
    let (ok, text) = run(office().arg("verify-export").arg(&out));
    assert!(ok, "the export checks: {text}");
    assert_exported_events(&out, 2);
}

fn assert_exported_events(path: &Path, want: usize) {
    let text = std::fs::read_to_string(path).expect("export");
    let events = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "event")
        .count();
    assert_eq!(events, want, "the export holds every pushed event");
}

#[test]
fn seed_refuses_a_postgres_address_instead_of_making_a_file_of_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("postgres://postgres:{SECRET}@127.0.0.1:1/none");
    let (ok, text) = run(office().current_dir(dir.path()).args([
        "seed",
        "--jobs",
        "10",
        "--events",
        "10",
        "--database",
        &url,
    ]));
    assert!(!ok, "refused: {text}");
    assert!(text.contains("SQLite file only"), "{text}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("read dir").collect();
    assert!(left.is_empty(), "no file was made: {left:?}");
}
