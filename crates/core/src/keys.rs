//! Where the device's Ed25519 signing key lives: never in the database (docs/evidence.md, "Keys").
//! Whoever copies a phone's database gets its records but cannot sign new ones as that phone, nor
//! re-sign edited ones.
//!
//! - Android and iOS: the platform keystore, through the keyring ecosystem (`keyring-core` with
//!   `android-native-keyring-store`, which encrypts with a key held by the Android Keystore, or
//!   `apple-native-keyring-store`'s protected data store, which never syncs to iCloud).
//! - Desktop (support tools, the simulator, development): an owner-only file beside the database,
//!   `<db>.keys/<device id>.key` (folder 0700, file 0600); a key file that others may read is
//!   refused rather than used.

use ed25519_dalek::SigningKey;
use heatcrew_protocol::ErrorCode;
use std::fmt;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Keeps device signing keys, one per device id.
pub trait KeyVault: Send + Sync + fmt::Debug {
    /// The key of `device_id`, or None if this vault does not hold one.
    fn load(&self, device_id: Uuid) -> Result<Option<SigningKey>, KeyError>;
    /// Keep `key` as `device_id`'s, durably. Storing the same key again is fine; a different key
    /// for the same device is refused (a key is never replaced: events signed with it would no
    /// longer verify against what the office enrolled).
    fn store(&self, device_id: Uuid, key: &SigningKey) -> Result<(), KeyError>;
    /// Where the keys are, for messages.
    fn location(&self) -> String;
}

/// Why a device key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the signing key of device {device_id} is not in {location}: a database copied without its key cannot record (check it read-only with `heatcrew-device verify`)"
    )]
    Missing { device_id: Uuid, location: String },
    #[error(
        "{path} can be read by others (mode {mode:o}): the device key must be owner-only; fix it with `chmod 700` on the folder and `chmod 600` on the file"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{location} holds a different key for device {device_id}; refusing to replace it")]
    Conflict { device_id: Uuid, location: String },
    #[error("{location}: not a HeatCrew device key: {detail}")]
    Malformed { location: String, detail: String },
    #[error("key vault {location}: {detail}")]
    Unavailable { location: String, detail: String },
}

impl KeyError {
    pub fn code(&self) -> ErrorCode {
        match self {
            KeyError::Missing { .. } => ErrorCode::DeviceKeyMissing,
            KeyError::TooOpen { .. } => ErrorCode::DeviceKeyExposed,
            KeyError::Conflict { .. } => ErrorCode::DeviceKeyConflict,
            KeyError::Malformed { .. } => ErrorCode::DeviceKeyMalformed,
            KeyError::Unavailable { .. } => ErrorCode::DeviceKeyUnavailable,
        }
    }
}

/// The vault this platform uses for the database at `db`.
pub fn default_vault(db: &Path) -> Box<dyn KeyVault> {
    #[cfg(any(target_os = "android", target_os = "ios"))]
    {
        let _ = db;
        Box::new(keystore::KeystoreVault)
    }
    #[cfg(not(any(target_os = "android", target_os = "ios")))]
    {
        Box::new(FileVault::beside(db))
    }
}

/// The first line of a key file: what it is, so that no other file is mistaken for one.
const KEY_FILE_TAG: &str = "heatcrew.device-key.v1";

/// Owner-only key files in a folder: `<dir>/<device id>.key`, holding the tag, the device id and
/// the 32-byte secret in hex, one per line.
#[derive(Debug, Clone)]
pub struct FileVault {
    dir: PathBuf,
}

impl FileVault {
    pub fn new(dir: impl Into<PathBuf>) -> FileVault {
        FileVault { dir: dir.into() }
    }

    /// `<db>.keys/`, beside the database.
    pub fn beside(db: &Path) -> FileVault {
        let mut dir = db.as_os_str().to_owned();
        dir.push(".keys");
        FileVault::new(PathBuf::from(dir))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, device_id: Uuid) -> PathBuf {
        self.dir.join(format!("{device_id}.key"))
    }

    fn malformed(&self, path: &Path, detail: &str) -> KeyError {
        KeyError::Malformed {
            location: path.display().to_string(),
            detail: detail.to_owned(),
        }
    }

    fn unavailable(&self, e: std::io::Error) -> KeyError {
        KeyError::Unavailable {
            location: self.dir.display().to_string(),
            detail: e.to_string(),
        }
    }
}

