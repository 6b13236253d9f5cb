//! Where a user's records on a shared phone end, checked from exports as an outside expert would
//! (export format 3, `docs/evidence.md` "Signing out"): Alice signs in on the phone and records
//! events 1..3, then signs out; a tampered app records event 4 while nobody is signed in; Bob
//! signs in at event 4 and records 5..6. Event 4 is nobody's, and neither side can move it.

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use heatcrew_protocol::ChainTip;
use heatcrew_protocol::export::{EXPORT_FORMAT_V2, Export, ExportLine, ExportReport};

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

fn sign_ins(w: &World) -> Vec<ExportLine> {
    vec![
        sign_in(&w.device_key, "alice", ChainTip::START, 0x51),
        sign_in(&w.device_key, "bob", tip(w, 4), 0x52),
    ]
}

/// Alice's sign-out at event 3, acknowledged by `office` if given.
fn alices_sign_out(w: &World, office: Option<&SigningKey>) -> ExportLine {
    sign_out(&w.device_key, "alice", tip(w, 3), 0x51, office)
}

fn office_with(w: &World, extra: Vec<ExportLine>) -> Export {
    let mut lines = sign_ins(w);
    lines.extend(extra);
    with_v3(
        &office_export(w, &w.events, &w.leaves, &w.office_key),
        lines,
    )
}

fn device_with(w: &World, extra: Vec<ExportLine>) -> Export {
    let mut lines = sign_ins(w);
    lines.extend(extra);
    with_v3(&device_export(w, &w.events, &w.receipts), lines)
}

const HANDOVER: [(&str, u64, u64); 2] = [("alice", 1, 3), ("bob", 5, 6)];

fn expect(want: &[(&str, u64, u64)]) -> Vec<(String, u64, u64)> {
    want.iter()
        .map(|(u, a, b)| (u.to_string(), *a, *b))
        .collect()
}

#[test]
fn a_kept_sign_out_ends_its_users_records() {
    let w = world();
    let kept = alices_sign_out(&w, Some(&w.office_key));
    let r = check(&[
        device_with(&w, vec![kept.clone()]),
        office_with(&w, vec![kept]),
    ]);
    assert!(r.ok(), "{:?}", r.faults);
    assert!(r.unproven.is_empty(), "{:?}", r.unproven);
    assert_eq!((r.sign_ins, r.sign_outs), (2, 1));
    assert_eq!(
        makers(&r),
        expect(&HANDOVER),
        "event 4 was made while nobody was signed in: nobody's"
    );
}

#[test]
fn a_sign_out_the_office_has_not_seen_counts_on_the_devices_word_alone() {
    // Offline: the phone signed Alice out; no office export is shown.
    let w = world();
    let r = check(&[device_with(&w, vec![alices_sign_out(&w, None)])]);
    assert!(r.ok(), "{:?}", r.faults);
    assert_eq!(r.sign_outs, 1);
    assert_eq!(makers(&r), expect(&HANDOVER));
}

#[test]
fn a_device_cannot_disown_records_the_office_holds_by_signing_a_sign_out_later() {
    // The office holds event 4 and never kept a sign-out: a sign-out the device signed without
    // the office's word does not move event 4 away from Alice (nor is the office at fault).
    let w = world();
    let r = check(&[
        device_with(&w, vec![alices_sign_out(&w, None)]),
        office_with(&w, vec![]),
    ]);
    assert!(r.ok(), "{:?}", r.faults);
    assert_eq!(r.sign_outs, 0);
    assert!(
        r.unproven.iter().any(|u| u.contains("never acknowledged")),
        "{:?}",
        r.unproven
    );
    assert_eq!(makers(&r), expect(&[("alice", 1, 4), ("bob", 5, 6)]));
}

#[test]
fn an_office_that_leaves_out_a_sign_out_it_kept_is_caught() {
    // Someone with a copy of the office's database deletes Alice's sign-out, so that event 4
    // reads as hers; the phone kept the office's acknowledgement.
    let w = world();
    let r = check(&[
        device_with(&w, vec![alices_sign_out(&w, Some(&w.office_key))]),
        office_with(&w, vec![]),
    ]);
    assert!(r.has("sign_out_withheld"), "{:?}", r.faults);
    assert_eq!(
        makers(&r),
        expect(&HANDOVER),
        "the phone's copy still counts"
    );
    // Bob signing in at event 3 (nothing made in between) disowns nothing: no fault then.
    let mut lines = vec![
        sign_in(&w.device_key, "alice", ChainTip::START, 0x51),
        sign_in(&w.device_key, "bob", tip(&w, 3), 0x52),
    ];
    let office = with_v3(
        &office_export(&w, &w.events, &w.leaves, &w.office_key),
        lines.clone(),
    );
    lines.push(alices_sign_out(&w, Some(&w.office_key)));
    let device = with_v3(&device_export(&w, &w.events, &w.receipts), lines);
    let r = check(&[device, office]);
    assert!(r.ok(), "{:?}", r.faults);
    assert_eq!(makers(&r), expect(&[("alice", 1, 3), ("bob", 4, 6)]));
}

