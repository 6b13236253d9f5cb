//! Login (password check, device key enrolment with proof of possession), token refresh with
//! rotation, revocation.
//!
//! A device proves it holds its private key at every login (`docs/evidence.md`, "Enrolment"): it
//! asks for a one-time challenge (`POST /auth/challenge`), signs
//! [`heatcrew_protocol::log::enrolment_message`] with its key, and sends both with the password.
//! The challenge is used up by the attempt, whatever its outcome.
//!
//! A device is bound to its first user: another user signing in on it is refused
//! (`device_other_user`) unless an admin marked it shared or moved it (`api::admin`). Failed
//! sign-ins are throttled per account and address ([`crate::throttle`]); password hashing runs on
//! a bounded queue. Staff may add a TOTP second factor ([`super::totp`]). Refresh tokens work only
//! for the device they were issued to and never past the session's absolute lifetime; staff
//! sessions also end when idle (`api::extract`). Every sign-in, failure and session end is written
//! to the audit log ([`crate::audit`]).

use super::extract::{ApiJson, Auth, ClientAddr, STAFF, blocking, token_hash};
use crate::OfficeState;
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::ledger::makers::SignedHead;
use crate::store::{NewSession, RefreshOutcome, Rotation, UserRecord};
use crate::throttle;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use heatcrew_protocol::Digest;
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::log::enrolment_message;
use heatcrew_protocol::sync::{
    ChallengeRequest, ChallengeResponse, LoginRequest, LoginResponse, RefreshRequest, UserInfo,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Each route with its OpenAPI path.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(challenge))
        .routes(routes!(login))
        .routes(routes!(staff_login))
        .routes(routes!(refresh))
        .routes(routes!(revoke))
        .merge(super::totp::routes())
}

/// Each argon2 run takes 19 MiB and a core for a while. They run on a few dedicated threads: that
/// bounds CPU (a crowd of devices logging in together does not starve sync requests) and memory
/// (the allocator keeps a freed 19 MiB block per thread arena; on the shared blocking pool that
/// grew to hundreds of MiB after a burst of logins).
static ARGON2_THREADS: std::sync::LazyLock<std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>> =
    std::sync::LazyLock::new(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 4);
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                            Ok(job) => job,
                            Err(_) => return,
                        };
                        job();
                    }
                })
                .expect("start a password hashing thread");
        }
        tx
    });

/// Run an argon2 computation on the password hashing threads.
pub async fn with_argon2<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    ARGON2_THREADS
        .send(Box::new(move || {
            let _ = tx.send(f());
        }))
        .map_err(|_| ApiError::internal("password hashing is shut down"))?;
    rx.await
        .map_err(|_| ApiError::internal("password hashing failed"))
}

