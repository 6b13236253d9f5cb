//! The notice register: a notice pushed from the field is listed with its customer and findings; at
//! its deadline exactly one re-inspection job is opened for the inspector who issued it, however
//! many runs and processes race; its outcome closes or escalates the notice.

use super::TestOffice;
use chrono::{Duration, FixedOffset, NaiveDate, Utc};
use heatcrew_office::notices::{due_at, notices_complied_by_deadline};
use heatcrew_office::store::SqliteStore;
use heatcrew_protocol::{EventBody, FindingCategory, JobKind, Resolution};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

fn notice(number: &str, deadline: NaiveDate) -> EventBody {
    EventBody::NoticeIssued {
        number: number.into(),
        deadline,
        requirements: "拆除私接旁通管,恢复铅封".into(),
        follow_up_on: None,
    }
}

fn finding() -> EventBody {
    EventBody::FindingRecorded {
        finding_id: Uuid::now_v7(),
        category: FindingCategory::UnauthorizedConnection,
        description: "户内私接旁通管".into(),
        states: Default::default(),
        photos: vec![],
    }
}

async fn inspection(office: &TestOffice, staff: &str, assignee: Uuid) -> Uuid {
    office
        .create_job(
            staff,
            json!({
                "kind": "heat_theft_inspection",
                "fault": "用热稽查",
                "customer": {"name": "王建国", "phone": "13800138000",
                             "address": "幸福小区3号楼2单元501", "account_no": "RL-0042"},
                "assignee": assignee,
            }),
        )
        .await
}

async fn notices(office: &TestOffice, staff: &str, query: &str) -> Value {
    let (status, body) = office
        .get_json(&format!("/api/v1/console/notices{query}"), staff)
        .await;
    assert_eq!(status, StatusCode::OK, "list notices: {body}");
    body
}

