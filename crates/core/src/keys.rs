//! Where the device's Ed25519 signing key lives: never in the database (docs/evidence.md, "Keys").
//! Whoever copies a phone's database gets its records but cannot sign new ones as that phone, nor
//! re-sign edited ones. The same vault keeps the database's own secrets ([`Secret`]): the key the
//! database is encrypted with ([`crate::cipher`]) and the office session's tokens.
//!
//! - Android and iOS: the platform keystore, through the keyring ecosystem (`keyring-core` with
//!   `android-native-keyring-store`, which encrypts with a key held by the Android Keystore, or
//!   `apple-native-keyring-store`'s protected data store, which never syncs to iCloud).
//! - Desktop (support tools, the simulator, development): an owner-only file beside the database,
//!   `<db>.keys/<device id>.key` (folder 0700, file 0600), and `<db>.keys/<secret>.secret` for the
//!   database's secrets; a key file that others may read is refused rather than used.

use ed25519_dalek::SigningKey;
use heatcrew_protocol::ErrorCode;
use std::fmt;
use std::path::{Path, PathBuf};
use uuid::Uuid;
use zeroize::Zeroizing;

/// A secret of one database, kept in its vault beside the device key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// The 32-byte key the database is encrypted with ([`crate::cipher`]). Never replaced.
    DatabaseKey,
    /// The office session's access and refresh tokens (`crate::sync::state`).
    Session,
}

impl Secret {
    /// Its name in the vault.
    pub fn name(self) -> &'static str {
        match self {
            Secret::DatabaseKey => "database-key",
            Secret::Session => "session",
        }
    }
}

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
    /// The database's secret `name`, or None if this vault does not hold it.
    fn load_secret(&self, name: Secret) -> Result<Option<Zeroizing<Vec<u8>>>, KeyError>;
    /// Keep `bytes` as the secret `name`, durably, replacing what was there.
    fn store_secret(&self, name: Secret, bytes: &[u8]) -> Result<(), KeyError>;
    /// Forget the secret `name` (nothing to do if it is not there).
    fn delete_secret(&self, name: Secret) -> Result<(), KeyError>;
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
        // The database's secrets are named after its file (the app keeps one database).
        let scope = db
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Box::new(keystore::KeystoreVault { scope })
    }
    #[cfg(not(any(target_os = "android", target_os = "ios")))]
    {
        Box::new(FileVault::beside(db))
    }
}

/// The first line of a key file: what it is, so that no other file is mistaken for one.
const KEY_FILE_TAG: &str = "heatcrew.device-key.v1";
/// The first line of a secret file; the second names the secret, the third is its bytes in hex.
const SECRET_FILE_TAG: &str = "heatcrew.secret.v1";

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

    /// `<dir>/<name>.secret`.
    pub fn secret_path(&self, name: Secret) -> PathBuf {
        self.dir.join(format!("{}.secret", name.name()))
    }

    /// The file at `path` if it is there, checked to be a regular, owner-only file in an
    /// owner-only folder.
    fn read_private(&self, path: &Path) -> Result<Option<Zeroizing<String>>, KeyError> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.unavailable(e)),
        };
        if !meta.is_file() {
            return Err(self.malformed(path, "not a regular file"));
        }
        owner_only(
            &self.dir,
            &std::fs::metadata(&self.dir).map_err(|e| self.unavailable(e))?,
        )?;
        owner_only(path, &meta)?;
        std::fs::read_to_string(path)
            .map(|t| Some(Zeroizing::new(t)))
            .map_err(|e| self.unavailable(e))
    }

    /// Create the owner-only folder if needed and write `text` to `path` atomically.
    fn write_private(&self, path: &Path, text: &str) -> Result<(), KeyError> {
        create_private_dir(&self.dir).map_err(|e| self.unavailable(e))?;
        owner_only(
            &self.dir,
            &std::fs::metadata(&self.dir).map_err(|e| self.unavailable(e))?,
        )?;
        write_private_file(&self.dir, path, text.as_bytes()).map_err(|e| self.unavailable(e))
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
        let Some(text) = self.read_private(&path)? else {
            return Ok(None);
        };
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
        let text = Zeroizing::new(format!(
            "{KEY_FILE_TAG}\n{device_id}\n{}\n",
            hex::encode(key.to_bytes())
        ));
        self.write_private(&self.path(device_id), &text)
    }

    fn location(&self) -> String {
        self.dir.display().to_string()
    }

    fn load_secret(&self, name: Secret) -> Result<Option<Zeroizing<Vec<u8>>>, KeyError> {
        let path = self.secret_path(name);
        let Some(text) = self.read_private(&path)? else {
            return Ok(None);
        };
        let mut lines = text.lines();
        if lines.next() != Some(SECRET_FILE_TAG) {
            return Err(self.malformed(&path, "wrong first line"));
        }
        if lines.next() != Some(name.name()) {
            return Err(self.malformed(&path, "it holds another secret"));
        }
        lines
            .next()
            .and_then(|h| hex::decode(h).ok())
            .map(|b| Some(Zeroizing::new(b)))
            .ok_or_else(|| self.malformed(&path, "want hex on the third line"))
    }

    fn store_secret(&self, name: Secret, bytes: &[u8]) -> Result<(), KeyError> {
        let text = Zeroizing::new(format!(
            "{SECRET_FILE_TAG}\n{}\n{}\n",
            name.name(),
            hex::encode(bytes)
        ));
        self.write_private(&self.secret_path(name), &text)
    }

    fn delete_secret(&self, name: Secret) -> Result<(), KeyError> {
        match std::fs::remove_file(self.secret_path(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.unavailable(e)),
            _ => Ok(()),
        }
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
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.unwrap_or_default(),
        std::process::id()
    ));
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
    use super::{KeyError, KeyVault, Secret};
    use ed25519_dalek::SigningKey;
    use keyring_core::{CredentialStore, Entry};
    use std::sync::Arc;
    use uuid::Uuid;
    use zeroize::Zeroizing;

    /// Keyring service name of device keys; the user name is the device id.
    const SERVICE: &str = "heatcrew.device-key";

    /// The platform keystore; `scope` names the database whose secrets it keeps.
    #[derive(Debug)]
    pub struct KeystoreVault {
        pub scope: String,
    }

    /// Keyring service name of a database secret; the user name is the database's scope.
    fn secret_service(name: Secret) -> String {
        format!("heatcrew.{}", name.name())
    }

    impl KeystoreVault {
        fn secret_entry(&self, name: Secret) -> Result<Entry, KeyError> {
            let store = platform_store().map_err(unavailable)?;
            Entry::new_in_store(&store, &secret_service(name), &self.scope).map_err(unavailable)
        }
    }

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

        fn load_secret(&self, name: Secret) -> Result<Option<Zeroizing<Vec<u8>>>, KeyError> {
            match self.secret_entry(name)?.get_secret() {
                Ok(secret) => Ok(Some(Zeroizing::new(secret))),
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(e) => Err(unavailable(e)),
            }
        }

        fn store_secret(&self, name: Secret, bytes: &[u8]) -> Result<(), KeyError> {
            self.secret_entry(name)?
                .set_secret(bytes)
                .map_err(unavailable)
        }

        fn delete_secret(&self, name: Secret) -> Result<(), KeyError> {
            match self.secret_entry(name)?.delete_credential() {
                Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
                Err(e) => Err(unavailable(e)),
            }
        }
    }
}
