//! Content-addressed file storage for photos and signatures on the device.
//!
//! A file is written to a temporary name, fsynced, renamed to its SHA-256 and the folder fsynced,
//! all before the event that references it commits. A crash in between leaves at most an orphan
//! file, which [`FileStore::remove_orphans`] deletes once it is old enough not to be a form still
//! being filled in.

use heatcrew_protocol::Digest;
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<FileStore> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(FileStore { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, sha: &Digest) -> PathBuf {
        self.dir.join(sha.to_hex())
    }

    pub fn contains(&self, sha: &Digest) -> bool {
        self.path(sha).is_file()
    }

    /// Store bytes durably under their SHA-256; a file already there is kept as it is.
    pub fn put(&self, bytes: &[u8]) -> io::Result<Digest> {
        let sha = Digest::of(bytes);
        if !self.path(&sha).is_file() {
            write_durably(&self.dir, &sha.to_hex(), bytes)?;
        }
        Ok(sha)
    }

    /// Store bytes durably as `dir/name` (a camera capture waiting to be processed), replacing
    /// what was there.
    pub fn put_named(&self, dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        write_durably(dir, name, bytes)
    }

    pub fn read(&self, sha: &Digest) -> io::Result<Vec<u8>> {
        fs::read(self.path(sha))
    }

    fn thumb_dir(&self) -> PathBuf {
        self.dir.join("thumbs")
    }

    /// Store the thumbnail of a stored file (same durability steps; thumbnails can be rebuilt, but
    /// a torn one must never be shown).
    pub fn put_thumbnail(&self, of: &Digest, bytes: &[u8]) -> io::Result<()> {
        let dir = self.thumb_dir();
        fs::create_dir_all(&dir)?;
        write_durably(&dir, &of.to_hex(), bytes)
    }

    pub fn read_thumbnail(&self, of: &Digest) -> io::Result<Vec<u8>> {
        fs::read(self.thumb_dir().join(of.to_hex()))
    }

    /// Delete files no event refers to that are older than `min_age`, and leftover temp files.
    /// Returns how many were removed.
    pub fn remove_orphans(
        &self,
        referenced: &HashSet<Digest>,
        min_age: Duration,
    ) -> io::Result<usize> {
        let now = SystemTime::now();
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                continue;
            }
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let is_tmp = name.starts_with('.') && name.ends_with(".tmp");
            let unreferenced = name
                .parse::<Digest>()
                .is_ok_and(|sha| !referenced.contains(&sha));
            if !(is_tmp || unreferenced) {
                continue;
            }
            let age = entry
                .metadata()?
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .unwrap_or_default();
            if age >= min_age {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        // Thumbnails whose photo is gone.
        if let Ok(thumbs) = fs::read_dir(self.thumb_dir()) {
            for entry in thumbs.flatten() {
                let name = entry.file_name();
                let orphan = name
                    .to_string_lossy()
                    .parse::<Digest>()
                    .is_ok_and(|sha| !self.contains(&sha));
                if orphan {
                    fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// Write to a temporary name, fsync, rename to `name`, fsync the folder: after this returns the
/// file survives a crash whole, and a crash before it leaves at most a temp file to clean up.
fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(name))?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
