//! The attachment folder: content-addressed files under `sha256/ab/<hex>`, uploads in progress under
//! `partial/<hex>.part`. A file is written, fsynced and renamed into place (and the folder fsynced)
//! before the database row that counts it commits, so a counted file always exists.

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

    fn partial_path(&self, sha: Digest) -> PathBuf {
        self.root.join("partial").join(format!("{sha}.part"))
    }

    pub fn final_path(&self, sha: Digest) -> PathBuf {
        let hex = sha.to_hex();
        self.root.join("sha256").join(&hex[..2]).join(hex)
    }

    /// Bytes of an upload in progress held so far.
    pub fn partial_len(&self, sha: Digest) -> io::Result<u64> {
        match fs::metadata(self.partial_path(sha)) {
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
    pub fn append(&self, sha: Digest, offset: u64, bytes: &[u8]) -> io::Result<u64> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.partial_path(sha))?;
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

    /// Hash the complete partial file; move it into place if it matches `sha`, else discard it.
    pub fn finish(&self, sha: Digest) -> io::Result<Finish> {
        let partial = self.partial_path(sha);
        let actual = hash_file(&partial)?;
        if actual != sha {
            fs::remove_file(&partial)?;
            return Ok(Finish::HashMismatch { actual });
        }
        File::open(&partial)?.sync_all()?;
        let dest = self.final_path(sha);
        let dir = dest.parent().expect("final path has a parent");
        fs::create_dir_all(dir)?;
        fs::rename(&partial, &dest)?;
        File::open(dir)?.sync_all()?;
        Ok(Finish::Stored)
    }

    /// Re-hash a file already in place (after a crash between rename and commit).
    pub fn final_is_intact(&self, sha: Digest) -> io::Result<bool> {
        Ok(hash_file(&self.final_path(sha))? == sha)
    }

    pub fn read(&self, sha: Digest) -> io::Result<Vec<u8>> {
        fs::read(self.final_path(sha))
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
