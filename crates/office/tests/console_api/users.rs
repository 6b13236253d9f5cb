//! Accounts from the console: a new password and a deactivation end every session of the user at
//! once; a deactivated user cannot sign in; only admins change accounts; and a technician's token
//! gets 403 on every console endpoint.

use super::*;
use std::collections::BTreeSet;

#[tokio::test]
async fn deactivation_ends_the_users_sessions_and_sign_in_until_reactivated() {
    let o = TestOffice::start().await;
    let admin = o.staff_token("admin").await;
    let dispatch = o.staff_token("dispatch").await;
    let tech = o.user_id("tech_a");
    let dev = o.device("tech_a").await;
    let pull = |token: String| {
        let o = &o;
        async move { o.get_json("/api/v1/sync/pull?cursor=0", &token).await }
    };
    assert_eq!(
        pull(dev.login.access_token.clone()).await.0,
        StatusCode::OK,
        "the device pulls"
    );

    let (status, body) = o
        .post_json(
            &format!("/api/v1/users/{tech}/deactivate"),
            Some(&dispatch),
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "a dispatcher cannot deactivate anyone"
    );
    let (status, body) = o
        .post_json(
            &format!("/api/v1/users/{tech}/deactivate"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "an admin deactivates: {body}");
    assert_eq!(body["revoked"], 1, "the device's session ended");
    let (status, body) = pull(dev.login.access_token.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_revoked")),
        "the phone is signed out at once: {body}"
    );
    let (status, body) = o
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": dev.login.refresh_token}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "and cannot refresh: {body}"
    );
    let (status, body) = o.staff_login("tech_a", PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("user_deactivated")),
        "the right password meets a clear refusal: {body}"
    );
    let (status, body) = o.staff_login("tech_a", "wrong password").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials")),
        "a wrong one learns nothing about the account"
    );
    let (_, users) = o.get_json("/api/v1/console/users", &dispatch).await;
    let listed = users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["id"] == json!(tech))
        .expect("still listed");
    assert_eq!(listed["active"], false, "listed as deactivated: {listed}");
    assert_eq!(listed["display_name"], "张伟", "with their name");
    let (_, board) = o.get_json("/api/v1/console/board", &dispatch).await;
    assert!(
        board["field_users"]
            .as_array()
            .expect("lanes")
            .iter()
            .all(|u| u["id"] != json!(tech)),
        "no lane for a deactivated user"
    );

    let (status, body) = o
        .post_json(
            &format!("/api/v1/users/{tech}/activate"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "reactivate: {body}");
    o.device("tech_a").await;

    let me = o.user_id("admin");
    let (status, body) = o
        .post_json(
            &format!("/api/v1/users/{me}/deactivate"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("cannot_deactivate_self")
        ),
        "the last admin cannot lock everyone out by accident"
    );
    let (status, body) = o
        .post_json(
            &format!("/api/v1/users/{}/deactivate", Uuid::now_v7()),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_user"))
    );
}

#[tokio::test]
async fn a_new_password_replaces_the_old_one_and_ends_every_session() {
    let o = TestOffice::start().await;
    let admin = o.staff_token("admin").await;
    let dispatch = o.staff_token("dispatch").await;
    let id = o.user_id("dispatch");
    let reset = |password: &'static str| {
        let (o, admin) = (&o, admin.clone());
        async move {
            o.post_json(
                &format!("/api/v1/users/{id}/password"),
                Some(&admin),
                &json!({"password": password}),
            )
            .await
        }
    };
    let (status, body) = reset("short").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("weak_password"))
    );
    let (status, body) = reset("a much better passphrase").await;
    assert_eq!(status, StatusCode::OK, "reset: {body}");
    assert_eq!(
        body["revoked"], 1,
        "the dispatcher's open console session ended"
    );
    let (status, _) = o.get_json("/api/v1/console/board", &dispatch).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old session is gone");
    let (status, _) = o.staff_login("dispatch", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old password is refused"
    );
    let (status, body) = o.staff_login("dispatch", "a much better passphrase").await;
    assert_eq!(status, StatusCode::OK, "the new one works: {body}");
    let (status, body) = o
        .post_json(
            &format!("/api/v1/users/{id}/password"),
            Some(body["access_token"].as_str().expect("token")),
            &json!({"password": "dispatcher's own choice"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "only an admin sets passwords"
    );
}

/// Every console endpoint, as the refusal loop calls it (`{id}` filled in).
const CONSOLE_ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/api/v1/console/board"),
    ("GET", "/api/v1/console/jobs/{id}"),
    ("POST", "/api/v1/console/jobs/{id}/accept"),
    ("GET", "/api/v1/console/customers?phone=13800138000"),
    ("GET", "/api/v1/console/users"),
    ("GET", "/api/v1/jobs/{id}/bundle"),
    ("POST", "/api/v1/users/{id}/password"),
    ("POST", "/api/v1/users/{id}/deactivate"),
    ("POST", "/api/v1/users/{id}/activate"),
    ("GET", "/api/v1/live"),
    ("GET", "/api/v1/console/alerts"),
    ("POST", "/api/v1/console/alerts/{id}/ack"),
    ("GET", "/api/v1/console/audit"),
    ("GET", "/api/v1/console/complaints"),
    ("POST", "/api/v1/console/complaints"),
    ("GET", "/api/v1/console/complaints/figures"),
    ("GET", "/api/v1/console/complaints/{id}"),
    ("POST", "/api/v1/console/complaints/{id}/handover"),
    ("POST", "/api/v1/console/complaints/{id}/reply"),
    ("POST", "/api/v1/console/complaints/{id}/callback"),
    ("GET", "/api/v1/console/notices"),
    ("GET", "/api/v1/console/notices/{id}"),
    ("POST", "/api/v1/console/notices/{id}/outcome"),
    ("POST", "/api/v1/console/notices/{id}/reinspector"),
    ("GET", "/api/v1/console/patrol-grid"),
    ("GET", "/api/v1/console/patrol-plans"),
    ("POST", "/api/v1/console/patrol-plans"),
    ("PUT", "/api/v1/console/patrol-plans/{id}"),
    ("GET", "/api/v1/console/defects"),
    ("POST", "/api/v1/console/defects/{id}/repair"),
    ("POST", "/api/v1/console/defects/{id}/status"),
];

