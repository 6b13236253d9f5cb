//! [`MetaStore`]: small facts about the office.

use heatcrew_office::store::MetaStore;

crate::both!(
    a_fact_is_read_back_and_replaced,
    an_unknown_fact_is_none,
    of_claims_made_at_once_the_first_stands
);

fn a_fact_is_read_back_and_replaced(s: &impl MetaStore) {
    s.set_meta("demo_seeded", "1").expect("write");
    assert_eq!(s.meta("demo_seeded").expect("read").as_deref(), Some("1"));
    s.set_meta("demo_seeded", "2").expect("replace");
    assert_eq!(
        s.meta("demo_seeded").expect("read").as_deref(),
        Some("2"),
        "setting a fact again replaces it"
    );
}

fn an_unknown_fact_is_none(s: &impl MetaStore) {
    assert_eq!(s.meta("never-set").expect("read"), None);
}

/// `claim_meta` (the office key's public half is recorded by it): processes claiming at once all
/// read the one value that won, and a later claim does not replace it.
fn of_claims_made_at_once_the_first_stands(s: &(impl MetaStore + Sync)) {
    const CLAIMS: usize = 8;
    let barrier = std::sync::Barrier::new(CLAIMS);
    let answers: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLAIMS)
            .map(|i| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    s.claim_meta("office_public_key", &format!("key-{i}"))
                        .expect("claim")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let stored = s.meta("office_public_key").expect("read").expect("claimed");
    assert!(
        answers.iter().all(|a| *a == stored),
        "every claimant reads the winner: {answers:?} vs {stored}"
    );
    assert_eq!(
        s.claim_meta("office_public_key", "late").expect("claim"),
        stored,
        "a later claim changes nothing"
    );
}
