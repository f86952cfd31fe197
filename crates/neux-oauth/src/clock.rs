//! The client's notion of now: timestamps for signing, token expiry, clock-skew measurement.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A source of the current time. Inject one with [`ClientBuilder::clock`](crate::ClientBuilder::clock)
/// to test expiry and clock skew without waiting.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use neux_oauth::{Clock, ManualClock};
/// let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_700_000_060));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    /// A clock that reads the system time plus `offset` (ahead) at creation, then stops.
    pub fn offset_from_system(offset: Duration, ahead: bool) -> Self {
        let now = SystemTime::now();
        Self::new(if ahead { now + offset } else { now - offset })
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }

    /// Sets the clock.
    pub fn set(&self, at: SystemTime) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A clock that reads the system time shifted by a fixed amount: a host whose clock is wrong.
///
/// ```
/// use std::time::Duration;
/// use neux_oauth::{Clock, SkewedClock};
/// let ahead = SkewedClock::ahead(Duration::from_secs(600));
/// assert!(ahead.now() > std::time::SystemTime::now());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SkewedClock {
    offset: Duration,
    ahead: bool,
}

impl SkewedClock {
    /// A clock running `by` ahead of the system clock.
    pub fn ahead(by: Duration) -> Self {
        Self {
            offset: by,
            ahead: true,
        }
    }
    /// A clock running `by` behind the system clock.
    pub fn behind(by: Duration) -> Self {
        Self {
            offset: by,
            ahead: false,
        }
    }
}

impl Clock for SkewedClock {
    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        if self.ahead {
            now + self.offset
        } else {
            now - self.offset
        }
    }
}