#[tokio::test]
async fn a_reinspection_job_appears_at_the_deadline_once_and_its_outcome_settles_the_notice() {
    let office = TestOffice::start().await;
    let staff = office.staff().await;
    let tech_a = office.user_id("tech_a");
    let job = inspection(&office, &staff, tech_a).await;
    let mut dev = office.device("tech_a").await;
    let today = office.now().with_timezone(&cst()).date_naive();
    let deadline = today + Duration::days(3);
    let at = Utc::now();
    office
        .push_at(
            &mut dev,
            job,
            &[
                (finding(), at),
                (notice("ZG-D0001-20261202-001", deadline), at),
            ],
        )
        .await;

    let list = notices(&office, &staff, "").await;
    assert_eq!(
        list["total"], 1,
        "the pushed notice is in the register: {list}"
    );
    let n = &list["notices"][0];
    assert_eq!(n["number"], "ZG-D0001-20261202-001");
    assert_eq!(
        n["customer"]["name"], "王建国",
        "the customer comes from the job"
    );
    assert_eq!(
        n["findings"][0]["category"], "unauthorized_connection",
        "the inspection's findings are listed with the notice"
    );
    assert_eq!(n["status"], "open");
    assert_eq!(n["issued_by_person"]["badge_no"], "W017");
    let id: Uuid = n["id"].as_str().expect("id").parse().expect("uuid");
    assert_eq!(
        notices(&office, &staff, "?filter=due_this_week").await["notices"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "due in three days: due this week"
    );

    // Before the deadline has passed: nothing happens, however often the task runs.
    office.advance(Duration::days(3));
    for _ in 0..3 {
        let run = office.run_schedule();
        assert_eq!(
            run.notices.reinspections_opened, 0,
            "not due before the deadline day ends"
        );
    }
    // Past the end of the deadline day in Beijing: due.
    let due = due_at(deadline, cst());
    let by = due - office.now() + Duration::minutes(1);
    office.advance(by);

    // Several runs, from this office and from a second process on the same database file, at
    // once: exactly one re-inspection job.
    let other = Arc::new(SqliteStore::open(office.db()).expect("a second store on the same file"));
    let now = office.now();
    let mut handles = Vec::new();
    for _ in 0..6 {
        let other = other.clone();
        handles.push(std::thread::spawn(move || {
            heatcrew_office::schedule::run_once(&*other, now).expect("run")
        }));
    }
    let mut opened = office.run_schedule().notices.reinspections_opened;
    for h in handles {
        opened += h.join().expect("thread").notices.reinspections_opened;
    }
    assert_eq!(opened, 1, "one re-inspection job, whoever ran first");
    let reinspections: Vec<_> = office
        .store()
        .list_jobs()
        .expect("jobs")
        .into_iter()
        .filter(|j| j.job.kind == JobKind::HeatTheftInspection && j.job.id != job)
        .collect();
    assert_eq!(reinspections.len(), 1, "exactly one job was stored");
    let re = &reinspections[0].job;
    assert_eq!(
        re.assignee,
        Some(tech_a),
        "the issuing inspector re-inspects"
    );
    assert_eq!(
        re.customer.as_ref().map(|c| c.address.as_str()),
        Some("幸福小区3号楼2单元501"),
        "at the same customer"
    );
    // Three days on, the sign-ins of before have expired: sign in again.
    let staff = office.staff().await;
    let mut dev = office.device("tech_a").await;
    let list = notices(&office, &staff, "?filter=overdue").await;
    assert_eq!(list["overdue"], 1, "due without an outcome: overdue");
    assert_eq!(list["notices"][0]["status"], "awaiting_reinspection");
    assert_eq!(
        list["notices"][0]["reinspection_job_id"],
        json!(re.id),
        "the register links the job"
    );

    // The re-inspection finds the bypass still there: not complied, escalated.
    office
        .push_at(
            &mut dev,
            re.id,
            &[
                (finding(), Utc::now()),
                (
                    EventBody::JobClosed {
                        resolution: Resolution::Resolved,
                        summary: "仍未整改".into(),
                    },
                    Utc::now(),
                ),
            ],
        )
        .await;
    assert_eq!(office.run_schedule().notices.outcomes_read, 1);
    assert_eq!(office.run_schedule().notices.outcomes_read, 0, "read once");
    let (status, view) = office
        .get_json(&format!("/api/v1/console/notices/{id}"), &staff)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], "not_complied", "{view}");
    assert_eq!(view["overdue"], false, "settled notices are not overdue");
    // A dispatcher cannot turn it into another outcome afterwards.
    let (status, body) = office
        .post_json(
            &format!("/api/v1/console/notices/{id}/outcome"),
            Some(&staff),
            &json!({"outcome": "complied"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the first outcome stays: {body}"
    );

    let all = office.store().notices().expect("notices");
    let figure = notices_complied_by_deadline(&all, today, deadline, office.now(), cst());
    assert_eq!(
        (figure.numerator, figure.denominator),
        (0, 1),
        "one notice fell due in the period and it was not complied with"
    );
}

/// The inspector set the follow-up inspection (复查日期) five days after the deadline: the notice is
/// overdue from the deadline as every notice, and its re-inspection opens on the follow-up day, not
/// before. A follow-up day before the deadline is refused at the office too.
#[tokio::test]
async fn the_reinspection_waits_for_the_follow_up_day_the_inspector_set() {
    use heatcrew_protocol::sync::PushOutcome;
    let office = TestOffice::start().await;
    let staff = office.staff().await;
    let tech_a = office.user_id("tech_a");
    let job = inspection(&office, &staff, tech_a).await;
    let mut dev = office.device("tech_a").await;
    let today = office.now().with_timezone(&cst()).date_naive();
    let deadline = today + Duration::days(3);
    let follow_up = deadline + Duration::days(5);
    let with = |number: &str, day: NaiveDate| {
        let mut n = notice(number, deadline);
        if let EventBody::NoticeIssued { follow_up_on, .. } = &mut n {
            *follow_up_on = Some(day);
        }
        n
    };
    let early = dev.record_at(
        job,
        &with("ZG-D0001-20261202-009", deadline - Duration::days(1)),
        Utc::now(),
    );
    let resp = office.push_events(&dev, &[early]).await;
    assert!(
        matches!(&resp.results[0].outcome, PushOutcome::Rejected { code, .. } if code.as_str() == "follow_up_before_deadline"),
        "{:?}",
        resp.results[0].outcome
    );
    office
        .push_at(
            &mut dev,
            job,
            &[(with("ZG-D0001-20261202-001", follow_up), Utc::now())],
        )
        .await;
    let list = notices(&office, &staff, "").await;
    assert_eq!(list["total"], 1, "only the accepted notice: {list}");
    let n = &list["notices"][0];
    assert_eq!(n["follow_up_on"], json!(follow_up));
    let opens = due_at(follow_up - Duration::days(1), cst());
    assert_eq!(
        n["reinspection_at"]
            .as_str()
            .map(|t| t.parse::<chrono::DateTime<Utc>>()),
        Some(Ok(opens)),
        "the start of the follow-up day in Beijing"
    );

    // Past the deadline: overdue, but no re-inspection before the follow-up day.
    office.advance(due_at(deadline, cst()) - office.now() + Duration::minutes(1));
    assert_eq!(office.run_schedule().notices.reinspections_opened, 0);
    let staff = office.staff().await; // the earlier sign-in idled out
    let list = notices(&office, &staff, "?filter=overdue").await;
    assert_eq!(list["notices"][0]["status"], "awaiting_reinspection");
    office.advance(opens - office.now() - Duration::minutes(1));
    assert_eq!(
        office.run_schedule().notices.reinspections_opened,
        0,
        "a minute before the follow-up day"
    );
    office.advance(Duration::minutes(2));
    assert_eq!(office.run_schedule().notices.reinspections_opened, 1);
    let re = office
        .store()
        .list_jobs()
        .expect("jobs")
        .into_iter()
        .find(|j| j.job.kind == JobKind::HeatTheftInspection && j.job.id != job)
        .expect("the re-inspection");
    assert_eq!(
        re.job.reported_at,
        Some(opens),
        "on the board from the follow-up day"
    );
}

/// 供热工程验收中……留下书面整改意见 (现场服务 8): a notice left at an acceptance inspection that did not
/// pass is followed up by another acceptance inspection (复验) at the same site, on the newest
/// checklist; a re-inspection that fails again settles the notice as not complied.
#[tokio::test]
async fn an_acceptance_notice_is_reinspected_as_an_acceptance_and_a_second_failure_escalates() {
    use heatcrew_protocol::StepEvidence;
    let office = TestOffice::start().await;
    let staff = office.staff().await;
    let tech_a = office.user_id("tech_a");
    let job = office
        .create_job(
            &staff,
            json!({"kind": "acceptance_inspection", "fault": "和平路换热站改造验收",
                   "site": "和平路换热站", "assignee": tech_a}),
        )
        .await;
    let created = office.store().job(job).expect("job").expect("stored").job;
    assert_eq!(
        created.template,
        heatcrew_rules::template::latest_for(JobKind::AcceptanceInspection).reference(),
        "new jobs follow the newest checklist"
    );
    assert_eq!(created.template.version, 2);
    let inspected = |result: &str| {
        let mut evidence = StepEvidence::default();
        evidence.states.insert("result".into(), result.into());
        EventBody::StepCompleted {
            step: "inspect".into(),
            evidence,
        }
    };
    let mut dev = office.device("tech_a").await;
    let today = office.now().with_timezone(&cst()).date_naive();
    let deadline = today + Duration::days(2);
    let at = Utc::now();
    office
        .push_at(
            &mut dev,
            job,
            &[
                (inspected("failed"), at),
                (notice("YS-D0001-20261204-001", deadline), at),
            ],
        )
        .await;
    assert_eq!(notices(&office, &staff, "").await["total"], 1);

    office.advance(due_at(deadline, cst()) - office.now() + Duration::minutes(1));
    assert_eq!(office.run_schedule().notices.reinspections_opened, 1);
    let re = office
        .store()
        .list_jobs()
        .expect("jobs")
        .into_iter()
        .map(|r| r.job)
        .find(|j| j.id != job)
        .expect("the re-inspection job");
    assert_eq!(
        re.kind,
        JobKind::AcceptanceInspection,
        "复验: an acceptance again"
    );
    assert!(re.title.starts_with("整改复验"), "{}", re.title);
    assert_eq!(re.site.as_deref(), Some("和平路换热站"), "at the same site");
    assert_eq!(re.template.version, 2);
    assert_eq!(re.assignee, Some(tech_a));

    let mut dev = office.device("tech_a").await;
    office
        .push_at(
            &mut dev,
            re.id,
            &[
                (inspected("failed"), Utc::now()),
                (
                    EventBody::JobClosed {
                        resolution: Resolution::Resolved,
                        summary: "仍不合格".into(),
                    },
                    Utc::now(),
                ),
            ],
        )
        .await;
    assert_eq!(office.run_schedule().notices.outcomes_read, 1);
    let staff = office.staff().await;
    let list = notices(&office, &staff, "").await;
    assert_eq!(
        list["notices"][0]["status"], "not_complied",
        "failed again: escalated, not complied: {list}"
    );
}

#[tokio::test]
async fn dispatchers_choose_the_reinspector_and_record_outcomes_and_bad_input_is_refused() {
    let office = TestOffice::start().await;
    let staff = office.staff().await;
    let (tech_a, tech_b) = (office.user_id("tech_a"), office.user_id("tech_b"));
    let job = inspection(&office, &staff, tech_a).await;
    let mut dev = office.device("tech_a").await;
    let deadline = office.now().with_timezone(&cst()).date_naive() + Duration::days(1);
    office
        .push_at(
            &mut dev,
            job,
            &[
                (notice("ZG-D0001-20261202-002", deadline), Utc::now()),
                (notice("ZG-D0001-20261202-003", deadline), Utc::now()),
            ],
        )
        .await;
    let list = notices(&office, &staff, "").await;
    let ids: Vec<String> = list["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    let (first, second) = (&ids[0], &ids[1]);

    // Permissions: a field device's token reads nothing and changes nothing here.
    let (status, _) = office
        .get_json("/api/v1/console/notices", dev.token())
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "field users do not read the register"
    );
    let (status, _) = office
        .post_json(
            &format!("/api/v1/console/notices/{first}/outcome"),
            Some(dev.token()),
            &json!({"outcome": "complied"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "nor settle a notice");

    // Hostile and malformed input: a clear error, nothing changed.
    let post = |path: String, body: Value| {
        let office = &office;
        let staff = staff.clone();
        async move { office.post_json(&path, Some(&staff), &body).await }
    };
    let outcome = format!("/api/v1/console/notices/{first}/outcome");
    for (body, want, why) in [
        (
            json!({"outcome": "maybe"}),
            StatusCode::BAD_REQUEST,
            "an unknown outcome",
        ),
        (
            json!({"outcome": "not_complied"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no note",
        ),
        (
            json!({"outcome": "not_complied", "note": "x".repeat(2001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a note too long",
        ),
        (
            json!({"outcome": "not_complied", "note": "bad\u{0}byte"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a control character",
        ),
        (
            json!({"outcome": "new_notice", "note": "重新下达"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a new notice without naming it",
        ),
        (
            json!({"outcome": "new_notice", "note": "重新下达", "next_notice": Uuid::now_v7()}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a new notice that is not in the register",
        ),
        (
            json!({"outcome": "new_notice", "note": "重新下达", "next_notice": first}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a notice replacing itself",
        ),
    ] {
        let (status, body) = post(outcome.clone(), body).await;
        assert_eq!(status, want, "{why}: {body}");
    }
    let (status, _) = post(
        format!("/api/v1/console/notices/{}/outcome", Uuid::now_v7()),
        json!({"outcome": "complied"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown notice");
    let (status, _) = post(
        format!("/api/v1/console/notices/{first}/reinspector"),
        json!({"user_id": Uuid::now_v7()}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an unknown re-inspector"
    );
    assert_eq!(
        notices(&office, &staff, "?filter=open").await["open"],
        2,
        "nothing was settled by refused requests"
    );

    // tech_b re-inspects the first; the second is replaced by a new notice at once.
    let (status, body) = post(
        format!("/api/v1/console/notices/{first}/reinspector"),
        json!({"user_id": tech_b}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["reinspector_person"]["badge_no"], "W018");
    let audited = office.audit("notice_reinspector_set").await;
    assert_eq!(
        audited.len(),
        1,
        "the refused choice is not there: {audited:?}"
    );
    assert_eq!(audited[0]["subject"], first.as_str());
    assert_eq!(audited[0]["detail"]["reinspector"], tech_b.to_string());
    assert_eq!(audited[0]["username"], "dispatch");
    let (status, body) = post(
        format!("/api/v1/console/notices/{second}/outcome"),
        json!({"outcome": "new_notice", "note": "重新下达", "next_notice": first}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "new_notice");
    assert_eq!(body["outcome_by"], json!(office.user_id("dispatch")));

    office.advance(Duration::days(3));
    let staff = office.staff().await;
    let post = |path: String, body: Value| {
        let office = &office;
        let staff = staff.clone();
        async move { office.post_json(&path, Some(&staff), &body).await }
    };
    let run = office.run_schedule();
    assert_eq!(
        run.notices.reinspections_opened, 1,
        "only the unsettled notice gets a re-inspection"
    );
    let rec = office
        .store()
        .notice(first.parse().expect("uuid"))
        .expect("read")
        .expect("notice");
    let re = office
        .store()
        .job(rec.reinspection_job_id.expect("a re-inspection"))
        .expect("read")
        .expect("job");
    assert_eq!(
        re.job.assignee,
        Some(tech_b),
        "the chosen re-inspector gets the job"
    );
    let (status, _) = post(
        format!("/api/v1/console/notices/{first}/reinspector"),
        json!({"user_id": tech_a}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "once the job exists it is reassigned on the board, not here"
    );
    let (status, body) = post(outcome.clone(), json!({"outcome": "complied"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "complied");
    let (status, _) = post(outcome, json!({"outcome": "complied"})).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the same outcome again is answered, not refused"
    );
    let audited: Vec<(Value, Value, Value)> = office
        .audit("notice_outcome_recorded")
        .await
        .iter()
        .map(|e| {
            (
                e["subject"].clone(),
                e["detail"]["outcome"].clone(),
                e["detail"]["next_notice"].clone(),
            )
        })
        .collect();
    assert_eq!(
        audited,
        [
            (json!(first), json!("complied"), Value::Null),
            (json!(second), json!("new_notice"), json!(first)),
        ],
        "each outcome that took effect, newest first; not the refused ones, not the repeat"
    );
}
