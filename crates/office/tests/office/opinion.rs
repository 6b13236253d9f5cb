//! The company profile (set by admins, pulled by devices) and what the office does with the
//! customer's opinion form and with corrections: a correction of the rating or opinion is refused
//! here too (a device that skipped its own rules gets `rating_locked`), and the console's job page
//! shows every correction beside the record it names.

use super::*;
use heatcrew_testkit::step;
use std::collections::BTreeMap;

async fn put_company(o: &TestOffice, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .put(o.endpoint("/api/v1/company"))
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("the office answers");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn only_an_admin_sets_the_company_profile_and_every_device_pulls_it() {
    let o = TestOffice::start().await;
    let admin = o.staff("admin").await;
    let dispatcher = o.staff("dispatch").await;
    let dev = o.device("tech_a").await;
    let (status, body) = o.get_json("/api/v1/company", &dispatcher).await;
    assert_eq!(
        (status, &body),
        (StatusCode::OK, &Value::Null),
        "nothing set yet"
    );
    assert!(
        o.pull(dev.token(), 0).await.company.is_none(),
        "a pull carries no company before an admin sets one"
    );

    let profile = json!({"name": "滨河热力公司", "hotline": "0531-96069"});
    for (who, token, want) in [
        ("no token", None, StatusCode::UNAUTHORIZED),
        (
            "a dispatcher",
            Some(dispatcher.as_str()),
            StatusCode::FORBIDDEN,
        ),
        (
            "a technician's device",
            Some(dev.token()),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let (status, body) = put_company(&o, token, &profile).await;
        assert_eq!(
            status, want,
            "{who} may not set the company profile: {body}"
        );
        assert!(
            body["code"].is_string(),
            "{who}: refused as {{code, message}}: {body}"
        );
    }
    for bad in [
        json!({"name": "  ", "hotline": "96069"}),
        json!({"name": "滨河热力公司", "hotline": "call us"}),
        json!({"name": "滨河热力公司", "hotline": "12"}),
        json!({"name": "滨河热力公司", "hotline": "1".repeat(40)}),
        json!({"name": "x".repeat(61), "hotline": "96069"}),
    ] {
        let (status, body) = put_company(&o, Some(&admin), &bad).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_value")),
            "{bad} is refused with a reason: {body}"
        );
    }
    let (status, _) = o.get_json("/api/v1/company", &dispatcher).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        o.pull(dev.token(), 0).await.company.is_none(),
        "refusals changed nothing"
    );

    let (status, body) = put_company(
        &o,
        Some(&admin),
        &json!({"name": " 滨河热力公司 ", "hotline": "0531-96069"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "an admin sets it: {body}");
    assert_eq!(body, profile, "stored trimmed");
    let (_, read) = o.get_json("/api/v1/company", &dispatcher).await;
    assert_eq!(read, profile, "staff read it back");
    let pulled = o
        .pull(dev.token(), 0)
        .await
        .company
        .expect("the pull carries it");
    assert_eq!(
        (pulled.name.as_str(), pulled.hotline.as_str()),
        ("滨河热力公司", "0531-96069"),
        "every device gets the company's own name and hotline with its next pull"
    );
    let (_, audit) = o.get_json("/api/v1/console/audit?limit=50", &admin).await;
    assert!(
        audit.to_string().contains("company_profile_changed"),
        "the change is in the audit log: {audit}"
    );
}

fn answers() -> BTreeMap<String, String> {
    [
        ("punctuality", "on_time"),
        ("attitude", "good"),
        ("tidiness", "yes"),
        ("gifts", "none"),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into()))
    .collect()
}

#[tokio::test]
async fn the_office_refuses_a_correction_of_the_opinion_and_shows_corrections_beside_originals() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let mut text = heatcrew_protocol::StepEvidence::default();
    text.text.insert("fault_found".into(), "阀门堵塞".into());
    let repair = dev.record(
        job.id,
        &EventBody::StepCompleted {
            step: "diagnose_repair".into(),
            evidence: text,
        },
    );
    let opinion = dev.record(
        job.id,
        &EventBody::OpinionGiven {
            stars: 4,
            comment: "师傅很细心".into(),
            answers: answers(),
        },
    );
    let plain = dev.record(
        job.id,
        &EventBody::RatingGiven {
            stars: 5,
            comment: String::new(),
        },
    );
    let correct = |corrects: Uuid, replacement: Option<Value>| EventBody::Correction {
        corrects,
        reason: "写错了".into(),
        replacement,
    };
    // A device running modified code pushes what its own rules would refuse.
    let events = vec![
        repair.clone(),
        opinion.clone(),
        plain.clone(),
        dev.record(job.id, &correct(opinion.unsigned.id, None)),
        dev.record(job.id, &correct(plain.unsigned.id, None)),
        dev.record(job.id, &correct(Uuid::now_v7(), None)),
        dev.record(
            job.id,
            &correct(
                repair.unsigned.id,
                Some(json!({"description": "not a step's"})),
            ),
        ),
        dev.record(job.id, &step("identify")),
        dev.record(
            job.id,
            &correct(
                repair.unsigned.id,
                Some(json!({"text": {"fault_found": "温控阀损坏"}})),
            ),
        ),
    ];
    let resp = o.push_ok(&dev, &events).await;
    assert_eq!(
        outcomes(&resp),
        [
            "accepted",
            "accepted",
            "accepted",
            "rating_locked",
            "rating_locked",
            "bad_correction",
            "bad_correction",
            "accepted",
            "accepted"
        ],
        "the customer's opinion and rating are locked at the office too; a correction names a record of the job and fits it"
    );

    let (status, page) = o
        .get_json(&format!("/api/v1/console/jobs/{}", job.id), &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "the console's job page: {page}");
    let pairs = page["corrections"].as_array().expect("corrections");
    assert_eq!(
        pairs.len(),
        5,
        "every correction is listed, refused ones too: {pairs:?}"
    );
    let accepted: Vec<&Value> = pairs
        .iter()
        .filter(|p| p["correction"]["accepted"] == json!(true))
        .collect();
    assert_eq!(accepted.len(), 1, "one correction stands");
    let pair = accepted[0];
    assert_eq!(
        pair["original"]["payload"]["evidence"]["text"]["fault_found"], "阀门堵塞",
        "the office shows the original as recorded"
    );
    assert_eq!(
        pair["correction"]["payload"]["replacement"]["text"]["fault_found"], "温控阀损坏",
        "beside the corrected text"
    );
    assert_eq!(pair["correction"]["payload"]["reason"], "写错了", "and why");
    let refused_opinion = pairs
        .iter()
        .find(|p| p["original"]["event_id"] == json!(opinion.unsigned.id))
        .expect("the refused correction of the opinion is shown");
    assert_eq!(
        refused_opinion["correction"]["accepted"],
        json!(false),
        "shown as refused"
    );
    let ratings = page["detail"]["ratings"].as_array().expect("ratings");
    let form = ratings
        .iter()
        .find(|r| r["kind"] == "opinion_given")
        .expect("the opinion form is among the ratings");
    assert_eq!(
        form["payload"]["answers"]["gifts"], "none",
        "with every answer"
    );
    assert_eq!(
        page["opinion_questions"].as_array().map(Vec::len),
        Some(4),
        "the questions to word the answers with"
    );
    let timeline = page["timeline"].as_array().expect("timeline");
    for t in timeline {
        let phrase = t["phrase"]["zh"].as_str().unwrap_or_default();
        assert!(
            !phrase.contains('{') && !phrase.contains("××"),
            "the timeline shows phrases filled in, not placeholders: {phrase}"
        );
    }
    let identify = timeline
        .iter()
        .find(|t| t["step"] == "identify")
        .expect("the identify step");
    let phrase = identify["phrase"]["zh"].as_str().unwrap_or_default();
    assert!(
        phrase.contains("张伟") && phrase.contains("W017"),
        "the phrase as the technician said it, with their name and badge: {phrase}"
    );
    assert!(
        timeline
            .iter()
            .any(|t| t["event_id"] == json!(repair.unsigned.id)),
        "the original stays on the timeline"
    );
}
