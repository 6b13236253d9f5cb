//! What a push may carry (issue 11, points 1 and 2): extreme times, numbers, lengths and counts are
//! refused per event with `out_of_range` and the chain goes on; rows that got into the database
//! before the check cannot make a read fail; jobs opened in the field cannot move the KPIs until a
//! dispatcher accepts them; a cancelled or reassigned job cannot be closed.

use super::*;
use chrono::{DateTime, NaiveDate, TimeDelta};
use heatcrew_protocol::{
    AppointmentWindow, Checkpoint, CheckpointKind, JobKind, JobStatus, Position, Reading,
    StepEvidence, TemplateRef,
};
use rusqlite::params;

/// A job a device opens in the field, as the app does (an accident report).
fn emergency(reported_at: DateTime<Utc>) -> Job {
    Job {
        id: Uuid::now_v7(),
        kind: JobKind::EmergencyRepair,
        template: heatcrew_office::api::jobs::template_for(JobKind::EmergencyRepair),
        title: "事故/隐患上报：管道爆裂".into(),
        customer: None,
        site: Some("建设路18号".into()),
        reported_at: Some(reported_at),
        window: None,
        assignee: None,
        street_work: false,
        checkpoints: vec![],
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 0,
    }
}

fn far_future() -> DateTime<Utc> {
    // Near the end of chrono's range (year 262142): `+ 4 hours` on it panics.
    DateTime::<Utc>::MAX_UTC - TimeDelta::hours(1)
}

fn reading(value: f64, unit: &str) -> Reading {
    Reading {
        key: "supply_temp".into(),
        value,
        unit: unit.into(),
    }
}

fn evidence_with(readings: Vec<Reading>, position: Option<Position>) -> EventBody {
    EventBody::StepCompleted {
        step: "diagnose".into(),
        evidence: StepEvidence {
            readings,
            position,
            ..StepEvidence::default()
        },
    }
}

