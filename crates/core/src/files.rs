//! Content-addressed file storage for photos and signatures on the device, sealed at rest.
//!
//! A file is written to a temporary name, fsynced, renamed to its SHA-256 and the folder fsynced,
//! all before the event that references it commits. A crash in between leaves at most an orphan
//! file, which [`FileStore::remove_orphans`] deletes once it is old enough not to be a form still
//! being filled in.
//!
//! Every file here (photos, signatures, their thumbnails, camera captures waiting to be processed)
//! is sealed with AES-256-GCM under a key derived from the database key ([`FileKey`]), so a copy
//! of `<db>.files/` shows no customer's home or signature, as a copy of the database shows no
//! name (docs/design.md, "Encrypted at rest"). A sealed file is `HCF1 || nonce (12) ||
//! ciphertext || tag (16)`, with its path under the folder as associated data: a file changed,
//! or moved to another name, does not open. Files written before sealing (plain) are sealed in
//! place when the store opens ([`FileStore::seal_plain_files`]); after that a plain file is refused.

use heatcrew_protocol::Digest;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Written once every file in the folder is sealed: later opens do not walk it again. Its name
/// starts with a dot, like temporary files, so no pass takes it for a photo.
pub const SEALED_MARKER: &str = ".sealed-v1";

/// What a sealed file starts with (a JPEG starts with FF D8, a PNG with 89 50 4E 47).
const MAGIC: &[u8; 4] = b"HCF1";
const TAG_LEN: usize = 16;

/// The key files are sealed with: HKDF-SHA256 of the database key, for this use only.
#[derive(Clone)]
pub struct FileKey(Arc<LessSafeKey>);

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKey(..)")
    }
}

impl FileKey {
    /// Derive the files' key from the database key: whoever can read the records can read their
    /// photos, and nobody else.
    pub fn derive(database_key: &[u8]) -> FileKey {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"heatcrew.device-files.v1");
        let prk = salt.extract(database_key);
        let okm = prk
            .expand(&[b"aes-256-gcm"], &AES_256_GCM)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        FileKey(Arc::new(LessSafeKey::new(UnboundKey::from(okm))))
    }

    /// `bytes` sealed for the file at `name` (its path under the files folder).
    pub fn seal(&self, name: &str, bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::RngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut nonce)
            .map_err(|e| io::Error::other(format!("no random nonce for {name}: {e}")))?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + bytes.len() + TAG_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(bytes);
        let tag = self
            .0
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                aad(name),
                &mut out[MAGIC.len() + NONCE_LEN..],
            )
            .map_err(|_| io::Error::other(format!("cannot seal {name}")))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// The bytes of the sealed file `name` holds in `sealed`; an error if it was changed, moved
    /// from another name, sealed with another key or is not sealed.
    pub fn open(&self, name: &str, mut sealed: Vec<u8>) -> io::Result<Vec<u8>> {
        if !is_sealed(&sealed) || sealed.len() < MAGIC.len() + NONCE_LEN + TAG_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{name} is not sealed: not written by this app, or written before sealing"),
            ));
        }
        let nonce: [u8; NONCE_LEN] = sealed[MAGIC.len()..MAGIC.len() + NONCE_LEN]
            .try_into()
            .expect("NONCE_LEN bytes");
        let len = self
            .0
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                aad(name),
                &mut sealed[MAGIC.len() + NONCE_LEN..],
            )
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{name} does not open: changed, moved from another name, or another device's"),
                )
            })?
            .len();
        sealed.drain(..MAGIC.len() + NONCE_LEN);
        sealed.truncate(len);
        Ok(sealed)
    }

    /// Read and open the sealed file at `path`, named `name` under its files folder.
    pub fn read(&self, path: &Path, name: &str) -> io::Result<Vec<u8>> {
        self.open(name, fs::read(path)?)
    }
}

fn aad(name: &str) -> Aad<Vec<u8>> {
    let mut a = b"heatcrew.file.v1\n".to_vec();
    a.extend_from_slice(name.as_bytes());
    Aad::from(a)
}

/// Whether `bytes` (a file's start) is a sealed file.
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    key: FileKey,
}