thread_local! {
    /// argon2's working memory (19 MiB with the default parameters), kept and reused per thread:
    /// allocating it afresh each time left the allocator holding many freed copies.
    static ARGON2_MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn argon2_into(
    argon: &Argon2<'_>,
    m_cost: u32,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        let blocks = m_cost as usize;
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

/// Hash a password with argon2id (default parameters) and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("hashing the password failed: {e}");
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_buf)
        .map_err(|e| fail(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(
        &argon,
        params.m_cost(),
        password.as_bytes(),
        salt_bytes,
        &mut out,
    )
    .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// Check a password against a PHC string (constant-time comparison of the outputs).
pub fn verify_password(password: &str, phc: &str) -> bool {
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .ok()?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt_buf = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt_buf).ok()?;
        let mut out = vec![0u8; expected.len()];
        let argon = Argon2::new(algorithm, version, params.clone());
        argon2_into(&argon, params.m_cost(), password.as_bytes(), salt, &mut out).ok()?;
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

/// A fresh random token (32 bytes, hex) and the hash the office stores instead of it.
fn new_token() -> (String, Digest) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// Office staff sign in without a device key (they do not record field events).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct StaffLoginRequest {
    pub username: String,
    pub password: String,
    /// The six-digit code of the user's authenticator app, once they set up a second factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub totp: Option<String>,
}

/// Count a failed sign-in against its account and address and write it to the audit log.
pub(super) async fn failed(
    state: &OfficeState,
    username: &str,
    address: Option<&str>,
    reason: &str,
) -> ApiResult<()> {
    let (policy, now) = (state.config.throttle.clone(), state.now());
    let (name, from) = (username.to_owned(), address.map(str::to_owned));
    blocking(state, move |s| {
        throttle::fail(&policy, s, &name, from.as_deref(), now)
    })
    .await?;
    tracing::info!(username, address, reason, "sign-in refused");
    audit::record(
        state,
        NewAudit::new(AuditKind::SignInFailed)
            .username(username)
            .address(address)
            .detail(serde_json::json!({ "reason": reason })),
    )
    .await
}

/// A complete sign-in: the account's failure counts are cleared, the audit log has it.
async fn signed_in(
    state: &OfficeState,
    user: &UserInfo,
    address: Option<&str>,
    detail: serde_json::Value,
) -> ApiResult<()> {
    let (name, from) = (user.username.clone(), address.map(str::to_owned));
    blocking(state, move |s| throttle::succeed(s, &name, from.as_deref())).await?;
    audit::record(
        state,
        NewAudit::new(AuditKind::SignIn)
            .actor(user.id, &user.username)
            .address(address)
            .detail(detail),
    )
    .await
}

/// Check a password: refused at once with 429 while the account or address is locked out, or
/// while the hashing queue is full; a failure is counted and audited.
async fn check_password(
    state: &OfficeState,
    username: String,
    password: String,
    address: Option<&str>,
) -> ApiResult<UserRecord> {
    let policy = &state.config.throttle;
    let (checked, now) = (policy.clone(), state.now());
    let (name, from) = (username.clone(), address.map(str::to_owned));
    let locked = blocking(state, move |s| {
        throttle::check(&checked, s, &name, from.as_deref(), now)
    })
    .await?;
    if let Err(secs) = locked {
        return Err(ApiError::too_many(
            ErrorCode::TooManyAttempts,
            format!("too many failed sign-ins for this account or address; try again in {secs} s"),
            secs,
        ));
    }
    let Some(_place) = state.login_guard.enter_hashing(policy) else {
        return Err(ApiError::too_many(
            ErrorCode::LoginBusy,
            "too many sign-ins are being checked at once; try again in a second",
            1,
        ));
    };
    let name = username.clone();
    let user = blocking(state, move |s| s.user_by_username(&name)).await?;
    let bad = || ApiError::unauthorized(ErrorCode::BadCredentials, "wrong username or password");
    let Some(user) = user else {
        // Spend the same time as a real check, so response time does not reveal usernames.
        let _ = with_argon2(move || verify_password(&password, DUMMY_HASH)).await;
        failed(state, &username, address, "unknown_user").await?;
        return Err(bad());
    };
    let hash = user.password_hash.clone();
    let ok = with_argon2(move || verify_password(&password, &hash)).await?;
    if !ok {
        failed(state, &username, address, "bad_password").await?;
        return Err(bad());
    }
    // Said only to whoever knows the password, so it reveals nothing to a guesser.
    if !user.active {
        failed(state, &username, address, "deactivated").await?;
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            ErrorCode::UserDeactivated,
            "this account was deactivated; ask an office administrator",
        ));
    }
    Ok(user)
}

/// A valid argon2 hash of nothing anyone types; verified against for unknown usernames.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3RDM3D5GM4ulOOv8AEfpTxBN6tpBf7tn7PDV47xuzT0";

struct Tokens {
    access: String,
    access_expires_at: DateTime<Utc>,
    refresh: String,
}

/// `device`: a device sign-in, with where the device's chain stands.
async fn open_session(
    state: &OfficeState,
    user_id: Uuid,
    device: Option<(Uuid, SignedHead)>,
    totp_setup_only: bool,
    now: DateTime<Utc>,
) -> ApiResult<Tokens> {
    let (access, access_hash) = new_token();
    let (refresh, refresh_hash) = new_token();
    let max_age = if device.is_some() {
        state.config.session_max_age
    } else {
        state.config.staff_max_age
    };
    let absolute_expires_at = now + max_age;
    let access_expires_at = (now + state.config.access_ttl).min(absolute_expires_at);
    let session = NewSession {
        id: Uuid::now_v7(),
        user_id,
        device_id: device.as_ref().map(|(d, _)| *d),
        access_hash,
        access_expires_at,
        refresh_hash,
        refresh_expires_at: now + state.config.refresh_ttl,
        absolute_expires_at,
        totp_setup_only,
        chain_head: device.map(|(_, signed)| signed),
        now,
    };
    blocking(state, move |s| s.create_session(session)).await?;
    Ok(Tokens {
        access,
        access_expires_at,
        refresh,
    })
}

