//! [`AttachmentStore`]: each uploader's upload session of a content address, the content counted
//! once it arrived, and who may upload and read it.

use crate::field::{Phone, at, job, t0, user};
use heatcrew_office::store::{
    AccountStore, AttachmentStore, EnrolmentStore, JobStore, LedgerStore, StoreError, Uploader,
};
use heatcrew_protocol::sync::{AttachmentCreate, Role};
use heatcrew_protocol::{AttachmentRef, Digest, EventBody};
use uuid::Uuid;

crate::both!(
    an_upload_is_announced_resized_and_completed,
    each_uploader_has_a_session_of_its_own,
    completing_an_unknown_session_is_not_found,
    an_uploader_reads_what_it_uploaded,
    a_pushed_photo_is_in_scope_and_readable_by_the_assignee,
);

fn create(content: &[u8], size: u64) -> AttachmentCreate {
    AttachmentCreate {
        sha256: Digest::of(content),
        size,
        mime: "image/jpeg".into(),
    }
}

fn phone(user_id: Uuid) -> Uploader {
    Uploader {
        user_id,
        device_id: Some(Uuid::now_v7()),
    }
}

fn an_upload_is_announced_resized_and_completed(s: &impl AttachmentStore) {
    let c = create(b"photo", 5);
    let who = phone(Uuid::now_v7());
    let (row, restarted) = s.open_upload(&c, who, t0()).expect("open");
    assert_eq!((row.size, row.complete, restarted), (5, false, false));
    let (row, restarted) = s.open_upload(&c, who, at(1)).expect("again");
    assert_eq!(
        (row.size, restarted),
        (5, false),
        "the same announcement resumes"
    );
    let (row, restarted) = s
        .open_upload(&create(b"photo", 9), who, at(2))
        .expect("resized");
    assert_eq!((row.size, restarted), (9, true), "another size starts over");
    assert_eq!(
        s.upload(c.sha256, who).expect("read").map(|u| u.size),
        Some(9)
    );
    assert!(
        s.attachment(c.sha256).expect("read").is_none(),
        "nothing counted before it arrives"
    );
    s.complete_upload(c.sha256, who, "image/png", at(3))
        .expect("complete");
    let got = s.attachment(c.sha256).expect("read").expect("counted");
    assert_eq!(
        (got.size, got.mime.as_str(), got.complete),
        (9, "image/png", true)
    );
    assert!(
        s.upload(c.sha256, who)
            .expect("read")
            .expect("kept")
            .complete
    );
    let (row, restarted) = s.open_upload(&c, who, at(4)).expect("after");
    assert_eq!(
        (row.size, row.complete, restarted),
        (9, true, false),
        "a finished upload stays"
    );
    assert_eq!(s.complete_attachments().expect("list"), [c.sha256]);
}

fn each_uploader_has_a_session_of_its_own(s: &impl AttachmentStore) {
    let user = Uuid::now_v7();
    let (dev, staff) = (
        phone(user),
        Uploader {
            user_id: user,
            device_id: None,
        },
    );
    let c = create(b"photo", 5);
    s.open_upload(&c, dev, t0()).expect("device");
    s.open_upload(&create(b"photo", 7), staff, t0())
        .expect("staff");
    assert_eq!(
        s.upload(c.sha256, dev).expect("read").map(|u| u.size),
        Some(5)
    );
    assert_eq!(
        s.upload(c.sha256, staff).expect("read").map(|u| u.size),
        Some(7),
        "not resized by the other"
    );
    s.complete_upload(c.sha256, dev, "image/jpeg", at(1))
        .expect("complete");
    assert!(
        !s.upload(c.sha256, staff)
            .expect("read")
            .expect("open")
            .complete,
        "the other's still open"
    );
    s.complete_upload(c.sha256, staff, "image/jpeg", at(2))
        .expect("complete too");
    assert_eq!(
        s.attachment(c.sha256).expect("read").expect("counted").size,
        5,
        "the first arrival counts"
    );
    assert_eq!(
        s.complete_attachments().expect("list"),
        [c.sha256],
        "counted once"
    );
    let other = create(b"other", 5);
    s.open_upload(&other, dev, t0()).expect("open");
    assert_eq!(
        s.complete_attachments().expect("list"),
        [c.sha256],
        "an open session counts nothing"
    );
}

fn completing_an_unknown_session_is_not_found(s: &impl AttachmentStore) {
    let err = s
        .complete_upload(Digest::of(b"x"), phone(Uuid::now_v7()), "image/jpeg", t0())
        .expect_err("no session");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert!(s.attachment(Digest::of(b"x")).expect("read").is_none());
}

fn an_uploader_reads_what_it_uploaded(s: &impl AttachmentStore) {
    let (me, other) = (Uuid::now_v7(), Uuid::now_v7());
    let c = create(b"photo", 5);
    let who = phone(me);
    s.open_upload(&c, who, t0()).expect("open");
    assert!(
        !s.attachment_readable_by(c.sha256, me).expect("check"),
        "not before it arrived"
    );
    s.complete_upload(c.sha256, who, "image/jpeg", at(1))
        .expect("complete");
    assert!(s.attachment_readable_by(c.sha256, me).expect("check"));
    assert!(
        !s.attachment_readable_by(c.sha256, other).expect("check"),
        "not someone else"
    );
    assert!(
        !s.attachment_referenced_by(c.sha256, me).expect("check"),
        "no event references it"
    );
}

fn a_pushed_photo_is_in_scope_and_readable_by_the_assignee<S>(s: &S)
where
    S: AttachmentStore + AccountStore + EnrolmentStore + JobStore + LedgerStore,
{
    let (a, b) = (
        user(s, "a", Role::RepairTechnician),
        user(s, "b", Role::RepairTechnician),
    );
    let mut phone_a = Phone::enrol(s, a, 1);
    let mut j = job("x", "", "", None);
    j.assignee = Some(a);
    let j = s.create_job(j, t0()).expect("create");
    let sha = Digest::of(b"photo");
    let photo = EventBody::PhotoAdded {
        step: "diagnose".into(),
        photo: serde_json::from_value::<AttachmentRef>(
            serde_json::json!({"sha256": sha, "bytes": 5, "mime": "image/jpeg"}),
        )
        .expect("a ref"),
        caption: String::new(),
    };
    let e = phone_a.record(j.id, &photo, at(1));
    phone_a.push_accepted(s, &[e], at(2));
    assert!(
        s.attachment_referenced_by(sha, a).expect("check"),
        "a's event references it"
    );
    assert!(!s.attachment_referenced_by(sha, b).expect("check"));
    assert!(s.attachment_pushed_from(sha, phone_a.id).expect("check"));
    assert!(
        !s.attachment_pushed_from(sha, Uuid::now_v7())
            .expect("check")
    );
    s.assign_job(j.id, b, at(3)).expect("reassign");
    assert!(
        !s.attachment_readable_by(sha, b).expect("check"),
        "not before a uploaded it"
    );
    let up = Uploader {
        user_id: a,
        device_id: Some(phone_a.id),
    };
    s.open_upload(&create(b"photo", 5), up, at(4))
        .expect("open");
    s.complete_upload(sha, up, "image/jpeg", at(5))
        .expect("complete");
    assert!(
        s.attachment_readable_by(sha, b).expect("check"),
        "the new assignee reads the job's photo"
    );
}
