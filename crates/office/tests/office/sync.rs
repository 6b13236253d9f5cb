//! Push and pull: exactly-once, replays as duplicates, gaps and tampering refused, clocks, large backlogs, concurrency.

use super::*;

#[tokio::test]
async fn push_accepts_once_replays_as_duplicates_and_gaps_are_409() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let batch: Vec<Event> = ["appointment", "arrive", "show_id"]
        .iter()
        .map(|s| dev.record(job.id, &step(s)))
        .collect();

    let order = json!({"id": job.id, "fault": job.title, "customer": job.customer});
    let (status, again) = o.post_json("/api/v1/jobs", Some(&staff), &order).await;
    assert_eq!(
        (status, again["id"].clone()),
        (StatusCode::OK, json!(job.id)),
        "creating the same work order again (a retry) returns it"
    );
    let (_, jobs) = o.get_json("/api/v1/jobs", &staff).await;
    assert_eq!(
        jobs.as_array().map(Vec::len),
        Some(1),
        "a retried create makes no second job"
    );
    let (status, clash) = o
        .post_json(
            "/api/v1/jobs",
            Some(&staff),
            &json!({"id": job.id, "fault": "别的故障", "customer": job.customer}),
        )
        .await;
    assert_eq!(
        (status, clash["code"].as_str()),
        (StatusCode::CONFLICT, Some("job_exists")),
        "a different order under a taken id is refused"
    );

    let resp = o.push_ok(&dev, &batch).await;
    assert_eq!(
        outcomes(&resp),
        ["accepted"; 3],
        "a fresh, valid batch is stored"
    );
    assert_eq!(resp.last_seq, 3, "the ledger moves to the last event");

    let replay = o.push_ok(&dev, &batch).await;
    assert_eq!(
        outcomes(&replay),
        ["duplicate"; 3],
        "a retried batch is acknowledged, not stored again"
    );
    assert_eq!(replay.last_seq, 3, "a replay does not move the ledger");
    let detail = o.job_detail(&staff, job.id).await;
    assert_eq!(
        detail["steps"].as_array().map(Vec::len),
        Some(3),
        "the office holds each step exactly once"
    );

    let e4 = dev.record(job.id, &step("knock"));
    let e5 = dev.record(job.id, &step("shoe_covers"));
    let (status, body) = o.push(&dev, std::slice::from_ref(&e5)).await;
    assert_eq!(status, StatusCode::CONFLICT, "a gap in device_seq is a 409");
    assert_eq!(
        (body["code"].as_str(), body["expected_seq"].as_u64()),
        (Some("sequence_gap"), Some(4)),
        "the device is told where to resume"
    );

    let e6 = dev.record(job.id, &step("diagnose"));
    let (status, body) = o.push(&dev, &[e4.clone(), e6.clone()]).await;
    assert_eq!(
        (status, body["expected_seq"].as_u64()),
        (StatusCode::CONFLICT, Some(4)),
        "a gap inside a batch refuses the whole batch"
    );
    assert_eq!(
        o.push_ok(&dev, &[]).await.last_seq,
        3,
        "nothing of a refused batch was stored"
    );

    let resp = o.push_ok(&dev, &[e4, e5, e6]).await;
    assert_eq!(
        outcomes(&resp),
        ["accepted"; 3],
        "after resyncing from the expected seq the rest goes through"
    );
    let (status, page) = o
        .get_json(
            &format!("/api/v1/devices/{}/events?after=1&limit=2", dev.id),
            &staff,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "staff can read a device's ledger: {page}"
    );
    let page: Vec<Event> = serde_json::from_value(page).expect("events");
    assert_eq!(
        page,
        batch[1..3].to_vec(),
        "the ledger pages in sequence order, exactly as signed"
    );

    let close = dev.record(
        job.id,
        &EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "更换阀门".into(),
        },
    );
    o.push_ok(&dev, &[close]).await;
    let (status, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the summary report is served: {summary}"
    );
    assert_eq!(summary["jobs_closed"], 1, "a closed job counts as closed");
    assert_eq!(
        summary["timely_repair_rate"], 1.0,
        "resolved an hour after the report is within 4 hours"
    );
    assert_eq!(
        summary["events_accepted"], 7,
        "every accepted event counts once"
    );
}

