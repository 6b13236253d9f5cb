//! Urgent alerts: an accident report pushed by a device raises one (listed open first, sent whole
//! on the live stream), a dispatcher acknowledges it once (a second is 409, an unknown id 404, a
//! technician 403), and the device's next pull carries who and when.

use super::*;
use heatcrew_protocol::sync::PullResponse;
use heatcrew_protocol::{Job, JobKind, JobStatus, Position, TemplateRef};

/// A device-created emergency job and its accident report, as the core's `report_accident` seals them.
fn accident(dev: &mut Device, assignee: Uuid, place: &str) -> (Uuid, Vec<Event>) {
    let job = Job {
        id: Uuid::now_v7(),
        kind: JobKind::EmergencyRepair,
        template: TemplateRef {
            id: "emergency_repair".into(),
            version: 1,
        },
        title: "事故/隐患上报：井盖缺失".into(),
        customer: None,
        site: Some(place.into()),
        reported_at: Some(Utc::now()),
        window: None,
        assignee: Some(assignee),
        street_work: false,
        checkpoints: Vec::new(),
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 0,
    };
    let now = Utc::now();
    let created = dev.record_at(job.id, &EventBody::JobCreated { job: job.clone() }, now);
    let report = dev.record_at(
        job.id,
        &EventBody::AccidentReported {
            description: "井盖缺失，热水外溢".into(),
            measures_taken: "设置围挡".into(),
            position: Position {
                lat: Some(39.9),
                lon: Some(116.4),
                description: place.into(),
                ..Default::default()
            },
            injuries: true,
        },
        now,
    );
    (report.unsigned.id, vec![created, report])
}

async fn pull(o: &TestOffice, dev: &Device) -> PullResponse {
    let resp = o
        .http
        .get(o.url("/api/v1/sync/pull?cursor=0"))
        .bearer_auth(&dev.login.access_token)
        .send()
        .await
        .expect("pull");
    assert_eq!(resp.status(), StatusCode::OK, "the device pulls");
    resp.json().await.expect("pull response")
}

#[tokio::test]
async fn an_accident_raises_an_alert_that_a_dispatcher_acknowledges_and_the_device_receives() {
    let o = TestOffice::start().await;
    let dispatch = o.staff_token("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let tech_id = o.user_id("tech_a");
    let mut live = o.running().state.live.subscribe();

    let (id, events) = accident(&mut dev, tech_id, "幸福路12号门前");
    o.push_accepted(&dev, &events).await;

    // On the live stream at once, whole.
    let raised = loop {
        match live
            .try_recv()
            .expect("the alert is on the live stream before the push is answered")
        {
            heatcrew_office::api::live::LiveEvent::AlertRaised { alert } => break alert,
            _ => continue,
        }
    };
    assert_eq!(raised.id, id, "the alert is the accident event's");
    assert_eq!(
        (
            raised.reporter.display_name.as_str(),
            raised.reporter.badge_no.as_str(),
            raised.place.as_str(),
            raised.injuries
        ),
        ("张伟", "W017", "幸福路12号门前", true),
        "the banner has who, their badge, where and whether people are hurt"
    );

    // Listed, open.
    let (status, list) = o.get_json("/api/v1/console/alerts", &dispatch).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        list[0]["id"],
        json!(id),
        "the open alert is listed first: {list}"
    );
    assert_eq!(list[0]["acknowledged"], Value::Null, "not yet acknowledged");
    assert_eq!(list[0]["job_title"], json!("事故/隐患上报：井盖缺失"));

    // Not acknowledged yet: the device's pull carries nothing.
    assert!(
        pull(&o, &dev).await.acknowledgements.is_empty(),
        "nothing to report before the ack"
    );

    // A technician may not acknowledge.
    let ack_path = format!("/api/v1/console/alerts/{id}/ack");
    let tech = dev.login.access_token.clone();
    let (status, body) = o.post_json(&ack_path, Some(&tech), &json!({})).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a technician cannot acknowledge: {body}"
    );

    // The dispatcher acknowledges; every console hears it.
    let (status, acked) = o.post_json(&ack_path, Some(&dispatch), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{acked}");
    assert_eq!(
        acked["acknowledged"]["by"]["display_name"],
        json!("调度员"),
        "who acknowledged: {acked}"
    );
    let heard = loop {
        match live
            .try_recv()
            .expect("the acknowledgement is on the live stream")
        {
            heatcrew_office::api::live::LiveEvent::AlertAcknowledged { alert } => break alert,
            _ => continue,
        }
    };
    assert_eq!(heard.id, id, "the other consoles close the same banner");

    // Twice is a conflict that names who was first.
    let (status, body) = o
        .post_json(&ack_path, Some(&o.staff_token("admin").await), &json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], json!("alert_already_acknowledged"));
    assert!(
        body["message"].as_str().unwrap_or("").contains("调度员"),
        "says who was first: {body}"
    );
    // The acknowledgement is on the report's job page, once (the refused second try is not).
    let job = acked["job_id"]
        .as_str()
        .expect("the alert's job")
        .to_owned();
    let (_, page) = o
        .get_json(&format!("/api/v1/console/jobs/{job}"), &dispatch)
        .await;
    let acks: Vec<(Value, Value)> = page["office_actions"]
        .as_array()
        .expect("office actions")
        .iter()
        .filter(|a| a["kind"] == "alert_acknowledged")
        .map(|a| (a["username"].clone(), a["detail"]["alert"].clone()))
        .collect();
    assert_eq!(acks, [(json!("dispatch"), json!(id))], "{page}");

    // The device's next pull has it, whatever its cursor.
    let page = pull(&o, &dev).await;
    assert_eq!(
        page.acknowledgements.len(),
        1,
        "the device receives the acknowledgement"
    );
    let ack = &page.acknowledgements[0];
    assert_eq!(
        (ack.event_id, ack.acknowledged_by.as_str()),
        (id, "调度员"),
        "which report, and who"
    );
    // Another device of another technician never sees it.
    let other = o.device("tech_b").await;
    assert!(
        pull(&o, &other).await.acknowledgements.is_empty(),
        "only the reporting device gets it"
    );

    // Acknowledged alerts are listed after open ones.
    let (_, events2) = accident(&mut dev, tech_id, "和平路3号井");
    o.push_accepted(&dev, &events2).await;
    let (_, list) = o.get_json("/api/v1/console/alerts", &dispatch).await;
    assert_eq!(
        list[0]["acknowledged"],
        Value::Null,
        "the open alert first: {list}"
    );
    assert_eq!(
        list[1]["id"],
        json!(id),
        "the acknowledged one after it: {list}"
    );
}

