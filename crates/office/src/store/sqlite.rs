//! The embedded SQLite store: one file, WAL, `synchronous=FULL`, ordered migrations that refuse a
//! database written by a newer binary. One connection behind a mutex: SQLite has one writer anyway,
//! and commit order is then exactly `changes.server_seq` order.

use super::*;
use crate::ledger::{self, Effect, JobFacts};
use chrono::SecondsFormat;
use ed25519_dalek::VerifyingKey;
use heatcrew_protocol::sync::{ChangeKind, PushOutcome, PushResult};
use heatcrew_protocol::{ChainTip, EventBody, EventFault, JobStatus};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// Append-only: a released migration is never edited; add a new one.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    badge_no TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE crews (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE crew_members (
    crew_id TEXT NOT NULL REFERENCES crews(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (crew_id, user_id)
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    code_no INTEGER NOT NULL UNIQUE,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    enrolled_at TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_hash TEXT NOT NULL,
    clock_offset_ms INTEGER,
    clock_checked_at TEXT,
    clock_jumps INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE clock_jumps (
    device_id TEXT NOT NULL REFERENCES devices(id),
    at TEXT NOT NULL,
    from_ms INTEGER NOT NULL,
    to_ms INTEGER NOT NULL
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    device_id TEXT REFERENCES devices(id),
    access_hash TEXT NOT NULL UNIQUE,
    access_expires_at TEXT NOT NULL,
    refresh_hash TEXT NOT NULL UNIQUE,
    previous_refresh_hash TEXT,
    current_used INTEGER NOT NULL DEFAULT 0,
    refresh_expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX sessions_previous ON sessions(previous_refresh_hash);
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    assignee TEXT REFERENCES users(id),
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    cancel_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE job_assignments (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    assigned_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX job_assignments_job ON job_assignments(job_id, user_id);
CREATE TABLE changes (
    server_seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX changes_user ON changes(user_id, server_seq);
CREATE TABLE events (
    device_id TEXT NOT NULL REFERENCES devices(id),
    device_seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reject_code TEXT,
    reject_reason TEXT,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device_id, device_seq)
);
CREATE INDEX events_job ON events(job_id);
CREATE TABLE attachment_refs (
    sha256 TEXT NOT NULL,
    device_id TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    PRIMARY KEY (sha256, device_id, device_seq)
);
CREATE INDEX attachment_refs_user ON attachment_refs(sha256, user_id);
CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    completed_at TEXT
);
CREATE TABLE routes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    area TEXT NOT NULL,
    checkpoints TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE outages (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    cleared_at TEXT
);
"#];

/// The SQLite implementation of [`OfficeStore`].
#[derive(Debug)]
pub struct SqliteStore {
    /// The one writer (SQLite has one anyway); its lock order is the commit order.
    conn: Mutex<Connection>,
    /// Read-only connections: WAL lets them read committed state while the writer writes.
    readers: Vec<Mutex<Connection>>,
    next_reader: std::sync::atomic::AtomicUsize,
}

const READERS: usize = 4;

/// Clock offsets that differ by less than this from the stored one are not recorded again.
const CLOCK_NOISE_MS: i64 = 1000;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

fn parse_uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s:?}: {e}")))
}

fn parse_digest(s: &str) -> StoreResult<Digest> {
    s.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))
}

fn json<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("stored JSON: {e}")))
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("office types always serialize")
}

pub fn role_str(role: Role) -> &'static str {
    match role {
        Role::RepairTechnician => "repair_technician",
        Role::Inspector => "inspector",
        Role::Patrol => "patrol",
        Role::Dispatcher => "dispatcher",
        Role::Admin => "admin",
    }
}

fn parse_role(s: &str) -> StoreResult<Role> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("role {s:?}")))
}

const USER_COLS: &str = "id, username, display_name, role, badge_no";

fn user_from_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn user_info(t: (String, String, String, String, String)) -> StoreResult<UserInfo> {
    Ok(UserInfo {
        id: parse_uuid(&t.0)?,
        username: t.1,
        display_name: t.2,
        role: parse_role(&t.3)?,
        badge_no: t.4,
    })
}

const DEVICE_COLS: &str =
    "id, public_key, code, name, user_id, enrolled_at, last_seq, clock_offset_ms, clock_jumps";

type DeviceRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    i64,
);

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn device_record(t: DeviceRow) -> StoreResult<DeviceRecord> {
    Ok(DeviceRecord {
        id: parse_uuid(&t.0)?,
        public_key: t.1,
        code: t.2,
        name: t.3,
        user_id: parse_uuid(&t.4)?,
        enrolled_at: parse_ts(&t.5)?,
        last_seq: t.6 as u64,
        clock_offset_ms: t.7,
        clock_jumps: t.8 as u64,
    })
}

const EVENT_COLS: &str =
    "e.body, e.user_id, e.status, e.reject_code, e.reject_reason, e.received_at, d.clock_offset_ms";