#[tokio::test]
async fn tampered_events_are_rejected_with_a_code_and_break_nothing() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let first = dev.record(job.id, &step("appointment"));
    o.push_ok(&dev, std::slice::from_ref(&first)).await;

    let stranger = SigningKey::generate(&mut rand::rngs::OsRng);
    let forged = dev.unsigned(job.id, &step("arrive")).seal(&stranger);
    let mut edited = dev.unsigned(job.id, &step("arrive")).seal(&dev.key);
    edited.unsigned.payload["step"] = json!("signature");
    let mut unlinked = dev.unsigned(job.id, &step("arrive"));
    unlinked.prev_hash = Digest::of(b"not the previous event");
    let unlinked = unlinked.seal(&dev.key);
    for (bad, code, why) in [
        (forged, "bad_signature", "an event signed by another key"),
        (edited, "edited", "an event edited after sealing"),
        (
            unlinked,
            "broken_chain",
            "an event that does not link to the previous one",
        ),
    ] {
        let resp = o.push_ok(&dev, &[bad]).await;
        assert_eq!(outcomes(&resp), [code], "{why} is rejected with its code");
        assert_eq!(resp.last_seq, 1, "{why} does not advance the ledger");
    }

    let mut conflicting = first.clone();
    conflicting.unsigned.payload["step"] = json!("arrive");
    let conflicting = conflicting.unsigned.seal(&dev.key);
    let resp = o.push_ok(&dev, &[conflicting]).await;
    assert_eq!(
        outcomes(&resp),
        ["conflicting_duplicate"],
        "a different event at a stored seq is refused"
    );

    let mut zero = dev.unsigned(job.id, &step("arrive"));
    zero.device_seq = 0;
    let resp = o.push_ok(&dev, &[zero.seal(&dev.key)]).await;
    assert_eq!(
        outcomes(&resp),
        ["out_of_sequence"],
        "sequence numbers start at 1; 0 is refused, not a server error"
    );

    let next = dev.record(job.id, &step("arrive"));
    let after = dev.record(job.id, &step("show_id"));
    let resp = o.push_ok(&dev, &[next, after]).await;
    assert_eq!(
        outcomes(&resp),
        ["accepted", "accepted"],
        "the device's honest chain goes on after the refusals"
    );
    let detail = o.job_detail(&staff, job.id).await;
    let steps: Vec<&str> = detail["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["step"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        steps,
        ["appointment", "arrive", "show_id"],
        "only verified events reach the job"
    );
    assert!(
        heatcrew_office::verify::verify_all(o.store(), Some(&o.running().state.files)).is_ok(),
        "the stored chain still verifies"
    );
}

#[tokio::test]
async fn device_clock_offsets_are_recorded_and_jumps_flagged() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let dev = o.device("tech_a").await;
    for behind in [
        Duration::minutes(10),
        Duration::minutes(10),
        Duration::hours(2),
    ] {
        let resp = o
            .http
            .get(o.endpoint("/api/v1/sync/pull?cursor=0"))
            .bearer_auth(&dev.login.access_token)
            .header(DEVICE_TIME_HEADER, (Utc::now() - behind).to_rfc3339())
            .send()
            .await
            .expect("pull");
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "pull with a device clock works"
        );
    }
    let rec = o.store().device(dev.id).expect("lookup").expect("device");
    let offset = rec.clock_offset_ms.expect("an offset was recorded");
    assert!(
        (offset - 2 * 3600 * 1000).abs() < 5000,
        "the offset is server minus device: {offset}"
    );
    assert_eq!(
        rec.clock_jumps, 1,
        "a 10-minute steady offset is not a jump, moving to 2 hours is"
    );
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        summary["devices_clock_flagged"], 1,
        "the report flags the device"
    );
}

#[tokio::test]
async fn a_device_clock_outside_the_protocols_bounds_is_refused_with_400_and_records_nothing() {
    let o = TestOffice::start().await;
    let dev = o.device("tech_a").await;
    let pull = |time: String| {
        o.http
            .get(o.endpoint("/api/v1/sync/pull?cursor=0"))
            .bearer_auth(&dev.login.access_token)
            .header(DEVICE_TIME_HEADER, time)
            .send()
    };
    let earliest = heatcrew_protocol::bounds::earliest();
    let latest = heatcrew_protocol::bounds::latest();
    for bad in [
        "+262142-01-01T00:00:00Z".to_owned(),
        "1970-01-01T00:00:00Z".to_owned(),
        (earliest - Duration::seconds(1)).to_rfc3339(),
        latest.to_rfc3339(),
        "yesterday".to_owned(),
    ] {
        let resp = pull(bad.clone()).await.expect("pull");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = resp.json().await.expect("error json");
        assert_eq!(body["code"], "bad_device_time", "{bad}: {body}");
    }
    let rec = o.store().device(dev.id).expect("lookup").expect("device");
    assert_eq!(
        (rec.clock_offset_ms, rec.clock_jumps),
        (None, 0),
        "no refused clock was recorded"
    );
    // The bounds themselves are accepted (a device clock years off is flagged, not refused).
    for ok in [earliest, latest - Duration::seconds(1)] {
        let resp = pull(ok.to_rfc3339()).await.expect("pull");
        assert_eq!(resp.status(), StatusCode::OK, "{ok}");
    }
    // Logging in checks the header too, before any session is opened.
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let id = Uuid::new_v4();
    let challenge = o.challenge(id).await;
    let proof = heatcrew_testkit::key_device::enrolment_proof(
        &challenge,
        id,
        &key.verifying_key(),
        "tech_b",
        &heatcrew_protocol::ChainTip::START,
        &key,
    );
    let resp = o
        .http
        .post(o.endpoint("/api/v1/auth/login"))
        .header(DEVICE_TIME_HEADER, "+262142-01-01T00:00:00Z")
        .json(
            &json!({"username": "tech_b", "password": PASSWORD, "device_id": id,
            "device_public_key": hex::encode(key.verifying_key().as_bytes()),
            "device_name": "t", "challenge": challenge, "proof": proof,
            "chain_head": heatcrew_protocol::ChainTip::START}),
        )
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.expect("error json");
    assert_eq!(body["code"], "bad_device_time", "{body}");
    assert!(
        o.store().device(id).expect("lookup").is_none(),
        "the refused login enrolled nothing"
    );
}

