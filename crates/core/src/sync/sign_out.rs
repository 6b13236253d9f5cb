//! Signing out of a phone ends the session at the office too, when the office can be reached:
//! a revoked session's tokens are refused everywhere, also copies a tampered app kept. The tokens
//! are forgotten on the phone whatever the office answers; offline, the office's session ends when
//! its refresh token expires.

use super::{OfficeApi, Session, SyncError, lock};
use crate::store::Store;
use std::sync::Mutex;
use std::time::Duration;

/// How long signing out waits for the office before it forgets the tokens anyway.
pub const SIGN_OUT_WAIT: Duration = Duration::from_secs(5);

/// What signing out did at the office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedOut {
    /// The office ended the session.
    Revoked,
    /// The office could not be told (offline, or it refused): its session ends when it expires.
    NotTold(String),
    /// Nobody was signed in.
    NotSignedIn,
}

/// Sign out of this device: ask the office to end the session, then forget the tokens here.
pub async fn sign_out(store: &Mutex<Store>) -> Result<SignedOut, SyncError> {
    let session = lock(store).session().map_err(SyncError::local)?;
    let outcome = match session {
        None => SignedOut::NotSignedIn,
        Some(s) => match tokio::time::timeout(SIGN_OUT_WAIT, revoke(store, &s)).await {
            Ok(Ok(())) => SignedOut::Revoked,
            Ok(Err(e)) => SignedOut::NotTold(e.to_string()),
            Err(_) => SignedOut::NotTold(format!(
                "no answer from the office in {} s",
                SIGN_OUT_WAIT.as_secs()
            )),
        },
    };
    lock(store).sign_out().map_err(SyncError::local)?;
    Ok(outcome)
}

/// Revoke the session with its access token; one that expired is renewed once with the refresh
/// token first (the renewed tokens are not kept: they are revoked with the session).
async fn revoke(store: &Mutex<Store>, s: &Session) -> Result<(), SyncError> {
    let api = OfficeApi::new(&s.office_url)?;
    match api.revoke(&s.access_token).await {
        Err(SyncError::Unauthorized(_)) => {
            let device_id = lock(store).device_id();
            let fresh = api.refresh(&s.refresh_token, device_id).await?;
            api.revoke(&fresh.body.access_token).await
        }
        other => other,
    }
}
