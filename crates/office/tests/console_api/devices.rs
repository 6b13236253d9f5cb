//! The devices page's last sync time and app version (issue 12 point 6): kept at every sign-in and
//! at a push or pull once a minute (or when the version changed), the version taken from the device
//! core's own `User-Agent` and bounded when a client sends something else.

use super::{Device, PASSWORD, TestOffice, step};
use chrono::{DateTime, Utc};
use heatcrew_testkit::TestDevice;
use reqwest::StatusCode;
use reqwest::header::{HeaderValue, USER_AGENT};
use serde_json::{Value, json};
use uuid::Uuid;

/// The device with `code` as `GET /api/v1/devices` lists it.
async fn listed(office: &TestOffice, admin: &str, code: &str) -> Value {
    let (status, devices) = office.get_json("/api/v1/devices", admin).await;
    assert_eq!(status, StatusCode::OK, "{devices}");
    devices
        .as_array()
        .expect("a list")
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("{code} is listed: {devices}"))
        .clone()
}

fn last_sync(d: &Value) -> DateTime<Utc> {
    d["last_sync_at"]
        .as_str()
        .unwrap_or_else(|| panic!("a last sync time: {d}"))
        .parse()
        .expect("RFC 3339")
}

#[tokio::test]
async fn a_syncing_phone_shows_its_last_sync_time_and_app_version() {
    let office = TestOffice::start().await;
    let admin = office.staff_token("admin").await;
    let before = Utc::now();
    // The real device core, as the field app runs it: its sign-in and sync carry its User-Agent.
    let phone = TestDevice::sign_in(&office.0.url(), "tech_a", PASSWORD).await;
    let code = phone.session.device_code.clone();
    let signed_in = listed(&office, &admin, &code).await;
    assert_eq!(
        signed_in["app_version"],
        env!("CARGO_PKG_VERSION"),
        "{signed_in}"
    );
    let at_login = last_sync(&signed_in);
    assert!(
        at_login >= before - chrono::TimeDelta::seconds(1),
        "{signed_in}"
    );

    // A sync within a minute of the last kept time writes nothing (the page shows minutes; a write
    // per request is what a burst of devices cannot afford)…
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    phone.syncer.sync_once().await.expect("the phone syncs");
    let soon = listed(&office, &admin, &code).await;
    assert_eq!(last_sync(&soon), at_login, "{soon}");
    // …one a minute later moves it.
    let clock = office.running().state.config.clock.clone();
    clock.advance(heatcrew_office::api::device_info::MARK_EVERY);
    phone.syncer.sync_once().await.expect("the phone syncs");
    let synced = listed(&office, &admin, &code).await;
    assert_eq!(synced["app_version"], env!("CARGO_PKG_VERSION"));
    let at_sync = last_sync(&synced);
    assert!(
        at_sync >= at_login + heatcrew_office::api::device_info::MARK_EVERY,
        "the pull moved the last sync time: {synced}"
    );
    assert!(at_sync <= clock.now(), "{synced}");
}

/// Pull (or push) as `dev` with a raw `User-Agent`; the office must answer 200 whatever it is.
async fn pull_with(office: &TestOffice, dev: &Device, ua: HeaderValue) {
    let resp = reqwest::Client::new()
        .get(office.url("/api/v1/sync/pull"))
        .bearer_auth(dev.token())
        .header(USER_AGENT, ua)
        .send()
        .await
        .expect("the office answers");
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "a strange User-Agent breaks nothing"
    );
}

#[tokio::test]
async fn a_hostile_version_header_is_kept_bounded() {
    let office = TestOffice::start().await;
    let admin = office.staff_token("admin").await;
    let mut dev = office.device("tech_a").await;
    let code = dev.login.device_code.clone();
    // The kit's client names no product: a device without a readable version is "unknown".
    assert_eq!(
        listed(&office, &admin, &code).await["app_version"],
        "unknown"
    );

    let version = |d: Value| d["app_version"].as_str().expect("a version").to_owned();
    pull_with(
        &office,
        &dev,
        HeaderValue::from_static("heatcrew-device/2.3.4"),
    )
    .await;
    assert_eq!(version(listed(&office, &admin, &code).await), "2.3.4");

    let huge = format!("heatcrew-device/{}", "9".repeat(10 * 1024));
    pull_with(&office, &dev, HeaderValue::from_str(&huge).expect("ASCII")).await;
    assert_eq!(version(listed(&office, &admin, &code).await), "unknown");

    pull_with(
        &office,
        &dev,
        HeaderValue::from_static("heatcrew-device/2.3.4"),
    )
    .await;
    let odd = HeaderValue::from_bytes(b"heatcrew-device/1.0\t\xff\xfe")
        .expect("obs-text is a legal header");
    pull_with(&office, &dev, odd).await;
    assert_eq!(version(listed(&office, &admin, &code).await), "unknown");

    // A push records it too (and a hostile header still lets the records in).
    let job = Uuid::now_v7();
    let event = dev.record(job, &step("arrived"));
    let resp = reqwest::Client::new()
        .post(office.url("/api/v1/sync/push"))
        .bearer_auth(dev.token())
        .header(USER_AGENT, "heatcrew-device/3.0.0-rc.1")
        .json(&json!({ "events": [event] }))
        .send()
        .await
        .expect("the office answers");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(version(listed(&office, &admin, &code).await), "3.0.0-rc.1");
}

/// A device token can report clock jumps; times nobody could read back are refused whole with the
/// field named, and the device page's list of jumps still answers with only the good report.
#[tokio::test]
async fn a_clock_jump_report_with_absurd_times_is_refused_and_the_list_still_reads() {
    let office = TestOffice::start().await;
    let admin = office.staff_token("admin").await;
    let phone = office.key_device("tech_a", PASSWORD).await;
    let now = Utc::now();
    let jump = |before: DateTime<Utc>| {
        json!({"id": Uuid::now_v7(), "wall_before": before, "wall_after": now,
               "jump_ms": 3_600_000, "rebooted": false})
    };
    let far = DateTime::<Utc>::MAX_UTC;
    let (status, body) = office
        .post_json(
            "/api/v1/sync/clock-jumps",
            Some(phone.token()),
            &json!({"jumps": [jump(now - chrono::Duration::hours(1)), jump(far)]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "out_of_range", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("jumps[1].wall_before"),
        "the message names the field: {body}"
    );
    let good = jump(now - chrono::Duration::hours(1));
    let (status, body) = office
        .post_json(
            "/api/v1/sync/clock-jumps",
            Some(phone.token()),
            &json!({"jumps": [good.clone()]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, list) = office
        .get_json(&format!("/api/v1/devices/{}/clock-jumps", phone.id), &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<&Value> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|j| &j["id"])
        .collect();
    assert_eq!(
        ids,
        vec![&good["id"]],
        "only the good report was kept: {list}"
    );
}
