//! The customer's opinion form, corrections and the company's details through the device store:
//! a refused form or correction records nothing; the form is locked once given, also after a
//! restart; a correction leaves the original event byte for byte and the views show both; the
//! standard phrases and the contact card carry what the office sent with its pull.

use super::*;
use heatcrew_core::views;
use heatcrew_protocol::sync::{CompanyProfile, PullResponse};
use serde_json::json;
use std::collections::BTreeMap;

fn answers() -> BTreeMap<String, String> {
    [
        ("punctuality", "late"),
        ("attitude", "good"),
        ("tidiness", "yes"),
        ("gifts", "none"),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into()))
    .collect()
}

fn opinion(stars: u8, answers: BTreeMap<String, String>) -> EventBody {
    EventBody::OpinionGiven {
        stars,
        comment: "来晚了一点，修得很好".into(),
        answers,
    }
}

#[test]
fn the_opinion_form_is_complete_recorded_once_and_locked_across_restarts() {
    let mut d = device();
    let job = visit_until(&mut d.store, "rating");
    let before = d.store.events().expect("events").len();
    let mut partial = answers();
    partial.remove("tidiness");
    let err = rule(
        d.store
            .record(job.id, opinion(4, partial))
            .expect_err("partial"),
    );
    assert_eq!(err.code(), "evidence_missing", "every question is answered");
    assert_eq!(
        d.store.events().expect("events").len(),
        before,
        "a refused form records nothing"
    );

    let given = d
        .store
        .record(job.id, opinion(4, answers()))
        .expect("the customer's form");
    let view = views::job(&d.store, job.id).expect("view");
    let rating = view.rating.expect("the view shows the form");
    assert_eq!(
        (rating.stars, rating.answers),
        (4, answers()),
        "stars and every answer"
    );
    assert_eq!(
        view.opinion_form.len(),
        4,
        "the form's questions come with a job that has a rating step"
    );

    drop(d.store);
    let mut store = Store::open(&d.db).expect("reopen");
    store.rebuild_projections().expect("rebuild");
    for body in [
        opinion(5, answers()),
        EventBody::RatingGiven {
            stars: 5,
            comment: String::new(),
        },
        EventBody::Correction {
            corrects: given.unsigned.id,
            reason: "客户点错了".into(),
            replacement: Some(json!({"text": {"punctuality": "on_time"}})),
        },
    ] {
        let kind = body.kind();
        let err = rule(store.record(job.id, body).expect_err("locked"));
        assert_eq!(
            err.code(),
            "rating_locked",
            "{kind}: the form stays the customer's after a restart"
        );
    }
    let stored = store
        .job(job.id)
        .expect("read")
        .expect("job")
        .progress
        .rating;
    assert_eq!(
        stored.map(|r| r.answers["punctuality"].clone()),
        Some("late".into()),
        "the customer's answer stands"
    );
}

