//! heatcrew-office: the office server. Accounts and devices, dispatch, the exactly-once sync
//! endpoints, content-addressed attachments and reports, over axum on embedded SQLite.
//!
//! - [`api`]: the HTTP surface, one module per part of the API, each registering its routes together
//!   with their OpenAPI paths.
//! - [`console`]: the office console (console/dist, embedded at build time) served at `/`.
//! - [`store`]: storage behind the [`store::OfficeStore`] trait; [`store::SqliteStore`] by default,
//!   [`store::PgStore`] for several office processes; [`storage`] picks one (`--db` / `--database`).
//! - [`live_notify`]: the live console feed across office processes (PostgreSQL LISTEN/NOTIFY).
//! - [`ledger`]: what a pushed event may do, decided without a database (shared by every store).
//! - [`objects`]: attachment bytes, content-addressed: a local folder (write, fsync, rename) by
//!   default, or S3-compatible object storage (`--objects s3://…`).
//! - [`office_key`]: the office's signing key, in an owner-only file beside the database.
//! - [`readback`]: a job's events projected as visit steps, signatures, photos, ratings, SLA, patrol.
//! - [`corrections`]: each correction beside the record it names, for the console's job page.
//! - [`reports`]: the summary report.
//! - [`verify`]: re-check all stored evidence, read-only (`heatcrew-office verify`).
//! - [`tls`]: HTTPS (`serve --tls-cert --tls-key`): PEM files into a rustls configuration.
//! - [`evidence`]: signed tree heads of the office log.
//! - [`export`]: evidence exports (JSON lines per `docs/evidence.md`).
//! - [`error`]: the HTTP edge's closed `{code, message}` error.
//! - [`demo`]: a realistic demo company (`serve --demo`).
//! - [`complaints`]: the complaints and reports tracker (deadlines, 首问 ownership, KPI counts).
//! - [`notices`], [`patrols`]: the rectification notice register, patrol plans and compliance, the
//!   defects register; [`schedule`]: the periodic follow-up that opens re-inspections and rounds.
//!
//! Start one in-process (tests, the simulator):
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! use heatcrew_office::{Config, Office};
//! use heatcrew_protocol::sync::Role;
//! let office = Office::open(Config::new("/tmp/office.db"))?;
//! office.add_user("admin", "a long password", Role::Admin, "孙丽", "GL-0001")?;
//! let running = office.spawn("127.0.0.1:0").await?; // serves until `running.stop()` or drop
//! println!("{}", running.url()); // http://127.0.0.1:PORT
//! # Ok(()) }
//! ```

pub mod api;
pub mod audit;
pub mod board;
pub mod bundle;
pub mod chain_cache;
pub mod clock;
pub mod complaints;
pub mod console;
pub mod corrections;
pub mod demo;
pub mod documents;
pub mod error;
pub mod evidence;
pub mod export;
pub mod feedback;
pub mod job_view;
pub mod kpi;
pub mod ledger;
pub mod live_notify;
pub mod migrate;
pub mod notices;
pub mod objects;
pub mod office_key;
pub mod patrols;
pub mod pdf;
pub mod readback;
pub mod reports;
pub mod schedule;
pub mod seed;
pub mod sign_out;
pub mod storage;
pub mod store;
pub mod throttle;
pub mod tls;
pub mod verify;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store::{OfficeStore, SqliteStore};

/// How an office runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The SQLite database file (created on first start); empty on another store.
    pub db: PathBuf,
    /// Where attachment files live: by default a folder next to the database (`<db>.files`), or
    /// an S3-compatible bucket ([`objects::Location`]).
    pub objects: objects::Location,
    /// The office's signing key (receipts, tree heads); by default `<db>.office-key`, created on
    /// the first start. Never inside the database.
    pub key_file: PathBuf,
    /// Lifetime of an access token.
    pub access_ttl: Duration,
    /// Lifetime of a refresh token (each refresh rotates it, never past `session_max_age`).
    pub refresh_ttl: Duration,
    /// A device session ends this long after its login, however often it was refreshed.
    pub session_max_age: Duration,
    /// A staff (console) session ends after this long without a request…
    pub staff_idle_timeout: Duration,
    /// …and this long after its login in any case.
    pub staff_max_age: Duration,
    /// Login throttling and the password hashing queue ([`throttle`]).
    pub throttle: throttle::Throttle,
    /// Admins must sign in with a TOTP second factor; one without sets it up first (their
    /// password alone opens a session that can do only that).
    pub require_admin_totp: bool,
    /// Behind a reverse proxy: the header carrying the client address (the proxy's last
    /// `X-Forwarded-For` entry is taken). Unset: the TCP peer address.
    pub client_address_header: Option<String>,
    /// The office's clock (a test moves it forward).
    pub clock: clock::Clock,
    /// A device whose clock offset moves by more than this between two requests is flagged.
    pub clock_jump_threshold: Duration,
    /// The font of the evidence bundle's PDF summary ([`pdf::PdfFont::load`]); `None`, or a file
    /// that cannot be read: bundles without the PDF, their README says why.
    pub pdf_font: Option<PathBuf>,
    /// On PostgreSQL: connections at most in this process's pool (`serve --db-connections`).
    pub db_connections: u32,
}

