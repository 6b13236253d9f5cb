//! heatcrew-media: turns what the camera and the signature canvas produce into small, safe,
//! content-addressed files.
//!
//! - [`prepare_photo`]: JPEG/PNG/WebP → upright JPEG (long side ≤ 1600 px, quality 80, no
//!   metadata) + 320 px thumbnail, SHA-256 of each, capture time and GPS read from EXIF.
//! - [`prepare_signature`]: the canvas PNG → trimmed greyscale PNG, refused when empty.
//!
//! Both run in memory and write nothing: storing (write, fsync, rename, then commit the event)
//! belongs to the caller. Every bad input comes back as a [`MediaError`] with a stable `code()`,
//! decoded within [`DecodeLimits`]; decoder panics are contained.

mod decode;
mod error;
mod metadata;
mod photo;
mod signature;

use std::fmt;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

pub use decode::{DecodeLimits, SourceFormat, sniff};
pub use error::MediaError;
pub use metadata::{CaptureMetadata, GpsPosition, TakenAt, read_capture_metadata};
pub use photo::{
    PhotoOptions, PreparedPhoto, prepare_photo, prepare_photo_from_reader, test_photo_jpeg,
};
pub use signature::{PreparedSignature, SignatureOptions, prepare_signature};

/// SHA-256 of a stored file: its name on disk and its reference in events.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    /// Hashes `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        ContentHash(Sha256::digest(bytes).into())
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

impl Serialize for ContentHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
