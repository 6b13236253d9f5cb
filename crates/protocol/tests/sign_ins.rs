//! Whose records a shared phone's events are, checked from an export as an outside expert would
//! (export format 2, `docs/evidence.md` "Enrolment"): the device's own signature over each
//! sign-in says who took the phone where its chain stood, and nobody without the device key can
//! move a record from one user to another.

mod common;

use common::*;
use heatcrew_protocol::export::{
    EXPORT_FORMAT, Export, ExportLine, ExportReport, Maker, verify_exports,
};
use heatcrew_protocol::{ChainTip, Digest};
use uuid::Uuid;

fn makers(r: &ExportReport) -> Vec<(String, u64, u64)> {
    r.makers
        .iter()
        .map(|m| (m.username.clone(), m.first_seq, m.last_seq))
        .collect()
}

fn tip(w: &World, seq: u64) -> ChainTip {
    ChainTip {
        seq,
        hash: w.events[seq as usize - 1].hash,
    }
}

fn office_with(w: &World, sign_ins: Vec<ExportLine>) -> Export {
    with_sign_ins(
        &office_export(w, &w.events, &w.leaves, &w.office_key),
        sign_ins,
    )
}

#[test]
fn a_shared_phones_sign_ins_say_whose_records_its_events_are() {
    let w = world();
    let r = check(&[
        device_export(&w, &w.events, &w.receipts),
        office_with(&w, handover(&w)),
    ]);
    assert!(r.ok(), "honest sign-ins hold: {:?}", r.faults);
    assert!(r.unproven.is_empty(), "{:?}", r.unproven);
    assert_eq!(r.sign_ins, 2);
    assert_eq!(
        makers(&r),
        [("alice".into(), 1, 3), ("bob".into(), 4, 6)],
        "Alice's records up to the head Bob signed in at, Bob's after it"
    );
    assert_eq!(
        r.makers[0],
        Maker {
            device_id: Uuid::from_u128(DEVICE),
            username: "alice".into(),
            first_seq: 1,
            last_seq: 3
        }
    );
}

#[test]
fn an_office_cannot_move_a_record_to_another_user() {
    let w = world();
    type Edit = Box<dyn Fn(&mut ExportLine)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "Bob's sign-in credited to Alice",
            Box::new(|l| {
                if let ExportLine::SignIn { username, .. } = l {
                    *username = "alice".into();
                }
            }),
        ),
        (
            "Bob's sign-in moved later, so that event 4 is Alice's",
            Box::new(|l| {
                if let ExportLine::SignIn { chain_head, .. } = l {
                    chain_head.seq = 4;
                }
            }),
        ),
        (
            "another challenge",
            Box::new(|l| {
                if let ExportLine::SignIn { challenge, .. } = l {
                    challenge[0] ^= 1;
                }
            }),
        ),
        (
            "a proof with one bit flipped",
            Box::new(|l| {
                if let ExportLine::SignIn { proof, .. } = l {
                    proof[10] ^= 1;
                }
            }),
        ),
    ];
    for (what, edit) in edits {
        let mut lines = handover(&w);
        edit(&mut lines[1]);
        let r = check(&[office_with(&w, lines)]);
        assert!(r.has("bad_sign_in"), "{what}: {:?}", r.faults);
        assert_eq!(
            makers(&r),
            [("alice".into(), 1, 6)],
            "{what}: only the sign-in that holds counts"
        );
    }
    // Nor make one up: only the device key signs a sign-in.
    let mut lines = handover(&w);
    lines[1] = sign_in(&w.office_key, "bob", tip(&w, 3), 0x52);
    let r = check(&[office_with(&w, lines)]);
    assert!(r.has("bad_sign_in"), "{:?}", r.faults);
}

#[test]
fn a_device_that_changed_its_history_after_vouching_for_it_is_caught() {
    let w = world();
    // Bob signed in with the chain at the original event 3; the chain shown has another event 3
    // (re-signed with the device key, as whoever holds the phone could).
    let forged = chain(&w.device_key, 6, Some(3));
    let office = with_sign_ins(
        &office_export(&w, &forged, &w.leaves, &w.office_key),
        handover(&w),
    );
    let r = check(&[office]);
    assert!(r.has("chain_head"), "{:?}", r.faults);
    // A head of 0 must name the zero hash.
    let mut lines = handover(&w);
    lines[0] = sign_in(
        &w.device_key,
        "alice",
        ChainTip {
            seq: 0,
            hash: Digest::of(b"x"),
        },
        0x51,
    );
    assert!(check(&[office_with(&w, lines)]).has("chain_head"));
}

