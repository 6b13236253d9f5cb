//! A crew's shared phone handed over, attacked as a tampered app would: each sign-in names where
//! the phone's chain stands (signed with the login's proof), so the records before it are fixed
//! and stay their maker's, and nothing can be added to an earlier user's work afterwards
//! (`ledger::makers`).

use super::*;
use heatcrew_protocol::ChainTip;
use heatcrew_testkit::key_device::enrolment_proof;

/// tech_a signs in on a shared phone, records on their job and hands the phone over with the
/// records queued; tech_b signs in. The app (tampered, holding the device key and tech_a's old
/// token) then writes on tech_a's job: refused whichever token pushes it, while tech_a's queued
/// records go up with tech_b's sync and count as tech_a's.
#[tokio::test]
async fn after_a_handover_nobody_adds_to_the_previous_users_work() {
    let o = TestOffice::start().await;
    let (admin, dispatch) = (o.staff("admin").await, o.staff("dispatch").await);
    let mut phone = o.device("tech_a").await;
    let a_token = phone.login.access_token.clone();
    let (status, body) = o
        .post_json(
            &format!("/api/v1/devices/{}/shared", phone.id),
            Some(&admin),
            &json!({"shared": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a_job = o.create_job(&dispatch, Some(o.user_id("tech_a"))).await.id;
    let b_job = o.create_job(&dispatch, Some(o.user_id("tech_b"))).await.id;
    let queued = [
        phone.record(a_job, &step("arrive")),
        phone.record(a_job, &step("show_id")),
    ];

    let (status, body) = o.sign_in_on(&mut phone, "tech_b", PASSWORD, None).await;
    assert_eq!(status, StatusCode::OK, "tech_b takes the phone: {body}");
    let forged = phone.record(a_job, &step("knock"));
    let own = phone.record(b_job, &step("arrive"));
    let resp = o
        .push_ok(
            &phone,
            &[queued[0].clone(), queued[1].clone(), forged.clone(), own],
        )
        .await;
    assert_eq!(
        outcomes(&resp),
        ["accepted", "accepted", "forbidden_job", "accepted"],
        "tech_a's queued records count; a record on tech_a's job made after the handover does not"
    );
    // Retried with tech_a's old token (still alive): the same answer, stored once.
    let (status, body) = o
        .post_json(
            "/api/v1/sync/push",
            Some(&a_token),
            &json!({"events": [forged]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["code"], "forbidden_job", "{body}");
    let later = phone.record(a_job, &step("shoe_covers"));
    let (status, body) = o
        .post_json(
            "/api/v1/sync/push",
            Some(&a_token),
            &json!({"events": [later]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["results"][0]["code"], "forbidden_job",
        "tech_a's own token does not make a record tech_a's once tech_b holds the phone: {body}"
    );
    let job = o.job_detail(&dispatch, a_job).await;
    let a = o.user_id("tech_a").to_string();
    let steps: Vec<(&str, &str)> = job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap_or(""),
                s["user_id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [("arrive", a.as_str()), ("show_id", a.as_str())],
        "tech_a's job holds tech_a's two records, as tech_a's: {job}"
    );
}

/// What the office already holds fixes what a sign-in may name: a phone claiming fewer records,
/// or another record at the office's tip, is refused with 409 `chain_head_mismatch` and gets no
/// session; an old app that names nothing is told to update (400 `chain_head_required`); a chain
/// head the proof did not sign is a bad proof.
#[tokio::test]
async fn a_sign_in_must_name_the_chain_the_office_holds() {
    let o = TestOffice::start().await;
    let dispatch = o.staff("dispatch").await;
    let mut phone = o.device("tech_a").await;
    let job = o.create_job(&dispatch, Some(o.user_id("tech_a"))).await.id;
    let events = [
        phone.record(job, &step("arrive")),
        phone.record(job, &step("show_id")),
    ];
    assert_eq!(
        outcomes(&o.push_ok(&phone, &events).await),
        ["accepted", "accepted"]
    );
    let code = |b: &Value| b["code"].as_str().unwrap_or_default().to_owned();
    let off = ChainTip {
        seq: 2,
        hash: Digest::of(b"another record 2"),
    };
    for (head, why) in [
        (ChainTip::START, "behind the office"),
        (
            ChainTip {
                seq: 1,
                hash: events[0].hash,
            },
            "behind the office by one",
        ),
        (off, "off the office's tip"),
    ] {
        let (status, body) = o
            .sign_in_on(&mut phone, "tech_a", PASSWORD, Some(head))
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "chain_head_mismatch".into()),
            "{why}: {body}"
        );
    }
    let (status, body) = o.sign_in_on(&mut phone, "tech_a", PASSWORD, None).await;
    assert_eq!(status, StatusCode::OK, "at its real tip: {body}");

    // The chain head is part of what the device key signs.
    let c = o.challenge(phone.id).await;
    let public = phone.key.verifying_key();
    let proof = enrolment_proof(
        &c,
        phone.id,
        &public,
        "tech_a",
        &ChainTip::START,
        &phone.key,
    );
    let login = |head: Option<ChainTip>, c: &str, proof: &str| {
        json!({"username": "tech_a", "password": PASSWORD, "device_id": phone.id,
               "device_public_key": hex::encode(public.as_bytes()),
               "challenge": c, "proof": proof, "chain_head": head})
    };
    let (status, body) = o
        .post_json(
            "/api/v1/auth/login",
            None,
            &login(Some(phone.tip), &c, &proof),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "bad_proof".into()),
        "a proof over another chain head: {body}"
    );
    let c = o.challenge(phone.id).await;
    let proof = enrolment_proof(&c, phone.id, &public, "tech_a", &phone.tip, &phone.key);
    let (status, body) = o
        .post_json("/api/v1/auth/login", None, &login(None, &c, &proof))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "chain_head_required".into()),
        "{body}"
    );
}
