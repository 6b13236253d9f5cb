//! The office's HTTP API as the device uses it: one method per endpoint, errors classified by what
//! the sync loop should do about them (retry later, refresh the token, resync, or tell the user).

use chrono::{DateTime, Utc};
use heatcrew_protocol::sync::{
    AttachmentCreate, AttachmentStatus, ChallengeRequest, ChallengeResponse, ClockJumpAck,
    ClockJumpReport, ErrorBody, LoginRequest, LoginResponse, PullResponse, PushRequest,
    PushResponse, RefreshRequest, SignOutKept, SignOutStatement, UPLOAD_OFFSET_HEADER,
};
use heatcrew_protocol::{
    DEVICE_TIME_HEADER, Digest, ErrorCode, PROTOCOL_HEADER, PROTOCOL_VERSION, SERVER_TIME_HEADER,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::SyncError;

/// Names a PEM file of CA certificates (one or more) that the device trusts for its office besides
/// the public web roots: a company's own CA, or the self-signed certificate of a test office. Read
/// once per process; a file that cannot be read fails every office request with `office_ca`.
pub const OFFICE_CA_ENV: &str = "HEATCREW_OFFICE_CA";

/// Certificates added with [`trust_office_ca`].
static TRUSTED: Mutex<Vec<reqwest::Certificate>> = Mutex::new(Vec::new());
/// Certificates from [`OFFICE_CA_ENV`], or why they could not be read.
static FROM_ENV: OnceLock<Result<Vec<reqwest::Certificate>, String>> = OnceLock::new();

/// Trust the CA certificates in `pem` for every office client this process builds from now on
/// (what [`OFFICE_CA_ENV`] does, for a caller that holds the certificate itself). Returns how many
/// certificates were added; PEM without a certificate is an `office_ca` error.
pub fn trust_office_ca(pem: &[u8]) -> Result<usize, SyncError> {
    let certs = parse_cas(pem).map_err(office_ca_error)?;
    let n = certs.len();
    TRUSTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .extend(certs);
    Ok(n)
}

fn parse_cas(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let certs = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| format!("not PEM certificates: {}", error_chain(&e)))?;
    if certs.is_empty() {
        return Err("no CERTIFICATE block in it".into());
    }
    Ok(certs)
}

fn env_cas() -> Result<Vec<reqwest::Certificate>, String> {
    FROM_ENV
        .get_or_init(|| match std::env::var_os(OFFICE_CA_ENV) {
            None => Ok(Vec::new()),
            Some(path) if path.is_empty() => Ok(Vec::new()),
            Some(path) => {
                let shown = std::path::Path::new(&path).display().to_string();
                std::fs::read(&path)
                    .map_err(|e| format!("{OFFICE_CA_ENV}={shown}: {e}"))
                    .and_then(|pem| {
                        parse_cas(&pem).map_err(|e| format!("{OFFICE_CA_ENV}={shown}: {e}"))
                    })
            }
        })
        .clone()
}

fn office_ca_error(message: String) -> SyncError {
    SyncError::Local {
        code: ErrorCode::OfficeCa,
        message,
    }
}

/// An HTTP client for one office.
#[derive(Debug, Clone)]
pub struct OfficeApi {
    http: reqwest::Client,
    base: String,
}

/// A response body with the office's clock at the time it answered.
#[derive(Debug, Clone)]
pub struct Timed<T> {
    pub body: T,
    pub server_time: Option<DateTime<Utc>>,
}

