//! What the cases of jobs, network, attachments, alerts, the evidence log and chains share: jobs
//! built as dispatch builds them, users, and a phone that enrols and pushes signed events through
//! the store itself (no HTTP), as the office's sync handler does.

use chrono::{DateTime, Duration, TimeZone, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_office::store::{AccountStore, EnrolmentStore, LedgerStore, NewUser};
use heatcrew_protocol::sync::{PushOutcome, PushResponse, Role};
use heatcrew_protocol::{ChainTip, Event, EventBody, Job, UnsignedEvent};
use uuid::Uuid;

/// A fixed instant, so that times compare exactly after a round trip (stored to the millisecond).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 8, 0, 0).unwrap()
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

/// The office's key, which signs receipts.
pub fn office_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// A home repair for `phone` / `account`, not yet assigned, reported at `reported`.
pub fn job(title: &str, phone: &str, account: &str, reported: Option<DateTime<Utc>>) -> Job {
    serde_json::from_value(serde_json::json!({
        "id": Uuid::now_v7(), "kind": "home_repair",
        "template": {"id": "home_repair", "version": 1}, "title": title,
        "customer": {"name": "王秀英", "phone": phone, "address": "幸福里3号楼", "account_no": account},
        "reported_at": reported, "status": "open", "revision": 1
    }))
    .expect("a job")
}

/// An emergency repair as a device opens it in the field (`job_created`), for `assignee`.
pub fn emergency(assignee: Uuid, reported: DateTime<Utc>) -> Job {
    serde_json::from_value(serde_json::json!({
        "id": Uuid::now_v7(), "kind": "emergency_repair",
        "template": {"id": "emergency_repair", "version": 1}, "title": "事故/隐患上报：井盖缺失",
        "site": "幸福路12号门前", "reported_at": reported, "assignee": assignee,
        "status": "open", "revision": 0
    }))
    .expect("a job")
}

/// A field user (`repair_technician`) or staff (`dispatcher`).
pub fn user(s: &impl AccountStore, username: &str, role: Role) -> Uuid {
    s.add_user(
        NewUser {
            username: username.into(),
            password_hash: "not-a-real-hash".into(),
            display_name: format!("{username} 师傅"),
            role,
            badge_no: String::new(),
        },
        t0(),
    )
    .expect("add user")
    .id
}

/// A phone enrolled at the store, bound to `user_id`, with its own key and chain.
pub struct Phone {
    pub id: Uuid,
    pub user_id: Uuid,
    key: SigningKey,
    tip: ChainTip,
}

impl Phone {
    pub fn enrol(s: &impl EnrolmentStore, user_id: Uuid, seed: u8) -> Phone {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let id = Uuid::now_v7();
        s.enrol_device(
            id,
            &hex::encode(key.verifying_key().as_bytes()),
            "test phone",
            user_id,
            t0(),
        )
        .expect("enrol");
        Phone {
            id,
            user_id,
            key,
            tip: ChainTip::START,
        }
    }

    /// The next event on this phone's chain, sealed.
    pub fn record(&mut self, job: Uuid, body: &EventBody, when: DateTime<Utc>) -> Event {
        let (kind, payload) = body.to_parts();
        let e = UnsignedEvent {
            id: Uuid::now_v7(),
            device_id: self.id,
            device_seq: self.tip.seq + 1,
            job_id: job,
            kind,
            payload,
            recorded_at: when,
            elapsed_ms: self.tip.seq * 1000,
            prev_hash: self.tip.hash,
            format: heatcrew_protocol::Format::V2,
        }
        .seal(&self.key);
        self.tip = ChainTip {
            seq: e.seq(),
            hash: e.hash,
        };
        e
    }

    /// Push `events` and expect each accepted.
    pub fn push_accepted(&self, s: &impl LedgerStore, events: &[Event], now: DateTime<Utc>) {
        let r: PushResponse = s
            .push(self.id, self.user_id, events, now, &office_key())
            .expect("push");
        for res in &r.results {
            assert!(
                matches!(res.outcome, PushOutcome::Accepted),
                "every event accepted: {res:?}"
            );
        }
    }

    pub fn tip(&self) -> ChainTip {
        self.tip
    }
}

/// A step done, with no evidence.
pub fn step(name: &str) -> EventBody {
    EventBody::StepCompleted {
        step: name.into(),
        evidence: Default::default(),
    }
}
