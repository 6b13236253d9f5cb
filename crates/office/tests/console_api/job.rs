//! `GET /api/v1/console/jobs/{id}`: the timeline speaks the checklist's language and names people;
//! the chain status is the office's verify, and a tampered event is named.

use super::*;
use chrono::Duration;
use heatcrew_protocol::{DEVICE_TIME_HEADER, JobKind};
use heatcrew_rules::template;

#[tokio::test]
async fn the_job_page_has_localised_steps_names_both_clocks_and_the_chain_status() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let job = o
        .create_job(
            &staff,
            json!({"fault": "暖气不热", "assignee": o.user_id("tech_a"),
                   "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼2单元501室"}}),
        )
        .await;
    let job = job_id(&job);
    let mut dev = o.device("tech_a").await;
    // The device's clock is 10 minutes slow; it says so on its push.
    let device_now = Utc::now() - Duration::minutes(10);
    let events = vec![
        dev.record_at(job, &step("appointment"), device_now),
        dev.record_at(job, &step("arrive"), device_now),
    ];
    let resp = o
        .http
        .post(o.url("/api/v1/sync/push"))
        .bearer_auth(&dev.login.access_token)
        .header(DEVICE_TIME_HEADER, device_now.to_rfc3339())
        .json(&json!({"events": events}))
        .send()
        .await
        .expect("push");
    assert_eq!(resp.status(), StatusCode::OK, "push");

    let (status, page) = o
        .get_json(&format!("/api/v1/console/jobs/{job}"), &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "the job page: {page}");
    let home = template::latest_for(JobKind::HomeRepair);
    let timeline = page["timeline"].as_array().expect("timeline");
    assert_eq!(timeline.len(), 2, "both records: {page:#}");
    let first = &timeline[0];
    let appointment = home.step("appointment").expect("step");
    assert_eq!(
        first["title"],
        json!({"zh": appointment.title.zh, "en": appointment.title.en}),
        "the step's title from the template, not its id"
    );
    // The phrase as the technician saw it: filled with their name and badge (no company set here).
    let said = appointment.phrase.as_ref().map(|p| {
        let who = heatcrew_rules::phrases::Details {
            name: "张伟",
            badge: "W017",
            ..Default::default()
        };
        heatcrew_rules::phrases::fill(p, &who).zh
    });
    assert_eq!(
        first["phrase"]["zh"].as_str(),
        said.as_deref(),
        "with the standard phrase"
    );
    assert_eq!(first["user_name"], "张伟", "who did it, by name");
    assert_eq!(first["user_badge"], "W017", "and badge");
    let recorded: DateTime<Utc> = first["recorded_at"]
        .as_str()
        .expect("recorded_at")
        .parse()
        .expect("time");
    let corrected: DateTime<Utc> = first["corrected_at"]
        .as_str()
        .expect("corrected_at")
        .parse()
        .expect("time");
    let shift = corrected - recorded;
    assert!(
        shift > Duration::minutes(9) && shift < Duration::minutes(11),
        "office time corrects the device's slow clock by about 10 minutes: {shift}"
    );
    assert_eq!(page["status"]["state"], "arrived", "the board state too");
    let arrive = home.step("arrive").expect("step");
    assert!(
        page["steps"].as_array().expect("steps").contains(&json!({
            "id": "arrive",
            "title": {"zh": arrive.title.zh, "en": arrive.title.en}
        })),
        "the checklist's step titles, for captions that name a step by title: {}",
        page["steps"]
    );
    let chains = page["chains"].as_array().expect("chains");
    assert_eq!(chains.len(), 1, "one device recorded");
    assert_eq!(
        chains[0]["state"], "verified",
        "signatures and hash chain verified"
    );
    assert_eq!(chains[0]["events"], 2);

    // Someone with the database file edits the second event's payload.
    let db = o.db().to_owned();
    let conn = rusqlite::Connection::open(&db).expect("open the office database");
    let changed = conn
        .execute(
            "UPDATE events SET body = replace(body, '\"arrive\"', '\"identify\"') WHERE device_seq = 2",
            [],
        )
        .expect("tamper");
    assert_eq!(changed, 1, "the tampering took");
    drop(conn);
    let (_, page) = o
        .get_json(&format!("/api/v1/console/jobs/{job}"), &staff)
        .await;
    let chain = &page["chains"][0];
    assert_eq!(chain["state"], "broken", "the edit is caught: {chain}");
    assert_eq!(chain["bad_seq"], 2, "and the bad event named");
    assert_eq!(
        chain["bad_event_id"],
        json!(events[1].unsigned.id),
        "by its id"
    );
    assert!(
        !chain["message"].as_str().unwrap_or_default().is_empty(),
        "with a reason"
    );
}

