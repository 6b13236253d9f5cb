//! The office in this process: `heatcrew_office::Office` on `127.0.0.1:<free port>` with its SQLite
//! file and attachment folder in a temp dir, and a plain HTTP client for its API.

use heatcrew_office::api::auth::hash_password;
use heatcrew_office::objects::Location;
use heatcrew_office::storage::{DatabaseUrl, Storage};
use heatcrew_office::store::{NewUser, OfficeStore};
use heatcrew_office::{Config, Office, RunningOffice};
use heatcrew_protocol::sync::{Role, UserInfo};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub use heatcrew_office::demo::DEMO_PASSWORD;

/// The password of the [`Seed::TestAccounts`] accounts.
pub const PASSWORD: &str = "correct horse battery";

/// The [`Seed::TestAccounts`]: username, role, display name, badge number.
pub const TEST_ACCOUNTS: [(&str, Role, &str, &str); 4] = [
    ("admin", Role::Admin, "管理员", "A001"),
    ("dispatch", Role::Dispatcher, "调度员", "D001"),
    ("tech_a", Role::RepairTechnician, "张伟", "W017"),
    ("tech_b", Role::RepairTechnician, "李娜", "W018"),
];

/// How long a restart may wait for the old port to be released.
const PORT_PATIENCE: Duration = Duration::from_secs(60);

/// Who can sign in to a fresh test office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// No accounts at all.
    Nothing,
    /// `admin`, `dispatch`, `tech_a` and `tech_b` (two repair technicians), all with [`PASSWORD`];
    /// their names and badges are [`TEST_ACCOUNTS`].
    TestAccounts,
    /// The demo company (`heatcrew_office::demo`): its staff, crews and today's jobs, all with
    /// [`DEMO_PASSWORD`].
    Demo,
}

