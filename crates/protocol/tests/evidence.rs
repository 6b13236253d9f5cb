//! Evidence exports checked as an outside expert would: an honest device and office pass, and every
//! way one side could rewrite history alone is caught (docs/evidence.md, "What is guaranteed").

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use heatcrew_protocol::Digest;
use heatcrew_protocol::export::{ExportLine, ExportReport, verify_exports};
use heatcrew_protocol::log::{LogLeaf, Receipt, TreeHead};
use uuid::Uuid;

/// A fault with `code` whose message mentions `needle`.
fn fault(r: &ExportReport, code: &str, needle: &str) -> bool {
    r.faults
        .iter()
        .any(|f| f.code == code && f.message.contains(needle))
}

#[test]
fn an_honest_device_and_office_agree_and_everything_is_proven() {
    let w = world();
    let d = device_export(&w, &w.events, &w.receipts);
    let o = office_export(&w, &w.events, &w.leaves, &w.office_key);
    let r = check(&[d, o]);
    assert!(r.ok(), "honest exports have no faults: {:?}", r.faults);
    assert!(
        r.unproven.is_empty(),
        "and nothing unproven: {:?}",
        r.unproven
    );
    assert_eq!(r.events, 12, "six events in each export");
    assert_eq!(r.receipts, 12, "every receipt checked");
    assert_eq!(r.inclusion_proofs, 6, "each event is in the office log");
    assert_eq!(
        r.consistency_proofs, 1,
        "the log extends what the device was shown"
    );
}

#[test]
fn the_device_rewriting_an_acknowledged_event_with_its_own_key_is_caught() {
    let w = world();
    // Someone holding the phone and its key changes reading 4 and re-signs 4..6.
    let forged = chain(&w.device_key, 6, Some(4));
    let alone = check(&[device_export(&w, &forged, &w.receipts)]);
    assert!(
        fault(&alone, "receipt_mismatch", "rewritten after the receipt"),
        "the office's receipt names the original event: {:?}",
        alone.faults
    );
    let both = check(&[
        device_export(&w, &forged, &w.receipts),
        office_export(&w, &w.events, &w.leaves, &w.office_key),
    ]);
    assert!(
        fault(&both, "two_versions", "two different versions"),
        "and the office's copy differs: {:?}",
        both.faults
    );
}

#[test]
fn a_device_export_that_drops_its_newest_events_is_caught() {
    let w = world();
    // Rewound tip: events 5 and 6 gone, the tip line says 4.
    let r = check(&[device_export(&w, &w.events[..4], &w.receipts)]);
    assert!(
        fault(
            &r,
            "events_removed",
            "acknowledged event 6 but the chain shown ends at event 4"
        ),
        "receipts outlive a rewound tip: {:?}",
        r.faults
    );
    // Lines cut off without touching the tip line.
    let mut cut = device_export(&w, &w.events, &w.receipts);
    cut.lines
        .retain(|l| !matches!(l, ExportLine::Event { event } if event.seq() > 4));
    let r = check(&[cut]);
    assert!(
        fault(&r, "tip_mismatch", "events are missing at the end"),
        "a truncated export contradicts its own tip: {:?}",
        r.faults
    );
}

#[test]
fn the_office_deleting_an_event_after_handing_out_a_tree_head_is_caught() {
    let w = world();
    // The office removes the device's event 2 (and everything after it in the log) and rebuilds.
    let cut = w
        .leaves
        .iter()
        .position(|l| l.device_id == Uuid::from_u128(DEVICE) && l.device_seq == 2)
        .expect("leaf");
    let mut rewritten: Vec<LogLeaf> = w.leaves[..cut].to_vec();
    rewritten.extend(w.leaves[cut + 1..].iter().copied());
    let office = office_export(&w, &w.events, &rewritten, &w.office_key);
    let r = check(&[device_export(&w, &w.events, &w.receipts), office]);
    assert!(
        fault(&r, "consistency_failed", "does not extend the one of size"),
        "the tree head the device kept binds the office: {:?}",
        r.faults
    );
}

