//! A device that is only a key and a chain: it signs in as the field app does (the office's
//! one-time challenge signed with its key, as `heatcrew_core::sync::login` does) and seals events
//! on its chain as `heatcrew_core::Store` does, without a store. For office tests that need to
//! choose every byte a device sends (its clock, a forged key, a gap in its chain); [`TestDevice`]
//! is the real core.
//!
//! [`TestDevice`]: crate::TestDevice

use crate::office::TestOffice;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use heatcrew_protocol::log::enrolment_message;
use heatcrew_protocol::sync::{LoginResponse, PushResponse};
use heatcrew_protocol::{ChainTip, Event, EventBody, StepEvidence, UnsignedEvent};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// The device name a [`KeyDevice`] enrols under.
pub const DEVICE_NAME: &str = "test phone";

/// A signed-in device: its id, its key, its chain tip and the office's answer to its login.
#[derive(Debug)]
pub struct KeyDevice {
    pub id: Uuid,
    pub key: SigningKey,
    pub tip: ChainTip,
    pub login: LoginResponse,
}

impl KeyDevice {
    /// The next event on this device's chain, not yet sealed, recorded at device time `at`.
    pub fn unsigned_at(&self, job: Uuid, body: &EventBody, at: DateTime<Utc>) -> UnsignedEvent {
        let (kind, payload) = body.to_parts();
        UnsignedEvent {
            id: Uuid::now_v7(),
            device_id: self.id,
            device_seq: self.tip.seq + 1,
            job_id: job,
            kind,
            payload,
            recorded_at: at,
            elapsed_ms: self.tip.seq * 1000,
            prev_hash: self.tip.hash,
            format: heatcrew_protocol::Format::V2,
        }
    }

    /// The next event on this device's chain, not yet sealed, recorded now.
    pub fn unsigned(&self, job: Uuid, body: &EventBody) -> UnsignedEvent {
        self.unsigned_at(job, body, Utc::now())
    }

    /// Record the next event on this device's chain at device time `at`.
    pub fn record_at(&mut self, job: Uuid, body: &EventBody, at: DateTime<Utc>) -> Event {
        self.record_with(job, body, |u| u.recorded_at = at)
    }

    /// Seal the next event after `tweak` changed its envelope (a forged clock, say), as only a
    /// modified app would: the chain link and the signature are still right.
    pub fn record_with(
        &mut self,
        job: Uuid,
        body: &EventBody,
        tweak: impl FnOnce(&mut UnsignedEvent),
    ) -> Event {
        let mut u = self.unsigned(job, body);
        tweak(&mut u);
        let e = u.seal(&self.key);
        self.tip = ChainTip {
            seq: e.seq(),
            hash: e.hash,
        };
        e
    }

    /// Record the next event on this device's chain now.
    pub fn record(&mut self, job: Uuid, body: &EventBody) -> Event {
        self.record_at(job, body, Utc::now())
    }

    /// Its access token.
    pub fn token(&self) -> &str {
        &self.login.access_token
    }
}

/// A step of the visit done, with no evidence.
pub fn step(name: &str) -> EventBody {
    EventBody::StepCompleted {
        step: name.into(),
        evidence: StepEvidence::default(),
    }
}

/// A defect found on the network (a leaking weld at a manhole), of `severity`: a critical one is
/// urgent (pushed first, an alert at the office).
pub fn defect(severity: heatcrew_protocol::Severity) -> EventBody {
    EventBody::DefectReported {
        defect_id: Uuid::now_v7(),
        checkpoint: None,
        category: "leak".into(),
        severity,
        position: heatcrew_protocol::Position {
            description: "建设路DN300管段3号井".into(),
            ..Default::default()
        },
        description: "主管道焊口漏水，热水外溢".into(),
        photos: vec![],
    }
}

/// The proof a device gives at login that it holds the private key of `public`: `signer`'s
/// signature (hex) over the enrolment message for `challenge` (hex) and the device's chain `head`,
/// as `Store::prove_enrolment` makes it. `signer` may be another key than `public`'s, to try a
/// thief's login.
pub fn enrolment_proof(
    challenge: &str,
    device_id: Uuid,
    public: &VerifyingKey,
    username: &str,
    head: &ChainTip,
    signer: &SigningKey,
) -> String {
    let mut c = [0u8; 32];
    hex::decode_to_slice(challenge, &mut c).expect("a challenge is 64 hex characters");
    let message = enrolment_message(&c, device_id, public, username, head);
    hex::encode(signer.sign(&message).to_bytes())
}