#[tokio::test]
async fn extreme_values_are_refused_per_event_and_the_chain_goes_on() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let mut dev = o.device("tech_a").await;
    let j = job.id;
    let mut bad: Vec<(&str, Event)> = Vec::new();
    let arrive = step("arrive");
    bad.push((
        "a time in year 262142",
        dev.record_with(j, &arrive, |u| u.recorded_at = far_future()),
    ));
    bad.push((
        "a time in 1970",
        dev.record_with(j, &arrive, |u| {
            u.recorded_at = DateTime::from_timestamp(0, 0).expect("epoch")
        }),
    ));
    bad.push((
        "a time at the start of chrono's range",
        dev.record_with(j, &arrive, |u| u.recorded_at = DateTime::<Utc>::MIN_UTC),
    ));
    bad.push((
        "a monotonic clock of u64::MAX",
        dev.record_with(j, &arrive, |u| u.elapsed_ms = u64::MAX),
    ));
    bad.push((
        "a temperature of 10^6 °C (format 2 refuses 2^53 and more as malformed)",
        dev.record(j, &evidence_with(vec![reading(1e6, "°C")], None)),
    ));
    bad.push((
        "a pressure of 500 MPa",
        dev.record(j, &evidence_with(vec![reading(500.0, "MPa")], None)),
    ));
    bad.push((
        "a meter register of 1e12",
        dev.record(j, &evidence_with(vec![reading(1e12, "kWh")], None)),
    ));
    bad.push((
        "201 readings",
        dev.record(j, &evidence_with(vec![reading(60.0, "°C"); 201], None)),
    ));
    bad.push((
        "a latitude of 91°",
        dev.record(
            j,
            &evidence_with(
                vec![],
                Some(Position {
                    lat: Some(91.0),
                    lon: Some(0.0),
                    description: String::new(),
                    ..Default::default()
                }),
            ),
        ),
    ));
    for stars in [0, 6, 255] {
        bad.push((
            "a rating outside 1..=5 stars",
            dev.record(
                j,
                &EventBody::RatingGiven {
                    stars,
                    comment: String::new(),
                },
            ),
        ));
    }
    bad.push((
        "a photo of 10^15 bytes",
        dev.record(
            j,
            &EventBody::PhotoAdded {
                step: "before_photo".into(),
                photo: AttachmentRef {
                    bytes: 1_000_000_000_000_000,
                    ..photo_ref(b"big")
                },
                caption: String::new(),
            },
        ),
    ));
    bad.push((
        "a rectification deadline in year 9999",
        dev.record(
            j,
            &EventBody::NoticeIssued {
                number: "ZG-1".into(),
                deadline: NaiveDate::from_ymd_opt(9999, 12, 31).expect("date"),
                requirements: "拆除旁通管".into(),
                follow_up_on: None,
            },
        ),
    ));
    bad.push((
        "a summary of 10,001 characters",
        dev.record(
            j,
            &EventBody::JobClosed {
                resolution: Resolution::Resolved,
                summary: "修".repeat(10_001),
            },
        ),
    ));
    let mut deep = json!("x");
    for _ in 0..40 {
        deep = json!([deep]);
    }
    bad.push((
        "a correction nested 40 deep",
        dev.record(
            j,
            &EventBody::Correction {
                corrects: Uuid::now_v7(),
                reason: "更正".into(),
                replacement: Some(deep),
            },
        ),
    ));
    bad.push((
        "an unknown kind with a 100-byte name",
        dev.record_with(j, &arrive, |u| u.kind = "k".repeat(100)),
    ));
    let mut far = emergency(far_future());
    bad.push((
        "a field job reported in year 262142",
        dev.record(far.id, &EventBody::JobCreated { job: far.clone() }),
    ));
    far = emergency(Utc::now());
    far.checkpoints = vec![Checkpoint {
        id: "hs".into(),
        name: "首站".into(),
        kind: CheckpointKind::HeadStation,
        readings: vec![],
        interval_minutes: Some(0),
        code_sha256: None,
    }];
    bad.push((
        "a job with a checkpoint every 0 minutes",
        dev.record(far.id, &EventBody::JobCreated { job: far.clone() }),
    ));
    far = emergency(Utc::now());
    far.window = Some(AppointmentWindow {
        start: Utc::now(),
        end: DateTime::<Utc>::MAX_UTC,
    });
    bad.push((
        "a job with a window ending in year 262142",
        dev.record(far.id, &EventBody::JobCreated { job: far.clone() }),
    ));
    far = emergency(Utc::now());
    far.utc_offset_minutes = Some(i32::MIN);
    bad.push((
        "a job in a time zone 4 thousand years west of UTC",
        dev.record(far.id, &EventBody::JobCreated { job: far.clone() }),
    ));
    let good = dev.record(j, &arrive);
    let mut events: Vec<Event> = bad.iter().map(|(_, e)| e.clone()).collect();
    events.push(good);
    let resp = o.push_ok(&dev, &events).await;
    for ((why, _), result) in bad.iter().zip(&resp.results) {
        match &result.outcome {
            PushOutcome::Rejected { code, reason } => assert_eq!(
                code.as_str(),
                "out_of_range",
                "{why}: refused with the range code ({reason})"
            ),
            other => panic!("{why} must be refused, got {other:?}"),
        }
    }
    assert_eq!(
        outcomes(&resp).last().map(String::as_str),
        Some("accepted"),
        "refused events are stored flagged rejected, so the next good event still links"
    );
    assert_eq!(
        resp.last_seq, dev.tip.seq,
        "the device's chain is not wedged"
    );
    let (status, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the summary still answers: {summary}"
    );
    assert_eq!(
        summary["events_rejected"],
        json!(bad.len()),
        "every extreme event is kept as a refusal"
    );
    let detail = o.job_detail(&staff, j).await;
    assert_eq!(
        detail["rejected"].as_array().map(Vec::len),
        Some(bad.len() - 4),
        "the refusals on this job are shown with their reasons (the 4 job_created are on their own ids)"
    );
    assert_eq!(
        detail["steps"].as_array().map(Vec::len),
        Some(1),
        "only the good arrival counts as a step"
    );
}

/// The office's text time format (as `store/sqlite` writes it).
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Put a job row straight into the database, as if it got in before the checks existed; it is on
/// today's board whatever its body says.
fn insert_job(db: &rusqlite::Connection, job: &Job, assignee: Uuid) {
    db.execute(
        "INSERT INTO jobs (id, kind, assignee, status, body, created_at, updated_at, board_at)
         VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?5, ?5)",
        params![
            job.id.to_string(),
            job.kind.as_str(),
            assignee.to_string(),
            serde_json::to_string(job).expect("job json"),
            ts(Utc::now()),
        ],
    )
    .expect("insert a job row");
    db.execute(
        "INSERT INTO job_assignments (job_id, user_id, assigned_at) VALUES (?1, ?2, ?3)",
        params![job.id.to_string(), assignee.to_string(), ts(Utc::now())],
    )
    .expect("insert an assignment");
}

