//! The service standard at the office (issue 13 points 1–3), over real HTTP on a real office: a
//! made-up visit is stored but flagged with the rule it broke and left out of every conforming
//! figure; a device whose clock is set 72 hours off and back mid-day gets the same KPIs as one with
//! a true clock; the KPIs, their drill-down and their targets answer as the README defines them.

use super::*;
use chrono::{DateTime, FixedOffset};
use heatcrew_protocol::{Signer, StepEvidence};

const H72: i64 = 72 * 3_600_000;

fn done(step: &str) -> EventBody {
    EventBody::StepCompleted {
        step: step.into(),
        evidence: StepEvidence::default(),
    }
}

fn photo(step: &str, n: u8) -> EventBody {
    EventBody::PhotoAdded {
        step: step.into(),
        photo: photo_ref(&[n; 16]),
        caption: String::new(),
    }
}

/// An honest home repair visit, as the app records it.
fn honest() -> Vec<EventBody> {
    vec![
        done("appointment"),
        done("arrive"),
        done("identify"),
        done("knock_consent"),
        done("shoe_covers"),
        photo("diagnose_repair", 1),
        photo("diagnose_repair", 2),
        EventBody::StepCompleted {
            step: "diagnose_repair".into(),
            evidence: StepEvidence {
                text: [
                    ("fault_found".to_owned(), "阀门堵塞".to_owned()),
                    ("work_done".to_owned(), "清洗阀芯，排气".to_owned()),
                ]
                .into(),
                ..StepEvidence::default()
            },
        },
        photo("clean_up", 3),
        done("clean_up"),
        EventBody::SignatureCaptured {
            step: "signature".into(),
            signer: Signer::Customer,
            signer_name: "王秀英".into(),
            image: photo_ref(b"signature"),
        },
        done("signature"),
        EventBody::RatingGiven {
            stars: 5,
            comment: "很满意".into(),
        },
        done("rating"),
        done("contact_card"),
        EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "故障已排除".into(),
        },
    ]
}

/// A home repair job for `who`, reported `reported_ago` before now, with a two-hour window from
/// half an hour after the report.
async fn job_for(o: &TestOffice, staff: &str, who: &str, reported_ago: Duration) -> Uuid {
    let reported = Utc::now() - reported_ago;
    let (status, body) = o
        .post_json(
            "/api/v1/jobs",
            Some(staff),
            &json!({"kind": "home_repair", "fault": "暖气不热", "reported_at": reported,
                "window": {"start": reported + Duration::minutes(30), "end": reported + Duration::minutes(150)},
                "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼"},
                "assignee": o.user_id(who)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().expect("id").parse().expect("uuid")
}

/// A phone: its chain, a monotonic clock (ms since it started) and a wall clock `skew_ms` off.
struct Phone {
    dev: Device,
    started: chrono::DateTime<Utc>,
    skew_ms: i64,
}

impl Phone {
    async fn new(o: &TestOffice, who: &str) -> Phone {
        Phone {
            dev: o.device(who).await,
            started: Utc::now() - Duration::days(1),
            skew_ms: 0,
        }
    }

    /// Record `bodies` on `job`, one a minute from the true time `from`, on the phone's clocks.
    fn visit(&mut self, job: Uuid, bodies: &[EventBody], from: DateTime<Utc>) -> Vec<Event> {
        bodies
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let truth = from + Duration::minutes(i as i64);
                let (skew, started) = (self.skew_ms, self.started);
                self.dev.record_with(job, b, |u| {
                    u.recorded_at = truth + Duration::milliseconds(skew);
                    u.elapsed_ms = (truth - started).num_milliseconds() as u64;
                })
            })
            .collect()
    }

    /// Push as the app does: with the phone's wall clock in the header.
    async fn push(&self, o: &TestOffice, events: &[Event]) {
        let resp = o
            .http
            .post(o.endpoint("/api/v1/sync/push"))
            .bearer_auth(self.dev.token())
            .header(
                DEVICE_TIME_HEADER,
                (Utc::now() + Duration::milliseconds(self.skew_ms)).to_rfc3339(),
            )
            .json(&json!({ "events": events }))
            .send()
            .await
            .expect("push");
        assert_eq!(resp.status(), StatusCode::OK);
        let body: PushResponse = resp.json().await.expect("push response");
        assert!(
            outcomes(&body).iter().all(|r| r == "accepted"),
            "{:?}",
            outcomes(&body)
        );
    }
}

