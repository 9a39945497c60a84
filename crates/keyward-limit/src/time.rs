//! Small conversions between `Duration`, nanoseconds and whole seconds.

use std::time::Duration;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// `d` in nanoseconds, saturating at `u64::MAX` (about 584 years).
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Whole seconds, rounded up, at least 1: what `Retry-After` may say.
///
/// Rounding down would invite a client to retry a fraction of a second too early and
/// be refused again; zero would tell it to retry at once.
pub(crate) fn retry_secs(nanos: u64) -> u64 {
    nanos.div_ceil(NANOS_PER_SEC).max(1)
}

/// Whole seconds, rounded up (zero stays zero).
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    nanos(d).div_ceil(NANOS_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_and_is_at_least_one() {
        assert_eq!(retry_secs(0), 1);
        assert_eq!(retry_secs(1), 1);
        assert_eq!(retry_secs(999_999_999), 1);
        assert_eq!(retry_secs(1_000_000_000), 1);
        assert_eq!(retry_secs(1_000_000_001), 2);
        assert_eq!(retry_secs(59_500_000_000), 60);
    }

    #[test]
    fn ceil_secs_keeps_zero() {
        assert_eq!(ceil_secs(Duration::ZERO), 0);
        assert_eq!(ceil_secs(Duration::from_millis(1)), 1);
        assert_eq!(ceil_secs(Duration::from_secs(3)), 3);
    }

    #[test]
    fn nanos_saturate() {
        assert_eq!(nanos(Duration::MAX), u64::MAX);
        assert_eq!(nanos(Duration::from_secs(2)), 2 * NANOS_PER_SEC);
    }
}
