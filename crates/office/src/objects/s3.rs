//! Attachments in S3-compatible object storage, through the `object_store` crate.
//!
//! - A received file is the object `<prefix>/sha256/ab/<hex>`. It is written only after the
//!   uploader's bytes hashed to that address, and it counts only after the PUT (or the multipart
//!   upload, above [`SINGLE_PUT_BYTES`]) completed and a HEAD read its size back.
//! - An upload in progress is a run of objects `<prefix>/partial/<hex>/<uploader>/<offset>`, one
//!   per chunk, each a completed PUT before the chunk is acknowledged. The offset to resume at is
//!   the end of the unbroken run from 0 (a LIST), so a device whose connection dropped can resume
//!   at any office process sharing the bucket. Two processes racing on one uploader's chunk write
//!   whole objects (S3 PUTs are atomic); a stray overlapping part is skipped, and whatever is
//!   assembled is hash-checked before anything counts.
//! - All S3 traffic runs on a small runtime of its own, so the blocking readers (bundles, PDFs,
//!   `verify`) can wait for it from any thread without starving the runtime they came from.

use super::{ByteStream, Finish, ObjectBackend, S3Location, SNIFF_BYTES, final_key, served_type};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use heatcrew_protocol::Digest;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest as _, Sha256};
use std::future::Future;
use std::io;
use std::sync::Arc;

/// Files up to this size go up in one PUT once checked; larger ones as a multipart upload whose
/// parts are this big (S3 wants at least 5 MiB per part).
pub const SINGLE_PUT_BYTES: usize = 8 * 1024 * 1024;

type Store = Arc<dyn ObjectStore>;

pub struct S3Objects {
    store: Store,
    /// Runs every request; dropped without waiting (see `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
    describe: String,
}

impl std::fmt::Debug for S3Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

impl Drop for S3Objects {
    fn drop(&mut self) {
        // An office may be dropped inside an async context, where a blocking shutdown panics.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl S3Objects {
    /// Connect to the bucket and check that it answers (a HEAD of a key that need not exist).
    pub fn connect(at: &S3Location) -> io::Result<S3Objects> {
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&at.bucket);
        for (key, value) in &at.options {
            let key: AmazonS3ConfigKey = key.parse().map_err(io::Error::other)?;
            builder = builder.with_config(key, value);
        }
        let endpoint = builder
            .get_config_value(&AmazonS3ConfigKey::Endpoint)
            .unwrap_or_default();
        if is_loopback_http(&endpoint) {
            // A local S3-protocol server (tests, a gateway on the same machine) may speak HTTP.
            builder = builder.with_allow_http(true);
        }
        let s3 = builder.build().map_err(io::Error::other)?;
        let store: Store = if at.prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, at.prefix.as_str()))
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("heatcrew-objects")
            .enable_all()
            .build()?;
        let objects = S3Objects {
            store,
            runtime: Some(runtime),
            describe: format!(
                "s3://{}/{} at {}",
                at.bucket,
                at.prefix,
                if endpoint.is_empty() {
                    "AWS"
                } else {
                    &endpoint
                }
            ),
        };
        objects
            .wait(|store| async move {
                match store.head(&Path::from("heatcrew-reachability-check")).await {
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(io::Error::other(e)),
                }
            })
            .map_err(|e| io::Error::other(format!("cannot reach {}: {e}", objects.describe)))?;
        Ok(objects)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("alive until dropped")
    }

    /// Run `work` on the S3 runtime and await it from any runtime.
    async fn run<T, F>(&self, work: impl FnOnce(Store) -> F) -> io::Result<T>
    where
        T: Send + 'static,
        F: Future<Output = io::Result<T>> + Send + 'static,
    {
        self.runtime()
            .spawn(work(self.store.clone()))
            .await
            .map_err(io::Error::other)?
    }

    /// Run `work` on the S3 runtime and wait for it, blocking this thread (never the S3 runtime's).
    fn wait<T, F>(&self, work: impl FnOnce(Store) -> F) -> io::Result<T>
    where
        T: Send + 'static,
        F: Future<Output = io::Result<T>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let fut = work(self.store.clone());
        self.runtime().spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .map_err(|_| io::Error::other("the object store runtime stopped"))?
    }
}

