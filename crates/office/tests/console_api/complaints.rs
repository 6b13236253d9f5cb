//! The complaints and reports tracker (`/api/v1/console/complaints…`) on a real office on loopback:
//! deadlines in Asia/Shanghai across the year end with the office clock moved, 首问 ownership and
//! its handover rules, the audit trail, permissions, and hostile input that stores nothing.

use super::*;
use heatcrew_office::clock::Clock;
use heatcrew_protocol::sync::Role;
use heatcrew_testkit::Seed;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn time(v: &Value) -> DateTime<Utc> {
    at(v.as_str().unwrap_or_else(|| panic!("a time: {v}")))
}

/// Move `clock` so that it reads `target` now.
fn set_clock(clock: &Clock, target: DateTime<Utc>) {
    clock.advance(target - clock.now());
}

async fn office_with_clock() -> (TestOffice, Clock) {
    let clock = Clock::system();
    let c = clock.clone();
    let o = heatcrew_testkit::TestOffice::start_with(Seed::TestAccounts, move |cfg| cfg.clock = c)
        .await;
    (TestOffice(o), clock)
}

async fn intake(o: &TestOffice, token: &str, body: Value) -> (StatusCode, Value) {
    o.post_json("/api/v1/console/complaints", Some(token), &body)
        .await
}

async fn intake_ok(o: &TestOffice, token: &str, body: Value) -> Value {
    let (status, c) = intake(o, token, body).await;
    assert_eq!(status, StatusCode::OK, "intake: {c}");
    c["complaint"].clone()
}

fn complaint(kind: &str, subject: &str) -> Value {
    json!({"kind": kind, "channel": "phone", "caller_name": "王秀英", "caller_phone": "138 0013-8000",
           "subject": subject, "text": "师傅上门后暖气还是不热，打了三次电话没人管。"})
}

fn numbers(list: &Value) -> Vec<String> {
    list["complaints"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|c| c["subject"].as_str().expect("subject").to_owned())
        .collect()
}

