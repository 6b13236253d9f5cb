//! Each tampering with the office database the issue lists, detected with the spec's fault code:
//! by `heatcrew-office verify` where the database alone can show it, and by the devices' receipts
//! and tree heads where its holder rewrote everything.

use crate::harness::*;
use chrono::Utc;
use ed25519_dalek::SigningKey;
use heatcrew_office::store::Uploader;
use heatcrew_office::{Config, Office};
use heatcrew_protocol::export::ExportLine;
use heatcrew_protocol::log::parse_public_key;
use heatcrew_protocol::sync::AttachmentCreate;
use heatcrew_protocol::{ChainTip, Digest, Event};
use serde_json::json;

#[tokio::test]
async fn deleting_the_newest_events_and_rewinding_the_ledger_is_detected() {
    let Pushed {
        o,
        staff,
        dev,
        events,
        ..
    } = Pushed::visit(&["arrive", "show_id", "diagnose", "repair"]).await;
    let d = dev.id.to_string();
    let rewind = format!(
        "DELETE FROM events WHERE device_id = '{d}' AND device_seq > 2;
         UPDATE devices SET last_seq = 2, last_hash = '{}' WHERE id = '{d}';",
        events[1].hash
    );

    // Naively: the log still holds the removed events.
    tamper(o.db(), &rewind);
    assert_verify_fails(o.db(), "events_removed", "the office log remembers them");

    // Thoroughly: the log rebuilt without them, the tree heads kept (a tree head the office handed
    // out covers them). Completely: no trace left at the office; the device's receipts show it.
    rebuild_log_thoroughly_then_completely(o.db(), "a tree head the office handed out covers them");
    assert_verify_passes(o.db(), "the office database alone is consistent again");
    let office_export = o.export(&staff, &format!("?device={}", dev.id)).await;
    let r = check(std::slice::from_ref(&office_export));
    assert!(
        r.ok(),
        "the office's export alone looks whole: {:?}",
        r.faults
    );
    let r = check(&[dev.receipts_only(), office_export.clone()]);
    assert!(
        r.has("events_removed"),
        "the receipts the device kept prove events were removed: {:?}",
        codes(&r)
    );
    let r = check(&[dev.export(), office_export]);
    assert!(
        !r.unproven.is_empty(),
        "and the office cannot prove its log extends the tree head the device holds: {r:?}"
    );
    // The office goes on: another device's events take the erased places in the log.
    let mut other = o.device("tech_b").await;
    let job_b = o.job_for(&staff, "tech_b").await;
    let b_events = vec![other.record(job_b, "arrive"), other.record(job_b, "repair")];
    o.push(&mut other, &b_events).await;
    let r = check(&[dev.export(), o.export(&staff, "").await]);
    assert!(
        r.has("log_rewritten"),
        "the office signed two different entries at the same log index: {:?}",
        codes(&r)
    );
}

#[tokio::test]
async fn rekeying_a_device_and_resigning_its_chain_is_detected() {
    let Pushed {
        o,
        staff,
        dev,
        events,
        ..
    } = Pushed::visit(&["arrive", "show_id", "diagnose"]).await;

    // The office re-keys the device and re-signs its chain with event 2 changed.
    let forger = SigningKey::generate(&mut rand::rngs::OsRng);
    let mut tip = ChainTip::START;
    let mut sql = String::new();
    for e in &events {
        let mut u = e.unsigned.clone();
        if u.device_seq == 2 {
            u.payload = json!({"step": "skipped_id_check", "evidence": {}});
        }
        u.prev_hash = tip.hash;
        let forged = u.seal(&forger);
        tip = ChainTip {
            seq: forged.seq(),
            hash: forged.hash,
        };
        sql.push_str(&format!(
            "UPDATE events SET body = '{}', hash = '{}' WHERE device_id = '{}' AND device_seq = {};",
            serde_json::to_string(&forged).expect("json").replace('\'', "''"),
            forged.hash,
            dev.id,
            forged.seq()
        ));
    }
    sql.push_str(&format!(
        "UPDATE devices SET public_key = '{}', last_hash = '{}' WHERE id = '{}';",
        hex::encode(forger.verifying_key().as_bytes()),
        tip.hash,
        dev.id
    ));
    tamper(o.db(), &sql);
    assert_verify_fails(
        o.db(),
        "receipt_mismatch",
        "the office log acknowledged other events",
    );
    rebuild_log(o.db(), false);
    assert_verify_fails(
        o.db(),
        "bad_sign_in",
        "the device signed its sign-ins with its real key",
    );
    resign_sign_ins(o.db(), dev.id, &forger);
    assert_verify_passes(o.db(), "a complete forgery passes the office's own check");

    let r = check(&[
        dev.export(),
        o.export(&staff, &format!("?device={}", dev.id)).await,
    ]);
    assert!(
        r.has("key_mismatch"),
        "the device's export carries its real key: {:?}",
        codes(&r)
    );
    assert!(
        r.has("two_versions") || r.has("receipt_mismatch"),
        "and the device's receipts name the original events: {:?}",
        codes(&r)
    );
}

