//! The signed log and its projections: append-only in the schema, identity and order across
//! restarts, and whatever a user taps, a valid chain with rebuildable projections.

use super::*;

#[test]
fn events_are_append_only_in_the_schema() {
    let mut d = device();
    visit_until(&mut d.store, "identify");
    let conn = raw(&d.db);
    let upd = conn.execute("UPDATE events SET payload = '{}' WHERE seq = 1", []);
    assert!(upd.is_err(), "the schema refuses to edit an event");
    let del = conn.execute("DELETE FROM events WHERE seq = 1", []);
    assert!(del.is_err(), "the schema refuses to delete an event");
    let gap = conn.execute(
        "INSERT INTO events (seq, id, job_id, kind, payload, recorded_at, elapsed_ms, prev_hash, hash, sig) VALUES (99, 'x', 'j', 'k', '{}', 't', 0, x'', x'', x'')",
        [],
    );
    assert!(gap.is_err(), "the schema refuses a gap in the sequence");
}

#[test]
fn a_database_from_a_newer_app_is_refused_untouched() {
    let d = device();
    drop(d.store);
    let conn = raw(&d.db);
    conn.pragma_update(None, "user_version", 99).expect("bump");
    drop(conn);
    let err = Store::open(&d.db).expect_err("newer schema");
    assert_eq!(
        err.code(),
        "database_too_new",
        "an old app must not write into a newer database"
    );
    let v: i64 = raw(&d.db)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(v, 99, "the newer database is left as it was");
}

#[test]
fn projections_rebuilt_from_events_equal_the_live_ones() {
    let mut d = device();
    let mut images = demo::generated_png;
    demo::field_day(&mut d.store, &mut images, 4).expect("demo day");
    let live = d.store.projection_rows().expect("rows");
    d.store.rebuild_projections().expect("rebuild");
    assert_eq!(
        d.store.projection_rows().expect("rows"),
        live,
        "projections are derivable from the event log alone"
    );
    assert_eq!(
        d.store.outbox().expect("outbox").len() as u64,
        d.store.tip().seq,
        "every event waits in the outbox until the office acknowledges it"
    );
}

#[test]
fn the_device_keeps_its_identity_and_clock_order_across_restarts() {
    let mut d = device();
    visit_until(&mut d.store, "knock_consent");
    let id = d.store.device_id();
    let last = d
        .store
        .events()
        .expect("events")
        .last()
        .expect("one")
        .unsigned
        .elapsed_ms;
    drop(d.store);
    // A wall clock set back a year must not reorder anything.
    let past = Utc::now() - Duration::days(365);
    let mut store = Store::open_with_clock(&d.db, fixed_clock(past)).expect("reopen");
    assert_eq!(
        store.device_id(),
        id,
        "the device id and key survive a restart"
    );
    let job = store.jobs().expect("jobs")[0].job.id;
    let e = store.record(job, done("knock_consent")).expect("next step");
    assert!(
        e.unsigned.elapsed_ms >= last,
        "monotonic time never goes backwards across restarts, whatever the wall clock says"
    );
    assert_eq!(e.seq(), 4, "the sequence continues");
}

#[derive(Debug, Clone)]
enum Action {
    Confirm,
    Skip(bool),
    Photo,
    Sign,
    Decline(bool),
    Rate(u8),
    Close,
    Reopen,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => Just(Action::Confirm),
        1 => any::<bool>().prop_map(Action::Skip),
        3 => Just(Action::Photo),
        1 => Just(Action::Sign),
        1 => any::<bool>().prop_map(Action::Decline),
        1 => (0u8..7).prop_map(Action::Rate),
        1 => Just(Action::Close),
        1 => Just(Action::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, .. ProptestConfig::default() })]

    /// Whatever a user taps, in any order, the log stays a valid chain and the projections can be
    /// rebuilt to exactly what was shown live.
    #[test]
    fn random_actions_keep_the_chain_valid_and_projections_rebuildable(actions in proptest::collection::vec(action(), 1..60)) {
        let mut d = device();
        let mut job = demo::home_repair_job(0, None);
        d.store.add_office_job(&job).expect("dispatch");
        let mut accepted = 0u64;
        for a in actions {
            let current = {
                let stored = d.store.job(job.id).expect("read").expect("job");
                let t = stored.template().expect("template");
                JobContext { job: &stored.job, template: t, progress: &stored.progress, revoked: false }
                    .current_step().map(|s| s.id.clone()).unwrap_or_else(|| "contact_card".into())
            };
            let body = match a {
                Action::Confirm => {
                    let mut ev = StepEvidence::default();
                    ev.text.insert("fault_found".into(), "x".into());
                    ev.text.insert("work_done".into(), "y".into());
                    EventBody::StepCompleted { step: current, evidence: ev }
                }
                Action::Skip(with_reason) => EventBody::StepSkipped { step: current, reason: if with_reason { "原因".into() } else { String::new() } },
                Action::Photo => EventBody::PhotoAdded { step: current, photo: photo(&d.store), caption: String::new() },
                Action::Sign => EventBody::SignatureCaptured { step: current, signer: Signer::Customer, signer_name: "客户".into(), image: photo(&d.store) },
                Action::Decline(with_reason) => EventBody::SignatureDeclined { step: current, outcome: DeclineKind::Refused, reason: if with_reason { "拒签".into() } else { String::new() }, witness: None },
                Action::Rate(stars) => EventBody::RatingGiven { stars, comment: String::new() },
                Action::Close => EventBody::JobClosed { resolution: Resolution::Resolved, summary: String::new() },
                Action::Reopen => {
                    // A new job arrives mid-run; later actions go to it.
                    job = demo::home_repair_job(1, None);
                    d.store.add_office_job(&job).expect("dispatch");
                    continue;
                }
            };
            let before = d.store.tip().seq;
            match d.store.record(job.id, body) {
                Ok(_) => { accepted += 1; prop_assert_eq!(d.store.tip().seq, before + 1, "an accepted action appends exactly one event"); }
                Err(e) => { prop_assert_eq!(d.store.tip().seq, before, "a refused action appends nothing ({})", e); }
            }
        }
        let events = d.store.events().expect("events");
        prop_assert_eq!(events.len() as u64, accepted, "one event per accepted action");
        prop_assert_eq!(audit(&events, d.store.device_id(), &d.store.public_key(), Some(d.store.tip())), Ok(accepted), "the chain verifies");
        let live = d.store.projection_rows().expect("rows");
        d.store.rebuild_projections().expect("rebuild");
        prop_assert_eq!(d.store.projection_rows().expect("rows"), live, "rebuilt projections equal the live ones");
    }
}
