//! The clocks that read the operating system's time. The [`Clock`] trait and the test clock
//! ([`ManualClock`](neux_proto::ManualClock)) live in neux-proto, which never reads the time
//! itself; this crate is where neux meets the OS, so the system clocks live here.

use std::time::{Duration, SystemTime};

use neux_proto::Clock;

/// The system clock (the default everywhere).
///
/// ```
/// use neux_transport::{Clock, SystemClock};
/// assert!(SystemClock.now() > std::time::UNIX_EPOCH);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that reads the system time shifted by a fixed amount: a host whose clock is wrong.
///
/// ```
/// use std::time::Duration;
/// use neux_transport::{Clock, SkewedClock};
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
        let shifted = if self.ahead {
            now.checked_add(self.offset)
        } else {
            now.checked_sub(self.offset)
        };
        shifted.unwrap_or(now)
    }
}