#[test]
fn the_office_rewriting_an_old_entry_cannot_prove_its_log_consistent() {
    let w = world();
    let mut rewritten = w.leaves.clone();
    rewritten[1].accepted = false; // flips the verdict on the device's first event
    let r = check(&[
        device_export(&w, &w.events, &w.receipts),
        office_export(&w, &w.events, &rewritten, &w.office_key),
    ]);
    assert!(
        fault(&r, "consistency_failed", "does not extend the one of size"),
        "a changed verdict changes the log: {:?}",
        r.faults
    );
    assert!(
        fault(&r, "log_rewritten", "two different entries at log index 1"),
        "and contradicts the receipt the device kept: {:?}",
        r.faults
    );
}

#[test]
fn an_office_that_re_keys_a_device_and_re_signs_its_chain_is_caught() {
    let w = world();
    let stranger = SigningKey::from_bytes(&[33; 32]);
    let forged = chain(&stranger, 6, Some(2));
    let mut office = office_export(&w, &forged, &w.leaves, &w.office_key);
    office.lines[1] = device_line(&stranger, &forged);
    let r = check(&[device_export(&w, &w.events, &w.receipts), office]);
    assert!(
        fault(&r, "key_mismatch", "differs from"),
        "the device's own export names its real key: {:?}",
        r.faults
    );
}

#[test]
fn receipts_and_tree_heads_not_signed_by_the_office_are_refused() {
    let w = world();
    let mut d = device_export(&w, &w.events, &w.receipts);
    let fake = Receipt::sign(&w.device_key, &w.receipts[0].leaf(), 0, t0());
    d.lines.push(ExportLine::Receipt { receipt: fake });
    let fake_head = TreeHead::sign(&w.device_key, 99, Digest::of(b"x"), t0());
    d.lines.push(ExportLine::TreeHead {
        tree_head: fake_head,
    });
    let r = check(&[d]);
    assert!(
        fault(&r, "bad_receipt", "receipt for device")
            && fault(&r, "bad_tree_head", "tree head of size 99"),
        "a device cannot forge the office's word: {:?}",
        r.faults
    );
}

#[test]
fn a_replaced_file_and_a_forged_link_are_caught() {
    let w = world();
    let mut d = device_export(&w, &w.events, &[]);
    d.lines
        .retain(|l| !matches!(l, ExportLine::TreeHead { .. }));
    d.lines.push(ExportLine::File {
        sha256: Digest::of(b"the original photo"),
        bytes: 18,
        path: "files/photo.jpg".into(),
    });
    let r = verify_exports(&[d.clone()], |_| Some(b"a replaced photo!!".to_vec()));
    assert!(
        fault(&r, "file_mismatch", "replaced or damaged"),
        "a replaced photo fails its hash: {:?}",
        r.faults
    );
    let r = verify_exports(&[d], |_| None);
    assert!(
        fault(&r, "file_missing", "missing"),
        "a missing file is named"
    );

    // A link (content withheld) whose signature was made by someone else.
    let mut linked = device_export(&w, &w.events, &[]);
    linked
        .lines
        .retain(|l| !matches!(l, ExportLine::TreeHead { .. }));
    let e = &w.events[1];
    let stranger = SigningKey::from_bytes(&[44; 32]);
    linked.lines[3] = ExportLine::Link {
        device_seq: e.seq(),
        prev_hash: e.unsigned.prev_hash,
        hash: e.hash,
        sig: ed25519_dalek::Signer::sign(&stranger, &e.hash.0).to_bytes(),
    };
    let r = check(&[linked]);
    assert!(
        fault(&r, "chain", "signature does not match"),
        "a withheld event's link still carries the device's signature: {:?}",
        r.faults
    );
}