#[tokio::test]
async fn a_10000_event_backlog_goes_up_in_10_requests() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let backlog: Vec<Event> = (0..10_000)
        .map(|i| {
            dev.record(
                job.id,
                &EventBody::ReadingRecorded {
                    checkpoint: format!("cp-{}", i % 7),
                    readings: vec![heatcrew_protocol::Reading {
                        key: "supply_temp".into(),
                        value: 95.5,
                        unit: "°C".into(),
                    }],
                    note: "正常".into(),
                },
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let mut requests = 0;
    for batch in backlog.chunks(heatcrew_protocol::sync::MAX_PUSH_EVENTS) {
        let resp = o.push_ok(&dev, batch).await;
        requests += 1;
        assert!(
            resp.results
                .iter()
                .all(|r| r.outcome == PushOutcome::Accepted),
            "every event of the backlog is accepted"
        );
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "pushed 10000 events in {requests} requests, {secs:.2} s, {:.0} events/s",
        10_000.0 / secs
    );
    assert!(
        requests <= 10,
        "the backlog fits in 10 requests (MAX_PUSH_EVENTS per request within MAX_PUSH_BYTES)"
    );
    assert_eq!(
        o.push_ok(&dev, &[]).await.last_seq,
        10_000,
        "the ledger holds all of them"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_and_duplicated_pushes_from_many_devices_land_exactly_once() {
    let o = std::sync::Arc::new(TestOffice::start().await);
    let staff = o.staff("dispatch").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let mut devices = Vec::new();
    for _ in 0..10 {
        devices.push(o.device("tech_a").await);
    }
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for mut dev in devices {
        let batch: Vec<Event> = (0..200)
            .map(|i| dev.record(job.id, &step(&format!("s{i}"))))
            .collect();
        let o = o.clone();
        tasks.push(tokio::spawn(async move {
            // The same batch twice at once, as a duplicating proxy would deliver it.
            let (first, second) = tokio::join!(o.push_ok(&dev, &batch), o.push_ok(&dev, &batch));
            for (a, b) in first.results.iter().zip(&second.results) {
                let pair = [&a.outcome, &b.outcome];
                assert!(
                    pair.contains(&&PushOutcome::Accepted)
                        && pair.contains(&&PushOutcome::Duplicate),
                    "each event is accepted by exactly one of the two deliveries: {pair:?}"
                );
            }
        }));
    }
    for t in tasks {
        t.await.expect("device task");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "10 devices x 200 events, each pushed twice concurrently: {secs:.2} s, {:.0} events/s",
        2000.0 / secs
    );
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        summary["events_accepted"], 2000,
        "2000 events recorded, 2000 at the office: none lost, none doubled"
    );
    assert!(
        heatcrew_office::verify::verify_all(o.store(), None).is_ok(),
        "every chain verifies"
    );
}

/// The office's clock is one clock: what a device corrects its own by (the pull's `server_time`,
/// every response's server-time header), the time a push is stored at (its receipts, the log's
/// tree head) and the time a work order is opened at all follow it. Moved three days ahead here
/// (the test clock), none of them may read the machine's clock instead.
#[tokio::test]
async fn every_answer_and_record_follows_the_offices_one_clock() {
    let clock = heatcrew_office::clock::Clock::system();
    let c = clock.clone();
    let o = TestOffice::start_with(Seed::TestAccounts, move |cfg| cfg.clock = c).await;
    clock.advance(Duration::days(3));
    let near = |t: chrono::DateTime<Utc>, what: &str| {
        let off = t - (Utc::now() + Duration::days(3));
        assert!(
            off.num_seconds().abs() < 60,
            "{what} is on the office's clock (3 days ahead), not the machine's: {t}"
        );
    };
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let detail = o.job_detail(&staff, job.id).await;
    near(
        detail["created_at"]
            .as_str()
            .expect("created_at")
            .parse()
            .expect("a time"),
        "the job's opening",
    );
    let event = dev.record(job.id, &step("appointment"));
    let pushed = o.push_ok(&dev, &[event]).await;
    let receipt = pushed.results[0].receipt.as_ref().expect("a receipt");
    near(receipt.received_at, "the receipt's received_at");
    near(pushed.server_time, "the push's server_time");
    let pulled = o.pull(&dev.login.access_token, 0).await;
    near(pulled.server_time, "the pull's server_time");
    near(
        pulled.tree_head.expect("a tree head").timestamp,
        "the pull's tree head",
    );
    let resp = o
        .http
        .get(o.endpoint("/healthz"))
        .send()
        .await
        .expect("healthz");
    let header = resp
        .headers()
        .get(SERVER_TIME_HEADER)
        .and_then(|v| v.to_str().ok())
        .expect("the server-time header");
    near(header.parse().expect("a time"), "the server-time header");
}
