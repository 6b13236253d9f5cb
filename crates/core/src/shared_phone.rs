//! One phone, several users: each user sees and works only the jobs assigned to them.
//!
//! A crew shares a phone between shifts. Signing in as someone else keeps the previous user's
//! jobs and records on the device (the app lets nobody sign out while records wait for the office:
//! `sign_out_refusal`), but the job list, a job's screen and every action on a job answer only for jobs assigned to whoever
//! signed in last: another user's job is refused with `forbidden_job` before anything is recorded,
//! as the office would refuse its records anyway. A job with no assignee (one created on the
//! device before the office knew it, a test job) belongs to whoever holds the phone.
//!
//! "Who" is the user last signed in (`sync_state.user`), kept after sign-out so that records
//! taken while the tokens have expired still go to the right jobs.

use crate::error::Result;
use crate::store::{Store, StoredJob};
use heatcrew_protocol::{Job, sync::UserInfo};
use heatcrew_rules::RuleError;
use rusqlite::OptionalExtension;
use uuid::Uuid;

/// Whether `user` may see and work `job`: it is assigned to them, or to nobody, or nobody has
/// signed in on this device yet.
pub fn is_theirs(job: &Job, user: Option<Uuid>) -> bool {
    owned_by(job.assignee, user)
}

fn owned_by(assignee: Option<Uuid>, user: Option<Uuid>) -> bool {
    match (assignee, user) {
        (Some(assignee), Some(user)) => assignee == user,
        _ => true,
    }
}

