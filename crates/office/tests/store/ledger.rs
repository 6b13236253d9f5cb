//! [`LedgerStore`]: push rules (`crate::ledger::push` over each backend's transaction), receipts,
//! the change feed and its order with concurrent writers.

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_office::store::{EvidenceLogStore, JobStore, LedgerStore, StoreError};
use heatcrew_protocol::sync::{ChangeKind, PushOutcome, PushResponse};
use heatcrew_protocol::{
    ChainTip, Digest, ErrorCode, Event, EventBody, Job, JobKind, JobStatus, UnsignedEvent,
};
use std::collections::BTreeSet;
use uuid::Uuid;

/// `ledger_cases!(case, …)`: like `both!`, with the users and devices a case needs made by the
/// store's own [`AccountStore`] and [`EnrolmentStore`] (through [`Traits`]), so each case runs on
/// both backends exactly as the office would set it up.
macro_rules! ledger_cases {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[test]
            fn sqlite() {
                let (_dir, store) = $crate::sqlite();
                super::$case(&store, &super::Traits(&store));
            }

            #[test]
            fn postgres() {
                let Some((_db, store)) = $crate::postgres() else { return };
                super::$case(&store, &super::Traits(&store));
            }
        }
    )*};
}

ledger_cases!(
    events_follow_the_sequence,
    a_gap_refuses_the_whole_batch,
    a_retry_gets_the_same_receipt,
    a_different_event_at_a_stored_seq_is_a_conflicting_duplicate,
    a_broken_link_blocks_the_rest_of_the_batch,
    a_tampered_signature_is_refused_and_not_stored,
    a_correction_of_an_event_in_the_same_batch_is_judged_as_across_batches,
    pull_pages_in_order_within_the_users_scope,
    concurrent_pushers_and_a_puller,
    pushes_arriving_together_stand_or_fall_alone,
);

/// What a ledger case needs of a store.
pub trait Ledger:
    LedgerStore
    + JobStore
    + EvidenceLogStore
    + heatcrew_office::store::EnrolmentStore
    + heatcrew_office::sign_out::SignOutStore
    + Sync
{
}
impl<T> Ledger for T where
    T: LedgerStore
        + JobStore
        + EvidenceLogStore
        + heatcrew_office::store::EnrolmentStore
        + heatcrew_office::sign_out::SignOutStore
        + Sync
{
}

fn office_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// A device's key and chain, enrolled at the office for `user_id`.
struct Device {
    id: Uuid,
    key: SigningKey,
    tip: ChainTip,
}

impl Device {
    fn enrol(seed: &dyn Seed, user_id: Uuid) -> Device {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        bytes[16..].copy_from_slice(Uuid::new_v4().as_bytes());
        let key = SigningKey::from_bytes(&bytes);
        let id = Uuid::now_v7();
        seed.enrol(id, &hex::encode(key.verifying_key().as_bytes()), user_id);
        Device {
            id,
            key,
            tip: ChainTip::START,
        }
    }

    fn unsigned(&self, job: Uuid, body: &EventBody) -> UnsignedEvent {
        let (kind, payload) = body.to_parts();
        UnsignedEvent {
            id: Uuid::now_v7(),
            device_id: self.id,
            device_seq: self.tip.seq + 1,
            job_id: job,
            kind,
            payload,
            recorded_at: Utc::now(),
            elapsed_ms: self.tip.seq * 1000,
            prev_hash: self.tip.hash,
            format: heatcrew_protocol::Format::V2,
        }
    }

    /// Seal `u` as the next event of the chain.
    fn seal(&mut self, u: UnsignedEvent) -> Event {
        let e = u.seal(&self.key);
        self.tip = ChainTip {
            seq: e.seq(),
            hash: e.hash,
        };
        e
    }

    fn record(&mut self, job: Uuid, body: &EventBody) -> Event {
        let u = self.unsigned(job, body);
        self.seal(u)
    }

