//! Whose job an event may be recorded on: another user's job is stored refused (the chain goes
//! on), except on a phone that job's user signed in on, where a record left queued at a handover
//! is its maker's: the user signed in when it was made, by the chain heads sign-ins name
//! (`ledger::makers`), or, before sign-ins named them, any user of the phone whose job it is.

use super::*;

ledger_cases!(
    another_users_job_is_stored_rejected,
    records_left_by_another_user_of_the_phone_count_as_theirs,
    a_sign_in_fixes_whose_records_come_before_it,
    a_history_changed_after_a_sign_in_vouched_for_it_is_refused,
    records_after_a_kept_sign_out_are_nobodys,
);

/// li signs out (the store keeps where li's chain stood, as the office does once the device's
/// signature checked out) and a tampered app goes on writing as li; zhang signs in past it. Those
/// records are refused `signed_out`, li's before it stay li's, a record at the sign-out's position
/// with another hash is refused as a changed history, and what the store refuses to keep: a second
/// statement, one behind its sign-in, one that would disown records already held.
fn records_after_a_kept_sign_out_are_nobodys(s: &impl Ledger, seed: &dyn Seed) {
    use heatcrew_office::ledger::makers::SignedHead;
    let (li, zhang) = (seed.user("li"), seed.user("zhang"));
    let li_job = assigned_job(s, li);
    let mut d = Device::enrol(seed, li);
    let key = hex::encode(d.key.verifying_key().as_bytes());
    let challenge = "c1".repeat(32);
    let made = d.step(li_job);
    seed.sign_in_answering(d.id, &key, li, Some(d.tip), &challenge)
        .expect("li signs in after one record");
    let li_own = d.step(li_job);
    let out = SignedHead {
        head: d.tip,
        challenge: challenge.clone(),
        proof: "ab".repeat(64),
    };
    let code = |r: Result<(), StoreError>| match r {
        Err(StoreError::Conflict { code, .. }) => Some(code),
        Err(other) => panic!("a conflict, not {other:?}"),
        Ok(()) => None,
    };
    let behind = SignedHead {
        head: ChainTip::START,
        ..out.clone()
    };
    assert_eq!(
        code(s.keep_sign_out(d.id, &behind)),
        Some(ErrorCode::ChainHeadMismatch),
        "before its own sign-in"
    );
    assert!(matches!(
        s.keep_sign_out(
            d.id,
            &SignedHead {
                challenge: "00".repeat(32),
                ..out.clone()
            }
        ),
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(code(s.keep_sign_out(d.id, &out)), None, "kept");
    assert_eq!(code(s.keep_sign_out(d.id, &out)), None, "the same again");
    let kept: Vec<_> = s
        .sign_ins_of_device(d.id)
        .expect("sign-ins")
        .into_iter()
        .filter_map(|i| i.signed_out)
        .collect();
    assert_eq!(
        kept,
        std::slice::from_ref(&out),
        "read back as kept, for verify and exports"
    );
    let further = SignedHead {
        head: ChainTip {
            seq: d.tip.seq + 1,
            hash: Digest::of(b"x"),
        },
        ..out.clone()
    };
    assert_eq!(
        code(s.keep_sign_out(d.id, &further)),
        Some(ErrorCode::SignOutConflict),
        "another statement for the same sign-in"
    );
    let forged = d.step(li_job);
    seed.sign_in_shared(d.id, &key, zhang, Some(d.tip))
        .expect("zhang takes the phone");
    let r = d.push(s, zhang, &[made, li_own, forged]);
    assert_eq!(
        outcomes(&r),
        vec![Ok("accepted"), Ok("accepted"), Err(ErrorCode::SignedOut)],
        "li's records before the sign-out count, the one after it is nobody's"
    );

    // Another phone: its records already held after the head cannot be disowned.
    let mut e = Device::enrol(seed, li);
    let key = hex::encode(e.key.verifying_key().as_bytes());
    let ch = "c2".repeat(32);
    seed.sign_in_answering(e.id, &key, li, Some(e.tip), &ch)
        .expect("li on another phone");
    let head = e.tip;
    let held = e.step(li_job);
    assert_eq!(outcomes(&e.push(s, li, &[held])), vec![Ok("accepted")]);
    assert_eq!(
        code(s.keep_sign_out(
            e.id,
            &SignedHead {
                head,
                challenge: ch,
                proof: "ab".repeat(64)
            }
        )),
        Some(ErrorCode::ChainHeadMismatch),
        "the office already holds a record of li's after it"
    );
}

fn another_users_job_is_stored_rejected(s: &impl Ledger, seed: &dyn Seed) {
    let me = seed.user("zhang");
    let other = seed.user("li");
    let theirs = assigned_job(s, other);
    let mine = assigned_job(s, me);
    let mut d = Device::enrol(seed, me);
    let batch = [d.step(theirs), d.step(mine)];
    let r = d.push(s, me, &batch);
    assert_eq!(
        outcomes(&r),
        vec![Err(ErrorCode::ForbiddenJob), Ok("accepted")],
        "refused for its content, the chain goes on"
    );
    assert!(r.results[0].receipt.is_some(), "a stored refusal is logged");
    let stored = s.device_events(d.id).expect("events");
    assert_eq!(
        stored.iter().map(|e| e.accepted).collect::<Vec<_>>(),
        [false, true]
    );
    assert_eq!(stored[0].reject_code.as_deref(), Some("forbidden_job"));
    // A retry of the refused event gets the same refusal again.
    let again = d.push(s, me, &batch[..1]);
    assert_eq!(outcomes(&again), vec![Err(ErrorCode::ForbiddenJob)]);
    assert_eq!(again.results[0].receipt, r.results[0].receipt);
}

/// A crew's shared phone: li's records were still queued when zhang signed in (li's session had
/// expired, or li was signed out by force), so zhang's sync pushes them. They are li's work and
/// count as li's: recorded as li's, li's field job opened for li, li's close of a job taken away
/// from li still refused. A job of someone who never signed in on the phone stays refused.
fn records_left_by_another_user_of_the_phone_count_as_theirs(s: &impl Ledger, seed: &dyn Seed) {
    let zhang = seed.user("zhang");
    let li = seed.user("li");
    let wang = seed.user("wang");
    let li_job = assigned_job(s, li);
    let moved = assigned_job(s, li);
    let wangs = assigned_job(s, wang);
    let mine = assigned_job(s, zhang);
    let mut d = Device::enrol(seed, li);
    let key = hex::encode(d.key.verifying_key().as_bytes());
    seed.sign_in_shared(d.id, &key, li, None).expect("li");
    seed.sign_in_shared(d.id, &key, zhang, None).expect("zhang");
    // wang signs in on a phone of his own, not this one: that gives this phone nothing of his.
    let wangs_phone = Device::enrol(seed, wang);
    let wangs_key = hex::encode(wangs_phone.key.verifying_key().as_bytes());
    seed.sign_in_shared(wangs_phone.id, &wangs_key, wang, None)
        .expect("wang");
    s.assign_job(moved, wang, Utc::now())
        .expect("moved to wang");
    let accident = job(Some(li), Utc::now());
    let close = EventBody::JobClosed {
        resolution: heatcrew_protocol::Resolution::Resolved,
        summary: String::new(),
    };
    let batch = [
        d.step(li_job),
        d.record(
            accident.id,
            &EventBody::JobCreated {
                job: accident.clone(),
            },
        ),
        d.step(accident.id),
        d.step(moved),
        d.record(moved, &close),
        d.step(wangs),
        d.step(mine),
    ];
    let r = d.push(s, zhang, &batch);
    assert_eq!(
        outcomes(&r),
        vec![
            Ok("accepted"),
            Ok("accepted"),
            Ok("accepted"),
            Ok("accepted"),
            Err(ErrorCode::JobNotYoursAnymore),
            Err(ErrorCode::ForbiddenJob),
            Ok("accepted"),
        ],
        "li's records count; wang signed in only on his own phone, never this one"
    );
    let whose: Vec<Uuid> = s
        .device_events(d.id)
        .expect("events")
        .iter()
        .map(|e| e.user_id)
        .collect();
    assert_eq!(
        whose,
        [li, li, li, li, li, zhang, zhang],
        "each is its maker's record"
    );
    let opened = s
        .job(accident.id)
        .expect("job")
        .expect("li's field job is open");
    assert_eq!(opened.job.assignee, Some(li), "li's job, not zhang's");
    assert!(
        s.jobs_events(&[li_job])
            .expect("events")
            .get(&li_job)
            .is_some_and(|es| es.iter().all(|e| e.accepted && e.user_id == li)),
        "li's job holds li's record"
    );
    // A retry answers the same.
    let again = d.push(s, zhang, &batch[..1]);
    assert_eq!(outcomes(&again), vec![Ok("duplicate")]);
}

/// li hands the crew's phone to zhang with two records still queued. zhang's sign-in names the
/// chain's head (2), so li's two stay li's whoever pushes them, and nothing can be added to li's
/// work afterwards: a tampered app that writes on li's job once zhang holds the phone gets
/// `forbidden_job`, pushed with zhang's token or with li's old one. Before, any user who ever
/// signed in on the phone could be made the author of a new record on their job.
fn a_sign_in_fixes_whose_records_come_before_it(s: &impl Ledger, seed: &dyn Seed) {
    let (li, zhang) = (seed.user("li"), seed.user("zhang"));
    let (li_job, zhang_job) = (assigned_job(s, li), assigned_job(s, zhang));
    let mut d = Device::enrol(seed, li);
    let key = hex::encode(d.key.verifying_key().as_bytes());
    seed.sign_in_shared(d.id, &key, li, Some(ChainTip::START))
        .expect("li signs in on a new phone");
    let queued = [d.step(li_job), d.step(li_job)];
    seed.sign_in_shared(d.id, &key, zhang, Some(d.tip))
        .expect("zhang takes the phone");
    let forged = d.step(li_job);
    let own = d.step(zhang_job);
    let r = d.push(
        s,
        zhang,
        &[queued[0].clone(), queued[1].clone(), forged, own],
    );
    assert_eq!(
        outcomes(&r),
        vec![
            Ok("accepted"),
            Ok("accepted"),
            Err(ErrorCode::ForbiddenJob),
            Ok("accepted"),
        ],
        "li's queued records count, a record on li's job made after the handover does not"
    );
    let later = d.step(li_job);
    let r = d.push(s, li, &[later]);
    assert_eq!(
        outcomes(&r),
        vec![Err(ErrorCode::ForbiddenJob)],
        "li's own token does not make it li's: zhang held the phone"
    );
    let whose: Vec<Uuid> = s
        .device_events(d.id)
        .expect("events")
        .iter()
        .map(|e| e.user_id)
        .collect();
    assert_eq!(
        whose,
        [li, li, zhang, zhang, zhang],
        "each the record of who held the phone"
    );
    // li takes the phone back: from then on, li's again.
    seed.sign_in_shared(d.id, &key, li, Some(d.tip))
        .expect("li again");
    let back = d.step(li_job);
    assert_eq!(outcomes(&d.push(s, zhang, &[back])), vec![Ok("accepted")]);
}

/// A sign-in is the device's word on its history up to that point. An event at the named position
/// with another hash (the app rewrote a record after the handover to make it someone else's) is
/// refused and not stored, and blocks the rest of the batch; the original still goes in. A sign-in
/// behind what the office holds, or off its tip, is refused and opens no session.
fn a_history_changed_after_a_sign_in_vouched_for_it_is_refused(s: &impl Ledger, seed: &dyn Seed) {
    let (li, zhang) = (seed.user("li"), seed.user("zhang"));
    let li_job = assigned_job(s, li);
    let mut d = Device::enrol(seed, li);
    let key = hex::encode(d.key.verifying_key().as_bytes());
    seed.sign_in_shared(d.id, &key, li, Some(ChainTip::START))
        .expect("li");
    let first = d.step(li_job);
    seed.sign_in_shared(d.id, &key, zhang, Some(d.tip))
        .expect("zhang, after one record");
    let mut fork = Device {
        id: d.id,
        key: d.key.clone(),
        tip: ChainTip::START,
    };
    let rewritten = fork.record(
        li_job,
        &EventBody::StepSkipped {
            step: "arrive".into(),
            reason: "改写".into(),
        },
    );
    let next = fork.step(li_job);
    let r = d.push(s, zhang, &[rewritten, next]);
    assert_eq!(
        outcomes(&r),
        vec![
            Err(ErrorCode::ChainHeadMismatch),
            Err(ErrorCode::ChainBlocked)
        ],
        "the device vouched for another event 1"
    );
    assert!(
        s.device_events(d.id).expect("events").is_empty(),
        "nothing stored"
    );
    let r = d.push(s, zhang, &[first]);
    assert_eq!(
        outcomes(&r),
        vec![Ok("accepted")],
        "the event it vouched for is li's"
    );
    assert_eq!(s.device_events(d.id).expect("events")[0].user_id, li);
    let conflict = |head: ChainTip| match seed.sign_in_shared(d.id, &key, zhang, Some(head)) {
        Err(StoreError::Conflict { code, .. }) => code,
        other => panic!("a sign-in at {head:?} must be refused, got {other:?}"),
    };
    assert_eq!(
        conflict(ChainTip::START),
        ErrorCode::ChainHeadMismatch,
        "behind the office"
    );
    let off = ChainTip {
        seq: 1,
        hash: Digest::of(b"another event 1"),
    };
    assert_eq!(conflict(off), ErrorCode::ChainHeadMismatch, "off its tip");
    let ahead = ChainTip {
        seq: 9,
        hash: Digest::of(b"not pushed yet"),
    };
    seed.sign_in_shared(d.id, &key, zhang, Some(ahead))
        .expect("records not pushed yet are the device's to vouch for");
}
