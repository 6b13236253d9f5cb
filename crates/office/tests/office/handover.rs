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

/// Sign `username` in on `phone` (as `TestOffice::sign_in_on`), keeping the login's challenge: the
/// sign-out statement names it.
async fn sign_in_keeping_challenge(o: &TestOffice, phone: &mut Device, username: &str) -> String {
    let challenge = o.challenge(phone.id).await;
    let public = phone.key.verifying_key();
    let proof = enrolment_proof(
        &challenge, phone.id, &public, username, &phone.tip, &phone.key,
    );
    let (status, body) = o
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": PASSWORD, "device_id": phone.id,
                "device_public_key": hex::encode(public.as_bytes()),
                "challenge": challenge, "proof": proof, "chain_head": phone.tip}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{username} signs in: {body}");
    phone.login = serde_json::from_value(body).expect("a login response");
    challenge
}

/// The device's sign-out statement: `username` signed out with the chain at `head`.
fn sign_out_statement(phone: &Device, challenge: &str, username: &str, head: ChainTip) -> Value {
    use ed25519_dalek::Signer;
    let mut c = [0u8; 32];
    hex::decode_to_slice(challenge, &mut c).expect("hex");
    let message = heatcrew_protocol::log::sign_out_message(
        &c,
        phone.id,
        &phone.key.verifying_key(),
        username,
        &head,
    );
    json!({"device_id": phone.id, "challenge": challenge, "chain_head": head,
        "proof": hex::encode(phone.key.sign(&message).to_bytes())})
}

/// tech_a signs out on a shared phone and says where its chain stood (signed, no token needed).
/// The app, tampered, records on tech_a's job afterwards; tech_b signs in naming the chain past
/// those records and pushes them: they are nobody's work, refused `signed_out` (before, they
/// counted as tech_a's), while tech_a's records before the sign-out stay tech_a's. And what an
/// attacker would send instead is refused: the login's proof passed off as a sign-out, another
/// head for the same sign-in, a head behind the sign-in, an unknown sign-in, malformed hex.
#[tokio::test]
async fn records_made_after_a_signed_sign_out_are_nobodys() {
    let o = TestOffice::start().await;
    let (admin, dispatch) = (o.staff("admin").await, o.staff("dispatch").await);
    let mut phone = o.device("tech_a").await;
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
    let before = phone.record(a_job, &step("appointment"));
    let challenge = sign_in_keeping_challenge(&o, &mut phone, "tech_a").await;
    let made = [
        phone.record(a_job, &step("arrive")),
        phone.record(a_job, &step("show_id")),
    ];
    let out = phone.tip;
    let statement = sign_out_statement(&phone, &challenge, "tech_a", out);
    let send = |body: Value| {
        let o = &o;
        async move { o.post_json("/api/v1/auth/sign-out", None, &body).await }
    };

    // What an attacker would send instead.
    let login_proof = enrolment_proof(
        &challenge,
        phone.id,
        &phone.key.verifying_key(),
        "tech_a",
        &out,
        &phone.key,
    );
    let mut replayed = statement.clone();
    replayed["proof"] = json!(login_proof);
    let mut upper = statement.clone();
    upper["proof"] = json!(statement["proof"].as_str().unwrap().to_uppercase());
    let mut unknown = sign_out_statement(&phone, &"ab".repeat(32), "tech_a", out);
    unknown["device_id"] = json!(phone.id);
    let behind = sign_out_statement(&phone, &challenge, "tech_a", ChainTip::START);
    for (body, want, why) in [
        (
            replayed,
            (400, "bad_proof"),
            "a login's proof is not a sign-out's",
        ),
        (upper, (400, "bad_proof"), "upper-case hex"),
        (
            unknown,
            (404, "unknown_sign_in"),
            "a challenge no sign-in answered",
        ),
        (
            sign_out_statement(&phone, &challenge, "tech_b", out),
            (400, "bad_proof"),
            "signed for another user than the sign-in's",
        ),
    ] {
        let (status, answer) = send(body).await;
        assert_eq!(
            (status.as_u16(), answer["code"].as_str().unwrap_or_default()),
            want,
            "{why}: {answer}"
        );
    }
    let (status, answer) = send(behind).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::CONFLICT, Some("chain_head_mismatch")),
        "a sign-out before its own sign-in: {answer}"
    );

    let (status, answer) = send(statement.clone()).await;
    assert_eq!(status, StatusCode::OK, "tech_a signs out: {answer}");
    assert_eq!(
        answer["office_sig"].as_str().map(str::len),
        Some(128),
        "the office's signed word that it keeps it: {answer}"
    );
    let (status, again) = send(statement.clone()).await;
    assert_eq!(
        (status, &again),
        (StatusCode::OK, &answer),
        "sent again: the same answer"
    );
    let moved = phone.record(a_job, &step("knock"));
    let later = sign_out_statement(&phone, &challenge, "tech_a", phone.tip);
    let (status, answer) = send(later).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::CONFLICT, Some("sign_out_conflict")),
        "a second statement for the same sign-in, further on: {answer}"
    );

    // The tampered app goes on as tech_a; then tech_b signs in past it.
    let forged = phone.record(a_job, &step("shoe_covers"));
    sign_in_keeping_challenge(&o, &mut phone, "tech_b").await;
    let own = phone.record(b_job, &step("arrive"));
    let resp = o
        .push_ok(
            &phone,
            &[before, made[0].clone(), made[1].clone(), moved, forged, own],
        )
        .await;
    assert_eq!(
        outcomes(&resp),
        [
            "accepted",
            "accepted",
            "accepted",
            "signed_out",
            "signed_out",
            "accepted"
        ],
        "tech_a's records before the sign-out count; those after it are nobody's"
    );
    let stored = o.store().device_events(phone.id).expect("events");
    let a = o.user_id("tech_a");
    assert!(
        stored
            .iter()
            .filter(|e| e.accepted && e.event.unsigned.job_id == a_job)
            .all(|e| e.user_id == a),
        "the accepted records on tech_a's job are tech_a's"
    );
    assert_eq!(
        stored.iter().filter(|e| !e.accepted).count(),
        2,
        "the two records made after the sign-out are kept, refused"
    );

    // A sign-out statement may not disown records the office already holds past it.
    let mut other = o.device("tech_a").await;
    let ch = sign_in_keeping_challenge(&o, &mut other, "tech_a").await;
    let first = other.tip;
    let e = other.record(a_job, &step("arrive"));
    assert_eq!(outcomes(&o.push_ok(&other, &[e]).await), ["accepted"]);
    let (status, answer) = send(sign_out_statement(&other, &ch, "tech_a", first)).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::CONFLICT, Some("chain_head_mismatch")),
        "records already held after it: {answer}"
    );
}
