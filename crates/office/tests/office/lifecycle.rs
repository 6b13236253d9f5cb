//! The office as a process: `serve` and the demo seed, restarts that forget nothing, `verify` on stored data.

use super::*;

#[tokio::test]
async fn verify_catches_a_tampered_stored_event() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let events: Vec<Event> = ["appointment", "arrive", "show_id"]
        .iter()
        .map(|s| dev.record(job.id, &step(s)))
        .collect();
    o.push_ok(&dev, &events).await;
    let bin = env!("CARGO_BIN_EXE_heatcrew-office");
    let out = std::process::Command::new(bin)
        .args(["verify", "--db"])
        .arg(o.db())
        .output()
        .expect("run verify");
    assert!(
        out.status.success(),
        "an untouched office verifies: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok: 3 events from 1 devices; 0 attachment files intact; office log of 3 entries, 0 tree heads",
        "verify says what it checked"
    );

    let sqlite = heatcrew_office::store::SqliteStore::open(o.db()).expect("open db");
    sqlite.with_connection(|c| {
        c.execute(
            "UPDATE events SET body = json_set(body, '$.payload.step', 'skipped_arrival') WHERE device_seq = 2",
            [],
        )
        .expect("tamper")
    });
    let out = std::process::Command::new(bin)
        .args(["verify", "--db"])
        .arg(o.db())
        .output()
        .expect("run verify");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a tampered event fails verification");
    assert!(
        stdout.contains("event 2") && stdout.contains("edited"),
        "verify names the first bad event: {stdout}"
    );
}

