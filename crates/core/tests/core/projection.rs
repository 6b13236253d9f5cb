//! The jobs' projections kept so that an action costs the same however much its job holds
//! (crates/core/src/store/projection.rs): the checkpoint on disk is rewritten only as the job
//! doubles, the projection read back (checkpoint and the events after it) always equals a fold of
//! the whole log, a transaction that does not commit leaves nothing in memory, and a database an
//! older build wrote (a whole projection per job) reads the same after the upgrade.

use super::*;

fn readings(store: &mut Store, job: &Job, n: usize) {
    for i in 0..n {
        let cp = &job.checkpoints[i % job.checkpoints.len()];
        store
            .record(job.id, demo::normal_readings(cp, (i % 3) as f64))
            .expect("reading");
    }
}

fn checkpoint_seq(store: &Store, job: Uuid) -> Option<i64> {
    store
        .connection()
        .query_row(
            "SELECT last_seq FROM job_progress WHERE job_id = ?1",
            [job.to_string()],
            |r| r.get(0),
        )
        .ok()
}

/// The projections as a rebuild from the log alone gives them (the store is left rebuilt).
fn rebuilt(store: &mut Store) -> Vec<(String, String, i64)> {
    store.rebuild_projections().expect("rebuild");
    store.projection_rows().expect("rows")
}

#[test]
fn a_long_job_rewrites_its_projection_only_each_time_it_doubles() {
    let mut d = device();
    let job = demo::patrol_job(None);
    d.store.add_office_job(&job).expect("dispatch");
    let mut rewrites = Vec::new();
    for n in 1..=300 {
        readings(&mut d.store, &job, 1);
        let seq = checkpoint_seq(&d.store, job.id);
        if seq.is_some() && rewrites.last() != Some(&seq) {
            rewrites.push(seq);
        }
        if n % 100 == 0 {
            let stored = d.store.job(job.id).expect("job").expect("on the device");
            assert_eq!(
                stored.progress.event_ids.len(),
                n,
                "every reading is in the projection the rules see"
            );
        }
    }
    assert!(
        rewrites.len() <= 3,
        "300 readings rewrite the job's stored projection at most 3 times (64, 128, 256), not on every action: {rewrites:?}"
    );
    let live = d.store.projection_rows().expect("rows");
    assert_eq!(live[0].2, 300, "the projection read back holds every event");
    assert_eq!(
        rebuilt(&mut d.store),
        live,
        "checkpoint plus the events after it equals the fold of the whole log"
    );
}

#[test]
fn projections_after_a_restart_equal_the_ones_kept_in_memory() {
    let mut d = device();
    let mut images = demo::generated_png;
    demo::field_day(&mut d.store, &mut images, 3).expect("demo day");
    let job = demo::patrol_job(None);
    d.store.add_office_job(&job).expect("dispatch");
    readings(&mut d.store, &job, 150);
    let live = d.store.jobs().expect("jobs");
    let rows = d.store.projection_rows().expect("rows");
    let Device { _dir, db, store } = d;
    drop(store);
    let mut store = Store::open(&db).expect("reopen");
    assert_eq!(
        store.jobs().expect("jobs"),
        live,
        "what the rules and screens saw before the restart is what the database holds"
    );
    assert_eq!(
        rebuilt(&mut store),
        rows,
        "and what a rebuild from the log gives"
    );
    readings(&mut store, &job, 70);
    let after = store.job(job.id).expect("job").expect("on the device");
    assert_eq!(
        after.progress.event_ids.len(),
        220,
        "recording goes on from the reloaded projection"
    );
    let rows = store.projection_rows().expect("rows");
    assert_eq!(rebuilt(&mut store), rows, "still equal to the log's fold");
}

#[test]
fn a_job_created_in_a_transaction_that_is_refused_leaves_nothing_in_memory() {
    let mut d = device();
    let (first, _) = d
        .store
        .report_accident(
            "井盖缺失".into(),
            "设置警戒线".into(),
            Position::default(),
            false,
        )
        .expect("report");
    let mut job = d.store.job(first).expect("job").expect("on the device").job;
    job.id = Uuid::now_v7();
    let report = EventBody::AccidentReported {
        description: "管道泄漏".into(),
        measures_taken: "关闭阀门".into(),
        position: Position::default(),
        injuries: false,
    };
    let before = d.store.tip();
    d.store
        .create_job(job.clone(), vec![report.clone(), done("no_such_step")])
        .expect_err("a step the template does not have is refused");
    assert_eq!(d.store.tip(), before, "nothing was recorded");
    assert!(
        d.store.job(job.id).expect("read").is_none(),
        "the job opened inside the refused transaction is not there"
    );
    let events = d
        .store
        .create_job(job.clone(), vec![report])
        .expect("the same report, now valid");
    let stored = d.store.job(job.id).expect("job").expect("on the device");
    assert_eq!(
        stored.progress.event_ids,
        events.iter().map(|e| e.unsigned.id).collect::<Vec<_>>(),
        "the projection holds the committed events only, not those of the refused transaction"
    );
    assert_eq!(stored.progress.accidents.len(), 1, "one accident report");
    let rows = d.store.projection_rows().expect("rows");
    assert_eq!(rebuilt(&mut d.store), rows, "equal to the log's fold");
}

