//! Signing out of a phone. The phone signs where its chain stands (`SignOutStatement`,
//! `heatcrew.sign-out.v1`) and tells the office, which then refuses records made after it and
//! before the next sign-in (`signed_out`): a tampered app cannot record as the user who signed out.
//! Offline, the statement waits in `sign_outs` and goes at the next sync pass or sign-in. The
//! session ends at the office too when it can be reached: a revoked session's tokens are refused
//! everywhere, also copies a tampered app kept. The tokens are forgotten on the phone whatever the
//! office answers; offline, the office's session ends when its refresh token expires.
//!
//! Before the statement, the photos still being processed and the actions held behind them are
//! recorded (they are the user's work, and would otherwise fall after the statement); while the
//! phone stands signed out nothing held is recorded (`Store::record_held`) until its taker signs
//! in again.

use super::{OfficeApi, Session, SyncError, lock};
use crate::error::{CoreError, Result};
use crate::store::{Store, format_time};
use heatcrew_protocol::sync::SignOutStatement;
use rusqlite::{OptionalExtension, params};
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

/// Sign out of this device: finish what waits behind photos, sign where the chain stands and tell
/// the office, ask it to end the session, then forget the tokens here.
pub async fn sign_out(store: &Mutex<Store>) -> Result<SignedOut, SyncError> {
    let session = lock(store).session().map_err(SyncError::local)?;
    if session.is_some() {
        crate::photo_worker::process_all(store).map_err(SyncError::local)?;
        lock(store).record_held().map_err(SyncError::local)?;
        lock(store).sign_out_statement().map_err(SyncError::local)?;
    }
    let outcome = match session {
        None => SignedOut::NotSignedIn,
        Some(s) => {
            let told = async {
                send_sign_outs(store, &s.office_url).await?;
                revoke(store, &s).await
            };
            match tokio::time::timeout(SIGN_OUT_WAIT, told).await {
                Ok(Ok(())) => SignedOut::Revoked,
                Ok(Err(e)) => SignedOut::NotTold(e.to_string()),
                Err(_) => SignedOut::NotTold(format!(
                    "no answer from the office in {} s",
                    SIGN_OUT_WAIT.as_secs()
                )),
            }
        }
    };
    lock(store).sign_out().map_err(SyncError::local)?;
    Ok(outcome)
}

/// Send every sign-out statement the office has not answered yet. A statement the office refuses
/// for good (4xx: it does not fit what the office holds) is not sent again; it stays on the phone
/// as evidence. A network failure or a 5xx leaves it for the next try.
pub async fn send_sign_outs(store: &Mutex<Store>, office_url: &str) -> Result<(), SyncError> {
    let unsent = lock(store).unsent_sign_outs().map_err(SyncError::local)?;
    if unsent.is_empty() {
        return Ok(());
    }
    let api = OfficeApi::new(office_url)?;
    for statement in unsent {
        match api.sign_out(&statement).await {
            Ok(()) => {}
            Err(SyncError::Refused { status, .. }) if (400..500).contains(&status) => {
                eprintln!("the office refused a sign-out statement ({status}); kept here");
            }
            Err(e) => return Err(e),
        }
        lock(store)
            .mark_sign_out_sent(&statement.challenge)
            .map_err(SyncError::local)?;
    }
    Ok(())
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

impl Store {
    /// The latest sign-in kept (`sign_ins`): its user and challenge.
    fn latest_sign_in(&self) -> Result<Option<(String, String)>> {
        let line: Option<String> = self
            .connection()
            .query_row(
                "SELECT sign_in FROM sign_ins ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let Some(line) = line else {
            return Ok(None);
        };
        let v: serde_json::Value = serde_json::from_str(&line)?;
        match (v["username"].as_str(), v["challenge"].as_str()) {
            (Some(u), Some(c)) => Ok(Some((u.to_owned(), c.to_owned()))),
            _ => Err(CoreError::Corrupt(format!(
                "a kept sign-in without user or challenge: {line}"
            ))),
        }
    }

    /// Sign and keep where the chain stands as the latest sign-in's user signs out (once per
    /// sign-in; `None` without a sign-in that named the chain).
    pub fn sign_out_statement(&mut self) -> Result<Option<SignOutStatement>> {
        let Some((username, challenge)) = self.latest_sign_in()? else {
            return Ok(None);
        };
        let proof = self.prove_sign_out(&challenge, &username).ok_or_else(|| {
            CoreError::Corrupt(format!(
                "a kept sign-in's challenge is not hex: {challenge}"
            ))
        })?;
        let statement = SignOutStatement {
            device_id: self.device_id(),
            challenge: challenge.clone(),
            chain_head: self.tip(),
            proof,
        };
        let now = format_time(self.now());
        self.connection().execute(
            "INSERT OR IGNORE INTO sign_outs (statement, challenge, kept_at) VALUES (?1, ?2, ?3)",
            params![serde_json::to_string(&statement)?, challenge, now],
        )?;
        Ok(Some(statement))
    }

    /// Whether the phone's user signed out with a statement and nobody signed in since: records
    /// made now would be nobody's, so nothing held is recorded.
    pub fn stands_signed_out(&self) -> Result<bool> {
        Ok(self.connection().query_row(
            "SELECT EXISTS (SELECT 1 FROM sign_outs WHERE challenge =
                 (SELECT json_extract(sign_in, '$.challenge') FROM sign_ins ORDER BY id DESC LIMIT 1))",
            [],
            |r| r.get(0),
        )?)
    }

    /// Sign-out statements the office has not answered yet, oldest first.
    pub fn unsent_sign_outs(&self) -> Result<Vec<SignOutStatement>> {
        let mut stmt = self
            .connection()
            .prepare_cached("SELECT statement FROM sign_outs WHERE sent = 0 ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
    }

    pub fn mark_sign_out_sent(&mut self, challenge: &str) -> Result<()> {
        self.connection().execute(
            "UPDATE sign_outs SET sent = 1 WHERE challenge = ?1",
            [challenge],
        )?;
        Ok(())
    }
}