#[test]
fn a_correction_records_the_new_text_and_leaves_the_original_event_as_it_was() {
    let mut d = device();
    let job = visit_until(&mut d.store, "clean_up");
    let records = views::correctable(&d.store, job.id).expect("correctable");
    let repair = records
        .iter()
        .find(|r| r.step.as_deref() == Some("diagnose_repair"))
        .expect("the repair step is correctable")
        .clone();
    let original = d
        .store
        .events()
        .expect("events")
        .into_iter()
        .find(|e| e.unsigned.id == repair.event_id)
        .expect("the original event");
    let before = d.store.events().expect("events").len();
    for (replacement, code) in [
        (json!({"text": {"no_such_field": "x"}}), "invalid_value"),
        (json!({"text": {"work_done": ""}}), "invalid_value"),
        (json!({"colour": "red"}), "bad_correction"),
    ] {
        let err = rule(
            d.store
                .record(
                    job.id,
                    EventBody::Correction {
                        corrects: repair.event_id,
                        reason: "写错了".into(),
                        replacement: Some(replacement.clone()),
                    },
                )
                .expect_err("refused"),
        );
        assert_eq!(err.code(), code, "{replacement} is refused");
    }
    let photo_event = d
        .store
        .events()
        .expect("events")
        .into_iter()
        .find(|e| e.unsigned.kind == "photo_added")
        .expect("a photo");
    let err = rule(
        d.store
            .record(
                job.id,
                EventBody::Correction {
                    corrects: photo_event.unsigned.id,
                    reason: "拍错了".into(),
                    replacement: Some(json!({"text": {"fault_found": "x"}})),
                },
            )
            .expect_err("a photo takes no text"),
    );
    assert_eq!(
        err.code(),
        "bad_correction",
        "values only for texts, readings, findings"
    );
    assert_eq!(
        d.store.events().expect("events").len(),
        before,
        "refusals record nothing"
    );

    d.store
        .record(
            job.id,
            EventBody::Correction {
                corrects: repair.event_id,
                reason: "故障原因写错".into(),
                replacement: Some(json!({"text": {"fault_found": "温控阀损坏"}})),
            },
        )
        .expect("a correction of the repair text");
    let events = d.store.events().expect("events");
    assert_eq!(
        events.iter().find(|e| e.unsigned.id == repair.event_id),
        Some(&original),
        "the original stays in the chain unchanged"
    );
    audit(
        &events,
        d.store.device_id(),
        &d.store.public_key(),
        Some(d.store.tip()),
    )
    .unwrap_or_else(|f| panic!("and the chain verifies: {f}"));
    let view = views::job(&d.store, job.id).expect("view");
    assert_eq!(view.corrections.len(), 1, "the job shows the correction");
    assert_eq!(
        view.corrections[0].corrects, repair.event_id,
        "naming the original"
    );
    let now = views::correctable(&d.store, job.id).expect("correctable");
    let repair = now
        .iter()
        .find(|r| r.event_id == repair.event_id)
        .expect("listed");
    assert_eq!(
        repair.original.text["fault_found"], "阀门堵塞",
        "as recorded"
    );
    assert_eq!(
        repair.current.text["fault_found"], "温控阀损坏",
        "as corrected"
    );
    assert_eq!(
        repair.current.text["work_done"], "清洗阀芯",
        "untouched fields keep their value"
    );
}

#[test]
fn the_phrases_and_contact_card_carry_the_company_and_technician_the_office_sent() {
    let mut d = device();
    let job = visit_until(&mut d.store, "appointment");
    let phrase_of = |v: &heatcrew_core::views::JobView, step: &str| {
        v.steps
            .iter()
            .find(|s| s.id == step)
            .and_then(|s| s.phrase.clone())
            .expect("phrase")
    };
    let hotline_of = |v: &heatcrew_core::views::JobView| {
        v.steps
            .iter()
            .flat_map(|s| &s.evidence)
            .find_map(|e| match e {
                heatcrew_rules::template::Evidence::ContactCard { phone, .. } => {
                    Some(phone.clone())
                }
                _ => None,
            })
            .expect("a contact card")
    };
    let before = views::job(&d.store, job.id).expect("view");
    let identify = phrase_of(&before, "identify");
    assert!(
        !identify.zh.contains("××") && !identify.zh.contains('{'),
        "no blanks before the first pull: {}",
        identify.zh
    );
    assert_eq!(
        hotline_of(&before),
        "",
        "no hotline until the office sends one (never a made-up number)"
    );

    d.store
        .apply_pull(&PullResponse {
            changes: Vec::new(),
            next_cursor: 0,
            has_more: false,
            server_time: Utc::now(),
            tree_head: None,
            acknowledgements: Vec::new(),
            company: Some(CompanyProfile {
                name: "滨河热力公司".into(),
                hotline: "0531-96069".into(),
            }),
        })
        .expect("a pull with the company's details");
    let after = views::job(&d.store, job.id).expect("view");
    let identify = phrase_of(&after, "identify");
    assert!(
        identify.zh.contains("滨河热力公司"),
        "the company's own name: {}",
        identify.zh
    );
    assert_eq!(
        hotline_of(&after),
        "0531-96069",
        "the hotline the office set"
    );
    assert!(
        phrase_of(&after, "contact_card").zh.contains("0531-96069"),
        "the phrase said with the card names the number"
    );
    drop(d.store);
    let store = Store::open(&d.db).expect("reopen");
    assert_eq!(
        store.company_profile().expect("read").map(|c| c.hotline),
        Some("0531-96069".into()),
        "the details survive a restart (they are the office's, kept across sign-outs)"
    );
}
