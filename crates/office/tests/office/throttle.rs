//! Login throttling (counted refusals, never timings), the bounded password hashing queue, and the
//! TOTP second factor for staff.

use super::*;
use chrono::TimeDelta;
use heatcrew_office::clock::Clock;

/// An office that reads the client address from `X-Forwarded-For` (as behind a proxy), so one test
/// can play several addresses; its clock is the test's.
async fn office(clock: &Clock, tweak: impl FnOnce(&mut heatcrew_office::Config)) -> TestOffice {
    let c = clock.clone();
    TestOffice::start_with(Seed::TestAccounts, move |cfg| {
        cfg.clock = c;
        cfg.client_address_header = Some("x-forwarded-for".into());
        tweak(cfg);
    })
    .await
}

/// A staff login from `address`: status, `Retry-After`, body.
async fn login_from(
    o: &TestOffice,
    address: &str,
    body: Value,
) -> (StatusCode, Option<u64>, Value) {
    let resp = o
        .http
        .post(o.endpoint("/api/v1/auth/staff-login"))
        .header("x-forwarded-for", format!("203.0.113.9, {address}"))
        .json(&body)
        .send()
        .await
        .expect("the office answers");
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

fn creds(username: &str, password: &str) -> Value {
    json!({"username": username, "password": password})
}

#[tokio::test]
async fn guessing_is_throttled_per_account_and_address_and_the_real_user_is_not() {
    let clock = Clock::system();
    let o = office(&clock, |_| {}).await;
    let attacker = "198.51.100.66";
    let mut refusals = std::collections::BTreeMap::<String, u32>::new();
    for i in 0..30 {
        let (status, retry, body) =
            login_from(&o, attacker, creds("dispatch", &format!("guess {i}"))).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                retry.is_some_and(|s| s >= 1),
                "429 says when to retry: {body}"
            );
        }
        *refusals
            .entry(format!(
                "{} {}",
                status.as_u16(),
                body["code"].as_str().unwrap_or("")
            ))
            .or_default() += 1;
    }
    assert_eq!(
        refusals,
        [
            ("401 bad_credentials".to_owned(), 6),
            ("429 too_many_attempts".to_owned(), 24)
        ]
        .into(),
        "5 free guesses and the one that locks; every later one is refused before any password check"
    );
    let (status, _, body) = login_from(&o, attacker, creds("dispatch", PASSWORD)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")),
        "even the right password from the guesser's address waits: a lockout is not an oracle"
    );
    let (status, _, body) = login_from(&o, "192.0.2.7", creds("dispatch", PASSWORD)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the real user at another address is unaffected: {body}"
    );
    let (status, _, body) = login_from(&o, attacker, creds("admin", PASSWORD)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another account from that address is unaffected: {body}"
    );

    // The delays grow: after the lock, one more guess and the next lock is twice as long.
    clock.advance(TimeDelta::seconds(2));
    let (status, _, _) = login_from(&o, attacker, creds("dispatch", "guess again")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "once the lock ran out, one guess is checked"
    );
    let (status, retry, _) = login_from(&o, attacker, creds("dispatch", "and again")).await;
    assert_eq!(
        (status, retry),
        (StatusCode::TOO_MANY_REQUESTS, Some(2)),
        "1 s, then 2 s, …"
    );
    clock.advance(TimeDelta::hours(2));
    let (status, _, body) = login_from(&o, attacker, creds("dispatch", PASSWORD)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the counts are forgotten after an hour: {body}"
    );

    // One address trying many accounts is stopped too, and only that address.
    let spray = "198.51.100.99";
    let mut refused = 0;
    for i in 0..25 {
        let (status, _, _) = login_from(&o, spray, creds(&format!("user{i}"), "123456")).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert_eq!(
        refused, 4,
        "20 free failures per address, the 21st locks, 4 more are refused"
    );
    let (status, _, _) = login_from(&o, "192.0.2.8", creds("tech_a", PASSWORD)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "others still reach the password check (tech_a is field staff)"
    );

    // Failures are in the audit log with the username and the address.
    let admin = o.staff("admin").await;
    let (_, page) = o
        .get_json(
            "/api/v1/console/audit?kind=sign_in_failed&user=dispatch&limit=500",
            &admin,
        )
        .await;
    let entries = page["entries"].as_array().expect("entries");
    assert_eq!(
        entries.len(),
        7,
        "each checked failure is recorded once: {page}"
    );
    assert!(entries.iter().all(|e| e["address"] == attacker), "{page}");
}

#[tokio::test]
async fn a_flood_of_logins_is_shed_with_429_and_nobody_hangs() {
    let clock = Clock::system();
    let o = office(&clock, |c| c.throttle.argon2_queue = 2).await;
    let flood = (0..40).map(|i| {
        let o = &o;
        async move { login_from(o, &format!("198.51.100.{i}"), creds("dispatch", PASSWORD)).await }
    });
    let answers = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        futures_util::future::join_all(flood),
    )
    .await
    .expect("every login is answered: shedding never hangs");
    let ok = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::OK)
        .count();
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(ok + busy.len(), 40, "every answer is a session or a 429");
    assert!(ok >= 2, "the queue's places were used");
    assert!(!busy.is_empty(), "beyond 2 at once, logins are shed");
    for (_, retry, body) in busy {
        assert_eq!(
            (body["code"].as_str(), *retry),
            (Some("login_busy"), Some(1)),
            "{body}"
        );
    }
    let (status, _, body) = login_from(&o, "192.0.2.7", creds("dispatch", PASSWORD)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "after the flood a login works at once: {body}"
    );
}

