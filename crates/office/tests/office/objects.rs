//! Attachments in S3-compatible object storage, against a real S3-protocol server (`s3s-fs`,
//! heatcrew-testkit's `S3Server`): uploads, a resume at a second office process after a cut
//! connection, hash mismatches, damaged objects caught by `verify`. Skipped with a message when
//! `s3s-fs` is missing, unless HEATCREW_S3_REQUIRED=1 (`./dev test`).
//!
//! The second office is the real `heatcrew-office serve` binary in a child process, configured
//! from the environment as in production, on the same object store and the same database: one
//! SQLite file, or one PostgreSQL database with the office key file shared, as several
//! `serve --database` processes behind a load balancer run.

use super::*;
use heatcrew_office::objects::{Objects, final_key};
use heatcrew_testkit::s3_server::S3Server;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

/// `heatcrew-office serve` in a child process on the S3 objects; killed when dropped.
struct OfficeChild {
    child: Child,
    url: String,
}

impl OfficeChild {
    fn serve(db: &std::path::Path, s3: &S3Server, prefix: &str) -> OfficeChild {
        let mut command = Command::new(env!("CARGO_BIN_EXE_heatcrew-office"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db);
        Self::start(command, s3, prefix)
    }

    /// The same on PostgreSQL: `serve --database URL --key-file FILE`, as a second process of an
    /// office running there.
    fn serve_on_postgres(
        url: &str,
        key_file: &std::path::Path,
        s3: &S3Server,
        prefix: &str,
    ) -> OfficeChild {
        let mut command = Command::new(env!("CARGO_BIN_EXE_heatcrew-office"));
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database",
                url,
                "--key-file",
            ])
            .arg(key_file);
        Self::start(command, s3, prefix)
    }

    fn start(mut command: Command, s3: &S3Server, prefix: &str) -> OfficeChild {
        let mut child = command
            .args(["--objects", &s3.url(prefix)])
            .envs(s3.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start heatcrew-office serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the office prints where it listens")
                .expect("read");
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        OfficeChild { child, url }
    }
}

