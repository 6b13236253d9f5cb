//! Devices bound to their user, refresh tokens bound to their device, session lifetimes on a test
//! clock (never sleeps), and deactivation ending every session at once.

use super::*;
use chrono::TimeDelta;
use heatcrew_office::clock::Clock;

/// Log `username` in on an existing device (its id and key).
async fn login_on(o: &TestOffice, username: &str, dev: &Device) -> (StatusCode, Value) {
    o.login_device(username, PASSWORD, dev.id, &dev.key).await
}

async fn audit_kinds(o: &TestOffice, admin: &str) -> Vec<(String, String, String)> {
    let (status, page) = o.get_json("/api/v1/console/audit?limit=500", admin).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the admin reads the audit log: {page}"
    );
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or("").to_owned(),
                e["username"].as_str().unwrap_or("").to_owned(),
                e["subject"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_device_stays_its_users_until_an_admin_shares_or_moves_it() {
    let o = TestOffice::start().await;
    let admin = o.staff("admin").await;
    let dispatcher = o.staff("dispatch").await;
    let phone = o.device("tech_a").await;

    // Another user, with the phone itself in hand (its key), is refused with a clear code.
    let (status, body) = login_on(&o, "tech_b", &phone).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("device_other_user")),
        "a device is bound to its first user: {body}"
    );
    // Without the key it does not get that far (proof of possession, issue 11 point 3).
    let thief = SigningKey::generate(&mut rand::rngs::OsRng);
    let (status, _) = o.login_device("tech_b", PASSWORD, phone.id, &thief).await;
    assert_ne!(
        status,
        StatusCode::OK,
        "another key never signs in as this device"
    );
    let (status, body) = login_on(&o, "tech_a", &phone).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "its own user still signs in: {body}"
    );

    // Only an admin shares or moves a device.
    let share = format!("/api/v1/devices/{}/shared", phone.id);
    let moved = format!("/api/v1/devices/{}/move", phone.id);
    let (status, _) = o
        .post_json(&share, Some(&dispatcher), &json!({"shared": true}))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a dispatcher cannot share a device"
    );
    let (status, _) = o
        .post_json(
            &moved,
            Some(&phone.login.access_token),
            &json!({"user_id": o.user_id("tech_b")}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a technician cannot move a device"
    );
    let (status, _) = o
        .post_json(
            &format!("/api/v1/devices/{}/move", Uuid::now_v7()),
            Some(&admin),
            &json!({"user_id": o.user_id("tech_b")}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an unknown device cannot be moved"
    );

    // A crew's shared phone: both sign in on it, turn by turn (issue 15).
    let (status, dev) = o
        .post_json(&share, Some(&admin), &json!({"shared": true}))
        .await;
    assert_eq!(
        (status, &dev["shared"]),
        (StatusCode::OK, &json!(true)),
        "{dev}"
    );
    let (status, body) = login_on(&o, "tech_b", &phone).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a shared phone takes its crew's logins: {body}"
    );
    let (status, body) = login_on(&o, "tech_a", &phone).await;
    assert_eq!(status, StatusCode::OK, "and its own user's: {body}");
    let tech_a_token = body["access_token"].as_str().expect("token").to_owned();

    // Moved to tech_b: shared no more, every session on it ends, tech_a is refused.
    let (status, body) = o
        .post_json(
            &moved,
            Some(&admin),
            &json!({"user_id": o.user_id("tech_b")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "an admin moves the device: {body}");
    assert_eq!(body["device"]["user_id"], json!(o.user_id("tech_b")));
    assert_eq!(
        body["device"]["shared"],
        json!(false),
        "a move ends sharing"
    );
    assert!(
        body["revoked"].as_u64().unwrap_or(0) >= 1,
        "sessions on it ended: {body}"
    );
    let (status, body) = o
        .get_json("/api/v1/sync/pull?cursor=0", &tech_a_token)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_revoked")),
        "the previous user's session on the moved phone is over"
    );
    let (status, body) = login_on(&o, "tech_a", &phone).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("device_other_user")),
        "the previous user is now the other user"
    );
    let (status, body) = login_on(&o, "tech_b", &phone).await;
    assert_eq!(status, StatusCode::OK, "the new user signs in: {body}");

    let log = audit_kinds(&o, &admin).await;
    let has = |kind: &str, subject: &str| {
        log.iter()
            .any(|(k, _, s)| k == kind && (subject.is_empty() || s == subject))
    };
    assert!(has("device_enrolled", &phone.id.to_string()), "{log:?}");
    assert!(has("device_shared", &phone.id.to_string()), "{log:?}");
    assert!(has("device_moved", &phone.id.to_string()), "{log:?}");
    assert!(
        log.iter()
            .any(|(k, u, _)| k == "sign_in_failed" && u == "tech_b"),
        "the refused login is in the audit log with its username: {log:?}"
    );
}

