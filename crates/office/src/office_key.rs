//! The office's Ed25519 signing key (`docs/evidence.md`, "Receipts"): it signs every receipt and
//! tree head. It lives in its own owner-only file next to the database (`<db>.office-key`), never
//! in the database, so a copy of the database cannot sign. The database records the key's public
//! half (meta `office_public_key`), so a swapped or lost key file is noticed at start instead of
//! silently signing under a new identity.
//!
//! The file holds the 32-byte secret as 64 lowercase hex characters and a line feed. It is created
//! on the first start of a new database with mode 0600; a file readable by others, or anything else
//! in it, is refused.

use crate::store::MetaStore;
use ed25519_dalek::SigningKey;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The meta key under which the database records the office's public key (hex).
pub const META_PUBLIC_KEY: &str = "office_public_key";

/// Why the office key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OfficeKeyError {
    #[error(
        "the office key file {path} is missing, but this database's receipts were signed by the office key {public_key}: \
         restore the key file from the office's backup (a copied database cannot sign without it)"
    )]
    Missing { path: PathBuf, public_key: String },
    #[error(
        "the office key file {path} holds the key {found}, but this database belongs to the office key {expected}: \
         restore the right key file (signing with another key would make earlier receipts unverifiable)"
    )]
    Mismatch {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error(
        "the office key file {path} is readable by others (mode {mode:o}): run `chmod 600 {path}` and check who copied it"
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error(
        "the office key file {path} is malformed: it must hold 64 lowercase hex characters and a line feed"
    )]
    Malformed { path: PathBuf },
    #[error("the office key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Where the key of the database at `db` lives by default: `<db>.office-key`.
pub fn default_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".office-key");
    PathBuf::from(p)
}

/// Load the office key from `path`, or create it if this database never had one; check that it is
/// the key the database was signed with.
///
/// Several processes may start on one new database at once, each with its own copy of the path
/// (docs/deploy.md asks for the same key file everywhere; a new deployment may not have it yet).
/// The database's record of the public key is claimed, not overwritten: the first key recorded is
/// the office's, and a process that created another one removes it (it signed nothing) and stops
/// with [`OfficeKeyError::Missing`], naming the key to copy. Processes sharing one path read the
/// key one of them created.
pub fn load_or_create(path: &Path, meta: &dyn MetaStore) -> Result<SigningKey, OfficeKeyError> {
    let recorded = meta.meta(META_PUBLIC_KEY)?;
    let (key, created) = match read(path)? {
        Some(key) => (key, false),
        None => match recorded {
            Some(public_key) => {
                return Err(OfficeKeyError::Missing {
                    path: path.to_owned(),
                    public_key,
                });
            }
            None => create(path)?,
        },
    };
    let public = hex::encode(key.verifying_key().as_bytes());
    let expected = match recorded {
        Some(recorded) => recorded,
        None => meta.claim_meta(META_PUBLIC_KEY, &public)?,
    };
    if expected == public {
        return Ok(key);
    }
    if created {
        // Another process's key was recorded first: this one never signed anything.
        let _ = fs::remove_file(path);
        return Err(OfficeKeyError::Missing {
            path: path.to_owned(),
            public_key: expected,
        });
    }
    Err(OfficeKeyError::Mismatch {
        path: path.to_owned(),
        found: public,
        expected,
    })
}

/// Load the office key from `path` for signing what the office already holds (an export): the
/// file must exist and be the key the database was signed with; nothing is created or recorded.
pub fn load_existing(path: &Path, meta: &dyn MetaStore) -> Result<SigningKey, OfficeKeyError> {
    let recorded = meta.meta(META_PUBLIC_KEY)?;
    let Some(key) = read(path)? else {
        return Err(OfficeKeyError::Missing {
            path: path.to_owned(),
            public_key: recorded.unwrap_or_else(|| "(none recorded yet)".into()),
        });
    };
    let public = hex::encode(key.verifying_key().as_bytes());
    match recorded {
        Some(expected) if expected != public => Err(OfficeKeyError::Mismatch {
            path: path.to_owned(),
            found: public,
            expected,
        }),
        _ => Ok(key),
    }
}

