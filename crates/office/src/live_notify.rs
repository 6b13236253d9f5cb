//! The live console feed across office processes on one PostgreSQL database: what one process
//! publishes on its [`LiveHub`] reaches the consoles connected to every other process, through
//! PostgreSQL's `LISTEN`/`NOTIFY` on the channel [`CHANNEL`].
//!
//! Two threads per process, each with a dedicated connection (not the store's pool: a listening
//! connection must stay open, and a `NOTIFY` must not wait behind a busy pool):
//!
//! - **out**: takes each published event from a bounded queue and sends `pg_notify(CHANNEL, …)`
//!   with `{"from": <this process>, "event": <LiveEvent>}`. PostgreSQL refuses payloads of 8000
//!   bytes or more, so a larger event (an alert with a very long text) goes as `resync`: the other
//!   consoles refetch everything, which includes it. An event that could not be sent (the
//!   database unreachable, the queue full) is followed by `resync` once sending works again.
//! - **in**: `LISTEN`s and hands every other process's event to this process's hub (its own come
//!   back too and are skipped). When the connection is lost it tells this process's consoles to
//!   `resync` (they may have missed events), reconnects with backoff, listens again and says
//!   `resync` once more (for what was published while it was away).
//!
//! `NOTIFY` is delivered only after the sending transaction commits and only to listeners of the
//! same database, so a test database never hears another's. Consoles already treat every event as
//! "refetch this", so a doubled or reordered event costs a refetch, never a wrong screen.

use crate::api::live::{LiveEvent, LiveHub};
use crate::storage::DatabaseUrl;
use crate::store::postgres::PgTarget;
use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;
use serde::{Deserialize, Serialize};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The channel every office process listens on.
pub const CHANNEL: &str = "heatcrew_live";

/// The feed's connections' `application_name` (what `pg_stat_activity` shows).
pub const APPLICATION_NAME: &str = "heatcrew-office live feed";

/// Payload bytes at most (PostgreSQL's limit is 8000).
const MAX_PAYLOAD: usize = 7_900;

/// Events waiting to be sent before the queue counts as overflowed.
const QUEUE: usize = 1024;

/// How long a silent listening connection goes before it is checked.
const CHECK_SILENT: Duration = Duration::from_secs(15);

/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// One notification's payload.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    /// The process that published it.
    from: Uuid,
    event: LiveEvent,
}

/// The JSON sent for `event`, or `resync` in its place when it would be too large.
fn payload(from: Uuid, event: LiveEvent) -> String {
    let text = serde_json::to_string(&Notice { from, event }).unwrap_or_default();
    if !text.is_empty() && text.len() <= MAX_PAYLOAD {
        return text;
    }
    serde_json::to_string(&Notice {
        from,
        event: LiveEvent::Resync,
    })
    .expect("a resync notice serializes")
}

fn listen(target: &PgTarget) -> Result<Client, postgres::Error> {
    let mut client = target.connect()?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    Ok(client)
}

/// Relay `hub`'s events to and from every other office process on the database at `url`. Fails
/// at once if the database cannot be listened on; afterwards, lost connections are retried.
pub fn start(url: &DatabaseUrl, hub: Arc<LiveHub>) -> anyhow::Result<()> {
    let mut target = PgTarget::parse(url.expose()).map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    target.config.application_name(APPLICATION_NAME);
    target.config.connect_timeout(Duration::from_secs(10));
    let origin = Uuid::new_v4();
    // Listening before the relay is set: every event published from now on is heard.
    let listener = listen(&target)
        .map_err(|e| anyhow::anyhow!("listening for the live feed on {url}: {e}"))?;
    let (tx, rx) = sync_channel(QUEUE);
    hub.relay_to(tx);
    let out_target = target.clone();
    std::thread::Builder::new()
        .name("live-notify-out".into())
        .spawn(move || send_loop(&out_target, origin, &rx))?;
    let weak = Arc::downgrade(&hub);
    std::thread::Builder::new()
        .name("live-notify-in".into())
        .spawn(move || listen_loop(&target, origin, listener, &weak))?;
    Ok(())
}