#[tokio::test]
async fn rewriting_the_log_after_a_tree_head_was_handed_out_is_detected() {
    let Pushed {
        o,
        staff,
        mut dev,
        job,
        ..
    } = Pushed::visit(&["arrive", "show_id"]).await;
    let held = dev.tree_head.expect("the device keeps the tree head");
    assert_eq!(held.size, 2, "the device holds the head of the log of 2");

    // The office turns its acceptance of event 1 into a refusal and rebuilds the log.
    tamper(
        o.db(),
        &format!(
            "UPDATE events SET status = 'rejected', reject_code = 'forbidden_job' WHERE device_id = '{}' AND device_seq = 1;",
            dev.id
        ),
    );
    rebuild_log_thoroughly_then_completely(
        o.db(),
        "the office's own kept tree head no longer matches",
    );

    let more: Vec<Event> = ["diagnose", "repair"]
        .iter()
        .map(|s| dev.record(job, s))
        .collect();
    o.push(&mut dev, &more).await;
    let office_export = o
        .export(&staff, &format!("?device={}&consistency_from=2", dev.id))
        .await;
    assert_eq!(
        dev.tree_head,
        Some(held),
        "the device kept the head it was given"
    );
    let r = check(&[dev.export(), office_export]);
    assert!(
        r.has("consistency_failed"),
        "the office cannot prove its log extends the head it signed earlier: {:?}",
        codes(&r)
    );
}

#[tokio::test]
async fn replaced_or_missing_attachment_files_are_detected() {
    let o = TestOffice::start().await;
    let files = o
        .running()
        .state
        .files
        .local_folder()
        .expect("the default folder");
    let user = o.user_id("tech_a");
    let mut stored = Vec::new();
    let who = Uploader {
        user_id: user,
        device_id: None,
    };
    for content in [b"photo one".as_slice(), b"signature two".as_slice()] {
        let sha = Digest::of(content);
        o.store()
            .open_upload(
                &AttachmentCreate {
                    sha256: sha,
                    size: content.len() as u64,
                    mime: "image/jpeg".into(),
                },
                who,
                Utc::now(),
            )
            .expect("announce");
        files.append(sha, &who.key(), 0, content).expect("upload");
        files.finish(sha, &who.key()).expect("finish");
        o.store()
            .complete_upload(sha, who, "application/octet-stream", Utc::now())
            .expect("complete");
        stored.push(sha);
    }
    let (ok, out) = verify_db(o.db());
    assert!(ok && out.contains("2 attachment files intact"), "{out}");
    std::fs::write(files.final_path(stored[0]), b"a doctored photo").expect("replace");
    std::fs::remove_file(files.final_path(stored[1])).expect("remove");
    let (ok, out) = verify_db(o.db());
    assert!(!ok, "altered evidence fails: {out}");
    assert!(
        out.contains("file_mismatch") && out.contains(&stored[0].to_hex()),
        "the replaced photo is named: {out}"
    );
    assert!(
        out.contains("file_missing") && out.contains(&stored[1].to_hex()),
        "and the missing signature: {out}"
    );
}

