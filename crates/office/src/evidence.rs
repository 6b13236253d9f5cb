//! The office's signed statements about its log, shared by the API, `export` and the tests: the
//! latest tree head (signed once per size and kept, so every holder of a size sees one root and one
//! signature).

use crate::store::{OfficeStore, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_protocol::log::TreeHead;

/// The signed tree head of the whole log as it is now: the one kept for this size, or a new one
/// signed at `now` and kept.
pub fn latest_tree_head(
    store: &dyn OfficeStore,
    office: &SigningKey,
    now: DateTime<Utc>,
) -> StoreResult<TreeHead> {
    let size = store.log_size()?;
    if let Some(head) = store.tree_head(size)? {
        return Ok(head);
    }
    let root = store
        .log_root(size)?
        .ok_or_else(|| StoreError::Corrupt(format!("the log has no root for size {size}")))?;
    store.save_tree_head(&TreeHead::sign(office, size, root, now))
}
