//! Sign-in: staff and device logins, token expiry, refresh rotation, revocation; the admin's accounts and crews.

use super::*;

#[tokio::test]
async fn login_tokens_expire_refresh_rotates_and_revocation_sticks() {
    let o = TestOffice::start_with(Seed::TestAccounts, |c| {
        c.access_ttl = std::time::Duration::from_millis(800)
    })
    .await;
    let (status, body) = o
        .post_json(
            "/api/v1/auth/staff-login",
            None,
            &json!({"username": "tech_a", "password": "wrong password"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials")),
        "a wrong password is refused with a code"
    );

    let dev = o.device("tech_a").await;
    assert_eq!(
        dev.login.device_code, "D0001",
        "the first device at this office gets the first short code"
    );
    assert_eq!(
        dev.login.last_seq, 0,
        "a new device has nothing at the office"
    );
    let t1 = dev.login.access_token.clone();
    o.pull(&t1, 0).await;

    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let (status, body) = o.get_json("/api/v1/sync/pull?cursor=0", &t1).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_expired")),
        "an expired access token must be told apart so the device refreshes"
    );

    // A refresh whose response is lost: the device still has the old refresh token and retries.
    let r1 = dev.login.refresh_token.clone();
    let (status, lost) = o
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": r1, "device_id": dev.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "refresh works: {lost}");
    let (status, second) = o
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": r1, "device_id": dev.id}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a retried refresh after a lost response must not lock the device out: {second}"
    );
    assert_eq!(
        second["device_code"], "D0001",
        "a refreshed device session keeps its device"
    );
    let t2 = second["access_token"].as_str().expect("token").to_owned();
    let r2 = second["refresh_token"].as_str().expect("token").to_owned();
    assert_ne!(r2, r1, "refresh rotates the refresh token");
    o.pull(&t2, 0).await;

    // The new pair is in use: the old refresh token coming back means it was copied.
    let (status, body) = o
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": r1, "device_id": dev.id}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("refresh_reused")),
        "reuse of a rotated-out refresh token is refused"
    );
    let (status, body) = o.get_json("/api/v1/sync/pull?cursor=0", &t2).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_revoked")),
        "reuse revokes the whole session, including the live access token"
    );

    // Logging out revokes the session.
    let dev2 = o.device("tech_a").await;
    let resp = o
        .http
        .post(o.endpoint("/api/v1/auth/revoke"))
        .bearer_auth(&dev2.login.access_token)
        .send()
        .await
        .expect("revoke");
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "revocation is acknowledged"
    );
    let (status, _) = o
        .get_json("/api/v1/sync/pull?cursor=0", &dev2.login.access_token)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked token opens nothing"
    );
    let (status, body) = o
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": dev2.login.refresh_token, "device_id": dev2.id}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_refresh_token")),
        "nor can its refresh token revive it"
    );

    // The same device id with another key is not the same device.
    let other_key = SigningKey::generate(&mut rand::rngs::OsRng);
    let (status, body) = o.login_device("tech_a", PASSWORD, dev.id, &other_key).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("device_key_mismatch")),
        "an enrolled device id cannot be taken over by another key"
    );

    let (status, _) = o
        .get_json("/api/v1/sync/pull?cursor=0", "not-a-token")
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a forged token opens nothing"
    );
}

#[tokio::test]
async fn admin_creates_users_and_crews_and_a_device_may_open_an_emergency_job() {
    let o = TestOffice::start().await;
    let admin = o.staff("admin").await;
    let dispatcher = o.staff("dispatch").await;
    let new_user = json!({"username": "zhaolei", "password": "热力公司2026", "role": "patrol", "display_name": "赵磊", "badge_no": "XJ-0302"});
    let (status, _) = o
        .post_json("/api/v1/users", Some(&dispatcher), &new_user)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only an admin creates users");
    let (status, user) = o.post_json("/api/v1/users", Some(&admin), &new_user).await;
    assert_eq!(status, StatusCode::OK, "admin creates a user: {user}");
    let (status, retry) = o.post_json("/api/v1/users", Some(&admin), &new_user).await;
    assert_eq!(
        (status, &retry["id"]),
        (StatusCode::OK, &user["id"]),
        "the same request again (a retry) returns the same user"
    );
    let mut other = new_user.clone();
    other["password"] = json!("another password");
    let (status, body) = o.post_json("/api/v1/users", Some(&admin), &other).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("username_taken")),
        "usernames are unique"
    );
    let (status, crew) = o
        .post_json(
            "/api/v1/crews",
            Some(&admin),
            &json!({"name": "巡检二班", "members": [user["id"]]}),
        )
        .await;
    assert_eq!(
        (status, crew["members"][0].clone()),
        (StatusCode::OK, user["id"].clone()),
        "a crew holds its members"
    );

    let mut dev = o.device_with("zhaolei", "热力公司2026").await;
    let job = Job {
        id: Uuid::now_v7(),
        kind: heatcrew_protocol::JobKind::EmergencyRepair,
        template: heatcrew_office::api::jobs::template_for(
            heatcrew_protocol::JobKind::EmergencyRepair,
        ),
        title: "建设路管道爆裂".into(),
        customer: None,
        site: Some("建设路18号".into()),
        reported_at: Some(Utc::now()),
        window: None,
        assignee: None,
        street_work: true,
        checkpoints: vec![],
        status: heatcrew_protocol::JobStatus::Open,
        utc_offset_minutes: None,
        revision: 0,
    };
    let created = dev.record(job.id, &EventBody::JobCreated { job: job.clone() });
    let follow = dev.record(job.id, &step("safety_signs"));
    let resp = o.push_ok(&dev, &[created, follow]).await;
    assert_eq!(
        outcomes(&resp),
        ["accepted", "accepted"],
        "a device may open an emergency job and record on it in one batch"
    );
    let detail = o.job_detail(&dispatcher, job.id).await;
    assert_eq!(
        detail["job"]["assignee"], user["id"],
        "the job belongs to the user whose device opened it"
    );
}
