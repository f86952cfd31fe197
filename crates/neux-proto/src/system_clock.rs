//! The clocks that read the operating system: the only module of the workspace's libraries that
//! may (a clippy `disallowed-methods` rule keeps `SystemTime::now` and `Instant::now` out of
//! every other). Nothing else in neux-proto calls them: the protocol takes time as an argument.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use crate::time::Clock;

/// The system clock (the default everywhere).
///
/// ```
/// use neux_proto::{Clock, SystemClock};
/// assert!(SystemClock.now() > std::time::UNIX_EPOCH);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one place that reads the wall clock.
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn monotonic(&self) -> Duration {
        monotonic()
    }
}

/// The OS's monotonic clock, from the first reading in this process.
fn monotonic() -> Duration {
    static ORIGIN: OnceLock<Stopwatch> = OnceLock::new();
    ORIGIN.get_or_init(Stopwatch::start).elapsed()
}

/// A clock that reads the system time shifted by a fixed amount: a host whose clock is wrong.
///
/// ```
/// use std::time::Duration;
/// use neux_proto::{Clock, SkewedClock, SystemClock};
/// let ahead = SkewedClock::ahead(Duration::from_secs(600));
/// assert!(ahead.now() > SystemClock.now());
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
        let now = SystemClock.now();
        let shifted = if self.ahead {
            now.checked_add(self.offset)
        } else {
            now.checked_sub(self.offset)
        };
        shifted.unwrap_or(now)
    }

    fn monotonic(&self) -> Duration {
        monotonic()
    }
}

/// Elapsed time on the monotonic clock, for latencies (never for timestamps or expiry, which
/// follow the injected [`Clock`]).
///
/// ```
/// let watch = neux_proto::Stopwatch::start();
/// assert!(watch.elapsed() < std::time::Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts measuring now.
    #[allow(clippy::disallowed_methods)] // The one place that reads the monotonic clock.
    pub fn start() -> Self {
        Self(Instant::now())
    }

    /// The time since [`start`](Self::start).
    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}
