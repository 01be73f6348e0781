//! Formatting shared by every line of the trace.

use std::time::Duration;

/// `{ms}.{micros:03}` from integer nanoseconds, as every leg prints it.
pub(crate) fn ms(d: Duration) -> String {
    let ns = d.as_nanos();
    format!("{}.{:03}", ns / 1_000_000, (ns / 1000) % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_milliseconds_with_three_decimals() {
        assert_eq!(ms(Duration::from_nanos(1_234_567_890)), "1234.567");
        assert_eq!(ms(Duration::from_nanos(5_000)), "0.005");
        assert_eq!(ms(Duration::ZERO), "0.000");
    }
}
