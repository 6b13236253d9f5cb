//! The PostgreSQL store (`heatcrew-office serve --database postgres://…`), for offices that outgrow
//! one machine: several office processes on one database. The embedded SQLite store stays the
//! default.
//!
//! This file opens the pool, migrates and hands out connections, and holds the small
//! [`MetaStore`]; each other concern of [`OfficeStore`](super::OfficeStore) has a file of its own,
//! as under `sqlite/`. The schema is in `migrations/`: ordered SQL files, applied once each under an
//! advisory lock (so offices starting together migrate once), recorded in `schema_version`; a
//! database written by a newer binary is refused.
//!
//! Methods are synchronous, like every store's (the HTTP layer calls them on `spawn_blocking`),
//! so this uses the synchronous `postgres` client with an r2d2 pool.

mod accounts;
mod alerts;
mod attachments;
mod audit;
mod chains;
mod clock_jumps;
mod complaints;
mod connect;
mod enrolment;
mod evidence;
mod feedback;
mod jobs;
mod kpi;
mod ledger;
mod log_append;
mod network;
mod notices;
mod patrols;
mod reports;
mod sign_out;
mod throttle;

use super::{MetaStore, StoreError, StoreResult};
pub use connect::{PgTarget, SslMode};
use postgres::Transaction;
use postgres::error::SqlState;
use r2d2_postgres::PostgresConnectionManager;
use rand::Rng;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The schema, in order. Append-only once released: a database that ran a migration never runs
/// it again; add a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_schema.sql"),
    include_str!("migrations/0002_service_standard.sql"),
    include_str!("migrations/0003_byte_order.sql"),
    include_str!("migrations/0004_event_edits.sql"),
    include_str!("migrations/0005_sessions_by_device.sql"),
    include_str!("migrations/0006_critical_defect_alerts.sql"),
    include_str!("migrations/0007_session_chain_heads.sql"),
    include_str!("migrations/0008_login_failures.sql"),
    include_str!("migrations/0009_sign_outs.sql"),
    include_str!("migrations/0010_notice_follow_up.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Connections at most per office process unless `serve --db-connections` says otherwise
/// (PostgreSQL's default `max_connections` is 100: three processes stay well under it).
pub const DEFAULT_POOL_SIZE: u32 = 16;

/// Any key for `pg_advisory_xact_lock`: held while migrating.
const MIGRATION_LOCK: i64 = 0x4865_6174_4372_6577; // "HeatCrew"

type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;
pub(crate) type PgConn = r2d2::PooledConnection<PostgresConnectionManager<MakeRustlsConnect>>;

/// The PostgreSQL implementation of [`OfficeStore`](super::OfficeStore).
pub struct PgStore {
    /// `None` only while dropping ([`Drop`] below).
    pool: Option<Pool>,
}

/// Each synchronous connection owns a small tokio runtime, which panics when dropped inside async
/// code (the last `Arc` of an office's state may go on a runtime worker): there the connections
/// are closed on a plain thread instead.
impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let _ = std::thread::Builder::new()
                .name("pg-store-close".into())
                .spawn(move || drop(pool));
        }
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field(
                "connections",
                &self.pool.as_ref().map(|p| p.state().connections),
            )
            .finish_non_exhaustive()
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::backend(e)
    }
}

/// The statement broke a UNIQUE or primary-key constraint (SQLSTATE 23505): the caller maps it to
/// its [`StoreError::Conflict`] (a name taken, a row already there).
pub(crate) fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// Tries of a write transaction that PostgreSQL keeps aborting to let others through, before the
/// error goes to the caller.
const CONFLICT_ATTEMPTS: u32 = 5;

/// PostgreSQL rolled the transaction back to let another one through: it was picked to break a
/// deadlock (SQLSTATE 40P01) or it could not be serialized with a concurrent one (40001). Nothing
/// of it was kept, so running the whole transaction again is safe and will likely succeed.
pub(crate) fn is_transient_conflict(e: &StoreError) -> bool {
    let StoreError::Backend(b) = e else {
        return false;
    };
    b.downcast_ref::<postgres::Error>()
        .and_then(postgres::Error::code)
        .is_some_and(|c| {
            c == &SqlState::T_R_DEADLOCK_DETECTED || c == &SqlState::T_R_SERIALIZATION_FAILURE
        })
}