#[tokio::test]
async fn a_refresh_token_works_only_on_its_device_and_not_past_the_sessions_lifetime() {
    let clock = Clock::system();
    let c = clock.clone();
    let o = TestOffice::start_with(Seed::TestAccounts, move |cfg| {
        cfg.clock = c;
        cfg.session_max_age = std::time::Duration::from_secs(2 * 24 * 3600);
        cfg.access_ttl = std::time::Duration::from_secs(3 * 24 * 3600);
    })
    .await;
    let refresh = |token: &str, device: Option<Uuid>| {
        let body = json!({"refresh_token": token, "device_id": device});
        let o = &o;
        async move { o.post_json("/api/v1/auth/refresh", None, &body).await }
    };

    // Presented by another device (a copied token), or by none: refused, and the session ends.
    let dev = o.device("tech_a").await;
    let (status, body) = refresh(&dev.login.refresh_token, Some(Uuid::now_v7())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("refresh_wrong_device")),
        "{body}"
    );
    let (status, body) = refresh(&dev.login.refresh_token, Some(dev.id)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_refresh_token")),
        "the session is over for its real device too: {body}"
    );
    let (status, _) = o
        .get_json("/api/v1/sync/pull?cursor=0", &dev.login.access_token)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "and so is its access token"
    );
    let dev = o.device("tech_a").await;
    let (status, body) = refresh(&dev.login.refresh_token, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("refresh_wrong_device")),
        "a device session refreshed without its device id is refused: {body}"
    );

    // Refreshes renew within the absolute lifetime, never past it.
    let dev = o.device("tech_a").await;
    clock.advance(TimeDelta::days(1));
    let (status, body) = refresh(&dev.login.refresh_token, Some(dev.id)).await;
    assert_eq!(status, StatusCode::OK, "a day in, a refresh works: {body}");
    let (access, token) = (
        body["access_token"].as_str().expect("access").to_owned(),
        body["refresh_token"].as_str().expect("refresh").to_owned(),
    );
    o.pull(&access, 0).await;
    clock.advance(TimeDelta::days(1) + TimeDelta::minutes(1));
    let (status, body) = o.get_json("/api/v1/sync/pull?cursor=0", &access).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_expired")),
        "past the absolute lifetime the session is over, whatever the access token said: {body}"
    );
    let (status, body) = refresh(&token, Some(dev.id)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "and no refresh revives it: {body}"
    );
}

#[tokio::test]
async fn staff_sessions_end_when_idle_and_at_their_absolute_limit() {
    let clock = Clock::system();
    let c = clock.clone();
    let o = TestOffice::start_with(Seed::TestAccounts, move |cfg| {
        cfg.clock = c;
        cfg.staff_idle_timeout = std::time::Duration::from_secs(30 * 60);
        cfg.staff_max_age = std::time::Duration::from_secs(8 * 3600);
        cfg.access_ttl = std::time::Duration::from_secs(24 * 3600);
    })
    .await;
    let users = |t: String| {
        let o = &o;
        async move { o.get_json("/api/v1/users", &t).await }
    };

    let token = o.staff("dispatch").await;
    for _ in 0..3 {
        clock.advance(TimeDelta::minutes(20));
        let (status, body) = users(token.clone()).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "used every 20 minutes, a session lives on: {body}"
        );
    }
    clock.advance(TimeDelta::minutes(31));
    let (status, body) = users(token.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_expired")),
        "31 idle minutes end it: {body}"
    );

    let (status, login) = o
        .post_json(
            "/api/v1/auth/staff-login",
            None,
            &json!({"username": "dispatch", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let token = login["access_token"].as_str().expect("token").to_owned();
    let mut alive = 0;
    loop {
        clock.advance(TimeDelta::minutes(25));
        let (status, body) = users(token.clone()).await;
        if status != StatusCode::OK {
            assert_eq!(body["code"], "session_expired", "{body}");
            break;
        }
        alive += 1;
    }
    assert_eq!(
        alive, 19,
        "a busy session still ends at 8 hours (19 × 25 min < 8 h < 20 × 25 min)"
    );
    let (status, body) = o
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": login["refresh_token"]}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "nor does a refresh revive it: {body}"
    );

    // Idle, then refreshed: the refresh is refused too (a background timer is not a person).
    let (_, login) = o
        .post_json(
            "/api/v1/auth/staff-login",
            None,
            &json!({"username": "dispatch", "password": PASSWORD}),
        )
        .await;
    clock.advance(TimeDelta::minutes(31));
    let (status, body) = o
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": login["refresh_token"]}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_expired")),
        "{body}"
    );
}

#[tokio::test]
async fn deactivating_a_user_ends_every_session_and_device_token_at_once() {
    let o = TestOffice::start().await;
    let admin = o.staff("admin").await;
    let phone_1 = o.device("tech_a").await;
    let phone_2 = o.device("tech_a").await;
    let (status, body) = o
        .post_json(
            &format!("/api/v1/users/{}/deactivate", o.user_id("tech_a")),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revoked"], 2, "both phones' sessions ended: {body}");
    for phone in [&phone_1, &phone_2] {
        let (status, _) = o
            .get_json("/api/v1/sync/pull?cursor=0", &phone.login.access_token)
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "access tokens open nothing"
        );
        let (status, _) = o
            .post_json(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": phone.login.refresh_token, "device_id": phone.id}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "refresh tokens revive nothing"
        );
    }
    let log = audit_kinds(&o, &admin).await;
    assert!(
        log.iter().any(|(k, u, s)| k == "user_deactivated"
            && u == "admin"
            && *s == o.user_id("tech_a").to_string()),
        "{log:?}"
    );
}
