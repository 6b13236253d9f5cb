//! [`KpiStore`]: each job's facts kept by the store as dispatch changes the job and as its events
//! arrive (with the rules they broke), found by period, and the targets an admin sets.

use crate::complaints::{t0, user};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_office::store::{AccountStore, EnrolmentStore, JobStore, KpiStore, LedgerStore};
use heatcrew_protocol::sync::Role;
use heatcrew_protocol::{ChainTip, Digest, Event, EventBody, Job, JobKind, JobStatus, Resolution};
use heatcrew_testkit::key_device::step;
use std::collections::HashSet;
use uuid::Uuid;

crate::both!(
    targets_are_set_replaced_and_cleared,
    a_job_s_facts_follow_dispatch_and_are_found_by_period,
    refreshing_folds_every_job_or_only_those_without_facts,
    pushed_events_settle_the_facts_and_a_broken_rule_is_kept,
);

fn targets_are_set_replaced_and_cleared<S: AccountStore + KpiStore>(s: &S) {
    let admin = user(s, "admin", Role::Admin);
    assert!(
        s.kpi_targets().expect("targets").is_empty(),
        "defaults only"
    );
    s.set_kpi_target("timely_repair", Some(0.95), admin.id, t0())
        .expect("set");
    s.set_kpi_target("closure", Some(0.9), admin.id, t0())
        .expect("set");
    s.set_kpi_target("timely_repair", Some(0.97), admin.id, t0())
        .expect("replace");
    let t = s.kpi_targets().expect("targets");
    assert_eq!(t.get("timely_repair"), Some(&0.97));
    assert_eq!(t.get("closure"), Some(&0.9));
    s.set_kpi_target("closure", None, admin.id, t0())
        .expect("clear");
    assert_eq!(
        s.kpi_targets()
            .expect("targets")
            .into_iter()
            .collect::<Vec<_>>(),
        [("timely_repair".to_owned(), 0.97)]
    );
    assert!(
        s.set_kpi_target("closure", Some(0.5), Uuid::now_v7(), t0())
            .is_err(),
        "set by a user the office knows"
    );
}

pub fn job(kind: JobKind, assignee: Option<Uuid>, reported_at: Option<DateTime<Utc>>) -> Job {
    Job {
        id: Uuid::now_v7(),
        kind,
        template: heatcrew_office::api::jobs::template_for(kind),
        title: "暖气不热".into(),
        customer: None,
        site: Some("3号楼".into()),
        reported_at,
        window: None,
        assignee,
        street_work: false,
        checkpoints: vec![],
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 0,
    }
}

fn a_job_s_facts_follow_dispatch_and_are_found_by_period<S: AccountStore + JobStore + KpiStore>(
    s: &S,
) {
    let tech = user(s, "zhangwei", Role::RepairTechnician);
    let inside = s
        .create_job(job(JobKind::HomeRepair, None, Some(t0())), t0())
        .expect("job");
    let later = t0() + Duration::days(40);
    let outside = s
        .create_job(job(JobKind::HomeRepair, Some(tech.id), Some(later)), t0())
        .expect("job");
    let period = |from, to| -> Vec<_> { s.kpi_facts(from, to).expect("facts") };
    let found = period(t0(), t0() + Duration::days(30));
    assert_eq!(found.len(), 1, "anchored by the report time, in [from, to)");
    let f = &found[0];
    assert_eq!(
        (f.job_id, f.kind, f.title.as_str(), f.person),
        (inside.id, JobKind::HomeRepair, "暖气不热", None)
    );
    assert_eq!((f.anchor_at, f.reported_at), (t0(), Some(t0())));
    assert!(f.counted && f.conforming && !f.cancelled);
    assert_eq!((f.arrived_at, f.closed_at, f.rating), (None, None, None));
    assert!(
        period(t0() - Duration::days(1), t0()).is_empty(),
        "`to` is excluded"
    );
    assert_eq!(
        period(later, later + Duration::milliseconds(1))[0].job_id,
        outside.id
    );

    s.assign_job(inside.id, tech.id, t0()).expect("assign");
    assert_eq!(
        period(t0(), t0() + Duration::days(1))[0].person,
        Some(tech.id),
        "the assignee's once assigned"
    );
    s.cancel_job(inside.id, "customer away", t0())
        .expect("cancel");
    assert!(period(t0(), t0() + Duration::days(1))[0].cancelled);
    assert!(s.job_violations(inside.id).expect("violations").is_empty());
    assert!(
        s.non_conforming(&[inside.id, outside.id])
            .expect("non-conforming")
            .is_empty()
    );
}

fn refreshing_folds_every_job_or_only_those_without_facts<S: JobStore + KpiStore>(s: &S) {
    for h in 0..3 {
        s.create_job(
            job(JobKind::HomeRepair, None, Some(t0() + Duration::hours(h))),
            t0(),
        )
        .expect("job");
    }
    assert_eq!(
        s.refresh_kpi_facts(true).expect("missing"),
        0,
        "kept since created"
    );
    assert_eq!(s.refresh_kpi_facts(false).expect("all"), 3);
    assert_eq!(
        s.kpi_facts(t0(), t0() + Duration::days(1))
            .expect("facts")
            .len(),
        3
    );
}

