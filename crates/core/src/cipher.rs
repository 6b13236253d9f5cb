//! The device database encrypted at rest (SQLCipher, through rusqlite's `bundled-sqlcipher`): a copy
//! of the file, its write-ahead log or its shared-memory index reveals no customer, phone, address
//! or token (docs/design.md, "Device storage").
//!
//! The key is 32 random bytes made on first open and kept in the key vault next to the signing key
//! ([`crate::keys`]: the platform keystore on phones, an owner-only file on desktop), never in or
//! beside the database in clear. It is applied as a raw key (`x'…'`), so opening costs no key
//! derivation.
//!
//! A database written before encryption is converted in place on first open ([`encrypt_in_place`]):
//! its write-ahead log merged and removed, an encrypted copy written with `sqlcipher_export` to
//! `<db>.encrypting`, made durable, and renamed over the original. A crash at any point leaves
//! either the plain database (converted again on the next open, with the same key) or the
//! encrypted one; the leftover copy is removed.

use crate::error::{CoreError, Result};
use crate::keys::{KeyError, KeyVault, Secret};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// What every plain SQLite database file starts with. An encrypted one starts with its random salt.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The length of a database key.
pub const KEY_BYTES: usize = 32;

/// Why an encrypted database cannot be opened. Nothing was written to it.
#[derive(Debug, thiserror::Error)]
pub enum LockedError {
    #[error(
        "{path} is encrypted and its key is not in {location}: a database copied without its key cannot be read"
    )]
    KeyMissing { path: PathBuf, location: String },
    #[error(
        "the key in {location} does not open {path} (another device's key, or not a HeatCrew database); nothing was changed"
    )]
    WrongKey { path: PathBuf, location: String },
}

/// A database key, wiped from memory when dropped.
pub type DatabaseKey = Zeroizing<[u8; KEY_BYTES]>;

/// The database key kept in `vault`, if any.
pub fn load_key(vault: &dyn KeyVault) -> Result<Option<DatabaseKey>> {
    let Some(bytes) = vault.load_secret(Secret::DatabaseKey)? else {
        return Ok(None);
    };
    let key: [u8; KEY_BYTES] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| KeyError::Malformed {
            location: vault.location(),
            detail: format!("the database key is not {KEY_BYTES} bytes"),
        })?;
    Ok(Some(Zeroizing::new(key)))
}

/// The key of `vault`, or a new random one stored there (durably, and read back) first.
fn key_or_create(vault: &dyn KeyVault) -> Result<DatabaseKey> {
    if let Some(key) = load_key(vault)? {
        return Ok(key);
    }
    let mut key = Zeroizing::new([0u8; KEY_BYTES]);
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, key.as_mut_slice());
    vault.store_secret(Secret::DatabaseKey, key.as_slice())?;
    match load_key(vault)? {
        Some(stored) if *stored == *key => Ok(key),
        _ => Err(KeyError::Unavailable {
            location: vault.location(),
            detail: "the new database key did not read back".into(),
        }
        .into()),
    }
}

/// Does the file at `path` hold a plain (unencrypted) SQLite database?
pub fn is_plain(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    let mut f = std::fs::File::open(path)?;
    let mut read = 0;
    while read < header.len() {
        match f.read(&mut header[read..])? {
            0 => return Ok(false),
            n => read += n,
        }
    }
    Ok(&header == PLAIN_HEADER)
}

/// `PRAGMA key` (or `ATTACH … KEY`) text for a raw key: `x'<64 hex>'`.
fn key_literal(key: &DatabaseKey) -> Zeroizing<String> {
    Zeroizing::new(format!("x'{}'", hex::encode(key.as_slice())))
}

