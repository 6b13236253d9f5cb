//! Not home / no entry through the device store: one transaction that records the door, the
//! customer's window and the closure, or nothing; the outbox says which step a record is.

use super::*;
use heatcrew_core::views::{self, NoEntryInput, RescheduleInput};
use heatcrew_protocol::{AppointmentWindow, NoEntryKind, RequestChannel};

fn not_home(store: &Store, reschedule: Option<RescheduleInput>) -> NoEntryInput {
    NoEntryInput {
        outcome: NoEntryKind::NotHome,
        reason: "敲门无人应答，电话未接".into(),
        door_photo: photo(store),
        witness: Some(Witness {
            name: "李物业".into(),
            phone: "13900000000".into(),
        }),
        reschedule,
    }
}

fn window(store: &Store) -> AppointmentWindow {
    let start = store.now() + Duration::days(1);
    AppointmentWindow {
        start,
        end: start + Duration::hours(2),
    }
}

#[test]
fn not_home_records_the_door_and_closes_in_one_transaction() {
    let mut d = device();
    let job = visit_until(&mut d.store, "knock_consent");
    let before = d.store.tip().seq;
    let reschedule = RescheduleInput {
        channel: RequestChannel::Door,
        preferred: window(&d.store),
        note: "门上留了纸条".into(),
    };
    let input = not_home(&d.store, Some(reschedule));
    let events = d
        .store
        .close_not_home(job.id, input)
        .expect("not home at the door closes the visit");
    let kinds: Vec<&str> = events.iter().map(|e| e.unsigned.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["reschedule_requested", "no_entry_recorded", "job_closed"],
        "the window, the door and the closure, in that order"
    );
    assert_eq!(d.store.tip().seq, before + 3, "three records, one chain");
    let view = views::job(&d.store, job.id).expect("the job view");
    assert_eq!(
        view.closed_as,
        Some(Resolution::NoEntry),
        "closed as no entry"
    );
    assert!(view.summary.closed, "and shown as closed");
    assert!(!view.can_record_no_entry, "nothing more at the door");
    let door = view.no_entry.expect("the door record is shown");
    assert_eq!(door.reason, "敲门无人应答，电话未接", "with its reason");
    assert_eq!(
        view.reschedule.map(|r| r.note),
        Some("门上留了纸条".into()),
        "and the customer's window"
    );
    let outbox = views::outbox(&d.store).expect("outbox");
    assert!(
        outbox
            .iter()
            .any(|e| e.kind == "no_entry_recorded" && e.bytes_total > 0),
        "the door photo is counted as bytes to send"
    );
}

#[test]
fn not_home_after_entry_records_nothing() {
    let mut d = device();
    let job = visit_until(&mut d.store, "shoe_covers");
    let before = d.store.tip().seq;
    let input = not_home(&d.store, None);
    let err = rule(
        d.store
            .close_not_home(job.id, input)
            .expect_err("inside, there is no not-home"),
    );
    assert_eq!(
        err,
        RuleError::AlreadyEntered,
        "refused because of the entry"
    );
    assert_eq!(
        d.store.tip().seq,
        before,
        "nothing of the door record or the closure was written"
    );
    assert!(
        !views::job(&d.store, job.id)
            .expect("view")
            .can_record_no_entry,
        "and the screen no longer offers it"
    );
}

#[test]
fn a_missing_door_photo_file_records_nothing() {
    let mut d = device();
    let job = visit_until(&mut d.store, "knock_consent");
    let before = d.store.tip().seq;
    let mut input = not_home(&d.store, None);
    input.door_photo.sha256 = Digest::of(b"never stored");
    d.store
        .close_not_home(job.id, input)
        .expect_err("a door photo that is not on the device is refused");
    assert_eq!(d.store.tip().seq, before, "and nothing was written");
    assert!(
        views::job(&d.store, job.id)
            .expect("view")
            .can_record_no_entry,
        "the technician can try again"
    );
}