impl Drop for OfficeChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 5 MB photo (JPEG magic first) and its reference.
fn photo(seed: u8) -> (Vec<u8>, AttachmentRef) {
    let mut bytes: Vec<u8> = (0..5 * 1000 * 1000)
        .map(|i: usize| (i.wrapping_mul(31) % 251) as u8 ^ seed)
        .collect();
    bytes[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let r = photo_ref(&bytes);
    (bytes, r)
}

async fn patch(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    sha: Digest,
    offset: usize,
    chunk: &[u8],
) -> reqwest::Response {
    http.patch(format!("{base}/api/v1/attachments/{sha}"))
        .bearer_auth(token)
        .header("upload-offset", offset.to_string())
        .header("content-type", "application/offset+octet-stream")
        .body(chunk.to_vec())
        .send()
        .await
        .expect("patch")
}

async fn head_offset(http: &reqwest::Client, base: &str, token: &str, sha: Digest) -> u64 {
    let head = http
        .head(format!("{base}/api/v1/attachments/{sha}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), StatusCode::OK, "HEAD answers");
    head.headers()["upload-offset"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("a number")
}

/// Send a chunk's headers and half its body, then drop the connection: a phone losing signal.
fn cut_mid_chunk(
    addr: std::net::SocketAddr,
    token: &str,
    sha: Digest,
    offset: usize,
    chunk: &[u8],
) {
    let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        tcp,
        "PATCH /api/v1/attachments/{sha} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         upload-offset: {offset}\r\ncontent-type: application/offset+octet-stream\r\n\
         content-length: {}\r\n\r\n",
        chunk.len()
    )
    .expect("headers");
    tcp.write_all(&chunk[..chunk.len() / 2])
        .expect("half the body");
    tcp.flush().expect("flush");
    drop(tcp);
}

/// Run `verify::check` on these objects from a thread that may block.
async fn verify(o: &TestOffice, files: Arc<Objects>) -> heatcrew_office::verify::VerifyReport {
    let store = o.running().state.store.clone();
    tokio::task::spawn_blocking(move || heatcrew_office::verify::check(&*store, Some(&files)))
        .await
        .expect("join")
        .expect("the store reads")
}

#[tokio::test]
async fn s3_an_upload_cut_mid_chunk_resumes_at_a_second_office_process() {
    let Some(s3) = S3Server::start() else { return };
    let o = TestOffice::start_with(Seed::TestAccounts, |c| {
        c.objects = s3.location("office");
    })
    .await;
    let db = o.db().to_path_buf();
    upload_cut_and_resumed_at_a_second_process(&o, &s3, || OfficeChild::serve(&db, &s3, "office"))
        .await;
}

/// The same with the office on PostgreSQL: the second process shares the database, the key file
/// and the bucket, as several `serve --database` processes behind a load balancer do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_on_postgres_an_upload_cut_mid_chunk_resumes_at_a_second_office_process() {
    let Some(s3) = S3Server::start() else { return };
    let Some(db) = tokio::task::block_in_place(heatcrew_testkit::pg::TestDb::create) else {
        return;
    };
    let o = TestOffice::start_on_postgres(&db.url, Seed::TestAccounts, |c| {
        c.objects = s3.location("office");
    })
    .await;
    let key_file = o.key_file().to_path_buf();
    upload_cut_and_resumed_at_a_second_process(&o, &s3, || {
        OfficeChild::serve_on_postgres(&db.url, &key_file, &s3, "office")
    })
    .await;
}

/// A phone's upload is cut mid-chunk at `o`; it resumes through the process `second` starts, on
/// the same store and bucket, from the last whole chunk; both processes then serve the file.
async fn upload_cut_and_resumed_at_a_second_process(
    o: &TestOffice,
    s3: &S3Server,
    second: impl FnOnce() -> OfficeChild,
) {
    let staff = o.staff("dispatch").await;
    let mut a = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let (bytes, photo) = photo(0);
    let sha = photo.sha256;
    let ev = a.record(
        job.id,
        &EventBody::PhotoAdded {
            step: "diagnose".into(),
            photo,
            caption: "维修前".into(),
        },
    );
    o.push_ok(&a, &[ev]).await;
    let token = a.login.access_token.clone();
    let (status, body) = o
        .post_json(
            "/api/v1/attachments",
            Some(&token),
            &json!({"sha256": sha, "size": bytes.len(), "mime": "image/jpeg"}),
        )
        .await;
    assert_eq!(
        (status, &body["offset"]),
        (StatusCode::OK, &json!(0)),
        "{body}"
    );

    let chunks: Vec<&[u8]> = bytes.chunks(MAX_CHUNK_BYTES).collect();
    for (i, chunk) in chunks[..2].iter().enumerate() {
        let resp = patch(&o.http, &o.url(), &token, sha, i * MAX_CHUNK_BYTES, chunk).await;
        assert_eq!(resp.status(), StatusCode::OK, "chunk {i} is stored");
    }
    cut_mid_chunk(o.addr(), &token, sha, 2 * MAX_CHUNK_BYTES, chunks[2]);

    // The phone comes back through another office process behind the load balancer.
    let second = second();
    let resume = head_offset(&o.http, &second.url, &token, sha).await;
    assert_eq!(
        resume,
        2 * MAX_CHUNK_BYTES as u64,
        "the second process sees the two whole chunks the first stored, not the cut one"
    );
    let resp = patch(&o.http, &second.url, &token, sha, 0, chunks[0]).await;
    assert_eq!(
        (resp.status(), resp.headers()["upload-offset"].to_str().ok()),
        (StatusCode::CONFLICT, Some(resume.to_string().as_str())),
        "a stale offset is refused with the real one"
    );
    for (i, chunk) in chunks.iter().enumerate().skip(2) {
        let resp = patch(
            &o.http,
            &second.url,
            &token,
            sha,
            i * MAX_CHUNK_BYTES,
            chunk,
        )
        .await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "chunk {i} at the second process"
        );
        if i + 1 == chunks.len() {
            let st: AttachmentStatus = resp.json().await.expect("status");
            assert!(st.complete, "the last chunk completes the upload");
        }
    }
    assert!(
        std::fs::read_dir(s3.object_file(&format!("office/partial/{}", sha.to_hex())))
            .map(|d| d.flatten().all(|e| std::fs::read_dir(e.path())
                .map(|mut d| d.next().is_none())
                .unwrap_or(true)))
            .unwrap_or(true),
        "the chunks are gone once the file counts"
    );

    for base in [o.url(), second.url.clone()] {
        let got = o
            .http
            .get(format!("{base}/api/v1/attachments/{sha}"))
            .bearer_auth(&staff)
            .send()
            .await
            .expect("download");
        assert_eq!(got.status(), StatusCode::OK, "{base} serves it");
        assert_eq!(
            got.headers()["content-type"],
            "image/jpeg",
            "typed by its bytes"
        );
        assert_eq!(
            got.bytes().await.expect("bytes").as_ref(),
            bytes.as_slice(),
            "{base} streams exactly the captured bytes from the shared store"
        );
    }
    let r = verify(o, o.running().state.files.clone()).await;
    assert_eq!(
        (r.attachments, r.faults.len()),
        (1, 0),
        "the stored object verifies: {:?}",
        r.faults
    );
}

#[tokio::test]
async fn s3_bytes_that_do_not_match_their_hash_never_count_and_leave_nothing() {
    let Some(s3) = S3Server::start() else { return };
    let o = TestOffice::start_with(Seed::TestAccounts, |c| {
        c.objects = s3.location("p");
    })
    .await;
    let staff = o.staff("dispatch").await;
    let mut a = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let (bytes, photo) = photo(1);
    let liar = AttachmentRef {
        sha256: Digest::of(b"something else"),
        ..photo
    };
    let sha = liar.sha256;
    let ev = a.record(
        job.id,
        &EventBody::PhotoAdded {
            step: "diagnose".into(),
            photo: liar,
            caption: String::new(),
        },
    );
    o.push_ok(&a, &[ev]).await;
    let token = a.login.access_token.clone();
    let (status, _) = o
        .post_json(
            "/api/v1/attachments",
            Some(&token),
            &json!({"sha256": sha, "size": bytes.len(), "mime": "image/jpeg"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "announced");
    let mut last = None;
    for (i, chunk) in bytes.chunks(MAX_CHUNK_BYTES).enumerate() {
        last = Some(patch(&o.http, &o.url(), &token, sha, i * MAX_CHUNK_BYTES, chunk).await);
    }
    let resp = last.expect("chunks");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "refused");
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "hash_mismatch",
        "with a code"
    );
    assert_eq!(
        head_offset(&o.http, &o.url(), &token, sha).await,
        0,
        "start again from 0"
    );
    let (status, body) = o
        .get_json(&format!("/api/v1/attachments/{sha}"), &staff)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_received")),
        "nothing counted"
    );
    assert!(
        !s3.object_file(&format!("p/{}", final_key(sha))).exists(),
        "no object was written under the address"
    );
    let partial = s3.object_file(&format!("p/partial/{}", sha.to_hex()));
    let left: Vec<_> = walk(&partial);
    assert!(
        left.is_empty(),
        "the uploaded chunks were discarded: {left:?}"
    );
    assert!(
        o.store().complete_attachments().expect("read").is_empty(),
        "no attachment row counts it"
    );
}

