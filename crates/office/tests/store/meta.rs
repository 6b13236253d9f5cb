//! [`MetaStore`]: small facts about the office.

use heatcrew_office::store::MetaStore;

crate::both!(a_fact_is_read_back_and_replaced, an_unknown_fact_is_none);

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
