//! A device database as evidence: opened strictly read-only (never migrated, cleaned or given a
//! key), checked end to end, and written out as the standalone export of docs/evidence.md. An
//! encrypted database is read with the database key from its vault (`<db>.keys/` beside it, or
//! the folder given); the signing key is never needed.
//!
//! [`DeviceDb::open_read_only`] refuses anything that is not a HeatCrew device database (a foreign
//! SQLite file, an empty file, random bytes) before reading a row. Nothing it does writes to the
//! database, its write-ahead log or its files: a database with an unmerged write-ahead log (copied
//! while the app ran) is read from a private temporary copy.

use crate::audit::{AuditFailure, audit};
use crate::cipher;
use crate::error::{CoreError, Result};
use crate::files::{self, FileKey};
use crate::keys::KeyVault;
use crate::migrations;
use crate::store::{digest_from, parse_uuid, read_events};
use crate::sync::evidence as kept;
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use heatcrew_protocol::export::{EXPORT_FORMAT_V3, Export, ExportLine, ExportReport, ExportSource};
use heatcrew_protocol::log::{Receipt, TreeHead};
use heatcrew_protocol::{ChainTip, Digest, Event};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a file cannot be checked as a device database.
#[derive(Debug, thiserror::Error)]
pub enum NotADeviceDb {
    #[error("no database at {0}")]
    Missing(PathBuf),
    #[error("{path} is not a HeatCrew device database: {why}")]
    Foreign { path: PathBuf, why: String },
    #[error(
        "{path} was written by a newer HeatCrew (schema {found}, this build knows {known}); use a newer heatcrew-device"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path}: {source}")]
    Unreadable { path: PathBuf, source: CoreError },
    /// Encrypted, and the vault has no key for it, or a key that does not open it (or it is not
    /// an SQLite database at all: without the right key the two look the same).
    #[error(
        "{path} cannot be read: it is not a HeatCrew device database, or it is an encrypted one whose key is not in {location} (pass the folder holding its database-key.secret with --keys){detail}"
    )]
    Locked {
        path: PathBuf,
        location: String,
        detail: String,
    },
}

/// A device database opened read-only, with what identifies it.
#[derive(Debug)]
pub struct DeviceDb {
    conn: Connection,
    path: PathBuf,
    schema: i64,
    device_id: uuid::Uuid,
    public_key: VerifyingKey,
    tip: ChainTip,
    /// A private copy the database was read from (it had an unmerged write-ahead log).
    _copy: Option<tempfile::TempDir>,
    /// The key its photos and signatures are sealed with (an encrypted database's).
    file_key: Option<FileKey>,
}

impl DeviceDb {
    /// Open `path` read-only, an encrypted one with the key in its vault beside it (`<db>.keys/`).
    pub fn open_read_only(path: &Path) -> Result<DeviceDb, NotADeviceDb> {
        DeviceDb::open_read_only_with(path, crate::keys::default_vault(path).as_ref())
    }

