//! Attachments as an attacker with a technician's account would try them (issue 11, point 7): reading
//! another technician's photo by naming its hash in your own event, blocking another's upload with a
//! bogus announcement, and having the office serve your bytes as a web page.

use super::*;
use reqwest::header::HeaderMap;

/// A photo event on `job` naming `photo`.
fn photo_event(dev: &mut Device, job: Uuid, photo: &AttachmentRef) -> Event {
    dev.record(
        job,
        &EventBody::PhotoAdded {
            step: "diagnose".into(),
            photo: photo.clone(),
            caption: String::new(),
        },
    )
}

async fn announce(o: &TestOffice, token: &str, sha: Digest, size: usize, mime: &str) -> Value {
    let (status, body) = o
        .post_json(
            "/api/v1/attachments",
            Some(token),
            &json!({"sha256": sha, "size": size, "mime": mime}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "announce: {body}");
    body
}

async fn patch(
    o: &TestOffice,
    token: &str,
    sha: Digest,
    offset: usize,
    chunk: &[u8],
) -> (StatusCode, Value) {
    let resp = o
        .http
        .patch(o.endpoint(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(token)
        .header("upload-offset", offset.to_string())
        .header("content-type", "application/offset+octet-stream")
        .body(chunk.to_vec())
        .send()
        .await
        .expect("patch");
    (resp.status(), resp.json().await.expect("json"))
}

async fn held(o: &TestOffice, token: &str, sha: Digest) -> String {
    let resp = o
        .http
        .head(o.endpoint(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("head");
    assert_eq!(resp.status(), StatusCode::OK, "HEAD answers");
    resp.headers()["upload-offset"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// Announce and send `bytes` in one chunk; the answer must say complete.
async fn upload(o: &TestOffice, token: &str, bytes: &[u8], mime: &str) {
    let sha = Digest::of(bytes);
    announce(o, token, sha, bytes.len(), mime).await;
    let (status, body) = patch(o, token, sha, 0, bytes).await;
    assert_eq!(
        (status, body["complete"].as_bool()),
        (StatusCode::OK, Some(true)),
        "upload: {body}"
    );
}

async fn download(o: &TestOffice, token: &str, sha: Digest) -> (StatusCode, HeaderMap, Vec<u8>) {
    let resp = o
        .http
        .get(o.endpoint(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("download");
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.bytes().await.expect("bytes").to_vec())
}

fn jpeg_like(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(seed) ^ seed)
        .collect();
    bytes[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    bytes
}

#[tokio::test]
async fn naming_another_technicians_photo_hash_in_your_own_event_does_not_let_you_read_it() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut a = o.device("tech_a").await;
    let mut b = o.device("tech_b").await;
    let job_a = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let job_b = o.create_job(&staff, Some(o.user_id("tech_b"))).await;
    let bytes = jpeg_like(70_000, 13);
    let photo = photo_ref(&bytes);
    let sha = photo.sha256;
    let ev = photo_event(&mut a, job_a.id, &photo);
    o.push_ok(&a, &[ev]).await;
    upload(&o, &a.login.access_token, &bytes, "image/jpeg").await;

    // B learned the hash (a screenshot of the console, a shared export) and names it in B's own job.
    let ev = photo_event(&mut b, job_b.id, &photo);
    assert_eq!(
        outcomes(&o.push_ok(&b, &[ev]).await),
        ["accepted"],
        "B's record itself is B's business"
    );
    let (status, _, body) = download(&o, &b.login.access_token, sha).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "B's own reference to A's photo does not open it ({} bytes came back)",
        body.len()
    );
    let st = announce(&o, &b.login.access_token, sha, bytes.len(), "image/jpeg").await;
    assert_eq!(
        (st["complete"].as_bool(), st["offset"].as_u64()),
        (Some(false), Some(0)),
        "announcing it does not make B an uploader: B would have to send the bytes"
    );
    assert_eq!(
        download(&o, &b.login.access_token, sha).await.0,
        StatusCode::FORBIDDEN,
        "still closed after the announcement"
    );

    let (status, _, got) = download(&o, &a.login.access_token, sha).await;
    assert_eq!(
        (status, got == bytes),
        (StatusCode::OK, true),
        "the uploader reads their own"
    );
    let (status, _, got) = download(&o, &staff, sha).await;
    assert_eq!(
        (status, got == bytes),
        (StatusCode::OK, true),
        "office staff read any"
    );

    // The job the photo was really taken on is reassigned to B: now B may see it, through A's event.
    let (status, body) = o
        .post_json(
            &format!("/api/v1/jobs/{}/assign", job_a.id),
            Some(&staff),
            &json!({"assignee": o.user_id("tech_b")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "reassign: {body}");
    let (status, _, got) = download(&o, &b.login.access_token, sha).await;
    assert_eq!(
        (status, got == bytes),
        (StatusCode::OK, true),
        "the new assignee reads the photos their job's uploader recorded"
    );
    assert_eq!(
        download(&o, &a.login.access_token, sha).await.0,
        StatusCode::OK,
        "and the uploader still reads their own"
    );
}

#[tokio::test]
async fn a_bogus_announcement_by_one_technician_cannot_block_anothers_upload() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut a = o.device("tech_a").await;
    let mut b = o.device("tech_b").await;
    let job_a = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let job_b = o.create_job(&staff, Some(o.user_id("tech_b"))).await;
    let bytes = jpeg_like(MAX_CHUNK_BYTES + 4321, 29);
    let photo = photo_ref(&bytes);
    let sha = photo.sha256;
    let ev = photo_event(&mut a, job_a.id, &photo);
    o.push_ok(&a, &[ev]).await;
    let (a_tok, b_tok) = (&a.login.access_token.clone(), &b.login.access_token.clone());

    // B names A's hash and announces it first, with a tiny size and a web page's type.
    let ev = photo_event(&mut b, job_b.id, &photo);
    o.push_ok(&b, &[ev]).await;
    announce(&o, b_tok, sha, 5, "text/html").await;
    let (status, body) = patch(&o, b_tok, sha, 0, b"<bad>").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("hash_mismatch")),
        "B's bytes never count"
    );
    announce(&o, b_tok, sha, 5, "text/html").await;
    let (status, _) = patch(&o, b_tok, sha, 0, b"<ba").await;
    assert_eq!(status, StatusCode::OK, "B holds a half-sent upload");

    // A's upload is A's own: A's size, A's offset, resumable.
    let st = announce(&o, a_tok, sha, bytes.len(), "image/jpeg").await;
    assert_eq!(
        (st["size"].as_u64(), st["offset"].as_u64()),
        (Some(bytes.len() as u64), Some(0)),
        "B's announcement fixed nothing for A: {st}"
    );
    let (status, _) = patch(&o, a_tok, sha, 0, &bytes[..MAX_CHUNK_BYTES]).await;
    assert_eq!(status, StatusCode::OK, "A's first chunk");
    assert_eq!(
        held(&o, a_tok, sha).await,
        MAX_CHUNK_BYTES.to_string(),
        "A resumes from A's own offset"
    );
    assert_eq!(held(&o, b_tok, sha).await, "3", "B's upload is B's alone");
    let (status, body) = patch(&o, b_tok, sha, 3, b"d>").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("hash_mismatch")),
        "B finishing first with wrong bytes changes nothing for A"
    );
    let resp = o
        .http
        .head(o.endpoint(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("head");
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "for office staff, HEAD says whether the content arrived: not yet"
    );
    let (status, body) = patch(&o, a_tok, sha, MAX_CHUNK_BYTES, &bytes[MAX_CHUNK_BYTES..]).await;
    assert_eq!(
        (status, body["complete"].as_bool()),
        (StatusCode::OK, Some(true)),
        "A's upload completes: {body}"
    );
    let (status, headers, got) = download(&o, &staff, sha).await;
    assert_eq!(
        (status, got == bytes, headers["content-type"].to_str().ok()),
        (StatusCode::OK, true, Some("image/jpeg")),
        "the office holds A's bytes with the type they show, not B's"
    );
    assert_eq!(
        held(&o, &staff, sha).await,
        bytes.len().to_string(),
        "and now it has"
    );
    assert_eq!(
        download(&o, b_tok, sha).await.0,
        StatusCode::FORBIDDEN,
        "B did not become an uploader"
    );

    // An uploader that announces another size starts its own upload over; nobody else's.
    let other = jpeg_like(9000, 7);
    let other_ref = photo_ref(&other);
    let ev = photo_event(&mut a, job_a.id, &other_ref);
    o.push_ok(&a, &[ev]).await;
    announce(&o, a_tok, other_ref.sha256, 20_000, "image/jpeg").await;
    let (status, _) = patch(&o, a_tok, other_ref.sha256, 0, &other[..4000]).await;
    assert_eq!(status, StatusCode::OK, "a chunk under the wrong size");
    let st = announce(&o, a_tok, other_ref.sha256, other.len(), "image/jpeg").await;
    assert_eq!(
        (st["size"].as_u64(), st["offset"].as_u64()),
        (Some(other.len() as u64), Some(0)),
        "announced again with the right size, the upload starts over"
    );
    let (status, body) = patch(&o, a_tok, other_ref.sha256, 0, &other).await;
    assert_eq!(
        (status, body["complete"].as_bool()),
        (StatusCode::OK, Some(true)),
        "and completes: {body}"
    );
}

#[tokio::test]
async fn uploaded_bytes_are_served_with_a_type_the_office_decides_and_as_a_download() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut a = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let html =
        b"<!doctype html><html><body><script>fetch('/api/v1/admin/users')</script></body></html>";
    let png = {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(&[0u8; 64]);
        b
    };
    let webp = b"RIFF\x10\x00\x00\x00WEBPVP8 rest of a picture".to_vec();
    let cases: [(&[u8], &str, &str); 3] = [
        (html, "application/octet-stream", "bin"),
        (&png, "image/png", "png"),
        (&webp, "image/webp", "webp"),
    ];
    for (bytes, _, _) in cases {
        let photo = AttachmentRef {
            mime: "text/html".into(),
            ..photo_ref(bytes)
        };
        let ev = photo_event(&mut a, job.id, &photo);
        o.push_ok(&a, &[ev]).await;
        upload(&o, &a.login.access_token, bytes, "text/html").await;
    }
    for (bytes, mime, ext) in cases {
        let sha = Digest::of(bytes);
        for (who, token) in [("staff", &staff), ("uploader", &a.login.access_token)] {
            let (status, headers, got) = download(&o, token, sha).await;
            assert_eq!(status, StatusCode::OK, "{who} downloads");
            assert_eq!(got, bytes, "{who} gets the bytes unchanged");
            let header = |name: &str| headers[name].to_str().expect("ascii").to_owned();
            assert_eq!(
                header("content-type"),
                mime,
                "{who}: announced as text/html, served as what the bytes are"
            );
            assert_eq!(
                header("content-disposition"),
                format!("attachment; filename=\"{sha}.{ext}\""),
                "{who}: a download named by its hash"
            );
            assert_eq!(header("x-content-type-options"), "nosniff", "{who}");
            assert!(
                header("content-security-policy").contains("sandbox"),
                "{who}: opened as a page it runs nothing"
            );
            for name in ["x-content-type-options", "content-security-policy"] {
                assert_eq!(
                    headers.get_all(name).iter().count(),
                    1,
                    "{who}: one {name}, from one place"
                );
            }
        }
    }
}
