//! The office's clock. Everything that decides by time whether a session, a lockout or a challenge
//! still holds asks [`Clock::now`] (through `OfficeState::now`), so tests move time forward with
//! [`Clock::advance`] instead of sleeping.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The system clock, shifted by an offset that only tests change. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Move this clock (and every clone of it) forward by `by` (a test clock).
    pub fn advance(&self, by: TimeDelta) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_a_clone_moves_every_clone() {
        let clock = Clock::system();
        let other = clock.clone();
        let before = clock.now();
        other.advance(TimeDelta::hours(5));
        assert!(clock.now() - before >= TimeDelta::hours(5));
        assert!(clock.now() - before < TimeDelta::hours(6));
    }
}
