//! The device key leaves the database (schema 4): moved to the key vault inside the migration's
//! transaction, and the bytes it occupied overwritten afterwards. And what the key signs besides
//! the events: a sign-in's and a sign-out's word on where the chain stands.

use super::parse_uuid;
use crate::error::{CoreError, Result};
use crate::keys::{KeyError, KeyVault};
use ed25519_dalek::SigningKey;
use rusqlite::{Connection, OptionalExtension, Transaction};

/// Inside the migration that drops the secret key: write it to the vault (durably, and read back)
/// and keep its public half in the database.
pub(super) fn move_key_to_vault(tx: &Transaction<'_>, vault: &dyn KeyVault) -> Result<()> {
    let row = tx
        .query_row("SELECT device_id, secret_key FROM device", [], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .optional()?;
    let Some((id, secret)) = row else {
        return Ok(());
    };
    let device_id = parse_uuid(&id)?;
    let secret: [u8; 32] = secret
        .try_into()
        .map_err(|_| CoreError::Corrupt("device key".into()))?;
    let key = SigningKey::from_bytes(&secret);
    vault.store(device_id, &key)?;
    let stored = vault.load(device_id)?.map(|k| k.to_bytes());
    if stored != Some(secret) {
        return Err(KeyError::Missing {
            device_id,
            location: vault.location(),
        }
        .into());
    }
    tx.execute(
        "UPDATE device SET public_key = ?1",
        [key.verifying_key().as_bytes().to_vec()],
    )?;
    Ok(())
}

/// After the key column was dropped with `secure_delete` on: rebuild the file so that no freed
/// page keeps old bytes, and empty the write-ahead log, which may hold older copies of the row.
pub(super) fn wipe_free_space(conn: &Connection) -> Result<()> {
    conn.execute_batch("VACUUM")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    conn.pragma_update(None, "secure_delete", "OFF")?;
    Ok(())
}

impl super::Store {
    /// The device key's signature (hex) over the office's login challenge (64 hex characters)
    /// bound to this device, its key, `username` and where its chain stands, [`Store::tip`]
    /// (`heatcrew_protocol::log::enrolment_message`): proof that this device holds its key, and its
    /// word that the records up to the tip were made before `username` signed in. `None` if the
    /// challenge is malformed.
    pub fn prove_enrolment(&self, challenge: &str, username: &str) -> Option<String> {
        self.prove(
            heatcrew_protocol::log::enrolment_message,
            challenge,
            username,
        )
    }

    /// [`Self::prove_enrolment`] as `username` signs out (`heatcrew_protocol::log::sign_out_message`,
    /// `challenge` the one of the sign-in it ends): the device's word that its user's records end
    /// at the tip.
    pub fn prove_sign_out(&self, challenge: &str, username: &str) -> Option<String> {
        self.prove(
            heatcrew_protocol::log::sign_out_message,
            challenge,
            username,
        )
    }

    fn prove(&self, message: Message, challenge: &str, username: &str) -> Option<String> {
        use ed25519_dalek::Signer;
        let c = heatcrew_protocol::log::strict_hex::<32>(challenge)?;
        let message = message(
            &c,
            self.device_id,
            &self.key.verifying_key(),
            username,
            &self.tip,
        );
        Some(hex::encode(self.key.sign(&message).to_bytes()))
    }
}

/// A message the device key signs for a sign-in or a sign-out.
type Message = fn(
    &[u8; 32],
    uuid::Uuid,
    &ed25519_dalek::VerifyingKey,
    &str,
    &heatcrew_protocol::ChainTip,
) -> Vec<u8>;