fn is_loopback_http(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    host == "localhost" || host == "[::1]" || host.starts_with("127.")
}

fn partial_prefix(sha: Digest, uploader: &str) -> Path {
    Path::from(format!("partial/{}/{uploader}", sha.to_hex()))
}

fn part_key(sha: Digest, uploader: &str, offset: u64) -> Path {
    // Zero-padded so a listing sorts by offset.
    Path::from(format!("partial/{}/{uploader}/{offset:020}", sha.to_hex()))
}

/// One stored chunk of an upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    key: Path,
    offset: u64,
    size: u64,
}

/// The unbroken run of parts from offset 0, in order: what the office durably holds. A part that
/// overlaps the run (a chunk two processes both stored) or lies past a gap is not part of it.
fn unbroken_run(mut parts: Vec<Part>) -> Vec<Part> {
    parts.sort_by_key(|p| p.offset);
    let mut run = Vec::new();
    let mut end = 0;
    for p in parts {
        if p.offset == end && p.size > 0 {
            end += p.size;
            run.push(p);
        } else if p.offset > end {
            break;
        }
    }
    run
}

async fn parts(store: &Store, sha: Digest, uploader: &str) -> io::Result<Vec<Part>> {
    let listed: Vec<_> = store
        .list(Some(&partial_prefix(sha, uploader)))
        .try_collect()
        .await?;
    let parts = listed
        .into_iter()
        .filter_map(|meta| {
            let offset = meta.location.filename()?.parse().ok()?;
            Some(Part {
                key: meta.location,
                offset,
                size: meta.size,
            })
        })
        .collect();
    Ok(parts)
}

