//! Liveness and readiness for a load balancer: `GET /healthz` says the process serves, `GET
//! /readyz` that it also reads its database. An office on PostgreSQL behind a TCP link the test
//! cuts (every open connection closed, new ones refused, as a database host going away does):
//! ready before, 503 naming the database within seconds while cut (not hanging on the pool's own
//! 30 s wait), ready again once the link is back; alive throughout.

use super::*;
use heatcrew_testkit::pg::TestDb;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP link to `upstream` that can be cut and restored.
struct Link {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Link {
    async fn to(upstream: std::net::SocketAddr) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (u, c) = (up.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                c.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Link {
            addr,
            up,
            conns,
            accept,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

async fn get(http: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    let r = http.get(url).send().await.expect("request");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_and_liveness_does_not() {
    let Some(db) = tokio::task::block_in_place(TestDb::create) else {
        return;
    };
    // The test database's address, with its host and port replaced by the link's.
    let (scheme, rest) = db.url.split_once("://").expect("url");
    let (user, rest) = rest.split_once('@').expect("user");
    let (host_port, name) = rest.split_once('/').expect("database");
    let upstream = tokio::net::lookup_host(host_port)
        .await
        .expect("resolve")
        .next()
        .expect("an address");
    let link = Link::to(upstream).await;
    let via_link = format!("{scheme}://{user}@{}/{name}", link.addr);
    let office = TestOffice::start_on_postgres(&via_link, Seed::TestAccounts, |_| {}).await;
    let http = reqwest::Client::new();
    let (ready, live) = (
        format!("{}/readyz", office.url()),
        format!("{}/healthz", office.url()),
    );

    assert_eq!(
        get(&http, &ready).await,
        (StatusCode::OK, json!({"ok": true}))
    );

    link.cut();
    let asked = std::time::Instant::now();
    let (status, body) = get(&http, &ready).await;
    let waited = asked.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        body["code"] == "internal" && message.contains("database"),
        "says why, as {{code, message}}: {body}"
    );
    assert!(
        waited < std::time::Duration::from_secs(15),
        "answers within seconds, not after the pool's 30 s wait: {waited:?}"
    );
    assert_eq!(
        get(&http, &live).await,
        (StatusCode::OK, json!({"ok": true})),
        "still alive: the process serves"
    );

    link.restore();
    let mut back = None;
    for _ in 0..60 {
        let (status, body) = get(&http, &ready).await;
        if status == StatusCode::OK {
            back = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    assert_eq!(
        back,
        Some(json!({"ok": true})),
        "ready again once the database answers"
    );
    drop(office);
    drop(link);
}

#[tokio::test]
async fn an_office_on_sqlite_is_ready() {
    let office = TestOffice::start().await;
    let http = reqwest::Client::new();
    assert_eq!(
        get(&http, &format!("{}/readyz", office.url())).await,
        (StatusCode::OK, json!({"ok": true}))
    );
}