#[tokio::test]
async fn deadlines_count_shanghai_days_across_the_year_end_and_overdue_ones_are_listed() {
    let (o, clock) = office_with_clock().await;
    set_clock(&clock, at("2027-01-05T12:00:00+08:00"));
    let staff = o.staff_token("dispatch").await;
    let with_time = |mut body: Value, received: &str| {
        body["received_at"] = json!(received);
        body
    };
    // 31 Dec 23:59:59 in Shanghai: day 0 is 31 Dec, due by the end of 5 Jan.
    let a = intake_ok(
        &o,
        &staff,
        with_time(complaint("complaint", "A"), "2026-12-31T15:59:59Z"),
    )
    .await;
    // Half an hour later it is 1 Jan there: due by the end of 6 Jan.
    let b = intake_ok(
        &o,
        &staff,
        with_time(complaint("complaint", "B"), "2026-12-31T16:30:00Z"),
    )
    .await;
    // A report on 30 Dec: seven days, due by the end of 6 Jan.
    let c = intake_ok(
        &o,
        &staff,
        with_time(complaint("report", "C"), "2026-12-30T16:00:00+08:00"),
    )
    .await;
    assert_eq!(time(&a["due_at"]), at("2027-01-06T00:00:00+08:00"), "{a}");
    assert_eq!(time(&b["due_at"]), at("2027-01-07T00:00:00+08:00"), "{b}");
    assert_eq!(time(&c["due_at"]), at("2027-01-07T00:00:00+08:00"), "{c}");
    assert!(
        a["number"]
            .as_str()
            .is_some_and(|n| n.starts_with("TS2026-")),
        "numbered by the received year: {a}"
    );
    assert!(
        b["number"]
            .as_str()
            .is_some_and(|n| n.starts_with("TS2027-")),
        "{b}"
    );
    assert!(
        c["number"]
            .as_str()
            .is_some_and(|n| n.starts_with("JB2026-")),
        "{c}"
    );
    assert_eq!(a["state"], "open");
    let (status, late) = intake(
        &o,
        &staff,
        with_time(complaint("complaint", "old"), "2026-12-05T00:00:00+08:00"),
    )
    .await;
    assert_eq!(
        (status, late["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("complaint_field")),
        "31 days back: {late}"
    );
    let (status, ahead) = intake(
        &o,
        &staff,
        with_time(complaint("complaint", "ahead"), "2027-01-06T12:00:00+08:00"),
    )
    .await;
    assert_eq!(
        (status, ahead["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("complaint_field")),
        "a later received time would stretch the deadline: {ahead}"
    );

    // One second into 6 Jan in Shanghai: A is overdue, B and C are not.
    set_clock(&clock, at("2027-01-06T00:00:01+08:00"));
    let staff = o.staff_token("dispatch").await;
    let (_, overdue) = o
        .get_json("/api/v1/console/complaints?state=overdue", &staff)
        .await;
    assert_eq!(
        numbers(&overdue),
        ["A"],
        "only A is past its deadline: {overdue}"
    );
    let (_, open) = o
        .get_json("/api/v1/console/complaints?state=open", &staff)
        .await;
    assert_eq!(
        numbers(&open),
        ["A", "B", "C"],
        "the nearest deadline first: {open}"
    );
    assert_eq!(open["complaints"][0]["state"], "overdue");
    assert_eq!(open["complaints"][1]["state"], "open");
    assert_eq!(
        time(&open["now"]),
        clock.now().min(time(&open["now"])),
        "the office clock for countdowns"
    );
    let (_, reports) = o
        .get_json("/api/v1/console/complaints?state=open&kind=report", &staff)
        .await;
    assert_eq!(numbers(&reports), ["C"]);

    // B answered in time, A answered late.
    let id = |c: &Value| c["id"].as_str().expect("id").to_owned();
    let (status, answered) = o
        .post_json(
            &format!("/api/v1/console/complaints/{}/reply", id(&b)),
            Some(&staff),
            &json!({"text": "已派维修工复查，阀门已更换。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(answered["complaint"]["answered_in_time"], true);
    let (_, figures) = o
        .get_json(
            "/api/v1/console/complaints/figures?from=2026-12-01&to=2027-01-31",
            &staff,
        )
        .await;
    assert_eq!(figures["complaints_received"], 2, "{figures}");
    assert_eq!(
        figures["complaints_answered_in_time"],
        json!({"numerator": 1, "denominator": 2}),
        "B in time of A and B (A is overdue): {figures}"
    );
    assert_eq!(
        figures["reports_answered_in_time"],
        json!({"numerator": 0, "denominator": 0}),
        "C is not due yet: {figures}"
    );
    assert_eq!(
        (
            figures["overdue_open"].as_u64(),
            figures["pending"].as_u64()
        ),
        (Some(1), Some(1)),
        "{figures}"
    );
    let (_, period) = o
        .get_json(
            "/api/v1/console/complaints/figures?from=2027-01-01&to=2027-01-31",
            &staff,
        )
        .await;
    assert_eq!(
        period["complaints_received"], 1,
        "A and C are December's (Shanghai days): {period}"
    );
    let (status, _) = o
        .post_json(
            &format!("/api/v1/console/complaints/{}/reply", id(&a)),
            Some(&staff),
            &json!({"text": "已处理。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, figures) = o
        .get_json(
            "/api/v1/console/complaints/figures?from=2026-12-01&to=2027-01-31",
            &staff,
        )
        .await;
    assert_eq!(
        figures["complaints_answered_in_time"],
        json!({"numerator": 1, "denominator": 2}),
        "A answered late stays late: {figures}"
    );
    assert_eq!(figures["overdue_open"], 0, "{figures}");
    let (_, answered) = o
        .get_json("/api/v1/console/complaints?state=answered", &staff)
        .await;
    assert_eq!(
        numbers(&answered),
        ["A", "B"],
        "the latest answer first: {answered}"
    );
    assert_eq!(answered["complaints"][0]["answered_in_time"], false);
    let (status, bad) = o
        .get_json(
            "/api/v1/console/complaints/figures?from=2027-02-01&to=2027-01-01",
            &staff,
        )
        .await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_date"))
    );
}

#[tokio::test]
async fn the_first_receiver_owns_it_until_a_recorded_handover_and_the_trail_keeps_every_step() {
    let o = TestOffice::start().await;
    let second = o.add_user("dispatch2", PASSWORD, Role::Dispatcher, "刘调度");
    let gone = o.add_user("dispatch_old", PASSWORD, Role::Dispatcher, "退休调度");
    o.store()
        .set_user_active(gone.id, false, Utc::now())
        .expect("deactivate");
    let first = o.staff_token("dispatch").await;
    let other = o.staff_token("dispatch2").await;
    let admin = o.staff_token("admin").await;
    let mut live = o.running().state.live.subscribe();
    let c = intake_ok(&o, &first, complaint("complaint", "维修工态度差")).await;
    let id = c["id"].as_str().expect("id").to_owned();
    // Every open console hears of each change that took effect, and of nothing refused.
    let mut heard = move || {
        let mut ids = Vec::new();
        while let Ok(e) = live.try_recv() {
            if let heatcrew_office::api::live::LiveEvent::ComplaintChanged { complaint_id } = e {
                ids.push(complaint_id.to_string());
            }
        }
        ids
    };
    assert_eq!(heard(), [id.as_str()], "taken");
    let me = o.user_id("dispatch");
    assert_eq!(
        c["received_by"]["id"],
        me.to_string(),
        "首问 is who took it: {c}"
    );
    assert_eq!(c["owner"]["person"]["id"], me.to_string());
    let post = |path: &'static str, token: &str, body: Value| {
        let (o, id, token) = (&o, id.clone(), token.to_owned());
        async move {
            o.post_json(
                &format!("/api/v1/console/complaints/{id}/{path}"),
                Some(&token),
                &body,
            )
            .await
        }
    };
    let code = |r: &(StatusCode, Value)| (r.0, r.1["code"].as_str().map(str::to_owned));
    let refused = |s: StatusCode, c: &str| (s, Some(c.to_owned()));

    // Someone else may not answer or take it.
    assert_eq!(
        code(&post("reply", &other, json!({"text": "我来答"})).await),
        refused(StatusCode::FORBIDDEN, "not_complaint_owner")
    );
    assert_eq!(
        code(
            &post(
                "handover",
                &other,
                json!({"to_user": second.id, "note": "我拿走"})
            )
            .await
        ),
        refused(StatusCode::FORBIDDEN, "not_complaint_owner")
    );
    // The owner hands over only to active office staff, or one department, with a note.
    let tech = o.user_id("tech_a");
    for (body, want) in [
        (
            json!({"to_user": tech, "note": "n"}),
            refused(StatusCode::UNPROCESSABLE_ENTITY, "handover_target"),
        ),
        (
            json!({"to_user": gone.id, "note": "n"}),
            refused(StatusCode::UNPROCESSABLE_ENTITY, "handover_inactive_user"),
        ),
        (
            json!({"to_user": Uuid::now_v7(), "note": "n"}),
            refused(StatusCode::UNPROCESSABLE_ENTITY, "unknown_user"),
        ),
        (
            json!({"to_user": me, "note": "n"}),
            refused(StatusCode::UNPROCESSABLE_ENTITY, "handover_target"),
        ),
        (
            json!({"to_user": second.id, "to_department": "维修部", "note": "n"}),
            refused(StatusCode::UNPROCESSABLE_ENTITY, "handover_target"),
        ),
        (
            json!({"to_user": second.id, "note": "  "}),
            refused(StatusCode::UNPROCESSABLE_ENTITY, "complaint_field"),
        ),
        (
            json!({"to_department": "维".repeat(41), "note": "n"}),
            refused(StatusCode::UNPROCESSABLE_ENTITY, "complaint_field"),
        ),
    ] {
        assert_eq!(
            code(&post("handover", &first, body.clone()).await),
            want,
            "{body}"
        );
    }
    let (status, handed) = post(
        "handover",
        &first,
        json!({"to_user": second.id, "note": "涉及计费，转刘调度处理"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{handed}");
    assert_eq!(
        heard(),
        [id.as_str()],
        "the handover, once; the refused requests before it not at all"
    );
    assert_eq!(
        handed["complaint"]["owner"]["person"]["id"],
        second.id.to_string()
    );
    assert_eq!(
        handed["complaint"]["received_by"]["id"],
        me.to_string(),
        "首问 never changes"
    );
    assert_eq!(
        code(&post("reply", &first, json!({"text": "x"})).await),
        refused(StatusCode::FORBIDDEN, "not_complaint_owner"),
        "handed over: no longer theirs"
    );
    let (status, dept) = post(
        "handover",
        &other,
        json!({"to_department": "维修部", "note": "需要现场复查"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dept}");
    assert_eq!(
        dept["complaint"]["owner"],
        json!({"person": null, "department": "维修部"})
    );

    // Order: no callback before the reply; one reply; one callback; then closed.
    assert_eq!(
        code(&post("callback", &first, json!({"satisfaction": "satisfied"})).await),
        refused(StatusCode::CONFLICT, "complaint_not_replied")
    );
    assert_eq!(
        code(&post("reply", &first, json!({"text": ""})).await),
        refused(StatusCode::UNPROCESSABLE_ENTITY, "complaint_field")
    );
    let (status, replied) = post(
        "reply",
        &first,
        json!({"text": "已安排维修部复查，并向客户致歉。"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a department holds it: its handler answers: {replied}"
    );
    assert_eq!(replied["complaint"]["state"], "answered");
    assert_eq!(
        code(&post("reply", &admin, json!({"text": "again"})).await),
        refused(StatusCode::CONFLICT, "complaint_already_replied")
    );
    assert_eq!(
        code(&post("callback", &first, json!({"satisfaction": "delighted"})).await).0,
        StatusCode::BAD_REQUEST,
        "an unknown satisfaction is bad JSON"
    );
    let (status, closed) = post(
        "callback",
        &first,
        json!({"satisfaction": "fairly_satisfied", "note": "客户表示基本满意"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["complaint"]["state"], "closed");
    assert_eq!(
        closed["complaint"]["callback"]["satisfaction"],
        "fairly_satisfied"
    );
    assert_eq!(
        code(&post("callback", &admin, json!({"satisfaction": "satisfied"})).await),
        refused(StatusCode::CONFLICT, "complaint_closed")
    );
    assert_eq!(
        code(
            &post(
                "handover",
                &admin,
                json!({"to_department": "客服部", "note": "n"})
            )
            .await
        ),
        refused(StatusCode::CONFLICT, "complaint_closed")
    );

    // The trail: every step that happened, who and when; refusals left nothing.
    let (_, detail) = o
        .get_json(&format!("/api/v1/console/complaints/{id}"), &admin)
        .await;
    let trail: Vec<(String, String)> = detail["trail"]
        .as_array()
        .expect("trail")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().expect("kind").to_owned(),
                e["username"].as_str().expect("who").to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("complaint_received", "dispatch"),
        ("complaint_handed_over", "dispatch"),
        ("complaint_handed_over", "dispatch2"),
        ("complaint_replied", "dispatch"),
        ("complaint_called_back", "dispatch"),
    ]
    .iter()
    .map(|(k, u)| (k.to_string(), u.to_string()))
    .collect();
    assert_eq!(trail, want, "{detail}");
    assert_eq!(
        detail["trail"][1]["detail"]["note"],
        "涉及计费，转刘调度处理"
    );
    assert_eq!(detail["trail"][1]["detail"]["to"]["person"], "刘调度");
    assert_eq!(detail["trail"][2]["detail"]["to"]["department"], "维修部");
    let (_, log) = o
        .get_json("/api/v1/console/audit?kind=complaint_handed_over", &admin)
        .await;
    assert_eq!(
        log["entries"].as_array().map(Vec::len),
        Some(2),
        "the admins' audit log has them too: {log}"
    );
    let (status, _) = o
        .get_json(
            &format!("/api/v1/console/complaints/{}", Uuid::now_v7()),
            &admin,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn field_roles_are_refused_and_hostile_input_stores_nothing() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let admin = o.staff_token("admin").await;
    let tech = o.device("tech_a").await.login.access_token;
    let (status, _) = o.get_json("/api/v1/console/complaints", &tech).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "field staff do not read complaints"
    );
    let (status, _) = intake(&o, &tech, complaint("complaint", "x")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "nor take them");

    let with = |key: &str, v: Value| {
        let mut body = complaint("complaint", "主题");
        body[key] = v;
        body
    };
    for (body, status, code) in [
        (
            with("subject", json!("长".repeat(101))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "complaint_field",
        ),
        (
            with("subject", json!("")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "complaint_field",
        ),
        (
            with("subject", json!("a\u{0}b")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "complaint_field",
        ),
        (
            with("text", json!("字".repeat(4001))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "complaint_field",
        ),
        (
            with("caller_phone", json!("")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "complaint_field",
        ),
        (
            with("caller_phone", json!("<script>")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "complaint_field",
        ),
        (
            with("caller_name", json!("名".repeat(41))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "complaint_field",
        ),
        (
            with("channel", json!("carrier_pigeon")),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            with("kind", json!("praise")),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            with("job_id", json!(Uuid::now_v7())),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_job",
        ),
        (
            with("received_at", json!("yesterday")),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (json!([1, 2, 3]), StatusCode::BAD_REQUEST, "bad_json"),
    ] {
        let (got, answer) = intake(&o, &staff, body.clone()).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{answer}"
        );
    }
    // 100 KB (over the tracker's 64 KiB) is refused with a code; 10 MB is refused before it is
    // read (the office may close the connection while the client still sends).
    let big = with("text", json!("字".repeat(34_000)));
    let (status, answer) = intake(&o, &staff, big).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")),
        "{answer}"
    );
    let huge = with("text", json!("字".repeat(3_500_000)));
    let sent = o
        .http
        .post(o.url("/api/v1/console/complaints"))
        .bearer_auth(&staff)
        .json(&huge)
        .send()
        .await;
    if let Ok(resp) = sent {
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    let (_, all) = o
        .get_json("/api/v1/console/complaints?state=all", &staff)
        .await;
    assert_eq!(all["complaints"], json!([]), "nothing was stored: {all}");
    let (_, log) = o
        .get_json("/api/v1/console/audit?kind=complaint_received", &admin)
        .await;
    assert_eq!(
        log["entries"],
        json!([]),
        "and nothing was audited as received"
    );

    // A report may be anonymous; a linked job lends its customer; a resent form stores it once.
    let job = job_id(
        &o.create_job(&staff, json!({"fault": "暖气不热", "customer": {"name": "李建国", "phone": "13912345678", "address": "和平路18号", "account_no": "RL-200001"}}))
            .await,
    );
    let form = Uuid::now_v7();
    let report = json!({"id": form, "kind": "report", "channel": "letter", "subject": "有人私接暖气",
                        "text": "3号楼有住户私自接管。", "job_id": job});
    let first = intake_ok(&o, &staff, report.clone()).await;
    assert_eq!(
        first["customer"]["address"], "和平路18号",
        "from the job: {first}"
    );
    assert_eq!(first["caller_name"], "", "anonymous");
    let again = intake_ok(&o, &staff, report.clone()).await;
    assert_eq!(again["id"], first["id"], "the retry is the same report");
    let mut clash = report.clone();
    clash["subject"] = json!("另一件事");
    let (status, answer) = intake(&o, &staff, clash).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::CONFLICT, Some("complaint_exists"))
    );
    let (_, all) = o
        .get_json("/api/v1/console/complaints?state=all", &staff)
        .await;
    assert_eq!(all["complaints"].as_array().map(Vec::len), Some(1), "{all}");
    let (status, _) = o
        .get_json("/api/v1/console/complaints?state=whatever", &staff)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, mine) = o
        .get_json(
            &format!(
                "/api/v1/console/complaints?state=all&owner={}",
                o.user_id("admin")
            ),
            &staff,
        )
        .await;
    assert_eq!(
        mine["complaints"],
        json!([]),
        "owned by the dispatcher, not the admin"
    );
}
