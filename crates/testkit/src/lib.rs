//! The parts every crate's tests start from, written once (a dev-dependency only):
//!
//! - [`TestOffice`]: the real office in this process on a free loopback port, its database in a
//!   temp dir; it can stop and come back on the same address and database.
//! - [`TestDevice`]: a real device core (`heatcrew_core::Store` on a temp file) signed in to an
//!   office, with its sync client.
//! - [`KeyDevice`]: a device that is only a key and a chain, signed in with a proof of its key
//!   ([`TestOffice::login_device`]), sealing events by hand: for office tests that choose every
//!   byte a device sends.
//! - [`fault_proxy::FaultProxy`]: a TCP proxy that cuts, delays and duplicates requests.
//! - [`office_process::OfficeProcess`]: the office in a child process, to SIGKILL and restart.
//! - [`pg::TestDb`]: a PostgreSQL database of a test's own on the throwaway test cluster.
//! - [`s3_server::S3Server`]: a real S3-protocol server (`s3s-fs`) on loopback, for object storage.
//! - [`free_port`]: a loopback port nobody listens on.
//! - [`ts`]: the check that a UI's generated TypeScript types match the Rust ones.

pub mod device;
pub mod fault_proxy;
pub mod key_device;
pub mod office;
pub mod office_process;
pub mod pg;
pub mod s3_server;
pub mod ts;

pub use device::TestDevice;
pub use key_device::{KeyDevice, defect, step};
pub use office::{DEMO_PASSWORD, PASSWORD, Seed, TEST_ACCOUNTS, TestOffice, staff_token_at};

/// A loopback port that was free a moment ago (the OS picks it; another process may still take it
/// before the caller binds, so use it at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
