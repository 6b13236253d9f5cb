//! Malformed and oversized requests get a code, and the server keeps serving.

use super::*;

#[tokio::test]
async fn malformed_and_oversized_requests_get_a_code_and_the_server_keeps_serving() {
    let o = TestOffice::start().await;
    let dev = o.device("tech_a").await;
    let resp = o
        .http
        .post(o.endpoint("/api/v1/sync/push"))
        .bearer_auth(&dev.login.access_token)
        .header("content-type", "application/json")
        .body("{\"events\": [")
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "malformed JSON is a 400"
    );
    assert!(
        resp.headers().contains_key(PROTOCOL_HEADER)
            && resp.headers().contains_key(SERVER_TIME_HEADER),
        "errors carry the protocol and time headers too"
    );
    let body: Value = resp.json().await.expect("json error");
    assert_eq!(
        body["code"], "bad_json",
        "with a code the device can branch on"
    );

    let huge = vec![b' '; 6 * 1024 * 1024];
    let resp = o
        .http
        .post(o.endpoint("/api/v1/sync/push"))
        .bearer_auth(&dev.login.access_token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(
            resp.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "an oversized body is a 413"
        );
        let body: Value = resp.json().await.expect("json error");
        assert_eq!(body["code"], "too_large", "with a code");
    } // else: the server may close the connection while the client still sends; it must keep serving.

    let (status, body) = o
        .get_json("/api/v1/nothing-here", &dev.login.access_token)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "unknown routes answer in the same error shape"
    );
    let resp = o
        .http
        .delete(o.endpoint("/api/v1/sync/push"))
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "a wrong method is a 405"
    );
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "method_not_allowed",
        "with a code"
    );
    let (status, body) = o
        .post_json("/api/v1/auth/login", None, &json!({"username": "tech_a"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_json")),
        "missing fields are bad JSON, not a crash"
    );

    o.pull(&dev.login.access_token, 0).await;
    let resp = o
        .http
        .get(o.endpoint("/api/openapi.json"))
        .send()
        .await
        .expect("openapi");
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the server still serves after all that"
    );
    let doc: Value = resp.json().await.expect("openapi json");
    assert!(
        doc["paths"]["/api/v1/sync/push"]["post"].is_object(),
        "the OpenAPI document describes push"
    );
    assert!(
        doc["components"]["schemas"]["ErrorBody"].is_object(),
        "and the error shape"
    );
}
