//! The chain checkpoints of [`crate::chain_cache`]: one signed row per device, and the device's
//! stored rows read back as stored for the checkpoint's digest.

use super::{SqliteStore, parse_digest, parse_ts, parse_uuid, ts};
use crate::store::{ChainCheckStore, ChainCheckpoint, StoreError, StoreResult};
use heatcrew_protocol::ChainTip;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

impl ChainCheckStore for SqliteStore {
    fn device_rows(
        &self,
        device_id: Uuid,
        after: u64,
        upto: u64,
        f: &mut dyn FnMut(u64, &str, &str) -> bool,
    ) -> StoreResult<()> {
        let conn = self.reader();
        let mut st = conn.prepare_cached(
            "SELECT device_seq, id, body FROM events
             WHERE device_id = ?1 AND device_seq > ?2 AND device_seq <= ?3 ORDER BY device_seq",
        )?;
        let clamp = |n: u64| n.min(i64::MAX as u64) as i64;
        let mut rows = st.query(params![device_id.to_string(), clamp(after), clamp(upto)])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let text = |i: usize| -> StoreResult<&str> {
                r.get_ref(i)?
                    .as_str()
                    .map_err(|e| StoreError::Corrupt(format!("stored event {seq}: {e}")))
            };
            let (id, body) = (text(1)?, text(2)?);
            if !f(seq as u64, id, body) {
                break;
            }
        }
        Ok(())
    }

    fn chain_checkpoint(&self, device_id: Uuid) -> StoreResult<Option<ChainCheckpoint>> {
        type Row = (String, String, i64, String, String, String, String);
        let row: Option<Row> = self
            .reader()
            .query_row(
                "SELECT device_id, public_key, seq, tip_hash, rows_digest, sig, checked_at
                 FROM chain_checkpoints WHERE device_id = ?1",
                [device_id.to_string()],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((device, public_key, seq, tip_hash, digest, sig, checked_at)) = row else {
            return Ok(None);
        };
        let mut sig_bytes = [0u8; 64];
        hex::decode_to_slice(&sig, &mut sig_bytes)
            .map_err(|_| StoreError::Corrupt("chain checkpoint signature is not hex".into()))?;
        Ok(Some(ChainCheckpoint {
            device_id: parse_uuid(&device)?,
            public_key,
            tip: ChainTip {
                seq: u64::try_from(seq)
                    .map_err(|_| StoreError::Corrupt("negative checkpoint seq".into()))?,
                hash: parse_digest(&tip_hash)?,
            },
            rows_digest: parse_digest(&digest)?,
            sig: sig_bytes,
            checked_at: parse_ts(&checked_at)?,
        }))
    }

    fn save_chain_checkpoint(&self, c: &ChainCheckpoint) -> StoreResult<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO chain_checkpoints
                 (device_id, public_key, seq, tip_hash, rows_digest, sig, checked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                c.device_id.to_string(),
                c.public_key,
                c.tip.seq.min(i64::MAX as u64) as i64,
                c.tip.hash.to_hex(),
                c.rows_digest.to_hex(),
                hex::encode(c.sig),
                ts(c.checked_at),
            ],
        )?;
        Ok(())
    }
}