async fn response(
    state: &OfficeState,
    tokens: Tokens,
    user: UserInfo,
    device_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<LoginResponse> {
    let device = match device_id {
        Some(d) => blocking(state, move |s| s.device(d)).await?,
        None => None,
    };
    Ok(LoginResponse {
        access_token: tokens.access,
        access_expires_at: tokens.access_expires_at,
        refresh_token: tokens.refresh,
        user,
        device_code: device.as_ref().map(|d| d.code.clone()).unwrap_or_default(),
        last_seq: device.map_or(0, |d| d.last_seq),
        server_time: now,
        office_public_key: Some(state.office_public_key()),
    })
}

/// How long a login challenge can be answered.
pub const CHALLENGE_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A one-time challenge for the next login of a device: 32 random bytes, valid once, for
/// [`CHALLENGE_TTL`].
#[utoipa::path(post, path = "/api/v1/auth/challenge", tag = "auth",
    request_body = heatcrew_protocol::sync::ChallengeRequest, security(()),
    responses((status = 200, body = Object, description = "ChallengeResponse")))]
pub async fn challenge(
    State(state): State<OfficeState>,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> ApiResult<Json<ChallengeResponse>> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let challenge = hex::encode(bytes);
    let now = state.now();
    let expires_at = now + CHALLENGE_TTL;
    let (c, device) = (challenge.clone(), req.device_id);
    blocking(&state, move |s| {
        s.create_challenge(&c, device, expires_at, now)
    })
    .await?;
    Ok(Json(ChallengeResponse {
        challenge,
        expires_at,
    }))
}

/// Check that whoever logs in holds the device's private key: the challenge is one this office
/// issued to this device, unused and unexpired (it is used up now), and `proof` is the device key's
/// signature over the enrolment message.
async fn check_proof(
    state: &OfficeState,
    req: &LoginRequest,
    key: &ed25519_dalek::VerifyingKey,
) -> ApiResult<()> {
    let (Some(challenge), Some(proof)) = (req.challenge.clone(), req.proof.as_deref()) else {
        return Err(ApiError::unauthorized(
            ErrorCode::ProofRequired,
            "sign a challenge from POST /api/v1/auth/challenge with the device key and send it as challenge and proof",
        ));
    };
    let Some(head) = &req.chain_head else {
        return Err(ApiError::bad_request(
            ErrorCode::ChainHeadRequired,
            "send chain_head, where this device's chain stands (seq 0 and a zero hash before its first event), signed with the proof",
        ));
    };
    // Lowercase only: the proof is kept and exported as sent (`docs/evidence.md`, strict hex).
    let (Some(c), Some(sig)) = (
        heatcrew_protocol::log::strict_hex::<32>(&challenge),
        heatcrew_protocol::log::strict_hex::<64>(proof),
    ) else {
        return Err(ApiError::bad_request(
            ErrorCode::BadProof,
            "challenge must be 64 and proof 128 lowercase hex characters",
        ));
    };
    let (device, now) = (req.device_id, state.now());
    // Unknown, used, another device's or expired: 409, so a device asks for a fresh challenge
    // (a login repeated by the network finds its challenge used up).
    blocking(state, move |s| s.take_challenge(&challenge, device, now)).await?;
    let message = enrolment_message(&c, req.device_id, key, &req.username, head);
    key.verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&sig))
        .map_err(|_| {
            ApiError::unauthorized(
                ErrorCode::BadProof,
                "the proof is not a signature by this device key over the challenge: whoever logs in must hold the device's private key",
            )
        })
}

/// Check the password and the device's proof that it holds its key, enrol the device's Ed25519 key
/// (or confirm it), open a session. The answer carries the office's public key.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = heatcrew_protocol::sync::LoginRequest, security(()),
    responses((status = 200, body = Object, description = "LoginResponse"),
        (status = 400, body = ErrorBodySchema, description = "bad_public_key, bad_proof (malformed), bad_device_time, chain_head_required"),
        (status = 401, body = ErrorBodySchema, description = "bad_credentials, proof_required, bad_proof"),
        (status = 403, body = ErrorBodySchema, description = "device_other_user: the device is bound to another user (an admin can share or move it)"),
        (status = 409, body = ErrorBodySchema, description = "device_key_mismatch: the device id is enrolled with another key; chain_head_mismatch: the chain head is behind or off what the office holds of the device; challenge_unknown, challenge_wrong_device, challenge_expired: ask for a new challenge"),
        (status = 429, body = ErrorBodySchema, description = "too_many_attempts, login_busy; see Retry-After")))]
