//! User and device administration in the console, in headless Chromium against the real office
//! (heatcrew-testkit's `TestOffice`: admin, dispatcher and two technicians): the admin's form
//! refuses a blank and a bad account in Chinese and in English, then creates a field account (its
//! phone can sign in) and a staff account (the console can); a new password ends the user's open
//! session; a deactivated technician's phone is refused at once; a revoked phone is signed out; and
//! a dispatcher sees the lists without any of these controls, the API refusing them with 403.
//!
//! Needs `console/dist` and Debian's `chromium` and `chromium-driver` (as `console_e2e.rs`); skips
//! saying why when they are missing, unless `HEATCREW_E2E_REQUIRED=1` or
//! `HEATCREW_CONSOLE_E2E_REQUIRED=1` (`./dev test`). `HEATCREW_SCREENSHOTS=docs/screenshots` saves
//! `console-users.png` and `console-devices.png`.

use anyhow::Context;
use heatcrew_system_tests::browser::{self, Browser, ChromiumParts};
use heatcrew_testkit::{PASSWORD, TestOffice, staff_token_at};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

const TZ: &str = "Asia/Shanghai";

#[test]
fn an_admin_manages_accounts_and_phones_and_a_dispatcher_cannot() {
    let Some(parts) = ChromiumParts::find() else {
        return;
    };
    if !browser::console_built("console admin e2e") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(admin_scenario(parts))
        .expect("the user administration scenario");
}

/// The text of the field error beside the input with this `data-testid` ('' when none).
fn field_error(testid: &str) -> String {
    format!(
        "const e = document.querySelector('label:has([data-testid=\"{testid}\"]) .field-error'); return e ? e.innerText : '';"
    )
}

/// `true` when no element has this `data-testid`.
fn absent(testid: &str) -> String {
    format!("return document.querySelectorAll('[data-testid=\"{testid}\"]').length === 0;")
}

/// The row of the user named `name` in the users table: its `data-user-id`.
fn row_of(name: &str) -> String {
    format!(
        "const r = [...document.querySelectorAll('[data-testid=\"user-row\"]')].find(r => r.cells[0].innerText === '{name}'); return r ? r.dataset.userId : null;"
    )
}

