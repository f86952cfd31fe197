//! Parsing the server's `Date` header (IMF-fixdate), to measure clock skew.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses `Sun, 06 Nov 1994 08:49:37 GMT`. Other (obsolete) forms, and anything out of range,
/// give `None`: a server's header must never overflow our arithmetic.
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
    let mut it = s.split_whitespace();
    let _weekday = it.next()?;
    let day = it.next().filter(|t| digits(t, 2))?;
    let day: u32 = day.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
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
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    let secs = days
        .checked_mul(86_400)?
        .checked_add(h * 3600 + m * 60 + sec)?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's method).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
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
    fn parses_imf_fixdate() {
        let t = parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_700_000_000
        );
        let t = parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 951_782_400);
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
}