#[test]
fn sign_ins_need_format_2_and_their_device_in_the_exports() {
    let w = world();
    let mut v1 = office_with(&w, handover(&w));
    if let Some(ExportLine::Header { format, .. }) = v1.lines.first_mut() {
        *format = EXPORT_FORMAT.into();
    }
    let r = check(&[v1]);
    assert!(r.has("bad_header"), "{:?}", r.faults);
    assert!(r.makers.is_empty());

    // Without the device's chain and key, a sign-in proves nothing (and is not a fault).
    let office = office_with(&w, handover(&w));
    let header_and_sign_ins: Vec<ExportLine> = office
        .lines
        .iter()
        .filter(|l| matches!(l, ExportLine::Header { .. } | ExportLine::SignIn { .. }))
        .cloned()
        .collect();
    let r = verify_exports(
        &[Export {
            name: "sign-ins-only.jsonl".into(),
            lines: header_and_sign_ins,
        }],
        |_| None,
    );
    assert!(r.ok(), "{:?}", r.faults);
    assert_eq!(r.unproven.len(), 2, "{:?}", r.unproven);
    assert!(r.makers.is_empty());
}

#[test]
fn the_same_sign_in_twice_counts_once_and_a_later_sign_in_at_the_same_head_takes_over() {
    let w = world();
    let mut lines = handover(&w);
    lines.push(lines[1].clone());
    lines.push(sign_in(&w.device_key, "carol", tip(&w, 3), 0x53));
    let r = check(&[office_with(&w, lines)]);
    assert!(r.ok(), "{:?}", r.faults);
    assert_eq!(r.sign_ins, 3);
    assert_eq!(
        makers(&r),
        [("alice".into(), 1, 3), ("carol".into(), 4, 6)],
        "Bob signed in and handed over before recording anything"
    );
    // A sign-in ahead of the chain shown credits nothing yet.
    let lines = vec![sign_in(
        &w.device_key,
        "alice",
        ChainTip {
            seq: 9,
            hash: Digest::of(b"not pushed yet"),
        },
        0x54,
    )];
    let r = check(&[office_with(&w, lines)]);
    assert!(r.ok(), "{:?}", r.faults);
    assert!(r.makers.is_empty(), "{:?}", r.makers);
}

#[test]
fn malformed_sign_in_lines_are_refused() {
    let w = world();
    let good = serde_json::to_string(&handover(&w)[1]).expect("json");
    let proof = match &handover(&w)[1] {
        ExportLine::SignIn { proof, .. } => hex::encode(proof),
        _ => unreachable!(),
    };
    let bad = [
        good.replace(&proof, &proof.to_uppercase()),
        good.replace(&proof, &proof[2..]),
        good.replace("\"username\":\"bob\",", ""),
        good.replace("\"challenge\":\"", "\"challenge\":\"zz"),
    ];
    for (i, line) in bad.iter().enumerate() {
        assert!(
            serde_json::from_str::<ExportLine>(line).is_err(),
            "bad line {i} is refused: {line}"
        );
    }
    assert!(serde_json::from_str::<ExportLine>(&good).is_ok());
}

/// Sign-ins are not events of the chain, so an office export alone cannot show one is missing;
/// the device keeps every sign-in the office accepted, and its export catches an office export
/// that shows the chain past a sign-in's head without it.
#[test]
fn an_office_export_leaving_out_a_sign_in_the_device_kept_is_caught() {
    let w = world();
    let device = with_sign_ins(&device_export(&w, &w.events, &w.receipts), handover(&w));
    let withheld = office_with(&w, handover(&w)[..1].to_vec());
    let alone = check(std::slice::from_ref(&withheld));
    assert!(alone.ok(), "{:?}", alone.faults);
    assert_eq!(
        makers(&alone),
        [("alice".into(), 1, 6)],
        "alone, Bob's records pass as Alice's"
    );
    let r = check(&[device.clone(), withheld]);
    assert!(r.has("sign_in_withheld"), "{:?}", r.faults);

    let r = check(&[device.clone(), office_with(&w, handover(&w))]);
    assert!(r.ok(), "{:?}", r.faults);
    assert_eq!(r.sign_ins, 2, "each sign-in counted once");
    assert_eq!(makers(&r), [("alice".into(), 1, 3), ("bob".into(), 4, 6)]);

    // An office export made before Bob signed in (its chain ends at his head) withheld nothing.
    let early = with_sign_ins(
        &office_export(&w, &w.events[..3], &w.leaves[..6], &w.office_key),
        handover(&w)[..1].to_vec(),
    );
    let r = check(&[device, early]);
    assert!(r.ok(), "{:?}", r.faults);
}
