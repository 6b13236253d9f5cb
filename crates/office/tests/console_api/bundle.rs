//! `GET /api/v1/jobs/{id}/bundle`: the ZIP unpacks into an export that the protocol's verifier (and
//! the independent `verify.py`, where Python has `cryptography`) accepts, with every file hashed;
//! a changed byte in it is caught.

use super::*;
use heatcrew_protocol::export::{Export, verify_exports};
use heatcrew_protocol::sync::MAX_CHUNK_BYTES;
use heatcrew_protocol::{AttachmentRef, Digest, Signer as Who};
use std::collections::BTreeMap;
use std::io::Read;

fn attachment(bytes: &[u8], mime: &str) -> AttachmentRef {
    AttachmentRef {
        sha256: Digest::of(bytes),
        bytes: bytes.len() as u64,
        mime: mime.into(),
        width: 0,
        height: 0,
        taken_at: None,
        gps: None,
    }
}

pub(super) async fn upload(o: &TestOffice, dev: &Device, bytes: &[u8], mime: &str) {
    let sha = Digest::of(bytes);
    let (status, body) = o
        .post_json(
            "/api/v1/attachments",
            Some(&dev.login.access_token),
            &json!({"sha256": sha, "size": bytes.len(), "mime": mime}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "announce the upload: {body}");
    assert!(bytes.len() <= MAX_CHUNK_BYTES, "one chunk is enough here");
    let resp = o
        .http
        .patch(o.url(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&dev.login.access_token)
        .header("upload-offset", "0")
        .header("content-type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status(), StatusCode::OK, "the upload completes");
}

/// Every entry of a ZIP by name.
pub(super) fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        let mut content = Vec::new();
        f.read_to_end(&mut content).expect("read entry");
        out.insert(f.name().expect("a UTF-8 name").into_owned(), content);
    }
    out
}

fn verify(entries: &BTreeMap<String, Vec<u8>>) -> heatcrew_protocol::export::ExportReport {
    let text = std::str::from_utf8(&entries["evidence.jsonl"]).expect("UTF-8 JSON lines");
    let export = Export::parse("evidence.jsonl", text).expect("parses as an export");
    verify_exports(&[export], |path| entries.get(path).cloned())
}

#[tokio::test]
async fn a_jobs_bundle_verifies_on_its_own_and_a_changed_byte_is_caught() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let job = job_id(
        &o.create_job(
            &staff,
            json!({"fault": "暖气漏水", "assignee": o.user_id("tech_a"),
                   "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼2单元501室"}}),
        )
        .await,
    );
    let other_job = job_id(
        &o.create_job(
            &staff,
            json!({"fault": "另一户", "assignee": o.user_id("tech_a"),
                   "customer": {"name": "赵强", "phone": "13900000000", "address": "另一个小区"}}),
        )
        .await,
    );
    let photo: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let signature: Vec<u8> = b"\x89PNG fake signature strokes".to_vec();
    let mut dev = o.device("tech_a").await;
    let events = vec![
        dev.record(job, &step("appointment")),
        dev.record(other_job, &step("appointment")),
        dev.record(job, &step("arrive")),
        dev.record(
            job,
            &EventBody::PhotoAdded {
                step: "diagnose".into(),
                photo: attachment(&photo, "image/jpeg"),
                caption: "漏水点".into(),
            },
        ),
        dev.record(
            job,
            &EventBody::SignatureCaptured {
                step: "sign_off".into(),
                signer: Who::Customer,
                signer_name: "王秀英".into(),
                image: attachment(&signature, "image/png"),
            },
        ),
    ];
    o.push_accepted(&dev, &events).await;
    upload(&o, &dev, &photo, "image/jpeg").await;
    upload(&o, &dev, &signature, "image/png").await;

    let resp = o
        .http
        .get(o.url(&format!("/api/v1/jobs/{job}/bundle")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("bundle");
    assert_eq!(resp.status(), StatusCode::OK, "the bundle downloads");
    assert_eq!(resp.headers()["content-type"], "application/zip");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .is_ok_and(|v| v.contains("attachment") && v.contains(".zip")),
        "as a file to save"
    );
    let entries = unzip(&resp.bytes().await.expect("body"));

    let report = verify(&entries);
    assert!(report.ok(), "the bundle verifies: {:?}", report.faults);
    assert!(
        report.unproven.is_empty(),
        "nothing left unproven: {:?}",
        report.unproven
    );
    assert_eq!(report.events, 4, "the job's four events whole");
    assert_eq!(report.links, 1, "the other job's event only as a link");
    assert_eq!(report.files, 2, "the photo and the signature");
    assert_eq!(report.receipts, 4, "a receipt for each event of the job");
    assert!(
        !String::from_utf8_lossy(&entries["evidence.jsonl"]).contains("赵强"),
        "another customer's record is not disclosed"
    );
    for (name, bytes) in entries.iter().filter(|(n, _)| n.starts_with("files/")) {
        let stem = name
            .trim_start_matches("files/")
            .split('.')
            .next()
            .expect("a name");
        assert_eq!(
            Digest::of(bytes).to_hex(),
            stem,
            "{name} is named by its SHA-256"
        );
    }
    let sums = String::from_utf8(entries["SHA256SUMS"].clone()).expect("text");
    for line in sums.lines() {
        let (sum, name) = line.split_once("  ").expect("sha256sum format");
        assert_eq!(
            Digest::of(&entries[name]).to_hex(),
            sum,
            "SHA256SUMS is right for {name}"
        );
    }
    let readme = String::from_utf8(entries["README.txt"].clone()).expect("text");
    assert!(
        readme.contains("核验步骤") && readme.contains("To check it"),
        "the README speaks both languages"
    );
    assert!(
        entries.contains_key("summary.pdf") && readme.contains("summary.pdf"),
        "the PDF summary is in the bundle and the README names it (its content: summary.rs)"
    );
    let pems: Vec<&String> = entries.keys().filter(|n| n.ends_with(".pem")).collect();
    assert_eq!(
        pems.len(),
        2,
        "the device's key and the office's, as PEM: {pems:?}"
    );

    // The independent verifier, where this machine's Python can run it.
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in &entries {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
    }
    let python_ok = std::process::Command::new("python3")
        .args(["-c", "import cryptography"])
        .status()
        .is_ok_and(|s| s.success());
    if python_ok {
        let out = std::process::Command::new("python3")
            .current_dir(dir.path())
            .args(["verify.py", "export", "--strict", "evidence.jsonl"])
            .output()
            .expect("run verify.py");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && said.contains("the evidence holds"),
            "verify.py accepts the bundle: {said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        eprintln!("python3 with `cryptography` is not installed: verify.py not run");
    }

    // One byte of the photo changed after the bundle left the office.
    let mut tampered = entries.clone();
    let photo_name = tampered
        .keys()
        .find(|n| n.ends_with(".jpg"))
        .expect("the photo")
        .clone();
    tampered.get_mut(&photo_name).expect("photo")[10] ^= 1;
    let report = verify(&tampered);
    assert!(
        report.has("file_mismatch"),
        "a changed photo is caught: {:?}",
        report.faults
    );
    // And an edited event.
    let mut edited = entries.clone();
    let text = String::from_utf8(edited["evidence.jsonl"].clone()).expect("text");
    edited.insert(
        "evidence.jsonl".into(),
        text.replace("漏水点", "无漏水").into_bytes(),
    );
    assert!(
        verify(&edited).has("chain"),
        "an edited record breaks its hash"
    );
}

