//! The office's dispatch API as the simulator uses it: sign in as staff, create crews and jobs,
//! and read back what arrived.

use anyhow::{Context, bail};
use heatcrew_protocol::sync::UserInfo;
use heatcrew_protocol::{Event, Job};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug)]
pub struct DispatchApi {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl DispatchApi {
    /// Sign in as office staff, retrying while the office starts (or restarts).
    pub async fn sign_in(
        office: &str,
        username: &str,
        password: &str,
        patience: Duration,
    ) -> anyhow::Result<DispatchApi> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let base = office.trim_end_matches('/').to_owned();
        let deadline = Instant::now() + patience;
        loop {
            let resp = http
                .post(format!("{base}/api/v1/auth/staff-login"))
                .json(&json!({"username": username, "password": password}))
                .send()
                .await;
            match resp {
                Ok(r) if r.status().is_success() => {
                    // An answer cut off on the way is a network failure: sign in again.
                    match r.json::<Value>().await {
                        Ok(v) => {
                            let token = v["access_token"]
                                .as_str()
                                .context("staff login: no access_token")?
                                .to_owned();
                            return Ok(DispatchApi { http, base, token });
                        }
                        Err(_) if Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(300)).await
                        }
                        Err(e) => bail!("staff login answer unreadable: {e}"),
                    }
                }
                Ok(r) if r.status().is_client_error() => {
                    bail!("staff login refused: {} {}", r.status(), r.text().await?)
                }
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(300)).await
                }
                Ok(r) => bail!("staff login failed: {}", r.status()),
                Err(e) => bail!("office unreachable at {base}: {e}"),
            }
        }
    }

    /// One call, retried on network errors and 5xx (the office may be restarting under us).
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<T> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let mut req = self
                .http
                .request(method.clone(), format!("{}/api/v1{path}", self.base))
                .bearer_auth(&self.token);
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => match r.json().await {
                    Ok(v) => return Ok(v),
                    // The answer was cut halfway: ask again (creates are idempotent by id).
                    Err(e) if Instant::now() < deadline => {
                        let _ = e;
                        tokio::time::sleep(Duration::from_millis(300)).await;
                    }
                    Err(e) => bail!("{method} {path}: unreadable answer: {e}"),
                },
                Ok(r) if r.status().is_client_error() => {
                    bail!("{method} {path}: {} {}", r.status(), r.text().await?)
                }
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(300)).await
                }
                Ok(r) => bail!("{method} {path}: {}", r.status()),
                Err(e) => bail!("{method} {path}: {e}"),
            }
        }
    }

    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: &str,
        display_name: &str,
    ) -> anyhow::Result<UserInfo> {
        let body = json!({"username": username, "password": password, "role": role,
                          "display_name": display_name, "badge_no": format!("SIM-{username}")});
        self.call(reqwest::Method::POST, "/users", Some(&body))
            .await
    }

    pub async fn create_job(&self, request: &Value) -> anyhow::Result<Job> {
        self.call(reqwest::Method::POST, "/jobs", Some(request))
            .await
    }

    /// Every event the office holds for a device, in sequence order.
    pub async fn device_events(&self, device: Uuid) -> anyhow::Result<Vec<Event>> {
        let mut out: Vec<Event> = Vec::new();
        loop {
            let after = out.last().map_or(0, Event::seq);
            let page: Vec<Event> = self
                .call(
                    reqwest::Method::GET,
                    &format!("/devices/{device}/events?after={after}&limit=1000"),
                    None,
                )
                .await?;
            if page.is_empty() {
                return Ok(out);
            }
            out.extend(page);
        }
    }

    /// Whether the office holds the complete file with this hash.
    pub async fn has_attachment(&self, sha: &str) -> anyhow::Result<bool> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let resp = self
                .http
                .head(format!("{}/api/v1/attachments/{sha}", self.base))
                .bearer_auth(&self.token)
                .send()
                .await;
            match resp {
                Ok(r) if r.status().is_success() => {
                    let offset = r
                        .headers()
                        .get("upload-offset")
                        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                    let length = r
                        .headers()
                        .get("upload-length")
                        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                    // The office reports the full length as its offset only once the hash matched.
                    return Ok(offset.is_some() && offset == length);
                }
                Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => return Ok(false),
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(300)).await
                }
                Ok(r) => bail!("HEAD attachment {sha}: {}", r.status()),
                Err(e) => bail!("HEAD attachment {sha}: {e}"),
            }
        }
    }

    /// A job as the office reads it back: steps, photos, signatures, ratings, defects, notices.
    pub async fn job_detail(&self, id: Uuid) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, &format!("/jobs/{id}"), None)
            .await
    }

    /// The code posted at each patrol station (`[{checkpoint_id, code}]`).
    pub async fn checkpoint_codes(&self) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, "/checkpoint-codes", None)
            .await
    }

    /// Any staff `GET` under `/api/v1` (retried as every call), as JSON.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Any staff `POST` under `/api/v1` (retried as every call: send an id where the office
    /// takes one, so a retry is not a second record), as JSON.
    pub async fn post_json(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// A download under `/api/v1` (a workbook, a CSV), its bytes.
    pub async fn download(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let r = self
            .http
            .get(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("GET {path}: {} {}", r.status(), r.text().await?);
        }
        Ok(r.bytes().await?.to_vec())
    }

    pub async fn summary(&self) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, "/reports/summary", None)
            .await
    }
}