#[tokio::test]
async fn staff_can_add_a_totp_second_factor_and_admins_must() {
    let clock = Clock::system();
    // Start just after a 30 s step begins, so the test's steps are the ones it counts on.
    let into_step = clock.now().timestamp_millis().rem_euclid(30_000);
    clock.advance(TimeDelta::milliseconds(30_000 - into_step + 200));
    let o = office(&clock, |c| c.require_admin_totp = true).await;
    let code_now =
        |secret: &str| heatcrew_office::api::totp::code_at(secret, clock.now()).expect("a code");

    // A dispatcher opts in.
    let dispatcher = o.staff("dispatch").await;
    let (status, setup) = o
        .post_json("/api/v1/auth/totp/setup", Some(&dispatcher), &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let secret = setup["secret"].as_str().expect("secret").to_owned();
    assert!(
        setup["otpauth_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("otpauth://totp/")),
        "{setup}"
    );
    assert!(
        setup["qr_png_base64"]
            .as_str()
            .is_some_and(|q| q.starts_with("iVBORw0KGgo") && q.len() > 200),
        "the link as a QR code: a PNG (its signature, base64), not empty"
    );
    let (status, body) = o
        .post_json(
            "/api/v1/auth/totp/confirm",
            Some(&dispatcher),
            &json!({"code": "000000"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_totp"))
    );
    let confirming = code_now(&secret);
    let (status, body) = o
        .post_json(
            "/api/v1/auth/totp/confirm",
            Some(&dispatcher),
            &json!({"code": confirming}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _, body) = login_from(&o, "192.0.2.7", creds("dispatch", PASSWORD)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_required"))
    );
    let wrong = json!({"username": "dispatch", "password": PASSWORD, "totp": "123456"});
    let (status, _, body) = login_from(&o, "192.0.2.7", wrong).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_totp"))
    );
    // The code that confirmed the secret is spent: it cannot sign in.
    let again = json!({"username": "dispatch", "password": PASSWORD, "totp": confirming});
    let (status, _, body) = login_from(&o, "192.0.2.7", again).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_used")),
        "the confirming code cannot sign in: {body}"
    );
    clock.advance(TimeDelta::seconds(30));
    let fresh = code_now(&secret);
    assert_ne!(fresh, confirming, "the next 30 s step has another code");
    let right = json!({"username": "dispatch", "password": PASSWORD, "totp": fresh});
    let (status, _, body) = login_from(&o, "192.0.2.7", right.clone()).await;
    assert_eq!(status, StatusCode::OK, "password and code sign in: {body}");
    // A code is accepted once (RFC 6238 §5.2): the same one again, from another address, within
    // its window, is refused; so is the earlier step's code the skew would otherwise still accept.
    let (status, _, body) = login_from(&o, "203.0.113.9", right).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_used")),
        "a code replayed within its window is refused: {body}"
    );
    // The step just before now: the skew accepts it, but it is older than the code just used. (Not
    // `confirming`: on a slow machine real time may have crossed a step since, and a code two steps
    // old is plainly wrong, `bad_totp`, which would not test the rule.)
    let earlier_code =
        heatcrew_office::api::totp::code_at(&secret, clock.now() - TimeDelta::seconds(30))
            .expect("a code");
    let earlier = json!({"username": "dispatch", "password": PASSWORD, "totp": earlier_code});
    let (status, _, body) = login_from(&o, "203.0.113.9", earlier).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_used")),
        "an earlier step's code is refused once a later one was used: {body}"
    );
    clock.advance(TimeDelta::seconds(30));
    let next = json!({"username": "dispatch", "password": PASSWORD, "totp": code_now(&secret)});
    let (status, _, body) = login_from(&o, "203.0.113.9", next).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the next step's code signs in: {body}"
    );
    // Guessing codes is throttled like guessing passwords.
    let mut throttled = false;
    for _ in 0..7 {
        let wrong = json!({"username": "dispatch", "password": PASSWORD, "totp": "999999"});
        throttled |= login_from(&o, "198.51.100.5", wrong).await.0 == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(throttled, "wrong codes count as failed sign-ins");

    // An admin without one gets a session that can only set it up.
    let (status, _, login) = login_from(&o, "192.0.2.7", creds("admin", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let admin = login["access_token"].as_str().expect("token").to_owned();
    let (status, body) = o.get_json("/api/v1/users", &admin).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("totp_setup_required")),
        "{body}"
    );
    let (_, setup) = o
        .post_json("/api/v1/auth/totp/setup", Some(&admin), &json!({}))
        .await;
    let secret = setup["secret"].as_str().expect("secret").to_owned();
    let (status, _) = o
        .post_json(
            "/api/v1/auth/totp/confirm",
            Some(&admin),
            &json!({"code": code_now(&secret)}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = o.get_json("/api/v1/users", &admin).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "set up, the session is a full one: {body}"
    );
    let (_, page) = o
        .get_json("/api/v1/console/audit?kind=totp_enabled", &admin)
        .await;
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(2), "{page}");
}
