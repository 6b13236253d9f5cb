//! The office's evidence against someone who holds its database (`docs/evidence.md`): receipts,
//! tree heads and proofs over real HTTP, enrolment that proves key possession, a verify that only
//! reads, exports, and every tampering the issue lists, each detected with the spec's fault code.
//!
//! A device here is a key, a chain and what it kept from the office (its receipts and newest tree
//! head), as the device side keeps them; its export is built from exactly that.

mod harness;
mod sign_outs;
mod tamper;

use chrono::Utc;
use ed25519_dalek::{Signer, SigningKey};
use harness::*;
use heatcrew_office::store::{
    AccountStore, EnrolmentStore, EvidenceLogStore, LedgerStore, SqliteStore,
};
use heatcrew_protocol::log::{ConsistencyProof, InclusionProof, TreeHead, enrolment_message};
use heatcrew_protocol::sync::{PushOutcome, Role};
use heatcrew_protocol::{ChainTip, Event};
use heatcrew_testkit::KeyDevice;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use uuid::Uuid;

#[tokio::test]
async fn every_stored_event_gets_a_signed_receipt_and_a_retry_gets_the_same_one() {
    let o = TestOffice::start().await;
    let staff = o.staff().await;
    let mut dev = o.device("tech_a").await;
    assert_eq!(
        dev.login.office_public_key.as_deref(),
        Some(hex::encode(o.office_key().as_bytes()).as_str()),
        "login hands the device the office key"
    );
    let job = o.job_for(&staff, "tech_a").await;
    let other_job = o.job_for(&staff, "tech_b").await;
    let events = vec![
        dev.record(job, "arrive"),
        dev.record(other_job, "arrive"),
        dev.record(job, "show_id"),
    ];
    let first = o.push(&mut dev, &events).await;
    let office = o.office_key();
    for (i, r) in first.results.iter().enumerate() {
        let rc = r.receipt.expect("every stored event has a receipt");
        assert!(rc.verify(&office), "signed by the office key");
        assert_eq!(
            (rc.device_seq, rc.event_hash, rc.log_index),
            (events[i].seq(), events[i].hash, i as u64),
            "the receipt names the event and its place in the log"
        );
    }
    assert!(
        matches!(first.results[1].outcome, PushOutcome::Rejected { .. }),
        "another technician's job is refused…"
    );
    assert!(
        !first.results[1].receipt.expect("receipt").accepted,
        "…but kept as a link, and its receipt says refused"
    );
    let again = o.push(&mut dev, &events).await;
    assert_eq!(
        again.results.iter().map(|r| r.receipt).collect::<Vec<_>>(),
        first.results.iter().map(|r| r.receipt).collect::<Vec<_>>(),
        "a retried push gets the very same receipts (exactly once: no new log entries)"
    );
    assert_eq!(o.store().log_size().expect("size"), 3, "one leaf per event");

    let head = o.pull(&mut dev).await;
    assert!(head.verify(&office), "the tree head is the office's");
    assert_eq!(head.size, 3, "it covers the whole log");
    for rc in &dev.receipts {
        let (status, p) = o
            .get_json(
                &format!("/api/v1/log/inclusion?index={}&size=3", rc.log_index),
                &dev.login.access_token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "inclusion proof: {p}");
        let proof: InclusionProof = serde_json::from_value(p).expect("proof");
        assert!(
            proof.verify(&rc.leaf(), &head),
            "the receipt's event is in the signed log"
        );
    }
    let newer: Vec<Event> = (0..4).map(|_| dev.record(job, "test")).collect();
    o.push(&mut dev, &newer).await;
    let later = o.pull(&mut dev).await;
    assert_eq!(later.size, 7, "the log grew");
    let (_, p) = o
        .get_json(
            "/api/v1/log/consistency?first=3&second=7",
            &dev.login.access_token,
        )
        .await;
    let proof: ConsistencyProof = serde_json::from_value(p).expect("proof");
    assert!(
        proof.verify(&head, &later),
        "the later log provably extends the earlier one"
    );
    let (_, again) = o
        .get_json("/api/v1/log/tree-head", &dev.login.access_token)
        .await;
    assert_eq!(
        serde_json::from_value::<TreeHead>(again).expect("head"),
        later,
        "one tree head per size: asking again gives the same signature"
    );
    let (status, tip) = o
        .get_json(&format!("/api/v1/devices/{}/tip", dev.id), &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "staff read a device's tip: {tip}");
    assert_eq!(
        (tip["tip"]["seq"].as_u64(), tip["tip"]["hash"].as_str()),
        (Some(7), Some(dev.tip.hash.to_hex().as_str())),
        "the office's chain tip is the device's"
    );

    let export = o.export(&staff, "").await;
    let r = check(&[dev.export(), export.clone()]);
    assert!(r.ok(), "an honest device and office agree: {:?}", r.faults);
    assert!(
        r.unproven.is_empty(),
        "and nothing is left unproven: {:?}",
        r.unproven
    );
    let files: Vec<PathBuf> = [("device.jsonl", dev.export()), ("office.jsonl", export)]
        .into_iter()
        .map(|(name, e)| {
            let path = o.dir().join(name);
            let mut text = Vec::new();
            heatcrew_office::export::write_lines(&e.lines, &mut text).expect("write");
            std::fs::write(&path, text).expect("write");
            path
        })
        .collect();
    if let Some((ok, out)) =
        python_verify_all(&files.iter().map(PathBuf::as_path).collect::<Vec<_>>())
    {
        assert!(ok, "the independent verifier agrees: {out}");
    }
}

