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
    "POST /api/v1/auth/sign-out",
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
    "GET /api/v1/checkpoint-codes",
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
    "POST /api/v1/sync/clock-jumps",
    "GET /api/v1/devices/{id}/clock-jumps",
    "GET /api/v1/company",
    "PUT /api/v1/company",
    "GET /api/v1/console/feedback",
    "GET /api/v1/console/feedback.csv",
    "GET /api/v1/reports/monthly.xlsx",
    "GET /api/v1/jobs/{id}/service-record.pdf",
    "GET /api/v1/jobs/{id}/notices/{number}/pdf",
    "GET /api/v1/jobs/{id}/documents",
    "GET /api/v1/kpi",
    "GET /api/v1/kpi/jobs",
    "GET /api/v1/kpi/targets",
    "PUT /api/v1/kpi/targets",
    "GET /api/v1/kpi/violations/{id}",
    "GET /api/v1/console/complaints",
    "POST /api/v1/console/complaints",
    "GET /api/v1/console/complaints/figures",
    "GET /api/v1/console/complaints/{id}",
    "POST /api/v1/console/complaints/{id}/handover",
    "POST /api/v1/console/complaints/{id}/reply",
    "POST /api/v1/console/complaints/{id}/callback",
    "GET /api/v1/console/notices",
    "GET /api/v1/console/notices/{id}",
    "POST /api/v1/console/notices/{id}/reinspector",
    "POST /api/v1/console/notices/{id}/outcome",
    "GET /api/v1/console/patrol-plans",
    "POST /api/v1/console/patrol-plans",
    "PUT /api/v1/console/patrol-plans/{id}",
    "GET /api/v1/console/patrol-grid",
    "GET /api/v1/console/defects",
    "POST /api/v1/console/defects/{id}/repair",
    "POST /api/v1/console/defects/{id}/status",
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
    for scheme in ["staff", "device"] {
        assert_eq!(
            doc["components"]["securitySchemes"][scheme]["scheme"], "bearer",
            "the {scheme} token is a bearer token"
        );
    }

    let sha = "ab".repeat(32);
    let id = uuid::Uuid::nil().to_string();
    for op in OPERATIONS {
        let (method, path) = op.split_once(' ').expect("METHOD path");
        let url = format!(
            "{}{}",
            running.url(),
            path.replace("{sha256}", &sha)
                .replace("{id}", &id)
                .replace("{number}", "N-1")
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

/// The operations that need no token: a device or a person signing in.
const PUBLIC: &[&str] = &[
    "POST /api/v1/auth/challenge",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/staff-login",
    "POST /api/v1/auth/refresh",
    // The device key's signature is the proof: a phone signed out offline has no token left.
    "POST /api/v1/auth/sign-out",
];

/// `schema` with its `$ref` followed (components only).
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a local schema reference: {r}"));
            let found = &doc["components"]["schemas"][name];
            assert!(found.is_object(), "{r} is defined");
            found
        }
        None => schema,
    }
}

/// Every place under `schema` that is an `object` saying nothing about its fields.
fn bare_objects(
    doc: &Value,
    schema: &Value,
    at: String,
    seen: &mut BTreeSet<String>,
    out: &mut Vec<String>,
) {
    if let Some(r) = schema["$ref"].as_str()
        && !seen.insert(r.to_owned())
    {
        return;
    }
    let s = resolve(doc, schema);
    let says_nothing = [
        "properties",
        "additionalProperties",
        "allOf",
        "oneOf",
        "anyOf",
    ]
    .iter()
    .all(|k| s.get(*k).is_none());
    let is_object = s["type"] == "object"
        || s["type"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "object"));
    if is_object && says_nothing {
        out.push(at.clone());
    }
    if let Some(props) = s["properties"].as_object() {
        for (name, p) in props {
            bare_objects(doc, p, format!("{at}.{name}"), seen, out);
        }
    }
    for k in ["allOf", "oneOf", "anyOf"] {
        for (i, p) in s[k].as_array().into_iter().flatten().enumerate() {
            bare_objects(doc, p, format!("{at}/{k}[{i}]"), seen, out);
        }
    }
    if s.get("items").is_some() {
        bare_objects(doc, &s["items"], format!("{at}[]"), seen, out);
    }
}

#[tokio::test]
async fn the_served_document_describes_every_request_body_and_each_operations_token() {
    let running = TestOffice::start_with(Seed::Nothing, |_| {}).await;
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", running.url()))
        .await
        .expect("fetch the document")
        .json()
        .await
        .expect("the document is JSON");
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let mut bare = Vec::new();
    let mut bodies = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            let Some(op) = item.get(*m).filter(|o| o.is_object()) else {
                continue;
            };
            let name = format!("{} {path}", m.to_uppercase());
            // Security: none for signing in (an empty list, not an optional token), a named
            // scheme for everything else.
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} says what token it needs"));
            if PUBLIC.contains(&name.as_str()) {
                assert!(security.is_empty(), "{name} needs no token: {security:?}");
            } else {
                assert!(!security.is_empty(), "{name} names its token");
                for req in security {
                    let req = req.as_object().expect("a requirement");
                    assert!(
                        !req.is_empty() && req.keys().all(|k| schemes.contains_key(k)),
                        "{name}: {req:?} names a defined scheme"
                    );
                }
            }
            // Request bodies: described, never a bare `object`.
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for (media, c) in content {
                    bodies += 1;
                    let mut seen = BTreeSet::new();
                    bare_objects(
                        &doc,
                        &c["schema"],
                        format!("{name} {media}"),
                        &mut seen,
                        &mut bare,
                    );
                }
            }
        }
    }
    assert!(
        bodies >= 15,
        "the document has its request bodies ({bodies})"
    );
    assert!(
        bare.is_empty(),
        "request bodies described as bare objects: {bare:#?}"
    );
    assert_eq!(
        doc["paths"]["/api/v1/sync/push"]["post"]["security"],
        serde_json::json!([{"device": []}]),
        "only a device pushes"
    );
    assert_eq!(
        doc["paths"]["/api/v1/users"]["post"]["security"],
        serde_json::json!([{"staff": []}]),
        "staff operations need a staff token"
    );
    // The push body reaches the event: hash, signature, chain link.
    let push = resolve(
        &doc,
        &doc["paths"]["/api/v1/sync/push"]["post"]["requestBody"]["content"]["application/json"]["schema"],
    );
    let event = resolve(&doc, &push["properties"]["events"]["items"]);
    let text = serde_json::to_string(event).expect("json");
    for field in ["sig", "hash"] {
        assert!(
            text.contains(field),
            "an event's {field} is described: {text}"
        );
    }
}