#[tokio::test]
async fn a_truncated_export_is_detected_and_the_cli_export_verifies() {
    let o = TestOffice::start().await;
    let staff = o.staff().await;
    let mut dev = o.device("tech_a").await;
    let job = o.job_for(&staff, "tech_a").await;
    let other = o.job_for(&staff, "tech_a").await;
    let events = vec![
        dev.record(job, "arrive"),
        dev.record(other, "arrive"),
        dev.record(job, "repair"),
    ];
    o.push(&mut dev, &events).await;

    let per_job = o.export(&staff, &format!("?job={job}")).await;
    let links = per_job
        .lines
        .iter()
        .filter(|l| matches!(l, ExportLine::Link { .. }))
        .count();
    assert_eq!(
        links, 1,
        "another job's event is a link, its content withheld"
    );
    let r = check(std::slice::from_ref(&per_job));
    assert!(
        r.ok() && r.unproven.is_empty(),
        "a per-job export stands alone: {r:?}"
    );

    let mut truncated = per_job.clone();
    let last_event = truncated
        .lines
        .iter()
        .rposition(|l| matches!(l, ExportLine::Event { .. }))
        .expect("an event");
    truncated.lines.remove(last_event);
    assert!(
        check(&[truncated]).has("tip_mismatch"),
        "dropping the newest line is caught by the tip"
    );

    // The same export from the command line, checked by the command line.
    let out_file = o.dir().join("export.jsonl");
    let db = o.db().to_str().expect("path");
    let (ok, out) = office_cli(&[
        "export",
        "--db",
        db,
        "--device",
        &dev.id.to_string(),
        "--out",
        out_file.to_str().expect("path"),
    ]);
    assert!(ok, "export runs beside a running office: {out}");
    let (ok, out) = office_cli(&[
        "verify-export",
        "--strict",
        out_file.to_str().expect("path"),
    ]);
    assert!(ok, "its export verifies strictly: {out}");
    if let Some((ok, out)) = python_verify(&out_file) {
        assert!(
            ok,
            "the independent verifier, written from docs/evidence.md alone, accepts it: {out}"
        );
    }
    let text = std::fs::read_to_string(&out_file).expect("read");
    let cut: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
    std::fs::write(&out_file, cut).expect("truncate");
    let (ok, out) = office_cli(&["verify-export", out_file.to_str().expect("path")]);
    assert!(
        !ok && out.contains("tip_mismatch"),
        "a truncated file fails: {out}"
    );
    if let Some((ok, out)) = python_verify(&out_file) {
        assert!(!ok, "and fails the independent verifier too: {out}");
    }
}

#[tokio::test]
async fn a_copied_office_database_without_its_key_file_cannot_sign() {
    let Pushed { o, .. } = Pushed::visit(&["arrive"]).await;
    let copy = tempfile::tempdir().expect("dir");
    let copied = copy.path().join("office.db");
    tamper(
        o.db(),
        &format!("VACUUM INTO '{}'", copied.to_str().expect("path")),
    );
    let err = Office::open(Config::new(&copied)).expect_err("no key, no office");
    assert!(
        err.to_string().contains("office key file") && err.to_string().contains("missing"),
        "the refusal says why: {err}"
    );
    assert!(
        !heatcrew_office::office_key::default_path(&copied).exists(),
        "and no new key was made to sign under the office's name"
    );
    let before = files_in(copy.path());
    assert_verify_passes(
        &copied,
        "the copy can still be checked (verify needs no key)",
    );
    assert_eq!(
        files_in(copy.path()),
        before,
        "a closed database is checked without a byte changed or a file (-wal, -shm) added"
    );
    assert!(
        parse_public_key(&hex::encode(o.office_key().as_bytes())).is_some(),
        "the office key is public knowledge"
    );
}

