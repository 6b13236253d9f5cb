//! [`EvidenceLogStore`]: the office's Merkle log read back (leaves, nodes, roots, proofs), the
//! tree heads it handed out, and each device's ledger position.

use crate::field::{Phone, at, job, step, t0, user};
use chrono::{DateTime, Utc};
use heatcrew_office::store::{
    AccountStore, EnrolmentStore, EvidenceLogStore, JobStore, LedgerStore,
};
use heatcrew_protocol::log::TreeHead;
use heatcrew_protocol::merkle::MemoryTree;
use heatcrew_protocol::sync::Role;
use heatcrew_protocol::{ChainTip, Digest};
use uuid::Uuid;

crate::both!(
    an_empty_log_has_no_leaves_roots_or_proofs,
    a_tree_head_is_kept_once_per_size,
    tree_heads_kept_at_once_agree,
    the_log_holds_every_stored_event_with_its_roots_and_proofs,
);

fn head(size: u64, root: &[u8], when: DateTime<Utc>) -> TreeHead {
    TreeHead {
        size,
        root: Digest::of(root),
        timestamp: when,
        sig: [size as u8; 64],
    }
}

fn an_empty_log_has_no_leaves_roots_or_proofs(s: &impl EvidenceLogStore) {
    assert_eq!(s.log_size().expect("size"), 0);
    assert!(s.log_entries(0, 10).expect("entries").is_empty());
    assert_eq!(
        s.log_root(0).expect("root"),
        Some(heatcrew_protocol::merkle::empty_root())
    );
    assert_eq!(
        s.log_root(1).expect("root"),
        None,
        "no tree larger than the log"
    );
    assert_eq!(s.inclusion_proof(0, 1).expect("proof"), None);
    assert_eq!(s.consistency_proof(1, 1).expect("proof"), None);
    assert_eq!(s.log_node(0, 0).expect("node"), None);
    assert_eq!(s.log_entry_of(Uuid::now_v7(), 1).expect("entry"), None);
    assert_eq!(
        s.device_tip(Uuid::now_v7()).expect("tip"),
        None,
        "not enrolled"
    );
    assert!(s.tree_heads().expect("heads").is_empty());
    assert_eq!(s.newest_tree_head().expect("newest"), None);
}

fn a_tree_head_is_kept_once_per_size(s: &impl EvidenceLogStore) {
    let three = head(3, b"root 3", t0());
    assert_eq!(s.save_tree_head(&three).expect("save"), three);
    let later = head(3, b"another root", at(1));
    assert_eq!(
        s.save_tree_head(&later).expect("save"),
        three,
        "the first head of a size stays"
    );
    let one = head(1, b"root 1", at(2));
    s.save_tree_head(&one).expect("save");
    assert_eq!(s.tree_head(3).expect("read"), Some(three));
    assert_eq!(s.tree_head(2).expect("read"), None);
    assert_eq!(
        s.tree_head(u64::MAX).expect("read"),
        None,
        "a size past any count is none"
    );
    assert_eq!(s.tree_heads().expect("all"), [one, three], "by size");
    assert_eq!(
        s.newest_tree_head().expect("newest"),
        Some(three),
        "the largest, not the last kept"
    );
    // With no write in flight, keeping without waiting keeps as saving does.
    let four = head(4, b"root 4", at(3));
    assert_eq!(s.try_save_tree_head(&four).expect("save"), Some(four));
    assert_eq!(
        s.try_save_tree_head(&head(4, b"other", at(4)))
            .expect("save"),
        Some(four),
        "the first head of a size stays"
    );
    assert_eq!(s.newest_tree_head().expect("newest"), Some(four));
}

/// Office processes signing a head of the same size at once all answer the one kept.
fn tree_heads_kept_at_once_agree<S: EvidenceLogStore + Sync>(s: &S) {
    let answers: Vec<TreeHead> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6u8)
            .map(|i| scope.spawn(move || s.save_tree_head(&head(5, &[i], at(i as i64)))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread").expect("save"))
            .collect()
    });
    let kept = s.tree_head(5).expect("read").expect("kept");
    assert!(
        answers.iter().all(|a| *a == kept),
        "every caller is answered the kept head"
    );
}

fn the_log_holds_every_stored_event_with_its_roots_and_proofs<S>(s: &S)
where
    S: EvidenceLogStore + AccountStore + EnrolmentStore + JobStore + LedgerStore,
{
    let tech = user(s, "tech", Role::RepairTechnician);
    let mut j = job("x", "", "", None);
    j.assignee = Some(tech);
    let j = s.create_job(j, t0()).expect("create");
    let mut phone = Phone::enrol(s, tech, 1);
    let mut other = Phone::enrol(s, tech, 2);
    for i in 0..7 {
        let dev = if i % 3 == 2 { &mut other } else { &mut phone };
        let e = dev.record(j.id, &step(&format!("s{i}")), at(i));
        dev.push_accepted(s, &[e], at(i + 1));
    }
    assert_eq!(s.device_tip(phone.id).expect("tip"), Some(phone.tip()));
    assert_eq!(
        s.device_tip(other.id)
            .expect("tip")
            .map(|t: ChainTip| t.seq),
        Some(2)
    );
    let entries = s.log_entries(0, 100).expect("entries");
    assert_eq!(s.log_size().expect("size"), 7);
    assert_eq!(
        entries.iter().map(|e| e.index).collect::<Vec<_>>(),
        (0..7).collect::<Vec<_>>()
    );
    assert!(entries.iter().all(|e| e.leaf.accepted));
    assert_eq!(
        entries[3].received_at,
        at(4),
        "in commit order, with the office's time"
    );
    assert_eq!(
        s.log_entries(2, 2).expect("page"),
        entries[2..4],
        "a page from an index"
    );
    let fourth = entries[3];
    assert_eq!(
        s.log_entry_of(fourth.leaf.device_id, fourth.leaf.device_seq)
            .expect("entry"),
        Some(fourth)
    );
    let mut tree = MemoryTree::new();
    for e in &entries {
        tree.push_hash(e.leaf.hash());
    }
    assert_eq!(s.log_node(0, 3).expect("node"), tree.node(0, 3));
    assert_eq!(
        s.log_node(2, 0).expect("node"),
        tree.node(2, 0),
        "a stored subtree"
    );
    for size in 1..=7 {
        assert_eq!(
            s.log_root(size).expect("root"),
            tree.root(size),
            "root of {size}"
        );
        for index in 0..size {
            assert_eq!(
                s.inclusion_proof(index, size).expect("proof"),
                tree.inclusion_proof(index, size)
            );
        }
        for first in 1..=size {
            assert_eq!(
                s.consistency_proof(first, size).expect("proof"),
                tree.consistency_proof(first, size)
            );
        }
    }
    assert_eq!(s.log_root(8).expect("root"), None);
}
