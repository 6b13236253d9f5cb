//! The office in a child process (this test binary re-run as the office), so that it can be
//! SIGKILLed mid-request and restarted on the same port and database.
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

/// If this process was started as an office child, serve the demo office until killed; otherwise
/// (someone ran the ignored hook by hand) do nothing. Call from an ignored test named
/// `office_child`.
pub fn serve_if_child() {
    let (Ok(db), Ok(listen)) = (std::env::var(CHILD_DB), std::env::var(CHILD_LISTEN)) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let office =
            heatcrew_office::Office::open(heatcrew_office::Config::new(&db)).expect("open office");
        office.seed_demo().expect("seed demo");
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
    db: PathBuf,
}

impl OfficeProcess {
    /// Start an office child serving `db` on `listen` (`127.0.0.1:0` for any port).
    pub fn start(db: &Path, listen: &str) -> OfficeProcess {
        let mut child = Command::new(std::env::current_exe().expect("exe"))
            .args([
                "--exact",
                "office_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DB, db)
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
        OfficeProcess {
            child,
            addr,
            db: db.to_path_buf(),
        }
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
        *self = OfficeProcess::start(&self.db, &listen);
    }
}

impl Drop for OfficeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