    fn step(&mut self, job: Uuid) -> Event {
        self.record(job, &step())
    }

    fn push(&self, s: &impl Ledger, user_id: Uuid, events: &[Event]) -> PushResponse {
        s.push(self.id, user_id, events, Utc::now(), &office_key())
            .expect("push")
    }
}

fn step() -> EventBody {
    EventBody::StepSkipped {
        step: "arrive".into(),
        reason: "测试".into(),
    }
}

fn job(assignee: Option<Uuid>, reported_at: DateTime<Utc>) -> Job {
    Job {
        id: Uuid::now_v7(),
        kind: JobKind::EmergencyRepair,
        template: heatcrew_rules::template::latest_for(JobKind::EmergencyRepair).reference(),
        title: "抢修".into(),
        customer: None,
        site: Some("3号换热站".into()),
        reported_at: Some(reported_at),
        window: None,
        assignee,
        street_work: false,
        checkpoints: vec![],
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 0,
    }
}

/// A job at the office assigned to `user_id`.
fn assigned_job(s: &impl Ledger, user_id: Uuid) -> Uuid {
    s.create_job(job(Some(user_id), Utc::now()), Utc::now())
        .expect("create job")
        .id
}

fn outcomes(r: &PushResponse) -> Vec<Result<&'static str, ErrorCode>> {
    r.results
        .iter()
        .map(|x| match &x.outcome {
            PushOutcome::Accepted => Ok("accepted"),
            PushOutcome::Duplicate => Ok("duplicate"),
            PushOutcome::Rejected { code, .. } => Err(*code),
        })
        .collect()
}

fn seqs(s: &impl Ledger, device: Uuid) -> Vec<u64> {
    s.device_events(device)
        .expect("events")
        .iter()
        .map(|e| e.event.seq())
        .collect()
}

mod scope;
mod seed;

pub use seed::{Seed, Traits};

fn events_follow_the_sequence(s: &impl Ledger, seed: &dyn Seed) {
    let me = seed.user("zhang");
    let j = assigned_job(s, me);
    let mut d = Device::enrol(seed, me);
    let batch: Vec<Event> = (0..3).map(|_| d.step(j)).collect();
    let r = d.push(s, me, &batch);
    assert_eq!(outcomes(&r), vec![Ok("accepted"); 3]);
    assert_eq!(r.last_seq, 3);
    assert!(
        r.results.iter().all(|x| x.receipt.is_some()),
        "every stored event gets a receipt"
    );
    assert_eq!(s.device_tip(d.id).expect("tip"), Some(d.tip));
    assert_eq!(seqs(s, d.id), [1, 2, 3]);
    let after: Vec<u64> = s
        .device_events_after(d.id, 1, 1)
        .expect("page")
        .iter()
        .map(|e| e.event.seq())
        .collect();
    assert_eq!(after, [2], "a page after seq 1 of one event");
    assert_eq!(
        s.job_events(j).expect("job events").len(),
        3,
        "the job's events read back"
    );
    // Two more in a second push continue the chain.
    let more: Vec<Event> = (0..2).map(|_| d.step(j)).collect();
    assert_eq!(outcomes(&d.push(s, me, &more)), vec![Ok("accepted"); 2]);
    assert_eq!(seqs(s, d.id), [1, 2, 3, 4, 5]);
    assert_eq!(s.log_size().expect("log"), 5, "one leaf per stored event");
    // device_seq 0 is never a valid event.
    let mut zero = d.unsigned(j, &step());
    zero.device_seq = 0;
    let zero = zero.seal(&d.key);
    assert_eq!(
        outcomes(&d.push(s, me, &[zero])),
        vec![Err(ErrorCode::OutOfSequence)]
    );
}

