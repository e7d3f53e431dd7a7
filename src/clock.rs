//! Time is injected so that tests can pin it: nothing outside this file asks
//! the operating system for the time of day.

#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub trait Clock: Send + Sync {
    /// dewstack's time: every date it stores or compares (creation, due
    /// dates, token expiry) comes from here.
    fn now(&self) -> DateTime<Utc>;

    /// The operating system's time, which clients date their signatures by
    /// (the X-Sdk-Date skew check). The same as `now` except under the dev
    /// clock, where `now` has been moved ahead and client clocks have not.
    fn wall(&self) -> DateTime<Utc> {
        self.now()
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; shared handles see the same time.
#[derive(Clone)]
pub struct FixedClock {
    millis: Arc<AtomicI64>,
}

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self {
            millis: Arc::new(AtomicI64::new(at.timestamp_millis())),
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.millis
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.millis.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

/// The system clock plus an offset that only grows: dewstack's time under
/// `--dev-clock` (docs/operations.md). `wall` stays the system's time, so
/// signatures made by real client clocks still verify after a jump.
#[derive(Default)]
pub struct OffsetClock {
    offset_ms: AtomicI64,
}

impl OffsetClock {
    /// Moves dewstack's time ahead by `by` (negative durations are ignored:
    /// time travel goes forward only, as due work cannot be undone).
    pub fn advance(&self, by: chrono::Duration) {
        let ms = by.num_milliseconds().max(0);
        let _ = self
            .offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| {
                Some(o.saturating_add(ms))
            });
    }

    pub fn offset(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        now.checked_add_signed(self.offset()).unwrap_or(now)
    }

    fn wall(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_clock_moves_ahead_and_leaves_wall_time_alone() {
        let clock = OffsetClock::default();
        clock.advance(chrono::Duration::days(8));
        clock.advance(chrono::Duration::days(-3));
        assert_eq!(clock.offset(), chrono::Duration::days(8));
        let wall = clock.wall();
        let ahead = clock.now() - wall;
        assert!(ahead >= chrono::Duration::days(8), "{ahead}");
        assert!(ahead < chrono::Duration::days(8) + chrono::Duration::seconds(5));
        let fixed = FixedClock::new(DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        assert_eq!(fixed.wall(), fixed.now());
    }
}
