//! A document written on a blocking thread and streamed to the client as it is written: the
//! writer hands 64 KiB chunks over a small channel (back-pressure: it waits while the client is
//! slow), so the response starts at once and the office never holds the whole file.

use super::DocumentError;
use axum::body::{Body, Bytes};
use std::io::{self, Write};
use tokio::sync::mpsc;

const CHUNK: usize = 64 * 1024;

/// A [`Write`] whose bytes become the response body.
#[derive(Debug)]
pub struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buf: Vec<u8>,
    /// Bytes handed to the response so far.
    pub sent: u64,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.sent += chunk.len() as u64;
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// A response body written by `write` on a blocking thread. A failure part-way (the store, a
/// client that went away) ends the body with an error, so the client sees a cut-off download
/// rather than a file that looks complete; it is logged with `what`.
pub fn body_from_blocking(
    what: &'static str,
    write: impl FnOnce(&mut ChannelWriter) -> Result<(), DocumentError> + Send + 'static,
) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
            sent: 0,
        };
        let started = std::time::Instant::now();
        match write(&mut w).and_then(|()| w.flush().map_err(DocumentError::from)) {
            Ok(()) => tracing::info!(
                document = what,
                bytes = w.sent,
                ms = started.elapsed().as_millis() as u64,
                "document streamed"
            ),
            Err(e) => {
                tracing::warn!(document = what, error = %e, "document cut off");
                let _ = tx.blocking_send(Err(io::Error::other(e.to_string())));
            }
        }
    });
    // Fused: the compression layer polls once more after the end, which a bare `unfold` forbids.
    Body::from_stream(futures_util::StreamExt::fuse(futures_util::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) },
    )))
}