/// Put an accepted event row straight into the database (no range check, no log leaf).
fn insert_event(db: &rusqlite::Connection, e: &Event, user: Uuid) {
    let u = &e.unsigned;
    db.execute(
        "INSERT INTO events (device_id, device_seq, id, job_id, kind, hash, body, user_id, status, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'accepted', ?9)",
        params![
            u.device_id.to_string(),
            u.device_seq as i64,
            u.id.to_string(),
            u.job_id.to_string(),
            u.kind,
            e.hash.to_hex(),
            serde_json::to_string(e).expect("event json"),
            user.to_string(),
            ts(Utc::now()),
        ],
    )
    .expect("insert an event row");
}

#[tokio::test]
async fn extreme_rows_already_in_the_database_cannot_make_a_read_fail() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let tech = o.user_id("tech_a");
    let mut dev = o.device("tech_a").await;
    let db = rusqlite::Connection::open(o.db()).expect("open the office database");
    let min = DateTime::<Utc>::MIN_UTC;
    let max = DateTime::<Utc>::MAX_UTC;
    let template = |kind: JobKind| TemplateRef {
        id: kind.as_str().into(),
        version: 1,
    };
    let mut jobs = Vec::new();
    // A repair reported at the end of time, one at its start, one with an absurd window.
    for (reported, window) in [
        (Some(far_future()), None),
        (Some(min), None),
        (
            Some(Utc::now()),
            Some(AppointmentWindow {
                start: max,
                end: min,
            }),
        ),
    ] {
        let mut job = emergency(Utc::now());
        job.kind = JobKind::HomeRepair;
        job.template = template(JobKind::HomeRepair);
        job.reported_at = reported;
        job.window = window;
        job.revision = u64::MAX;
        jobs.push(job);
    }
    // A patrol round over all of time, with checkpoints due every minute and never.
    let mut patrol = emergency(Utc::now());
    patrol.kind = JobKind::PatrolRound;
    patrol.template = template(JobKind::PatrolRound);
    patrol.window = Some(AppointmentWindow {
        start: min,
        end: max,
    });
    patrol.checkpoints = [Some(1), Some(0), Some(u32::MAX), None]
        .into_iter()
        .enumerate()
        .map(|(i, interval_minutes)| Checkpoint {
            id: format!("cp{i}"),
            name: format!("检查点{i}"),
            kind: CheckpointKind::HeadStation,
            readings: vec![],
            interval_minutes,
            code_sha256: None,
        })
        .collect();
    jobs.push(patrol);
    for job in &jobs {
        insert_job(&db, job, tech);
    }
    // Events at both ends of time on every job, with absurd values in their payloads.
    let bodies = |cp: &str| {
        vec![
            step("arrive"),
            evidence_with(vec![reading(f64::MAX, "°C")], None),
            EventBody::RatingGiven {
                stars: 255,
                comment: String::new(),
            },
            EventBody::NoticeIssued {
                number: "ZG-X".into(),
                deadline: NaiveDate::MAX,
                requirements: String::new(),
                follow_up_on: Some(NaiveDate::MIN),
            },
            EventBody::ReadingRecorded {
                checkpoint: cp.into(),
                readings: vec![reading(-f64::MAX, "MPa")],
                note: String::new(),
            },
            EventBody::JobClosed {
                resolution: Resolution::Resolved,
                summary: String::new(),
            },
        ]
    };
    for job in &jobs {
        for (i, body) in bodies("cp0").iter().enumerate() {
            let at = if i % 2 == 0 { far_future() } else { min };
            let e = dev.record_with(job.id, body, |u| {
                u.recorded_at = at;
                u.elapsed_ms = u64::MAX;
            });
            insert_event(&db, &e, tech);
        }
    }
    // And the device's clock offset at its extreme: every corrected time overflows.
    for offset in [i64::MAX, i64::MIN] {
        db.execute(
            "UPDATE devices SET clock_offset_ms = ?2 WHERE id = ?1",
            params![dev.id.to_string(), offset],
        )
        .expect("set the offset");
        let mut reads = vec![
            "/api/v1/reports/summary".to_owned(),
            "/api/v1/jobs".to_owned(),
            "/api/v1/console/board".to_owned(),
            format!(
                "/api/v1/console/board?date={}&utc_offset_minutes=0",
                Utc::now().date_naive()
            ),
            "/api/v1/console/board?date=2025-01-06&utc_offset_minutes=840".to_owned(),
            "/api/v1/console/customers?phone=1381234".to_owned(),
        ];
        for job in &jobs {
            reads.push(format!("/api/v1/jobs/{}", job.id));
            reads.push(format!("/api/v1/console/jobs/{}", job.id));
        }
        for path in &reads {
            let (status, body) = o.get_json(path, &staff).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "GET {path} with offset {offset} must still answer: {body}"
            );
        }
        for job in &jobs {
            let resp = o
                .http
                .get(o.endpoint(&format!("/api/v1/jobs/{}/bundle", job.id)))
                .bearer_auth(&staff)
                .send()
                .await
                .expect("bundle");
            assert_eq!(
                resp.status(),
                StatusCode::OK,
                "the evidence bundle of job {} with offset {offset} must still answer",
                job.id
            );
        }
    }
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        summary["jobs"],
        json!(jobs.len()),
        "the absurd jobs are counted, not skipped: {summary}"
    );
}

