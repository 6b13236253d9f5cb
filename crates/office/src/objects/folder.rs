//! The local attachment folder (the default [`super::ObjectBackend`]): content-addressed files under
//! `sha256/ab/<hex>`, uploads in progress under
//! `partial/<hex>.<uploader>.part`, one per uploader (a device, or a staff user without one), so no
//! uploader can touch another's upload. A file is written, fsynced, hash-checked and linked into
//! place (and the folder fsynced) before the database row that counts it commits, so a counted file
//! always exists; the partial file goes only after that commit, so a stop in between is finished
//! by checking the partial file again.

use super::{ByteStream, Finish, ObjectBackend, SNIFF_BYTES, served_type};
use async_trait::async_trait;
use bytes::Bytes;
use heatcrew_protocol::Digest;
use sha2::{Digest as _, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn open(root: &Path) -> io::Result<FileStore> {
        fs::create_dir_all(root.join("partial"))?;
        fs::create_dir_all(root.join("sha256"))?;
        remove_shared_partials(&root.join("partial"))?;
        Ok(FileStore {
            root: root.to_path_buf(),
        })
    }

    /// The folder at `root` as it is, creating nothing (for checking it).
    pub fn existing(root: &Path) -> FileStore {
        FileStore {
            root: root.to_path_buf(),
        }
    }

    fn partial_path(&self, sha: Digest, uploader: &str) -> PathBuf {
        debug_assert!(
            uploader
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "an uploader key is a file-name part"
        );
        self.root
            .join("partial")
            .join(format!("{sha}.{uploader}.part"))
    }

    pub fn final_path(&self, sha: Digest) -> PathBuf {
        let hex = sha.to_hex();
        self.root.join("sha256").join(&hex[..2]).join(hex)
    }

    /// Bytes of `uploader`'s upload in progress held so far.
    pub fn partial_len(&self, sha: Digest, uploader: &str) -> io::Result<u64> {
        match fs::metadata(self.partial_path(sha, uploader)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    pub fn has_final(&self, sha: Digest) -> bool {
        self.final_path(sha).is_file()
    }

    /// Append `bytes` at `offset` (which the caller checked against [`Self::partial_len`]) and
    /// fsync, so that a HEAD after a crash reports only bytes that are on disk.
    pub fn append(
        &self,
        sha: Digest,
        uploader: &str,
        offset: u64,
        bytes: &[u8],
    ) -> io::Result<u64> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.partial_path(sha, uploader))?;
        let len = f.metadata()?.len();
        if len != offset {
            return Err(io::Error::other(format!(
                "partial upload is {len} bytes, not {offset}"
            )));
        }
        f.write_all(bytes)?;
        f.sync_data()?;
        Ok(len + bytes.len() as u64)
    }

    /// Hash `uploader`'s complete partial file. If it matches `sha`, link it into place (unless the
    /// content is there already, from another uploader) and keep the partial file until the caller
    /// has committed and calls [`Self::discard_partial`]; if it does not, discard it.
    pub fn finish(&self, sha: Digest, uploader: &str) -> io::Result<Finish> {
        let partial = self.partial_path(sha, uploader);
        let (actual, head) = hash_file(&partial)?;
        let stored = Finish::Stored {
            mime: served_type(&head).0,
        };
        if actual != sha {
            fs::remove_file(&partial)?;
            return Ok(Finish::HashMismatch { actual });
        }
        File::open(&partial)?.sync_all()?;
        let dest = self.final_path(sha);
        let dir = dest.parent().expect("final path has a parent");
        fs::create_dir_all(dir)?;
        match fs::hard_link(&partial, &dest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(stored),
            // A file system without hard links: copy beside, fsync, rename into place.
            Err(_) => {
                let tmp = dir.join(format!("{sha}.{uploader}.tmp"));
                fs::copy(&partial, &tmp)?;
                File::open(&tmp)?.sync_all()?;
                fs::rename(&tmp, &dest)?;
            }
        }
        File::open(dir)?.sync_all()?;
        Ok(stored)
    }

    /// Drop `uploader`'s partial file (after its upload was counted, or to start it over).
    pub fn discard_partial(&self, sha: Digest, uploader: &str) -> io::Result<()> {
        match fs::remove_file(self.partial_path(sha, uploader)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Re-hash a file already in place (after a crash between rename and commit).
    pub fn final_is_intact(&self, sha: Digest) -> io::Result<bool> {
        Ok(hash_file(&self.final_path(sha))?.0 == sha)
    }

    pub fn read(&self, sha: Digest) -> io::Result<Vec<u8>> {
        fs::read(self.final_path(sha))
    }
}

/// The folder as an [`ObjectBackend`]: its blocking file work on tokio's blocking threads.
#[derive(Debug)]
pub struct Folder(pub Arc<FileStore>);

impl Folder {
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&FileStore) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let files = self.0.clone();
        tokio::task::spawn_blocking(move || work(&files))
            .await
            .map_err(io::Error::other)?
    }
}

