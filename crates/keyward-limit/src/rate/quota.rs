//! [`Quota`]: how many requests a key may make per period.

use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;
use std::time::Duration;

use crate::error::QuotaError;
use crate::time::nanos;

/// How many requests (`limit`) a key may make per `period`.
///
/// The burst equals the limit: with `60/min` a fresh key may make 60 requests at once;
/// the 61st within the minute is refused, and from then on one more is allowed every
/// `period / limit` (one second). Requests spread evenly never wait.
///
/// A quota is always valid: `limit ≥ 1` and `0 < period < 584 years` (64-bit
/// nanoseconds). [`Quota::new`] and [`FromStr`] check; the `per_*` constructors are
/// `const` and meant for literals.
///
/// ```
/// use std::time::Duration;
/// use keyward_limit::Quota;
///
/// let q: Quota = "60/min".parse()?;
/// assert_eq!(q, Quota::per_minute(60));
/// assert_eq!(q.limit(), 60);
/// assert_eq!(q.period(), Duration::from_secs(60));
/// assert_eq!(q.to_string(), "60/min");
/// assert_eq!("100/day".parse::<Quota>()?, Quota::per_day(100));
/// assert_eq!("5/10s".parse::<Quota>()?, Quota::new(5, Duration::from_secs(10))?);
/// # Ok::<(), keyward_limit::QuotaError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    limit: u32,
    /// The period in nanoseconds (at most `u64::MAX`). Non-zero, which also lets
    /// `Option<Quota>` (a key's override) take no more room than a `Quota`.
    period: NonZeroU64,
    /// `period / limit` in nanoseconds, at least 1: computed once, not per request.
    interval: u64,
    /// `interval × limit`: the most debt a key may carry, also computed once.
    capacity: u64,
    /// `u64::MAX / interval`: turns the per-request division by the interval (for
    /// `RateLimit-Remaining`) into a multiplication.
    reciprocal: u64,
}

impl Quota {
    /// A quota of `limit` requests per `period`.
    ///
    /// # Errors
    ///
    /// [`QuotaError::ZeroLimit`], [`QuotaError::ZeroPeriod`] or
    /// [`QuotaError::PeriodTooLong`].
    pub fn new(limit: u32, period: Duration) -> Result<Self, QuotaError> {
        if limit == 0 {
            return Err(QuotaError::ZeroLimit);
        }
        if period.is_zero() {
            return Err(QuotaError::ZeroPeriod);
        }
        if period.as_nanos() > u128::from(u64::MAX) {
            return Err(QuotaError::PeriodTooLong);
        }
        Ok(Quota::from_nanos(limit, nanos(period)))
    }

    const fn literal(limit: u32, seconds: u64) -> Self {
        assert!(
            limit > 0,
            "a quota must allow at least one request per period"
        );
        Quota::from_nanos(limit, seconds * 1_000_000_000)
    }

    /// `limit ≥ 1` requests per `period > 0` nanoseconds, with what every request
    /// needs computed once.
    const fn from_nanos(limit: u32, period: u64) -> Self {
        let interval = interval(period, limit);
        let Some(period) = NonZeroU64::new(period) else {
            panic!("a quota's period is never zero");
        };
        Quota {
            limit,
            period,
            interval,
            capacity: interval.saturating_mul(limit as u64),
            reciprocal: u64::MAX / interval,
        }
    }

    /// `limit` requests per second.
    ///
    /// # Panics
    ///
    /// If `limit` is zero (a compile error in a `const`); use [`Quota::new`] for values
    /// that are not literals.
    pub const fn per_second(limit: u32) -> Self {
        Self::literal(limit, 1)
    }

    /// `limit` requests per minute.
    ///
    /// # Panics
    ///
    /// If `limit` is zero; use [`Quota::new`] for values that are not literals.
    pub const fn per_minute(limit: u32) -> Self {
        Self::literal(limit, 60)
    }

    /// `limit` requests per hour.
    ///
    /// # Panics
    ///
    /// If `limit` is zero; use [`Quota::new`] for values that are not literals.
    pub const fn per_hour(limit: u32) -> Self {
        Self::literal(limit, 3600)
    }

    /// `limit` requests per day.
    ///
    /// # Panics
    ///
    /// If `limit` is zero; use [`Quota::new`] for values that are not literals.
    pub const fn per_day(limit: u32) -> Self {
        Self::literal(limit, 86_400)
    }

    /// Requests allowed per period, which is also the burst a fresh key may make at once.
    pub const fn limit(&self) -> u32 {
        self.limit
    }

    /// The period.
    pub const fn period(&self) -> Duration {
        Duration::from_nanos(self.period.get())
    }

    /// The time one request "costs": `period / limit` (at least one nanosecond).
    ///
    /// ```
    /// use std::time::Duration;
    /// use keyward_limit::Quota;
    ///
    /// assert_eq!(Quota::per_minute(60).emission_interval(), Duration::from_secs(1));
    /// ```
    pub const fn emission_interval(&self) -> Duration {
        Duration::from_nanos(self.interval)
    }