#[tokio::test]
async fn a_file_the_office_never_received_is_named_in_the_readme_and_by_the_verifier() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let job = job_id(
        &o.create_job(
            &staff,
            json!({"fault": "暖气不热", "assignee": o.user_id("tech_a"),
                   "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区"}}),
        )
        .await,
    );
    let (sent, lost) = (
        b"photo that arrived".to_vec(),
        b"photo still on the phone".to_vec(),
    );
    let mut dev = o.device("tech_a").await;
    let events = vec![
        dev.record(
            job,
            &EventBody::PhotoAdded {
                step: "diagnose".into(),
                photo: attachment(&sent, "image/jpeg"),
                caption: String::new(),
            },
        ),
        dev.record(
            job,
            &EventBody::PhotoAdded {
                step: "diagnose".into(),
                photo: attachment(&lost, "image/jpeg"),
                caption: String::new(),
            },
        ),
    ];
    o.push_accepted(&dev, &events).await;
    upload(&o, &dev, &sent, "image/jpeg").await;
    let bytes = o
        .http
        .get(o.url(&format!("/api/v1/jobs/{job}/bundle")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("bundle")
        .bytes()
        .await
        .expect("body");
    let entries = unzip(&bytes);
    let readme = String::from_utf8(entries["README.txt"].clone()).expect("text");
    assert!(
        readme.contains(&Digest::of(&lost).to_hex()),
        "the README names the missing file"
    );
    assert!(
        verify(&entries).has("file_unlisted"),
        "and the verifier does not pass a bundle without it"
    );
}