/// Whose record an event is rests on what the device signed at each sign-in, not on the database:
/// a crew's phone handed from tech_a to tech_b, then someone with the file makes tech_b's record
/// tech_a's (`wrong_maker`), or moves the handover point or its user (`bad_sign_in`).
#[tokio::test]
async fn changing_whose_record_an_event_is_is_detected() {
    let Pushed {
        o, staff, mut dev, ..
    } = Pushed::visit(&["arrive", "show_id"]).await;
    let admin = o.staff_token("admin", PASSWORD).await;
    let (status, body) = o
        .post_json(
            &format!("/api/v1/devices/{}/shared", dev.id),
            Some(&admin),
            &json!({"shared": true}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let (status, body) = o.sign_in_on(&mut dev.chain, "tech_b", PASSWORD, None).await;
    assert_eq!(
        status,
        reqwest::StatusCode::OK,
        "tech_b takes the phone: {body}"
    );
    let job_b = o.job_for(&staff, "tech_b").await;
    let e = dev.record(job_b, "arrive");
    o.push(&mut dev, &[e]).await;
    assert_verify_passes(o.db(), "an honest handover verifies");
    // An outside expert reads the same from the export alone: the device's signed sign-ins.
    let export = o.export(&staff, &format!("?device={}", dev.id)).await;
    let r = check(std::slice::from_ref(&export));
    assert!(r.ok() && r.unproven.is_empty(), "{r:?}");
    let makers: Vec<(&str, u64, u64)> = r
        .makers
        .iter()
        .map(|m| (m.username.as_str(), m.first_seq, m.last_seq))
        .collect();
    assert_eq!(makers, [("tech_a", 1, 2), ("tech_b", 3, 3)]);

    let (a, b, d) = (o.user_id("tech_a"), o.user_id("tech_b"), dev.id);
    tamper(
        o.db(),
        &format!("UPDATE events SET user_id = '{a}' WHERE device_id = '{d}' AND device_seq = 3"),
    );
    assert_verify_fails(o.db(), "wrong_maker", "tech_b held the phone at event 3");
    tamper(
        o.db(),
        &format!("UPDATE events SET user_id = '{b}' WHERE device_id = '{d}' AND device_seq = 3"),
    );
    assert_verify_passes(o.db(), "put back");
    for sql in [
        format!(
            "UPDATE sessions SET chain_head_seq = 1 WHERE device_id = '{d}' AND chain_head_seq = 2"
        ),
        format!("UPDATE sessions SET user_id = '{a}' WHERE device_id = '{d}' AND user_id = '{b}'"),
    ] {
        let (db, copy) = copy_of(&o);
        tamper(&copy, &sql);
        assert_verify_fails(
            &copy,
            "bad_sign_in",
            &format!("the device did not sign that: {sql}"),
        );
        // Nor does its export convince an outside expert.
        let file = db.path().join("export.jsonl");
        cli_export(&copy, d, &file);
        let (ok, out) = office_cli(&["verify-export", file.to_str().expect("utf-8")]);
        assert!(!ok && out.contains("bad_sign_in"), "{sql}: {out}");
        if let Some((ok, out)) = python_verify(&file) {
            assert!(!ok && out.contains("bad_sign_in"), "{sql}: {out}");
        }
    }
}

/// What a forger who re-keyed device `id` does to its sign-ins too: sign each again with `forger`.
fn resign_sign_ins(db: &std::path::Path, id: uuid::Uuid, forger: &SigningKey) {
    use ed25519_dalek::Signer;
    let c = rusqlite::Connection::open(db).expect("open db");
    let rows: Vec<(String, String, i64, String, String)> = c
        .prepare(
            "SELECT s.id, u.username, s.chain_head_seq, s.chain_head_hash, s.chain_head_challenge
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.device_id = ?1 AND s.chain_head_proof IS NOT NULL",
        )
        .expect("select")
        .query_map([id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("sign-ins");
    assert!(!rows.is_empty(), "the device signed in");
    for (session, username, seq, hash, challenge) in rows {
        let mut ch = [0u8; 32];
        hex::decode_to_slice(&challenge, &mut ch).expect("hex challenge");
        let head = ChainTip {
            seq: seq as u64,
            hash: hash.parse().expect("digest"),
        };
        let message = heatcrew_protocol::log::enrolment_message(
            &ch,
            id,
            &forger.verifying_key(),
            &username,
            &head,
        );
        let proof = hex::encode(forger.sign(&message).to_bytes());
        c.execute(
            "UPDATE sessions SET chain_head_proof = ?1 WHERE id = ?2",
            [proof, session],
        )
        .expect("re-sign");
    }
}
