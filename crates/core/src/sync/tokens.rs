//! The office session's tokens live in the key vault, not in the database (schema 6): a copy of
//! the database, even with its key, cannot act as the technician at the office. The database keeps
//! who is signed in and where (`sync_state.office_url`, `user`, `device_code`); the vault keeps the
//! bearer tokens, tagged with the user they belong to, so that a crash between the two writes of a
//! sign-in never pairs one user's tokens with another's job list.

use crate::error::Result;
use crate::keys::{KeyVault, Secret};
use crate::store::parse_time;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

/// What the vault keeps of a session (as JSON).
#[derive(Serialize, Deserialize)]
pub(crate) struct Tokens {
    pub user_id: Uuid,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("user_id", &self.user_id)
            .field("access_expires_at", &self.access_expires_at)
            .finish_non_exhaustive()
    }
}

impl Drop for Tokens {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.access_token.zeroize();
        self.refresh_token.zeroize();
    }
}

/// The tokens in `vault`, if any. Unreadable ones count as none: the technician signs in again.
pub(crate) fn load(vault: &dyn KeyVault) -> Result<Option<Tokens>> {
    let Some(bytes) = vault.load_secret(Secret::Session)? else {
        return Ok(None);
    };
    Ok(serde_json::from_slice(&bytes).ok())
}

pub(crate) fn store(vault: &dyn KeyVault, tokens: &Tokens) -> Result<()> {
    let bytes = Zeroizing::new(serde_json::to_vec(tokens)?);
    vault.store_secret(Secret::Session, &bytes)?;
    Ok(())
}

pub(crate) fn forget(vault: &dyn KeyVault) -> Result<()> {
    vault.delete_secret(Secret::Session)?;
    Ok(())
}

/// Inside the migration that drops the token columns: move a signed-in session's tokens to the
/// vault first.
pub(crate) fn move_to_vault(tx: &Transaction<'_>, vault: &dyn KeyVault) -> Result<()> {
    let row = tx
        .query_row(
            "SELECT access_token, access_expires_at, refresh_token, user FROM sync_state
             WHERE access_token IS NOT NULL AND refresh_token IS NOT NULL
               AND access_expires_at IS NOT NULL AND user IS NOT NULL",
            [],
            |r| {
                Ok((
                    Zeroizing::new(r.get::<_, String>(0)?),
                    r.get::<_, String>(1)?,
                    Zeroizing::new(r.get::<_, String>(2)?),
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((access, expires, refresh, user)) = row else {
        return Ok(());
    };
    let user: heatcrew_protocol::sync::UserInfo = serde_json::from_str(&user)?;
    store(
        vault,
        &Tokens {
            user_id: user.id,
            access_token: access.to_string(),
            access_expires_at: parse_time(&expires)?,
            refresh_token: refresh.to_string(),
        },
    )
}