#[tokio::test]
async fn login_proves_the_device_holds_its_key() {
    let o = TestOffice::start().await;
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let vk = key.verifying_key();
    let id = Uuid::now_v7();
    let code = |body: &Value| body["code"].as_str().unwrap_or_default().to_owned();

    let (status, body) = o
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": "tech_a", "password": PASSWORD, "device_id": id,
                    "device_public_key": hex::encode(vk.as_bytes()), "chain_head": ChainTip::START}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "proof_required".into()),
        "a login without proof is refused"
    );
    let c = o.challenge(id).await;
    let mut c_bytes = [0u8; 32];
    hex::decode_to_slice(&c, &mut c_bytes).expect("hex");
    let proof = key.sign(&enrolment_message(
        &c_bytes,
        id,
        &vk,
        "tech_a",
        &ChainTip::START,
    ));
    let (status, body) = o
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": "tech_a", "password": PASSWORD, "device_id": id,
                    "device_public_key": hex::encode(vk.as_bytes()),
                    "challenge": c, "proof": hex::encode(proof.to_bytes())}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "chain_head_required".into()),
        "an app that does not say where its chain stands must be updated"
    );
    assert!(
        o.store().device(id).expect("lookup").is_none(),
        "nothing enrolled"
    );

    let thief = SigningKey::generate(&mut rand::rngs::OsRng);
    let c = o.challenge(id).await;
    let (status, body) = o
        .login_signed("tech_a", PASSWORD, id, &vk, &thief, &c)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "bad_proof".into()),
        "someone else's phone key cannot be bound without its private key"
    );
    let (_, body) = o.login_signed("tech_a", PASSWORD, id, &vk, &key, &c).await;
    assert_eq!(
        code(&body),
        "challenge_unknown",
        "a challenge is used up by any attempt"
    );

    let c = o.challenge(Uuid::now_v7()).await;
    let (_, body) = o.login_signed("tech_a", PASSWORD, id, &vk, &key, &c).await;
    assert_eq!(
        code(&body),
        "challenge_wrong_device",
        "a challenge is for one device"
    );

    let expired = "ab".repeat(32);
    o.store()
        .create_challenge(
            &expired,
            id,
            Utc::now() - chrono::Duration::seconds(1),
            Utc::now() - chrono::Duration::minutes(5),
        )
        .expect("an old challenge");
    let (_, body) = o
        .login_signed("tech_a", PASSWORD, id, &vk, &key, &expired)
        .await;
    assert_eq!(
        code(&body),
        "challenge_expired",
        "a stale challenge is refused"
    );

    let c = o.challenge(id).await;
    let mut c_bytes = [0u8; 32];
    hex::decode_to_slice(&c, &mut c_bytes).expect("hex");
    let for_b = key.sign(&enrolment_message(
        &c_bytes,
        id,
        &vk,
        "tech_b",
        &ChainTip::START,
    ));
    let (_, body) = o
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": "tech_a", "password": PASSWORD, "device_id": id,
                    "device_public_key": hex::encode(vk.as_bytes()),
                    "challenge": c, "proof": hex::encode(for_b.to_bytes()),
                    "chain_head": ChainTip::START}),
        )
        .await;
    assert_eq!(
        code(&body),
        "bad_proof",
        "a proof made for another account does not open this one"
    );

    // The real proof in upper-case hex: kept as sent it would make every export of the device
    // unreadable (exports are lowercase only), so it is refused before anything is kept.
    let c = o.challenge(id).await;
    let mut c_bytes = [0u8; 32];
    hex::decode_to_slice(&c, &mut c_bytes).expect("hex");
    let proof = key.sign(&enrolment_message(
        &c_bytes,
        id,
        &vk,
        "tech_a",
        &ChainTip::START,
    ));
    let (status, body) = o
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": "tech_a", "password": PASSWORD, "device_id": id,
                    "device_public_key": hex::encode(vk.as_bytes()),
                    "challenge": c, "proof": hex::encode_upper(proof.to_bytes()),
                    "chain_head": ChainTip::START}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "bad_proof".into()),
        "upper-case hex is refused: {body}"
    );
    assert!(
        o.store().device(id).expect("lookup").is_none(),
        "nothing enrolled"
    );

    let c = o.challenge(id).await;
    let (status, body) = o.login_signed("tech_a", PASSWORD, id, &vk, &key, &c).await;
    assert_eq!(status, StatusCode::OK, "the real device logs in: {body}");
    let c = o.challenge(id).await;
    let (_, body) = o.login_signed("tech_a", PASSWORD, id, &vk, &key, &c).await;
    assert_eq!(
        body["device_code"].as_str().map(str::len),
        Some(5),
        "and again, with a fresh challenge: {body}"
    );
    let c = o.challenge(id).await;
    let (status, body) = o
        .login_signed("tech_b", PASSWORD, id, &thief.verifying_key(), &thief, &c)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "device_key_mismatch".into()),
        "an enrolled device id cannot be taken over by another key, even with a valid proof"
    );
}

