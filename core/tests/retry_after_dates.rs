//! `Retry-After` HTTP-dates beyond the common forms: RFC 850's two-digit
//! years (RFC 9110's fifty-year rule), four-digit ones, and years the
//! calendar arithmetic refuses.

use std::time::Duration;

use resilience_core::parse_retry_after;

const EPOCH: Duration = Duration::ZERO;
/// 2025-11-06 08:49:37 UTC and 1994-11-06 08:49:37 UTC as UNIX time.
const IN_2025: Duration = Duration::from_secs(1_762_418_977);
const IN_1994: Duration = Duration::from_secs(784_111_777);

#[test]
fn a_two_digit_year_below_70_is_in_this_century() {
    assert_eq!(
        parse_retry_after("Thursday, 06-Nov-25 08:49:37 GMT", EPOCH),
        Some(IN_2025)
    );
}

#[test]
fn a_two_digit_year_from_70_is_in_the_last_century() {
    assert_eq!(
        parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", EPOCH),
        Some(IN_1994)
    );
}

#[test]
fn a_four_digit_year_in_the_rfc_850_form_is_taken_as_is() {
    assert_eq!(
        parse_retry_after("Thursday, 06-Nov-2025 08:49:37 GMT", EPOCH),
        Some(IN_2025)
    );
}

#[test]
fn a_wait_is_measured_from_now() {
    let now = IN_2025 - Duration::from_secs(90);
    assert_eq!(
        parse_retry_after("Thu, 06 Nov 2025 08:49:37 GMT", now),
        Some(Duration::from_secs(90))
    );
}

#[test]
fn years_past_9999_are_not_dates() {
    assert_eq!(parse_retry_after("Sun, 06 Nov 10000 08:49:37 GMT", EPOCH), None);
    assert_eq!(parse_retry_after("Sunday, 06-Nov-10000 08:49:37 GMT", EPOCH), None);
}
