//! The office over real HTTP: a server on 127.0.0.1:0 with a temp SQLite file (heatcrew-testkit's
//! `TestOffice`), reqwest as the client, events sealed with heatcrew-protocol and an Ed25519 key
//! exactly as a device does. One test binary, a module per API area:
//!
//! - `auth`: logins, tokens, revocation, accounts and crews.
//! - `sessions`: devices bound to their user, refresh tokens to their device, session lifetimes.
//! - `handover`: a shared phone handed over, attacked as a tampered app would (chain heads).
//! - `throttle`: login throttling, the bounded hashing queue, TOTP for staff.
//! - `audit`: the audit log, its reader and its append-only rule.
//! - `sync`: push and pull, exactly once, tampering, clocks, backlogs, concurrency.
//! - `jobs`: who may see and change which work order, reassignment.
//! - `attachments`: chunked, resumable uploads checked by hash.
//! - `attachment_scope`: who may read a file, uploads per device, the type files are served with.
//! - `reports`: a finished visit read back.
//! - `ingest`: what a push may carry: extreme values refused per event, extreme rows read safely,
//!   field-created jobs outside the KPIs until accepted, closing a cancelled or reassigned job.
//! - `limits`: malformed and oversized requests.
//! - `outcomes`: a not-home closure and a reschedule request read back and on the board.
//! - `opinion`: the company profile (admins set, devices pull), the opinion form and corrections.
//! - `lifecycle`: `serve`, restarts, `verify` on stored data.
//! - `objects`: attachments in S3-compatible storage (a real `s3s-fs`), resumed across processes.
//! - `kpi`: the office's rule re-check, honest time and the KPIs (issue 13).
//! - `postgres_cli`: the `heatcrew-office` binary on PostgreSQL (`--database`): refusals, serve,
//!   verify, export, the password never printed.
//! - `readiness`: `/healthz` (the process serves) and `/readyz` (it reads its database), with the
//!   link to PostgreSQL cut and restored.

use chrono::{Duration, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_protocol::sync::{
    AttachmentStatus, ChangeKind, LoginResponse, MAX_CHUNK_BYTES, PullResponse, PushOutcome,
    PushResponse,
};
use heatcrew_protocol::{
    AttachmentRef, DEVICE_TIME_HEADER, Digest, Event, EventBody, Job, PROTOCOL_HEADER, Resolution,
    SERVER_TIME_HEADER,
};
// The simulated device is the kit's KeyDevice: its key, its chain tip and its tokens.
use heatcrew_testkit::KeyDevice as Device;
use heatcrew_testkit::{PASSWORD, Seed, TestOffice, step};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

mod attachment_scope;
mod attachments;
mod audit;
mod auth;
mod handover;
mod ingest;
mod jobs;
mod kpi;
mod lifecycle;
mod limits;
mod objects;
mod opinion;
mod outcomes;
mod postgres_cli;
mod readiness;
mod reports;
mod sessions;
mod sync;
mod throttle;

/// The office API as these tests drive it, on the shared [`TestOffice`] (heatcrew-testkit): a
/// simulated [`Device`] signing in with a hand-made key (`TestOffice::login_device`, the kit's
/// proof of key possession), pushes and pulls, work orders.
trait OfficeApi {
    async fn staff(&self, username: &str) -> String;
    async fn device(&self, username: &str) -> Device;
    async fn device_with(&self, username: &str, password: &str) -> Device;
    async fn push(&self, dev: &Device, events: &[Event]) -> (StatusCode, Value);
    async fn push_ok(&self, dev: &Device, events: &[Event]) -> PushResponse;
    async fn pull(&self, token: &str, cursor: u64) -> PullResponse;
    async fn create_job(&self, staff: &str, assignee: Option<Uuid>) -> Job;
    async fn job_detail(&self, staff: &str, job: Uuid) -> Value;
}

impl OfficeApi for TestOffice {
    /// A staff member's access token (the test accounts share [`PASSWORD`]).
    async fn staff(&self, username: &str) -> String {
        self.staff_token(username, PASSWORD).await
    }

    async fn device(&self, username: &str) -> Device {
        self.device_with(username, PASSWORD).await
    }

    async fn device_with(&self, username: &str, password: &str) -> Device {
        self.key_device(username, password).await
    }

    async fn push(&self, dev: &Device, events: &[Event]) -> (StatusCode, Value) {
        self.post_json(
            "/api/v1/sync/push",
            Some(&dev.login.access_token),
            &json!({"events": events}),
        )
        .await
    }

    async fn push_ok(&self, dev: &Device, events: &[Event]) -> PushResponse {
        let (status, body) = self.push(dev, events).await;
        assert_eq!(status, StatusCode::OK, "push must be answered: {body}");
        serde_json::from_value(body).expect("push response")
    }

    async fn pull(&self, token: &str, cursor: u64) -> PullResponse {
        let (status, body) = self
            .get_json(&format!("/api/v1/sync/pull?cursor={cursor}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "pull must be answered: {body}");
        serde_json::from_value(body).expect("pull response")
    }

    async fn create_job(&self, staff: &str, assignee: Option<Uuid>) -> Job {
        let (status, body) = self
            .post_json(
                "/api/v1/jobs",
                Some(staff),
                &json!({"fault": "暖气不热", "reported_at": Utc::now() - Duration::hours(1),
                        "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼2单元501室"},
                        "assignee": assignee}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "a dispatcher can create a work order: {body}"
        );
        serde_json::from_value(body).expect("job")
    }

    async fn job_detail(&self, staff: &str, job: Uuid) -> Value {
        let (status, body) = self.get_json(&format!("/api/v1/jobs/{job}"), staff).await;
        assert_eq!(status, StatusCode::OK, "job read-back: {body}");
        body
    }
}

fn outcomes(resp: &PushResponse) -> Vec<String> {
    resp.results
        .iter()
        .map(|r| match &r.outcome {
            PushOutcome::Accepted => "accepted".to_owned(),
            PushOutcome::Duplicate => "duplicate".to_owned(),
            PushOutcome::Rejected { code, .. } => code.as_str().to_owned(),
        })
        .collect()
}

fn photo_ref(bytes: &[u8]) -> AttachmentRef {
    AttachmentRef {
        sha256: Digest::of(bytes),
        bytes: bytes.len() as u64,
        mime: "image/jpeg".into(),
        width: 0,
        height: 0,
        taken_at: None,
        gps: None,
    }
}
