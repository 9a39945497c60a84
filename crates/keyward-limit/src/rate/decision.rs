//! [`Decision`]: the answer of a rate limiter, with what the response headers need.

use std::time::Duration;

use crate::time::ceil_secs;

/// Response header names, lower-case as HTTP/2 sends them (and as `http`'s
/// `HeaderName::from_static` requires).
///
/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` follow the IETF
/// httpapi "RateLimit header fields" draft in its widely deployed three-header form;
/// `Retry-After` is RFC 9110's, in delay-seconds.
pub mod headers {
    /// `RateLimit-Limit`: requests allowed per period (the burst).
    pub const RATELIMIT_LIMIT: &str = "ratelimit-limit";
    /// `RateLimit-Remaining`: requests that could be made right now.
    pub const RATELIMIT_REMAINING: &str = "ratelimit-remaining";
    /// `RateLimit-Reset`: whole seconds until the full burst is available again.
    pub const RATELIMIT_RESET: &str = "ratelimit-reset";
    /// `Retry-After`: whole seconds (at least 1) before a refused client should retry.
    pub const RETRY_AFTER: &str = "retry-after";
    /// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers-11): the quota policy,
    /// a Structured Fields list such as `"key";q=60;w=60`.
    pub const RATELIMIT_POLICY: &str = "ratelimit-policy";
    /// `RateLimit` (draft-ietf-httpapi-ratelimit-headers-11): the policy's current
    /// service limit, such as `"key";r=59;t=1`.
    pub const RATELIMIT: &str = "ratelimit";
}

/// A rate limiter's answer for one request.
///
/// ```
/// use std::time::Duration;
/// use keyward_clock::{ManualClock, Timestamp};
/// use keyward_limit::{Decision, MemoryRateLimiter, Quota};
///
/// let limiter = MemoryRateLimiter::with_clock(ManualClock::new(Timestamp::from_unix_seconds(1)));
/// let quota = Quota::per_minute(60);
/// assert_eq!(
///     limiter.decide("k", quota),
///     Decision::Allowed { limit: 60, remaining: 59, reset: Duration::from_secs(1) }
/// );
/// for _ in 0..59 {
///     limiter.decide("k", quota);
/// }
/// assert_eq!(
///     limiter.decide("k", quota),
///     Decision::Limited { limit: 60, retry_after: 1, reset: Duration::from_secs(60) }
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The request may proceed; it has been counted.
    Allowed {
        /// Requests allowed per period (the burst): `RateLimit-Limit`.
        limit: u32,
        /// Further requests that would be allowed right now: `RateLimit-Remaining`.
        remaining: u32,
        /// Time until the key's full burst is available again: `RateLimit-Reset`.
        reset: Duration,
    },
    /// The request must be refused (429); it has not been counted.
    Limited {
        /// Requests allowed per period (the burst): `RateLimit-Limit`.
        limit: u32,
        /// Whole seconds, rounded up and at least 1, until one more request would be
        /// allowed: `Retry-After`.
        retry_after: u64,
        /// Time until the key's full burst is available again: `RateLimit-Reset`.
        reset: Duration,
    },
}

impl Decision {
    /// Whether the request may proceed.
    pub const fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }

    /// Requests allowed per period.
    pub const fn limit(&self) -> u32 {
        match *self {
            Decision::Allowed { limit, .. } | Decision::Limited { limit, .. } => limit,
        }
    }

    /// Requests that could be made right now (zero when limited).
    pub const fn remaining(&self) -> u32 {
        match *self {
            Decision::Allowed { remaining, .. } => remaining,
            Decision::Limited { .. } => 0,
        }
    }

    /// Time until the full burst is available again.
    pub const fn reset(&self) -> Duration {
        match *self {
            Decision::Allowed { reset, .. } | Decision::Limited { reset, .. } => reset,
        }
    }

    /// [`reset`](Decision::reset) in whole seconds, rounded up.
    pub fn reset_secs(&self) -> u64 {
        ceil_secs(self.reset())
    }

    /// Whole seconds to wait before retrying, when limited.
    pub const fn retry_after_secs(&self) -> Option<u64> {
        match *self {
            Decision::Allowed { .. } => None,
            Decision::Limited { retry_after, .. } => Some(retry_after),
        }
    }

    /// The header values for the response.
    ///
    /// ```
    /// use keyward_limit::{Decision, headers};
    /// use std::time::Duration;
    ///
    /// let d = Decision::Limited { limit: 60, retry_after: 1, reset: Duration::from_millis(59_500) };
    /// let pairs: Vec<_> = d.headers().iter().collect();
    /// assert_eq!(pairs, [
    ///     (headers::RATELIMIT_LIMIT, 60),
    ///     (headers::RATELIMIT_REMAINING, 0),
    ///     (headers::RATELIMIT_RESET, 60),
    ///     (headers::RETRY_AFTER, 1),
    /// ]);
    /// ```
    pub fn headers(&self) -> RateLimitHeaders {
        RateLimitHeaders {
            limit: self.limit(),
            remaining: self.remaining(),
            reset: self.reset_secs(),
            retry_after: self.retry_after_secs(),
        }
    }
}

/// The numbers of the rate-limit response headers, in whole units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimitHeaders {
    /// `RateLimit-Limit`.
    pub limit: u32,
    /// `RateLimit-Remaining`.
    pub remaining: u32,
    /// `RateLimit-Reset`, seconds rounded up.
    pub reset: u64,
    /// `Retry-After`, seconds; only on a refusal.
    pub retry_after: Option<u64>,
}

impl RateLimitHeaders {
    /// `(lower-case header name, value)` pairs, `Retry-After` last and only when limited.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + use<> {
        [
            Some((headers::RATELIMIT_LIMIT, u64::from(self.limit))),
            Some((headers::RATELIMIT_REMAINING, u64::from(self.remaining))),
            Some((headers::RATELIMIT_RESET, self.reset)),
            self.retry_after.map(|s| (headers::RETRY_AFTER, s)),
        ]
        .into_iter()
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_has_no_retry_after() {
        let d = Decision::Allowed {
            limit: 10,
            remaining: 3,
            reset: Duration::from_millis(6_100),
        };
        assert!(d.is_allowed());
        assert_eq!(d.retry_after_secs(), None);
        assert_eq!(d.reset_secs(), 7);
        let pairs: Vec<_> = d.headers().iter().collect();
        assert_eq!(
            pairs,
            [
                (headers::RATELIMIT_LIMIT, 10),
                (headers::RATELIMIT_REMAINING, 3),
                (headers::RATELIMIT_RESET, 7),
            ]
        );
    }

    #[test]
    fn limited_has_zero_remaining() {
        let d = Decision::Limited {
            limit: 10,
            retry_after: 4,
            reset: Duration::from_secs(60),
        };
        assert!(!d.is_allowed());
        assert_eq!(d.remaining(), 0);
        assert_eq!(d.limit(), 10);
        assert_eq!(d.retry_after_secs(), Some(4));
    }
}
