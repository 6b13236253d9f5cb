//! [`AlertStore`]: urgent alerts raised by the store when an accident report is stored, listed,
//! acknowledged once, and carried back to the reporting device.

use crate::field::{Phone, at, emergency, t0, user};
use heatcrew_office::store::{AccountStore, AlertStore, EnrolmentStore, LedgerStore, StoreError};
use heatcrew_protocol::sync::Role;
use heatcrew_protocol::{ErrorCode, EventBody, Position};
use uuid::Uuid;

crate::both!(
    no_alert_is_raised_by_itself,
    an_accident_raises_an_alert_acknowledged_once,
    a_critical_defect_raises_an_alert_a_lesser_one_does_not,
    open_alerts_come_first_then_the_newest_acknowledged,
    acknowledgements_at_once_have_one_winner,
);

fn no_alert_is_raised_by_itself(s: &impl AlertStore) {
    assert!(s.alerts(10).expect("list").is_empty());
    assert!(s.alert(Uuid::now_v7()).expect("read").is_none());
    let err = s
        .acknowledge_alert(Uuid::now_v7(), Uuid::now_v7(), t0())
        .expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert!(
        s.device_acknowledgements(Uuid::now_v7(), 5)
            .expect("acks")
            .is_empty()
    );
}

fn accident() -> EventBody {
    EventBody::AccidentReported {
        description: "井盖缺失，热水外溢".into(),
        measures_taken: "设置围挡".into(),
        position: Position {
            description: "幸福路12号门前".into(),
            ..Default::default()
        },
        injuries: false,
    }
}

/// `phone` opens an emergency job and reports an accident on it at minute `m`: the alert's id.
fn report(s: &impl LedgerStore, phone: &mut Phone, m: i64) -> Uuid {
    let j = emergency(phone.user_id, at(m));
    let created = phone.record(j.id, &EventBody::JobCreated { job: j.clone() }, at(m));
    let reported = phone.record(j.id, &accident(), at(m));
    let id = reported.unsigned.id;
    phone.push_accepted(s, &[created, reported], at(m));
    id
}

/// 发现安全隐患时应及时报告 (规章制度 2.3): a critical defect raises an alert as an accident does, in
/// the transaction that stores it; a major or minor one does not, nor a critical one refused.
fn a_critical_defect_raises_an_alert_a_lesser_one_does_not<S>(s: &S)
where
    S: AlertStore + AccountStore + EnrolmentStore + LedgerStore,
{
    use heatcrew_protocol::Severity;
    let tech = user(s, "patrol", Role::Patrol);
    let mut phone = Phone::enrol(s, tech, 1);
    let j = emergency(tech, at(1));
    let created = phone.record(j.id, &EventBody::JobCreated { job: j.clone() }, at(1));
    let defect = heatcrew_testkit::defect;
    let minor = phone.record(j.id, &defect(Severity::Minor), at(2));
    let major = phone.record(j.id, &defect(Severity::Major), at(3));
    let critical = phone.record(j.id, &defect(Severity::Critical), at(4));
    phone.push_accepted(s, &[created, minor, major, critical.clone()], at(4));
    let alerts = s.alerts(10).expect("list");
    assert_eq!(
        alerts
            .iter()
            .map(|a| (a.event.unsigned.id, a.event.unsigned.kind.as_str()))
            .collect::<Vec<_>>(),
        [(critical.unsigned.id, "defect_reported")],
        "only the critical defect"
    );
    assert_eq!(alerts[0].reported_by.id, tech);
}

fn an_accident_raises_an_alert_acknowledged_once<S>(s: &S)
where
    S: AlertStore + AccountStore + EnrolmentStore + LedgerStore,
{
    let tech = user(s, "tech", Role::RepairTechnician);
    let boss = user(s, "boss", Role::Dispatcher);
    let mut phone = Phone::enrol(s, tech, 1);
    let id = report(s, &mut phone, 1);
    let open = s.alert(id).expect("read").expect("raised");
    assert_eq!(
        (open.event.unsigned.id, open.reported_by.id, open.raised_at),
        (id, tech, at(1))
    );
    assert!(open.job.is_some() && open.acknowledged.is_none());
    let acked = s.acknowledge_alert(id, boss, at(2)).expect("acknowledge");
    let (by, when) = acked.acknowledged.expect("acknowledged");
    assert_eq!((by.id, when), (boss, at(2)));
    let err = s.acknowledge_alert(id, tech, at(3)).expect_err("second");
    assert!(
        matches!(&err, StoreError::Conflict { code: ErrorCode::AlertAlreadyAcknowledged, message } if message.contains("boss")),
        "the second is told who was first: {err:?}"
    );
    let acks = s.device_acknowledgements(phone.id, 5).expect("acks");
    assert_eq!(acks.len(), 1);
    assert_eq!((acks[0].event_id, acks[0].acknowledged_at), (id, at(2)));
    assert_eq!(acks[0].acknowledged_by, "boss 师傅");
    assert!(
        s.device_acknowledgements(Uuid::now_v7(), 5)
            .expect("acks")
            .is_empty()
    );
}

fn open_alerts_come_first_then_the_newest_acknowledged<S>(s: &S)
where
    S: AlertStore + AccountStore + EnrolmentStore + LedgerStore,
{
    let tech = user(s, "tech", Role::RepairTechnician);
    let boss = user(s, "boss", Role::Dispatcher);
    let mut phone = Phone::enrol(s, tech, 1);
    let ids: Vec<Uuid> = (0..5).map(|m| report(s, &mut phone, m * 10)).collect();
    for id in [ids[0], ids[2], ids[3]] {
        s.acknowledge_alert(id, boss, at(60)).expect("acknowledge");
    }
    let listed: Vec<Uuid> = s
        .alerts(2)
        .expect("list")
        .iter()
        .map(|a| a.event.unsigned.id)
        .collect();
    assert_eq!(
        listed,
        [ids[1], ids[4], ids[3], ids[2]],
        "open oldest first, then acknowledged newest first up to the limit"
    );
    let acks = s.device_acknowledgements(phone.id, 2).expect("acks");
    assert_eq!(acks.len(), 2, "at most the limit");
}

/// Dispatchers acknowledging at once (on several office processes): one wins, the others are told.
fn acknowledgements_at_once_have_one_winner<S>(s: &S)
where
    S: AlertStore + AccountStore + EnrolmentStore + LedgerStore + Sync,
{
    let tech = user(s, "tech", Role::RepairTechnician);
    let bosses: Vec<Uuid> = (0..6)
        .map(|i| user(s, &format!("boss{i}"), Role::Dispatcher))
        .collect();
    let mut phone = Phone::enrol(s, tech, 1);
    let id = report(s, &mut phone, 1);
    let answers: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = bosses
            .iter()
            .map(|&b| scope.spawn(move || s.acknowledge_alert(id, b, at(2))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let won: Vec<_> = answers.iter().filter_map(|a| a.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "one acknowledgement");
    assert!(
        answers
            .iter()
            .filter_map(|a| a.as_ref().err())
            .all(|e| matches!(
                e,
                StoreError::Conflict {
                    code: ErrorCode::AlertAlreadyAcknowledged,
                    ..
                }
            ))
    );
    let (by, _) = s
        .alert(id)
        .expect("read")
        .expect("raised")
        .acknowledged
        .expect("acknowledged");
    assert_eq!(
        Some(by.id),
        won[0].acknowledged.as_ref().map(|(u, _)| u.id),
        "the winner is the one stored"
    );
}