impl Config {
    pub fn new(db: impl AsRef<Path>) -> Config {
        let db = db.as_ref().to_path_buf();
        let mut files = db.clone().into_os_string();
        files.push(".files");
        Config {
            key_file: office_key::default_path(&db),
            db,
            objects: objects::Location::Folder(PathBuf::from(files)),
            access_ttl: Duration::from_secs(60 * 60),
            refresh_ttl: Duration::from_secs(60 * 60 * 24 * 30),
            session_max_age: Duration::from_secs(60 * 60 * 24 * 30),
            staff_idle_timeout: Duration::from_secs(60 * 60 * 2),
            staff_max_age: Duration::from_secs(60 * 60 * 12),
            throttle: throttle::Throttle::default(),
            require_admin_totp: false,
            client_address_header: None,
            clock: clock::Clock::system(),
            clock_jump_threshold: Duration::from_secs(120),
            pdf_font: Some(PathBuf::from(pdf::DEFAULT_FONT)),
            db_connections: store::postgres::DEFAULT_POOL_SIZE,
        }
    }
}

/// Shared state of a running office.
#[derive(Clone)]
pub struct OfficeState {
    pub store: Arc<dyn OfficeStore>,
    /// Attachment bytes ([`objects`]).
    pub files: Arc<objects::Objects>,
    pub config: Arc<Config>,
    /// Signs receipts and tree heads.
    pub office_key: Arc<ed25519_dalek::SigningKey>,
    /// Tells open consoles what changed (`GET /api/v1/live`).
    pub live: Arc<api::live::LiveHub>,
    /// Failed sign-ins and the password hashing queue ([`throttle`]).
    pub login_guard: Arc<throttle::LoginGuard>,
    /// How far each device's chain was verified for the job page ([`chain_cache`]).
    pub chains: Arc<chain_cache::ChainCache>,
    /// When this process last wrote each device's last sync time ([`api::device_info`]).
    pub sync_marks: Arc<api::device_info::SyncMarks>,
}

impl OfficeState {
    /// The office's public key as devices and exports carry it (hex).
    pub fn office_public_key(&self) -> String {
        hex::encode(self.office_key.verifying_key().as_bytes())
    }

    /// The office clock's now ([`Config::clock`]).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.config.clock.now()
    }
}

impl std::fmt::Debug for OfficeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficeState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// An office ready to serve: storage opened and migrated.
#[derive(Debug, Clone)]
pub struct Office {
    state: OfficeState,
}

impl Office {
    /// Open (or create) the SQLite database and the attachment folder named in `config`.
    pub fn open(config: Config) -> anyhow::Result<Office> {
        let store = SqliteStore::open(&config.db)?;
        Self::with_store(config, Arc::new(store))
    }

    /// An office on `storage` (what `serve --db` / `--database` opens): on PostgreSQL its live
    /// feed is also relayed to and from the other office processes ([`live_notify`]).
    pub fn open_on(storage: &storage::Storage, config: Config) -> anyhow::Result<Office> {
        let store = storage.open_with(config.db_connections)?;
        let office = Self::with_store(config, store)?;
        if let storage::Storage::Postgres(url) = storage {
            live_notify::start(url, office.state.live.clone())?;
        }
        Ok(office)
    }

    /// An office on any [`OfficeStore`] implementation. Refuses to start when the office key file
    /// is missing, exposed, malformed or not this database's ([`office_key`]).
    pub fn with_store(config: Config, store: Arc<dyn OfficeStore>) -> anyhow::Result<Office> {
        let key = Arc::new(office_key::load_or_create(&config.key_file, &*store)?);
        let written = feedback::backfill(&*store, chrono::Utc::now())?;
        if written > 0 {
            tracing::info!(
                records = written,
                "wrote the feedback records of visits closed before they were kept"
            );
        }
        let files = objects::Objects::open(&config.objects)?;
        Ok(Office {
            state: OfficeState {
                store,
                files: Arc::new(files),
                config: Arc::new(config),
                live: Arc::new(api::live::LiveHub::default()),
                chains: Arc::new(chain_cache::ChainCache::with_checkpoints(key.clone())),
                office_key: key,
                login_guard: Arc::new(throttle::LoginGuard::default()),
                sync_marks: Arc::default(),
            },
        })
    }

