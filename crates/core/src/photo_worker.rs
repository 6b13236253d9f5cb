//! The background worker that processes queued photos (see [`crate::store::Store::take_photo`]).
//!
//! One thread, one photo at a time, in the order they were taken: the store is locked only to
//! pick the next capture and to record the result, never while a photo is decoded and encoded,
//! so the technician's next tap is answered while a photo is being processed. It starts by
//! processing whatever an earlier run left in the queue (the app closed mid-processing).

use crate::error::Result;
use crate::store::Store;
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::time::Duration;

/// Wakes the worker; dropping the last handle lets the thread end.
#[derive(Debug, Clone)]
pub struct PhotoWorker {
    signal: Arc<Signal>,
}

#[derive(Debug, Default)]
struct Signal {
    /// (work may be waiting, stop)
    flags: Mutex<(bool, bool)>,
    cond: Condvar,
}

impl PhotoWorker {
    /// Start the worker thread on `store`; it ends when the store is dropped (or on [`stop`]).
    ///
    /// [`stop`]: PhotoWorker::stop
    pub fn start(store: Arc<Mutex<Store>>) -> PhotoWorker {
        let store: Weak<Mutex<Store>> = Arc::downgrade(&store);
        let signal = Arc::new(Signal {
            flags: Mutex::new((true, false)),
            cond: Condvar::new(),
        });
        let theirs = Arc::clone(&signal);
        std::thread::Builder::new()
            .name("photo-worker".into())
            .spawn(move || {
                loop {
                    {
                        let mut flags = theirs.flags.lock().unwrap_or_else(PoisonError::into_inner);
                        while !flags.0 && !flags.1 {
                            // A periodic look too: a capture retaken or a failed write is tried again.
                            let (f, _) = theirs
                                .cond
                                .wait_timeout(flags, Duration::from_secs(30))
                                .unwrap_or_else(PoisonError::into_inner);
                            flags = f;
                            flags.0 = true;
                        }
                        if flags.1 {
                            return;
                        }
                        flags.0 = false;
                    }
                    let Some(strong) = store.upgrade() else {
                        return; // the app closed its store
                    };
                    let done = process_all(&strong);
                    // And what waited for a sign-in (`Store::record_held`).
                    if let Err(e) = done.and_then(|_| lock(&strong).record_held()) {
                        eprintln!("photo worker: {e}");
                    }
                }
            })
            .expect("start the photo worker thread");
        PhotoWorker { signal }
    }

    /// There is a new photo to process.
    pub fn wake(&self) {
        let mut flags = self
            .signal
            .flags
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        flags.0 = true;
        self.signal.cond.notify_all();
    }

    /// End the thread after the photo it is processing (if any).
    pub fn stop(&self) {
        let mut flags = self
            .signal
            .flags
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        flags.1 = true;
        self.signal.cond.notify_all();
    }
}

/// Process every queued photo, oldest first, recording each (and the actions held behind it)
/// as it is done. Returns how many were processed. The store is not held while processing.
pub fn process_all(store: &Mutex<Store>) -> Result<usize> {
    let mut done = 0;
    loop {
        let next = lock(store).next_photo_to_process()?;
        let Some(work) = next else {
            return Ok(done);
        };
        let outcome = work.process();
        lock(store).finish_photo(work.id, outcome)?;
        done += 1;
    }
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}
