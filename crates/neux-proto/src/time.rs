//! Time as the protocol sees it: request timestamps, a clock to inject, and the HTTP `Date` codec.
//!
//! Nothing here reads the system clock: `system_clock` beside it holds the clocks that do
//! ([`SystemClock`](crate::SystemClock)), and tests supply a [`ManualClock`].

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long the platform keeps a one-time code valid, as every reference page says: the
/// sandbox's code lifetime and the client's code ledger both start from it.
pub const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// A request timestamp: Unix epoch milliseconds, as the platform wants it (not seconds).
///
/// `neux-proto` never reads the clock: the caller passes the time in.
///
/// ```
/// use neux_proto::Timestamp;
/// let t = Timestamp::from_millis(1_700_000_000_000);
/// assert_eq!(t.to_string(), "1700000000000");
/// assert_eq!(Timestamp::from_system_time(std::time::UNIX_EPOCH), Timestamp::from_millis(0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// From milliseconds since the Unix epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// From a `SystemTime`; times before the epoch become 0.
    pub fn from_system_time(t: SystemTime) -> Self {
        let millis = t
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis();
        Self(u64::try_from(millis).unwrap_or(u64::MAX))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A source of the current time. The client signs, expires tokens and measures skew with one;
/// the sandbox checks windows and expiries with one; a test moves a [`ManualClock`] instead of
/// waiting.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// Time on a clock that only moves forward and is never stepped (by NTP, an operator, a
    /// resumed VM), from an arbitrary origin: what a lifetime kept in memory is measured on, so
    /// a step of the wall clock neither ends it early nor makes it last for ever.
    /// [`SystemClock`](crate::SystemClock) reads the OS's monotonic clock; a [`ManualClock`]
    /// moves it with [`advance`](ManualClock::advance) only, not with [`set`](ManualClock::set).
    fn monotonic(&self) -> Duration;

    /// The current time as a request [`Timestamp`].
    fn timestamp(&self) -> Timestamp {
        Timestamp::from_system_time(self.now())
    }
}

/// A clock that moves only when told to; clones share the same time, so one clock can drive a
/// client and a sandbox together.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use neux_proto::{Clock, ManualClock};
/// let clock = ManualClock::from_millis(1_700_000_000_000);
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_700_000_060));
/// assert_eq!(clock.timestamp().as_millis(), 1_700_000_060_000);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<(SystemTime, Duration)>>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: SystemTime) -> Self {
        Self(Arc::new(Mutex::new((at, Duration::ZERO))))
    }

    /// A clock stopped at `millis` after the Unix epoch.
    pub fn from_millis(millis: u64) -> Self {
        Self::new(UNIX_EPOCH + Duration::from_millis(millis))
    }

    /// Lets `by` pass: the wall time and the monotonic time move forward together (the wall
    /// time stops at the end of `SystemTime`'s range).
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(later) = t.0.checked_add(by) {
            t.0 = later;
        }
        t.1 = t.1.saturating_add(by);
    }

    /// Steps the wall time to `at`, as NTP or an operator would: no time passes, so
    /// [`monotonic`](Clock::monotonic) stays where it is.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use neux_proto::{Clock, ManualClock};
    /// let clock = ManualClock::from_millis(0);
    /// clock.set(UNIX_EPOCH + Duration::from_secs(3_600));
    /// assert_eq!(clock.monotonic(), Duration::ZERO);
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(clock.monotonic(), Duration::from_secs(1));
    /// ```
    pub fn set(&self, at: SystemTime) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).0 = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    fn monotonic(&self) -> Duration {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).1
    }
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats an HTTP `Date` value (RFC 9110 IMF-fixdate), to the second; times before the epoch
/// format as the epoch.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use neux_proto::{format_http_date, parse_http_date};
/// let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// assert_eq!(format_http_date(t), "Tue, 14 Nov 2023 22:13:20 GMT");
/// assert_eq!(parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"), Some(t));
/// ```
pub fn format_http_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[(days % 7) as usize];
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(i64::MAX / 2));
    let month = MONTHS[(month - 1) as usize];
    format!("{weekday}, {day:02} {month} {year} {h:02}:{m:02}:{s:02} GMT")
}

