//! Where attachment bytes (photos, signatures) live: a local folder by default ([`folder`]), or
//! S3-compatible object storage for an office that outgrows one machine ([`s3`],
//! `serve --objects s3://bucket/prefix`). Both keep the same promises, behind [`ObjectBackend`]:
//!
//! - content-addressed: a received file is at `sha256/ab/<hex>` and never changes;
//! - an upload in progress belongs to one uploader and is resumable at the offset [`Objects::partial_len`]
//!   reports, which counts only bytes durably stored (fsynced, or a completed S3 PUT);
//! - [`Objects::finish`] hashes the uploader's own bytes and puts the file in place durably (fsync and
//!   rename, or S3 PUT / multipart completed and read back by HEAD with its size) before the caller
//!   commits the database row that counts it; bytes that do not hash to the address are discarded.
//!
//! With S3 nothing of an upload lives in one office process: its bytes are objects, so any process
//! behind a load balancer can take the next chunk (docs/objects.md).

pub mod folder;
pub mod s3;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use heatcrew_protocol::Digest;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

pub use folder::FileStore;

/// In-process locks serialising work on one content address (striped by its first byte).
const LOCK_STRIPES: usize = 64;

/// A stored file's bytes, in chunks.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// How an upload's last chunk ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Finish {
    /// The bytes hash to the announced SHA-256; the file is durably in place. `mime` is the type
    /// it is served as ([`served_type`] of its first bytes).
    Stored { mime: &'static str },
    /// They do not; the uploader's partial bytes were discarded.
    HashMismatch { actual: Digest },
}

/// Where the office keeps attachment bytes (`serve --objects`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local folder (the default: `<db>.files` beside the database).
    Folder(PathBuf),
    /// An S3-compatible bucket.
    S3(S3Location),
}

/// `s3://bucket/prefix`, with credentials, region and endpoint from the `AWS_*` environment
/// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL, …) unless `options`
/// (object_store's `aws_*` keys, e.g. `aws_endpoint`) say otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Keys live under this prefix (no leading or trailing `/`; may be empty).
    pub prefix: String,
    pub options: Vec<(String, String)>,
}

impl Location {
    /// `s3://bucket/prefix`, or else a folder path.
    pub fn parse(s: &str) -> Result<Location, String> {
        let Some(rest) = s.strip_prefix("s3://") else {
            return Ok(Location::Folder(PathBuf::from(s)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("{s}: name a bucket, as in s3://bucket/prefix"));
        }
        Ok(Location::S3(S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            options: Vec::new(),
        }))
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Folder(p) => write!(f, "{}", p.display()),
            Location::S3(s) => write!(f, "s3://{}/{}", s.bucket, s.prefix),
        }
    }
}

/// What a place for attachment bytes must do. `uploader` is an [`crate::store::Uploader::key`]:
/// letters, digits and `-`.
#[async_trait]
pub trait ObjectBackend: Send + Sync + std::fmt::Debug {
    /// Bytes of `uploader`'s upload in progress durably held so far.
    async fn partial_len(&self, sha: Digest, uploader: &str) -> io::Result<u64>;
    /// Store `bytes` at `offset` (which the caller checked against [`Self::partial_len`]), durably
    /// before answering; the new length.
    async fn append(
        &self,
        sha: Digest,
        uploader: &str,
        offset: u64,
        bytes: Bytes,
    ) -> io::Result<u64>;
    /// Hash `uploader`'s whole upload; if it matches, put the file in place (unless it is there
    /// already) durably, keeping the partial bytes until [`Self::discard_partial`]; if not, discard
    /// them.
    async fn finish(&self, sha: Digest, uploader: &str) -> io::Result<Finish>;
    /// Drop `uploader`'s partial bytes (after the upload was counted, or to start it over).
    async fn discard_partial(&self, sha: Digest, uploader: &str) -> io::Result<()>;
    /// A stored file's size and bytes, streamed (`NotFound` if it is not there).
    async fn stream(&self, sha: Digest) -> io::Result<(u64, ByteStream)>;
    /// A stored file whole, from a thread that may block (bundles, PDFs).
    fn read_blocking(&self, sha: Digest) -> io::Result<Vec<u8>>;
    /// Re-hash a stored file, from a thread that may block (`verify`); `NotFound` if it is gone.
    fn is_intact_blocking(&self, sha: Digest) -> io::Result<bool>;
}

/// The office's attachment bytes: a backend plus the in-process locks that serialise one
/// address's uploads within this process (across processes the object keys keep them apart).
#[derive(Debug)]
pub struct Objects {
    backend: Arc<dyn ObjectBackend>,
    /// The same backend when it is the local folder (tests reach its files directly).
    folder: Option<Arc<FileStore>>,
    location: Location,
    locks: Vec<tokio::sync::Mutex<()>>,
}

impl Objects {
    /// Open (creating the folder if needed) or connect to the store at `location`; an S3 store
    /// that cannot be reached is an error here, at start.
    pub fn open(location: &Location) -> io::Result<Objects> {
        match location {
            Location::Folder(root) => Ok(Self::folder(FileStore::open(root)?, location)),
            Location::S3(s3) => Ok(Self::with(
                Arc::new(s3::S3Objects::connect(s3)?),
                None,
                location,
            )),
        }
    }

