//! Whose job an event may be recorded on: another user's job is stored refused (the chain goes
//! on), except on a phone that job's user signed in on, where a record left queued at a handover
//! is its maker's.

use super::*;

ledger_cases!(
    another_users_job_is_stored_rejected,
    records_left_by_another_user_of_the_phone_count_as_theirs,
);

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
    seed.sign_in_shared(d.id, &key, li);
    seed.sign_in_shared(d.id, &key, zhang);
    // wang signs in on a phone of his own, not this one: that gives this phone nothing of his.
    let wangs_phone = Device::enrol(seed, wang);
    let wangs_key = hex::encode(wangs_phone.key.verifying_key().as_bytes());
    seed.sign_in_shared(wangs_phone.id, &wangs_key, wang);
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