#[tokio::test]
async fn an_unknown_alert_is_404_and_a_replayed_push_raises_no_second_alert() {
    let o = TestOffice::start().await;
    let dispatch = o.staff_token("dispatch").await;
    let (status, body) = o
        .post_json(
            &format!("/api/v1/console/alerts/{}/ack", Uuid::now_v7()),
            Some(&dispatch),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], json!("unknown_alert"));

    let mut dev = o.device("tech_a").await;
    let (_, events) = accident(&mut dev, o.user_id("tech_a"), "幸福路");
    o.push_accepted(&dev, &events).await;
    // The answer was lost; the device pushes the same events again.
    let (status, _) = o
        .post_json(
            "/api/v1/sync/push",
            Some(&dev.login.access_token),
            &json!({"events": events}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a replay is answered from the ledger"
    );
    let (_, list) = o.get_json("/api/v1/console/alerts", &dispatch).await;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "one accident, one alert: {list}"
    );
}

/// 发现安全隐患时应及时报告 (规章制度 2.3): a patrol's critical defect raises an alert on every open
/// console, on the live stream and in the list, saying what was found and where; a major defect in
/// the same push raises none.
#[tokio::test]
async fn a_critical_defect_found_on_patrol_raises_an_alert_a_major_one_does_not() {
    use heatcrew_protocol::Severity;
    let o = TestOffice::start().await;
    let dispatch = o.staff_token("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let tech_id = o.user_id("tech_a");
    let mut live = o.running().state.live.subscribe();
    // The patrol's emergency job (with its own accident report, which raises its own alert).
    let (accident_id, mut events) = accident(&mut dev, tech_id, "幸福路12号门前");
    let job = events[0].unsigned.job_id;
    let defect = |dev: &mut Device, severity| {
        dev.record_at(job, &heatcrew_testkit::defect(severity), Utc::now())
    };
    let major = defect(&mut dev, Severity::Major);
    let critical = defect(&mut dev, Severity::Critical);
    let critical_id = critical.unsigned.id;
    events.extend([major, critical]);
    o.push_accepted(&dev, &events).await;

    let raised = loop {
        match live.try_recv().expect("the alert is on the live stream") {
            heatcrew_office::api::live::LiveEvent::AlertRaised { alert }
                if alert.id != accident_id =>
            {
                break alert;
            }
            _ => continue,
        }
    };
    assert_eq!(raised.id, critical_id, "the critical defect's");
    assert_eq!(raised.kind, "defect_reported");
    assert_eq!(raised.description, "主管道焊口漏水，热水外溢");
    assert!(
        raised.place.contains("建设路DN300管段3号井"),
        "where: {}",
        raised.place
    );
    let (status, list) = o.get_json("/api/v1/console/alerts", &dispatch).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: std::collections::BTreeSet<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        ids,
        [accident_id.to_string(), critical_id.to_string()].into(),
        "the accident's and the critical defect's; the major defect raises none: {list}"
    );
}