#[test]
fn a_phone_reschedule_after_the_closure_is_recorded() {
    let mut d = device();
    let job = visit_until(&mut d.store, "knock_consent");
    let input = not_home(&d.store, None);
    d.store.close_not_home(job.id, input).expect("closed");
    let preferred = window(&d.store);
    d.store
        .record(
            job.id,
            RescheduleInput {
                channel: RequestChannel::Phone,
                preferred,
                note: "客户来电".into(),
            }
            .into_body(),
        )
        .expect("the customer phones after the closure");
    let view = views::job(&d.store, job.id).expect("view");
    assert_eq!(
        view.reschedule.map(|r| (r.channel, r.preferred)),
        Some((RequestChannel::Phone, preferred)),
        "the standing request is the phoned one"
    );
}

#[test]
fn outbox_entries_name_their_step() {
    let mut d = device();
    let job = visit_until(&mut d.store, "identify");
    let outbox = views::outbox(&d.store).expect("outbox");
    let arrive = outbox
        .iter()
        .find(|e| e.step.as_deref() == Some("arrive"))
        .expect("the arrive record names its step");
    assert_eq!(
        arrive.step_title.as_ref().map(|t| t.zh.as_str()),
        Some("按时到达现场"),
        "with the step's title as the checklist has it"
    );
    assert_eq!(arrive.job_id, job.id, "on its job");
}

/// An acceptance inspection on the device: the written rectification opinion (a notice) is offered
/// as skippable only once the inspection passed, and when it did not pass the notice goes on record
/// before the contractor signs.
#[test]
fn an_acceptance_that_fails_leaves_its_rectification_opinion_on_the_device() {
    use heatcrew_protocol::{Job, JobKind, JobStatus, Signer};
    for result in ["passed", "failed"] {
        let mut d = device();
        let job = Job {
            id: Uuid::now_v7(),
            kind: JobKind::AcceptanceInspection,
            template: heatcrew_rules::template::latest_for(JobKind::AcceptanceInspection)
                .reference(),
            title: "和平路换热站改造验收".into(),
            customer: None,
            site: Some("和平路换热站".into()),
            reported_at: Some(d.store.now()),
            window: None,
            assignee: None,
            street_work: false,
            checkpoints: vec![],
            status: JobStatus::Open,
            utc_offset_minutes: None,
            revision: 1,
        };
        d.store.add_office_job(&job).expect("job");
        let step = |step: &str, states: &[(&str, &str)]| {
            let mut evidence = StepEvidence::default();
            for (k, v) in states {
                evidence.states.insert((*k).into(), (*v).into());
            }
            EventBody::StepCompleted {
                step: step.into(),
                evidence,
            }
        };
        d.store.record(job.id, step("arrive", &[])).expect("arrive");
        let p = photo(&d.store);
        d.store
            .record(
                job.id,
                EventBody::PhotoAdded {
                    step: "inspect".into(),
                    photo: p,
                    caption: String::new(),
                },
            )
            .expect("photo");
        d.store
            .record(job.id, step("inspect", &[("result", result)]))
            .expect("inspect");
        let view = views::job(&d.store, job.id).expect("view");
        let rectification = view
            .steps
            .iter()
            .find(|s| s.id == "rectification")
            .expect("the step");
        assert_eq!(view.current_step.as_deref(), Some("rectification"));
        assert_eq!(
            rectification.skippable,
            result == "passed",
            "{result}: skippable only when the inspection passed"
        );
        if result == "failed" {
            let refused = d.store.record(
                job.id,
                EventBody::StepSkipped {
                    step: "rectification".into(),
                    reason: "不需要".into(),
                },
            );
            assert_eq!(
                refused.expect_err("no skipping").code().as_str(),
                "step_not_skippable"
            );
            d.store
                .issue_notice(
                    job.id,
                    d.store.today() + chrono::Days::new(10),
                    "按设计补做回水管保温".into(),
                    None,
                )
                .expect("the written opinion");
            d.store
                .record(job.id, step("rectification", &[]))
                .expect("the step with its notice");
        } else {
            d.store
                .record(
                    job.id,
                    EventBody::StepSkipped {
                        step: "rectification".into(),
                        reason: "验收合格，无需整改".into(),
                    },
                )
                .expect("a passed acceptance skips it");
        }
        let p = photo(&d.store);
        d.store
            .record(
                job.id,
                EventBody::SignatureCaptured {
                    step: "signature".into(),
                    signer: Signer::Contractor,
                    signer_name: "赵工".into(),
                    image: p,
                },
            )
            .expect("the contractor signs");
    }
}