    pub fn state(&self) -> &OfficeState {
        &self.state
    }

    pub fn store(&self) -> Arc<dyn OfficeStore> {
        self.state.store.clone()
    }

    /// Seed the demo company (idempotent); returns the demo logins.
    pub fn seed_demo(&self) -> anyhow::Result<Vec<demo::DemoLogin>> {
        demo::seed(&*self.state.store, chrono::Utc::now())
    }

    /// Add a user with an argon2-hashed password (what `heatcrew-office user add` does); for tests,
    /// the simulator and first-run setup.
    pub fn add_user(
        &self,
        username: &str,
        password: &str,
        role: heatcrew_protocol::sync::Role,
        display_name: &str,
        badge_no: &str,
    ) -> anyhow::Result<heatcrew_protocol::sync::UserInfo> {
        let user = store::NewUser {
            username: username.to_owned(),
            password_hash: api::auth::hash_password(password)?,
            display_name: display_name.to_owned(),
            role,
            badge_no: badge_no.to_owned(),
        };
        Ok(self.state.store.add_user(user, chrono::Utc::now())?)
    }

    /// Verify every device's chain once on a background thread ([`chain_cache::ChainCache::warm`]),
    /// so the first job pages after a start find their chains verified (`serve` does this).
    pub fn warm_chains_in_background(&self) {
        let (store, chains) = (self.state.store.clone(), self.state.chains.clone());
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            match chains.warm(&*store) {
                Ok(r) => tracing::info!(
                    devices = r.devices,
                    signatures_checked = r.checked,
                    rehashed_from_checkpoints = r.replayed,
                    faulty_chains = r.faulty,
                    ms = started.elapsed().as_millis() as u64,
                    "device chains verified"
                ),
                Err(e) => tracing::warn!("verifying device chains at start: {e}"),
            }
        });
    }

    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone())
    }

    /// Serve on `listener` until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        serve(listener, self.router(), None, std::future::pending()).await
    }

    /// Bind `addr` (e.g. `127.0.0.1:0`) and serve plain HTTP on a background task.
    pub async fn spawn(self, addr: &str) -> std::io::Result<RunningOffice> {
        self.spawn_with(addr, None).await
    }

    /// Bind `addr` and serve on a background task: HTTPS when `tls` is given, else plain HTTP.
    pub async fn spawn_with(
        self,
        addr: &str,
        tls: Option<tls::Tls>,
    ) -> std::io::Result<RunningOffice> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = self.router();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let task = tokio::spawn(async move {
            let _ = serve(listener, router, tls, async {
                let _ = rx.await;
            })
            .await;
        });
        Ok(RunningOffice {
            addr,
            scheme,
            state: self.state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// Serve `router` on `listener` until `shutdown` resolves, then stop accepting and let in-flight
/// requests (and their transactions) finish. With `tls`, HTTPS through axum-server's rustls
/// acceptor and `Strict-Transport-Security` on every response; without, plain HTTP (on loopback
/// behind a TLS-terminating reverse proxy, or for tests). Either way each connection carries its
/// peer address (`ConnectInfo<SocketAddr>`), which [`api::extract::client_address`] reads for
/// login throttling and the audit log.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    tls: Option<tls::Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match tls {
        None => {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        }
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let stop = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                stop.graceful_shutdown(None);
            });
            let config = axum_server::tls_rustls::RustlsConfig::from_config(tls.config);
            axum_server::from_tcp_rustls(listener.into_std()?, config)?
                .handle(handle)
                .serve(
                    api::headers::hsts(router).into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
        }
    }
}

/// An office serving in the background of this process; stops when dropped.
#[derive(Debug)]
pub struct RunningOffice {
    pub addr: SocketAddr,
    /// `http` or `https`.
    scheme: &'static str,
    pub state: OfficeState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningOffice {
    /// `http://127.0.0.1:PORT` (`https://` when serving TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stop accepting connections and wait for in-flight requests to finish (open live streams
    /// end at once).
    pub async fn stop(mut self) {
        self.state.live.close();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningOffice {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
