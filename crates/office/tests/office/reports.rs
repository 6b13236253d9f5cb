//! Read-back of a finished visit: steps, signatures, photos, ratings, notices, readings and defects.

use super::*;

#[tokio::test]
async fn a_visit_reads_back_as_steps_signatures_photos_ratings_notices_readings_and_defects() {
    use heatcrew_protocol::{
        DeclineKind, FindingCategory, Position, Reading, Severity, Signer, Witness,
    };
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let sig = photo_ref(b"signature strokes");
    let bodies = vec![
        step("appointment"),
        EventBody::StepSkipped {
            step: "shoe_covers".into(),
            reason: "客户要求不用鞋套".into(),
        },
        EventBody::PhotoAdded {
            step: "diagnose".into(),
            photo: photo_ref(b"before"),
            caption: "维修前".into(),
        },
        EventBody::SignatureCaptured {
            step: "acceptance".into(),
            signer: Signer::Customer,
            signer_name: "王秀英".into(),
            image: sig,
        },
        EventBody::SignatureDeclined {
            step: "damage".into(),
            outcome: DeclineKind::Refused,
            reason: "对赔偿有异议".into(),
            witness: Some(Witness {
                name: "物业李师傅".into(),
                phone: "13900000000".into(),
            }),
        },
        EventBody::RatingGiven {
            stars: 5,
            comment: "师傅很专业".into(),
        },
        EventBody::NoticeIssued {
            number: "D0001-2026-0001".into(),
            deadline: chrono::NaiveDate::from_ymd_opt(2026, 12, 10).expect("date"),
            requirements: "拆除旁通管".into(),
            follow_up_on: None,
        },
        EventBody::ReadingRecorded {
            checkpoint: "room".into(),
            readings: vec![Reading {
                key: "room_temp".into(),
                value: 19.5,
                unit: "°C".into(),
            }],
            note: String::new(),
        },
        EventBody::DefectReported {
            defect_id: Uuid::now_v7(),
            checkpoint: None,
            category: "漏水".into(),
            severity: Severity::Major,
            position: Position {
                lat: None,
                lon: None,
                description: "地下室阀门井".into(),
                ..Default::default()
            },
            description: "阀门滴漏".into(),
            photos: vec![],
        },
        EventBody::FindingRecorded {
            finding_id: Uuid::now_v7(),
            category: FindingCategory::TamperedSeal,
            description: "铅封破坏".into(),
            states: Default::default(),
            photos: vec![],
        },
        EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "已修复".into(),
        },
    ];
    let events: Vec<Event> = bodies.iter().map(|b| dev.record(job.id, b)).collect();
    let resp = o.push_ok(&dev, &events).await;
    assert!(
        resp.results
            .iter()
            .all(|r| r.outcome == PushOutcome::Accepted),
        "a whole visit is accepted: {:?}",
        resp.results
    );

    let d = o.job_detail(&staff, job.id).await;
    let len = |k: &str| d[k].as_array().map_or(0, Vec::len);
    assert_eq!(len("steps"), 2, "completed and skipped steps are steps");
    assert_eq!(
        d["steps"][1]["skip_reason"], "客户要求不用鞋套",
        "a skipped step keeps its reason"
    );
    assert_eq!(len("photos"), 1, "photos are listed");
    assert_eq!(
        len("signatures"),
        2,
        "captured and declined signatures are both signature records"
    );
    assert_eq!(d["signatures"][0]["signer_name"], "王秀英", "who signed");
    assert_eq!(
        d["signatures"][0]["image"]["received"], false,
        "the signature image has not been uploaded yet"
    );
    assert_eq!(
        d["signatures"][1]["declined"]["witness"]["name"], "物业李师傅",
        "a refusal keeps its witness"
    );
    assert_eq!(
        d["ratings"][0]["payload"]["stars"], 5,
        "the customer's rating"
    );
    assert_eq!(
        d["notices"][0]["payload"]["number"], "D0001-2026-0001",
        "the rectification notice"
    );
    assert_eq!(
        d["readings"][0]["payload"]["readings"][0]["value"], 19.5,
        "the reading"
    );
    assert_eq!(
        d["defects"][0]["payload"]["severity"], "major",
        "the defect"
    );
    assert_eq!(
        d["other_records"][0]["kind"], "finding_recorded",
        "findings land with the other records"
    );
    assert_eq!(
        d["closed"]["payload"]["resolution"], "resolved",
        "the closing record"
    );
    assert_eq!(
        d["sla"]["within_sla"], true,
        "closed an hour after the report: within 4 hours"
    );
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        summary["notice_number_collisions"], 0,
        "one notice, no collision"
    );
    let other_job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let again = dev.record(other_job.id, &bodies[6]);
    o.push_ok(&dev, &[again]).await;
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        summary["notice_number_collisions"], 1,
        "a notice number issued twice is reported"
    );
    let first = &d["steps"][0];
    assert_eq!(
        (first["device_id"].as_str(), first["device_seq"].as_u64()),
        (Some(dev.id.to_string().as_str()), Some(1)),
        "each record says which device recorded it and where in its chain"
    );
}
