//! Wire types shared by the HeatCrew device and office.
//!
//! **Frozen and versioned.** Everything in this crate crosses the wire or is stored as evidence, so
//! it changes only by addition: a new optional field (with `#[serde(default)]`) or a new event kind.
//! A change that would alter the meaning or the canonical encoding of an existing field needs a new
//! [`PROTOCOL_VERSION`] and a new event kind name; old events must keep verifying forever, because
//! heat-theft records may end up in court years after capture.
//!
//! - [`event`]: the signed, hash-chained event envelope and its canonical encoding.
//! - [`body`]: the typed payloads of events (what a technician, inspector or patrol recorded).
//! - [`job`]: jobs, customers, appointment windows, patrol checkpoints, outage notices.
//! - [`sync`]: push, pull, login, attachments and the `{code, message}` error body.
//! - [`bounds`]: the one range check of times, numbers, lengths and counts a record may carry.
//! - [`error_code`]: the one error vocabulary of device, office and UI, with its zh-CN and English texts.

pub mod body;
pub mod bounds;
pub mod canonical;
pub mod digest;
pub mod error_code;
pub mod event;
pub mod export;
pub mod job;
pub mod lang;
pub mod log;
pub mod merkle;
#[cfg(feature = "utoipa")]
mod openapi;
pub mod sync;

pub use body::*;
pub use canonical::Format;
pub use digest::Digest;
pub use error_code::ErrorCode;
pub use event::{ChainTip, Event, EventFault, UnsignedEvent};
pub use job::*;
pub use lang::Lang;

/// The version of this protocol. The office stamps it on every response in [`PROTOCOL_HEADER`];
/// a device refuses to talk to an office with a different major version.
pub const PROTOCOL_VERSION: u32 = 1;
/// Response header carrying [`PROTOCOL_VERSION`].
pub const PROTOCOL_HEADER: &str = "x-heatcrew-protocol";
/// Response header carrying the office's clock (RFC 3339), so devices can measure their offset.
pub const SERVER_TIME_HEADER: &str = "x-heatcrew-server-time";
/// Request header a device may send with its own clock (RFC 3339); the office records the offset
/// per device (server minus device) to correct SLA clocks and flags devices whose clock jumped.
/// Added in protocol 1 (optional: an office ignores it when absent).
pub const DEVICE_TIME_HEADER: &str = "x-heatcrew-device-time";
