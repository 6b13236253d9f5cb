//! The OpenAPI document against the routes actually served: every operation the office serves is
//! documented, and every documented operation is served. Each API module registers a route and its
//! OpenAPI path in one `routes!` call; this catches a route added another way (listed here but
//! missing from the document) and a document entry without a route (answered as an unknown
//! endpoint).

use heatcrew_testkit::{Seed, TestOffice};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every operation of the office API, as `METHOD path`.
const OPERATIONS: &[&str] = &[
    "POST /api/v1/auth/challenge",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/staff-login",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/revoke",
    "POST /api/v1/sync/push",
    "GET /api/v1/sync/pull",
    "POST /api/v1/attachments",
    "HEAD /api/v1/attachments/{sha256}",
    "PATCH /api/v1/attachments/{sha256}",
    "GET /api/v1/attachments/{sha256}",
    "GET /api/v1/jobs",
    "POST /api/v1/jobs",
    "GET /api/v1/jobs/{id}",
    "POST /api/v1/jobs/{id}/assign",
    "POST /api/v1/jobs/{id}/schedule",
    "POST /api/v1/jobs/{id}/cancel",
    "GET /api/v1/routes",
    "POST /api/v1/routes",
    "GET /api/v1/outages",
    "POST /api/v1/outages",
    "POST /api/v1/outages/{id}/clear",
    "GET /api/v1/users",
    "POST /api/v1/users",
    "GET /api/v1/crews",
    "POST /api/v1/crews",
    "GET /api/v1/devices",
    "POST /api/v1/devices/{id}/revoke",
    "GET /api/v1/devices/{id}/events",
    "GET /api/v1/reports/summary",
    "GET /api/v1/live",
    "GET /api/v1/log/tree-head",
    "GET /api/v1/log/inclusion",
    "GET /api/v1/log/consistency",
    "GET /api/v1/devices/{id}/tip",
    "GET /api/v1/export",
    "GET /api/v1/console/board",
    "GET /api/v1/console/jobs/{id}",
    "POST /api/v1/console/jobs/{id}/accept",
    "GET /api/v1/jobs/{id}/bundle",
    "GET /api/v1/console/customers",
    "GET /api/v1/console/users",
    "POST /api/v1/users/{id}/password",
    "POST /api/v1/users/{id}/deactivate",
    "POST /api/v1/users/{id}/activate",
    "POST /api/v1/devices/{id}/move",
    "POST /api/v1/devices/{id}/shared",
    "POST /api/v1/auth/totp/setup",
    "POST /api/v1/auth/totp/confirm",
    "GET /api/v1/console/audit",
    "GET /api/v1/console/alerts",
    "POST /api/v1/console/alerts/{id}/ack",
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn documented(doc: &Value) -> BTreeSet<String> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some_and(Value::is_object))
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect()
}

#[tokio::test]
async fn every_served_operation_is_documented_and_every_documented_one_is_served() {
    let running = TestOffice::start_with(Seed::Nothing, |_| {}).await;
    let http = reqwest::Client::new();

    let doc: Value = http
        .get(format!("{}/api/openapi.json", running.url()))
        .send()
        .await
        .expect("fetch the document")
        .json()
        .await
        .expect("the document is JSON");
    let found = documented(&doc);
    let want: BTreeSet<String> = OPERATIONS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        found.len(),
        OPERATIONS.len(),
        "the office documents {} operations: {found:#?}",
        OPERATIONS.len()
    );
    assert_eq!(
        found, want,
        "the document lists exactly the operations the office serves"
    );
    assert_eq!(
        doc["paths"]["/api/v1/jobs/{id}/assign"]["post"]["tags"][0], "dispatch",
        "operations keep their tag"
    );
    assert!(
        doc["paths"]["/api/v1/sync/push"]["post"]["responses"]["409"].is_object(),
        "push documents its sequence gap"
    );
    assert!(
        doc["components"]["schemas"]["ErrorBody"].is_object(),
        "the error shape is described once"
    );
    assert!(
        doc["components"]["securitySchemes"]["bearer"].is_object(),
        "and the bearer token"
    );

    let sha = "ab".repeat(32);
    let id = uuid::Uuid::nil().to_string();
    for op in OPERATIONS {
        let (method, path) = op.split_once(' ').expect("METHOD path");
        let url = format!(
            "{}{}",
            running.url(),
            path.replace("{sha256}", &sha).replace("{id}", &id)
        );
        let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let resp = http
            .request(method, url)
            .send()
            .await
            .expect("the office answers");
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED
                && !(status == StatusCode::NOT_FOUND
                    && (body.is_null() || body["message"] == "no such endpoint")),
            "{op} is documented, so it must be routed (got {status} {body})"
        );
    }
}