pub async fn login(
    State(state): State<OfficeState>,
    ClientAddr(address): ClientAddr,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let device_time = super::extract::device_time(&headers)?;
    let key =
        heatcrew_protocol::log::parse_public_key(&req.device_public_key).ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::BadPublicKey,
                "device_public_key must be an Ed25519 public key as 64 lowercase hex characters",
            )
        })?;
    let address = address.as_deref();
    let user = check_password(&state, req.username.clone(), req.password.clone(), address).await?;
    check_proof(&state, &req, &key).await?;
    let at = SignedHead::of_login(&req).map(|signed| (req.device_id, signed));
    let now = state.now();
    let (device_id, public_key, name, user_id) = (
        req.device_id,
        req.device_public_key.to_lowercase(),
        req.device_name,
        user.info.id,
    );
    let known = blocking(&state, move |s| s.device(device_id))
        .await?
        .is_some();
    let enrolled = blocking(&state, move |s| {
        s.enrol_device(device_id, &public_key, &name, user_id, now)
    })
    .await;
    let device = match enrolled {
        Err(mut e) if e.body.code == ErrorCode::DeviceOtherUser => {
            failed(&state, &user.info.username, address, "device_other_user").await?;
            e.status = StatusCode::FORBIDDEN;
            return Err(e);
        }
        other => other?,
    };
    if !known {
        audit::record(
            &state,
            NewAudit::new(AuditKind::DeviceEnrolled)
                .actor(user.info.id, &user.info.username)
                .address(address)
                .subject(device_id)
                .detail(serde_json::json!({ "code": device.code, "name": device.name })),
        )
        .await?;
    }
    let tokens = open_session(&state, user.info.id, at, false, now).await?;
    signed_in(
        &state,
        &user.info,
        address,
        serde_json::json!({ "device": device_id, "device_code": device.code, "shared": device.shared,
            "chain_head": req.chain_head.map(|h| h.seq) }),
    )
    .await?;
    if let Some(device_time) = device_time {
        let offset = (now - device_time).num_milliseconds();
        let jump = state.config.clock_jump_threshold.as_millis() as i64;
        blocking(&state, move |s| {
            s.record_clock_offset(device_id, offset, jump, now)
        })
        .await?;
    }
    super::device_info::record_sign_in(&state, device_id, &headers, now).await;
    tracing::info!(user = %user.info.username, device = %req.device_id, "device logged in");
    Ok(Json(
        response(&state, tokens, user.info, Some(req.device_id), now).await?,
    ))
}

/// Sign in as dispatcher or admin, without a device. The response's `device_code` is empty.
/// With a second factor set up, `totp` is needed too (`totp_required` without it). An admin who
/// must have one and has none gets a session that can only set it up (`api::totp`).
#[utoipa::path(post, path = "/api/v1/auth/staff-login", tag = "auth", request_body = StaffLoginRequest, security(()),
    responses((status = 200, body = Object, description = "LoginResponse (device_code empty)"),
        (status = 401, body = ErrorBodySchema, description = "bad_credentials, totp_required, bad_totp, totp_used"),
        (status = 403, body = ErrorBodySchema),
        (status = 429, body = ErrorBodySchema, description = "too_many_attempts, login_busy; see Retry-After")))]
pub async fn staff_login(
    State(state): State<OfficeState>,
    ClientAddr(address): ClientAddr,
    ApiJson(req): ApiJson<StaffLoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let address = address.as_deref();
    let user = check_password(&state, req.username, req.password, address).await?;
    if !STAFF.contains(&user.info.role) {
        return Err(ApiError::forbidden(
            "field staff log in from the app, with their device",
        ));
    }
    let now = state.now();
    let setup_only =
        super::totp::second_factor(&state, &user, req.totp.as_deref(), address, now).await?;
    let tokens = open_session(&state, user.info.id, None, setup_only, now).await?;
    signed_in(
        &state,
        &user.info,
        address,
        serde_json::json!({ "staff": true, "totp": user.totp_secret.is_some(), "totp_setup_only": setup_only }),
    )
    .await?;
    Ok(Json(response(&state, tokens, user.info, None, now).await?))
}