impl KeyVault for FileVault {
    fn load(&self, device_id: Uuid) -> Result<Option<SigningKey>, KeyError> {
        let path = self.path(device_id);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.unavailable(e)),
        };
        if !meta.is_file() {
            return Err(self.malformed(&path, "not a regular file"));
        }
        owner_only(
            &self.dir,
            &std::fs::metadata(&self.dir).map_err(|e| self.unavailable(e))?,
        )?;
        owner_only(&path, &meta)?;
        let text = std::fs::read_to_string(&path).map_err(|e| self.unavailable(e))?;
        let mut lines = text.lines();
        if lines.next() != Some(KEY_FILE_TAG) {
            return Err(self.malformed(&path, "wrong first line"));
        }
        if lines.next() != Some(device_id.to_string().as_str()) {
            return Err(self.malformed(&path, "it belongs to another device"));
        }
        let mut secret = [0u8; 32];
        lines
            .next()
            .and_then(|h| hex::decode_to_slice(h, &mut secret).ok())
            .ok_or_else(|| self.malformed(&path, "want 64 hex characters on the third line"))?;
        Ok(Some(SigningKey::from_bytes(&secret)))
    }

    fn store(&self, device_id: Uuid, key: &SigningKey) -> Result<(), KeyError> {
        match self.load(device_id)? {
            Some(known) if known.to_bytes() == key.to_bytes() => return Ok(()),
            Some(_) => {
                return Err(KeyError::Conflict {
                    device_id,
                    location: self.location(),
                });
            }
            None => {}
        }
        create_private_dir(&self.dir).map_err(|e| self.unavailable(e))?;
        owner_only(
            &self.dir,
            &std::fs::metadata(&self.dir).map_err(|e| self.unavailable(e))?,
        )?;
        let text = format!(
            "{KEY_FILE_TAG}\n{device_id}\n{}\n",
            hex::encode(key.to_bytes())
        );
        write_private_file(&self.dir, &self.path(device_id), text.as_bytes())
            .map_err(|e| self.unavailable(e))
    }

    fn location(&self) -> String {
        self.dir.display().to_string()
    }
}

#[cfg(unix)]
fn owner_only(path: &Path, meta: &std::fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), KeyError> {
    // Windows: the file inherits the ACL of the user's profile folder the app data lives in.
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Write to a temporary owner-only file, fsync, rename into place, fsync the folder: the key is
/// whole on disk before the database refers to it.
fn write_private_file(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(format!(".key.{}.tmp", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The platform keystore on phones. Only built for Android and iOS (it cannot be tried on a
/// desktop build; the desktop vault shares the [`KeyVault`] contract tested in `tests/core`).
#[cfg(any(target_os = "android", target_os = "ios"))]
mod keystore {
    use super::{KeyError, KeyVault};
    use ed25519_dalek::SigningKey;
    use heatcrew_protocol::ErrorCode;
    use keyring_core::{CredentialStore, Entry};
    use std::sync::Arc;
    use uuid::Uuid;

    /// Keyring service name of device keys; the user name is the device id.
    const SERVICE: &str = "heatcrew.device-key";

    #[derive(Debug)]
    pub struct KeystoreVault;

    fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
        #[cfg(target_os = "android")]
        let store: Arc<CredentialStore> = android_native_keyring_store::Store::new()?;
        #[cfg(target_os = "ios")]
        let store: Arc<CredentialStore> = apple_native_keyring_store::protected::Store::new()?;
        Ok(store)
    }

    fn unavailable(e: keyring_core::Error) -> KeyError {
        KeyError::Unavailable {
            location: "the platform keystore".into(),
            detail: e.to_string(),
        }
    }

    fn entry(device_id: Uuid) -> Result<Entry, KeyError> {
        let store = platform_store().map_err(unavailable)?;
        Entry::new_in_store(&store, SERVICE, &device_id.to_string()).map_err(unavailable)
    }

    impl KeyVault for KeystoreVault {
        fn load(&self, device_id: Uuid) -> Result<Option<SigningKey>, KeyError> {
            match entry(device_id)?.get_secret() {
                Ok(secret) => {
                    let secret: [u8; 32] = secret.try_into().map_err(|_| KeyError::Malformed {
                        location: self.location(),
                        detail: "want 32 bytes".into(),
                    })?;
                    Ok(Some(SigningKey::from_bytes(&secret)))
                }
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(e) => Err(unavailable(e)),
            }
        }

        fn store(&self, device_id: Uuid, key: &SigningKey) -> Result<(), KeyError> {
            match self.load(device_id)? {
                Some(known) if known.to_bytes() == key.to_bytes() => Ok(()),
                Some(_) => Err(KeyError::Conflict {
                    device_id,
                    location: self.location(),
                }),
                None => entry(device_id)?
                    .set_secret(&key.to_bytes())
                    .map_err(unavailable),
            }
        }

        fn location(&self) -> String {
            "the platform keystore".into()
        }
    }
}
