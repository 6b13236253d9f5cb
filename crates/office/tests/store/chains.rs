//! [`ChainCheckStore`]: the office's signed note of how far a device's chain was verified, and
//! the device's stored rows read back as stored.

use crate::field::{Phone, at, job, step, t0, user};
use heatcrew_office::store::{
    AccountStore, ChainCheckStore, ChainCheckpoint, EnrolmentStore, JobStore, LedgerStore,
};
use heatcrew_protocol::sync::Role;
use heatcrew_protocol::{ChainTip, Digest, Event};
use uuid::Uuid;

crate::both!(
    a_checkpoint_is_kept_and_replaced,
    a_device_without_events_has_no_rows,
    a_devices_rows_come_as_stored_in_sequence_within_the_range,
);

fn checkpoint(device_id: Uuid, seq: u64) -> ChainCheckpoint {
    ChainCheckpoint {
        device_id,
        public_key: "ab".repeat(32),
        tip: ChainTip {
            seq,
            hash: Digest::of(&seq.to_be_bytes()),
        },
        rows_digest: Digest::of(b"rows"),
        sig: [seq as u8; 64],
        checked_at: at(seq as i64),
    }
}

fn a_checkpoint_is_kept_and_replaced(s: &impl ChainCheckStore) {
    let dev = Uuid::now_v7();
    assert_eq!(s.chain_checkpoint(dev).expect("read"), None);
    s.save_chain_checkpoint(&checkpoint(dev, 3)).expect("save");
    assert_eq!(
        s.chain_checkpoint(dev).expect("read"),
        Some(checkpoint(dev, 3))
    );
    s.save_chain_checkpoint(&checkpoint(dev, 9))
        .expect("replace");
    assert_eq!(
        s.chain_checkpoint(dev).expect("read"),
        Some(checkpoint(dev, 9)),
        "the newest replaces it"
    );
    assert_eq!(
        s.chain_checkpoint(Uuid::now_v7()).expect("read"),
        None,
        "one per device"
    );
}

fn a_device_without_events_has_no_rows(s: &impl ChainCheckStore) {
    let mut n = 0;
    s.device_rows(Uuid::now_v7(), 0, u64::MAX, &mut |_, _, _| {
        n += 1;
        true
    })
    .expect("rows");
    assert_eq!(n, 0);
}

fn a_devices_rows_come_as_stored_in_sequence_within_the_range<S>(s: &S)
where
    S: ChainCheckStore + AccountStore + EnrolmentStore + JobStore + LedgerStore,
{
    let tech = user(s, "tech", Role::RepairTechnician);
    let mut j = job("x", "", "", None);
    j.assignee = Some(tech);
    let j = s.create_job(j, t0()).expect("create");
    let mut phone = Phone::enrol(s, tech, 1);
    let events: Vec<Event> = (0..5)
        .map(|i| phone.record(j.id, &step(&format!("s{i}")), at(i)))
        .collect();
    phone.push_accepted(s, &events, at(9));
    let mut rows = Vec::new();
    s.device_rows(phone.id, 1, 4, &mut |seq, id, body| {
        rows.push((
            seq,
            id.to_owned(),
            serde_json::from_str::<Event>(body).expect("an event"),
        ));
        true
    })
    .expect("rows");
    let want: Vec<_> = events[1..4]
        .iter()
        .map(|e| (e.seq(), e.unsigned.id.to_string(), e.clone()))
        .collect();
    assert_eq!(rows, want, "seq 2..=4 as stored, in order");
    let mut seen = 0;
    s.device_rows(phone.id, 0, u64::MAX, &mut |_, _, _| {
        seen += 1;
        seen < 2
    })
    .expect("rows");
    assert_eq!(seen, 2, "the reader stops when told");
}
