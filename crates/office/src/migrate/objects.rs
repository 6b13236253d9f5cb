//! The attachment files: every file the source counts as received, in address order, through the
//! target's own upload path (partial bytes, then `finish`, which hashes them and puts the file in
//! place durably), and counted in the progress row only after the target's copy was read back and
//! hashed to its address. A file already intact at the target (a run killed after its PUT) is not
//! sent again; content addresses make every step idempotent.

use super::MigrateError;
use super::progress::Bar;
use super::target::{self, OBJECTS_ITEM};
use crate::objects::{Finish, Objects};
use heatcrew_protocol::Digest;
use rusqlite::Connection;
use std::io;
use std::time::Duration;

/// The uploader name the migration's partial bytes go under at the target.
const UPLOADER: &str = "migrate";

/// Bytes per partial write (the S3 backend stores each as one object).
const CHUNK: usize = 8 * 1024 * 1024;

/// The files to copy: address and size of every received file, in address order.
pub fn received(source: &Connection) -> Result<Vec<(Digest, u64)>, MigrateError> {
    let mut stmt = source
        .prepare("SELECT sha256, size FROM attachments WHERE complete = 1 ORDER BY sha256")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (hex, size) = row?;
        let sha: Digest = hex.parse().map_err(|_| {
            MigrateError::Corrupt(format!("attachments: {hex:?} is not a SHA-256 address"))
        })?;
        out.push((sha, size as u64));
    }
    Ok(out)
}

/// Copy the files after the last one recorded.
pub fn copy_files(
    rt: &tokio::runtime::Handle,
    source: &Connection,
    from: &Objects,
    to: &Objects,
    client: &mut postgres::Client,
    pause: Duration,
    bar: &Bar,
) -> Result<(), MigrateError> {
    let files = received(source)?;
    let mut at = target::progress(client, OBJECTS_ITEM)?;
    bar.set(at.rows, at.bytes);
    let after = at
        .last_key
        .as_ref()
        .and_then(|k| k.as_str())
        .map(str::to_owned);
    for (sha, size) in files {
        if after
            .as_deref()
            .is_some_and(|last| sha.to_hex().as_str() <= last)
        {
            continue;
        }
        copy_one(rt, from, to, sha)?;
        let mut tx = client.transaction()?;
        target::record(
            &mut tx,
            OBJECTS_ITEM,
            Some(&serde_json::Value::from(sha.to_hex())),
            1,
            size,
            false,
        )?;
        tx.commit()?;
        at.rows += 1;
        at.bytes += size;
        bar.set(at.rows, at.bytes);
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
    let mut tx = client.transaction()?;
    target::record(&mut tx, OBJECTS_ITEM, None, 0, 0, true)?;
    tx.commit()?;
    bar.finish();
    Ok(())
}

fn copy_one(
    rt: &tokio::runtime::Handle,
    from: &Objects,
    to: &Objects,
    sha: Digest,
) -> Result<(), MigrateError> {
    let file_err = |what: &str, e: io::Error| MigrateError::Objects(format!("{what} {sha}: {e}"));
    // Already in place and intact (a run killed after the write, or the same content twice).
    if let Ok(true) = to.is_intact_blocking(sha) {
        return Ok(());
    }
    let bytes = from
        .read_blocking(sha)
        .map_err(|e| file_err("reading the source's file", e))?;
    if Digest::of(&bytes) != sha {
        return Err(MigrateError::Objects(format!(
            "the source's file {sha} does not match its address (damaged): run `heatcrew-office verify` on the source"
        )));
    }
    rt.block_on(async {
        to.discard_partial(sha, UPLOADER).await?;
        let mut offset = 0u64;
        for chunk in bytes.chunks(CHUNK) {
            offset = to
                .append(sha, UPLOADER, offset, bytes::Bytes::copy_from_slice(chunk))
                .await?;
        }
        match to.finish(sha, UPLOADER).await? {
            Finish::Stored { .. } => {}
            Finish::HashMismatch { actual } => {
                return Err(io::Error::other(format!(
                    "the bytes written hash to {actual}"
                )));
            }
        }
        to.discard_partial(sha, UPLOADER).await
    })
    .map_err(|e| file_err("writing the target's file", e))?;
    match to.is_intact_blocking(sha) {
        Ok(true) => Ok(()),
        Ok(false) => Err(MigrateError::Objects(format!(
            "the target's file {sha} does not match its address after the copy (a damaged object was already there: delete it and run again)"
        ))),
        Err(e) => Err(file_err("reading back the target's file", e)),
    }
}