#[tokio::test]
async fn verify_only_reads_and_refuses_what_is_not_an_office_database() {
    let Pushed { o, .. } = Pushed::visit(&["arrive", "show_id"]).await;
    let before = snapshot(o.dir());
    let (ok, out) = verify_db(o.db());
    assert!(ok, "an untouched office verifies: {out}");
    assert!(
        out.contains("2 events from 1 devices")
            && out.contains("office log of 2 entries, 1 tree heads"),
        "verify says what it checked: {out}"
    );
    assert_eq!(
        snapshot(o.dir()),
        before,
        "verify leaves the database, its key and its files byte-identical, and adds nothing"
    );

    let foreign = o.dir().join("other.sqlite");
    rusqlite::Connection::open(&foreign)
        .and_then(|c| {
            c.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('x');")
        })
        .expect("a foreign database");
    let text = o.dir().join("notes.txt");
    std::fs::write(&text, "not a database at all").expect("write");
    let before = snapshot(o.dir());
    for (path, why) in [
        (&foreign, "another SQLite database"),
        (&text, "a text file"),
    ] {
        let (ok, out) = verify_db(path);
        assert!(!ok, "{why} is refused");
        assert!(
            out.contains("not a HeatCrew office database"),
            "{why}: the refusal says why: {out}"
        );
    }
    let (ok, _) = verify_db(&o.dir().join("missing.db"));
    assert!(!ok, "a missing file is refused");
    assert_eq!(
        snapshot(o.dir()),
        before,
        "refusing creates and changes nothing (no tables, no key, no empty database)"
    );
}

/// The log's cost on disk: 1,000 events pushed, the database compacted with and without the log
/// tables. Prints the figure (`-- --nocapture`); fails if the log grows beyond a few hundred bytes
/// per event.
#[test]
fn the_log_takes_a_few_hundred_bytes_per_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("office.db");
    let store = SqliteStore::open(&db).expect("store");
    let user = store
        .add_user(
            heatcrew_office::store::NewUser {
                username: "tech".into(),
                password_hash: "x".into(),
                display_name: "tech".into(),
                role: Role::RepairTechnician,
                badge_no: String::new(),
            },
            Utc::now(),
        )
        .expect("user");
    let key = SigningKey::from_bytes(&[3; 32]);
    let id = Uuid::now_v7();
    store
        .enrol_device(
            id,
            &hex::encode(key.verifying_key().as_bytes()),
            "d",
            user.id,
            Utc::now(),
        )
        .expect("enrol");
    let mut dev = Device::keeping(KeyDevice {
        id,
        key,
        tip: ChainTip::START,
        login: serde_json::from_value(json!({
            "access_token": "", "access_expires_at": Utc::now(), "refresh_token": "",
            "user": user, "device_code": "", "last_seq": 0, "server_time": Utc::now()}))
        .expect("login"),
    });
    let office = SigningKey::from_bytes(&[4; 32]);
    const N: u64 = 1000;
    let job = Uuid::now_v7();
    for _ in 0..N / 100 {
        let batch: Vec<Event> = (0..100).map(|_| dev.record(job, "arrive")).collect();
        let resp = store
            .push(id, user.id, &batch, Utc::now(), &office)
            .expect("push");
        assert!(
            resp.results.iter().all(|r| r.receipt.is_some()),
            "every stored event has a receipt"
        );
    }
    assert_eq!(store.log_size().expect("size"), N, "one leaf per event");
    let size_of = |path: &Path| std::fs::metadata(path).expect("size").len();
    let with = dir.path().join("with.db");
    let without = dir.path().join("without.db");
    tamper(&db, &format!("VACUUM INTO '{}'", with.display()));
    tamper(&with, &format!("VACUUM INTO '{}'", without.display()));
    tamper(
        &without,
        "DROP TABLE log_leaves; DROP TABLE log_nodes; DROP TABLE tree_heads; VACUUM;",
    );
    let per_event = (size_of(&with) - size_of(&without)) / N;
    println!(
        "office log: {} bytes per 1000 events ({per_event} per event); database {} bytes without it",
        size_of(&with) - size_of(&without),
        size_of(&without)
    );
    assert!(
        per_event < 400,
        "the log stays small beside the events it covers: {per_event} bytes per event"
    );
}