    /// [`emission_interval`](Quota::emission_interval) in nanoseconds.
    pub(crate) const fn interval_nanos(&self) -> u64 {
        self.interval
    }

    /// `emission_interval × limit` in nanoseconds: the bucket's capacity.
    pub(crate) const fn capacity_nanos(&self) -> u64 {
        self.capacity
    }

    /// `nanos / interval`, rounded down, by a multiplication and at most one
    /// correction: `reciprocal` is at most one below `2⁶⁴ / interval`, so the estimate
    /// `nanos × reciprocal / 2⁶⁴` is the quotient or one less.
    #[inline]
    pub(crate) const fn intervals_in(&self, nanos: u64) -> u64 {
        let estimate = ((nanos as u128 * self.reciprocal as u128) >> 64) as u64;
        if nanos - estimate * self.interval >= self.interval {
            estimate + 1
        } else {
            estimate
        }
    }
}

/// `period / limit`, at least one nanosecond.
const fn interval(period_nanos: u64, limit: u32) -> u64 {
    let t = period_nanos / limit as u64;
    if t == 0 { 1 } else { t }
}

/// 60 requests per minute, the documented default of the seed products.
impl Default for Quota {
    fn default() -> Self {
        Quota::per_minute(60)
    }
}

/// Period units, longest first (Display picks the first that divides the period).
const UNITS: [(&str, u64); 7] = [
    ("day", 86_400_000_000_000),
    ("hour", 3_600_000_000_000),
    ("min", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

fn unit_nanos(unit: &str) -> Option<u64> {
    let unit = unit.to_ascii_lowercase();
    let canonical = match unit.as_str() {
        "d" | "day" | "days" => "day",
        "h" | "hr" | "hrs" | "hour" | "hours" => "hour",
        "m" | "min" | "mins" | "minute" | "minutes" => "min",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "ms" | "millisecond" | "milliseconds" => "ms",
        "us" | "µs" | "microsecond" | "microseconds" => "us",
        "ns" | "nanosecond" | "nanoseconds" => "ns",
        _ => return None,
    };
    UNITS
        .iter()
        .find(|(name, _)| *name == canonical)
        .map(|&(_, n)| n)
}

/// Parses `<limit>/<period>`: `60/min`, `10/s`, `1000/hour`, `100/day`, and with a count
/// before the unit, `5/10s` or `300/15min`.
///
/// Units (case-insensitive): `ns`, `us`, `ms`, `s`/`sec`/`second(s)`,
/// `m`/`min`/`minute(s)`, `h`/`hr`/`hour(s)`, `d`/`day(s)`. Whitespace around the parts
/// is ignored.
impl FromStr for Quota {
    type Err = QuotaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (limit, period) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| QuotaError::Syntax(s.to_owned()))?;
        let (limit, period) = (limit.trim(), period.trim());
        if limit.is_empty() || period.is_empty() {
            return Err(QuotaError::Syntax(s.to_owned()));
        }
        if !limit.bytes().all(|b| b.is_ascii_digit()) {
            return Err(QuotaError::InvalidLimit(limit.to_owned()));
        }
        let limit: u32 = limit
            .parse()
            .map_err(|_| QuotaError::InvalidLimit(limit.to_owned()))?;

        let digits = period.bytes().take_while(u8::is_ascii_digit).count();
        let (count, unit) = period.split_at(digits);
        let unit = unit.trim();
        let per_unit = unit_nanos(unit).ok_or_else(|| QuotaError::UnknownUnit(unit.to_owned()))?;
        let count: u64 = if count.is_empty() {
            1
        } else {
            count.parse().map_err(|_| QuotaError::PeriodTooLong)?
        };
        let period = count
            .checked_mul(per_unit)
            .ok_or(QuotaError::PeriodTooLong)?;
        Quota::new(limit, Duration::from_nanos(period))
    }
}