fn a_gap_refuses_the_whole_batch(s: &impl Ledger, seed: &dyn Seed) {
    let me = seed.user("zhang");
    let j = assigned_job(s, me);
    let mut d = Device::enrol(seed, me);
    let first: Vec<Event> = (0..2).map(|_| d.step(j)).collect();
    d.push(s, me, &first);
    let three = d.step(j);
    let _four = d.step(j);
    let five = d.step(j);
    let log = s.log_size().expect("log");
    let err = s
        .push(d.id, me, &[three, five], Utc::now(), &office_key())
        .expect_err("a gap");
    assert!(
        matches!(err, StoreError::SequenceGap { expected: 3 }),
        "the device is told where its ledger stands: {err:?}"
    );
    assert_eq!(
        seqs(s, d.id),
        [1, 2],
        "nothing of the batch is stored, not even event 3 before the gap"
    );
    assert_eq!(s.log_size().expect("log"), log, "nor logged");
    assert_eq!(s.device_tip(d.id).expect("tip").map(|t| t.seq), Some(2));
}

fn a_retry_gets_the_same_receipt(s: &impl Ledger, seed: &dyn Seed) {
    let me = seed.user("zhang");
    let j = assigned_job(s, me);
    let mut d = Device::enrol(seed, me);
    let batch: Vec<Event> = (0..2).map(|_| d.step(j)).collect();
    let first = d.push(s, me, &batch);
    // The retry carries one new event after the two already stored.
    let mut again = batch.clone();
    again.push(d.step(j));
    let retry = d.push(s, me, &again);
    assert_eq!(
        outcomes(&retry),
        vec![Ok("duplicate"), Ok("duplicate"), Ok("accepted")]
    );
    for i in 0..2 {
        assert_eq!(
            retry.results[i].receipt,
            first.results[i].receipt,
            "event {} gets the receipt it got the first time (same index, time, signature)",
            i + 1
        );
    }
    assert_eq!(seqs(s, d.id), [1, 2, 3], "a retry stores nothing twice");
    assert_eq!(s.log_size().expect("log"), 3);
    // The same event twice in one batch: the second is a duplicate with the first's receipt.
    let four = d.step(j);
    let twice = d.push(s, me, &[four.clone(), four]);
    assert_eq!(outcomes(&twice), vec![Ok("accepted"), Ok("duplicate")]);
    assert_eq!(twice.results[0].receipt, twice.results[1].receipt);
}

fn a_different_event_at_a_stored_seq_is_a_conflicting_duplicate(s: &impl Ledger, seed: &dyn Seed) {
    let me = seed.user("zhang");
    let j = assigned_job(s, me);
    let mut d = Device::enrol(seed, me);
    let genesis = d.tip;
    let one = d.step(j);
    d.push(s, me, std::slice::from_ref(&one));
    d.tip = genesis;
    let other = d.record(
        j,
        &EventBody::StepSkipped {
            step: "arrive".into(),
            reason: "另一个".into(),
        },
    );
    assert_ne!(other.hash, one.hash);
    let r = d.push(s, me, &[other]);
    assert_eq!(outcomes(&r), vec![Err(ErrorCode::ConflictingDuplicate)]);
    assert!(
        r.results[0].receipt.is_none(),
        "no receipt for what is not kept"
    );
    let stored = s.device_events(d.id).expect("events");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event.hash, one.hash, "the first event stays");
}

fn a_broken_link_blocks_the_rest_of_the_batch(s: &impl Ledger, seed: &dyn Seed) {
    let me = seed.user("zhang");
    let j = assigned_job(s, me);
    let mut d = Device::enrol(seed, me);
    let one = d.step(j);
    let mut u = d.unsigned(j, &step());
    u.prev_hash = Digest([9; 32]);
    let two = d.seal(u);
    let three = d.step(j);
    let r = d.push(s, me, &[one, two, three]);
    assert_eq!(
        outcomes(&r),
        vec![
            Ok("accepted"),
            Err(ErrorCode::BrokenChain),
            Err(ErrorCode::ChainBlocked)
        ]
    );
    assert_eq!(r.last_seq, 1);
    assert_eq!(seqs(s, d.id), [1], "what breaks the chain is not stored");
    assert_eq!(s.log_size().expect("log"), 1);
}