#[test]
fn a_database_an_older_build_wrote_keeps_its_projections_after_the_upgrade() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("phone.db");
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x17; 32]);
    let job = demo::patrol_job(None);
    let bodies: Vec<EventBody> = (0..100)
        .map(|i| demo::normal_readings(&job.checkpoints[i % job.checkpoints.len()], 0.0))
        .collect();
    heatcrew_core::legacy::write_schema_1_database(
        &db,
        &key,
        Uuid::now_v7(),
        &job,
        &bodies,
        // to the millisecond, as the log keeps times
        chrono::SubsecRound::trunc_subsecs(Utc::now() - Duration::hours(2), 3),
    )
    .expect("an old build's database, its projection rewritten whole on every event");
    let mut store = Store::open(&db).expect("the upgraded build opens it");
    let version: i64 = store
        .connection()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert!(
        version >= 8,
        "migrated to schema 8 or later, which reads job_progress as checkpoints: {version}"
    );
    assert_eq!(
        checkpoint_seq(&store, job.id),
        Some(100),
        "the old build's projection is kept as the checkpoint"
    );
    readings(&mut store, &job, 80);
    assert_eq!(
        checkpoint_seq(&store, job.id),
        Some(100),
        "80 more events do not rewrite a checkpoint of 100"
    );
    let live = store.job(job.id).expect("job").expect("on the device");
    assert_eq!(
        live.progress.event_ids.len(),
        180,
        "old and new events folded"
    );
    let rows = store.projection_rows().expect("rows");
    drop(store);
    let mut store = Store::open(&db).expect("reopen");
    assert_eq!(
        store.job(job.id).expect("job").expect("on the device"),
        live,
        "the checkpoint and the events after it read back as the whole projection"
    );
    assert_eq!(rebuilt(&mut store), rows, "equal to the log's fold");
}

/// The parsed job kept between actions (crates/core/src/store/job_rows.rs) is checked against its
/// row on every use: a job the office changed or revoked after an action cached it is judged as
/// the database holds it now, never as it was.
#[test]
fn a_job_changed_or_revoked_after_it_was_cached_is_judged_as_the_database_holds_it() {
    let mut d = device();
    let mut job = demo::patrol_job(None);
    d.store.add_office_job(&job).expect("dispatch");
    readings(&mut d.store, &job, 1);
    let dropped = job.checkpoints.pop().expect("a checkpoint to drop");
    job.checkpoints[0].name = "改名后的换热站".into();
    d.store
        .add_office_job(&job)
        .expect("the office changes the route");
    let stored = d.store.job(job.id).expect("job").expect("on the device");
    assert_eq!(
        stored.job, job,
        "the changed job reads back, not the cached one"
    );
    let refused = d
        .store
        .record(job.id, demo::normal_readings(&dropped, 0.0))
        .expect_err("a reading at a checkpoint the route no longer has");
    assert!(
        matches!(&refused, CoreError::Rule(RuleError::InvalidValue { field, .. }) if field == "checkpoint"),
        "{refused:?}"
    );
    readings(&mut d.store, &job, 1);
    d.store
        .connection()
        .execute(
            "UPDATE jobs SET revoked_reason = 'reassigned' WHERE job_id = ?1",
            [job.id.to_string()],
        )
        .expect("revoked as a pull revokes it");
    let refused = d
        .store
        .record(job.id, demo::normal_readings(&job.checkpoints[0], 0.0))
        .expect_err("a revoked job takes no action");
    assert!(
        matches!(refused, CoreError::Rule(RuleError::JobNotActive("revoked"))),
        "{refused:?}"
    );
    let stored = d.store.job(job.id).expect("job").expect("on the device");
    assert_eq!(stored.revoked_reason.as_deref(), Some("reassigned"));
    assert_eq!(
        stored.progress.event_ids.len(),
        2,
        "the refused actions left nothing"
    );
}
