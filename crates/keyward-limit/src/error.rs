//! The crate's error types: small enums, one per thing that can go wrong.

/// A rate-limit or lockout backend could not decide.
///
/// The in-memory implementations never return it; a networked backend (Redis) does when
/// its server is unreachable or too slow. Whether the caller then fails open (lets the
/// request through) or closed (answers 503) is the caller's explicit configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// The backend could not be reached or did not answer in time; the message says why.
    #[error("rate limit backend unavailable: {0}")]
    Unavailable(String),
}

/// Why a [`Quota`](crate::Quota) was rejected.
///
/// ```
/// use keyward_limit::{Quota, QuotaError};
///
/// assert_eq!("0/min".parse::<Quota>(), Err(QuotaError::ZeroLimit));
/// assert!(matches!("60/fortnight".parse::<Quota>(), Err(QuotaError::UnknownUnit(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuotaError {
    /// The limit is zero: a quota must allow at least one request per period.
    #[error("a quota must allow at least one request per period")]
    ZeroLimit,
    /// The period is zero.
    #[error("a quota's period must be longer than zero")]
    ZeroPeriod,
    /// The period does not fit in 64-bit nanoseconds (about 584 years).
    #[error("a quota's period must be shorter than 584 years")]
    PeriodTooLong,
    /// The text is not of the form `<limit>/<period>`, e.g. `60/min`.
    #[error("expected a quota like `60/min`, `10/s` or `1000/hour`, got {0:?}")]
    Syntax(String),
    /// The part before `/` is not a whole number from 1 to 4294967295.
    #[error("not a request count: {0:?} (expected a whole number from 1 to 4294967295)")]
    InvalidLimit(String),
    /// The period's unit is not one of `ns`, `us`, `ms`, `s`, `min`, `hour`, `day`
    /// (or their long forms).
    #[error("unknown period unit {0:?} (expected ms, s, min, hour or day)")]
    UnknownUnit(String),
}

/// Why a [`GuardConfig`](crate::GuardConfig) was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuardConfigError {
    /// `max_failures` is zero: the lockout needs at least one failure to trigger.
    #[error("max_failures must be at least 1")]
    ZeroMaxFailures,
    /// The failure window is zero.
    #[error("the failure window must be longer than zero")]
    ZeroWindow,
    /// The lockout (cool-down) is zero.
    #[error("the lockout must be longer than zero")]
    ZeroLockout,
    /// `max_tracked` is zero: the guard could not remember a single address.
    #[error("max_tracked must be at least 1")]
    ZeroMaxTracked,
}

/// A string that is neither an IP address nor a CIDR network.
///
/// ```
/// use keyward_limit::parse_network;
///
/// let err = parse_network("10.0.0.0/33").unwrap_err();
/// assert_eq!(err.input(), "10.0.0.0/33");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR network: {input:?}")]
pub struct NetworkParseError {
    input: String,
}

impl NetworkParseError {
    pub(crate) fn new(input: &str) -> Self {
        NetworkParseError {
            input: input.to_owned(),
        }
    }

    /// The rejected text.
    pub fn input(&self) -> &str {
        &self.input
    }
}
