//! `heatcrew-office seed`: the command the console benchmark runs on, small. What it seeds passes
//! `heatcrew-office verify` (every event signed and pushed through the ledger) and fills the busy
//! day's board.

use chrono::{FixedOffset, NaiveTime, Utc};
use heatcrew_office::seed::SEED_PASSWORD;
use heatcrew_office::{Config, Office};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Command;

fn office_cmd(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_heatcrew-office"))
        .args(args)
        .output()
        .expect("run heatcrew-office");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn a_seeded_database_verifies_and_fills_the_busy_days_board() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("scale.db");
    let db_arg = db.to_str().expect("utf-8 path");
    // The company stands at the last 15:00 China time that has passed: today's visits stop at any
    // step before the seed's "now", so seeding at 00:30 would leave every visit of the day unstarted.
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let local = Utc::now().with_timezone(&cst);
    let mut day = local.date_naive();
    if local.time() < NaiveTime::from_hms_opt(15, 0, 0).expect("15:00") {
        day = day.pred_opt().expect("a day before");
    }
    let at = day
        .and_hms_opt(15, 0, 0)
        .expect("15:00")
        .and_local_timezone(cst)
        .single()
        .expect("UTC+8 has no gaps")
        .with_timezone(&Utc);
    let now_arg = at.to_rfc3339();
    let (ok, out) = office_cmd(&[
        "seed",
        "--now",
        &now_arg,
        "--jobs",
        "600",
        "--events",
        "6000",
        "--days",
        "20",
        "--field-users",
        "8",
        "--database",
        db_arg,
    ]);
    assert!(ok, "the seed runs: {out}");
    assert!(out.contains("600 jobs"), "all jobs seeded: {out}");
    let events: u64 = out
        .split(" jobs, ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("an event count in: {out}"));
    assert!(
        (5400..=6000).contains(&events),
        "about the events asked for (today's visits stop early): {out}"
    );
    let (again, out2) = office_cmd(&[
        "seed",
        "--jobs",
        "10",
        "--events",
        "10",
        "--database",
        db_arg,
    ]);
    assert!(!again, "a database with users is not seeded twice: {out2}");

    let (ok, verified) = office_cmd(&["verify", "--db", db_arg]);
    assert!(ok, "every seeded event verifies: {verified}");
    assert!(
        verified.contains(&format!("ok: {events} events")),
        "{verified}"
    );

    let office = Office::open(Config::new(&db)).expect("the office opens the seeded file");
    let running = office.spawn("127.0.0.1:0").await.expect("serve");
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/api/v1/auth/staff-login", running.url()))
        .json(&json!({"username": "dispatcher1", "password": SEED_PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["access_token"]
        .as_str()
        .expect("a seeded dispatcher signs in");
    let today = day;
    let resp = http
        .get(format!(
            "{}/api/v1/console/board?date={today}&utc_offset_minutes=480",
            running.url()
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("board");
    assert_eq!(resp.status(), StatusCode::OK);
    let board: Value = resp.json().await.expect("json");
    let jobs = board["jobs"].as_array().expect("jobs");
    let busy: usize = out
        .split("busy day ")
        .nth(1)
        .and_then(|s| s.split('(').nth(1))
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the busy day's job count in: {out}"));
    assert!(busy >= 60, "the busy day has three days' share: {out}");
    assert_eq!(jobs.len(), busy, "the board shows the busy day's jobs");
    let states: std::collections::BTreeSet<&str> =
        jobs.iter().filter_map(|j| j["state"].as_str()).collect();
    assert!(
        states.len() >= 3,
        "today's visits stand at different points: {states:?}"
    );
    running.stop().await;
}