impl Store {
    /// The user last signed in on this device (kept after sign-out), if any.
    pub fn device_user(&self) -> Result<Option<UserInfo>> {
        let user: Option<String> = self
            .connection()
            .query_row("SELECT user FROM sync_state", [], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(match user {
            Some(json) => Some(serde_json::from_str(&json)?),
            None => None,
        })
    }

    /// The jobs of the device's user ([`Store::jobs`] without other users' jobs).
    pub fn their_jobs(&self) -> Result<Vec<StoredJob>> {
        let user = self.device_user()?.map(|u| u.id);
        let mut jobs = self.jobs()?;
        jobs.retain(|j| is_theirs(&j.job, user));
        Ok(jobs)
    }

    /// `UnknownJob` for a job not on the device, `NotYourJob` for another user's. On every action's
    /// path, so one statement that reads two fields in SQLite rather than parsing the job.
    pub fn check_theirs(&self, job_id: Uuid) -> Result<()> {
        let found: Option<(Option<String>, Option<String>)> = self
            .connection()
            .prepare_cached(
                "SELECT json_extract(job, '$.assignee'),
                        (SELECT json_extract(user, '$.id') FROM sync_state)
                 FROM jobs WHERE job_id = ?1",
            )?
            .query_row([job_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((assignee, user)) = found else {
            return Err(RuleError::UnknownJob(job_id).into());
        };
        let id = |s: Option<String>| s.and_then(|s| Uuid::parse_str(&s).ok());
        if owned_by(id(assignee), id(user)) {
            Ok(())
        } else {
            Err(RuleError::NotYourJob(job_id).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::error::CoreError;
    use crate::sync::Session;
    use crate::views::{self, NoEntryInput};
    use chrono::{Duration, Utc};
    use heatcrew_protocol::{ErrorCode, EventBody, NoEntryKind, StepEvidence, sync::Role};

    fn user(name: &str) -> UserInfo {
        UserInfo {
            id: Uuid::now_v7(),
            username: name.into(),
            display_name: name.into(),
            role: Role::RepairTechnician,
            badge_no: String::new(),
        }
    }

    fn sign_in(store: &mut Store, user: &UserInfo) {
        store
            .save_session(&Session {
                office_url: "http://127.0.0.1:9".into(),
                access_token: format!("access-{}", user.username),
                access_expires_at: Utc::now() + Duration::hours(1),
                refresh_token: format!("refresh-{}", user.username),
                user: user.clone(),
                device_code: "D01".into(),
            })
            .expect("signed in");
    }

    fn refused_as_not_theirs<T: std::fmt::Debug>(what: &str, r: Result<T>) {
        match r {
            Err(CoreError::Rule(RuleError::NotYourJob(_))) => {}
            other => panic!("{what}: expected NotYourJob, got {other:?}"),
        }
    }

    #[test]
    fn on_a_shared_phone_each_user_sees_and_works_only_their_own_jobs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path().join("device.db")).expect("open store");
        let (a, b) = (user("a"), user("b"));
        let a_job = demo::home_repair_job(0, Some(a.id));
        let b_job = demo::home_repair_job(1, Some(b.id));
        let nobodys = demo::home_repair_job(2, None);
        for job in [&a_job, &b_job, &nobodys] {
            store.add_office_job(job).expect("add job");
        }
        let ids = |store: &Store| -> Vec<Uuid> {
            let mut ids: Vec<Uuid> = views::today(store)
                .expect("today")
                .jobs
                .iter()
                .map(|j| j.id)
                .collect();
            ids.sort();
            ids
        };
        let sorted = |mut v: Vec<Uuid>| {
            v.sort();
            v
        };

        // Nobody signed in yet: every job shows (a phone being set up).
        assert_eq!(ids(&store), sorted(vec![a_job.id, b_job.id, nobodys.id]));

        sign_in(&mut store, &a);
        assert_eq!(
            ids(&store),
            sorted(vec![a_job.id, nobodys.id]),
            "A sees their job and the unassigned one, not B's"
        );
        let mut images = |label: &str, n: u32| demo::generated_png(&format!("a/{label}"), n);
        demo::home_repair_visit(&mut store, &mut images, &a_job, demo::VisitScript::Signed)
            .expect("A works their own job");
        let a_records = store.outbox().expect("outbox").len();
        let a_photo = store
            .events()
            .expect("events")
            .iter()
            .find_map(
                |e| match EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload) {
                    Ok(EventBody::PhotoAdded { photo, .. }) => Some(photo),
                    _ => None,
                },
            )
            .expect("the visit has a photo");
        store
            .thumbnail(&a_photo.sha256)
            .expect("A sees their photo");
        let before = store.events().expect("events").len();

        // Every way of touching B's job is refused, and nothing is recorded or queued.
        refused_as_not_theirs("view", views::job(&store, b_job.id));
        refused_as_not_theirs(
            "record",
            store.record_or_hold(
                b_job.id,
                EventBody::StepCompleted {
                    step: "appointment".into(),
                    evidence: StepEvidence::default(),
                },
            ),
        );
        let (png, _) = demo::generated_png("door", 1);
        refused_as_not_theirs("photo", store.take_photo(b_job.id, "arrive", &png, None));
        refused_as_not_theirs("retake", store.retake_photo(b_job.id, 1, &png));
        refused_as_not_theirs(
            "not home",
            store.close_not_home(
                b_job.id,
                NoEntryInput {
                    outcome: NoEntryKind::NotHome,
                    reason: "nobody answered".into(),
                    door_photo: store.ingest_photo(&png).expect("door photo"),
                    witness: None,
                    reschedule: None,
                },
            ),
        );
        refused_as_not_theirs("readiness", store.confirm_readiness(b_job.id, Vec::new()));
        refused_as_not_theirs(
            "notice",
            store.issue_notice(
                b_job.id,
                store.today() + chrono::Days::new(7),
                "整改".into(),
                None,
            ),
        );
        refused_as_not_theirs("correctable", views::correctable(&store, b_job.id));
        assert_eq!(store.events().expect("events").len(), before);
        assert_eq!(store.held_count().expect("held"), 0);
        let err = CoreError::from(RuleError::NotYourJob(b_job.id));
        assert_eq!(err.code(), ErrorCode::ForbiddenJob);
        assert_eq!(err.message(heatcrew_rules::Lang::Zh), "该工单没有派给你。");

        // B signs in on the same phone: B's job is back, A's is gone, A's record still waits.
        store.sign_out().expect("A signs out");
        sign_in(&mut store, &b);
        assert_eq!(ids(&store), sorted(vec![b_job.id, nobodys.id]));
        refused_as_not_theirs("A's job for B", views::job(&store, a_job.id));
        refused_as_not_theirs("A's photo for B", store.thumbnail(&a_photo.sha256));
        views::job(&store, b_job.id).expect("B opens their job");
        assert_eq!(
            store.outbox().expect("outbox").len(),
            a_records,
            "A's queued records stay in the outbox"
        );
        let shown = views::outbox(&store).expect("outbox view");
        assert_eq!(shown.len(), a_records, "B sees that records wait");
        assert!(
            shown
                .iter()
                .all(|e| e.others && e.job_title.is_empty() && e.step.is_none()),
            "but not A's job or step: {shown:?}"
        );
        sign_in(&mut store, &a);
        store
            .thumbnail(&a_photo.sha256)
            .expect("A sees their photo again");
        let shown = views::outbox(&store).expect("outbox view");
        assert!(
            shown
                .iter()
                .all(|e| !e.others && e.job_title == a_job.title),
            "A sees their own records whole again: {shown:?}"
        );
        sign_in(&mut store, &b);

        // A job not on the device at all is still unknown, not forbidden.
        match views::job(&store, Uuid::now_v7()) {
            Err(CoreError::Rule(RuleError::UnknownJob(_))) => {}
            other => panic!("expected UnknownJob, got {other:?}"),
        }
    }

    /// A photo the previous user took, finished only after the phone changed hands (the worker
    /// was mid-photo while the sign-in was under way): it waits for its taker, on a job assigned
    /// to nobody too. It is never recorded where the records are the new user's, it does not stop
    /// the new user signing out, and once its taker signs in again it is recorded, in order.
    #[test]
    fn a_photo_finished_after_the_phone_changed_hands_waits_for_its_taker() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path().join("device.db")).expect("open store");
        let (a, b) = (user("a"), user("b"));
        let job = demo::home_repair_job(0, None);
        store.add_office_job(&job).expect("add job");
        sign_in(&mut store, &a);
        for step in [
            "appointment",
            "arrive",
            "identify",
            "knock_consent",
            "shoe_covers",
        ] {
            let done = EventBody::StepCompleted {
                step: step.into(),
                evidence: StepEvidence::default(),
            };
            store.record(job.id, done).expect(step);
        }
        for n in 1..=2 {
            let (png, _) = demo::generated_png("taker", n);
            store
                .take_photo(job.id, "diagnose_repair", &png, None)
                .expect("photo queued");
        }
        let mut ev = StepEvidence::default();
        ev.text.insert("fault_found".into(), "阀门堵塞".into());
        ev.text.insert("work_done".into(), "清洗阀芯".into());
        let diagnose = EventBody::StepCompleted {
            step: "diagnose_repair".into(),
            evidence: ev,
        };
        assert!(
            store
                .record_or_hold(job.id, diagnose)
                .expect("held")
                .is_none()
        );
        let recorded = store.events().expect("events").len();
        assert_eq!(store.held_count().expect("held"), 3, "A's three wait");

        // The worker takes the first photo; meanwhile B's sign-in names where the chain stands.
        let work = store
            .next_photo_to_process()
            .expect("next")
            .expect("a photo");
        let processed = work.process();
        store.pause_held(true);
        let during = store.finish_photo(work.id, processed).expect("finished");
        assert!(
            during.is_empty(),
            "nothing recorded while a sign-in is under way"
        );
        sign_in(&mut store, &b);
        store.pause_held(false);
        assert!(
            store.record_held().expect("record held").is_empty(),
            "A's, not B's"
        );
        // The second photo finishes while B holds the phone.
        let shared = std::sync::Mutex::new(store);
        assert_eq!(
            crate::photo_worker::process_all(&shared).expect("worker"),
            1
        );
        let mut store = shared.into_inner().expect("store");
        assert!(store.record_held().expect("record held").is_empty());
        assert_eq!(
            store.events().expect("events").len(),
            recorded,
            "nothing is B's"
        );
        assert_eq!(
            store.held_count().expect("held"),
            0,
            "B has nothing waiting"
        );
        assert!(
            matches!(
                views::sign_out_refusal(&store, false).expect("refusal"),
                Some(views::AppError::UnsyncedRecords(5))
            ),
            "B's sign-out waits only for the five records in the outbox, not A's photos"
        );

        // A signs in again: the photos and the step are recorded as A's, in the order taken.
        sign_in(&mut store, &a);
        assert_eq!(store.held_count().expect("held"), 3);
        let kinds: Vec<String> = store
            .record_held()
            .expect("A's held records")
            .iter()
            .map(|e| e.unsigned.kind.clone())
            .collect();
        assert_eq!(kinds, ["photo_added", "photo_added", "step_completed"]);
        assert_eq!(store.held_count().expect("held"), 0);
        assert_eq!(store.events().expect("events").len(), recorded + 3);
    }
}
