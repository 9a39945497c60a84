use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in wall-clock time: nanoseconds since the Unix epoch.
///
/// Small and `Copy` so the hot path can compare it without touching `SystemTime`.
/// Displays as RFC 3339 in UTC with whole seconds (`2026-05-10T03:42:11Z`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

/// A string that is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 timestamp")]
pub struct TimestampParseError;

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    /// From nanoseconds since the Unix epoch.
    pub const fn from_unix_nanos(nanos: u64) -> Self {
        Timestamp(nanos)
    }

    /// From milliseconds since the Unix epoch.
    pub const fn from_unix_millis(millis: u64) -> Self {
        Timestamp(millis.saturating_mul(1_000_000))
    }

    /// From whole seconds since the Unix epoch.
    pub const fn from_unix_seconds(seconds: u64) -> Self {
        Timestamp(seconds.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn as_unix_nanos(self) -> u64 {
        self.0
    }

    /// Milliseconds since the Unix epoch, rounded down.
    pub const fn as_unix_millis(self) -> u64 {
        self.0 / 1_000_000
    }

    /// Whole seconds since the Unix epoch, rounded down.
    pub const fn as_unix_seconds(self) -> u64 {
        self.0 / 1_000_000_000
    }

    /// This time plus `d`, saturating at the far future.
    pub fn saturating_add(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(duration_nanos(d)))
    }

    /// This time minus `d`, saturating at the epoch.
    pub fn saturating_sub(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(duration_nanos(d)))
    }

    /// How long after `earlier` this is; zero when it is not after.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// As a `SystemTime`.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.0)
    }

    /// From a `SystemTime`; times before the epoch clamp to the epoch.
    pub fn from_system_time(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp(duration_nanos(d)),
            Err(_) => Timestamp(0),
        }
    }

    /// Parses RFC 3339 (`2026-05-10T03:42:11Z`, fractional seconds allowed).
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimestampParseError> {
        humantime::parse_rfc3339_weak(s)
            .map(Timestamp::from_system_time)
            .map_err(|_| TimestampParseError)
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&humantime::format_rfc3339_seconds(self.to_system_time()), f)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_rfc3339_utc_seconds() {
        let t = Timestamp::from_unix_seconds(1_778_384_531);
        assert_eq!(t.to_string(), "2026-05-10T03:42:11Z");
        assert_eq!(Timestamp::parse_rfc3339("2026-05-10T03:42:11Z"), Ok(t));
    }

    #[test]
    fn rejects_non_timestamps() {
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "2026-05-10"] {
            assert_eq!(
                Timestamp::parse_rfc3339(bad),
                Err(TimestampParseError),
                "{bad}"
            );
        }
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_unix_seconds(10);
        assert_eq!(
            t.saturating_sub(Duration::from_secs(20)),
            Timestamp::UNIX_EPOCH
        );
        assert_eq!(
            Timestamp::from_unix_nanos(u64::MAX).saturating_add(Duration::from_secs(1)),
            Timestamp::from_unix_nanos(u64::MAX)
        );
        assert_eq!(
            Timestamp::UNIX_EPOCH.saturating_duration_since(t),
            Duration::ZERO
        );
    }
}