/// id, user, device, refresh expiry, revoked, current used, current refresh hash.
type RefreshRow = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    bool,
    Option<String>,
);

type EventRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
);

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn stored_event(t: EventRow) -> StoreResult<StoredEvent> {
    Ok(StoredEvent {
        event: json(&t.0)?,
        user_id: parse_uuid(&t.1)?,
        accepted: t.2 == "accepted",
        reject_code: t.3,
        reject_reason: t.4,
        received_at: parse_ts(&t.5)?,
        device_clock_offset_ms: t.6,
    })
}

impl SqliteStore {
    /// Open (creating if needed) and migrate the database at `path`.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        let readers = (0..READERS)
            .map(|_| {
                let r = Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                r.busy_timeout(std::time::Duration::from_secs(10))?;
                Ok(Mutex::new(r))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            readers,
            next_reader: Default::default(),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done transaction (rusqlite rolls back on
        // drop), so the connection is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A read-only connection: a free one if any, else the next in turn.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Ok(guard) = r.try_lock() {
                return guard;
            }
        }
        let i = self
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % self.readers.len();
        self.readers[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Direct access for tests and maintenance tools (e.g. to simulate tampering).
    pub fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.conn())
    }
}

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

fn load_job(tx: &Connection, job_id: Uuid) -> StoreResult<Option<JobRecord>> {
    let row: Option<(String, String, Option<String>)> = tx
        .query_row(
            "SELECT body, created_at, cancel_reason FROM jobs WHERE id = ?1",
            [job_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(b, c, cancel_reason)| {
        Ok(JobRecord {
            job: json(&b)?,
            created_at: parse_ts(&c)?,
            cancel_reason,
        })
    })
    .transpose()
}

fn save_job(tx: &Connection, job: &Job, now: DateTime<Utc>) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO jobs (id, kind, assignee, status, body, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT(id) DO UPDATE SET assignee = ?3, status = ?4, body = ?5, updated_at = ?6",
        params![
            job.id.to_string(),
            job.kind.as_str(),
            job.assignee.map(|a| a.to_string()),
            if job.status == JobStatus::Cancelled {
                "cancelled"
            } else {
                "open"
            },
            to_json(job),
            ts(now),
        ],
    )?;
    Ok(())
}

fn add_change(
    tx: &Connection,
    user_id: Option<Uuid>,
    change: &ChangeKind,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO changes (user_id, body, created_at) VALUES (?1, ?2, ?3)",
        params![user_id.map(|u| u.to_string()), to_json(change), ts(now)],
    )?;
    Ok(())
}

fn add_assignment(
    tx: &Connection,
    job_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO job_assignments (job_id, user_id, assigned_at) VALUES (?1, ?2, ?3)",
        params![job_id.to_string(), user_id.to_string(), ts(now)],
    )?;
    Ok(())
}

