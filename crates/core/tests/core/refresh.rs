//! A phone's session end to end against a real office on loopback: with access tokens that live
//! two seconds, the device's own sync refreshes its token (sending its device id, as the office
//! binds refresh tokens to the device) on every pass and keeps pushing and pulling; the refresh
//! token presented for another device id is refused and ends the session.

use super::*;
use heatcrew_core::sync::SyncError;
use heatcrew_testkit::{PASSWORD, Seed, TestDevice, TestOffice};
use serde_json::json;

/// An assigned home repair for `assignee`, made by the dispatcher (signed in afresh: the console's
/// access token is as short-lived as the device's here).
async fn assign_job(office: &TestOffice, assignee: Uuid, fault: &str) -> Uuid {
    let staff = office.staff_token("dispatch", PASSWORD).await;
    let (status, job) = office
        .post_json(
            "/api/v1/jobs",
            Some(&staff),
            &json!({"kind": "home_repair", "fault": fault, "assignee": assignee,
                    "customer": {"name": "李建国", "phone": "13900000000", "address": "友谊路18号"}}),
        )
        .await;
    assert_eq!(status.as_u16(), 200, "the dispatcher creates a job: {job}");
    job["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("the job's id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devices_sync_refreshes_its_short_lived_token_for_its_own_id_and_keeps_syncing() {
    let office = TestOffice::start_with(Seed::TestAccounts, |c| {
        c.access_ttl = std::time::Duration::from_secs(2);
    })
    .await;
    let tech = office.user_id("tech_a");
    let device = TestDevice::sign_in(&office.url(), "tech_a", PASSWORD).await;
    let mut before = device.session.clone();
    assert!(
        before.access_expires_at - Utc::now() <= Duration::seconds(2),
        "the office hands out the short access token it is configured for"
    );

    // The office really enforces that lifetime: the first access token is refused once it ran out.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = office
        .get_json("/api/v1/sync/pull?cursor=0", &before.access_token)
        .await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (401, Some("token_expired")),
        "an expired access token is refused: {body}"
    );

    for round in 0..3 {
        // Something new at the office to pull, and something recorded on the device to push.
        let job = assign_job(&office, tech, &format!("第{round}户暖气不热")).await;
        let report = device
            .syncer
            .sync_once()
            .await
            .unwrap_or_else(|e| panic!("round {round}: the sync refreshes and goes on: {e}"));
        assert!(
            report.changes_pulled > 0,
            "round {round}: pulled {report:?}"
        );
        assert!(
            device.lock().job(job).expect("read").is_some(),
            "round {round}: the new job arrived after the refresh"
        );
        device
            .lock()
            .record(
                job,
                EventBody::StepCompleted {
                    step: "appointment".into(),
                    evidence: Default::default(),
                },
            )
            .expect("record offline");
        let report = device
            .syncer
            .sync_once()
            .await
            .unwrap_or_else(|e| panic!("round {round}: the second sync: {e}"));
        assert_eq!(
            report.pushed, 1,
            "round {round}: the record went up: {report:?}"
        );
        assert_eq!(report.rejected, 0, "round {round}: {report:?}");
        let after = device.lock().session().expect("read").expect("signed in");
        assert_ne!(
            after.access_token, before.access_token,
            "round {round}: a new access token"
        );
        assert_ne!(
            after.refresh_token, before.refresh_token,
            "round {round}: the refresh token rotates"
        );
        assert_eq!(after.user.username, "tech_a", "round {round}: still tech_a");
        before = after;
    }
    let backlog = device.lock().backlog().expect("backlog");
    assert_eq!(
        (backlog.queued, backlog.rejected),
        (0, 0),
        "every record reached the office through refreshed tokens"
    );

    // The refresh token is bound to this device: presented with another device id (a copy taken
    // off the phone and replayed from elsewhere) it is refused, and the session ends.
    let (status, body) = office
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": before.refresh_token, "device_id": Uuid::new_v4()}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (401, Some("refresh_wrong_device")),
        "a refresh for another device id is refused: {body}"
    );
    // The session it belonged to is over: the real device must sign in again, and loses nothing.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let job = assign_job(&office, tech, "事后的工单").await;
    match device.syncer.sync_once().await {
        Err(SyncError::Unauthorized(_)) => {}
        other => panic!("the ended session no longer syncs: {other:?}"),
    }
    let again = TestDevice::sign_in(&office.url(), "tech_a", PASSWORD).await;
    again.syncer.sync_once().await.expect("a new sign-in syncs");
    assert!(
        again.lock().job(job).expect("read").is_some(),
        "signed in again, the device pulls what it missed"
    );
}