impl OfficeApi {
    /// A client for the office at `office_url` (`https://` or, on a trusted network, `http://`),
    /// trusting the public web roots plus the CA certificates of [`OFFICE_CA_ENV`] and
    /// [`trust_office_ca`]. Fails (`office_ca`) only when the `OFFICE_CA_ENV` file is unusable.
    pub fn new(office_url: &str) -> Result<OfficeApi, SyncError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("heatcrew-device/", env!("CARGO_PKG_VERSION")));
        let extra = TRUSTED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for cert in env_cas().map_err(office_ca_error)?.into_iter().chain(extra) {
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| office_ca_error(format!("the HTTP client: {}", error_chain(&e))))?;
        Ok(OfficeApi {
            http,
            base: office_url.trim_end_matches('/').to_owned(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        // The device's clock on every request, so the office can keep its offset (SLA clocks).
        let req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .header(
                DEVICE_TIME_HEADER,
                Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            );
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// A one-time challenge the device signs to prove it holds its key when it logs in.
    pub async fn challenge(
        &self,
        device_id: uuid::Uuid,
    ) -> Result<Timed<ChallengeResponse>, SyncError> {
        json(
            self.request(Method::POST, "/auth/challenge", None)
                .json(&ChallengeRequest { device_id }),
        )
        .await
    }

    pub async fn login(&self, req: &LoginRequest) -> Result<Timed<LoginResponse>, SyncError> {
        json(self.request(Method::POST, "/auth/login", None).json(req)).await
    }

    pub async fn refresh(
        &self,
        refresh_token: &str,
        device_id: uuid::Uuid,
    ) -> Result<Timed<LoginResponse>, SyncError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
            device_id: Some(device_id),
        };
        json(
            self.request(Method::POST, "/auth/refresh", None)
                .json(&body),
        )
        .await
    }

    /// Tell the office a user signed out here, and where the chain stood (no token: the device
    /// key's signature is the proof).
    pub async fn sign_out(
        &self,
        statement: &SignOutStatement,
    ) -> Result<Timed<SignOutKept>, SyncError> {
        json(
            self.request(Method::POST, "/auth/sign-out", None)
                .json(statement),
        )
        .await
    }

    /// End the session the token belongs to (its refresh token too).
    pub async fn revoke(&self, token: &str) -> Result<(), SyncError> {
        send(self.request(Method::POST, "/auth/revoke", Some(token)))
            .await
            .map(|_| ())
    }

    pub async fn push(
        &self,
        token: &str,
        req: &PushRequest,
    ) -> Result<Timed<PushResponse>, SyncError> {
        json(
            self.request(Method::POST, "/sync/push", Some(token))
                .json(req),
        )
        .await
    }

    pub async fn pull(
        &self,
        token: &str,
        cursor: u64,
        limit: u32,
    ) -> Result<Timed<PullResponse>, SyncError> {
        let path = format!("/sync/pull?cursor={cursor}&limit={limit}");
        json(self.request(Method::GET, &path, Some(token))).await
    }

    /// Report jumps of the device clock (`crate::clock`).
    pub async fn report_clock_jumps(
        &self,
        token: &str,
        req: &ClockJumpReport,
    ) -> Result<Timed<ClockJumpAck>, SyncError> {
        json(
            self.request(Method::POST, "/sync/clock-jumps", Some(token))
                .json(req),
        )
        .await
    }

    pub async fn create_attachment(
        &self,
        token: &str,
        req: &AttachmentCreate,
    ) -> Result<Timed<AttachmentStatus>, SyncError> {
        json(
            self.request(Method::POST, "/attachments", Some(token))
                .json(req),
        )
        .await
    }

    pub async fn upload_chunk(
        &self,
        token: &str,
        sha: &Digest,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<Timed<AttachmentStatus>, SyncError> {
        let req = self
            .request(Method::PATCH, &format!("/attachments/{sha}"), Some(token))
            .header(UPLOAD_OFFSET_HEADER, offset.to_string())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/offset+octet-stream",
            )
            .body(bytes);
        json(req).await
    }

    /// How many bytes of an upload the office holds.
    pub async fn upload_offset(&self, token: &str, sha: &Digest) -> Result<u64, SyncError> {
        let resp =
            send(self.request(Method::HEAD, &format!("/attachments/{sha}"), Some(token))).await?;
        resp.headers()
            .get(UPLOAD_OFFSET_HEADER)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .ok_or_else(|| SyncError::Refused {
                status: resp.status().as_u16(),
                code: ErrorCode::NoOffset,
                message: "the office did not say how much it holds".into(),
            })
    }
}

async fn send(req: RequestBuilder) -> Result<Response, SyncError> {
    let resp = req
        .send()
        .await
        .map_err(|e| SyncError::Offline(error_chain(&e)))?;
    if let Some(v) = resp.headers().get(PROTOCOL_HEADER) {
        let v = v.to_str().unwrap_or("?");
        if v != PROTOCOL_VERSION.to_string() {
            return Err(SyncError::ProtocolMismatch(v.to_owned()));
        }
    }
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = resp
        .text()
        .await
        .map_err(|e| SyncError::Offline(error_chain(&e)))?;
    let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
    let (code, message) = body
        .as_ref()
        .map(|b| (b.code, b.message.clone()))
        .unwrap_or_else(|| (ErrorCode::HttpError, text.chars().take(200).collect()));
    Err(match status {
        StatusCode::UNAUTHORIZED => SyncError::Unauthorized(message),
        StatusCode::CONFLICT if code == ErrorCode::SequenceGap => SyncError::SequenceGap {
            expected_seq: body.and_then(|b| b.expected_seq).unwrap_or(1),
        },
        StatusCode::TOO_MANY_REQUESTS => SyncError::Unavailable {
            status: status.as_u16(),
            message,
            retry_after,
        },
        s if s.is_server_error() => SyncError::Unavailable {
            status: s.as_u16(),
            message,
            retry_after,
        },
        s => SyncError::Refused {
            status: s.as_u16(),
            code,
            message,
        },
    })
}

async fn json<T: DeserializeOwned>(req: RequestBuilder) -> Result<Timed<T>, SyncError> {
    let resp = send(req).await?;
    let server_time = resp
        .headers()
        .get(SERVER_TIME_HEADER)
        .and_then(|v| DateTime::parse_from_rfc3339(v.to_str().ok()?).ok())
        .map(|t| t.with_timezone(&Utc));
    // A body cut halfway is a network failure, not a bad answer: retry.
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| SyncError::Offline(error_chain(&e)))?;
    let body = serde_json::from_slice(&bytes).map_err(|e| {
        SyncError::Offline(format!("unreadable answer ({} bytes): {e}", bytes.len()))
    })?;
    Ok(Timed { body, server_time })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}