    /// Open `path` read-only, an encrypted one with the database key in `vault`.
    pub fn open_read_only_with(
        path: &Path,
        vault: &dyn KeyVault,
    ) -> Result<DeviceDb, NotADeviceDb> {
        if !path.is_file() {
            return Err(NotADeviceDb::Missing(path.to_owned()));
        }
        let foreign = |why: String| NotADeviceDb::Foreign {
            path: path.to_owned(),
            why,
        };
        let unreadable = |source: CoreError| NotADeviceDb::Unreadable {
            path: path.to_owned(),
            source,
        };
        let (conn, copy) = open_untouched(path).map_err(|e| unreadable(e.into()))?;
        let file_key = unlock(&conn, path, vault)?.map(|key| FileKey::derive(&*key));
        let schema: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| foreign(format!("not an SQLite database ({e})")))?;
        if schema == 0 {
            return Err(foreign(
                "it has no HeatCrew schema (an empty file or another program's database)".into(),
            ));
        }
        if schema > migrations::latest() {
            return Err(NotADeviceDb::TooNew {
                path: path.to_owned(),
                found: schema,
                known: migrations::latest(),
            });
        }
        // The outbox table is gone since schema 12 (crate::store::outbox): a cursor in sync_state.
        let outbox = if schema < migrations::OUTBOX_AS_CURSOR {
            "outbox"
        } else {
            "urgent_events"
        };
        for table in ["device", "events", outbox, "sync_state"] {
            let present: Option<String> = conn
                .query_row(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| unreadable(e.into()))?;
            if present.is_none() {
                return Err(foreign(format!("it has no {table} table")));
            }
        }
        let key_column = if schema >= migrations::KEYS_OUT {
            "public_key"
        } else {
            "secret_key"
        };
        let row = conn
            .query_row(
                &format!("SELECT device_id, {key_column}, last_seq, last_hash FROM device"),
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Vec<u8>>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| foreign(format!("its device table does not read as one ({e})")))?
            .ok_or_else(|| foreign("it has no device identity".into()))?;
        let (id, key, seq, hash) = row;
        let device_id = parse_uuid(&id).map_err(unreadable)?;
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| foreign("its device key is not 32 bytes".into()))?;
        let public_key = if schema >= migrations::KEYS_OUT {
            VerifyingKey::from_bytes(&key)
                .map_err(|_| foreign("its public key is not an Ed25519 key".into()))?
        } else {
            // Written before keys left the database: the public half of the key it holds.
            SigningKey::from_bytes(&key).verifying_key()
        };
        let tip = ChainTip {
            seq: seq as u64,
            hash: digest_from(&hash).map_err(unreadable)?,
        };
        Ok(DeviceDb {
            conn,
            path: path.to_owned(),
            schema,
            device_id,
            public_key,
            tip,
            _copy: copy,
            file_key,
        })
    }

    pub fn device_id(&self) -> uuid::Uuid {
        self.device_id
    }

    /// The device's public key as the database records it.
    pub fn public_key(&self) -> VerifyingKey {
        self.public_key
    }

    /// The chain tip the device recorded with its last event.
    pub fn tip(&self) -> ChainTip {
        self.tip
    }

    /// Where the photos and signatures are: `<db>.files/`.
    pub fn files_dir(&self) -> PathBuf {
        let mut dir = self.path.as_os_str().to_owned();
        dir.push(".files");
        PathBuf::from(dir)
    }

    pub fn events(&self) -> Result<Vec<Event>> {
        read_events(&self.conn, self.device_id, 0, usize::MAX, self.schema >= 2)
    }

    /// The sign-ins the device kept (none before schema 14).
    pub fn sign_ins(&self) -> Result<Vec<ExportLine>> {
        if self.schema < 14 {
            return Ok(Vec::new());
        }
        kept::sign_ins(&self.conn)
    }

    /// The sign-outs the device signed, with the office's signature where it answered (none
    /// before schema 16; without the office's before 17).
    pub fn sign_outs(&self) -> Result<Vec<ExportLine>> {
        if self.schema < 16 {
            return Ok(Vec::new());
        }
        crate::store::Store::sign_out_lines(&self.conn, self.schema >= 17)
    }

    /// The office key, receipts and tree heads the device kept (none before schema 5).
    pub fn office_evidence(&self) -> Result<(Option<String>, Vec<Receipt>, Vec<TreeHead>)> {
        if self.schema < 5 {
            return Ok((None, Vec::new(), Vec::new()));
        }
        Ok((
            kept::office_public_key(&self.conn)?,
            kept::receipts(&self.conn)?,
            kept::tree_heads(&self.conn)?,
        ))
    }

    /// The standalone export (docs/evidence.md): header, the device with its key and tip, every
    /// event, every receipt and tree head kept. With `files`, a `file` line per referenced file
    /// at `files/<sha256>` (the caller writes them there, opened: see [`DeviceDb::attachment`]).
    pub fn export(
        &self,
        exported_at: DateTime<Utc>,
        public_key: Option<VerifyingKey>,
        files: bool,
    ) -> Result<Vec<ExportLine>> {
        let events = self.events()?;
        let (office_key, receipts, heads) = self.office_evidence()?;
        let key = public_key.unwrap_or(self.public_key);
        let mut lines = vec![
            ExportLine::Header {
                format: EXPORT_FORMAT_V3.into(),
                source: ExportSource::Device,
                exported_at,
                scope: format!("device {}", self.device_id),
                office_public_key: office_key,
            },
            ExportLine::Device {
                device_id: self.device_id,
                public_key: hex::encode(key.as_bytes()),
                tip: self.tip,
            },
        ];
        let mut attachments = BTreeMap::new();
        for event in &events {
            referenced(&event.unsigned.payload, &mut |sha, bytes| {
                attachments.entry(sha).or_insert(bytes);
            });
        }
        lines.extend(events.into_iter().map(|event| ExportLine::Event { event }));
        lines.extend(
            receipts
                .into_iter()
                .map(|receipt| ExportLine::Receipt { receipt }),
        );
        lines.extend(
            heads
                .into_iter()
                .map(|tree_head| ExportLine::TreeHead { tree_head }),
        );
        lines.extend(self.sign_ins()?);
        lines.extend(self.sign_outs()?);
        if files {
            lines.extend(
                attachments
                    .into_iter()
                    .map(|(sha256, bytes)| ExportLine::File {
                        sha256,
                        bytes,
                        path: format!("files/{sha256}"),
                    }),
            );
        }
        Ok(lines)
    }

    pub fn attachment_path(&self, sha: &Digest) -> PathBuf {
        self.files_dir().join(sha.to_hex())
    }

    /// The bytes of the photo or signature `sha` as recorded: opened from its seal, or as it is
    /// when written before sealing. Not checked against `sha` (the caller compares).
    pub fn attachment(&self, sha: &Digest) -> std::io::Result<Vec<u8>> {
        let stored = std::fs::read(self.attachment_path(sha))?;
        match &self.file_key {
            Some(key) if files::is_sealed(&stored) => key.open(&sha.to_hex(), stored),
            _ => Ok(stored),
        }
    }

    /// Check everything: the chain (naming the first bad event), the recorded tip, every
    /// referenced photo and signature file (present, SHA-256 and size as signed), and the kept
    /// receipts and tree heads (signed by the office key, matching the chain).
    pub fn verify(&self, public_key: Option<VerifyingKey>) -> Result<DeviceReport> {
        let key = public_key.unwrap_or(self.public_key);
        let events = self.events()?;
        let chain = audit(&events, self.device_id, &key, Some(self.tip));
        let lines = self.export(Utc::now(), Some(key), true)?;
        let export = Export {
            name: self.path.display().to_string(),
            lines,
        };
        let checks = heatcrew_protocol::export::verify_exports(&[export], |path| {
            let sha: Digest = path.strip_prefix("files/")?.parse().ok()?;
            self.attachment(&sha).ok()
        });
        Ok(DeviceReport { chain, checks })
    }
}

