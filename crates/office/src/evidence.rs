//! The office's signed statements about its log, shared by the API, `export` and the tests: the
//! latest tree head (signed once per size and kept, so every holder of a size sees one root and one
//! signature), and the one a pull hands out.

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
    match head_now(store, office, now)? {
        Ok(kept) => Ok(kept),
        Err(new) => store.save_tree_head(&new),
    }
}

/// The head kept for the log's size now (`Ok`), or a new one for it signed at `now` and not kept
/// yet (`Err`).
fn head_now(
    store: &dyn OfficeStore,
    office: &SigningKey,
    now: DateTime<Utc>,
) -> StoreResult<Result<TreeHead, TreeHead>> {
    let size = store.log_size()?;
    if let Some(head) = store.tree_head(size)? {
        return Ok(Ok(head));
    }
    let root = store
        .log_root(size)?
        .ok_or_else(|| StoreError::Corrupt(format!("the log has no root for size {size}")))?;
    Ok(Err(TreeHead::sign(office, size, root, now)))
}

/// The tree head a pull hands out: [`latest_tree_head`], unless keeping a new one would wait for
/// the store's one busy writer (SQLite while pushes commit): then the newest head kept so far. A
/// pull must not queue behind a burst of pushes for a signature the next pull brings anyway, and
/// nothing is lost: every head handed out is still one kept, and the newest kept is never smaller
/// than one any device received before (a device keeps each and flags a log that shrank).
pub fn pull_tree_head(
    store: &dyn OfficeStore,
    office: &SigningKey,
    now: DateTime<Utc>,
) -> StoreResult<TreeHead> {
    let head = match head_now(store, office, now)? {
        Ok(kept) => return Ok(kept),
        Err(new) => new,
    };
    if let Some(kept) = store.try_save_tree_head(&head)? {
        return Ok(kept);
    }
    match store.newest_tree_head()? {
        Some(newest) => Ok(newest),
        None => store.save_tree_head(&head),
    }
}
