//! [`ReportStore`]: the summary report's counts. Events and attachment rows are written with plain
//! SQL (the same statements on both backends): their own concerns are tested in their files.

use crate::accounts::{add, t0};
use crate::raw::Raw;
use heatcrew_office::store::{AccountStore, EnrolmentStore, ReportStore};
use heatcrew_protocol::sync::Role;
use uuid::Uuid;

crate::both!(an_empty_office_counts_nothing);
crate::both_raw!(counts_follow_events_devices_and_attachments);

fn an_empty_office_counts_nothing(s: &impl ReportStore) {
    let c = s.counts().expect("counts");
    assert_eq!(
        (
            c.events_accepted,
            c.events_rejected,
            c.devices,
            c.devices_clock_flagged,
            c.attachments_referenced,
            c.attachments_received
        ),
        (0, 0, 0, 0, 0, 0)
    );
}

fn counts_follow_events_devices_and_attachments<S: AccountStore + EnrolmentStore + ReportStore>(
    s: &S,
    raw: &dyn Raw,
) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let (d1, d2, d3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    for (i, d) in [d1, d2, d3].iter().enumerate() {
        s.enrol_device(*d, &format!("{i:02x}").repeat(32), "phone", u.id, t0())
            .expect("enrol");
    }
    s.record_clock_offset(d2, 0, 60_000, t0()).expect("offset");
    s.record_clock_offset(d2, 3_600_000, 60_000, t0())
        .expect("a jump");
    let mut sql = String::new();
    for (seq, status) in [
        (1, "accepted"),
        (2, "accepted"),
        (3, "rejected"),
        (4, "accepted"),
    ] {
        sql.push_str(&format!(
            "INSERT INTO events (device_id, device_seq, id, job_id, kind, hash, body, user_id, status, received_at)
             VALUES ('{d1}', {seq}, '{}', '{}', 'note_added', 'h{seq}', '{{}}', '{}', '{status}', '2026-01-05T08:00:00.000Z');",
            Uuid::now_v7(),
            Uuid::now_v7(),
            u.id
        ));
    }
    for (sha, seq) in [("aa", 1), ("aa", 2), ("bb", 4)] {
        sql.push_str(&format!(
            "INSERT INTO attachment_refs (sha256, device_id, device_seq, user_id, job_id)
             VALUES ('{sha}', '{d1}', {seq}, '{}', 'j');",
            u.id
        ));
    }
    for (sha, complete) in [("aa", 1), ("bb", 0), ("cc", 1)] {
        sql.push_str(&format!(
            "INSERT INTO attachments (sha256, size, mime, complete, created_by, created_at)
             VALUES ('{sha}', 10, 'image/jpeg', {complete}, '{}', '2026-01-05T08:00:00.000Z');",
            u.id
        ));
    }
    raw.exec(&sql).expect("rows of other concerns");
    let c = s.counts().expect("counts");
    assert_eq!((c.events_accepted, c.events_rejected), (3, 1));
    assert_eq!((c.devices, c.devices_clock_flagged), (3, 1));
    assert_eq!(
        (c.attachments_referenced, c.attachments_received),
        (2, 1),
        "two files referenced; one of them arrived (an unreferenced file does not count)"
    );
}
