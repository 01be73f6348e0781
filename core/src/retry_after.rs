//! Parsing the HTTP `Retry-After` header (RFC 9110 §10.2.3): either
//! delta-seconds or an HTTP-date. The cap at `max_delay` is applied by
//! [`crate::RetryPolicy::cap_retry_after`].

use std::time::Duration;

/// The wait a `Retry-After` value asks for, given the current wall-clock time
/// as time since the UNIX epoch. A date in the past gives zero; a value that
/// is neither form gives `None` (ignore the header).
///
/// ```
/// use std::time::Duration;
/// use resilience_core::parse_retry_after;
/// let now = Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), Some(Duration::from_secs(10)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now_since_epoch: Duration) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Huge delta-seconds saturate rather than fail: the cap applies later.
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = parse_http_date(value)?;
    Some(at.saturating_sub(now_since_epoch))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

// Every field is range-checked before the arithmetic below (year 0..=9999,
// day 1..=31, hour 0..=23, …), so no operation can overflow.
#[allow(clippy::arithmetic_side_effects)]
/// Parses the three HTTP-date forms into time since the epoch:
/// IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850
/// `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`.
fn parse_http_date(s: &str) -> Option<Duration> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        [_, d, m, y, t, "GMT"] => (d.parse().ok()?, month_index(m)?, y.parse().ok()?, *t),
        [_, dmy, t, "GMT"] => {
            let mut it = dmy.split('-');
            let d = it.next()?.parse().ok()?;
            let m = month_index(it.next()?)?;
            let y: i64 = it.next()?.parse().ok()?;
            // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
            let y = if y < 100 {
                if y < 70 {
                    2000 + y
                } else {
                    1900 + y
                }
            } else {
                y
            };
            (d, m, y, *t)
        }
        [_, m, d, t, y] => (d.parse().ok()?, month_index(m)?, y.parse().ok()?, *t),
        _ => return None,
    };
    let mut hms = time.split(':');
    let h: u8 = hms.next()?.parse().ok()?;
    let mi: u8 = hms.next()?.parse().ok()?;
    let sec: u8 = hms.next()?.parse().ok()?;
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let (h, mi, sec) = (i64::from(h), i64::from(mi), i64::from(sec));
    let days = days_from_civil(year, month, day)?;
    let secs = days.checked_mul(86_400)?.checked_add(h * 3600 + mi * 60 + sec)?;
    u64::try_from(secs).ok().map(Duration::from_secs)
}

fn month_index(m: &str) -> Option<i64> {
    MONTHS
        .iter()
        .position(|&x| x == m)
        .and_then(|i| i64::try_from(i).ok())
        .map(|i| i.saturating_add(1))
}

#[allow(clippy::arithmetic_side_effects)] // year is checked to 0..=9999 first
/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(0..=9999).contains(&y) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(784_111_777);

    #[test]
    fn all_three_date_forms() {
        for v in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(v), Some(NOW), "{v}");
        }
    }

    #[test]
    fn past_dates_give_zero_and_garbage_gives_none() {
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", NOW),
            Some(Duration::ZERO)
        );
        for v in [
            "",
            "-5",
            "1.5",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(v, NOW), None, "{v}");
        }
        assert_eq!(
            parse_retry_after("99999999999999999999999", NOW),
            Some(Duration::from_secs(u64::MAX))
        );
    }
}