#[tokio::test]
async fn an_unknown_job_is_a_404_with_the_usual_error_shape() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let (status, body) = o
        .get_json(&format!("/api/v1/console/jobs/{}", Uuid::now_v7()), &staff)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn an_event_edited_while_the_office_was_stopped_is_named_despite_the_signed_checkpoint() {
    let mut o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let job = o
        .create_job(
            &staff,
            json!({"fault": "暖气不热", "assignee": o.user_id("tech_a"),
                   "customer": {"name": "李建国", "phone": "13812345602", "address": "和平里小区5号楼1单元301室"}}),
        )
        .await;
    let job = job_id(&job);
    let mut dev = o.device("tech_a").await;
    let events = vec![
        dev.record(job, &step("appointment")),
        dev.record(job, &step("arrive")),
        dev.record(job, &step("identify")),
    ];
    o.push_accepted(&dev, &events).await;
    let page = |o: &TestOffice| {
        let (http, url, staff) = (
            o.http.clone(),
            o.url(&format!("/api/v1/console/jobs/{job}")),
            staff.clone(),
        );
        async move {
            let resp = http
                .get(url)
                .bearer_auth(staff)
                .send()
                .await
                .expect("job page");
            assert_eq!(resp.status(), StatusCode::OK);
            resp.json::<Value>().await.expect("json")
        }
    };
    let first = page(&o).await;
    assert_eq!(first["chains"][0]["state"], "verified", "{first:#}");
    let checkpoints: i64 = rusqlite::Connection::open(o.db())
        .expect("open")
        .query_row(
            "SELECT COUNT(*) FROM chain_checkpoints WHERE seq = 3",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        checkpoints, 1,
        "the verified chain's signed checkpoint is kept"
    );

    // A restart alone: the page answers from the checkpoint, still verified.
    o.restart().await;
    let again = page(&o).await;
    assert_eq!(again["chains"][0]["state"], "verified", "{again:#}");
    assert_eq!(again["chains"][0]["events"], 3);

    // Stopped; someone with the file edits the first event; the office starts again.
    o.stop().await;
    let changed = rusqlite::Connection::open(o.db())
        .expect("open")
        .execute(
            "UPDATE events SET body = replace(body, '\"appointment\"', '\"arrive\"') WHERE device_seq = 1",
            [],
        )
        .expect("tamper");
    assert_eq!(changed, 1, "the tampering took");
    o.restart().await;
    let after = page(&o).await;
    let chain = &after["chains"][0];
    assert_eq!(
        chain["state"], "broken",
        "the checkpoint does not hide the edit: {chain}"
    );
    assert_eq!(chain["bad_seq"], 1, "the bad event named");
    assert_eq!(
        chain["bad_event_id"],
        json!(events[0].unsigned.id),
        "by its id"
    );
}

#[tokio::test]
async fn the_job_page_lists_what_the_office_did_to_it_by_whom_and_nothing_of_other_jobs() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let (tech_a, tech_b) = (o.user_id("tech_a"), o.user_id("tech_b"));
    let order = |fault: &str| {
        json!({"fault": fault, "assignee": tech_a,
               "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼2单元501室"}})
    };
    let job = job_id(&o.create_job(&staff, order("暖气不热")).await);
    let other = job_id(&o.create_job(&staff, order("漏水")).await);
    let start = Utc::now() + Duration::hours(2);
    for (what, body) in [
        ("assign", json!({"assignee": tech_b})),
        (
            "schedule",
            json!({"start": start, "end": start + Duration::hours(2)}),
        ),
        ("cancel", json!({"reason": "客户来电：已自行修好"})),
    ] {
        let (status, answer) = o
            .post_json(&format!("/api/v1/jobs/{job}/{what}"), Some(&staff), &body)
            .await;
        assert_eq!(status, StatusCode::OK, "{what}: {answer}");
    }
    let (status, _) = o
        .post_json(
            &format!("/api/v1/jobs/{other}/cancel"),
            Some(&staff),
            &json!({"reason": "另一单"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, page) = o
        .get_json(&format!("/api/v1/console/jobs/{job}"), &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let actions = page["office_actions"].as_array().expect("office_actions");
    let kinds: Vec<&str> = actions.iter().filter_map(|a| a["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "job_created",
            "job_assigned",
            "job_scheduled",
            "job_cancelled"
        ],
        "this job's own, oldest first, none of the other job's: {actions:#?}"
    );
    for a in actions {
        assert_eq!(
            (a["username"].clone(), a["user_name"].clone()),
            (json!("dispatch"), json!("调度员")),
            "who, by username and name"
        );
        assert!(
            a.get("address").is_none(),
            "where staff sat is for the admins' audit page only: {a}"
        );
    }
    assert_eq!(actions[0]["assignee_name"], "张伟", "opened for tech_a");
    assert_eq!(actions[1]["assignee_name"], "李娜", "reassigned to tech_b");
    assert_eq!(
        actions[3]["detail"]["reason"], "客户来电：已自行修好",
        "why it was cancelled"
    );
    let at = |a: &Value| a["at"].as_str().unwrap_or_default().to_owned();
    assert!(
        actions.windows(2).all(|w| at(&w[0]) <= at(&w[1])),
        "in time order"
    );

    // The admins' audit page finds the same trail by subject.
    let admin = o.staff_token("admin").await;
    let (status, trail) = o
        .get_json(&format!("/api/v1/console/audit?subject={job}"), &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let seqs = |v: &Value| -> Vec<Value> {
        v.as_array()
            .expect("entries")
            .iter()
            .map(|e| e["seq"].clone())
            .collect()
    };
    let mut newest_first = seqs(&page["office_actions"]);
    newest_first.reverse();
    assert_eq!(seqs(&trail["entries"]), newest_first);
    assert!(
        trail["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .all(|e| e["address"] == "127.0.0.1"),
        "with where it came from"
    );
    let (status, _) = o
        .get_json(&format!("/api/v1/console/audit?subject={job}"), &staff)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the audit page stays the admins'"
    );
}