/// Trade a refresh token for a new pair. The old refresh token stays usable only until the new
/// pair is used (so a response lost on the way does not lock the device out); a token that comes
/// back after that revokes the session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = heatcrew_protocol::sync::RefreshRequest, security(()),
    responses((status = 200, body = Object, description = "LoginResponse"),
        (status = 401, body = ErrorBodySchema, description = "bad_refresh_token, refresh_reused, refresh_wrong_device, session_expired")))]
pub async fn refresh(
    State(state): State<OfficeState>,
    ClientAddr(address): ClientAddr,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let now = state.now();
    let idle = chrono::TimeDelta::from_std(state.config.staff_idle_timeout)
        .unwrap_or(chrono::TimeDelta::MAX);
    let (access, access_hash) = new_token();
    let (refresh, refresh_hash) = new_token();
    let access_expires_at = now + state.config.access_ttl;
    let rotation = Rotation {
        presented_refresh: token_hash(req.refresh_token.trim()),
        device_id: req.device_id,
        staff_idle_before: now
            .checked_sub_signed(idle)
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
        access_hash,
        access_expires_at,
        refresh_hash,
        refresh_expires_at: now + state.config.refresh_ttl,
        now,
    };
    let ended = |reason: &'static str| {
        let entry = NewAudit::new(AuditKind::SessionEnded)
            .address(address.as_deref())
            .detail(serde_json::json!({ "reason": reason, "device": req.device_id }));
        let state = state.clone();
        async move { audit::record(&state, entry).await }
    };
    match blocking(&state, move |s| s.refresh_session(rotation)).await? {
        RefreshOutcome::Rotated { user, device_id } => {
            let tokens = Tokens {
                access,
                access_expires_at,
                refresh,
            };
            Ok(Json(response(&state, tokens, user, device_id, now).await?))
        }
        RefreshOutcome::Invalid => Err(ApiError::unauthorized(
            ErrorCode::BadRefreshToken,
            "the refresh token is unknown, expired or revoked; log in again",
        )),
        RefreshOutcome::Expired => {
            ended("expired").await?;
            Err(ApiError::unauthorized(
                ErrorCode::SessionExpired,
                "this session reached its time limit or was idle too long and has ended; log in again",
            ))
        }
        RefreshOutcome::WrongDevice => {
            tracing::warn!(device = ?req.device_id, "a refresh token came from another device; session revoked");
            ended("refresh_wrong_device").await?;
            Err(ApiError::unauthorized(
                ErrorCode::RefreshWrongDevice,
                "this refresh token was issued to another device; the session is ended, log in again",
            ))
        }
        RefreshOutcome::Reused => {
            tracing::warn!("a rotated-out refresh token came back; session revoked");
            ended("refresh_reused").await?;
            Err(ApiError::unauthorized(
                ErrorCode::RefreshReused,
                "this refresh token was already used; the session is revoked, log in again",
            ))
        }
    }
}

/// Revoke the caller's own session (log out).
#[utoipa::path(post, path = "/api/v1/auth/revoke", tag = "auth", security(("device" = []), ("staff" = [])), responses((status = 204), (status = 401, body = ErrorBodySchema)))]
pub async fn revoke(State(state): State<OfficeState>, auth: Auth) -> ApiResult<StatusCode> {
    let (id, now) = (auth.session_id, state.now());
    blocking(&state, move |s| s.revoke_session(id, now)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::SignOut)
            .detail(serde_json::json!({ "device": auth.device_id })),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_parses_so_unknown_users_cost_a_real_verification() {
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "a malformed dummy would return fast and reveal usernames"
        );
        assert!(
            !verify_password("anything", DUMMY_HASH),
            "nobody may log in against the dummy"
        );
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crates_own_hasher() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let standard = Argon2::default()
            .hash_password(b"passwort-1", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string();
        assert!(
            verify_password("passwort-1", &standard),
            "hashes made the standard way still verify"
        );
        let ours = hash_password("passwort-2").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("a valid PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"passwort-2", &parsed)
                .is_ok(),
            "our hashes are standard argon2id PHC strings any tool can check"
        );
    }

    #[test]
    fn passwords_round_trip_through_argon2() {
        let h = hash_password("热力2026").expect("hash");
        assert!(
            h.starts_with("$argon2id$"),
            "argon2id is the default and the recommended variant"
        );
        assert!(
            verify_password("热力2026", &h),
            "the right password verifies"
        );
        assert!(!verify_password("热力2025", &h), "a wrong one does not");
    }
}
