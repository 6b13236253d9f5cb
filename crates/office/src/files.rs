//! The attachment folder: content-addressed files under `sha256/ab/<hex>`, uploads in progress under
//! `partial/<hex>.<uploader>.part`, one per uploader (a device, or a staff user without one), so no
//! uploader can touch another's upload. A file is written, fsynced, hash-checked and linked into
//! place (and the folder fsynced) before the database row that counts it commits, so a counted file
//! always exists; the partial file goes only after that commit, so a stop in between is finished
//! by checking the partial file again.

use heatcrew_protocol::Digest;
use sha2::{Digest as _, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const LOCK_STRIPES: usize = 64;

#[derive(Debug)]
pub struct FileStore {
    root: PathBuf,
    /// Serialises writes to one upload (striped by the first hash byte).
    locks: Vec<tokio::sync::Mutex<()>>,
}

/// How an upload's last chunk ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Finish {
    /// The bytes hash to the announced SHA-256; the file is in place.
    Stored,
    /// They do not; the partial file was discarded.
    HashMismatch { actual: Digest },
}

impl FileStore {
    pub fn open(root: &Path) -> io::Result<FileStore> {
        fs::create_dir_all(root.join("partial"))?;
        fs::create_dir_all(root.join("sha256"))?;
        remove_shared_partials(&root.join("partial"))?;
        Ok(FileStore {
            root: root.to_path_buf(),
            locks: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        })
    }

    /// The folder at `root` as it is, creating nothing (for checking it).
    pub fn existing(root: &Path) -> FileStore {
        FileStore {
            root: root.to_path_buf(),
            locks: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    pub fn lock_for(&self, sha: Digest) -> &tokio::sync::Mutex<()> {
        &self.locks[sha.0[0] as usize % LOCK_STRIPES]
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
        let actual = hash_file(&partial)?;
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
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(Finish::Stored),
            // A file system without hard links: copy beside, fsync, rename into place.
            Err(_) => {
                let tmp = dir.join(format!("{sha}.{uploader}.tmp"));
                fs::copy(&partial, &tmp)?;
                File::open(&tmp)?.sync_all()?;
                fs::rename(&tmp, &dest)?;
            }
        }
        File::open(dir)?.sync_all()?;
        Ok(Finish::Stored)
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
        Ok(hash_file(&self.final_path(sha))? == sha)
    }

    pub fn read(&self, sha: Digest) -> io::Result<Vec<u8>> {
        fs::read(self.final_path(sha))
    }

    /// The type a stored file is served as ([`served_type`] of its first bytes).
    pub fn served_type_of(&self, sha: Digest) -> io::Result<&'static str> {
        let mut head = Vec::with_capacity(16);
        File::open(self.final_path(sha))?
            .take(16)
            .read_to_end(&mut head)?;
        Ok(served_type(&head).0)
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

fn hash_file(path: &Path) -> io::Result<Digest> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Digest(hasher.finalize().into()))
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
            Finish::Stored
        );
        assert_eq!(
            files.partial_len(sha, "device-1").expect("len"),
            1,
            "kept until the caller has committed"
        );
        files.discard_partial(sha, "device-1").expect("discard");
        assert_eq!(files.read(sha).expect("read"), b"x");
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
