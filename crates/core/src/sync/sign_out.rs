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
use heatcrew_protocol::export::ExportLine;
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
        let office_sig = match api.sign_out(&statement).await {
            Ok(kept) => Some(kept.body.office_sig),
            Err(SyncError::Refused { status, .. }) if (400..500).contains(&status) => {
                eprintln!("the office refused a sign-out statement ({status}); kept here");
                None
            }
            Err(e) => return Err(e),
        };
        lock(store)
            .mark_sign_out_sent(&statement, office_sig.as_deref())
            .map_err(SyncError::local)?;
    }
    Ok(())
}

/// Whether `sig` (hex) is the office key's signature that it keeps `statement`.
fn acknowledges(
    office: &ed25519_dalek::VerifyingKey,
    statement: &SignOutStatement,
    sig: &str,
) -> bool {
    use heatcrew_protocol::log::{sign_out_kept_holds, strict_hex};
    let (Some(challenge), Some(proof), Some(sig)) = (
        strict_hex::<32>(&statement.challenge),
        strict_hex::<64>(&statement.proof),
        strict_hex::<64>(sig),
    ) else {
        return false;
    };
    let signed = (&challenge, statement.device_id, &statement.chain_head);
    sign_out_kept_holds(office, signed, &proof, &sig)
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

    /// The office answered `statement`: with its signature that it keeps it (kept as evidence
    /// if it is the office key's signature over it), or with a refusal for good (`None`).
    pub fn mark_sign_out_sent(
        &mut self,
        statement: &SignOutStatement,
        office_sig: Option<&str>,
    ) -> Result<()> {
        let office = crate::sync::evidence::office_public_key(self.connection())?;
        let sig = office_sig.filter(|sig| {
            let holds = office
                .as_deref()
                .and_then(heatcrew_protocol::log::parse_public_key)
                .is_some_and(|key| acknowledges(&key, statement, sig));
            if !holds {
                eprintln!(
                    "the office's answer to a sign-out is not its signature over it; not kept"
                );
            }
            holds
        });
        self.connection().execute(
            "UPDATE sign_outs SET sent = 1, office_sig = COALESCE(office_sig, ?2) WHERE challenge = ?1",
            params![statement.challenge, sig],
        )?;
        Ok(())
    }

    /// Every sign-out this device signed whose sign-in it kept, as export lines (with the office's
    /// signature where it answered and `with_office_sig`: schema 17 on), in the order they were
    /// signed.
    pub(crate) fn sign_out_lines(
        conn: &rusqlite::Connection,
        with_office_sig: bool,
    ) -> Result<Vec<ExportLine>> {
        let sig = if with_office_sig {
            "o.office_sig"
        } else {
            "NULL"
        };
        let mut stmt = conn.prepare(&format!(
            "SELECT o.statement, {sig}, json_extract(i.sign_in, '$.username')
             FROM sign_outs o JOIN sign_ins i ON json_extract(i.sign_in, '$.challenge') = o.challenge
             ORDER BY o.id"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (statement, sig, username) = r?;
            let s: SignOutStatement = serde_json::from_str(&statement)?;
            ExportLine::sign_out(
                s.device_id,
                username,
                s.chain_head,
                (&s.challenge, &s.proof),
                sig.as_deref(),
            )
            .ok_or_else(|| CoreError::Corrupt(format!("a kept sign-out is not hex: {statement}")))
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use heatcrew_protocol::ChainTip;
    use heatcrew_protocol::log::{sign_out_kept_message, strict_hex};

    /// The phone keeps the office's answer to a sign-out only if it is the office key's signature
    /// over it (a wrong answer, or one from another key, is not evidence), and once kept it cannot
    /// be replaced.
    #[test]
    fn only_the_offices_signature_over_the_sign_out_is_kept_and_only_once() {
        let dir = tempfile::tempdir().expect("dir");
        let mut store = Store::open(dir.path().join("device.db")).expect("open");
        let office = SigningKey::from_bytes(&[7; 32]);
        store
            .save_office_public_key(Some(&hex::encode(office.verifying_key().as_bytes())))
            .expect("office key");
        store
            .keep_sign_in(
                "tech_a",
                ChainTip::START,
                &"ab".repeat(32),
                &"cd".repeat(64),
            )
            .expect("sign-in");
        let statement = store.sign_out_statement().expect("sign").expect("signed");
        let sign = |key: &SigningKey| {
            let message = sign_out_kept_message(
                &strict_hex(&statement.challenge).expect("hex"),
                statement.device_id,
                &statement.chain_head,
                &strict_hex(&statement.proof).expect("hex"),
            );
            hex::encode(key.sign(&message).to_bytes())
        };
        let kept = |store: &Store| -> Option<[u8; 64]> {
            match &Store::sign_out_lines(store.connection(), true).expect("lines")[..] {
                [
                    ExportLine::SignOut {
                        office_sig,
                        username,
                        ..
                    },
                ] => {
                    assert_eq!(username, "tech_a");
                    *office_sig
                }
                other => panic!("one sign-out line: {other:?}"),
            }
        };
        let stranger = SigningKey::from_bytes(&[8; 32]);
        for wrong in [sign(&stranger), "00".repeat(64), "not hex".into()] {
            store
                .mark_sign_out_sent(&statement, Some(&wrong))
                .expect("answered");
            assert_eq!(kept(&store), None, "{wrong} is not the office's word");
        }
        assert!(store.unsent_sign_outs().expect("unsent").is_empty());
        let good = sign(&office);
        store
            .mark_sign_out_sent(&statement, Some(&good))
            .expect("answered");
        assert_eq!(kept(&store).map(hex::encode), Some(good.clone()));
        let replaced = store
            .connection()
            .execute("UPDATE sign_outs SET office_sig = ?1", [sign(&stranger)]);
        assert!(replaced.is_err(), "the kept signature is never replaced");
        assert_eq!(kept(&store).map(hex::encode), Some(good));
    }
}