/// The key in `path`, or `None` if there is no such file.
pub fn read(path: &Path) -> Result<Option<SigningKey>, OfficeKeyError> {
    let io = |source| OfficeKeyError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(OfficeKeyError::Exposed {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = fs::read(path).map_err(io)?;
    let malformed = || OfficeKeyError::Malformed {
        path: path.to_owned(),
    };
    let hex_part = text.strip_suffix(b"\n").ok_or_else(malformed)?;
    if hex_part.len() != 64 || hex_part.iter().any(|b| b.is_ascii_uppercase()) {
        return Err(malformed());
    }
    let mut secret = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut secret).map_err(|_| malformed())?;
    Ok(Some(SigningKey::from_bytes(&secret)))
}

/// Generate a key into a new owner-only file (never overwriting one), synced to disk; whether this
/// call created it. The file appears whole (written and synced under a temporary name, then
/// linked to `path`, which fails if `path` exists), so a process starting beside this one reads
/// either no file or the whole key; if another process's file appeared first, that key is read.
fn create(path: &Path) -> Result<(SigningKey, bool), OfficeKeyError> {
    let io = |source| OfficeKeyError::Io {
        path: path.to_owned(),
        source,
    };
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let mut temp_name = path.as_os_str().to_owned();
    temp_name.push(format!(".new-{}", uuid::Uuid::new_v4().simple()));
    let temp = PathBuf::from(temp_name);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut f| {
        f.write_all(format!("{}\n", hex::encode(key.to_bytes())).as_bytes())?;
        f.sync_all()
    });
    let linked = written.and_then(|()| fs::hard_link(&temp, path));
    let _ = fs::remove_file(&temp);
    let created = match linked {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(io(e)),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    if !created {
        let theirs = read(path)?.ok_or_else(|| OfficeKeyError::Malformed {
            path: path.to_owned(),
        })?;
        return Ok((theirs, false));
    }
    tracing::info!(path = %path.display(), public_key = %hex::encode(key.verifying_key().as_bytes()), "created the office signing key");
    Ok((key, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    fn setup() -> (tempfile::TempDir, SqliteStore, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("office.db");
        let store = SqliteStore::open(&db).expect("store");
        let key = default_path(&db);
        (dir, store, key)
    }

    #[test]
    fn the_first_start_creates_an_owner_only_key_and_later_starts_load_it() {
        let (_dir, store, path) = setup();
        let key = load_or_create(&path, &store).expect("create");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "only the office's user may read its key");
        }
        assert_eq!(
            store.meta(META_PUBLIC_KEY).expect("meta"),
            Some(hex::encode(key.verifying_key().as_bytes())),
            "the database records whose key signs for it"
        );
        let again = load_or_create(&path, &store).expect("load");
        assert_eq!(
            again.to_bytes(),
            key.to_bytes(),
            "a restart signs with the same key"
        );
        let in_db = store
            .with_connection(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM meta WHERE value LIKE ?1",
                    [format!("%{}%", hex::encode(key.to_bytes()))],
                    |r| r.get::<_, i64>(0),
                )
            })
            .expect("query");
        assert_eq!(in_db, 0, "the secret never sits in the database");
    }

    #[test]
    fn a_missing_swapped_exposed_or_malformed_key_file_is_refused() {
        let (_dir, store, path) = setup();
        load_or_create(&path, &store).expect("create");
        let original = fs::read(&path).expect("read");

        fs::remove_file(&path).expect("remove");
        assert!(
            matches!(
                load_or_create(&path, &store),
                Err(OfficeKeyError::Missing { .. })
            ),
            "a database whose key is gone must not quietly get a new one"
        );
        assert!(!path.exists(), "and no new key file is made");

        let other = SigningKey::from_bytes(&[7; 32]);
        write_private(
            &path,
            format!("{}\n", hex::encode(other.to_bytes())).as_bytes(),
        );
        assert!(
            matches!(
                load_or_create(&path, &store),
                Err(OfficeKeyError::Mismatch { .. })
            ),
            "another office's key is not this office's"
        );

        write_private(&path, b"not a key\n");
        assert!(
            matches!(
                load_or_create(&path, &store),
                Err(OfficeKeyError::Malformed { .. })
            ),
            "garbage is refused with a clear error"
        );
        let upper = String::from_utf8(original.clone())
            .expect("text")
            .to_uppercase();
        write_private(&path, upper.as_bytes());
        assert!(
            matches!(
                load_or_create(&path, &store),
                Err(OfficeKeyError::Malformed { .. })
            ),
            "one spelling only"
        );

        write_private(&path, &original);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
            assert!(
                matches!(
                    load_or_create(&path, &store),
                    Err(OfficeKeyError::Exposed { mode: 0o644, .. })
                ),
                "a key others can read may already be copied"
            );
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        load_or_create(&path, &store).expect("the right key, owner-only, loads again");
    }

    #[test]
    fn processes_starting_together_on_a_new_database_agree_on_one_key() {
        let (dir, store, shared) = setup();
        const PROCESSES: usize = 8;
        // Each with a key file of its own (one per machine): exactly one key becomes the office's.
        let barrier = std::sync::Barrier::new(PROCESSES);
        let paths: Vec<PathBuf> = (0..PROCESSES)
            .map(|i| dir.path().join(format!("machine-{i}.office-key")))
            .collect();
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = paths
                .iter()
                .map(|path| {
                    let (barrier, store) = (&barrier, &store);
                    scope.spawn(move || {
                        barrier.wait();
                        load_or_create(path, store)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let recorded = store
            .meta(META_PUBLIC_KEY)
            .expect("meta")
            .expect("recorded");
        let mut winners = 0;
        for (path, result) in paths.iter().zip(results) {
            match result {
                Ok(key) => {
                    winners += 1;
                    assert_eq!(hex::encode(key.verifying_key().as_bytes()), recorded);
                    assert!(path.exists(), "the office's key stays");
                }
                Err(OfficeKeyError::Missing { public_key, .. }) => {
                    assert_eq!(public_key, recorded, "the error names the key to copy");
                    assert!(
                        !path.exists(),
                        "the losing key, which signed nothing, is removed"
                    );
                }
                Err(other) => panic!("unexpected: {other}"),
            }
        }
        assert_eq!(
            winners, 1,
            "one key signs for the office, not the last one recorded"
        );

        // Sharing one path on a new database: every process reads the one key created.
        let (_dir2, store2, _) = setup();
        let keys: Vec<[u8; 32]> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..PROCESSES)
                .map(|_| {
                    let (barrier, store2, shared) = (&barrier, &store2, &shared);
                    scope.spawn(move || {
                        barrier.wait();
                        load_or_create(shared, store2).expect("loads").to_bytes()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "one key for all");
        let leftovers = fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".new-"))
            .count();
        assert_eq!(leftovers, 0, "no temporary key files left behind");
    }

    fn write_private(path: &Path, bytes: &[u8]) {
        let _ = fs::remove_file(path);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .expect("write");
    }
}