fn a_tampered_signature_is_refused_and_not_stored(s: &impl Ledger, seed: &dyn Seed) {
    let me = seed.user("zhang");
    let j = assigned_job(s, me);
    let mut d = Device::enrol(seed, me);
    let mut one = d.step(j);
    one.sig[0] ^= 1;
    let r = d.push(s, me, &[one]);
    assert_eq!(outcomes(&r), vec![Err(ErrorCode::BadSignature)]);
    // Signed by another key: just as bad.
    let mut d2 = Device {
        id: d.id,
        key: SigningKey::from_bytes(&[3; 32]),
        tip: ChainTip::START,
    };
    let forged = d2.step(j);
    assert_eq!(
        outcomes(&d2.push(s, me, &[forged])),
        vec![Err(ErrorCode::BadSignature)]
    );
    assert!(seqs(s, d.id).is_empty(), "nothing stored");
    assert_eq!(s.device_tip(d.id).expect("tip").map(|t| t.seq), Some(0));
}

/// A correction is judged against the record it names, which the office reads back from what it
/// stored. A backend that holds a push's rows back to write them together (PostgreSQL's one
/// multi-row insert per push) must still find a record pushed earlier in the same batch: the
/// outcomes of one batch equal those of the same events pushed one at a time.
fn a_correction_of_an_event_in_the_same_batch_is_judged_as_across_batches(
    s: &impl Ledger,
    seed: &dyn Seed,
) {
    let me = seed.user("zhang");
    let correction = |of: &Event| EventBody::Correction {
        corrects: of.unsigned.id,
        reason: "写错了".into(),
        replacement: None,
    };
    let rating = EventBody::RatingGiven {
        stars: 5,
        comment: String::new(),
    };
    let mut outcomes_by = Vec::new();
    for one_batch in [true, false] {
        let j = assigned_job(s, me);
        let mut d = Device::enrol(seed, me);
        let first = d.step(j);
        let fix = d.record(j, &correction(&first));
        let rated = d.record(j, &rating);
        let fix_rating = d.record(j, &correction(&rated));
        let events = [first, fix, rated, fix_rating];
        let got: Vec<_> = if one_batch {
            let r = d.push(s, me, &events);
            outcomes(&r)
        } else {
            events
                .iter()
                .flat_map(|e| outcomes(&d.push(s, me, std::slice::from_ref(e))))
                .collect()
        };
        assert_eq!(seqs(s, d.id), [1, 2, 3, 4], "all four are stored");
        outcomes_by.push(got);
    }
    assert_eq!(
        outcomes_by[0],
        vec![
            Ok("accepted"),
            Ok("accepted"),
            Ok("accepted"),
            Err(ErrorCode::RatingLocked)
        ],
        "the correction finds its record in the same batch; the rating stays locked"
    );
    assert_eq!(outcomes_by[0], outcomes_by[1], "one batch = one at a time");
}

fn pull_pages_in_order_within_the_users_scope(s: &impl Ledger, seed: &dyn Seed) {
    let me = seed.user("zhang");
    let other = seed.user("li");
    let mut mine = vec![assigned_job(s, me)];
    assigned_job(s, other);
    mine.push(assigned_job(s, me));
    // A job opened in the field reaches its user's feed too.
    let mut d = Device::enrol(seed, me);
    let new = job(None, Utc::now());
    let created = d.record(new.id, &EventBody::JobCreated { job: new.clone() });
    assert_eq!(outcomes(&d.push(s, me, &[created])), vec![Ok("accepted")]);
    mine.push(new.id);
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let (page, next, more) = s.pull(me, cursor, 2).expect("pull");
        assert!(page.len() <= 2);
        assert!(page.iter().all(|c| c.server_seq > cursor));
        seen.extend(page.iter().map(|c| match &c.change {
            ChangeKind::JobUpserted { job } => job.id,
            other => panic!("unexpected change {other:?}"),
        }));
        assert!(next >= cursor);
        cursor = next;
        if !more {
            break;
        }
    }
    assert_eq!(seen, mine, "my changes, in order, nobody else's");
    let (rest, next, more) = s.pull(me, cursor, 2).expect("pull");
    assert!(
        rest.is_empty() && !more && next == cursor,
        "nothing after the end"
    );
}