/// An edit of a sign-out line's fields: chain head, user, challenge, proof, office signature.
type FieldEdit =
    fn(&mut ChainTip, &mut String, &mut [u8; 32], &mut [u8; 64], &mut Option<[u8; 64]>);

#[test]
fn nobody_can_alter_or_make_up_a_sign_out() {
    let w = world();
    let forger = SigningKey::from_bytes(&[33; 32]);
    type Edit = Box<dyn Fn(&mut ExportLine)>;
    let field = |f: FieldEdit| -> Edit {
        Box::new(move |l| {
            if let ExportLine::SignOut {
                chain_head,
                username,
                challenge,
                proof,
                office_sig,
                ..
            } = l
            {
                f(chain_head, username, challenge, proof, office_sig)
            }
        })
    };
    let edits: Vec<(&str, Edit)> = vec![
        ("another user", field(|_, u, _, _, _| *u = "bob".into())),
        ("moved earlier", field(|h, _, _, _, _| h.seq = 2)),
        (
            "another sign-in's challenge",
            field(|_, _, c, _, _| *c = [0x52; 32]),
        ),
        (
            "a proof with one bit flipped",
            field(|_, _, _, p, _| p[3] ^= 1),
        ),
        (
            "the office's acknowledgement with one bit flipped",
            field(|_, _, _, _, s| s.as_mut().expect("acknowledged")[7] ^= 1),
        ),
    ];
    for (what, edit) in edits {
        let mut line = alices_sign_out(&w, Some(&w.office_key));
        edit(&mut line);
        let r = check(&[office_with(&w, vec![line])]);
        assert!(r.has("bad_sign_out"), "{what}: {:?}", r.faults);
        assert_eq!(
            makers(&r),
            expect(&[("alice", 1, 4), ("bob", 5, 6)]),
            "{what}: only a sign-out that holds counts"
        );
    }
    // Signed by another key than the device's, or acknowledged by another key than the office's.
    let made_up = sign_out(&forger, "alice", tip(&w, 3), 0x51, Some(&w.office_key));
    let r = check(&[office_with(&w, vec![made_up])]);
    assert!(r.has("bad_sign_out"), "{:?}", r.faults);
    let r = check(&[device_with(&w, vec![alices_sign_out(&w, Some(&forger))])]);
    assert!(r.has("bad_sign_out"), "{:?}", r.faults);
}

#[test]
fn a_sign_out_that_contradicts_its_sign_in_or_the_chain_is_caught() {
    let w = world();
    // Bob signed in at event 4; a sign-out of Bob's at event 2 is a contradiction.
    let before = sign_out(&w.device_key, "bob", tip(&w, 2), 0x52, None);
    let r = check(&[device_with(&w, vec![before])]);
    assert!(r.has("bad_sign_out"), "{:?}", r.faults);
    // A head the chain shown does not hold: the device's history changed after it.
    let mut other = tip(&w, 3);
    other.hash = w.events[0].hash;
    let r = check(&[device_with(
        &w,
        vec![sign_out(&w.device_key, "alice", other, 0x51, None)],
    )]);
    assert!(r.has("chain_head"), "{:?}", r.faults);
    // Two different sign-outs of one sign-in, both signed by the device.
    let r = check(&[device_with(
        &w,
        vec![
            alices_sign_out(&w, None),
            sign_out(&w.device_key, "alice", tip(&w, 2), 0x51, None),
        ],
    )]);
    assert!(r.has("bad_sign_out"), "{:?}", r.faults);
    // A sign-out whose sign-in is not shown proves nothing.
    let r = check(&[with_v3(
        &device_export(&w, &w.events, &w.receipts),
        vec![alices_sign_out(&w, None)],
    )]);
    assert!(r.ok(), "{:?}", r.faults);
    assert_eq!(r.sign_outs, 0);
    assert!(!r.unproven.is_empty());
}

#[test]
fn a_sign_out_past_the_next_sign_in_disowns_nothing() {
    // The device signs Alice out at event 5, after Bob signed in at event 4: nothing is disowned
    // (event 5 is Bob's), so the office holding event 5 disputes nothing.
    let w = world();
    let late = sign_out(&w.device_key, "alice", tip(&w, 5), 0x51, None);
    let r = check(&[device_with(&w, vec![late]), office_with(&w, vec![])]);
    assert!(r.ok(), "{:?}", r.faults);
    assert!(r.unproven.is_empty(), "{:?}", r.unproven);
    assert_eq!(makers(&r), expect(&[("alice", 1, 4), ("bob", 5, 6)]));
}

#[test]
fn a_sign_out_line_needs_format_3() {
    let w = world();
    let mut e = office_with(&w, vec![alices_sign_out(&w, Some(&w.office_key))]);
    if let Some(ExportLine::Header { format, .. }) = e.lines.first_mut() {
        *format = EXPORT_FORMAT_V2.into();
    }
    let r = check(&[e]);
    assert!(r.has("bad_header"), "{:?}", r.faults);
}