async fn delete_parts(store: &Store, sha: Digest, uploader: &str) -> io::Result<()> {
    for part in parts(store, sha, uploader).await? {
        match store.delete(&part.key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Hash the run of parts and, unless the file is in place already, write it as the final object;
/// only a matching hash completes the write (otherwise the PUT never happens or the multipart
/// upload is aborted), and the stored object's size is read back before `Stored` is answered.
async fn assemble(store: Store, sha: Digest, uploader: String) -> io::Result<Finish> {
    let run = unbroken_run(parts(&store, sha, &uploader).await?);
    let size: u64 = run.iter().map(|p| p.size).sum();
    let dest = Path::from(final_key(sha));
    let in_place = matches!(store.head(&dest).await, Ok(meta) if meta.size == size);
    let mut writer = (!in_place)
        .then(|| BufWriter::with_capacity(store.clone(), dest.clone(), SINGLE_PUT_BYTES));
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    for part in &run {
        let bytes = store.get(&part.key).await?.bytes().await?;
        let take = (SNIFF_BYTES - head.len()).min(bytes.len());
        head.extend_from_slice(&bytes[..take]);
        hasher.update(&bytes);
        if let Some(w) = writer.as_mut() {
            w.put(bytes).await?;
        }
    }
    let actual = Digest(hasher.finalize().into());
    if actual != sha {
        if let Some(w) = writer.as_mut() {
            w.abort().await?;
        }
        delete_parts(&store, sha, &uploader).await?;
        return Ok(Finish::HashMismatch { actual });
    }
    if let Some(mut w) = writer {
        use tokio::io::AsyncWriteExt;
        w.shutdown().await?;
        let stored = store.head(&dest).await?;
        if stored.size != size {
            return Err(io::Error::other(format!(
                "{dest}: stored {} bytes, not {size}",
                stored.size
            )));
        }
    }
    Ok(Finish::Stored {
        mime: served_type(&head).0,
    })
}

async fn hash_object(store: Store, sha: Digest) -> io::Result<bool> {
    let mut chunks = store.get(&Path::from(final_key(sha))).await?.into_stream();
    let mut hasher = Sha256::new();
    while let Some(chunk) = chunks.next().await {
        hasher.update(&chunk?);
    }
    Ok(Digest(hasher.finalize().into()) == sha)
}

#[async_trait]
impl ObjectBackend for S3Objects {
    async fn partial_len(&self, sha: Digest, uploader: &str) -> io::Result<u64> {
        let uploader = uploader.to_owned();
        self.run(|store| async move {
            let run = unbroken_run(parts(&store, sha, &uploader).await?);
            Ok(run.iter().map(|p| p.size).sum())
        })
        .await
    }

    async fn append(
        &self,
        sha: Digest,
        uploader: &str,
        offset: u64,
        bytes: Bytes,
    ) -> io::Result<u64> {
        let key = part_key(sha, uploader, offset);
        let len = bytes.len() as u64;
        self.run(|store| async move {
            store.put(&key, PutPayload::from_bytes(bytes)).await?;
            Ok(offset + len)
        })
        .await
    }

    async fn finish(&self, sha: Digest, uploader: &str) -> io::Result<Finish> {
        let uploader = uploader.to_owned();
        self.run(|store| assemble(store, sha, uploader)).await
    }

    async fn discard_partial(&self, sha: Digest, uploader: &str) -> io::Result<()> {
        let uploader = uploader.to_owned();
        self.run(|store| async move { delete_parts(&store, sha, &uploader).await })
            .await
    }

    async fn stream(&self, sha: Digest) -> io::Result<(u64, ByteStream)> {
        // The body is pumped on the S3 runtime into a small channel, so the response streams
        // with back-pressure and never holds the whole file.
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
        let size = self
            .run(|store| async move {
                let got = store.get(&Path::from(final_key(sha))).await?;
                let size = got.meta.size;
                tokio::spawn(async move {
                    let mut chunks = got.into_stream();
                    while let Some(chunk) = chunks.next().await {
                        if tx.send(chunk.map_err(io::Error::from)).await.is_err() {
                            break;
                        }
                    }
                });
                Ok(size)
            })
            .await?;
        let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        });
        Ok((size, Box::pin(chunks)))
    }

    fn read_blocking(&self, sha: Digest) -> io::Result<Vec<u8>> {
        self.wait(|store| async move {
            let got = store.get(&Path::from(final_key(sha))).await?;
            Ok(got.bytes().await?.to_vec())
        })
    }

    fn is_intact_blocking(&self, sha: Digest) -> io::Result<bool> {
        self.wait(|store| hash_object(store, sha))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(offset: u64, size: u64) -> Part {
        Part {
            key: Path::from(format!("p/{offset:020}")),
            offset,
            size,
        }
    }

    #[test]
    fn the_resume_offset_is_the_end_of_the_unbroken_run_from_zero() {
        let cases: [(&str, Vec<Part>, u64); 6] = [
            ("nothing stored", vec![], 0),
            ("one chunk", vec![part(0, 10)], 10),
            (
                "listed out of order",
                vec![part(10, 5), part(0, 10), part(15, 1)],
                16,
            ),
            ("a gap ends the run", vec![part(0, 10), part(20, 5)], 10),
            ("no chunk at 0", vec![part(10, 5)], 0),
            (
                "a chunk two processes stored overlaps: skipped",
                vec![part(0, 10), part(5, 10), part(10, 4)],
                14,
            ),
        ];
        for (why, parts, want) in cases {
            let end: u64 = unbroken_run(parts).iter().map(|p| p.size).sum();
            assert_eq!(end, want, "{why}");
        }
    }

    #[test]
    fn only_plain_http_to_this_machine_is_allowed() {
        for (endpoint, allowed) in [
            ("http://127.0.0.1:9000", true),
            ("http://localhost:9000/", true),
            ("http://[::1]:9000", true),
            ("http://s3.example.com", false),
            ("https://127.0.0.1:9000", false),
            ("", false),
        ] {
            assert_eq!(is_loopback_http(endpoint), allowed, "{endpoint}");
        }
    }
}
