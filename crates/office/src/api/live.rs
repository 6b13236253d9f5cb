//! Live updates for open consoles (OpenAPI tag `live`): `GET /api/v1/live`, server-sent events, office
//! staff only. Each event names what changed, after it committed: a job (a device's push, a dispatch
//! change), a complaint taken or changed, an attachment that finished uploading, or an urgent alert
//! raised or acknowledged (carried whole, so the banner shows at once). A console refetches what an
//! event names, and everything after it (re)connects, so a dropped connection misses nothing; a
//! console too slow to keep up gets `resync` instead of the events it missed.
//!
//! A stream lives no longer than the access token that opened it: it ends when the token expires,
//! or within [`SESSION_CHECK`] of its session being revoked (sign-out, a password reset, a
//! deactivation) or ending. The console then reconnects with a refreshed token, or is signed out.

use super::extract::{Auth, STAFF, token_hash};
use crate::OfficeState;
use crate::error::{ApiResult, ErrorBodySchema};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use heatcrew_protocol::Digest;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Each route with its OpenAPI path.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default().routes(routes!(live))
}

/// One server-sent event's data (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A job's dispatch or its records changed: refetch it.
    JobChanged { job_id: Uuid },
    /// An attachment's last byte arrived and its hash matched.
    AttachmentReceived { sha256: String },
    /// An urgent record (an accident report) arrived: show the alert now.
    AlertRaised {
        alert: Box<super::console::alerts::ConsoleAlert>,
    },
    /// Someone at the office acknowledged an alert.
    AlertAcknowledged {
        alert: Box<super::console::alerts::ConsoleAlert>,
    },
    /// A complaint or report was taken, handed over, answered or called back: refetch it and the
    /// complaints list.
    ComplaintChanged { complaint_id: Uuid },
    /// Events were dropped for this connection (it fell behind): refetch everything.
    Resync,
}

/// Fan-out of [`LiveEvent`]s to every open stream. Publishing never blocks and never fails: with no
/// console open the event is simply dropped.
///
/// With several office processes on one PostgreSQL database, [`crate::live_notify`] relays what is
/// published here to the other processes' hubs ([`LiveHub::relay_to`]) and what they publish to
/// this one ([`LiveHub::deliver`]).
#[derive(Debug)]
pub struct LiveHub {
    tx: broadcast::Sender<LiveEvent>,
    /// Set when the office shuts down: streams end, so a graceful shutdown is not held open by them.
    closing: watch::Sender<bool>,
    /// Where published events also go for the other office processes (never blocks).
    relay: std::sync::OnceLock<std::sync::mpsc::SyncSender<LiveEvent>>,
    /// The relay's queue was full: the other processes missed something, tell them to resync.
    relay_overflowed: std::sync::atomic::AtomicBool,
}

/// How often an open stream looks its session up again (revoked, expired: the stream ends).
pub const SESSION_CHECK: Duration = Duration::from_secs(2);

/// Events a slow connection may fall behind before it is told to resync.
const BACKLOG: usize = 1024;

impl Default for LiveHub {
    fn default() -> Self {
        LiveHub {
            tx: broadcast::channel(BACKLOG).0,
            closing: watch::channel(false).0,
            relay: std::sync::OnceLock::new(),
            relay_overflowed: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl LiveHub {
    /// Tell this process's open streams, and (with a relay) the other processes'.
    pub fn publish(&self, event: LiveEvent) {
        if let Some(relay) = self.relay.get() {
            use std::sync::atomic::Ordering;
            if self.relay_overflowed.load(Ordering::Acquire)
                && relay.try_send(LiveEvent::Resync).is_ok()
            {
                self.relay_overflowed.store(false, Ordering::Release);
            }
            if let Err(std::sync::mpsc::TrySendError::Full(_)) = relay.try_send(event.clone()) {
                self.relay_overflowed.store(true, Ordering::Release);
            }
        }
        self.deliver(event);
    }

    /// Tell this process's open streams only (an event another process published).
    pub fn deliver(&self, event: LiveEvent) {
        let _ = self.tx.send(event);
    }

    /// Also hand every published event to `relay` (set once, at start).
    pub fn relay_to(&self, relay: std::sync::mpsc::SyncSender<LiveEvent>) {
        let _ = self.relay.set(relay);
    }

    /// The office is shutting down (the relay's threads stop too).
    pub fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    pub fn job_changed(&self, job_id: Uuid) {
        self.publish(LiveEvent::JobChanged { job_id });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }

    /// End every open stream (and any opened later): the office is shutting down.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// The stream of a subscription: each event as SSE `data:` JSON; `resync` after a lag.
fn events(
    rx: broadcast::Receiver<LiveEvent>,
    closing: watch::Receiver<bool>,
    session_over: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let start = (rx, closing, session_over);
    futures_util::stream::unfold(start, |(mut rx, mut closing, mut over)| async move {
        let received = tokio::select! {
            r = rx.recv() => r,
            _ = closing.wait_for(|c| *c) => return None,
            _ = over.wait_for(|o| *o) => return None,
        };
        let event = match received {
            Ok(e) => e,
            Err(broadcast::error::RecvError::Lagged(_)) => LiveEvent::Resync,
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        let sse = Event::default()
            .json_data(&event)
            .unwrap_or_else(|_| Event::default().data(r#"{"kind":"resync"}"#));
        Some((Ok(sse), (rx, closing, over)))
    })
}

/// Server-sent events for open consoles (`text/event-stream`, a keep-alive comment every 15 s).
#[utoipa::path(get, path = "/api/v1/live", tag = "live",
    responses((status = 200, content_type = "text/event-stream", body = LiveEvent, description = "one LiveEvent (JSON) per `data:` line"),
        (status = 403, body = ErrorBodySchema, description = "field staff")))]
pub async fn live(
    State(state): State<OfficeState>,
    headers: HeaderMap,
    auth: Auth,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    auth.require(STAFF)?;
    let rx = state.live.subscribe();
    let closing = state.live.closing.subscribe();
    // `Auth` accepted this header, so it is there.
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("Bearer "))
        .unwrap_or_default();
    let (over_tx, over_rx) = watch::channel(false);
    tokio::spawn(watch_session(state, token_hash(token.trim()), over_tx));
    Ok(Sse::new(events(rx, closing, over_rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Tell the stream when the session of `access_hash` is over: revoked, past its access token's
/// expiry or its absolute lifetime, or gone. Stops when the stream is dropped.
async fn watch_session(state: OfficeState, access_hash: Digest, over: watch::Sender<bool>) {
    loop {
        tokio::select! {
            _ = over.closed() => return,
            _ = tokio::time::sleep(SESSION_CHECK) => {}
        }
        let store = state.store.clone();
        let session =
            tokio::task::spawn_blocking(move || store.session_by_access(access_hash)).await;
        let now = state.now();
        let ended = match session {
            Ok(Ok(Some(s))) => {
                s.revoked || s.access_expires_at <= now || s.absolute_expires_at <= now
            }
            Ok(Ok(None)) => true,
            // The store could not answer: keep the stream and look again.
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "live stream: cannot look its session up");
                false
            }
            Err(_) => false,
        };
        if ended {
            over.send_replace(true);
            return;
        }
    }
}
