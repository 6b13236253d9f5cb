//! `heatcrew-device verify` on a demo log: an honest one verifies, every kind of tampering is named.

use super::*;

fn device_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heatcrew-device"))
}

fn run_verify(db: &Path) -> (bool, String) {
    let out = device_bin()
        .args(["verify", "--db"])
        .arg(db)
        .output()
        .expect("run verify");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A demo database, copied so each tampering starts from a clean log.
fn demo_db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("phone.db");
    let out = device_bin()
        .args(["demo", "--visits", "3", "--db"])
        .arg(&db)
        .output()
        .expect("demo");
    assert!(
        out.status.success(),
        "demo runs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, db)
}

fn tamper(db: &Path, sql: &str) {
    let conn = raw(db);
    // An attacker with the file can drop our triggers; the signatures still catch them.
    conn.execute_batch("PRAGMA foreign_keys = OFF; DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; DROP TRIGGER events_gap_free;")
        .expect("drop triggers");
    conn.execute_batch(sql).expect("tamper");
}

#[test]
fn verify_accepts_an_honest_log_and_exports_it() {
    let (_dir, db) = demo_db();
    let (ok, out) = run_verify(&db);
    assert!(ok, "an untouched demo log verifies: {out}");
    assert!(
        out.starts_with("ok: ") && out.contains(" events"),
        "verify prints ok: N events: {out}"
    );
    let export = device_bin()
        .args(["export", "--db"])
        .arg(&db)
        .output()
        .expect("export");
    let lines = String::from_utf8(export.stdout).expect("utf8");
    let n: usize = out
        .strip_prefix("ok: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("count");
    assert_eq!(
        lines.lines().count(),
        n + 2,
        "export writes a header, the device line and one line per event"
    );
    for line in lines.lines() {
        serde_json::from_str::<heatcrew_protocol::export::ExportLine>(line)
            .expect("each line is an export line");
    }
}

#[test]
fn verify_names_every_kind_of_tampering() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "edit a payload",
            "UPDATE events SET payload = replace(payload, '堵塞', '正常') WHERE seq = (SELECT MIN(seq) FROM events WHERE payload LIKE '%堵塞%')",
            "edited",
        ),
        (
            "edit a time",
            "UPDATE events SET recorded_at = '2020-01-01T00:00:00.000Z' WHERE seq = 5",
            "edited",
        ),
        (
            "delete one in the middle",
            "DELETE FROM events WHERE seq = 7",
            "missing",
        ),
        (
            "delete the newest",
            "DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)",
            "missing",
        ),
        (
            "swap two rows",
            "UPDATE events SET seq = -1 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 4; UPDATE events SET seq = 4 WHERE seq = -1;",
            "reordered",
        ),
        (
            "insert a forged event",
            "UPDATE events SET seq = seq + 1000 WHERE seq >= 6; UPDATE events SET seq = seq - 999 WHERE seq >= 1006; INSERT INTO events SELECT 6, 'forged', job_id, kind, payload, recorded_at, elapsed_ms, prev_hash, hash, sig, format FROM events WHERE seq = 5;",
            "event 6",
        ),
        (
            "replace a signature",
            "UPDATE events SET sig = zeroblob(64) WHERE seq = 2",
            "bad signature",
        ),
    ];
    for (what, sql, expect) in cases {
        let (_dir, db) = demo_db();
        tamper(&db, sql);
        let (ok, out) = run_verify(&db);
        assert!(!ok, "verify must fail after we {what}: {out}");
        assert!(
            out.contains(expect),
            "after we {what}, verify says {expect:?}: {out}"
        );
    }
}
