//! What can go wrong in storage, for every backend.

use heatcrew_protocol::ErrorCode;

/// What went wrong in storage, in words a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: String },
    /// A request that clashes with stored state (a taken username, a device key mismatch).
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    /// A request that can never succeed as sent.
    #[error("{message}")]
    Invalid { code: ErrorCode, message: String },
    /// The push skipped sequence numbers; nothing of the batch was stored.
    #[error("sequence gap: the office expects device_seq {expected} next")]
    SequenceGap { expected: u64 },
    #[error(
        "the database was written by a newer heatcrew-office (schema {found}, this binary knows {known}); upgrade the binary"
    )]
    NewerSchema { found: i64, known: i64 },
    /// The file is not a HeatCrew office database (or one too old to hold the evidence log).
    #[error("{0}")]
    NotOffice(String),
    /// The database engine failed (I/O, a lost connection, a broken pool): each backend turns its
    /// driver's error into this (`From` impls in `sqlite/` and `postgres/`), so no caller sees a
    /// driver type.
    #[error("database: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(e))
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        StoreError::NotFound { what: what.into() }
    }
}