#[tokio::test]
async fn the_kpi_skew_attack_leaves_the_timely_repair_rate_unchanged_until_accepted() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    // One real repair, reported 5 hours ago and still open: due, and late.
    let (status, real) = o
        .post_json(
            "/api/v1/jobs",
            Some(&staff),
            &json!({"fault": "暖气漏水", "reported_at": Utc::now() - Duration::hours(5),
                    "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼"},
                    "assignee": o.user_id("tech_a")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "a dispatcher's repair: {real}");
    let real: Job = serde_json::from_value(real).expect("job");
    let rate = |s: &Value| (s["repairs_due"].clone(), s["timely_repair_rate"].clone());
    let (_, before) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        rate(&before),
        (json!(1), json!(0.0)),
        "one repair due, not on time: {before}"
    );
    // The attack: 20 self-made repairs, each closed at once.
    let mut dev = o.device("tech_b").await;
    let mut events = Vec::new();
    let mut made = Vec::new();
    for _ in 0..20 {
        let job = emergency(Utc::now());
        made.push(job.id);
        events.push(dev.record(job.id, &EventBody::JobCreated { job: job.clone() }));
        events.push(dev.record(
            job.id,
            &EventBody::JobClosed {
                resolution: Resolution::Resolved,
                summary: "已修复".into(),
            },
        ));
    }
    // And the kinds and dates the field may not make.
    let mut home = emergency(Utc::now());
    home.kind = JobKind::HomeRepair;
    home.template = heatcrew_office::api::jobs::template_for(JobKind::HomeRepair);
    let backdated = emergency(Utc::now() - Duration::hours(5));
    let mut closed_already = emergency(Utc::now());
    closed_already.status = JobStatus::Cancelled;
    let forbidden = [home, backdated, closed_already];
    for job in &forbidden {
        events.push(dev.record(job.id, &EventBody::JobCreated { job: job.clone() }));
    }
    let resp = o.push_ok(&dev, &events).await;
    let codes = outcomes(&resp);
    assert!(
        codes[..40].iter().all(|c| c == "accepted"),
        "emergencies reported now are the field's to open: {codes:?}"
    );
    assert_eq!(
        &codes[40..],
        ["field_job_not_allowed"; 3],
        "a home repair, a backdated report and a cancelled job cannot be made in the field"
    );
    let (_, after) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        rate(&after),
        rate(&before),
        "20 self-made instant repairs do not move the timely-repair rate: {after}"
    );
    assert_eq!(
        (
            after["field_jobs_awaiting_acceptance"].clone(),
            after["closure_rate"].clone(),
            after["jobs"].clone()
        ),
        (json!(20), before["closure_rate"].clone(), json!(21)),
        "they are counted as awaiting acceptance, outside the closure rate"
    );
    let detail = o.job_detail(&staff, made[0]).await;
    assert_eq!(
        (
            detail["field_created"].clone(),
            detail["awaiting_acceptance"].clone(),
            detail["job"]["status"].clone(),
            detail["job"]["assignee"].clone()
        ),
        (
            json!(true),
            json!(true),
            json!("open"),
            json!(o.user_id("tech_b"))
        ),
        "marked field-created, open and the creator's"
    );
    let (_, board) = o.get_json("/api/v1/console/board", &staff).await;
    let marked = board["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter(|j| j["awaiting_acceptance"] == json!(true))
        .count();
    assert_eq!(marked, 20, "the board marks them awaiting acceptance");

    // Who may accept: office staff only.
    let accept = |id: Uuid| format!("/api/v1/console/jobs/{id}/accept");
    let tech = dev.login.access_token.clone();
    let (status, body) = o.post_json(&accept(made[0]), Some(&tech), &json!({})).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("forbidden")),
        "a technician cannot accept their own field job"
    );
    let (status, body) = o
        .post_json(&accept(real.id), Some(&staff), &json!({}))
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("not_field_created")),
        "an office job has nothing to accept"
    );
    let (status, _) = o
        .post_json(&accept(Uuid::now_v7()), Some(&staff), &json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown job");
    let admin = o.staff("admin").await;
    for (who, token, id) in [("dispatcher", &staff, made[0]), ("admin", &admin, made[1])] {
        let (status, page) = o.post_json(&accept(id), Some(token), &json!({})).await;
        assert_eq!(status, StatusCode::OK, "a {who} accepts: {page}");
        assert_eq!(
            page["detail"]["awaiting_acceptance"],
            json!(false),
            "accepted"
        );
    }
    let (status, _) = o
        .post_json(&accept(made[0]), Some(&staff), &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "accepting twice is harmless");
    let (_, log) = o
        .get_json("/api/v1/console/audit?kind=field_job_accepted", &admin)
        .await;
    let accepted_by: Vec<(Value, Value)> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .rev()
        .map(|e| (e["subject"].clone(), e["username"].clone()))
        .collect();
    assert_eq!(
        accepted_by,
        [
            (json!(made[0].to_string()), json!("dispatch")),
            (json!(made[1].to_string()), json!("admin"))
        ],
        "each acceptance audited once, by who took it (not the second try): {log}"
    );
    let (_, accepted) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        (
            rate(&accepted),
            accepted["field_jobs_awaiting_acceptance"].clone()
        ),
        ((json!(3), json!(2.0 / 3.0)), json!(18)),
        "the two accepted repairs count, on time: {accepted}"
    );
}