/// Devices of one user push field-created jobs from several threads at once while a puller pulls
/// in a loop: it must see every change exactly once, in increasing `server_seq`, even though
/// transactions commit in another order than they started.
fn concurrent_pushers_and_a_puller(s: &impl Ledger, seed: &dyn Seed) {
    const DEVICES: usize = 6;
    const PUSHES: usize = 15;
    let me = seed.user("zhang");
    let devices: Vec<Device> = (0..DEVICES).map(|_| Device::enrol(seed, me)).collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let (pulled, created) = std::thread::scope(|scope| {
        let puller = scope.spawn(|| {
            let mut seen: Vec<(u64, Uuid)> = Vec::new();
            let mut cursor = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst) == DEVICES;
                let (page, next, _) = s.pull(me, cursor, 3).expect("pull");
                for c in &page {
                    let ChangeKind::JobUpserted { job } = &c.change else {
                        panic!("unexpected change");
                    };
                    seen.push((c.server_seq, job.id));
                }
                cursor = next;
                if finished && page.is_empty() {
                    return seen;
                }
            }
        });
        let pushers: Vec<_> = devices
            .into_iter()
            .map(|mut d| {
                let done = &done;
                scope.spawn(move || {
                    let mut ids = Vec::new();
                    for _ in 0..PUSHES {
                        let new = job(None, Utc::now());
                        ids.push(new.id);
                        let e = d.record(new.id, &EventBody::JobCreated { job: new });
                        let more = d.step(ids[ids.len() - 1]);
                        let r = d.push(s, me, &[e, more]);
                        assert_eq!(outcomes(&r), vec![Ok("accepted"); 2]);
                    }
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    ids
                })
            })
            .collect();
        let created: BTreeSet<Uuid> = pushers
            .into_iter()
            .flat_map(|h| h.join().expect("pusher"))
            .collect();
        (puller.join().expect("puller"), created)
    });
    assert!(
        pulled.windows(2).all(|w| w[0].0 < w[1].0),
        "server_seq strictly increases along the pulls (nothing twice)"
    );
    let seen: BTreeSet<Uuid> = pulled.iter().map(|x| x.1).collect();
    assert_eq!(seen.len(), pulled.len(), "each change seen once");
    let missed: Vec<&Uuid> = created.difference(&seen).collect();
    assert!(
        missed.is_empty() && seen.len() == created.len(),
        "the looping puller saw every change: none committed later under a smaller number \
         (missed {} of {})",
        missed.len(),
        created.len()
    );
    let seqs: Vec<u64> = pulled.iter().map(|x| x.0).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "the feed has no gaps"
    );
    assert_eq!(
        s.log_size().expect("log"),
        (DEVICES * PUSHES * 2) as u64,
        "every event logged once"
    );
}

