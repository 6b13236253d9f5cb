//! Security headers on every response, set with tower-http's set-header layers:
//!
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`
//!   on everything.
//! - `Content-Security-Policy`: [`CONSOLE_CSP`] on the console's pages and files (its own scripts,
//!   styles and API only; no inline script, no framing); [`API_CSP`] on everything else, so an
//!   answer or a file opened directly in a browser runs nothing and cannot be framed.
//! - `Cache-Control: no-store` on every `/api/v1` answer that does not set its own (tokens, job
//!   data, customers' details must not stay in a browser's or proxy's cache) and on every JSON
//!   answer anywhere (errors included).
//! - `Strict-Transport-Security` only when the office itself serves TLS ([`hsts`]); behind a
//!   TLS-terminating reverse proxy the proxy sends it (README, "Security").

use axum::Router;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, Response};
use tower_http::set_header::SetResponseHeaderLayer;

/// The console's policy: everything from the office itself, images also from `data:` (the
/// favicon) and `blob:` (photos fetched with the token), nothing inline, never framed.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Every other answer (JSON, attachments, exports): nothing may load or run, never framed.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

/// One year, subdomains included; sent only over TLS.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

pub const NO_STORE: &str = "no-store";

/// `no-store` for any answer of `router` that set no `Cache-Control` of its own: applied to the
/// `/api/v1` routes.
pub fn no_store<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(SetResponseHeaderLayer::if_not_present(
        CACHE_CONTROL,
        HeaderValue::from_static(NO_STORE),
    ))
}

/// Picks a header value from a response (what the closure-driven layers below take).
type FromResponse = fn(&Response<axum::body::Body>) -> Option<HeaderValue>;

/// The console's policy, for the fallback that serves it (set before [`secure`] adds the API one),
/// on its files and pages; the fallback's JSON errors (an unknown `/api/` path) keep the API's.
pub fn console_csp() -> SetResponseHeaderLayer<FromResponse> {
    fn console_files(resp: &Response<axum::body::Body>) -> Option<HeaderValue> {
        (!is_json(resp)).then(|| HeaderValue::from_static(CONSOLE_CSP))
    }
    SetResponseHeaderLayer::if_not_present(CONTENT_SECURITY_POLICY, console_files as FromResponse)
}

/// The headers every response carries (the outermost layers of the office router).
pub fn secure<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            |resp: &Response<axum::body::Body>| {
                is_json(resp).then(|| HeaderValue::from_static(NO_STORE))
            },
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
}

/// `Strict-Transport-Security` on every response: for an office serving TLS itself.
pub fn hsts<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(SetResponseHeaderLayer::overriding(
        STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    ))
}

fn is_json<B>(resp: &Response<B>) -> bool {
    resp.headers().get(CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(b"application/json") || v.starts_with(b"application/x-ndjson")
    })
}
