//! The users, devices and sign-ins a ledger case needs, made through the store's own traits.

use chrono::Utc;
use heatcrew_office::ledger::makers::SignedHead;
use heatcrew_office::store::{AccountStore, EnrolmentStore, NewSession, NewUser, StoreError};
use heatcrew_protocol::sync::Role;
use heatcrew_protocol::{ChainTip, Digest};
use uuid::Uuid;

/// Users and enrolled devices for a case.
pub trait Seed: Sync {
    fn user(&self, name: &str) -> Uuid;
    fn enrol(&self, device_id: Uuid, public_key: &str, user_id: Uuid);
    /// `user_id` signs in on the (enrolled) device, which an admin marked shared, naming where its
    /// chain stands (`None`: as apps did before sign-ins named it).
    fn sign_in_shared(
        &self,
        device_id: Uuid,
        public_key: &str,
        user_id: Uuid,
        head: Option<ChainTip>,
    ) -> Result<(), StoreError> {
        self.sign_in_answering(
            device_id,
            public_key,
            user_id,
            head,
            &hex::encode(Uuid::new_v4().as_bytes()).repeat(2),
        )
    }

    /// [`Seed::sign_in_shared`], the login having answered `challenge`.
    fn sign_in_answering(
        &self,
        device_id: Uuid,
        public_key: &str,
        user_id: Uuid,
        head: Option<ChainTip>,
        challenge: &str,
    ) -> Result<(), StoreError>;
}

/// Through the store's own traits.
pub struct Traits<'a, S>(pub &'a S);

impl<S: AccountStore + EnrolmentStore + Sync> Seed for Traits<'_, S> {
    fn user(&self, name: &str) -> Uuid {
        self.0
            .add_user(
                NewUser {
                    username: name.into(),
                    password_hash: "not-a-hash".into(),
                    display_name: name.into(),
                    role: Role::RepairTechnician,
                    badge_no: String::new(),
                },
                Utc::now(),
            )
            .expect("add user")
            .id
    }

    fn enrol(&self, device_id: Uuid, public_key: &str, user_id: Uuid) {
        self.0
            .enrol_device(device_id, public_key, "test phone", user_id, Utc::now())
            .expect("enrol");
    }

    fn sign_in_answering(
        &self,
        device_id: Uuid,
        public_key: &str,
        user_id: Uuid,
        head: Option<ChainTip>,
        challenge: &str,
    ) -> Result<(), StoreError> {
        self.0
            .set_device_shared(device_id, true)
            .expect("marked shared");
        self.enrol(device_id, public_key, user_id);
        let now = Utc::now();
        let token = |_: u8| Digest::of(Uuid::new_v4().as_bytes());
        self.0.create_session(NewSession {
            id: Uuid::now_v7(),
            user_id,
            device_id: Some(device_id),
            access_hash: token(1),
            access_expires_at: now,
            refresh_hash: token(2),
            refresh_expires_at: now,
            absolute_expires_at: now,
            totp_setup_only: false,
            // The store keeps what the office checked at login: no signature here.
            chain_head: head.map(|head| SignedHead {
                head,
                challenge: challenge.to_owned(),
                proof: String::new(),
            }),
            now,
        })
    }
}
