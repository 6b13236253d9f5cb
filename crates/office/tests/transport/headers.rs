//! The security headers on every kind of answer: JSON, errors from the router and its layers,
//! tokens, the console's pages and files, over plain HTTP (no HSTS; that is the TLS tests').

use ed25519_dalek::{Signer, SigningKey};
use heatcrew_office::api::headers::{API_CSP, CONSOLE_CSP};
use heatcrew_testkit::{PASSWORD, TestOffice};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// A request (method, path, token, JSON body) and the class of status it gets.
type Case<'a> = (Method, &'a str, Option<&'a str>, Option<Value>, StatusCode);

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// What every answer carries, whatever it is.
fn assert_secure(what: &str, h: &HeaderMap) {
    assert_eq!(
        header(h, "x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(header(h, "referrer-policy"), Some("no-referrer"), "{what}");
    assert_eq!(header(h, "x-frame-options"), Some("DENY"), "{what}");
    let csp = header(h, "content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{what}: never framed: {csp:?}"
    );
    assert!(
        !h.contains_key("strict-transport-security"),
        "{what}: no HSTS over plain HTTP"
    );
}

async fn send(
    o: &TestOffice,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = o.http.request(method, o.endpoint(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("the office answers");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_api_answers_are_not_stored() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch", PASSWORD).await;
    let cases: Vec<Case> = vec![
        (Method::GET, "/healthz", None, None, StatusCode::OK),
        (Method::GET, "/readyz", None, None, StatusCode::OK),
        (Method::GET, "/api/openapi.json", None, None, StatusCode::OK),
        (
            Method::GET,
            "/api/v1/jobs",
            Some(&staff),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/reports/summary",
            Some(&staff),
            None,
            StatusCode::OK,
        ),
        // Errors of the handlers, the router and the layers.
        (
            Method::GET,
            "/api/v1/jobs",
            None,
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::GET,
            "/api/v1/no-such-thing",
            None,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::PUT,
            "/api/v1/jobs",
            Some(&staff),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::POST,
            "/api/v1/jobs",
            Some(&staff),
            Some(json!({"kind": 7})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (method, path, token, body, want) in cases {
        let what = format!("{method} {path}");
        let (status, h, _) = send(&o, method, path, token, body).await;
        assert_eq!(
            status.as_u16() / 100,
            want.as_u16() / 100,
            "{what}: {status}"
        );
        assert_secure(&what, &h);
        assert_eq!(
            header(&h, "content-security-policy"),
            Some(API_CSP),
            "{what}: an API answer loads and runs nothing"
        );
        assert_eq!(
            header(&h, "cache-control"),
            Some("no-store"),
            "{what}: JSON is not kept in caches"
        );
    }
}

#[tokio::test]
async fn token_answers_are_never_stored() {
    let o = TestOffice::start().await;
    let no_store = |what: &str, h: &HeaderMap| {
        assert_eq!(header(h, "cache-control"), Some("no-store"), "{what}");
        assert_secure(what, h);
    };
    // Staff sign-in, and a wrong password.
    let (status, h, login) = send(
        &o,
        Method::POST,
        "/api/v1/auth/staff-login",
        None,
        Some(json!({"username": "dispatch", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    no_store("staff-login", &h);
    let (status, h, _) = send(
        &o,
        Method::POST,
        "/api/v1/auth/staff-login",
        None,
        Some(json!({"username": "dispatch", "password": "wrong guess"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    no_store("a refused staff-login", &h);

    // A device: challenge, login with the signed challenge, refresh, revoke.
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let id = Uuid::now_v7();
    let (status, h, c) = send(
        &o,
        Method::POST,
        "/api/v1/auth/challenge",
        None,
        Some(json!({"device_id": id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    no_store("challenge", &h);
    let mut challenge = [0u8; 32];
    hex::decode_to_slice(c["challenge"].as_str().expect("challenge"), &mut challenge).expect("hex");
    let head = heatcrew_protocol::ChainTip::START;
    let message = heatcrew_protocol::log::enrolment_message(
        &challenge,
        id,
        &key.verifying_key(),
        "tech_a",
        &head,
    );
    let (status, h, device) = send(
        &o,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(
            json!({"username": "tech_a", "password": PASSWORD, "device_id": id,
            "device_public_key": hex::encode(key.verifying_key().as_bytes()),
            "challenge": c["challenge"], "proof": hex::encode(key.sign(&message).to_bytes()),
            "chain_head": head}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{device}");
    no_store("login", &h);
    let (status, h, refreshed) = send(
        &o,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": device["refresh_token"], "device_id": id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    no_store("refresh", &h);
    for token in [&refreshed["access_token"], &login["access_token"]] {
        let (status, h, _) = send(
            &o,
            Method::POST,
            "/api/v1/auth/revoke",
            token.as_str(),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        no_store("revoke (no body)", &h);
    }
}

#[tokio::test]
async fn console_pages_have_their_own_strict_policy() {
    if !heatcrew_office::console::is_built() {
        eprintln!("console/dist is not built: only the not-built page is checked");
    }
    let o = TestOffice::start().await;
    for path in ["/", "/jobs/1234", "/users"] {
        let resp = o.http.get(o.endpoint(path)).send().await.expect("page");
        let h = resp.headers().clone();
        assert_secure(path, &h);
        let csp = header(&h, "content-security-policy").unwrap_or_default();
        assert_eq!(csp, CONSOLE_CSP, "{path}: the console's policy");
        for part in ["script-src 'self'", "object-src 'none'", "base-uri 'none'"] {
            assert!(csp.contains(part), "{path}: {part}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}: no inline script or eval"
        );
    }
    // The not-built page's stylesheet comes from the office itself, which that policy allows
    // (inline styles it refuses).
    let css = o
        .http
        .get(o.endpoint("/not-built.css"))
        .send()
        .await
        .expect("stylesheet");
    assert_eq!(css.status(), StatusCode::OK, "/not-built.css");
    assert_secure("/not-built.css", css.headers());
    assert_eq!(
        header(css.headers(), "content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        header(css.headers(), "content-security-policy"),
        Some(CONSOLE_CSP)
    );
    // The console's own files keep their caching (hashed assets for a year).
    let index = o
        .http
        .get(o.endpoint("/"))
        .send()
        .await
        .expect("index")
        .text()
        .await
        .expect("html");
    if let Some(at) = index.find("/assets/") {
        let end = index[at..].find('"').expect("quoted asset");
        let asset = &index[at..at + end];
        let resp = o.http.get(o.endpoint(asset)).send().await.expect("asset");
        assert_eq!(resp.status(), StatusCode::OK, "{asset}");
        assert_secure(asset, resp.headers());
        assert!(
            header(resp.headers(), "cache-control").is_some_and(|c| c.contains("immutable")),
            "{asset}: hashed files stay cacheable"
        );
    }
}
