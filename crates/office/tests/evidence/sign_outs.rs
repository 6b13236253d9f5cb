//! Signing out as evidence (`docs/evidence.md` "Signing out"): tech_a signs out of a shared phone,
//! a tampered app records once more as tech_a, tech_b signs in past it. That record is nobody's,
//! and someone with a copy of the office's database cannot make it tech_a's: `verify` names the
//! removed or altered sign-out, and the phone's copy of the office's signed word that it kept the
//! sign-out shows the export that leaves it out (`sign_out_withheld`).

use super::harness::*;
use heatcrew_protocol::export::{EXPORT_FORMAT_V3, Export, ExportLine};
use heatcrew_protocol::log::{sign_out_kept_message, sign_out_message, strict_hex};
use heatcrew_protocol::sync::PushOutcome;
use reqwest::StatusCode;
use serde_json::json;
use std::path::Path;

/// `tech_a`'s sign-in challenge on the phone, as the office keeps it.
fn challenge_of(db: &Path, device: uuid::Uuid) -> String {
    rusqlite::Connection::open(db)
        .expect("open")
        .query_row(
            "SELECT chain_head_challenge FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.device_id = ?1 AND u.username = 'tech_a'",
            [device.to_string()],
            |r| r.get(0),
        )
        .expect("tech_a's sign-in")
}

/// The phone's export: its chain and receipts, with the sign-in and sign-out lines it keeps.
fn phone_export(dev: &Device, kept: &[ExportLine]) -> Export {
    let mut e = dev.export();
    if let Some(ExportLine::Header { format, .. }) = e.lines.first_mut() {
        *format = EXPORT_FORMAT_V3.into();
    }
    e.lines.extend(kept.iter().cloned());
    e.name = "phone".into();
    e
}

fn write(dir: &Path, e: &Export) -> std::path::PathBuf {
    let path = dir.join(format!("{}.jsonl", e.name));
    heatcrew_office::export::write_lines(&e.lines, std::fs::File::create(&path).expect("create"))
        .expect("write");
    path
}

#[tokio::test]
async fn removing_or_altering_a_kept_sign_out_is_detected() {
    let Pushed {
        o,
        staff,
        mut dev,
        job,
        ..
    } = Pushed::visit(&["arrive", "show_id"]).await;
    let admin = o.staff_token("admin", PASSWORD).await;
    let (status, body) = o
        .post_json(
            &format!("/api/v1/devices/{}/shared", dev.id),
            Some(&admin),
            &json!({"shared": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // tech_a signs out at event 2; the office answers with its signed word.
    let challenge = challenge_of(o.db(), dev.id);
    let head = dev.tip;
    let message = sign_out_message(
        &strict_hex(&challenge).expect("hex"),
        dev.id,
        &dev.key.verifying_key(),
        "tech_a",
        &head,
    );
    use ed25519_dalek::Signer;
    let proof = dev.key.sign(&message).to_bytes();
    let statement = json!({"device_id": dev.id, "challenge": challenge, "chain_head": head,
        "proof": hex::encode(proof)});
    let (status, kept) = o.post_json("/api/v1/auth/sign-out", None, &statement).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    let sig: [u8; 64] = strict_hex(kept["office_sig"].as_str().expect("office_sig")).expect("hex");
    let acknowledged =
        sign_out_kept_message(&strict_hex(&challenge).expect("hex"), dev.id, &head, &proof);
    assert!(
        o.office_key()
            .verify_strict(&acknowledged, &ed25519_dalek::Signature::from_bytes(&sig))
            .is_ok(),
        "the answer is the office key's signature over the sign-out"
    );
    let (status, again) = o.post_json("/api/v1/auth/sign-out", None, &statement).await;
    assert_eq!(
        (status, &again),
        (StatusCode::OK, &kept),
        "sent again: the same word"
    );

    // The tampered app records once more as tech_a; tech_b signs in past it.
    let forged = dev.record(job, "knock");
    let (status, body) = o.sign_in_on(&mut dev.chain, "tech_b", PASSWORD, None).await;
    assert_eq!(status, StatusCode::OK, "tech_b takes the phone: {body}");
    let job_b = o.job_for(&staff, "tech_b").await;
    let own = dev.record(job_b, "arrive");
    let resp = o.push(&mut dev, &[forged, own]).await;
    let outcomes: Vec<String> = resp
        .results
        .iter()
        .map(|r| match &r.outcome {
            PushOutcome::Rejected { code, .. } => code.as_str().to_owned(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(outcomes, ["signed_out", "Accepted"]);
    o.pull(&mut dev).await;
    assert_verify_passes(o.db(), "an honest sign-out verifies");

    // An outside expert reads from the export alone that event 3 is nobody's.
    let export = o.export(&staff, &format!("?device={}", dev.id)).await;
    let r = check(std::slice::from_ref(&export));
    assert!(r.ok() && r.unproven.is_empty(), "{r:?}");
    assert_eq!((r.sign_ins, r.sign_outs), (2, 1));
    let makers: Vec<(&str, u64, u64)> = r
        .makers
        .iter()
        .map(|m| (m.username.as_str(), m.first_seq, m.last_seq))
        .collect();
    assert_eq!(makers, [("tech_a", 1, 2), ("tech_b", 4, 4)]);
    // What the phone keeps: its sign-ins and its sign-out with the office's signature.
    let kept_lines: Vec<ExportLine> = export
        .lines
        .iter()
        .filter(|l| matches!(l, ExportLine::SignIn { .. } | ExportLine::SignOut { .. }))
        .cloned()
        .collect();
    assert!(
        kept_lines
            .iter()
            .any(|l| matches!(l, ExportLine::SignOut { office_sig: Some(s), .. } if *s == sig)),
        "the export carries the office's signature the phone got"
    );
    let phone = phone_export(&dev, &kept_lines);

    let d = dev.id;
    for (sql, code, why) in [
        (
            format!(
                "UPDATE sessions SET sign_out_seq = NULL, sign_out_hash = NULL, sign_out_proof = NULL WHERE device_id = '{d}'"
            ),
            "sign_out_missing",
            "the sign-out removed, so that event 3 reads as tech_a's",
        ),
        (
            format!(
                "UPDATE sessions SET sign_out_seq = 3, sign_out_hash = (SELECT hash FROM events WHERE device_id = '{d}' AND device_seq = 3) WHERE device_id = '{d}' AND sign_out_seq IS NOT NULL"
            ),
            "bad_sign_out",
            "the sign-out moved past event 3",
        ),
    ] {
        let (dir, copy) = copy_of(&o);
        tamper(&copy, &sql);
        assert_verify_fails(&copy, code, why);
        // Its export, checked with the phone's.
        let file = dir.path().join("office.jsonl");
        cli_export(&copy, d, &file);
        let text = std::fs::read_to_string(&file).expect("read");
        let office = Export::parse("office", &text).expect("parses");
        let r = check(&[phone.clone(), office]);
        let phone_file = write(dir.path(), &phone);
        let want = if code == "sign_out_missing" {
            "sign_out_withheld"
        } else {
            "bad_sign_out"
        };
        assert!(r.has(want), "{why}: {:?}", r.faults);
        assert!(
            r.makers
                .iter()
                .all(|m| !(m.username == "tech_a" && m.last_seq >= 3)),
            "{why}: event 3 stays nobody's with the phone's copy: {:?}",
            r.makers
        );
        if let Some((ok, out)) = python_verify_all(&[&phone_file, &file]) {
            assert!(!ok && out.contains(want), "{why}: {out}");
        }
    }
}