#[tokio::test]
async fn a_cancelled_or_reassigned_job_cannot_be_closed() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let close = EventBody::JobClosed {
        resolution: Resolution::Resolved,
        summary: "已修复".into(),
    };
    // Reassigned: the former assignee's close is refused; their earlier work stays evidence.
    let moved = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let arrived = dev.record(moved.id, &step("arrive"));
    assert_eq!(outcomes(&o.push_ok(&dev, &[arrived]).await), ["accepted"]);
    let (status, _) = o
        .post_json(
            &format!("/api/v1/jobs/{}/assign", moved.id),
            Some(&staff),
            &json!({"assignee": o.user_id("tech_b")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "reassigned");
    let late_step = dev.record(moved.id, &step("diagnose"));
    let late_close = dev.record(moved.id, &close);
    assert_eq!(
        outcomes(&o.push_ok(&dev, &[late_step, late_close]).await),
        ["accepted", "job_not_yours_anymore"],
        "work done offline before the revocation arrived is kept; closing someone else's job is not"
    );
    let detail = o.job_detail(&staff, moved.id).await;
    assert_eq!(detail["closed"], Value::Null, "the job is not closed");
    assert_eq!(
        detail["rejected"][0]["code"],
        json!("job_not_yours_anymore"),
        "the attempt is recorded and refused"
    );
    // Cancelled: even the assignee cannot close it.
    let cancelled = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let (status, _) = o
        .post_json(
            &format!("/api/v1/jobs/{}/cancel", cancelled.id),
            Some(&staff),
            &json!({"reason": "客户已自行修复"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "cancelled");
    let e = dev.record(cancelled.id, &close);
    assert_eq!(
        outcomes(&o.push_ok(&dev, &[e]).await),
        ["job_cancelled"],
        "a cancelled job cannot be closed"
    );
    let detail = o.job_detail(&staff, cancelled.id).await;
    assert_eq!(
        detail["closed"],
        Value::Null,
        "the cancelled job is not closed"
    );
    // The current assignee still closes their job.
    let mut dev_b = o.device("tech_b").await;
    let e = dev_b.record(moved.id, &close);
    assert_eq!(
        outcomes(&o.push_ok(&dev_b, &[e]).await),
        ["accepted"],
        "the new assignee closes it"
    );
}