fn require_user(tx: &Connection, user_id: Uuid) -> StoreResult<()> {
    let found: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM users WHERE id = ?1",
            [user_id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    found.map(|_| ()).ok_or_else(|| StoreError::Invalid {
        code: "unknown_user",
        message: format!("no user {user_id}"),
    })
}

fn job_facts(tx: &Connection, job_id: Uuid, user_id: Uuid) -> StoreResult<JobFacts> {
    let assignee: Option<Option<String>> = tx
        .query_row(
            "SELECT assignee FROM jobs WHERE id = ?1",
            [job_id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(assignee) = assignee else {
        return Ok(JobFacts::default());
    };
    let current = assignee.as_deref() == Some(user_id.to_string().as_str());
    let was: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM job_assignments WHERE job_id = ?1 AND user_id = ?2)",
        [job_id.to_string(), user_id.to_string()],
        |r| r.get(0),
    )?;
    Ok(JobFacts {
        exists: true,
        user_is_or_was_assignee: current || was,
    })
}

fn job_change(
    tx: &Transaction<'_>,
    job_id: Uuid,
    now: DateTime<Utc>,
    change: impl FnOnce(&mut Job) -> StoreResult<bool>,
) -> StoreResult<Job> {
    let JobRecord { mut job, .. } =
        load_job(tx, job_id)?.ok_or_else(|| StoreError::not_found(format!("job {job_id}")))?;
    if change(&mut job)? {
        job.revision += 1;
        save_job(tx, &job, now)?;
        if let Some(a) = job.assignee {
            add_change(
                tx,
                Some(a),
                &ChangeKind::JobUpserted { job: job.clone() },
                now,
            )?;
        }
    }
    Ok(job)
}

impl OfficeStore for SqliteStore {
    fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<UserInfo> {
        let conn = self.conn();
        let id = Uuid::now_v7();
        let res = conn.execute(
            "INSERT INTO users (id, username, password_hash, display_name, role, badge_no, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id.to_string(), user.username, user.password_hash, user.display_name, role_str(user.role), user.badge_no, ts(now)],
        );
        match res {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::Conflict {
                    code: "username_taken",
                    message: format!("username {:?} is taken", user.username),
                })
            }
            Err(e) => Err(e.into()),
            Ok(_) => Ok(UserInfo {
                id,
                username: user.username,
                display_name: user.display_name,
                role: user.role,
                badge_no: user.badge_no,
            }),
        }
    }

    fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let conn = self.reader();
        let row = conn
            .query_row(
                &format!("SELECT {USER_COLS}, password_hash FROM users WHERE username = ?1"),
                [username],
                |r| Ok((user_from_row(r)?, r.get::<_, String>(5)?)),
            )
            .optional()?;
        row.map(|(u, h)| {
            Ok(UserRecord {
                info: user_info(u)?,
                password_hash: h,
            })
        })
        .transpose()
    }

    fn user(&self, id: Uuid) -> StoreResult<Option<UserInfo>> {
        let conn = self.reader();
        let row = conn
            .query_row(
                &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
                [id.to_string()],
                user_from_row,
            )
            .optional()?;
        row.map(user_info).transpose()
    }

    fn list_users(&self) -> StoreResult<Vec<UserInfo>> {
        let conn = self.reader();
        let mut st = conn.prepare(&format!("SELECT {USER_COLS} FROM users ORDER BY username"))?;
        let rows = st
            .query_map([], user_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(user_info).collect()
    }

    fn add_crew(&self, name: &str, members: &[Uuid], now: DateTime<Utc>) -> StoreResult<Crew> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM crews WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if taken {
            return Err(StoreError::Conflict {
                code: "crew_exists",
                message: format!("a crew named {name:?} exists"),
            });
        }
        let id = Uuid::now_v7();
        tx.execute(
            "INSERT INTO crews (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![id.to_string(), name, ts(now)],
        )?;
        for m in members {
            require_user(&tx, *m)?;
            tx.execute(
                "INSERT OR IGNORE INTO crew_members (crew_id, user_id) VALUES (?1, ?2)",
                params![id.to_string(), m.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(Crew {
            id,
            name: name.to_owned(),
            members: members.to_vec(),
        })
    }

    fn list_crews(&self) -> StoreResult<Vec<Crew>> {
        let conn = self.reader();
        let mut st = conn.prepare(
            "SELECT c.id, c.name, m.user_id FROM crews c LEFT JOIN crew_members m ON m.crew_id = c.id ORDER BY c.name, m.user_id",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut crews: Vec<Crew> = Vec::new();
        for (id, name, member) in rows {
            let id = parse_uuid(&id)?;
            if crews.last().map(|c| c.id) != Some(id) {
                crews.push(Crew {
                    id,
                    name,
                    members: vec![],
                });
            }
            if let (Some(m), Some(c)) = (member, crews.last_mut()) {
                c.members.push(parse_uuid(&m)?);
            }
        }
        Ok(crews)
    }

    fn enrol_device(
        &self,
        device_id: Uuid,
        public_key: &str,
        name: &str,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<DeviceRecord> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: Option<String> = tx
            .query_row(
                "SELECT public_key FROM devices WHERE id = ?1",
                [device_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        match known {
            Some(k) if k != public_key => {
                return Err(StoreError::Conflict {
                    code: "device_key_mismatch",
                    message: format!(
                        "device {device_id} is enrolled with another key; a reinstalled app must use a new device id"
                    ),
                });
            }
            Some(_) => {
                tx.execute(
                    "UPDATE devices SET user_id = ?2, name = CASE WHEN ?3 = '' THEN name ELSE ?3 END WHERE id = ?1",
                    params![device_id.to_string(), user_id.to_string(), name],
                )?;
            }
            None => {
                let next: i64 = tx.query_row(
                    "SELECT COALESCE(MAX(code_no), 0) + 1 FROM devices",
                    [],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "INSERT INTO devices (id, public_key, code, code_no, name, user_id, enrolled_at, last_seq, last_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
                    params![device_id.to_string(), public_key, format!("D{next:04}"), next, name, user_id.to_string(), ts(now), Digest::GENESIS.to_hex()],
                )?;
            }
        }
        let rec = tx.query_row(
            &format!("SELECT {DEVICE_COLS} FROM devices WHERE id = ?1"),
            [device_id.to_string()],
            device_row,
        )?;
        tx.commit()?;
        device_record(rec)
    }

    fn device(&self, id: Uuid) -> StoreResult<Option<DeviceRecord>> {
        let conn = self.reader();
        let row = conn
            .query_row(
                &format!("SELECT {DEVICE_COLS} FROM devices WHERE id = ?1"),
                [id.to_string()],
                device_row,
            )
            .optional()?;
        row.map(device_record).transpose()
    }

    fn list_devices(&self) -> StoreResult<Vec<DeviceRecord>> {
        let conn = self.reader();
        let mut st = conn.prepare(&format!(
            "SELECT {DEVICE_COLS} FROM devices ORDER BY code_no"
        ))?;
        let rows = st
            .query_map([], device_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(device_record).collect()
    }

    fn record_clock_offset(
        &self,
        device_id: Uuid,
        offset_ms: i64,
        jump_ms: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // Devices send their clock on every request: an offset within a second of the stored one is
        // network latency, not news, and is not worth a write (and an fsync) per request.
        let stored: Option<Option<i64>> = self
            .reader()
            .query_row(
                "SELECT clock_offset_ms FROM devices WHERE id = ?1",
                [device_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(Some(p)) = stored
            && (p - offset_ms).abs() <= CLOCK_NOISE_MS
        {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let prev: Option<Option<i64>> = tx
            .query_row(
                "SELECT clock_offset_ms FROM devices WHERE id = ?1",
                [device_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(prev) = prev else {
            return Err(StoreError::not_found(format!("device {device_id}")));
        };
        let jumped = prev.is_some_and(|p| (p - offset_ms).abs() > jump_ms);
        if jumped {
            tx.execute(
                "INSERT INTO clock_jumps (device_id, at, from_ms, to_ms) VALUES (?1, ?2, ?3, ?4)",
                params![device_id.to_string(), ts(now), prev, offset_ms],
            )?;
        }
        tx.execute(
            "UPDATE devices SET clock_offset_ms = ?2, clock_checked_at = ?3, clock_jumps = clock_jumps + ?4 WHERE id = ?1",
            params![device_id.to_string(), offset_ms, ts(now), jumped as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn create_session(&self, s: NewSession) -> StoreResult<()> {
        self.conn().execute(
            "INSERT INTO sessions (id, user_id, device_id, access_hash, access_expires_at, refresh_hash, refresh_expires_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                s.id.to_string(),
                s.user_id.to_string(),
                s.device_id.map(|d| d.to_string()),
                s.access_hash.to_hex(),
                ts(s.access_expires_at),
                s.refresh_hash.to_hex(),
                ts(s.refresh_expires_at),
                ts(s.now),
            ],
        )?;
        Ok(())
    }

    fn session_by_access(&self, access_hash: Digest) -> StoreResult<Option<SessionRecord>> {
        let conn = self.reader();
        let row = conn
            .query_row(
                "SELECT s.id, s.device_id, s.access_expires_at, s.revoked_at, s.current_used,
                        u.id, u.username, u.display_name, u.role, u.badge_no
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.access_hash = ?1",
                [access_hash.to_hex()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, bool>(4)?,
                        (r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?),
                    ))
                },
            )
            .optional()?;
        let Some((id, device, exp, revoked, used, user)) = row else {
            return Ok(None);
        };
        drop(conn);
        if !used {
            // The device has the new pair: an older refresh token coming back now is a reuse.
            self.conn()
                .execute("UPDATE sessions SET current_used = 1 WHERE id = ?1", [&id])?;
        }
        Ok(Some(SessionRecord {
            id: parse_uuid(&id)?,
            user: user_info(user)?,
            device_id: device.as_deref().map(parse_uuid).transpose()?,
            access_expires_at: parse_ts(&exp)?,
            revoked: revoked.is_some(),
        }))
    }

    fn refresh_session(&self, r: Rotation) -> StoreResult<RefreshOutcome> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let presented = r.presented_refresh.to_hex();
        let row: Option<RefreshRow> = tx
            .query_row(
                "SELECT id, user_id, device_id, refresh_expires_at, revoked_at, current_used, refresh_hash
                 FROM sessions WHERE refresh_hash = ?1 OR previous_refresh_hash = ?1",
                [&presented],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )
            .optional()?;
        let Some((id, user_id, device_id, refresh_exp, revoked, current_used, current_hash)) = row
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        if revoked.is_some() || parse_ts(&refresh_exp)? <= r.now {
            return Ok(RefreshOutcome::Invalid);
        }
        let is_current = current_hash.as_deref() == Some(presented.as_str());
        if !is_current && current_used {
            // The previous token came back although its successor is in use: someone copied it.
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1",
                params![id, ts(r.now)],
            )?;
            tx.commit()?;
            return Ok(RefreshOutcome::Reused);
        }
        // Current token, or the previous one whose successor never arrived (a lost response):
        // either way rotate to a fresh pair and remember the presented token as the previous one.
        tx.execute(
            "UPDATE sessions SET access_hash = ?2, access_expires_at = ?3, refresh_hash = ?4,
                 previous_refresh_hash = ?5, refresh_expires_at = ?6, current_used = 0 WHERE id = ?1",
            params![id, r.access_hash.to_hex(), ts(r.access_expires_at), r.refresh_hash.to_hex(), presented, ts(r.refresh_expires_at)],
        )?;
        let user = tx.query_row(
            &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
            [&user_id],
            user_from_row,
        )?;
        tx.commit()?;
        Ok(RefreshOutcome::Rotated {
            user: user_info(user)?,
            device_id: device_id.as_deref().map(parse_uuid).transpose()?,
        })
    }

    fn revoke_session(&self, session_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            params![session_id.to_string(), ts(now)],
        )?;
        Ok(())
    }

    fn revoke_device_sessions(&self, device_id: Uuid, now: DateTime<Utc>) -> StoreResult<u64> {
        let n = self.conn().execute(
            "UPDATE sessions SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
            params![device_id.to_string(), ts(now)],
        )?;
        Ok(n as u64)
    }

    fn push(
        &self,
        device_id: Uuid,
        user_id: Uuid,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> StoreResult<PushResponse> {
        let dev = device_id.to_string();
        // The enrolled key never changes, so hashing, signature checks and serialisation (the CPU
        // work) run before the write lock is taken, in parallel across devices. The transaction
        // below then only checks sequence and links.
        let key_hex: String = self
            .reader()
            .query_row(
                "SELECT public_key FROM devices WHERE id = ?1",
                [&dev],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::not_found(format!("device {device_id}")))?;
        let key = enrolled_key(&key_hex)?;
        let prechecked: Vec<(Option<EventFault>, String)> = events
            .iter()
            .map(|e| (e.verify(&key).err(), to_json(e)))
            .collect();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (last_seq, last_hash): (i64, String) = tx.query_row(
            "SELECT last_seq, last_hash FROM devices WHERE id = ?1",
            [&dev],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let start = ChainTip {
            seq: last_seq as u64,
            hash: parse_digest(&last_hash)?,
        };
        let mut tip = start;
        let mut blocked_by: Option<u64> = None;
        let mut facts_cache: std::collections::HashMap<Uuid, JobFacts> = Default::default();
        let mut results = Vec::with_capacity(events.len());
        let received = ts(now);
        let user = user_id.to_string();
        for (e, (verified, body_json)) in events.iter().zip(prechecked) {
            let seq = e.seq();
            let result = |outcome| PushResult {
                device_seq: seq,
                event_id: e.unsigned.id,
                outcome,
            };
            if seq <= tip.seq {
                let stored: Option<(String, String, Option<String>, Option<String>)> = tx
                    .query_row(
                        "SELECT hash, status, reject_code, reject_reason FROM events WHERE device_id = ?1 AND device_seq = ?2",
                        params![dev, seq as i64],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )
                    .optional()?;
                let outcome = match stored {
                    None if seq == 0 => PushOutcome::Rejected {
                        code: "out_of_sequence".into(),
                        reason: "device_seq starts at 1".into(),
                    },
                    None => {
                        return Err(StoreError::Corrupt(format!(
                            "device {device_id} ledger has no event {seq} below its tip"
                        )));
                    }
                    Some((hash, _, _, _)) if hash != e.hash.to_hex() => PushOutcome::Rejected {
                        code: "conflicting_duplicate".into(),
                        reason: format!(
                            "the office already holds a different event {seq} from this device"
                        ),
                    },
                    Some((_, status, code, reason)) if status == "rejected" => {
                        PushOutcome::Rejected {
                            code: code.unwrap_or_default(),
                            reason: reason.unwrap_or_default(),
                        }
                    }
                    Some(_) => PushOutcome::Duplicate,
                };
                results.push(result(outcome));
                continue;
            }
            if let Some(bad) = blocked_by {
                results.push(result(PushOutcome::Rejected {
                    code: "chain_blocked".into(),
                    reason: format!(
                        "event {bad} before it was rejected, so this one cannot link to the chain"
                    ),
                }));
                continue;
            }
            if seq > tip.seq + 1 {
                // Dropping the transaction rolls back anything this batch did.
                return Err(StoreError::SequenceGap {
                    expected: start.seq + 1,
                });
            }
            // ChainTip::follow, with the signature check done above.
            let link = if e.unsigned.device_id != device_id {
                Err(EventFault::WrongDevice {
                    seq,
                    expected: device_id,
                    found: e.unsigned.device_id,
                })
            } else if let Some(fault) = verified {
                Err(fault)
            } else if e.unsigned.prev_hash != tip.hash {
                Err(EventFault::BrokenChain { seq })
            } else {
                Ok(ChainTip { seq, hash: e.hash })
            };
            let next = match link {
                Ok(next) => next,
                Err(fault) => {
                    blocked_by = Some(seq);
                    results.push(result(PushOutcome::Rejected {
                        code: fault.code().into(),
                        reason: fault.to_string(),
                    }));
                    continue;
                }
            };
            let u = &e.unsigned;
            // A batch usually touches one or two jobs: look each up once.
            let facts = match facts_cache.get(&u.job_id) {
                Some(f) => f.clone(),
                None => {
                    let f = job_facts(&tx, u.job_id, user_id)?;
                    facts_cache.insert(u.job_id, f.clone());
                    f
                }
            };
            let verdict = ledger::judge(e, user_id, &facts);
            let (status, code, reason) = match &verdict {
                Ok(_) => ("accepted", None, None),
                Err(r) => ("rejected", Some(r.code), Some(r.reason.clone())),
            };
            tx.prepare_cached(
                "INSERT INTO events (device_id, device_seq, id, job_id, kind, hash, body, user_id, status, reject_code, reject_reason, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![dev, seq as i64, u.id.to_string(), u.job_id.to_string(), u.kind, e.hash.to_hex(), body_json, user, status, code, reason, received],
            )?;
            match verdict {
                Ok(Effect::CreateJob(job)) => {
                    facts_cache.insert(
                        job.id,
                        JobFacts {
                            exists: true,
                            user_is_or_was_assignee: true,
                        },
                    );
                    save_job(&tx, &job, now)?;
                    add_assignment(&tx, job.id, user_id, now)?;
                    add_change(
                        &tx,
                        Some(user_id),
                        &ChangeKind::JobUpserted { job: *job },
                        now,
                    )?;
                    results.push(result(PushOutcome::Accepted));
                }
                Ok(Effect::Record(body)) => {
                    for a in body
                        .as_deref()
                        .map(EventBody::attachments)
                        .unwrap_or_default()
                    {
                        tx.prepare_cached(
                            "INSERT OR IGNORE INTO attachment_refs (sha256, device_id, device_seq, user_id, job_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                        )?
                        .execute(params![a.sha256.to_hex(), dev, seq as i64, user, u.job_id.to_string()],
                        )?;
                    }
                    results.push(result(PushOutcome::Accepted));
                }
                Err(r) => results.push(result(PushOutcome::Rejected {
                    code: r.code.into(),
                    reason: r.reason,
                })),
            }
            tip = next;
        }
        tx.execute(
            "UPDATE devices SET last_seq = ?2, last_hash = ?3 WHERE id = ?1",
            params![dev, tip.seq as i64, tip.hash.to_hex()],
        )?;
        tx.commit()?;
        Ok(PushResponse {
            results,
            last_seq: tip.seq,
            server_time: now,
        })
    }

    fn pull(
        &self,
        user_id: Uuid,
        cursor: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Change>, u64, bool)> {
        let conn = self.reader();
        let mut st = conn.prepare_cached(
            "SELECT server_seq, body FROM changes WHERE server_seq > ?1 AND (user_id = ?2 OR user_id IS NULL)
             ORDER BY server_seq LIMIT ?3",
        )?;
        let rows = st
            .query_map(
                params![
                    cursor.min(i64::MAX as u64) as i64,
                    user_id.to_string(),
                    limit as i64 + 1
                ],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let has_more = rows.len() > limit as usize;
        let changes = rows
            .into_iter()
            .take(limit as usize)
            .map(|(seq, body)| {
                Ok(Change {
                    server_seq: seq as u64,
                    change: json(&body)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let next = changes.last().map_or(cursor, |c| c.server_seq);
        Ok((changes, next, has_more))
    }

    fn device_events(&self, device_id: Uuid) -> StoreResult<Vec<StoredEvent>> {
        let conn = self.reader();
        let mut st = conn.prepare(&format!(
            "SELECT {EVENT_COLS} FROM events e JOIN devices d ON d.id = e.device_id WHERE e.device_id = ?1 ORDER BY e.device_seq"
        ))?;
        let rows = st
            .query_map([device_id.to_string()], event_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(stored_event).collect()
    }

    fn device_events_after(
        &self,
        device_id: Uuid,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>> {
        let conn = self.reader();
        let mut st = conn.prepare_cached(&format!(
            "SELECT {EVENT_COLS} FROM events e JOIN devices d ON d.id = e.device_id
             WHERE e.device_id = ?1 AND e.device_seq > ?2 ORDER BY e.device_seq LIMIT ?3"
        ))?;
        let rows = st
            .query_map(
                params![
                    device_id.to_string(),
                    after.min(i64::MAX as u64) as i64,
                    limit as i64
                ],
                event_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(stored_event).collect()
    }

    fn attachment_referenced_by(&self, sha256: Digest, user_id: Uuid) -> StoreResult<bool> {
        Ok(self.reader().query_row(
            "SELECT EXISTS (SELECT 1 FROM attachment_refs WHERE sha256 = ?1 AND user_id = ?2)",
            [sha256.to_hex(), user_id.to_string()],
            |r| r.get(0),
        )?)
    }

    fn attachment(&self, sha256: Digest) -> StoreResult<Option<AttachmentRow>> {
        let conn = self.reader();
        let row: Option<(i64, String, bool)> = conn
            .query_row(
                "SELECT size, mime, complete FROM attachments WHERE sha256 = ?1",
                [sha256.to_hex()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(size, mime, complete)| AttachmentRow {
            sha256,
            size: size as u64,
            mime,
            complete,
        }))
    }

    fn create_attachment(
        &self,
        c: &AttachmentCreate,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<AttachmentRow> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO attachments (sha256, size, mime, complete, created_by, created_at) VALUES (?1, ?2, ?3, 0, ?4, ?5)",
            params![c.sha256.to_hex(), c.size as i64, c.mime, user_id.to_string(), ts(now)],
        )?;
        drop(conn);
        let row = self
            .attachment(c.sha256)?
            .ok_or_else(|| StoreError::not_found("attachment"))?;
        if row.size != c.size {
            return Err(StoreError::Conflict {
                code: "size_conflict",
                message: format!(
                    "attachment {} was announced with {} bytes, not {}",
                    c.sha256, row.size, c.size
                ),
            });
        }
        Ok(row)
    }

    fn complete_attachment(&self, sha256: Digest, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE attachments SET complete = 1, completed_at = COALESCE(completed_at, ?2) WHERE sha256 = ?1",
            params![sha256.to_hex(), ts(now)],
        )?;
        Ok(())
    }

    fn complete_attachments(&self) -> StoreResult<Vec<Digest>> {
        let conn = self.reader();
        let mut st =
            conn.prepare("SELECT sha256 FROM attachments WHERE complete = 1 ORDER BY sha256")?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter().map(|s| parse_digest(s)).collect()
    }

    fn create_job(&self, job: Job, now: DateTime<Utc>) -> StoreResult<Job> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if load_job(&tx, job.id)?.is_some() {
            return Err(StoreError::Conflict {
                code: "job_exists",
                message: format!("job {} exists", job.id),
            });
        }
        save_job(&tx, &job, now)?;
        if let Some(a) = job.assignee {
            require_user(&tx, a)?;
            add_assignment(&tx, job.id, a, now)?;
            add_change(
                &tx,
                Some(a),
                &ChangeKind::JobUpserted { job: job.clone() },
                now,
            )?;
        }
        tx.commit()?;
        Ok(job)
    }

    fn assign_job(&self, job_id: Uuid, assignee: Uuid, now: DateTime<Utc>) -> StoreResult<Job> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_user(&tx, assignee)?;
        let JobRecord { mut job, .. } =
            load_job(&tx, job_id)?.ok_or_else(|| StoreError::not_found(format!("job {job_id}")))?;
        if job.status == JobStatus::Cancelled {
            return Err(StoreError::Invalid {
                code: "job_cancelled",
                message: format!("job {job_id} is cancelled"),
            });
        }
        if job.assignee == Some(assignee) {
            return Ok(job);
        }
        let previous = job.assignee.replace(assignee);
        job.revision += 1;
        save_job(&tx, &job, now)?;
        if let Some(old) = previous {
            tx.execute(
                "UPDATE job_assignments SET revoked_at = ?3 WHERE job_id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
                params![job_id.to_string(), old.to_string(), ts(now)],
            )?;
            add_change(
                &tx,
                Some(old),
                &ChangeKind::JobRevoked {
                    job_id,
                    reason: "已改派给其他人员 / reassigned to someone else".into(),
                },
                now,
            )?;
        }
        add_assignment(&tx, job_id, assignee, now)?;
        add_change(
            &tx,
            Some(assignee),
            &ChangeKind::JobUpserted { job: job.clone() },
            now,
        )?;
        tx.commit()?;
        Ok(job)
    }

    fn schedule_job(
        &self,
        job_id: Uuid,
        window: AppointmentWindow,
        now: DateTime<Utc>,
    ) -> StoreResult<Job> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let job = job_change(&tx, job_id, now, |job| {
            if job.status == JobStatus::Cancelled {
                return Err(StoreError::Invalid {
                    code: "job_cancelled",
                    message: format!("job {job_id} is cancelled"),
                });
            }
            let changed = job.window != Some(window);
            job.window = Some(window);
            Ok(changed)
        })?;
        tx.commit()?;
        Ok(job)
    }

    fn cancel_job(&self, job_id: Uuid, reason: &str, now: DateTime<Utc>) -> StoreResult<Job> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let job = job_change(&tx, job_id, now, |job| {
            let changed = job.status != JobStatus::Cancelled;
            job.status = JobStatus::Cancelled;
            Ok(changed)
        })?;
        tx.execute(
            "UPDATE jobs SET cancel_reason = COALESCE(cancel_reason, ?2) WHERE id = ?1",
            params![job_id.to_string(), reason],
        )?;
        tx.commit()?;
        Ok(job)
    }

    fn job(&self, job_id: Uuid) -> StoreResult<Option<JobRecord>> {
        load_job(&self.reader(), job_id)
    }

    fn list_jobs(&self) -> StoreResult<Vec<JobRecord>> {
        let conn = self.reader();
        let mut st = conn
            .prepare("SELECT body, created_at, cancel_reason FROM jobs ORDER BY created_at, id")?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(b, c, cancel_reason)| {
                Ok(JobRecord {
                    job: json(&b)?,
                    created_at: parse_ts(&c)?,
                    cancel_reason,
                })
            })
            .collect()
    }

    fn job_events(&self, job_id: Uuid) -> StoreResult<Vec<StoredEvent>> {
        let conn = self.reader();
        let mut st = conn.prepare(&format!(
            "SELECT {EVENT_COLS} FROM events e JOIN devices d ON d.id = e.device_id WHERE e.job_id = ?1 ORDER BY e.rowid"
        ))?;
        let rows = st
            .query_map([job_id.to_string()], event_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(stored_event).collect()
    }

    fn create_route(&self, route: Route, now: DateTime<Utc>) -> StoreResult<Route> {
        let res = self.conn().execute(
            "INSERT INTO routes (id, name, area, checkpoints, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![route.id.to_string(), route.name, route.area, to_json(&route.checkpoints), ts(now)],
        );
        match res {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::Conflict {
                    code: "route_exists",
                    message: format!("a route named {:?} exists", route.name),
                })
            }
            Err(e) => Err(e.into()),
            Ok(_) => Ok(route),
        }
    }

    fn route(&self, id: Uuid) -> StoreResult<Option<Route>> {
        let conn = self.reader();
        let row: Option<(String, String, String)> = conn
            .query_row(
                "SELECT name, area, checkpoints FROM routes WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|(name, area, cps)| {
            Ok(Route {
                id,
                name,
                area,
                checkpoints: json(&cps)?,
            })
        })
        .transpose()
    }

    fn list_routes(&self) -> StoreResult<Vec<Route>> {
        let conn = self.reader();
        let mut st =
            conn.prepare("SELECT id, name, area, checkpoints FROM routes ORDER BY name")?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, name, area, cps)| {
                Ok(Route {
                    id: parse_uuid(&id)?,
                    name,
                    area,
                    checkpoints: json(&cps)?,
                })
            })
            .collect()
    }

    fn upsert_outage(&self, notice: OutageNotice, now: DateTime<Utc>) -> StoreResult<OutageNotice> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO outages (id, body, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET body = ?2, updated_at = ?3, cleared_at = NULL",
            params![notice.id.to_string(), to_json(&notice), ts(now)],
        )?;
        add_change(
            &tx,
            None,
            &ChangeKind::OutageUpserted {
                notice: notice.clone(),
            },
            now,
        )?;
        tx.commit()?;
        Ok(notice)
    }

    fn clear_outage(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE outages SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL",
            params![id.to_string(), ts(now)],
        )?;
        if n == 0 {
            return Err(StoreError::not_found(format!("active outage {id}")));
        }
        add_change(&tx, None, &ChangeKind::OutageCleared { id }, now)?;
        tx.commit()?;
        Ok(())
    }

    fn list_outages(&self) -> StoreResult<Vec<OutageNotice>> {
        let conn = self.reader();
        let mut st =
            conn.prepare("SELECT body FROM outages WHERE cleared_at IS NULL ORDER BY updated_at")?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter().map(|b| json(b)).collect()
    }

    fn counts(&self) -> StoreResult<Counts> {
        let conn = self.reader();
        let one = |sql: &str| -> StoreResult<u64> {
            Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
        };
        Ok(Counts {
            events_accepted: one("SELECT COUNT(*) FROM events WHERE status = 'accepted'")?,
            events_rejected: one("SELECT COUNT(*) FROM events WHERE status = 'rejected'")?,
            devices: one("SELECT COUNT(*) FROM devices")?,
            devices_clock_flagged: one("SELECT COUNT(*) FROM devices WHERE clock_jumps > 0")?,
            attachments_referenced: one("SELECT COUNT(DISTINCT sha256) FROM attachment_refs")?,
            attachments_received: one(
                "SELECT COUNT(*) FROM attachments WHERE complete = 1 AND sha256 IN (SELECT sha256 FROM attachment_refs)",
            )?,
        })
    }

    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            [key, value],
        )?;
        Ok(())
    }
}

fn enrolled_key(hex_key: &str) -> StoreResult<VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut bytes)
        .map_err(|_| StoreError::Corrupt("enrolled key is not hex".into()))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| StoreError::Corrupt("enrolled key is not an Ed25519 key".into()))
}

/// Parse a device's enrolled public key (hex) as stored.
pub fn parse_public_key(hex_key: &str) -> Option<VerifyingKey> {
    enrolled_key(hex_key).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_from_a_newer_binary_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("office.db");
        drop(SqliteStore::open(&path).expect("fresh database"));
        Connection::open(&path)
            .and_then(|c| c.pragma_update(None, "user_version", SCHEMA_VERSION + 1))
            .expect("bump version");
        assert!(
            matches!(
                SqliteStore::open(&path),
                Err(StoreError::NewerSchema { .. })
            ),
            "an older binary must not write into a schema it does not know"
        );
    }

    #[test]
    fn reopening_keeps_data_and_does_not_rerun_migrations() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("office.db");
        let s = SqliteStore::open(&path).expect("open");
        s.set_meta("k", "v").expect("write");
        drop(s);
        let s = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            s.meta("k").expect("read").as_deref(),
            Some("v"),
            "a restart must keep what was committed"
        );
    }
}