/// Parses an HTTP `Date` value in IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`). The
/// obsolete forms, and anything out of range, give `None`: a server's header must never
/// overflow anyone's arithmetic.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
    let mut it = s.split_whitespace();
    let _weekday = it.next()?;
    let day: u32 = it.next().filter(|t| digits(t, 2))?.parse().ok()?;
    let month = it.next()?;
    let month = MONTHS.iter().position(|m| *m == month)?;
    // IMF-fixdate's year is exactly four digits, which also bounds every sum below.
    let year: i64 = it.next().filter(|t| digits(t, 4))?.parse().ok()?;
    let mut hms = it
        .next()?
        .split(':')
        .map(|p| p.parse::<u64>().ok().filter(|_| digits(p, 2)));
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT" || day == 0 || day > 31 || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = u64::try_from(days_from_civil(year, month as u32 + 1, day)).ok()?;
    let secs = days
        .checked_mul(86_400)?
        .checked_add(h * 3600 + m * 60 + sec)?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day), the inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// 9999-12-31T23:59:59Z: the last second IMF-fixdate's four-digit year can carry.
    const LAST_FOUR_DIGIT_SECOND: u64 = 253_402_300_799;

    proptest::proptest! {
        #[test]
        fn formatting_then_parsing_gives_the_second_back(secs in 0..=LAST_FOUR_DIGIT_SECOND, ms in 0u64..1000) {
            let t = at(secs) + Duration::from_millis(ms);
            proptest::prop_assert_eq!(parse_http_date(&format_http_date(t)), Some(at(secs)));
        }

        #[test]
        fn never_panics_on_any_text(s in "\\PC{0,64}") {
            let _ = parse_http_date(&s);
        }

        #[test]
        fn never_panics_on_date_shaped_numbers(
            d in proptest::num::u64::ANY, y in proptest::num::i64::ANY,
            h in proptest::num::u64::ANY, m in proptest::num::u64::ANY,
        ) {
            // Each field out of range alone, the others valid, so every check is reached.
            let _ = parse_http_date(&format!("Tue, {d} Nov 2023 22:13:20 GMT"));
            let _ = parse_http_date(&format!("Tue, 14 Nov {y} 22:13:20 GMT"));
            let _ = parse_http_date(&format!("Tue, 14 Nov 2023 {h}:13:20 GMT"));
            let _ = parse_http_date(&format!("Tue, 14 Nov 2023 22:{m}:{h} GMT"));
            let _ = parse_http_date(&format!("Tue, {:02} Dec {:04} 22:13:20 GMT", d % 100, y.rem_euclid(10_000)));
        }
    }

    #[test]
    fn formats_imf_fixdate() {
        assert_eq!(
            format_http_date(UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            format_http_date(at(1_700_000_000)),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
        assert_eq!(
            format_http_date(at(951_782_400)),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(
            format_http_date(at(1_795_651_200) + Duration::from_millis(999)),
            "Thu, 26 Nov 2026 00:00:00 GMT"
        );
        assert_eq!(
            format_http_date(UNIX_EPOCH - Duration::from_secs(1)),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn parses_imf_fixdate() {
        assert_eq!(
            parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"),
            Some(at(1_700_000_000))
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(at(951_782_400))
        );
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(UNIX_EPOCH)
        );
    }

    #[test]
    fn refuses_other_forms_and_junk() {
        for s in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Tue, 14 Nov 2023 25:00:00 GMT",
            "Tue, 14 Foo 2023 22:13:20 GMT",
            "Tue, 14 Nov 2023 22:13:20 PST",
            // Numbers a hostile server might send to overflow the arithmetic.
            "Tue, 14 Nov 300000000000 22:13:20 GMT",
            "Tue, 14 Nov 9223372036854775807 22:13:20 GMT",
            "Tue, 99999999999999999999 Nov 2023 22:13:20 GMT",
            "Tue, 14 Nov 2023 18446744073709551615:13:20 GMT",
            "Tue, 14 Nov -2023 22:13:20 GMT",
            "Tue, 4 Nov 2023 22:13:20 GMT",
        ] {
            assert_eq!(parse_http_date(s), None, "{s}");
        }
    }

    #[test]
    fn a_manual_clock_is_shared_by_its_clones_and_never_overflows() {
        let clock = ManualClock::from_millis(1_000);
        let other = clock.clone();
        clock.advance(Duration::from_millis(500));
        assert_eq!(other.timestamp(), Timestamp::from_millis(1_500));
        other.advance(Duration::MAX);
        assert_eq!(clock.timestamp(), Timestamp::from_millis(1_500));
    }
}