async fn admin_scenario(parts: ChromiumParts) -> anyhow::Result<()> {
    let o = TestOffice::start().await;
    let url = o.url();
    let status_of = |path: &str, token: &str| {
        let (o, path, token) = (&o, path.to_owned(), token.to_owned());
        async move { o.get_json(&path, &token).await }
    };
    // Two phones in the field: tech_a's (its user is deactivated below) and tech_b's (revoked).
    let phone_a = o.key_device("tech_a", PASSWORD).await;
    let phone_b = o.key_device("tech_b", PASSWORD).await;
    let pull = "/api/v1/sync/pull?cursor=0";
    assert_eq!(status_of(pull, phone_a.token()).await.0, StatusCode::OK);

    let dir = tempfile::tempdir()?;
    let browser = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", TZ).await?;
    let b = &browser;
    let sign_in = |user: &'static str| async move {
        b.fill("console-login-user", user).await?;
        b.fill("console-login-password", PASSWORD).await?;
        b.click("console-login-submit").await?;
        // Signed in: the bar with "sign out" (the page is the one the address names).
        b.el("sign-out").await?;
        anyhow::Ok(())
    };
    b.client.goto(&url).await?;
    sign_in("admin").await?;
    b.client.goto(&format!("{url}/users")).await?;
    b.el("users-table").await?;

    // The form refuses before the office would: an empty form, then a username with a space and a
    // short password, in Chinese; the same refusals read in English after the language switch.
    b.click("user-submit").await?;
    b.until(
        "the empty form is refused in Chinese",
        &format!(
            "return ({})() === '此项必填';",
            wrap(&field_error("user-name"))
        ),
    )
    .await?;
    b.fill("user-name", "王伟").await?;
    b.fill("user-username", "wang w").await?;
    b.fill("user-password", "short").await?;
    b.click("user-submit").await?;
    b.until(
        "the bad username is refused in Chinese",
        &format!(
            "return ({})().includes('不含空格');",
            wrap(&field_error("user-username"))
        ),
    )
    .await?;
    b.click("lang-switch").await?;
    b.until(
        "the same refusals in English",
        &format!(
            "return ({})().includes('without spaces') && ({})().includes('8 characters');",
            wrap(&field_error("user-username")),
            wrap(&field_error("user-password"))
        ),
    )
    .await?;
    b.click("lang-switch").await?;
    let (_, listed) = o
        .get_json(
            "/api/v1/console/users",
            &o.staff_token("admin", PASSWORD).await,
        )
        .await;
    assert!(
        !listed.to_string().contains("wang"),
        "nothing was sent while the form was wrong"
    );

    // A field account: created, listed, and its phone signs in.
    b.fill("user-username", "wang_w").await?;
    b.fill("user-password", "field pass 31").await?;
    b.el("user-role")
        .await?
        .select_by_value("repair_technician")
        .await?;
    b.fill("user-badge", "W031").await?;
    b.click("user-submit").await?;
    b.el("user-created").await?;
    b.until(
        "the new technician is listed",
        &format!("return !!({})();", wrap(&row_of("王伟"))),
    )
    .await?;
    let wang = o.key_device("wang_w", "field pass 31").await;
    assert_eq!(
        status_of(pull, wang.token()).await.0,
        StatusCode::OK,
        "the new field account's phone signs in and pulls"
    );

    // A staff account: created, and the console signs it in.
    b.fill("user-name", "赵敏").await?;
    b.fill("user-username", "zhao_m").await?;
    b.fill("user-password", "staff pass 09").await?;
    b.el("user-role")
        .await?
        .select_by_value("dispatcher")
        .await?;
    b.fill("user-badge", "D009").await?;
    b.click("user-submit").await?;
    b.until(
        "the new dispatcher is listed",
        &format!("return !!({})();", wrap(&row_of("赵敏"))),
    )
    .await?;
    let zhao_session = staff_token_at(&url, "zhao_m", "staff pass 09").await;
    let board = "/api/v1/console/board";
    assert_eq!(status_of(board, &zhao_session).await.0, StatusCode::OK);

    // A new password for her: her open session ends at once, the old password no longer works.
    let zhao = b
        .js(&row_of("赵敏"))
        .await?
        .as_str()
        .context("her row")?
        .to_owned();
    let in_row = |testid: &str| format!("[data-user-id=\"{zhao}\"] [data-testid=\"{testid}\"]");
    b.click_css(&in_row("user-reset-password")).await?;
    b.el("user-new-password")
        .await?
        .send_keys("1234567")
        .await?;
    b.click_css(&in_row("user-password-save")).await?;
    b.until(
        "a short new password is refused",
        &format!("return !!document.querySelector('[data-user-id=\"{zhao}\"] .field-error');"),
    )
    .await?;
    b.fill("user-new-password", "a new pass 2026").await?;
    b.click_css(&in_row("user-password-save")).await?;
    b.until(
        "the reset is confirmed with the sessions it ended",
        "const n = document.querySelector('[data-testid=\"user-notice\"]'); return !!n && n.innerText.includes('赵敏') && n.innerText.includes('1');",
    )
    .await?;
    let (status, body) = status_of(board, &zhao_session).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "her old session ended: {body}"
    );
    let (status, _) = o
        .post_json(
            "/api/v1/auth/staff-login",
            None,
            &json!({"username": "zhao_m", "password": "staff pass 09"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old password is refused"
    );
    staff_token_at(&url, "zhao_m", "a new pass 2026").await;

    // Deactivate 张伟 (tech_a): his phone's token is refused at once.
    let zhang = o.user_id("tech_a");
    b.click_css(&format!(
        "[data-user-id=\"{zhang}\"] [data-testid=\"user-deactivate\"]"
    ))
    .await?;
    b.until(
        "his row shows him deactivated",
        &format!("return document.querySelector('[data-user-id=\"{zhang}\"]').dataset.active === 'false';"),
    )
    .await?;
    let (status, body) = status_of(pull, phone_a.token()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_revoked")),
        "the deactivated technician's phone is refused at once: {body}"
    );
    b.shot("console-users").await?;

    // Revoke 李娜's (tech_b) phone: signed out, its records stay.
    b.client.goto(&format!("{url}/devices")).await?;
    b.el("devices-table").await?;
    // Its row shows when it last synced (its sign-in) and its version: the kit's client names
    // none, so "unknown" (the real core's is in console_api's devices tests).
    let cell = |id: &str| {
        format!(
            "return document.querySelector('[data-device-id=\"{}\"] [data-testid=\"{id}\"]').innerText;",
            phone_b.id
        )
    };
    let version = b
        .client
        .execute(&cell("device-app-version"), vec![])
        .await?;
    assert_eq!(version.as_str(), Some("unknown"), "the phone's app version");
    let synced = b.client.execute(&cell("device-last-sync"), vec![]).await?;
    assert!(
        synced
            .as_str()
            .is_some_and(|t| t.chars().any(|c| c.is_ascii_digit())),
        "the phone's last sync time: {synced}"
    );
    let revoke = format!(
        "[data-device-id=\"{}\"] [data-testid=\"device-revoke\"]",
        phone_b.id
    );
    b.click_css(&revoke).await?;
    b.client.accept_alert().await?;
    b.until(
        "the revocation is confirmed",
        "const n = document.querySelector('[data-testid=\"device-note\"]'); return !!n && n.innerText.includes('1');",
    )
    .await?;
    let (status, body) = status_of(pull, phone_b.token()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_revoked")),
        "the revoked phone is signed out: {body}"
    );
    b.shot("console-devices").await?;

    // The audit page shows what the dispatcher did with a work order, each kind by its label.
    let dispatch = o.staff_token("dispatch", PASSWORD).await;
    let job = Uuid::now_v7();
    let order = json!({"id": job, "fault": "暖气不热",
        "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼2单元501室"}});
    let (status, body) = o.post_json("/api/v1/jobs", Some(&dispatch), &order).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = o
        .post_json(
            &format!("/api/v1/jobs/{job}/cancel"),
            Some(&dispatch),
            &json!({"reason": "客户来电：已自行修好"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    b.client.goto(&format!("{url}/audit")).await?;
    b.until(
        "the cancelled job's entry, under its label",
        "const row = document.querySelector('[data-testid=\"audit-row\"][data-kind=\"job_cancelled\"]'); \
         return !!row && (row.textContent.includes('取消工单') || row.textContent.includes('Job cancelled')) \
           && row.textContent.includes('已自行修好') && !row.textContent.includes('audit.kind');",
    )
    .await?;
    b.shot("console-audit").await?;
    // From the job's page, its whole trail: the audit page filtered to this job alone.
    b.client.goto(&format!("{url}/jobs/{job}")).await?;
    b.click("job-audit-link").await?;
    b.until(
        "the job's own entries only",
        &format!(
            "const rows = [...document.querySelectorAll('[data-testid=\"audit-row\"]')]; \
             return document.querySelector('[data-testid=\"audit-subject\"]').value === '{job}' \
               && rows.length === 2 && rows.map(r => r.dataset.kind).join() === 'job_cancelled,job_created';"
        ),
    )
    .await?;

    // The dispatcher sees the lists, none of the controls; the office refuses them anyway.
    b.click("sign-out").await?;
    sign_in("dispatch").await?;
    b.client.goto(&format!("{url}/users")).await?;
    b.el("users-table").await?;
    b.el("users-admin-only").await?;
    for testid in [
        "user-form",
        "user-reset-password",
        "user-deactivate",
        "user-activate",
    ] {
        assert!(
            b.js(&absent(testid)).await?.as_bool() == Some(true),
            "a dispatcher has no {testid}"
        );
    }
    b.client.goto(&format!("{url}/devices")).await?;
    b.el("devices-table").await?;
    assert!(
        b.js(&absent("device-revoke")).await?.as_bool() == Some(true),
        "a dispatcher has no revoke button"
    );
    for (path, body) in [
        (
            "/api/v1/users".to_owned(),
            json!({"username": "x_y", "password": "long enough", "role": "admin", "display_name": "某人"}),
        ),
        (
            format!("/api/v1/users/{zhao}/password"),
            json!({"password": "long enough"}),
        ),
        (format!("/api/v1/users/{zhang}/activate"), json!({})),
        (format!("/api/v1/devices/{}/revoke", wang.id), json!({})),
    ] {
        let (status, resp) = o.post_json(&path, Some(&dispatch), &body).await;
        assert_eq!(
            (status, resp["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "a dispatcher is refused {path}: {resp}"
        );
    }
    browser.quit().await;
    Ok(())
}

/// A `return …;` script as a function expression, so two checks can share one script.
fn wrap(script: &str) -> String {
    format!("() => {{ {script} }}")
}
