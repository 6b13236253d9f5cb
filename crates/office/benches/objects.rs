//! Attachment uploads through the real HTTP API, a 5 MB photo in 1 MiB chunks, with the bytes in
//! the local folder (the default) and in S3-compatible storage (a real `s3s-fs` on loopback,
//! heatcrew-testkit's `S3Server`): upload throughput, the `HEAD` a resuming phone asks first, and
//! the streamed download. Figures and the S3/folder ratio are printed in one run.
//!
//! `cargo bench --workspace --locked --bench objects` (needs `s3s-fs`, which `./dev test` installs;
//! without it only the folder is measured).

use heatcrew_office::objects::Location;
use heatcrew_protocol::Digest;
use heatcrew_protocol::sync::MAX_CHUNK_BYTES;
use heatcrew_testkit::s3_server::S3Server;
use heatcrew_testkit::{PASSWORD, Seed, TestOffice};
use std::time::{Duration, Instant};

const PHOTO_BYTES: usize = 5 * 1000 * 1000;
const ROUNDS: usize = 7;

struct Figures {
    upload: Duration,
    head: Duration,
    download: Duration,
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

async fn measure(location: Option<Location>) -> Figures {
    let o = TestOffice::start_with(Seed::TestAccounts, |c| {
        if let Some(l) = location {
            c.objects = l;
        }
    })
    .await;
    let token = o.staff_token("dispatch", PASSWORD).await;
    let (mut uploads, mut heads, mut downloads) = (vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        let bytes: Vec<u8> = (0..PHOTO_BYTES)
            .map(|i| (i.wrapping_mul(131) % 251) as u8 ^ round as u8)
            .collect();
        let sha = Digest::of(&bytes);
        let url = o.endpoint(&format!("/api/v1/attachments/{sha}"));
        let started = Instant::now();
        let resp = o
            .http
            .post(o.endpoint("/api/v1/attachments"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"sha256": sha, "size": bytes.len(), "mime": "image/jpeg"}))
            .send()
            .await
            .expect("announce");
        assert!(resp.status().is_success(), "announced");
        for (i, chunk) in bytes.chunks(MAX_CHUNK_BYTES).enumerate() {
            if i == 2 {
                // Where a phone that lost signal resumes: HEAD for the offset.
                let t = Instant::now();
                let head = o
                    .http
                    .head(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("head");
                heads.push(t.elapsed());
                assert_eq!(
                    head.headers()["upload-offset"],
                    (2 * MAX_CHUNK_BYTES).to_string().as_str(),
                    "resume offset"
                );
            }
            let resp = o
                .http
                .patch(&url)
                .bearer_auth(&token)
                .header("upload-offset", (i * MAX_CHUNK_BYTES).to_string())
                .body(chunk.to_vec())
                .send()
                .await
                .expect("patch");
            assert!(resp.status().is_success(), "chunk {i}: {}", resp.status());
        }
        uploads.push(started.elapsed());
        let t = Instant::now();
        let got = o
            .http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("download")
            .bytes()
            .await
            .expect("bytes");
        downloads.push(t.elapsed());
        assert_eq!(got.len(), bytes.len(), "the whole photo comes back");
    }
    Figures {
        upload: median(uploads),
        head: median(heads),
        download: median(downloads),
    }
}

fn mb_per_s(d: Duration) -> f64 {
    PHOTO_BYTES as f64 / 1e6 / d.as_secs_f64()
}

fn print(name: &str, f: &Figures) {
    println!(
        "{name:<8} upload {:>7.1} ms ({:>6.1} MB/s)   resume HEAD {:>6.2} ms   download {:>7.1} ms ({:>6.1} MB/s)",
        f.upload.as_secs_f64() * 1e3,
        mb_per_s(f.upload),
        f.head.as_secs_f64() * 1e3,
        f.download.as_secs_f64() * 1e3,
        mb_per_s(f.download)
    );
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "a 5 MB photo in 1 MiB chunks over loopback HTTP, median of {ROUNDS} (debug or release as built)"
    );
    let folder = rt.block_on(measure(None));
    print("folder", &folder);
    let Some(s3) = S3Server::start() else { return };
    let s3_figures = rt.block_on(measure(Some(s3.location("bench"))));
    print("s3s-fs", &s3_figures);
    println!(
        "s3s-fs / folder upload throughput: {:.2}x; download: {:.2}x",
        mb_per_s(s3_figures.upload) / mb_per_s(folder.upload),
        mb_per_s(s3_figures.download) / mb_per_s(folder.download)
    );
}