fn today() -> chrono::NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("+8"))
        .date_naive()
}

/// The period from two days ago to today (China time), optionally grouped.
async fn kpis(o: &TestOffice, staff: &str, extra: &str) -> Value {
    let (from, to) = (today() - Duration::days(2), today());
    let (status, body) = o
        .get_json(&format!("/api/v1/kpi?from={from}&to={to}{extra}"), staff)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn figure(figures: &Value, key: &str) -> (u64, u64) {
    let f = figures
        .as_array()
        .expect("figures")
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {figures}"));
    (
        f["numerator"].as_u64().expect("B"),
        f["denominator"].as_u64().expect("A"),
    )
}

#[tokio::test]
async fn a_made_up_visit_is_kept_flagged_and_not_counted_while_an_honest_one_counts() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let honest_job = job_for(&o, &staff, "tech_a", Duration::hours(3)).await;
    let made_up = job_for(&o, &staff, "tech_a", Duration::hours(3)).await;
    let skipped = job_for(&o, &staff, "tech_a", Duration::hours(3)).await;
    let mut phone = Phone::new(&o, "tech_a").await;
    let start = Utc::now() - Duration::hours(2);
    let mut events = phone.visit(honest_job, &honest(), start);
    // The customer "signs" before the repair is recorded.
    let mut bodies = honest();
    let sig = bodies.remove(10);
    bodies.insert(5, sig);
    events.extend(phone.visit(made_up, &bodies, start));
    // Closed with nothing done but arriving.
    events.extend(phone.visit(
        skipped,
        &[
            done("appointment"),
            done("arrive"),
            EventBody::JobClosed {
                resolution: Resolution::Resolved,
                summary: "已修好".into(),
            },
        ],
        start,
    ));
    phone.push(&o, &events).await;

    let violations = |job: Uuid| {
        let (o, staff) = (&o, &staff);
        async move {
            let (status, v) = o
                .get_json(&format!("/api/v1/kpi/violations/{job}"), staff)
                .await;
            assert_eq!(status, StatusCode::OK, "{v}");
            v
        }
    };
    assert_eq!(
        violations(honest_job).await,
        json!([]),
        "an honest visit conforms"
    );
    let v = violations(made_up).await;
    assert_eq!(v[0]["code"], "step_out_of_order", "{v}");
    assert_eq!(v[0]["kind"], "signature_captured", "{v}");
    assert_eq!(v[0]["event_id"], json!(events[16 + 5].unsigned.id), "{v}");
    let v = violations(skipped).await;
    assert_eq!(v[0]["code"], "cannot_close", "{v}");
    // Still stored as evidence: the read-back shows the closing.
    let detail = o.job_detail(&staff, skipped).await;
    assert_eq!(
        detail["closed"]["payload"]["resolution"], "resolved",
        "{detail}"
    );

    let k = kpis(&o, &staff, "").await;
    assert_eq!(figure(&k["figures"], "timely_repair"), (1, 3), "{k}");
    assert_eq!(figure(&k["figures"], "closure"), (1, 3));
    assert_eq!(
        figure(&k["figures"], "satisfaction"),
        (1, 1),
        "made-up ratings do not count"
    );
    assert_eq!(figure(&k["figures"], "on_time_arrival"), (1, 3));

    // The drill-down names the jobs, those counting against the figure first.
    let (from, to) = (today() - Duration::days(2), today());
    let (status, jobs) = o
        .get_json(
            &format!("/api/v1/kpi/jobs?key=closure&from={from}&to={to}"),
            &staff,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{jobs}");
    let jobs = jobs.as_array().expect("jobs");
    assert_eq!(jobs.len(), 3);
    assert_eq!(jobs[2]["job_id"], json!(honest_job));
    assert_eq!(jobs[2]["in_numerator"], true);
    assert!(
        jobs[..2]
            .iter()
            .all(|j| j["conforming"] == false && j["in_numerator"] == false)
    );

    // The board flags the card.
    let board_day = (Utc::now() - Duration::minutes(150))
        .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("+8"))
        .date_naive();
    let (status, board) = o
        .get_json(&format!("/api/v1/console/board?date={board_day}"), &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "{board}");
    let flag = |id: Uuid| {
        board["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .find(|j| j["job"]["id"] == json!(id))
            .map(|j| j["non_conforming"].clone())
    };
    assert_eq!(flag(honest_job), Some(json!(false)));
    assert_eq!(flag(made_up), Some(json!(true)));

    // Targets: admins only, audited, in range.
    let admin = o.staff("admin").await;
    let put = |token: &str, body: Value| {
        let req = o
            .http
            .put(o.endpoint("/api/v1/kpi/targets"))
            .bearer_auth(token)
            .json(&body);
        async move { req.send().await.expect("put").status() }
    };
    let want = json!({"key": "timely_repair", "target": 0.3});
    assert_eq!(put(&staff, want.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(
        put(&admin, json!({"key": "timely_repair", "target": 98})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "98 is not a share"
    );
    assert_eq!(
        put(&admin, json!({"key": "made_up", "target": 0.5})).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(put(&admin, want).await, StatusCode::OK);
    let k = kpis(&o, &staff, "").await;
    let timely = k["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .find(|f| f["key"] == "timely_repair")
        .expect("timely")
        .clone();
    assert_eq!(
        (timely["target"].clone(), timely["met"].clone()),
        (json!(0.3), json!(true))
    );
    let (status, audit) = o
        .get_json("/api/v1/console/audit?kind=kpi_target_changed", &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    assert!(audit.to_string().contains("timely_repair"), "{audit}");

    // Bad periods are refused with a reason.
    let (status, body) = o
        .get_json(&format!("/api/v1/kpi?from={to}&to={from}"), &staff)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_date"))
    );
    let (status, _) = o
        .get_json("/api/v1/kpi?from=2020-01-01&to=2026-01-01", &staff)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "more than a year");
    let (status, _) = o
        .get_json(
            &format!("/api/v1/kpi/jobs?key=nope&from={from}&to={to}"),
            &staff,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// tech_a's phone keeps true time all day. tech_b's does the same visits at the same true times,
/// but its clock is set 72 hours ahead mid-morning and back at noon; one visit is recorded while
/// ahead and only pushed after the clock went back (offline), then the phone reports its jumps.
/// Then the same with a clock 72 hours behind. Every figure is the same for both people.
#[tokio::test]
async fn a_device_clock_skewed_72_hours_and_back_mid_day_gives_the_same_kpis_as_a_true_one() {
    for skew in [H72, -H72] {
        let o = TestOffice::start().await;
        let staff = o.staff("dispatch").await;
        let mut a = Phone::new(&o, "tech_a").await;
        let mut b = Phone::new(&o, "tech_b").await;
        let day = Utc::now() - Duration::hours(12);
        // Reported at the day's start; visits start 1, 2, 3 and 5 hours later (the last one after
        // the 4 hours: late both ways).
        let mut jobs = vec![];
        for who in ["tech_a", "tech_b"] {
            let mut mine = vec![];
            for _ in 0..4 {
                mine.push(job_for(&o, &staff, who, Duration::hours(12)).await);
            }
            jobs.push(mine);
        }
        let at = |h: i64| day + Duration::hours(h);
        // tech_a: every visit pushed at once, true clock.
        for (i, h) in [1, 2, 3, 5].into_iter().enumerate() {
            let ev = a.visit(jobs[0][i], &honest(), at(h));
            a.push(&o, &ev).await;
        }
        // tech_b: the first visit on a true clock, pushed at once.
        let ev = b.visit(jobs[1][0], &honest(), at(1));
        b.push(&o, &ev).await;
        // Clock set off; the second visit is pushed at once (the header shows the skew).
        b.skew_ms = skew;
        let ev = b.visit(jobs[1][1], &honest(), at(2));
        b.push(&o, &ev).await;
        // The third visit is recorded while off and kept offline...
        let offline = b.visit(jobs[1][2], &honest(), at(3));
        // ...the clock goes back, the fourth visit is recorded, and everything goes up together.
        b.skew_ms = 0;
        let mut ev = offline;
        ev.extend(b.visit(jobs[1][3], &honest(), at(5)));
        b.push(&o, &ev).await;
        // Then the phone reports the two jumps it measured.
        let jump = |before: DateTime<Utc>, after: DateTime<Utc>, ms: i64| {
            json!({"id": Uuid::now_v7(), "wall_before": before, "wall_after": after,
                   "jump_ms": ms, "rebooted": false})
        };
        let off = Duration::milliseconds(skew);
        let report = json!({"jumps": [
            jump(at(1) + Duration::minutes(30), at(1) + Duration::minutes(31) + off, skew),
            jump(at(4) + off, at(4) + Duration::minutes(1), -skew),
        ]});
        let (status, body) = o
            .post_json("/api/v1/sync/clock-jumps", Some(b.dev.token()), &report)
            .await;
        assert!(status.is_success(), "{status} {body}");

        let k = kpis(&o, &staff, "&group=person").await;
        let groups = k["groups"].as_array().expect("groups");
        assert_eq!(groups.len(), 2, "{k}");
        let (ga, gb) = (&groups[0]["figures"], &groups[1]["figures"]);
        for key in [
            "timely_repair",
            "closure",
            "on_time_arrival",
            "satisfaction",
        ] {
            assert_eq!(
                figure(ga, key),
                figure(gb, key),
                "{key} with a clock {skew} ms off: {k}"
            );
        }
        assert_eq!(
            figure(ga, "timely_repair"),
            (3, 4),
            "the 5-hour visit is late: {k}"
        );
        assert_eq!(figure(ga, "on_time_arrival"), (2, 4), "{k}");
        // And the job pages read the true times.
        let d = o.job_detail(&staff, jobs[1][2]).await;
        let arrived: DateTime<Utc> = serde_json::from_value(d["steps"][1]["corrected_at"].clone())
            .expect("a corrected time");
        assert!(
            (arrived - (at(3) + Duration::minutes(1)))
                .num_seconds()
                .abs()
                < 5,
            "{arrived} is the true time of arrival"
        );
        // The feedback records (信息反馈: list, CSV, workbook) read the same corrected times as the
        // KPIs: each event's offset when it was recorded, the jumps reported after the push
        // included, not the phone's offset at the push.
        let (status, page) = o
            .get_json("/api/v1/console/feedback?limit=50", &staff)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let records = page["records"].as_array().expect("records");
        for (i, h) in [1, 2, 3, 5].into_iter().enumerate() {
            for who in [0, 1] {
                let r = records
                    .iter()
                    .find(|r| r["job_id"] == jobs[who][i].to_string())
                    .unwrap_or_else(|| panic!("a record for visit {i} of tech {who}: {page}"));
                for (field, minute) in [("arrived_at", 1), ("closed_at", honest().len() - 1)] {
                    let got: DateTime<Utc> = serde_json::from_value(r[field].clone())
                        .unwrap_or_else(|e| panic!("{field}: {e} in {r}"));
                    let truth = at(h) + Duration::minutes(minute as i64);
                    assert!(
                        (got - truth).num_seconds().abs() < 5,
                        "visit {i} of tech {who}, clock {skew} ms off: {field} {got} is the true {truth}"
                    );
                }
            }
        }
    }
}