/// Pushes arriving at the same moment (a barrier before each round), good ones among refused ones:
/// each gets its own answer as if alone. On SQLite they share one transaction and one commit
/// (group commit, each push in a savepoint): a sequence gap must roll back only its own batch (the
/// good event before the gap too), a tampered signature only its own event, and every receipt must
/// name the log entry that holds exactly its event. Threads report what went wrong instead of
/// panicking, so that one failure cannot leave the others waiting at the barrier.
fn pushes_arriving_together_stand_or_fall_alone(s: &impl Ledger, seed: &dyn Seed) {
    use heatcrew_protocol::log::Receipt;
    const DEVICES: usize = 6;
    const ROUNDS: usize = 8;
    let me = seed.user("zhang");
    let j = assigned_job(s, me);
    let devices: Vec<Device> = (0..DEVICES).map(|_| Device::enrol(seed, me)).collect();
    let barrier = std::sync::Barrier::new(DEVICES);
    let push = |d: &Device, events: &[Event]| s.push(d.id, me, events, Utc::now(), &office_key());
    let per_device: Vec<(Vec<Receipt>, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = devices
            .into_iter()
            .enumerate()
            .map(|(n, mut d)| {
                let (barrier, push) = (&barrier, &push);
                scope.spawn(move || {
                    let mut receipts = Vec::new();
                    let mut wrong = Vec::new();
                    for round in 0..ROUNDS {
                        barrier.wait();
                        let tip = d.tip;
                        match (n + round) % 3 {
                            // A good event, then a gap: refused whole, the good event too.
                            0 => {
                                let next = d.step(j);
                                let _left_out = d.step(j);
                                let after = d.step(j);
                                match push(&d, &[next, after]) {
                                    Err(StoreError::SequenceGap { expected })
                                        if expected == tip.seq + 1 => {}
                                    other => wrong.push(format!("gap answered {other:?}")),
                                }
                                d.tip = tip;
                            }
                            // Two good events, then one with a tampered signature.
                            1 => {
                                let mut batch: Vec<Event> = (0..2).map(|_| d.step(j)).collect();
                                let good_tip = d.tip;
                                let mut bad = d.step(j);
                                bad.sig[0] ^= 1;
                                batch.push(bad);
                                match push(&d, &batch) {
                                    Ok(r)
                                        if outcomes(&r)
                                            == [
                                                Ok("accepted"),
                                                Ok("accepted"),
                                                Err(ErrorCode::BadSignature),
                                            ] =>
                                    {
                                        receipts.extend(r.results.iter().filter_map(|x| x.receipt));
                                    }
                                    other => wrong.push(format!("tampered answered {other:?}")),
                                }
                                d.tip = good_tip;
                            }
                            // A plain good push.
                            _ => {
                                let good: Vec<Event> = (0..3).map(|_| d.step(j)).collect();
                                match push(&d, &good) {
                                    Ok(r) if outcomes(&r) == [Ok("accepted"); 3] => {
                                        receipts.extend(r.results.iter().filter_map(|x| x.receipt));
                                    }
                                    other => wrong.push(format!("good push answered {other:?}")),
                                }
                            }
                        }
                    }
                    let stored = seqs(s, d.id);
                    if stored != (1..=d.tip.seq).collect::<Vec<_>>() {
                        wrong.push(format!(
                            "the ledger holds {stored:?}, not its {} good events in order",
                            d.tip.seq
                        ));
                    }
                    (receipts, wrong)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("pusher"))
            .collect()
    });
    let wrong: Vec<&String> = per_device.iter().flat_map(|x| &x.1).collect();
    assert!(
        wrong.is_empty(),
        "each push answered as if alone: {wrong:#?}"
    );
    let receipts: Vec<&Receipt> = per_device.iter().flat_map(|x| &x.0).collect();
    let office = office_key().verifying_key();
    let mut indices: Vec<u64> = receipts.iter().map(|r| r.log_index).collect();
    indices.sort_unstable();
    assert_eq!(
        indices,
        (0..s.log_size().expect("log")).collect::<Vec<_>>(),
        "one receipt per logged event, and every logged event has one: nothing refused was logged"
    );
    for r in receipts {
        assert!(r.verify(&office), "receipt signed by the office");
        let entry = s
            .log_entry_of(r.device_id, r.device_seq)
            .expect("entry")
            .expect("the receipted event is in the log");
        assert_eq!(
            entry.index, r.log_index,
            "the receipt names the event's own log entry"
        );
        assert_eq!(
            entry.leaf.event_hash, r.event_hash,
            "and that entry holds its event"
        );
    }
}