/// Apply `key` to a freshly opened connection and prove it reads the file. A wrong key fails here,
/// before anything is written.
pub(crate) fn apply_key(
    conn: &Connection,
    key: &DatabaseKey,
    path: &Path,
    location: &str,
) -> Result<()> {
    conn.pragma_update(None, "key", key_literal(key).as_str())?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(LockedError::WrongKey {
                path: path.to_owned(),
                location: location.to_owned(),
            }
            .into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Open the device database at `path` for reading and writing, encrypted with the key in `vault`:
/// a new database gets a new key; a plain one is converted first ([`encrypt_in_place`]); an
/// encrypted one without its key in `vault`, or with another key there, is refused untouched.
pub fn open(path: &Path, vault: &dyn KeyVault) -> Result<Connection> {
    encrypt_in_place(path, vault, &mut |_| {})?;
    let key = match load_key(vault)? {
        Some(key) => key,
        None if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) => {
            return Err(LockedError::KeyMissing {
                path: path.to_owned(),
                location: vault.location(),
            }
            .into());
        }
        None => key_or_create(vault)?,
    };
    let conn = Connection::open(path)?;
    apply_key(&conn, &key, path, &vault.location())?;
    Ok(conn)
}

/// Open `path` read-only with the key in `vault` (or none, for a plain database): for tests and
/// support tools that look at a database without going through the store.
pub fn open_read_only(path: &Path, vault: &dyn KeyVault) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    if !is_plain(path)? {
        let key = load_key(vault)?.ok_or_else(|| LockedError::KeyMissing {
            path: path.to_owned(),
            location: vault.location(),
        })?;
        apply_key(&conn, &key, path, &vault.location())?;
    }
    Ok(conn)
}

/// The steps of [`encrypt_in_place`], named for the crash tests (which stop the process at each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The key is in the vault; nothing else changed yet.
    KeyStored,
    /// The write-ahead log was merged and removed: the plain database is one file.
    LogMerged,
    /// The encrypted copy is written and durable at `<db>.encrypting`.
    CopyWritten,
    /// The copy replaced the database (the folder is made durable next).
    Renamed,
    /// Done: the plain bytes left behind in the replaced file were overwritten.
    Wiped,
}

/// `<db>.encrypting`: the encrypted copy before it replaces the database.
pub fn copy_path(path: &Path) -> PathBuf {
    sibling(path, ".encrypting")
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Convert a plain database at `path` to an encrypted one, in place; do nothing if it is missing,
/// empty or already encrypted. `at(step)` is called after each [`Step`].
pub fn encrypt_in_place(
    path: &Path,
    vault: &dyn KeyVault,
    at: &mut dyn FnMut(Step),
) -> Result<bool> {
    let copy = copy_path(path);
    // A copy left by a conversion that stopped before the rename: the plain database is intact.
    match std::fs::remove_file(&copy) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    match is_plain(path) {
        Ok(true) => {}
        Ok(false) => return Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    // The key is durable before any encrypted byte exists: no crash can leave a file without it.
    let key = key_or_create(vault)?;
    at(Step::KeyStored);

    let plain = Connection::open(path)?;
    plain.busy_timeout(std::time::Duration::from_secs(10))?;
    // Merge the log into the file and leave WAL mode, which removes `-wal` and `-shm`: their plain
    // frames must not survive beside the encrypted file (SQLite would replay them into it).
    plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let mode: String = plain.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(CoreError::Corrupt(format!(
            "{} stays in journal mode {mode}; close other programs using it",
            path.display()
        )));
    }
    at(Step::LogMerged);

    let version: i64 = plain.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    plain.execute(
        "ATTACH DATABASE ?1 AS encrypted KEY ?2",
        rusqlite::params![copy.to_string_lossy(), key_literal(&key).as_str()],
    )?;
    plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
    plain.pragma_update(Some("encrypted"), "user_version", version)?;
    plain.execute_batch("DETACH DATABASE encrypted")?;
    std::fs::File::open(&copy)?.sync_all()?;
    at(Step::CopyWritten);

    // Keep the plain file open across the rename, to overwrite its bytes once nothing names it.
    let old = std::fs::OpenOptions::new().write(true).open(path)?;
    drop(plain);
    std::fs::rename(&copy, path)?;
    at(Step::Renamed);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    wipe_unlinked(old)?;
    at(Step::Wiped);
    Ok(true)
}

/// Overwrite the plain database's old bytes with zeros once no name refers to them (a hard link
/// elsewhere would: then they are someone's copy, left alone).
fn wipe_unlinked(old: std::fs::File) -> Result<()> {
    #[cfg(unix)]
    {
        use std::io::{Seek, Write};
        use std::os::unix::fs::MetadataExt;
        let meta = old.metadata()?;
        if meta.nlink() != 0 {
            return Ok(());
        }
        let mut old = old;
        old.seek(std::io::SeekFrom::Start(0))?;
        let zeros = vec![0u8; 64 * 1024];
        let mut left = meta.len();
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            old.write_all(&zeros[..n])?;
            left -= n as u64;
        }
        old.sync_all()?;
    }
    #[cfg(not(unix))]
    drop(old);
    Ok(())
}