impl TestOffice {
    /// A one-time login challenge for `device_id` (anyone may ask).
    pub async fn challenge(&self, device_id: Uuid) -> String {
        let (status, c) = self
            .post_json(
                "/api/v1/auth/challenge",
                None,
                &json!({"device_id": device_id}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "a challenge for anyone: {c}");
        c["challenge"]
            .as_str()
            .expect("a challenge in the answer")
            .to_owned()
    }

    /// `POST /auth/login` for a new device `id` (nothing recorded yet) presenting `public`, with
    /// `signer`'s proof over `challenge`; the status and the answer. For tests of the login itself.
    pub async fn login_signed(
        &self,
        username: &str,
        password: &str,
        id: Uuid,
        public: &VerifyingKey,
        signer: &SigningKey,
        challenge: &str,
    ) -> (StatusCode, Value) {
        let proof = enrolment_proof(challenge, id, public, username, &ChainTip::START, signer);
        self.post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": password, "device_id": id,
                    "device_public_key": hex::encode(public.as_bytes()), "device_name": DEVICE_NAME,
                    "challenge": challenge, "proof": proof, "chain_head": ChainTip::START}),
        )
        .await
    }

    /// Sign `username` in on `dev` (a crew's shared phone, say) as the field app does: its chain
    /// head is where `dev` stands (`head`: to claim another); on success `dev` carries the new
    /// session. The status and the answer.
    pub async fn sign_in_on(
        &self,
        dev: &mut KeyDevice,
        username: &str,
        password: &str,
        head: Option<ChainTip>,
    ) -> (StatusCode, Value) {
        let challenge = self.challenge(dev.id).await;
        let (public, head) = (dev.key.verifying_key(), head.unwrap_or(dev.tip));
        let proof = enrolment_proof(&challenge, dev.id, &public, username, &head, &dev.key);
        let (status, body) = self
            .post_json(
                "/api/v1/auth/login",
                None,
                &json!({"username": username, "password": password, "device_id": dev.id,
                        "device_public_key": hex::encode(public.as_bytes()), "device_name": DEVICE_NAME,
                        "challenge": challenge, "proof": proof, "chain_head": head}),
            )
            .await;
        if status == StatusCode::OK {
            dev.login = serde_json::from_value(body.clone()).expect("a login response");
        }
        (status, body)
    }

    /// Log device `id` in as the field app does: ask for a challenge, sign it with `key` (proof
    /// that the device holds it), send both; the status and the answer.
    pub async fn login_device(
        &self,
        username: &str,
        password: &str,
        id: Uuid,
        key: &SigningKey,
    ) -> (StatusCode, Value) {
        let challenge = self.challenge(id).await;
        self.login_signed(
            username,
            password,
            id,
            &key.verifying_key(),
            key,
            &challenge,
        )
        .await
    }

    /// `POST /sync/push` of `events` as `dev`; panics unless the office answers 200 with a push
    /// response (each event's outcome is the caller's to check).
    pub async fn push_events(&self, dev: &KeyDevice, events: &[Event]) -> PushResponse {
        let (status, body) = self
            .post_json(
                "/api/v1/sync/push",
                Some(dev.token()),
                &json!({"events": events}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "push must be answered: {body}");
        serde_json::from_value(body).expect("a push response")
    }

    /// A new [`KeyDevice`] (fresh id and key) signed in as `username`; panics if the office refuses.
    pub async fn key_device(&self, username: &str, password: &str) -> KeyDevice {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let id = Uuid::now_v7();
        let (status, body) = self.login_device(username, password, id, &key).await;
        assert_eq!(status, StatusCode::OK, "device login must work: {body}");
        KeyDevice {
            id,
            key,
            tip: ChainTip::START,
            login: serde_json::from_value(body).expect("a login response"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::office::PASSWORD;
    use heatcrew_protocol::sync::PushOutcome;

    /// The office takes the kit's proof as it takes the core's: the device is enrolled with its
    /// key, and what it seals is accepted.
    #[tokio::test]
    async fn a_key_device_signs_in_with_a_proof_and_its_events_are_accepted() {
        let o = TestOffice::start().await;
        let mut dev = o.key_device("tech_a", PASSWORD).await;
        let enrolled = o
            .store()
            .device(dev.id)
            .expect("read the device")
            .expect("the device is enrolled");
        assert_eq!(
            enrolled.public_key,
            hex::encode(dev.key.verifying_key().as_bytes()),
            "with the key it proved it holds"
        );
        let staff = o.staff_token("dispatch", PASSWORD).await;
        let (status, job) = o
            .post_json(
                "/api/v1/jobs",
                Some(&staff),
                &json!({"fault": "暖气不热", "reported_at": Utc::now(),
                        "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼"},
                        "assignee": o.user_id("tech_a")}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "a job for tech_a: {job}");
        let job: Uuid = job["id"].as_str().expect("id").parse().expect("uuid");
        let events = [
            dev.record(job, &step("arrive")),
            dev.record(job, &step("show_id")),
        ];
        let resp = o.push_events(&dev, &events).await;
        assert!(
            resp.results
                .iter()
                .all(|r| matches!(r.outcome, PushOutcome::Accepted)),
            "a chain sealed by the kit is the office's idea of a chain: {:?}",
            resp.results
        );
    }

    /// The proof is checked, so the helper cannot pass by accident: another key's signature, or
    /// one made for another account, is refused.
    #[tokio::test]
    async fn a_proof_by_another_key_or_for_another_account_is_refused() {
        let o = TestOffice::start().await;
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let thief = SigningKey::generate(&mut rand::rngs::OsRng);
        let id = Uuid::now_v7();
        let c = o.challenge(id).await;
        let (status, body) = o
            .login_signed("tech_a", PASSWORD, id, &key.verifying_key(), &thief, &c)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_proof")),
            "{body}"
        );
        let c = o.challenge(id).await;
        let for_b = enrolment_proof(
            &c,
            id,
            &key.verifying_key(),
            "tech_b",
            &ChainTip::START,
            &key,
        );
        let (status, body) = o
            .post_json(
                "/api/v1/auth/login",
                None,
                &json!({"username": "tech_a", "password": PASSWORD, "device_id": id,
                        "device_public_key": hex::encode(key.verifying_key().as_bytes()),
                        "challenge": c, "proof": for_b, "chain_head": ChainTip::START}),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_proof")),
            "{body}"
        );
        let (status, body) = o.login_device("tech_a", PASSWORD, id, &key).await;
        assert_eq!(status, StatusCode::OK, "the real key logs in: {body}");
    }
}