#[tokio::test]
async fn serve_prints_its_address_and_the_demo_is_seeded_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("demo.db");
    let bin = env!("CARGO_BIN_EXE_heatcrew-office");
    let add = std::process::Command::new(bin)
        .args([
            "user",
            "add",
            "--username",
            "admin",
            "--password",
            "first admin pw",
            "--role",
            "admin",
            "--name",
            "周总",
            "--db",
        ])
        .arg(&db)
        .output()
        .expect("run user add");
    assert!(
        add.status.success(),
        "`user add` creates the first admin: {}",
        String::from_utf8_lossy(&add.stderr)
    );
    let bad = std::process::Command::new(bin)
        .args([
            "user",
            "add",
            "--username",
            "x",
            "--password",
            "long enough",
            "--role",
            "boss",
            "--name",
            "x",
            "--db",
        ])
        .arg(&db)
        .output()
        .expect("run user add");
    assert!(!bad.status.success(), "an unknown role is refused");
    for round in 0..2 {
        let mut child = tokio::process::Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--db"])
            .arg(&db)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn office");
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut url = None;
        let mut printed = String::new();
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            printed.push_str(&line);
            printed.push('\n');
            if let Some(u) = line.strip_prefix("listening on ") {
                url = Some(u.to_owned());
                break;
            }
        }
        let url = url.expect("serve prints `listening on URL`");
        assert!(
            printed.contains("zhangwei / heatcrew-demo"),
            "the demo logins are printed: {printed}"
        );
        assert!(
            !printed.contains("admin / heatcrew-demo"),
            "an account that existed before keeps its own password and is not listed as a demo login"
        );
        let http = reqwest::Client::new();
        // The demo dispatcher can log in.
        let token =
            heatcrew_testkit::staff_token_at(&url, "zhaomin", heatcrew_testkit::DEMO_PASSWORD)
                .await;
        let jobs: Vec<Value> = http
            .get(format!("{url}/api/v1/jobs"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("jobs")
            .json()
            .await
            .expect("json");
        let of_kind = |kind: &str| jobs.iter().filter(|j| j["kind"] == kind).count();
        assert_eq!(
            (
                of_kind("home_repair"),
                of_kind("heat_theft_inspection"),
                of_kind("acceptance_inspection")
            ),
            (6, 1, 1),
            "round {round}: six repairs, one inspection and one acceptance, never duplicated: {jobs:?}"
        );
        // The demo's patrol plan opens a round up to 12 h before its shift (patrols::LEAD): after
        // 20:00 China time tomorrow's 08:00 round is there too. Either way, no round twice.
        let rounds: std::collections::BTreeSet<&str> = jobs
            .iter()
            .filter(|j| j["kind"] == "patrol_round")
            .filter_map(|j| j["title"].as_str())
            .collect();
        assert!(
            (1..=2).contains(&rounds.len()) && rounds.len() == of_kind("patrol_round"),
            "round {round}: today's patrol round (and tomorrow's after 20:00), never duplicated: {rounds:?}"
        );
        assert_eq!(
            jobs.len(),
            8 + rounds.len(),
            "round {round}: nothing else: {jobs:?}"
        );
        let boss = http
            .post(format!("{url}/api/v1/auth/staff-login"))
            .json(&json!({"username": "admin", "password": "first admin pw"}))
            .send()
            .await
            .expect("login");
        assert_eq!(
            boss.status(),
            StatusCode::OK,
            "the admin added on the command line can log in"
        );
        let boss: Value = boss.json().await.expect("login json");
        let users = http
            .get(format!("{url}/api/v1/users"))
            .bearer_auth(boss["access_token"].as_str().expect("token"))
            .send()
            .await
            .expect("users");
        assert_eq!(
            users.status(),
            StatusCode::FORBIDDEN,
            "`serve` requires an admin's second factor by default: the password alone opens a session that can only set it up"
        );
        let body: Value = users.json().await.expect("error json");
        assert_eq!(body["code"], "totp_setup_required", "{body}");
        let outages: Vec<Value> = http
            .get(format!("{url}/api/v1/outages"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("outages")
            .json()
            .await
            .expect("json");
        assert_eq!(outages.len(), 1, "round {round}: one outage notice");
        child.kill().await.expect("stop office");
    }
}

#[tokio::test]
async fn a_restarted_office_keeps_ledgers_tokens_and_half_finished_uploads() {
    let mut o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let bytes = vec![42u8; MAX_CHUNK_BYTES + 10];
    let photo = photo_ref(&bytes);
    let sha = photo.sha256;
    let events = [
        dev.record(job.id, &step("appointment")),
        dev.record(
            job.id,
            &EventBody::PhotoAdded {
                step: "diagnose".into(),
                photo,
                caption: String::new(),
            },
        ),
    ];
    o.push_ok(&dev, &events).await;
    let (status, _) = o
        .post_json(
            "/api/v1/attachments",
            Some(&dev.login.access_token),
            &json!({"sha256": sha, "size": bytes.len(), "mime": "image/jpeg"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "upload announced");
    let resp = o
        .http
        .patch(o.endpoint(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&dev.login.access_token)
        .header("upload-offset", "0")
        .body(bytes[..MAX_CHUNK_BYTES].to_vec())
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status(), StatusCode::OK, "first chunk stored");

    // Stop and reopen on the same files.
    o.restart().await;

    let replay = o.push_ok(&dev, &events).await;
    assert_eq!(
        outcomes(&replay),
        ["duplicate", "duplicate"],
        "a restart forgets nothing of the ledger"
    );
    let head = o
        .http
        .head(o.endpoint(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&dev.login.access_token)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.headers()["upload-offset"],
        MAX_CHUNK_BYTES.to_string().as_str(),
        "a half-finished upload resumes where it stopped"
    );
    let resp = o
        .http
        .patch(o.endpoint(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&dev.login.access_token)
        .header("upload-offset", MAX_CHUNK_BYTES.to_string())
        .body(bytes[MAX_CHUNK_BYTES..].to_vec())
        .send()
        .await
        .expect("patch");
    let st: AttachmentStatus = resp.json().await.expect("status");
    assert!(st.complete, "and completes after the restart");
    let next = dev.record(job.id, &step("arrive"));
    assert_eq!(
        outcomes(&o.push_ok(&dev, &[next]).await),
        ["accepted"],
        "the chain continues after the restart"
    );

    // All bytes on disk but the office stopped before checking them: the next HEAD finishes the job
    // instead of reporting a full offset for a file that does not count.
    let second = vec![9u8; 5000];
    let second_ref = photo_ref(&second);
    let s2 = second_ref.sha256;
    let ev = dev.record(
        job.id,
        &EventBody::PhotoAdded {
            step: "clean_up".into(),
            photo: second_ref,
            caption: String::new(),
        },
    );
    o.push_ok(&dev, &[ev]).await;
    let (status, _) = o
        .post_json(
            "/api/v1/attachments",
            Some(&dev.login.access_token),
            &json!({"sha256": s2, "size": 5000, "mime": "image/jpeg"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "announced");
    let session = format!("device-{}", dev.id);
    o.running()
        .state
        .files
        .local_folder()
        .expect("the default folder")
        .append(s2, &session, 0, &second)
        .expect("bytes land, then the office stops");
    let head = o
        .http
        .head(o.endpoint(&format!("/api/v1/attachments/{s2}")))
        .bearer_auth(&dev.login.access_token)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.headers()["upload-offset"],
        "5000",
        "the complete, matching file is counted"
    );

    // Checked and linked into place, but the office stopped before counting it: the same.
    let third = vec![8u8; 3000];
    let third_ref = photo_ref(&third);
    let s3 = third_ref.sha256;
    let ev = dev.record(
        job.id,
        &EventBody::PhotoAdded {
            step: "clean_up".into(),
            photo: third_ref,
            caption: String::new(),
        },
    );
    o.push_ok(&dev, &[ev]).await;
    let (status, _) = o
        .post_json(
            "/api/v1/attachments",
            Some(&dev.login.access_token),
            &json!({"sha256": s3, "size": 3000, "mime": "image/jpeg"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "announced");
    let files = o
        .running()
        .state
        .files
        .local_folder()
        .expect("the default folder");
    files.append(s3, &session, 0, &third).expect("bytes land");
    files.finish(s3, &session).expect("checked and in place");
    let (status, body) = o
        .post_json(
            "/api/v1/attachments",
            Some(&dev.login.access_token),
            &json!({"sha256": s3, "size": 3000, "mime": "image/jpeg"}),
        )
        .await;
    assert_eq!(
        (status, body["complete"].as_bool()),
        (StatusCode::OK, Some(true)),
        "the next announcement counts it: {body}"
    );
    let got = o
        .http
        .get(o.endpoint(&format!("/api/v1/attachments/{s2}")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("download");
    assert_eq!(got.status(), StatusCode::OK, "and can be downloaded");
}