    /// The store at `location` as it is, creating nothing (for checking it).
    pub fn existing(location: &Location) -> io::Result<Objects> {
        match location {
            Location::Folder(root) => Ok(Self::folder(FileStore::existing(root), location)),
            Location::S3(_) => Self::open(location),
        }
    }

    fn folder(store: FileStore, location: &Location) -> Objects {
        let store = Arc::new(store);
        Self::with(
            Arc::new(folder::Folder(store.clone())),
            Some(store),
            location,
        )
    }

    fn with(
        backend: Arc<dyn ObjectBackend>,
        folder: Option<Arc<FileStore>>,
        location: &Location,
    ) -> Objects {
        Objects {
            backend,
            folder,
            location: location.clone(),
            locks: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The local folder, when the bytes live in one.
    pub fn local_folder(&self) -> Option<&FileStore> {
        self.folder.as_deref()
    }

    pub fn lock_for(&self, sha: Digest) -> &tokio::sync::Mutex<()> {
        &self.locks[sha.0[0] as usize % LOCK_STRIPES]
    }

    pub async fn partial_len(&self, sha: Digest, uploader: &str) -> io::Result<u64> {
        self.backend.partial_len(sha, uploader).await
    }

    pub async fn append(
        &self,
        sha: Digest,
        uploader: &str,
        offset: u64,
        bytes: Bytes,
    ) -> io::Result<u64> {
        self.backend.append(sha, uploader, offset, bytes).await
    }

    pub async fn finish(&self, sha: Digest, uploader: &str) -> io::Result<Finish> {
        self.backend.finish(sha, uploader).await
    }

    pub async fn discard_partial(&self, sha: Digest, uploader: &str) -> io::Result<()> {
        self.backend.discard_partial(sha, uploader).await
    }

    pub async fn stream(&self, sha: Digest) -> io::Result<(u64, ByteStream)> {
        self.backend.stream(sha).await
    }

    pub fn read_blocking(&self, sha: Digest) -> io::Result<Vec<u8>> {
        self.backend.read_blocking(sha)
    }

    pub fn is_intact_blocking(&self, sha: Digest) -> io::Result<bool> {
        self.backend.is_intact_blocking(sha)
    }
}

/// The type a stored file is served as, recognised from its first bytes by the photo pipeline's
/// [`heatcrew_media::sniff`]: the pipeline's outputs (JPEG photos, PNG signatures) and WebP are
/// images; anything else is opaque bytes. What the uploader announced is never used.
pub fn served_type(bytes: &[u8]) -> (&'static str, &'static str) {
    match heatcrew_media::sniff(bytes) {
        Ok(heatcrew_media::SourceFormat::Jpeg) => ("image/jpeg", "jpg"),
        Ok(heatcrew_media::SourceFormat::Png) => ("image/png", "png"),
        Ok(heatcrew_media::SourceFormat::WebP) => ("image/webp", "webp"),
        Err(_) => ("application/octet-stream", "bin"),
    }
}

/// How many leading bytes [`served_type`] looks at.
pub const SNIFF_BYTES: usize = 16;

/// The content-addressed key of a received file: `sha256/ab/<hex>`.
pub fn final_key(sha: Digest) -> String {
    let hex = sha.to_hex();
    format!("sha256/{}/{hex}", &hex[..2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_from_the_command_line() {
        assert_eq!(
            Location::parse("s3://photos/heatcrew/office-1/"),
            Ok(Location::S3(S3Location {
                bucket: "photos".into(),
                prefix: "heatcrew/office-1".into(),
                options: vec![],
            })),
            "bucket and prefix, slashes trimmed"
        );
        assert_eq!(
            Location::parse("s3://photos").map(|l| l.to_string()),
            Ok("s3://photos/".into()),
            "a bucket alone is fine"
        );
        assert!(Location::parse("s3:///x").is_err(), "a bucket is needed");
        assert_eq!(
            Location::parse("/var/lib/heatcrew/files"),
            Ok(Location::Folder("/var/lib/heatcrew/files".into())),
            "anything else is a folder"
        );
    }

    #[test]
    fn final_keys_are_content_addressed() {
        let sha = Digest::of(b"x");
        let hex = sha.to_hex();
        assert_eq!(final_key(sha), format!("sha256/{}/{hex}", &hex[..2]));
    }

    #[test]
    fn the_served_type_comes_from_the_bytes() {
        let types: Vec<&str> = [
            b"\xFF\xD8\xFF\xE0rest".as_slice(),
            b"\x89PNG\r\n\x1a\nrest",
            b"RIFF\0\0\0\0WEBPVP8 ",
            b"<html><script>",
            b"GIF89a",
            b"",
        ]
        .iter()
        .map(|b| served_type(b).0)
        .collect();
        assert_eq!(
            types,
            [
                "image/jpeg",
                "image/png",
                "image/webp",
                "application/octet-stream",
                "application/octet-stream",
                "application/octet-stream"
            ]
        );
    }
}