/// Run `attempt` (one whole transaction, begun and committed inside it) again when PostgreSQL
/// aborted it for a deadlock or a serialization failure ([`is_transient_conflict`]), at most
/// [`CONFLICT_ATTEMPTS`] times in all. Between tries it waits a random 5–10 ms, then 10–20 ms,
/// 20–40 ms, …: random, so that the transactions that collided do not collide again in step.
/// Every other error, and the last conflict, goes to the caller as it is.
pub(crate) fn retry_conflicts<T>(mut attempt: impl FnMut() -> StoreResult<T>) -> StoreResult<T> {
    let mut tries = 1;
    loop {
        match attempt() {
            Err(e) if tries < CONFLICT_ATTEMPTS && is_transient_conflict(&e) => {
                let base = 5u64 << (tries - 1);
                let wait = rand::thread_rng().gen_range(base..=2 * base);
                tracing::debug!(
                    tries,
                    wait_ms = wait,
                    "PostgreSQL conflict, trying the transaction again: {e}"
                );
                std::thread::sleep(Duration::from_millis(wait));
                tries += 1;
            }
            done => return done,
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::backend(e)
    }
}

impl PgStore {
    /// Connect to `url` (`postgres://user:password@host:port/database`, with the TLS options of
    /// [`PgTarget`]) and migrate, with a pool of [`DEFAULT_POOL_SIZE`]. The database must exist.
    pub fn open(url: &str) -> StoreResult<PgStore> {
        PgStore::open_with(url, DEFAULT_POOL_SIZE)
    }

    /// [`PgStore::open`] with at most `connections` in the pool (at least 2: a push holds one
    /// while the live feed and readiness probe need another).
    pub fn open_with(url: &str, connections: u32) -> StoreResult<PgStore> {
        let target = PgTarget::parse(url).map_err(StoreError::NotOffice)?;
        let pool = r2d2::Pool::builder()
            .max_size(connections.max(2))
            .connection_timeout(std::time::Duration::from_secs(30))
            .build(PostgresConnectionManager::new(target.config, target.tls))?;
        let store = PgStore { pool: Some(pool) };
        store.migrate()?;
        Ok(store)
    }

    /// Connect to `url` to read only (`heatcrew-office verify`): every transaction is read-only
    /// (PostgreSQL refuses any write), nothing is created or migrated, and a database that is not
    /// an office at this binary's schema version is refused.
    pub fn open_read_only(url: &str) -> StoreResult<PgStore> {
        let PgTarget {
            mut config, tls, ..
        } = PgTarget::parse(url).map_err(StoreError::NotOffice)?;
        config.options("-c default_transaction_read_only=on");
        let pool = r2d2::Pool::builder()
            .max_size(4)
            .min_idle(Some(1))
            .connection_timeout(std::time::Duration::from_secs(30))
            .build(PostgresConnectionManager::new(config, tls))?;
        let store = PgStore { pool: Some(pool) };
        let mut conn = store.conn()?;
        let has_versions: bool = conn
            .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])?
            .get(0);
        let found: Option<i64> = if has_versions {
            conn.query_one("SELECT MAX(version) FROM schema_version", &[])?
                .get(0)
        } else {
            None
        };
        drop(conn);
        match found {
            None | Some(0) => Err(StoreError::NotOffice(
                "this PostgreSQL database holds no HeatCrew office".into(),
            )),
            Some(found) if found > SCHEMA_VERSION => Err(StoreError::NewerSchema {
                found,
                known: SCHEMA_VERSION,
            }),
            Some(found) if found < SCHEMA_VERSION => Err(StoreError::NotOffice(format!(
                "the office database is at schema {found}, this binary reads {SCHEMA_VERSION}: start the office once to migrate it"
            ))),
            Some(_) => Ok(store),
        }
    }

    /// A pooled connection (waits up to 30 s for one).
    pub(crate) fn conn(&self) -> StoreResult<PgConn> {
        let pool = self.pool.as_ref().expect("the pool is there until drop");
        Ok(pool.get()?)
    }

    /// One write transaction: `f` runs inside it and it commits; the whole of it runs again when
    /// PostgreSQL aborts it for a deadlock or a serialization failure ([`retry_conflicts`]), so
    /// `f` must do nothing outside the transaction that a second run would repeat.
    pub(crate) fn write<T>(
        &self,
        mut f: impl FnMut(&mut Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        retry_conflicts(|| {
            let mut conn = self.conn()?;
            let mut tx = conn.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
    }

    fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (
                 version BIGINT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )?;
        let found: i64 = tx
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])?
            .get(0);
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                found,
                known: SCHEMA_VERSION,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&((i + 1) as i64)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

impl MetaStore for PgStore {
    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()?
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?
            .map(|r| r.get(0)))
    }

    fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn claim_meta(&self, key: &str, value: &str) -> StoreResult<String> {
        // A claim racing another waits on its row lock and then updates nothing (`SET value =
        // meta.value`), returning the row that won.
        Ok(self
            .conn()?
            .query_one(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = meta.value
                 RETURNING value",
                &[&key, &value],
            )?
            .get(0))
    }
}