/// A signing device of `user` enrolled at the store, and its chain.
pub struct Device {
    pub id: Uuid,
    key: SigningKey,
    tip: ChainTip,
}

impl Device {
    pub fn enrol(s: &impl EnrolmentStore, user: Uuid, seed: u8) -> Device {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let id = Uuid::now_v7();
        s.enrol_device(
            id,
            &hex::encode(key.verifying_key().to_bytes()),
            "test phone",
            user,
            t0(),
        )
        .expect("enrol");
        Device {
            id,
            key,
            tip: ChainTip {
                seq: 0,
                hash: Digest::GENESIS,
            },
        }
    }

    /// The next event on the chain, recorded at `at`.
    pub fn record(&mut self, job: Uuid, body: &EventBody, at: DateTime<Utc>) -> Event {
        let (kind, payload) = body.to_parts();
        let e = heatcrew_protocol::UnsignedEvent {
            id: Uuid::now_v7(),
            device_id: self.id,
            device_seq: self.tip.seq + 1,
            job_id: job,
            kind,
            payload,
            recorded_at: at,
            elapsed_ms: self.tip.seq * 1000,
            prev_hash: self.tip.hash,
            format: heatcrew_protocol::Format::V2,
        }
        .seal(&self.key);
        self.tip = ChainTip {
            seq: e.unsigned.device_seq,
            hash: e.hash,
        };
        e
    }
}

/// Push `events` of `device` by `user`; every one accepted.
pub fn push(
    s: &impl LedgerStore,
    device: &Device,
    user: Uuid,
    events: &[Event],
    now: DateTime<Utc>,
) {
    let office = SigningKey::from_bytes(&[7; 32]);
    let r = s.push(device.id, user, events, now, &office).expect("push");
    assert_eq!(r.results.len(), events.len());
    for x in &r.results {
        assert!(
            matches!(x.outcome, heatcrew_protocol::sync::PushOutcome::Accepted),
            "accepted: {x:?}"
        );
    }
}

fn pushed_events_settle_the_facts_and_a_broken_rule_is_kept<
    S: AccountStore + EnrolmentStore + JobStore + LedgerStore + KpiStore,
>(
    s: &S,
) {
    let tech = user(s, "zhangwei", Role::RepairTechnician);
    let honest = s
        .create_job(job(JobKind::HomeRepair, Some(tech.id), Some(t0())), t0())
        .expect("job");
    let skipped = s
        .create_job(job(JobKind::HomeRepair, Some(tech.id), Some(t0())), t0())
        .expect("job");
    let mut phone = Device::enrol(s, tech.id, 3);
    let at = t0() + Duration::hours(1);
    let closed = EventBody::JobClosed {
        resolution: Resolution::Resolved,
        summary: "已修好".into(),
    };
    let events = vec![
        phone.record(honest.id, &step("appointment"), at),
        phone.record(honest.id, &step("arrive"), at + Duration::minutes(5)),
        // Closed with nothing done but arriving.
        phone.record(skipped.id, &step("appointment"), at),
        phone.record(skipped.id, &step("arrive"), at + Duration::minutes(6)),
        phone.record(skipped.id, &closed, at + Duration::minutes(7)),
    ];
    push(s, &phone, tech.id, &events, at + Duration::minutes(10));
    let facts = s.kpi_facts(t0(), t0() + Duration::days(1)).expect("facts");
    let of = |id: Uuid| facts.iter().find(|f| f.job_id == id).expect("facts of job");
    assert_eq!(
        of(honest.id).arrived_at,
        Some(at + Duration::minutes(5)),
        "folded in the push: a device that never sent its clock keeps its own times"
    );
    assert!(of(honest.id).conforming && of(honest.id).closed_at.is_none());
    let s_f = of(skipped.id);
    assert_eq!(s_f.resolution, Some(Resolution::Resolved));
    assert!(!s_f.conforming, "closed without the steps");
    let v = s.job_violations(skipped.id).expect("violations");
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        (
            v[0].event_id,
            v[0].device_id,
            v[0].device_seq,
            v[0].kind.as_str(),
            v[0].code.as_str()
        ),
        (
            events[4].unsigned.id,
            phone.id,
            5,
            "job_closed",
            "cannot_close"
        )
    );
    assert_eq!(
        s.non_conforming(&[honest.id, skipped.id, Uuid::now_v7()])
            .expect("non-conforming"),
        HashSet::from([skipped.id])
    );
    // Dispatch changing the job later keeps what its events said.
    s.assign_job(skipped.id, tech.id, at + Duration::hours(1))
        .expect("assign again");
    assert_eq!(s.job_violations(skipped.id).expect("violations"), v);
    assert!(matches!(s.refresh_kpi_facts(false), Ok(2)));
    assert_eq!(
        s.job_violations(skipped.id).expect("violations"),
        v,
        "a refold finds the same"
    );
}