#[async_trait]
impl ObjectBackend for Folder {
    async fn partial_len(&self, sha: Digest, uploader: &str) -> io::Result<u64> {
        self.0.partial_len(sha, uploader)
    }

    async fn append(
        &self,
        sha: Digest,
        uploader: &str,
        offset: u64,
        bytes: Bytes,
    ) -> io::Result<u64> {
        let uploader = uploader.to_owned();
        self.blocking(move |f| f.append(sha, &uploader, offset, &bytes))
            .await
    }

    async fn finish(&self, sha: Digest, uploader: &str) -> io::Result<Finish> {
        let uploader = uploader.to_owned();
        self.blocking(move |f| f.finish(sha, &uploader)).await
    }

    async fn discard_partial(&self, sha: Digest, uploader: &str) -> io::Result<()> {
        self.0.discard_partial(sha, uploader)
    }

    async fn stream(&self, sha: Digest) -> io::Result<(u64, ByteStream)> {
        use tokio::io::AsyncReadExt;
        let file = tokio::fs::File::open(self.0.final_path(sha)).await?;
        let size = file.metadata().await?.len();
        let chunks = futures_util::stream::try_unfold(file, |mut file| async move {
            let mut buf = vec![0u8; 64 * 1024];
            let n = file.read(&mut buf).await?;
            buf.truncate(n);
            Ok::<_, io::Error>((n > 0).then(|| (Bytes::from(buf), file)))
        });
        Ok((size, Box::pin(chunks)))
    }

    fn read_blocking(&self, sha: Digest) -> io::Result<Vec<u8>> {
        self.0.read(sha)
    }

    fn is_intact_blocking(&self, sha: Digest) -> io::Result<bool> {
        self.0.final_is_intact(sha)
    }
}

/// Partial files of the layout before per-uploader sessions (`partial/<hex>.part`, shared by every
/// uploader): their sessions are gone (migration 0006), the phones send those files again.
fn remove_shared_partials(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(hex) = name.strip_suffix(".part")
            && hex.len() == 64
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// The file's SHA-256 and its first [`SNIFF_BYTES`] bytes.
fn hash_file(path: &Path) -> io::Result<(Digest, Vec<u8>)> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let take = (SNIFF_BYTES - head.len()).min(n);
        head.extend_from_slice(&buf[..take]);
        hasher.update(&buf[..n]);
    }
    Ok((Digest(hasher.finalize().into()), head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_drops_shared_partials_of_the_old_layout_and_keeps_uploader_sessions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sha = Digest::of(b"x");
        let partial = dir.path().join("partial");
        fs::create_dir_all(&partial).expect("mkdir");
        fs::write(partial.join(format!("{sha}.part")), b"old").expect("old layout");
        let files = FileStore::open(dir.path()).expect("open");
        assert!(
            !partial.join(format!("{sha}.part")).exists(),
            "a shared partial file has no session any more"
        );
        files.append(sha, "device-1", 0, b"x").expect("append");
        drop(files);
        let files = FileStore::open(dir.path()).expect("reopen");
        assert_eq!(
            files.partial_len(sha, "device-1").expect("len"),
            1,
            "an uploader's own partial file survives a restart"
        );
        assert_eq!(
            files.finish(sha, "device-1").expect("finish"),
            Finish::Stored {
                mime: "application/octet-stream"
            }
        );
        assert_eq!(
            files.partial_len(sha, "device-1").expect("len"),
            1,
            "kept until the caller has committed"
        );
        files.discard_partial(sha, "device-1").expect("discard");
        assert_eq!(files.read(sha).expect("read"), b"x");
    }
}
