//! A TCP proxy between devices and the office that, per connection, passes traffic, delays it,
//! cuts it before or after the office answered, or sends the request twice; and answers 503 for
//! one path without passing it on (an office restarting behind a load balancer).
//!
//! Each client connection carries one HTTP request: the proxy reads it whole (headers and
//! `Content-Length` body), sends it upstream with `Connection: close`, and relays the answer.

use rand::Rng;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How often each fault happens (the rest pass untouched).
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// Request reaches the office, the answer never reaches the device.
    pub cut_before_response: f64,
    /// Half of the answer reaches the device, then the connection drops.
    pub cut_mid_response: f64,
    /// Up to `max_delay` before forwarding.
    pub delay: f64,
    pub max_delay: Duration,
    /// The request reaches the office twice.
    pub duplicate: f64,
    /// Requests whose path starts with this are answered `503 Service Unavailable` and never
    /// reach the office.
    pub unavailable: Option<&'static str>,
}

impl Faults {
    /// Every request passes untouched.
    pub const NONE: Faults = Faults {
        cut_before_response: 0.0,
        cut_mid_response: 0.0,
        delay: 0.0,
        max_delay: Duration::ZERO,
        duplicate: 0.0,
        unavailable: None,
    };
}

/// Counts of what the proxy did, to show that faults really happened.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub passed: AtomicU64,
    pub cut_before: AtomicU64,
    pub cut_mid: AtomicU64,
    pub delayed: AtomicU64,
    pub duplicated: AtomicU64,
    pub unavailable: AtomicU64,
}

#[derive(Debug)]
pub struct FaultProxy {
    pub addr: SocketAddr,
    pub counts: Arc<FaultCounts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr, faults: Faults) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(FaultCounts::default());
        let c = counts.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let c = c.clone();
                tokio::spawn(async move {
                    let _ = handle(client, upstream, faults, &c).await;
                });
            }
        });
        Ok(FaultProxy { addr, counts, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn read_request(client: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                buf.truncate(end + 4 + len);
                return Ok(Some(with_connection_close(&buf, end)));
            }
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The path of a request (`POST /api/v1/... HTTP/1.1` → `/api/v1/...`).
fn request_path(req: &[u8]) -> Option<&str> {
    let line = req.split(|&b| b == b'\r').next()?;
    std::str::from_utf8(line).ok()?.split(' ').nth(1)
}

/// Rewrite the request so the office closes the connection after answering.
fn with_connection_close(req: &[u8], head_end: usize) -> Vec<u8> {
    let head = String::from_utf8_lossy(&req[..head_end]);
    let mut out = String::new();
    for line in head.split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&req[head_end + 4..]);
    bytes
}

async fn exchange(upstream: SocketAddr, req: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(req).await?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp).await?;
    Ok(resp)
}

async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    f: Faults,
    counts: &FaultCounts,
) -> std::io::Result<()> {
    let Some(req) = read_request(&mut client).await? else {
        return Ok(());
    };
    if let Some(path) = f.unavailable
        && request_path(&req).is_some_and(|p| p.starts_with(path))
    {
        counts.unavailable.fetch_add(1, Ordering::Relaxed);
        let body = r#"{"code":"unavailable","message":"the office is restarting"}"#;
        let resp = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        client.write_all(resp.as_bytes()).await?;
        return client.shutdown().await;
    }
    let roll: f64 = rand::thread_rng().r#gen();
    let mut edge = 0.0;
    let mut pick = |p: f64| {
        edge += p;
        roll < edge
    };
    if pick(f.cut_before_response) {
        counts.cut_before.fetch_add(1, Ordering::Relaxed);
        let _ = exchange(upstream, &req).await;
        return Ok(()); // the device never hears back
    }
    if pick(f.cut_mid_response) {
        counts.cut_mid.fetch_add(1, Ordering::Relaxed);
        let resp = exchange(upstream, &req).await?;
        client.write_all(&resp[..resp.len() / 2]).await?;
        return Ok(());
    }
    if pick(f.delay) {
        counts.delayed.fetch_add(1, Ordering::Relaxed);
        let ms = rand::thread_rng().gen_range(0..=f.max_delay.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    } else if pick(f.duplicate) {
        counts.duplicated.fetch_add(1, Ordering::Relaxed);
        let _ = exchange(upstream, &req).await;
    } else {
        counts.passed.fetch_add(1, Ordering::Relaxed);
    }
    let resp = exchange(upstream, &req).await?;
    client.write_all(&resp).await?;
    client.shutdown().await
}