/// What [`DeviceDb::verify`] found.
#[derive(Debug)]
pub struct DeviceReport {
    /// The chain: the number of events, or the first bad one and what was done to it.
    pub chain: Result<u64, AuditFailure>,
    /// The export checks of docs/evidence.md over the same data, with files: fault codes.
    pub checks: ExportReport,
}

impl DeviceReport {
    pub fn ok(&self) -> bool {
        self.chain.is_ok() && self.checks.ok()
    }
}

/// Every attachment a payload refers to (docs/evidence.md: an object with a `sha256` digest and a
/// `mime` string), with its signed size.
fn referenced(value: &serde_json::Value, found: &mut dyn FnMut(Digest, u64)) {
    match value {
        serde_json::Value::Object(map) => {
            if let (Some(sha), Some(serde_json::Value::String(_))) = (
                map.get("sha256")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok()),
                map.get("mime"),
            ) {
                found(sha, map.get("bytes").and_then(|b| b.as_u64()).unwrap_or(0));
            }
            map.values().for_each(|v| referenced(v, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| referenced(v, found)),
        _ => {}
    }
}

/// Give an encrypted database its key (a plain one needs none), proving it reads the file.
/// Apply the database key from `vault` to an encrypted database; the key, or `None` for a plain
/// database.
fn unlock(
    conn: &Connection,
    path: &Path,
    vault: &dyn KeyVault,
) -> Result<Option<cipher::DatabaseKey>, NotADeviceDb> {
    let unreadable = |source: CoreError| NotADeviceDb::Unreadable {
        path: path.to_owned(),
        source,
    };
    let empty = std::fs::metadata(path).is_ok_and(|m| m.len() == 0);
    if empty || cipher::is_plain(path).map_err(|e| unreadable(e.into()))? {
        return Ok(None);
    }
    let locked = |detail: String| NotADeviceDb::Locked {
        path: path.to_owned(),
        location: vault.location(),
        detail,
    };
    let key = cipher::load_key(vault)
        .map_err(unreadable)?
        .ok_or_else(|| locked(String::new()))?;
    match cipher::apply_key(conn, &key, path, &vault.location()) {
        Ok(()) => Ok(Some(key)),
        Err(CoreError::Locked(_)) => Err(locked("; the key there does not open it".into())),
        Err(e) => Err(unreadable(e)),
    }
}

/// Open `path` so that nothing on disk changes. Without a write-ahead log: SQLite's `immutable`
/// mode (no locks, no `-shm`, no writes). With one (copied while the app ran): a private copy of
/// the database and its log, so that the unmerged events are read too.
fn open_untouched(
    path: &Path,
) -> std::result::Result<(Connection, Option<tempfile::TempDir>), std::io::Error> {
    let wal = sibling(path, "-wal");
    let has_wal = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
    let to_io = |e: rusqlite::Error| std::io::Error::other(e.to_string());
    if !has_wal {
        let uri = format!("file:{}?immutable=1", uri_path(path));
        let conn = Connection::open_with_flags(
            uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(to_io)?;
        return Ok((conn, None));
    }
    let dir = tempfile::tempdir()?;
    let copy = dir.path().join("device.db");
    std::fs::copy(path, &copy)?;
    std::fs::copy(&wal, sibling(&copy, "-wal"))?;
    let conn =
        Connection::open_with_flags(&copy, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(to_io)?;
    Ok((conn, Some(dir)))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// A path in a `file:` URI: absolute, with `%`, `?` and `#` escaped.
fn uri_path(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut out = String::new();
    for c in absolute.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}