/// Send each queued event until the hub (the queue's sender) is gone. A connection found dead
/// when sending (PostgreSQL restarted, the connection cut) is replaced at once and the event sent
/// again, after a `resync`.
fn send_loop(target: &PgTarget, origin: Uuid, rx: &Receiver<LiveEvent>) {
    let mut client: Option<Client> = None;
    let mut missed = false;
    while let Ok(event) = rx.recv() {
        for _attempt in 0..2 {
            if client.as_ref().is_none_or(Client::is_closed) {
                client = match target.connect() {
                    Ok(c) => Some(c),
                    Err(e) => {
                        if !missed {
                            tracing::warn!(error = %e, "live feed: cannot reach PostgreSQL to tell the other office processes");
                        }
                        missed = true;
                        break;
                    }
                };
            }
            let Some(c) = client.as_mut() else { break };
            let mut send = |event: LiveEvent| {
                c.execute(
                    "SELECT pg_notify($1, $2)",
                    &[&CHANNEL, &payload(origin, event)],
                )
                .map(|_| ())
            };
            let sent = if missed {
                send(LiveEvent::Resync).and_then(|()| send(event.clone()))
            } else {
                send(event.clone())
            };
            match sent {
                Ok(()) => {
                    missed = false;
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live feed: a notification to the other office processes failed; reconnecting");
                    missed = true;
                    client = None;
                }
            }
        }
    }
}

/// Why [`pump`] returned.
enum Stopped {
    /// The office is shutting down or gone.
    Done,
    /// The connection failed.
    Lost(String),
}

/// Deliver other processes' events until the office stops, reconnecting when the connection is
/// lost (and telling this process's consoles to resync).
fn listen_loop(target: &PgTarget, origin: Uuid, mut client: Client, hub: &Weak<LiveHub>) {
    loop {
        let why = match pump(&mut client, origin, hub) {
            Stopped::Done => return,
            Stopped::Lost(why) => why,
        };
        tracing::warn!(error = %why, "live feed: lost the PostgreSQL connection; reconnecting");
        let resync = |hub: &Weak<LiveHub>| hub.upgrade().map(|h| h.deliver(LiveEvent::Resync));
        if resync(hub).is_none() {
            return;
        }
        let mut wait = Duration::from_millis(250);
        client = loop {
            std::thread::sleep(wait);
            match hub.upgrade() {
                Some(h) if !h.is_closing() => {}
                _ => return,
            }
            match listen(target) {
                Ok(c) => break c,
                Err(_) => wait = (wait * 2).min(MAX_BACKOFF),
            }
        };
        tracing::info!("live feed: listening again");
        // What was published while nobody listened is not coming: consoles refetch.
        resync(hub);
    }
}

fn pump(client: &mut Client, origin: Uuid, hub: &Weak<LiveHub>) -> Stopped {
    let mut heard = Instant::now();
    loop {
        match hub.upgrade() {
            Some(h) if !h.is_closing() => {}
            _ => return Stopped::Done,
        }
        let next = client
            .notifications()
            .timeout_iter(Duration::from_secs(1))
            .next();
        match next {
            Ok(Some(n)) => {
                heard = Instant::now();
                let Some(hub) = hub.upgrade() else {
                    return Stopped::Done;
                };
                match serde_json::from_str::<Notice>(n.payload()) {
                    Ok(notice) if notice.from == origin => {}
                    Ok(notice) => hub.deliver(notice.event),
                    Err(e) => {
                        tracing::warn!(error = %e, "live feed: an unreadable notification; consoles resync");
                        hub.deliver(LiveEvent::Resync);
                    }
                }
            }
            // Nothing within the timeout, or the server went away.
            Ok(None) => {
                if client.is_closed() {
                    return Stopped::Lost("the connection closed".into());
                }
                if heard.elapsed() >= CHECK_SILENT {
                    if let Err(e) = client.is_valid(Duration::from_secs(5)) {
                        return Stopped::Lost(e.to_string());
                    }
                    heard = Instant::now();
                }
            }
            Err(e) => return Stopped::Lost(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_too_large_for_notify_becomes_resync() {
        let from = Uuid::nil();
        let small = payload(
            from,
            LiveEvent::AttachmentReceived {
                sha256: "ab".repeat(32),
            },
        );
        assert!(small.contains("attachment_received"), "{small}");
        let big = payload(
            from,
            LiveEvent::AttachmentReceived {
                sha256: "x".repeat(MAX_PAYLOAD),
            },
        );
        assert!(
            big.len() < MAX_PAYLOAD && big.contains("resync"),
            "PostgreSQL would refuse it: the others refetch instead ({big})"
        );
    }
}
