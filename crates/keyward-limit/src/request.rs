//! [`RequestLimits`]: one backend answering both limits of an authenticated request.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::LimitError;
use crate::lockout::{FailureGuard, GuardDecision};
use crate::rate::{BudgetDecision, Budgets, Decision, Quota, RateLimiter};

/// The answer of [`RequestLimits::check_request`]: the client address's lockout, or, when
/// it is open, the key's rate-limit decision (a [`Decision`]; for
/// [`RequestLimits::check_request_budgets`], a [`BudgetDecision`] naming the budget).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestDecision<D = Decision> {
    /// The client address is locked out (429 `too_many_failed_attempts`); the key's
    /// budget was not touched.
    Locked {
        /// Whole seconds (at least 1, rounded up) until the lockout ends: `Retry-After`.
        retry_after: u64,
    },
    /// The address is open; the rate-limit decision (counted if allowed).
    Rate(D),
}

impl<D: Copy> RequestDecision<D> {
    /// The lockout half of the answer.
    pub const fn guard(&self) -> GuardDecision {
        match *self {
            RequestDecision::Locked { retry_after } => GuardDecision::Locked { retry_after },
            RequestDecision::Rate(_) => GuardDecision::Open,
        }
    }

    /// The rate-limit decision, when the address was open.
    pub const fn rate(&self) -> Option<D> {
        match *self {
            RequestDecision::Locked { .. } => None,
            RequestDecision::Rate(decision) => Some(decision),
        }
    }
}

/// A backend that is both the [`FailureGuard`] and the [`RateLimiter`] and can decide
/// both for one request in one step.
///
/// For a shared backend this is the difference between one network round trip per
/// authenticated request and two: keyward-redis answers a cached key's lockout and rate
/// limit in one script. keyward asks it only where both are due together (a key
/// verified from its cache); anywhere else, a slow hash to come or a request refused
/// before its rate limit, it asks the guard alone, first, as usual.
///
/// The default runs the two checks one after the other, which is what a backend
/// without a combined operation does anyway.
///
/// ```
/// use std::net::IpAddr;
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use keyward_limit::{
///     Decision, FailureGuard, GuardConfig, GuardDecision, LimitError, MemoryFailureGuard,
///     MemoryRateLimiter, Quota, RateLimiter, RequestDecision, RequestLimits,
/// };
///
/// /// Both memory backends, as one.
/// struct Both(MemoryFailureGuard, MemoryRateLimiter);
///
/// #[async_trait]
/// impl FailureGuard for Both {
///     async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
///         self.0.check(ip).await
///     }
///     async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
///         self.0.record_failure(ip).await
///     }
/// }
///
/// #[async_trait]
/// impl RateLimiter for Both {
///     async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError> {
///         RateLimiter::check(&self.1, key, quota).await
///     }
/// }
///
/// impl RequestLimits for Both {}
///
/// # async fn run() -> Result<(), LimitError> {
/// let both = Both(MemoryFailureGuard::new(GuardConfig::default()), MemoryRateLimiter::new());
/// let ip: IpAddr = "192.0.2.1".parse().unwrap();
/// let answer = both.check_request(ip, "key_1", Quota::per_minute(60)).await?;
/// assert_eq!(answer.rate().map(|d| d.remaining()), Some(59));
/// # Ok(()) }
/// ```
#[async_trait]
pub trait RequestLimits: FailureGuard + RateLimiter {
    /// `ip`'s lockout and, only if it is open, one rate-limit decision of `key` under
    /// `quota` (counted if allowed): what [`FailureGuard::check`] then
    /// [`RateLimiter::check`] would answer.
    ///
    /// # Errors
    ///
    /// [`LimitError::Unavailable`] when the backend cannot decide; the caller applies its
    /// fail-open or fail-closed policy to the request as a whole.
    async fn check_request(
        &self,
        ip: IpAddr,
        key: &str,
        quota: Quota,
    ) -> Result<RequestDecision, LimitError> {
        if let GuardDecision::Locked { retry_after } = FailureGuard::check(self, ip).await? {
            return Ok(RequestDecision::Locked { retry_after });
        }
        Ok(RequestDecision::Rate(
            RateLimiter::check(self, key, quota).await?,
        ))
    }

    /// `ip`'s lockout and, only if it is open, one decision of a request against all of
    /// `budgets` ([`RateLimiter::check_budgets`]: all or nothing in keyward's backends).
    /// A locked-out client spends none of them. keyward-redis answers it in one script.
    ///
    /// # Errors
    ///
    /// [`LimitError::Unavailable`] when the backend cannot decide.
    async fn check_request_budgets(
        &self,
        ip: IpAddr,
        budgets: &Budgets<'_>,
    ) -> Result<RequestDecision<BudgetDecision>, LimitError> {
        if let GuardDecision::Locked { retry_after } = FailureGuard::check(self, ip).await? {
            return Ok(RequestDecision::Locked { retry_after });
        }
        Ok(RequestDecision::Rate(
            RateLimiter::check_budgets(self, budgets).await?,
        ))
    }
}

#[async_trait]
impl<T: RequestLimits + ?Sized> RequestLimits for Arc<T> {
    async fn check_request(
        &self,
        ip: IpAddr,
        key: &str,
        quota: Quota,
    ) -> Result<RequestDecision, LimitError> {
        (**self).check_request(ip, key, quota).await
    }

    async fn check_request_budgets(
        &self,
        ip: IpAddr,
        budgets: &Budgets<'_>,
    ) -> Result<RequestDecision<BudgetDecision>, LimitError> {
        (**self).check_request_budgets(ip, budgets).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use keyward_clock::{ManualClock, Timestamp};

    use super::*;
    use crate::{GuardConfig, MemoryFailureGuard, MemoryRateLimiter};

    struct Both(
        MemoryFailureGuard<ManualClock>,
        MemoryRateLimiter<ManualClock>,
    );

    #[async_trait]
    impl FailureGuard for Both {
        async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
            self.0.check(ip).await
        }
        async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
            self.0.record_failure(ip).await
        }
    }

    #[async_trait]
    impl RateLimiter for Both {
        async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError> {
            RateLimiter::check(&self.1, key, quota).await
        }
    }

    impl RequestLimits for Both {}

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // The memory backends never wait: one poll finishes the future.
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("a memory backend waited"),
        }
    }

    #[test]
    fn the_default_checks_the_lockout_first_and_spends_nothing_while_locked() {
        let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
        let both = Both(
            MemoryFailureGuard::with_clock(GuardConfig::default(), clock.clone()),
            MemoryRateLimiter::with_clock(clock.clone()),
        );
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let quota = Quota::per_minute(2);
        let first = block_on(both.check_request(ip, "k", quota)).unwrap();
        assert_eq!(first.guard(), GuardDecision::Open);
        assert_eq!(first.rate().map(|d| d.remaining()), Some(1));

        for _ in 0..10 {
            block_on(FailureGuard::record_failure(&both, ip)).unwrap();
        }
        let locked = block_on(both.check_request(ip, "k", quota)).unwrap();
        assert_eq!(locked, RequestDecision::Locked { retry_after: 60 });
        assert_eq!(locked.rate(), None);
        // The locked request spent nothing: one of two is still left.
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let open = block_on(both.check_request(other, "k", quota)).unwrap();
        assert_eq!(open.rate().map(|d| d.remaining()), Some(0));

        clock.advance(Duration::from_secs(60));
        assert!(
            block_on(both.check_request(ip, "k", quota))
                .unwrap()
                .rate()
                .is_some()
        );
    }
}