/// Files under `dir` (none if it does not exist).
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[tokio::test]
async fn s3_a_missing_or_damaged_object_is_reported_by_verify() {
    let Some(s3) = S3Server::start() else { return };
    let o = TestOffice::start_with(Seed::TestAccounts, |c| {
        c.objects = s3.location("v");
    })
    .await;
    let staff = o.staff("dispatch").await;
    let mut a = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let token = a.login.access_token.clone();
    let mut stored = Vec::new();
    for content in [b"photo one".to_vec(), b"signature two".to_vec()] {
        let r = photo_ref(&content);
        let ev = a.record(
            job.id,
            &EventBody::PhotoAdded {
                step: "diagnose".into(),
                photo: r.clone(),
                caption: String::new(),
            },
        );
        o.push_ok(&a, &[ev]).await;
        o.post_json(
            "/api/v1/attachments",
            Some(&token),
            &json!({"sha256": r.sha256, "size": content.len(), "mime": "image/jpeg"}),
        )
        .await;
        let resp = patch(&o.http, &o.url(), &token, r.sha256, 0, &content).await;
        assert_eq!(resp.status(), StatusCode::OK, "stored");
        stored.push(r.sha256);
    }
    let r = verify(&o, o.running().state.files.clone()).await;
    assert_eq!((r.attachments, r.faults.len()), (2, 0), "both verify");

    std::fs::write(
        s3.object_file(&format!("v/{}", final_key(stored[0]))),
        b"a doctored photo",
    )
    .expect("damage one object in the store");
    std::fs::remove_file(s3.object_file(&format!("v/{}", final_key(stored[1]))))
        .expect("remove the other");
    let r = verify(&o, o.running().state.files.clone()).await;
    let named = |code: &str, sha: Digest| {
        r.faults
            .iter()
            .any(|f| f.code == code && f.message.contains(&sha.to_hex()))
    };
    assert!(
        named("file_mismatch", stored[0]),
        "the damaged object is named: {:?}",
        r.faults
    );
    assert!(
        named("file_missing", stored[1]),
        "the missing one too: {:?}",
        r.faults
    );

    // The command line, configured from the environment as in production, says the same.
    let out = Command::new(env!("CARGO_BIN_EXE_heatcrew-office"))
        .args(["verify", "--db"])
        .arg(o.db())
        .args(["--objects", &s3.url("v")])
        .envs(s3.env())
        .output()
        .expect("run heatcrew-office verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "verify fails: {text}");
    assert!(
        text.contains("file_mismatch") && text.contains("file_missing"),
        "and names both faults: {text}"
    );
}
