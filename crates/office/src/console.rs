//! The office console: the Svelte app in `console/` (built to `console/dist` by `npm run build`, which
//! `./dev` runs before cargo) embedded in this binary and served at `/`. Files under `/assets/` have
//! content hashes in their names and are cached for a year; everything else (`index.html`) is
//! revalidated on each load. Paths without a file extension are the app's own routes (`/jobs/…`,
//! `/users`) and get `index.html`. If `console/dist` was missing at compile time the office still
//! builds and serves a page saying how to build the console (styled by `/not-built.css`: the
//! console's policy refuses inline styles). Anything under `/api/` that no route matched stays a
//! JSON `not_found`.

use crate::error::ApiError;
use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use heatcrew_protocol::ErrorCode;

/// `console/dist`, embedded in release builds (debug builds read it from disk, so a rebuilt console
/// shows without recompiling; `build.rs` recompiles release builds when it changes).
#[derive(rust_embed::Embed)]
#[folder = "../../console/dist/"]
#[allow_missing = true]
struct ConsoleDist;

/// Whether the console was built into (or, in debug builds, is beside) this binary.
pub fn is_built() -> bool {
    ConsoleDist::get("index.html").is_some()
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The fallback of the office router: the console's files, its routes, or a JSON 404 under `/api/`.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" {
        return ApiError::not_found("no such endpoint").into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "the console is read with GET",
        )
        .into_response();
    }
    let name = path.trim_start_matches('/');
    if name == NOT_BUILT_CSS {
        return not_built_css();
    }
    if let Some(file) = (!name.is_empty()).then(|| ConsoleDist::get(name)).flatten() {
        let cache = if name.starts_with("assets/") {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        return file_response(name, file, cache, &headers);
    }
    // A missing file (it has an extension) is a 404, not the app: a stale hashed asset must fail
    // loudly instead of being parsed as HTML.
    let last = name.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return (
            StatusCode::NOT_FOUND,
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response();
    }
    match ConsoleDist::get("index.html") {
        Some(index) => file_response("index.html", index, REVALIDATE, &headers),
        None => not_built(),
    }
}

fn file_response(
    name: &str,
    file: rust_embed::EmbeddedFile,
    cache: &'static str,
    headers: &HeaderMap,
) -> Response {
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let mut resp = if headers
        .get(IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(CONTENT_TYPE, content_type(name))],
            Body::from(file.data.into_owned()),
        )
            .into_response()
    };
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(ETAG, v);
    }
    resp
}

/// The content type of a console file, by extension (what Vite emits).
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The not-built page's stylesheet, at `/not-built.css` (a name Vite never emits). A file of its
/// own because the console's policy (`api::headers::CONSOLE_CSP`) allows styles from the office
/// only, never inline ones; served whether or not the console is built, so tests can fetch it.
pub const NOT_BUILT_CSS: &str = "not-built.css";

const NOT_BUILT_STYLE: &str =
    "body{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em}\n";

/// The page served at `/` (and the console's routes) when `console/dist` is missing: no inline
/// style or script, so the console's policy lets it render as written.
pub const NOT_BUILT_PAGE: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Console not built</title>\
    <link rel=\"stylesheet\" href=\"/not-built.css\">\
    <body><h1>The office console is not built</h1>\
    <p>This heatcrew-office was compiled without <code>console/dist</code>. The API works (see \
    <a href=\"/api/openapi.json\">/api/openapi.json</a>); to get the console, run <code>./dev run</code>, \
    or <code>cd console &amp;&amp; npm ci &amp;&amp; npm run build</code> and build heatcrew-office again.</p>\
    <p lang=\"zh-CN\">调度台前端尚未构建：请运行 <code>./dev run</code>，或在 console 目录执行 \
    <code>npm ci &amp;&amp; npm run build</code> 后重新编译 heatcrew-office。</p></body></html>";

fn not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, REVALIDATE),
        ],
        NOT_BUILT_PAGE,
    )
        .into_response()
}

fn not_built_css() -> Response {
    (
        [
            (CONTENT_TYPE, content_type(NOT_BUILT_CSS)),
            (CACHE_CONTROL, REVALIDATE),
        ],
        NOT_BUILT_STYLE,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The console's policy refuses inline styles and scripts: the not-built page has none, and
    /// its one stylesheet is the office's own file.
    #[test]
    fn the_not_built_page_needs_nothing_the_console_policy_refuses() {
        let page = NOT_BUILT_PAGE.to_ascii_lowercase();
        for inline in [" style=", "<style", "<script", "javascript:"] {
            assert!(!page.contains(inline), "no {inline:?} in the page: {page}");
        }
        let handler = page.split(" on").skip(1).find(|rest| {
            let name = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            name.len() < rest.len() && name.starts_with('=')
        });
        assert!(handler.is_none(), "no inline event handler: {handler:?}");
        assert!(
            crate::api::headers::CONSOLE_CSP.contains("style-src 'self'"),
            "the policy allows the office's own stylesheets"
        );
        let link = format!("<link rel=\"stylesheet\" href=\"/{NOT_BUILT_CSS}\">");
        assert!(page.contains(&link), "the page links its stylesheet");
        assert_eq!(content_type(NOT_BUILT_CSS), "text/css; charset=utf-8");
        assert_eq!(not_built().status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
