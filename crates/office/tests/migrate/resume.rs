//! The real binary SIGKILLed mid-migration, again and again, then run to the end.

use super::*;
use heatcrew_office::migrate::plan::TABLES;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Where the copy stands at the target: rows copied (over all tables) and files copied; `None`
/// before the bookkeeping exists.
fn copied(pg: &mut postgres::Client) -> Option<(i64, i64)> {
    let row = pg
        .query_one(
            "SELECT COALESCE(SUM(rows) FILTER (WHERE item <> 'attachment files'), 0)::bigint,
                    COALESCE(SUM(rows) FILTER (WHERE item = 'attachment files'), 0)::bigint
             FROM migration_progress",
            &[],
        )
        .ok()?;
    Some((row.get(0), row.get(1)))
}

/// Every table's recorded progress equals the rows it holds: a batch and its progress row commit
/// together, so a kill leaves neither half.
fn assert_progress_matches_rows(pg: &mut postgres::Client, after: &str) {
    let recorded: Vec<(String, i64)> = pg
        .query(
            "SELECT item, rows FROM migration_progress WHERE item <> 'attachment files'",
            &[],
        )
        .expect("progress rows")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (table, rows) in recorded {
        let held: i64 = pg
            .query_one(&format!("SELECT COUNT(*) FROM \"{table}\""), &[])
            .expect("count")
            .get(0);
        assert_eq!(
            held, rows,
            "{after}: table {table} holds exactly the rows its progress records"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_killed_again_and_again_resumes_to_the_same_result() {
    let Some(db) = Db::create() else { return };
    let files = FilesTarget::new();
    let (office, _phone) = office_with_visits(3).await;
    let source = rusqlite::Connection::open(office.db()).expect("open the source");
    let total: i64 = TABLES
        .iter()
        .map(|t| {
            source
                .query_row(&format!("SELECT COUNT(*) FROM \"{}\"", t.name), [], |r| {
                    r.get::<_, i64>(0)
                })
                .expect("count")
        })
        .sum();
    drop(source);
    let bin = env!("CARGO_BIN_EXE_heatcrew-office");
    let db_path = office.db().to_owned();
    let key = office.dir().join("moved.office-key");
    let db_url = db.url().to_owned();
    let run = move |pause_ms: u64| -> Child {
        Command::new(bin)
            .arg("migrate")
            .arg("--from")
            .arg(&db_path)
            .args(["--to", db.url(), "--to-objects", &files.arg()])
            .arg("--to-key")
            .arg(&key)
            .args(["--batch-rows", "5", "--pause-ms", &pause_ms.to_string()])
            .envs(files.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start heatcrew-office migrate")
    };
    tokio::task::spawn_blocking(move || {
        let mut pg = postgres::Client::connect(&db_url, postgres::NoTls).expect("connect");
        // Kill points: early in the rows, late in the rows, among the files.
        let stops = [(total / 5, 0), (total * 3 / 5, 0), (total, 1)];
        let mut last = (0, 0);
        for (rows, files_done) in stops {
            let mut child = run(25);
            let started = Instant::now();
            loop {
                if let Some(at) = copied(&mut pg)
                    && at.0 >= rows
                    && at.1 >= files_done
                {
                    break;
                }
                if let Ok(Some(status)) = child.try_wait() {
                    let out = child.wait_with_output().expect("output");
                    panic!(
                        "the run ended ({status}) before it reached {rows} rows and {files_done} files: {}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                assert!(
                    started.elapsed() < Duration::from_secs(120),
                    "no progress"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            child.kill().expect("SIGKILL the migration");
            child.wait().expect("reap it");
            let at = copied(&mut pg).expect("progress after the kill");
            assert!(at >= last, "progress never goes back: {last:?} then {at:?}");
            last = at;
            assert_progress_matches_rows(&mut pg, &format!("after a kill at {at:?}"));
        }
        let out = run(0).wait_with_output().expect("the last run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "the resumed run ends well: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("resumed") && stdout.contains("ok: the target holds the same office"),
            "{stdout}"
        );
        let again = run(0).wait_with_output().expect("one more run");
        assert!(again.status.success(), "a run after the end only compares");
        assert!(
            String::from_utf8_lossy(&again.stdout).contains("compared"),
            "{}",
            String::from_utf8_lossy(&again.stdout)
        );
    })
    .await
    .expect("the kill loop");
}