/// A running office on loopback. Dropping it stops the server, then removes its files.
#[derive(Debug)]
pub struct TestOffice {
    // Declared first so it is dropped first: the server stops before its files go.
    running: Option<RunningOffice>,
    config: Config,
    /// Where the records are: the SQLite file of `config.db`, or a PostgreSQL database.
    storage: Storage,
    addr: SocketAddr,
    /// A client for the office's HTTP API.
    pub http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl TestOffice {
    /// An office with the [`Seed::TestAccounts`] and the default configuration.
    pub async fn start() -> TestOffice {
        Self::start_with(Seed::TestAccounts, |_| {}).await
    }

    /// The demo company's office, as `heatcrew-office serve --demo` starts it.
    pub async fn demo() -> TestOffice {
        Self::start_with(Seed::Demo, |_| {}).await
    }

    /// An office with these accounts and `tweak` applied to its configuration.
    pub async fn start_with(seed: Seed, tweak: impl FnOnce(&mut Config)) -> TestOffice {
        let dir = tempfile::tempdir().expect("temp dir for the office");
        let storage = Storage::Sqlite(dir.path().join("office.db"));
        Self::start_in(dir, storage, seed, tweak).await
    }

    /// An office on the PostgreSQL database at `url` (e.g. a [`crate::pg::TestDb`]'s), its key
    /// file in the office's temp dir ([`TestOffice::key_file`]), as `serve --database` runs it.
    /// Needs a multi-threaded runtime: the PostgreSQL client blocks while it opens.
    pub async fn start_on_postgres(
        url: &str,
        seed: Seed,
        tweak: impl FnOnce(&mut Config),
    ) -> TestOffice {
        let dir = tempfile::tempdir().expect("temp dir for the office");
        let storage = Storage::Postgres(DatabaseUrl::parse(url).expect("a PostgreSQL address"));
        Self::start_in(dir, storage, seed, tweak).await
    }

    async fn start_in(
        dir: tempfile::TempDir,
        storage: Storage,
        seed: Seed,
        tweak: impl FnOnce(&mut Config),
    ) -> TestOffice {
        let mut config = match &storage {
            Storage::Sqlite(db) => Config::new(db),
            Storage::Postgres(_) => storage.config(
                dir.path().join("office-key"),
                Location::Folder(dir.path().join("files")),
            ),
        };
        tweak(&mut config);
        // A tweak may move the SQLite file: the office opens the one its configuration names.
        let storage = match storage {
            Storage::Sqlite(_) => Storage::Sqlite(config.db.clone()),
            postgres => postgres,
        };
        // PostgreSQL's client blocks: the office opens and is seeded off the async worker.
        let office = blocking(&storage, || {
            let office =
                Office::open_on(&storage, config.clone()).expect("open the office database");
            match seed {
                Seed::Nothing => {}
                Seed::TestAccounts => {
                    for (username, role, name, badge) in TEST_ACCOUNTS {
                        office
                            .add_user(username, PASSWORD, role, name, badge)
                            .expect("add a test account");
                    }
                }
                Seed::Demo => {
                    office.seed_demo().expect("seed the demo company");
                }
            }
            office
        });
        let running = office
            .spawn("127.0.0.1:0")
            .await
            .expect("serve on loopback");
        TestOffice {
            addr: running.addr,
            running: Some(running),
            config,
            storage,
            http: reqwest::Client::new(),
            dir,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The full URL of an API path such as `/api/v1/jobs`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The office's SQLite file.
    pub fn db(&self) -> &Path {
        &self.config.db
    }

    /// The office key file (every process of one office shares it).
    pub fn key_file(&self) -> &Path {
        &self.config.key_file
    }

    /// The temp dir holding the office's files; tests may put their own files here too.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The running server, its state and store (panics while it is stopped).
    pub fn running(&self) -> &RunningOffice {
        self.running
            .as_ref()
            .expect("the office is up (not stopped)")
    }

    pub fn store(&self) -> &dyn OfficeStore {
        &*self.running().state.store
    }

    /// The id of an account.
    pub fn user_id(&self, username: &str) -> Uuid {
        blocking(&self.storage, || {
            self.store()
                .user_by_username(username)
                .expect("look up the user")
                .expect("the user exists")
                .info
                .id
        })
    }

    /// Add an account (as `heatcrew-office add-user` does).
    pub fn add_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
        display_name: &str,
    ) -> UserInfo {
        let user = NewUser {
            username: username.to_owned(),
            password_hash: hash_password(password).expect("hash the password"),
            display_name: display_name.to_owned(),
            role,
            badge_no: String::new(),
        };
        blocking(&self.storage, || {
            self.store()
                .add_user(user, chrono::Utc::now())
                .expect("add the account")
        })
    }

    /// Stop serving (in-flight requests finish); devices then meet connection refused.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    /// Stop if running, then serve the same database and files on the same address again
    /// (retrying while the OS releases the port).
    pub async fn restart(&mut self) {
        self.stop().await;
        let start = Instant::now();
        loop {
            let office = blocking(&self.storage, || {
                Office::open_on(&self.storage, self.config.clone())
                    .expect("reopen the office database")
            });
            match office.spawn(&self.addr.to_string()).await {
                Ok(running) => {
                    self.running = Some(running);
                    return;
                }
                Err(e) if start.elapsed() < PORT_PATIENCE => {
                    eprintln!("office port not free yet: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("the office could not serve on {} again: {e}", self.addr),
            }
        }
    }

    /// POST JSON (with a bearer token if given); the status and the JSON answer (`null` if none).
    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut req = self.http.post(self.endpoint(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("the office answers");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// GET with a bearer token; the status and the JSON answer (`null` if none).
    pub async fn get_json(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(self.endpoint(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("the office answers");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Sign in as office staff and return the access token.
    pub async fn staff_token(&self, username: &str, password: &str) -> String {
        staff_token_at(&self.url(), username, password).await
    }
}

/// Sign in as office staff at any office (e.g. one in a child process) and return the access token.
pub async fn staff_token_at(office_url: &str, username: &str, password: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{office_url}/api/v1/auth/staff-login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("the office answers");
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "staff login must work: {body}");
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// Run `f` (which opens or seeds the office) where it may block: PostgreSQL's client blocks while
/// it works, so off the async worker when there is one (a multi-threaded runtime is needed there).
fn blocking<T>(storage: &Storage, f: impl FnOnce() -> T) -> T {
    match (storage, tokio::runtime::Handle::try_current()) {
        (Storage::Postgres(_), Ok(_)) => tokio::task::block_in_place(f),
        _ => f(),
    }
}