#[tokio::test]
async fn a_technicians_token_gets_403_on_every_console_endpoint() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let job = job_id(
        &o.create_job(
            &staff,
            json!({"fault": "暖气不热", "assignee": o.user_id("tech_a"),
                   "customer": {"name": "王秀英", "phone": "13800138000", "address": "幸福里"}}),
        )
        .await,
    );
    // The loop covers every operation the office documents under the `console` tag.
    let doc: Value = o
        .http
        .get(o.url("/api/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    let tagged: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("operations")
                .iter()
                .filter(|(_, op)| {
                    op["tags"]
                        .as_array()
                        .is_some_and(|t| t.contains(&json!("console")))
                })
                .map(move |(method, _)| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    let covered: BTreeSet<String> = CONSOLE_ENDPOINTS
        .iter()
        .map(|(m, p)| format!("{m} {}", p.split('?').next().unwrap_or(p)))
        .collect();
    assert!(
        tagged.is_subset(&covered),
        "every console operation is in the refusal loop: missing {:?}",
        tagged.difference(&covered).collect::<Vec<_>>()
    );

    let dev = o.device("tech_a").await;
    let target = o.user_id("tech_b");
    for (method, path) in CONSOLE_ENDPOINTS {
        let id = if path.starts_with("/api/v1/users/") {
            target
        } else {
            job
        };
        let url = o.url(&path.replace("{id}", &id.to_string()));
        let req = match *method {
            "GET" => o.http.get(url),
            "PUT" => o.http.put(url).json(&json!({"password": "whatever it is"})),
            _ => o
                .http
                .post(url)
                .json(&json!({"password": "whatever it is"})),
        };
        let resp = req
            .bearer_auth(&dev.login.access_token)
            .send()
            .await
            .expect("request");
        assert_eq!(
            resp.status(),
            StatusCode::FORBIDDEN,
            "{method} {path} refuses a technician's token"
        );
        let body: Value = resp.json().await.expect("a JSON error");
        assert_eq!(body["code"], "forbidden", "{method} {path}: {body}");
    }
    // And nothing changed: the colleague is active and signs in with the same password.
    assert!(
        o.store().inactive_users().expect("read").is_empty(),
        "nobody was deactivated"
    );
    o.device("tech_b").await;
}

/// The console's user form refuses a blank name, a username with a space and a password under 8
/// characters (console/src/lib/forms/validate.ts); the API refuses the same, each with its
/// `{code, message}`, and creates nothing.
#[tokio::test]
async fn the_api_refuses_what_the_user_form_refuses_and_creates_nothing() {
    let o = TestOffice::start().await;
    let admin = o.staff_token("admin").await;
    let good = json!({"username": "wang_w", "password": "long enough pass",
                      "role": "repair_technician", "display_name": "王伟", "badge_no": "W031"});
    let with = |key: &str, value: &str| {
        let mut b = good.clone();
        b[key] = json!(value);
        b
    };
    for (body, code, says) in [
        (with("display_name", "  "), "bad_request", "name"),
        (with("username", ""), "bad_username", "username"),
        (with("username", "wang w"), "bad_username", "username"),
        (with("password", "short"), "weak_password", "8 characters"),
        (
            with("password", "七个字的密码吗"),
            "weak_password",
            "8 characters",
        ),
    ] {
        let (status, resp) = o.post_json("/api/v1/users", Some(&admin), &body).await;
        assert_eq!(
            (status, resp["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body} is refused: {resp}"
        );
        assert!(
            resp["message"].as_str().is_some_and(|m| m.contains(says)),
            "the message says what is wrong: {resp}"
        );
    }
    let (_, users) = o.get_json("/api/v1/console/users", &admin).await;
    assert!(
        !users.to_string().contains("wang"),
        "nothing was created: {users}"
    );
    // Eight characters, counted as characters (the form counts the same way), and a name with
    // spaces around it: accepted, the name trimmed.
    let (status, user) = o
        .post_json(
            "/api/v1/users",
            Some(&admin),
            &with("password", "八个字的密码好了"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "accepted: {user}");
    let (status, user) = o
        .post_json(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "li_n", "password": "long enough pass", "role": "dispatcher",
                    "display_name": " 李娜 ", "badge_no": " D009 "}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "accepted: {user}");
    assert_eq!(
        (user["display_name"].as_str(), user["badge_no"].as_str()),
        (Some("李娜"), Some("D009")),
        "stored trimmed, as the form sends it"
    );
}