impl FileStore {
    /// The files folder `dir` (created if missing), sealed with `key`.
    pub fn open(dir: impl Into<PathBuf>, key: FileKey) -> io::Result<FileStore> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(FileStore { dir, key })
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
            let name = sha.to_hex();
            write_durably(&self.dir, &name, &self.key.seal(&name, bytes)?)?;
        }
        Ok(sha)
    }

    /// Store bytes durably as `dir/name` (a camera capture waiting to be processed; `dir` under
    /// the files folder), replacing what was there.
    pub fn put_named(&self, dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        let sealed = self.key.seal(&self.name_of(&dir.join(name)), bytes)?;
        write_durably(dir, name, &sealed)
    }

    /// What [`FileStore::put_named`] stored at `path`.
    pub fn read_named(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.key.read(path, &self.name_of(path))
    }

    /// The bytes stored under `sha` (checked against it: a file that opens but holds other bytes
    /// is an error too).
    pub fn read(&self, sha: &Digest) -> io::Result<Vec<u8>> {
        let bytes = self.key.read(&self.path(sha), &sha.to_hex())?;
        if Digest::of(&bytes) != *sha {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{sha} does not hold the bytes of that digest"),
            ));
        }
        Ok(bytes)
    }

    fn thumb_dir(&self) -> PathBuf {
        self.dir.join("thumbs")
    }

    /// Store the thumbnail of a stored file (same durability steps; thumbnails can be rebuilt, but
    /// a torn one must never be shown).
    pub fn put_thumbnail(&self, of: &Digest, bytes: &[u8]) -> io::Result<()> {
        let dir = self.thumb_dir();
        fs::create_dir_all(&dir)?;
        let sealed = self.key.seal(&format!("thumbs/{}", of.to_hex()), bytes)?;
        write_durably(&dir, &of.to_hex(), &sealed)
    }

    pub fn read_thumbnail(&self, of: &Digest) -> io::Result<Vec<u8>> {
        let name = format!("thumbs/{}", of.to_hex());
        self.key.read(&self.thumb_dir().join(of.to_hex()), &name)
    }

    /// `path`'s name under the files folder, `/`-separated: what its seal is bound to.
    fn name_of(&self, path: &Path) -> String {
        let relative = path.strip_prefix(&self.dir).unwrap_or(path);
        relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Seal every plain file in the folder and its subfolders (written before sealing), each in
    /// place: the sealed copy is written and synced under a temporary name and renamed over the
    /// plain one, whose bytes are then overwritten with zeros. A crash leaves each file plain or
    /// sealed, never torn; the next open seals what is left. Returns how many were sealed.
    /// Once a pass has found nothing plain left, a marker file ([`SEALED_MARKER`]) says so and
    /// later opens skip the walk (a phone with thousands of photos opens without reading each).
    pub fn seal_plain_files(&self) -> io::Result<usize> {
        if self.dir.join(SEALED_MARKER).is_file() {
            return Ok(0);
        }
        let mut sealed = 0;
        let mut folders = vec![self.dir.clone()];
        while let Some(folder) = folders.pop() {
            for entry in fs::read_dir(&folder)? {
                let entry = entry?;
                let path = entry.path();
                let file_type = entry.file_type()?;
                if file_type.is_dir() {
                    folders.push(path);
                    continue;
                }
                let file_name = entry.file_name().to_string_lossy().into_owned();
                if !file_type.is_file() || file_name.starts_with('.') {
                    continue; // temp files: removed as orphans
                }
                let mut start = Vec::with_capacity(MAGIC.len());
                io::Read::read_to_end(
                    &mut io::Read::take(File::open(&path)?, MAGIC.len() as u64),
                    &mut start,
                )?;
                if is_sealed(&start) {
                    continue;
                }
                let plain = fs::read(&path)?;
                let name = self.name_of(&path);
                // Held open across the rename, so the plain bytes can be overwritten after it.
                let mut old = OpenOptions::new().write(true).open(&path)?;
                write_durably(&folder, &file_name, &self.key.seal(&name, &plain)?)?;
                old.write_all(&vec![0u8; plain.len()])?;
                old.sync_all()?;
                sealed += 1;
            }
        }
        write_durably(&self.dir, SEALED_MARKER, b"every file here is sealed\n")?;
        Ok(sealed)
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
