//! Photos and signatures: chunked, resumable uploads that count only when the hash matches.

use super::*;

#[tokio::test]
async fn attachments_upload_in_chunks_resume_and_count_only_when_the_hash_matches() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut a = o.device("tech_a").await;
    let b = o.device("tech_b").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let mut bytes: Vec<u8> = (0..(2 * MAX_CHUNK_BYTES + 12345))
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    bytes[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]); // begins as a JPEG does
    let photo = photo_ref(&bytes);
    let sha = photo.sha256;
    let wrong_bytes = vec![7u8; 1000];
    let liar = AttachmentRef {
        sha256: Digest::of(b"something else"),
        bytes: 1000,
        ..photo_ref(&wrong_bytes)
    };
    let events = [
        a.record(
            job.id,
            &EventBody::PhotoAdded {
                step: "diagnose".into(),
                photo: photo.clone(),
                caption: "维修前".into(),
            },
        ),
        a.record(
            job.id,
            &EventBody::PhotoAdded {
                step: "clean_up".into(),
                photo: liar.clone(),
                caption: String::new(),
            },
        ),
    ];
    o.push_ok(&a, &events).await;

    let create = json!({"sha256": sha, "size": bytes.len(), "mime": "image/jpeg"});
    let (status, body) = o
        .post_json("/api/v1/attachments", Some(&b.login.access_token), &create)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_referenced")),
        "B cannot upload into A's evidence"
    );
    let (status, body) = o
        .post_json("/api/v1/attachments", Some(&a.login.access_token), &create)
        .await;
    assert_eq!(status, StatusCode::OK, "A announces the upload: {body}");
    assert_eq!(body["offset"], 0, "a new upload starts at 0");

    let patch = |offset: usize, chunk: &[u8]| {
        o.http
            .patch(o.endpoint(&format!("/api/v1/attachments/{sha}")))
            .bearer_auth(&a.login.access_token)
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(chunk.to_vec())
            .send()
    };
    let resp = patch(0, &bytes[..MAX_CHUNK_BYTES]).await.expect("patch");
    assert_eq!(resp.status(), StatusCode::OK, "the first chunk is taken");

    let head = o
        .http
        .head(o.endpoint(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&a.login.access_token)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.headers()["upload-offset"],
        MAX_CHUNK_BYTES.to_string().as_str(),
        "HEAD tells where to resume"
    );

    let resp = patch(0, &bytes[..MAX_CHUNK_BYTES]).await.expect("patch");
    assert_eq!(
        resp.status(),
        StatusCode::CONFLICT,
        "a chunk at the wrong offset is a 409"
    );
    assert_eq!(
        resp.headers()["upload-offset"],
        MAX_CHUNK_BYTES.to_string().as_str(),
        "carrying the real offset"
    );
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "offset_mismatch",
        "with a code"
    );

    let resp = patch(MAX_CHUNK_BYTES, &bytes[MAX_CHUNK_BYTES..])
        .await
        .expect("patch");
    assert_eq!(
        resp.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "a chunk above MAX_CHUNK_BYTES is refused"
    );
    let resp = patch(
        MAX_CHUNK_BYTES,
        &bytes[MAX_CHUNK_BYTES..2 * MAX_CHUNK_BYTES],
    )
    .await
    .expect("patch");
    assert_eq!(resp.status(), StatusCode::OK, "the second chunk is taken");
    let resp = patch(2 * MAX_CHUNK_BYTES, &bytes[2 * MAX_CHUNK_BYTES..])
        .await
        .expect("patch");
    let st: AttachmentStatus = resp.json().await.expect("status");
    assert!(
        st.complete && st.offset == bytes.len() as u64,
        "the last chunk completes a matching upload"
    );

    let (_, again) = o
        .post_json("/api/v1/attachments", Some(&a.login.access_token), &create)
        .await;
    assert_eq!(
        again["complete"], true,
        "a second announcement of the same content is already complete (dedup)"
    );
    let got = o
        .http
        .get(o.endpoint(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("download");
    assert_eq!(
        got.headers()["content-type"],
        "image/jpeg",
        "the file is served with the type its bytes show"
    );
    assert_eq!(
        got.bytes().await.expect("bytes").as_ref(),
        bytes.as_slice(),
        "office staff download exactly what was captured"
    );
    let (status, _) = o
        .get_json(&format!("/api/v1/attachments/{sha}"), &b.login.access_token)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "B cannot download A's evidence"
    );

    // Bytes that do not hash to the announced address never count.
    let lsha = liar.sha256;
    let (status, _) = o
        .post_json(
            "/api/v1/attachments",
            Some(&a.login.access_token),
            &json!({"sha256": lsha, "size": 1000, "mime": "image/jpeg"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the lying upload is announced");
    let resp = o
        .http
        .patch(o.endpoint(&format!("/api/v1/attachments/{lsha}")))
        .bearer_auth(&a.login.access_token)
        .header("upload-offset", "0")
        .body(wrong_bytes)
        .send()
        .await
        .expect("patch");
    assert_eq!(
        resp.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a hash mismatch is refused"
    );
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "hash_mismatch",
        "with a code"
    );
    let head = o
        .http
        .head(o.endpoint(&format!("/api/v1/attachments/{lsha}")))
        .bearer_auth(&a.login.access_token)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.headers()["upload-offset"],
        "0",
        "the bad bytes were discarded"
    );
    let (status, body) = o
        .get_json(&format!("/api/v1/attachments/{lsha}"), &staff)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_received")),
        "nothing was stored under that address"
    );

    let detail = o.job_detail(&staff, job.id).await;
    let received: Vec<bool> = detail["photos"]
        .as_array()
        .expect("photos")
        .iter()
        .map(|p| p["photo"]["received"].as_bool().unwrap_or(false))
        .collect();
    assert_eq!(
        received,
        [true, false],
        "the job view says which photos arrived"
    );
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        (
            summary["attachments_received"].as_u64(),
            summary["attachments_missing"].as_u64()
        ),
        (Some(1), Some(1)),
        "the report counts received and missing files"
    );

    let files = &o.running().state.files;
    assert!(
        heatcrew_office::verify::verify_all(o.store(), Some(files)).is_ok(),
        "received files verify"
    );
    let folder = files.local_folder().expect("the default folder");
    std::fs::write(folder.final_path(sha), b"a doctored photo").expect("tamper with the file");
    let err = heatcrew_office::verify::verify_all(o.store(), Some(files))
        .expect_err("an altered file must be caught");
    assert!(
        err.to_string().contains(&sha.to_hex()),
        "verify names the altered file: {err}"
    );
}
