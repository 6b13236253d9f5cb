//! A real S3-protocol server for tests: `s3s-fs` (installed from crates.io by `./dev test`) on a
//! free loopback port, keeping its objects as files in a temp dir, with one bucket ready.
//!
//! Without the binary the S3 tests skip with a message, unless `HEATCREW_S3_REQUIRED=1` (what
//! `./dev test` sets): then a missing server fails them.

use heatcrew_office::objects::{Location, S3Location};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server's credentials (it refuses requests not signed with them).
pub const ACCESS_KEY: &str = "heatcrew-test";
pub const SECRET_KEY: &str = "heatcrew-test-secret";
/// The bucket every test server starts with.
pub const BUCKET: &str = "heatcrew";
/// Set to `1` to fail, not skip, when `s3s-fs` is missing.
pub const REQUIRED_ENV: &str = "HEATCREW_S3_REQUIRED";

/// A running `s3s-fs`; killed, and its data removed, when dropped.
#[derive(Debug)]
pub struct S3Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

/// Where the `s3s-fs` binary is: `HEATCREW_S3S_FS`, else on `PATH`, else in `~/.cargo/bin`.
fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HEATCREW_S3S_FS") {
        return Some(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("s3s-fs"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let p = PathBuf::from(std::env::var_os("HOME")?).join(".cargo/bin/s3s-fs");
        p.is_file().then_some(p)
    })
}

impl S3Server {
    /// Start a server, or `None` (after saying why) when `s3s-fs` is not installed and
    /// [`REQUIRED_ENV`] is not set.
    pub fn start() -> Option<S3Server> {
        let Some(bin) = binary() else {
            if std::env::var(REQUIRED_ENV).as_deref() == Ok("1") {
                panic!(
                    "{REQUIRED_ENV}=1 but s3s-fs is not installed (./dev test installs it: cargo install s3s-fs --features binary)"
                );
            }
            eprintln!(
                "skipped: s3s-fs is not installed (./dev test installs it; set {REQUIRED_ENV}=1 to fail instead)"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir for the S3 server");
        std::fs::create_dir_all(dir.path().join(BUCKET)).expect("the bucket's folder");
        // The free port may be taken between our look and the server's bind: try a few.
        for _ in 0..5 {
            let port = crate::free_port();
            let mut child = Command::new(&bin)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(30) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(S3Server { child, port, dir });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("s3s-fs did not start listening");
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `s3://heatcrew/<prefix>`, as `serve --objects` takes it.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// The office's [`Location`] for objects under `prefix` in this server's bucket (endpoint and
    /// credentials as options, so tests in parallel never share the process environment).
    pub fn location(&self, prefix: &str) -> Location {
        Location::S3(S3Location {
            bucket: BUCKET.into(),
            prefix: prefix.into(),
            options: vec![
                ("aws_endpoint".into(), self.endpoint()),
                ("aws_access_key_id".into(), ACCESS_KEY.into()),
                ("aws_secret_access_key".into(), SECRET_KEY.into()),
                ("aws_region".into(), "us-east-1".into()),
            ],
        })
    }

    /// The environment a `heatcrew-office` child process reads the same settings from.
    pub fn env(&self) -> [(&'static str, String); 4] {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// The file the server keeps an object's bytes in (`key` without the bucket), to damage or
    /// remove it behind the office's back.
    pub fn object_file(&self, key: &str) -> PathBuf {
        self.dir.path().join(BUCKET).join(key)
    }

    /// The server's data folder.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
