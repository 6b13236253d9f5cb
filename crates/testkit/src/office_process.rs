//! The office in a child process (this test binary re-run as the office), so that it can be
//! SIGKILLed mid-request and restarted on the same port and database: on an SQLite file
//! ([`OfficeProcess::start`]) or on PostgreSQL with a shared key file and object store
//! ([`OfficeProcess::start_on_postgres`]), as `heatcrew-office serve --database` runs, several
//! processes on one database.
//!
//! A test binary that uses [`OfficeProcess`] declares the hook the child runs, ignored so that it
//! is not counted as a test (the parent starts it with `--ignored`):
//!
//! ```text
//! #[test]
//! #[ignore = "not a test: the office child process that OfficeProcess starts"]
//! fn office_child() {
//!     heatcrew_testkit::office_process::serve_if_child();
//! }
//! ```

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Set in the child's environment: the database to serve.
pub const CHILD_DB: &str = "HEATCREW_TEST_OFFICE_DB";
/// Set in the child's environment: the address to bind.
pub const CHILD_LISTEN: &str = "HEATCREW_TEST_OFFICE_LISTEN";
/// Set in the child's environment instead of [`CHILD_DB`]: the PostgreSQL database to serve…
pub const CHILD_DATABASE: &str = "HEATCREW_TEST_OFFICE_DATABASE";
/// …with this office key file…
pub const CHILD_KEY_FILE: &str = "HEATCREW_TEST_OFFICE_KEY_FILE";
/// …and these objects (a folder or `s3://bucket/prefix`, S3 settings in the `AWS_*` environment).
pub const CHILD_OBJECTS: &str = "HEATCREW_TEST_OFFICE_OBJECTS";

/// What a child office serves.
#[derive(Debug, Clone)]
pub enum ChildStore {
    /// An SQLite file (key and files beside it).
    Sqlite(PathBuf),
    /// A PostgreSQL database shared with other processes.
    Postgres {
        url: String,
        key_file: PathBuf,
        objects: String,
        /// Extra environment (the S3 server's `AWS_*` settings).
        env: Vec<(String, String)>,
    },
}

/// If this process was started as an office child, serve the demo office until killed; otherwise
/// (someone ran the ignored hook by hand) do nothing. Call from an ignored test named
/// `office_child`.
pub fn serve_if_child() {
    let Ok(listen) = std::env::var(CHILD_LISTEN) else {
        return;
    };
    let (storage, config) = if let Ok(url) = std::env::var(CHILD_DATABASE) {
        let url = heatcrew_office::storage::DatabaseUrl::parse(&url).expect("database url");
        let storage = heatcrew_office::storage::Storage::Postgres(url);
        let key_file = std::env::var(CHILD_KEY_FILE).expect("key file");
        let objects = heatcrew_office::objects::Location::parse(
            &std::env::var(CHILD_OBJECTS).expect("objects"),
        )
        .expect("objects location");
        let config = storage.config(key_file.into(), objects);
        (storage, config)
    } else if let Ok(db) = std::env::var(CHILD_DB) {
        let storage = heatcrew_office::storage::Storage::Sqlite(db.clone().into());
        (storage, heatcrew_office::Config::new(&db))
    } else {
        return;
    };
    // Opened and seeded before the runtime: the PostgreSQL client is synchronous.
    let office = heatcrew_office::Office::open_on(&storage, config).expect("open office");
    office.seed_demo().expect("seed demo");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        // As `serve` does: every process runs the periodic follow-up.
        heatcrew_office::schedule::spawn(
            office.state().clone(),
            std::time::Duration::from_secs(60),
        );
        let listener = tokio::net::TcpListener::bind(&listen).await.expect("bind");
        println!(
            "listening on http://{}",
            listener.local_addr().expect("addr")
        );
        office.serve(listener).await.expect("serve");
    });
}

#[derive(Debug)]
pub struct OfficeProcess {
    child: Child,
    pub addr: SocketAddr,
    store: ChildStore,
}

impl OfficeProcess {
    /// Start an office child serving `db` on `listen` (`127.0.0.1:0` for any port).
    pub fn start(db: &Path, listen: &str) -> OfficeProcess {
        Self::start_child(ChildStore::Sqlite(db.to_path_buf()), listen)
    }

    /// Start an office child on the PostgreSQL database `url` with `key_file` and `objects` (a
    /// folder or `s3://…`, its settings in `env`), as `heatcrew-office serve --database url
    /// --key-file … --objects …` runs. Start the first process of a new database alone: it creates
    /// the key file and seeds the demo company.
    pub fn start_on_postgres(
        url: &str,
        key_file: &Path,
        objects: &str,
        env: &[(&str, String)],
        listen: &str,
    ) -> OfficeProcess {
        let store = ChildStore::Postgres {
            url: url.to_owned(),
            key_file: key_file.to_path_buf(),
            objects: objects.to_owned(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        };
        Self::start_child(store, listen)
    }

    fn start_child(store: ChildStore, listen: &str) -> OfficeProcess {
        let mut command = Command::new(std::env::current_exe().expect("exe"));
        match &store {
            ChildStore::Sqlite(db) => {
                command.env(CHILD_DB, db);
            }
            ChildStore::Postgres {
                url,
                key_file,
                objects,
                env,
            } => {
                command
                    .env(CHILD_DATABASE, url)
                    .env(CHILD_KEY_FILE, key_file)
                    .env(CHILD_OBJECTS, objects)
                    .envs(env.iter().map(|(k, v)| (k, v)));
            }
        }
        let mut child = command
            .args([
                "--exact",
                "office_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_LISTEN, listen)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn office child");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the office child prints its address")
                .expect("read");
            // libtest may print "test office_child ... " on the same line first.
            if let Some(at) = line.find("listening on http://") {
                let a = &line[at + "listening on http://".len()..];
                break a.trim().parse().expect("address");
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        OfficeProcess { child, addr, store }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL: no shutdown, no flush; whatever was mid-request is cut.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start again on the same port and database (retrying while the port is released).
    pub fn restart(&mut self) {
        self.kill();
        let listen = self.addr.to_string();
        for _ in 0..50 {
            if std::net::TcpListener::bind(&listen).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        *self = OfficeProcess::start_child(self.store.clone(), &listen);
    }
}

impl Drop for OfficeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