/// `60/min`, `10/s`, `5/10s`: the largest unit that divides the period; parses back.
impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let period = self.period.get();
        let (unit, per_unit) = UNITS
            .iter()
            .copied()
            .find(|&(_, n)| period.is_multiple_of(n))
            .unwrap_or(("ns", 1));
        let count = period / per_unit;
        if count == 1 {
            write!(f, "{}/{unit}", self.limit)
        } else {
            write!(f, "{}/{count}{unit}", self.limit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let cases = [
            ("60/min", Quota::per_minute(60)),
            ("10/s", Quota::per_second(10)),
            ("1000/hour", Quota::per_hour(1000)),
            ("100/day", Quota::per_day(100)),
            (" 60 / MIN ", Quota::per_minute(60)),
            ("60/minute", Quota::per_minute(60)),
            ("60/m", Quota::per_minute(60)),
            ("7/seconds", Quota::per_second(7)),
            ("3/h", Quota::per_hour(3)),
            ("2/d", Quota::per_day(2)),
        ];
        for (text, quota) in cases {
            assert_eq!(text.parse::<Quota>(), Ok(quota), "{text}");
        }
        assert_eq!(
            "5/10s".parse::<Quota>(),
            Quota::new(5, Duration::from_secs(10))
        );
        assert_eq!(
            "3/1500ms".parse::<Quota>(),
            Quota::new(3, Duration::from_millis(1500))
        );
        assert_eq!(
            "300/15 min".parse::<Quota>(),
            Quota::new(300, Duration::from_secs(900))
        );
    }

    #[test]
    fn every_malformed_quota_has_a_typed_error() {
        use QuotaError::*;
        let cases: [(&str, QuotaError); 16] = [
            ("", Syntax(String::new())),
            ("60", Syntax("60".into())),
            ("/min", Syntax("/min".into())),
            ("60/", Syntax("60/".into())),
            ("0/min", ZeroLimit),
            ("0/0s", ZeroLimit),
            ("-1/min", InvalidLimit("-1".into())),
            ("+5/min", InvalidLimit("+5".into())),
            ("1.5/min", InvalidLimit("1.5".into())),
            ("4294967296/min", InvalidLimit("4294967296".into())),
            ("sixty/min", InvalidLimit("sixty".into())),
            ("60/fortnight", UnknownUnit("fortnight".into())),
            ("60/10", UnknownUnit(String::new())),
            ("60/min/s", UnknownUnit("min/s".into())),
            ("60/0s", ZeroPeriod),
            ("60/99999999999999999999day", PeriodTooLong),
        ];
        for (text, err) in cases {
            assert_eq!(text.parse::<Quota>(), Err(err), "{text:?}");
        }
        assert_eq!(
            "1/1000000day".parse::<Quota>(),
            Err(PeriodTooLong),
            "overflows u64 nanoseconds"
        );
    }

    #[test]
    fn new_validates() {
        assert_eq!(
            Quota::new(0, Duration::from_secs(1)),
            Err(QuotaError::ZeroLimit)
        );
        assert_eq!(Quota::new(1, Duration::ZERO), Err(QuotaError::ZeroPeriod));
        assert_eq!(Quota::new(1, Duration::MAX), Err(QuotaError::PeriodTooLong));
        assert!(Quota::new(u32::MAX, Duration::from_nanos(1)).is_ok());
    }

    #[test]
    fn displays_and_round_trips() {
        for text in [
            "60/min",
            "10/s",
            "1000/hour",
            "100/day",
            "5/10s",
            "3/1500ms",
            "1/7ns",
            "2/90s",
            "9/2day",
        ] {
            let q: Quota = text.parse().unwrap();
            assert_eq!(q.to_string(), text);
            assert_eq!(q.to_string().parse::<Quota>(), Ok(q));
        }
        assert_eq!(
            Quota::new(1, Duration::from_secs(120)).unwrap().to_string(),
            "1/2min"
        );
    }

    #[test]
    fn emission_interval_is_period_over_limit_and_never_zero() {
        assert_eq!(
            Quota::per_second(4).emission_interval(),
            Duration::from_millis(250)
        );
        assert_eq!(
            Quota::new(u32::MAX, Duration::from_nanos(1))
                .unwrap()
                .emission_interval(),
            Duration::from_nanos(1)
        );
    }

    #[test]
    fn an_override_takes_no_more_room_than_a_quota() {
        // A cached key carries `Option<Quota>` among the fields every request reads.
        assert_eq!(
            std::mem::size_of::<Option<Quota>>(),
            std::mem::size_of::<Quota>()
        );
    }

    #[test]
    fn intervals_in_is_exact_division() {
        let intervals = [
            1,
            2,
            3,
            7,
            250_000_000,
            1_000_000_000,
            838,
            u64::MAX / 3,
            u64::MAX,
        ];
        for t in intervals {
            let q = Quota::new(1, Duration::from_nanos(t)).unwrap();
            assert_eq!(q.interval_nanos(), t);
            for x in [
                0,
                1,
                t - 1,
                t,
                t.saturating_add(1),
                2 * (t / 2) + 1,
                u64::MAX / 2,
                u64::MAX - 1,
                u64::MAX,
            ] {
                assert_eq!(q.intervals_in(x), x / t, "{x} / {t}");
            }
        }
        let q = Quota::per_minute(7);
        let t = q.interval_nanos();
        for x in (0..10_000_000u64)
            .step_by(9_973)
            .chain([u64::MAX, u64::MAX - t])
        {
            assert_eq!(q.intervals_in(x), x / t, "{x} / {t}");
        }
    }

    #[test]
    fn default_is_sixty_per_minute() {
        assert_eq!(Quota::default(), Quota::per_minute(60));
    }

    #[test]
    #[should_panic(expected = "at least one request")]
    fn literal_zero_panics() {
        let _ = Quota::per_minute(std::hint::black_box(0));
    }
}
