//! The two limits on the request path: the client IP's lockout before anything else,
//! and the key's rate limit after the capability check. When one backend holds both
//! ([`RequestLimits`]), a key verified from the cache asks them together, in one call
//! (one round trip to Redis).

use std::net::IpAddr;
use std::sync::Arc;

use keyward_limit::{
    Decision, FailureBudget, FailureGuard, GuardDecision, LimitError, Quota, RateLimiter,
    RequestDecision, RequestLimits,
};

use crate::error::AuthError;

/// What to do when a limit backend (Redis) cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LimitFailure {
    /// Refuse with 503 `auth_unavailable` (the default): no request goes unmetered.
    #[default]
    Closed,
    /// Let the request through unmetered and log a warning. Chosen with
    /// [`crate::KeywardBuilder::fail_open_on_limit_errors`], a name that says what it
    /// gives up.
    Open,
}

pub(crate) struct Limits {
    pub(crate) limiter: Option<Arc<dyn RateLimiter>>,
    pub(crate) default_quota: Quota,
    pub(crate) guard: Option<Arc<dyn FailureGuard>>,
    /// The limiter and the guard, when they are one backend that decides both at once.
    pub(crate) together: Option<Arc<dyn RequestLimits>>,
    pub(crate) on_failure: LimitFailure,
    pub(crate) unavailable_retry_after: u64,
    /// The limiter is keyward's in-memory one or none, so a rate decision never waits.
    /// Otherwise `authenticate_now` gives up before verifying anything, rather than
    /// verifying a key only for `authenticate` to do it again.
    pub(crate) rate_decided_now: bool,
}

impl Limits {
    /// Whether a cached key's lockout and rate limit are asked together, after the
    /// cache lookup, in [`check_request`](Self::check_request). Everything else then
    /// asks the lockout first, before a slow hash or a refusal, as usual.
    #[inline]
    pub(crate) fn together(&self) -> bool {
        self.together.is_some()
    }

    /// The client IP's lockout and the key's rate limit of a key verified without a
    /// slow hash: one call when one backend holds both, else the lockout, then the rate
    /// limit. A locked-out client spends nothing of the key's budget.
    pub(crate) async fn check_request(
        &self,
        ip: IpAddr,
        key_id: &str,
        quota: Option<Quota>,
    ) -> Result<Option<Decision>, AuthError> {
        let Some(both) = &self.together else {
            self.check_lockout(ip).await?;
            return self.check_rate(key_id, quota).await;
        };
        let quota = quota.unwrap_or(self.default_quota);
        match both.check_request(ip, key_id, quota).await {
            Ok(RequestDecision::Locked { retry_after }) => {
                Err(AuthError::TooManyFailedAttempts { retry_after })
            }
            Ok(RequestDecision::Rate(decision)) => self.rate(Ok(decision)),
            Err(e) => self.backend_failed(e, "limits").map(|()| None),
        }
    }

    /// Refuses a locked-out client IP before its credential is even parsed.
    #[inline]
    pub(crate) async fn check_lockout(&self, ip: IpAddr) -> Result<(), AuthError> {
        if let Some(done) = self.check_lockout_now(ip) {
            return done;
        }
        match &self.guard {
            Some(guard) => self.lockout(guard.check(ip).await),
            None => Ok(()),
        }
    }

    /// [`check_lockout`](Self::check_lockout) when the guard answers without waiting.
    #[inline]
    pub(crate) fn check_lockout_now(&self, ip: IpAddr) -> Option<Result<(), AuthError>> {
        match &self.guard {
            Some(guard) => guard.check_now(ip).map(|decision| self.lockout(decision)),
            None => Some(Ok(())),
        }
    }

    fn lockout(&self, decision: Result<GuardDecision, LimitError>) -> Result<(), AuthError> {
        match decision {
            Ok(GuardDecision::Open) => Ok(()),
            Ok(GuardDecision::Locked { retry_after }) => {
                Err(AuthError::TooManyFailedAttempts { retry_after })
            }
            Err(e) => self.backend_failed(e, "failure guard"),
        }
    }

    /// The failures `ip` has left before its lockout, for bounding its cold
    /// verifications. `Ok(None)` without a guard, or when the guard failed and the
    /// deployment fails open.
    pub(crate) async fn budget(&self, ip: IpAddr) -> Result<Option<FailureBudget>, AuthError> {
        let Some(guard) = &self.guard else {
            return Ok(None);
        };
        let budget = match guard.budget_now(ip) {
            Some(budget) => budget,
            None => guard.budget(ip).await,
        };
        match budget {
            Ok(budget) => Ok(Some(budget)),
            Err(e) => self.backend_failed(e, "failure guard").map(|()| None),
        }
    }

    /// The 429 to answer instead of a failure from `ip` whose budget is already spent:
    /// locked since its request began, or a member of a network the guard locked under
    /// pressure. Such a failure is not counted again. Only asked of guards that answer
    /// without waiting, and only on the failure path.
    pub(crate) fn spent_now(&self, ip: IpAddr) -> Option<AuthError> {
        match self.guard.as_ref()?.budget_now(ip)? {
            Ok(FailureBudget::Locked { retry_after }) => {
                Some(AuthError::TooManyFailedAttempts { retry_after })
            }
            _ => None,
        }
    }

    /// Counts a refusal toward the client IP's lockout.
    pub(crate) async fn record_failure(&self, ip: IpAddr) {
        if self.record_failure_now(ip).is_some() {
            return;
        }
        if let Some(guard) = &self.guard {
            Self::failure_recorded(guard.record_failure(ip).await);
        }
    }

    /// Locks the client IP out at once (it presented a honeytoken). Nothing to lock
    /// without a guard; a guard that fails is logged, as a failure not counted is.
    pub(crate) async fn lock(&self, ip: IpAddr) {
        if let Some(guard) = &self.guard
            && let Err(e) = guard.lock(ip).await
        {
            tracing::warn!(target: "keyward", error = %e, "client not locked out after presenting a honeytoken");
        }
    }

    /// [`record_failure`](Self::record_failure) when the guard counts without waiting;
    /// `None` when it would wait, and nothing was counted.
    pub(crate) fn record_failure_now(&self, ip: IpAddr) -> Option<()> {
        match &self.guard {
            Some(guard) => guard.record_failure_now(ip).map(Self::failure_recorded),
            None => Some(()),
        }
    }

    fn failure_recorded(result: Result<GuardDecision, LimitError>) {
        if let Err(e) = result {
            tracing::warn!(target: "keyward", error = %e, "failure not counted toward lockout");
        }
    }

    /// The key's rate-limit decision: `Ok(None)` without a limiter.
    #[inline]
    pub(crate) async fn check_rate(
        &self,
        key_id: &str,
        quota: Option<Quota>,
    ) -> Result<Option<Decision>, AuthError> {
        if let Some(done) = self.check_rate_now(key_id, quota) {
            return done;
        }
        match &self.limiter {
            Some(limiter) => {
                let quota = quota.unwrap_or(self.default_quota);
                self.rate(limiter.check(key_id, quota).await)
            }
            None => Ok(None),
        }
    }

    /// [`check_rate`](Self::check_rate) when the limiter answers without waiting;
    /// `None` when it would wait, and nothing was spent.
    #[inline]
    pub(crate) fn check_rate_now(
        &self,
        key_id: &str,
        quota: Option<Quota>,
    ) -> Option<Result<Option<Decision>, AuthError>> {
        match &self.limiter {
            Some(limiter) => {
                let quota = quota.unwrap_or(self.default_quota);
                limiter
                    .check_now(key_id, quota)
                    .map(|decision| self.rate(decision))
            }
            None => Some(Ok(None)),
        }
    }

    fn rate(&self, decision: Result<Decision, LimitError>) -> Result<Option<Decision>, AuthError> {
        match decision {
            Ok(limited @ Decision::Limited { .. }) => Err(AuthError::RateLimited {
                retry_after: limited.retry_after_secs().unwrap_or(1),
                limit: limited.limit(),
                reset: limited.reset_secs(),
            }),
            Ok(allowed) => Ok(Some(allowed)),
            Err(e) => self.backend_failed(e, "rate limiter").map(|()| None),
        }
    }

    fn backend_failed(&self, e: LimitError, which: &'static str) -> Result<(), AuthError> {
        match self.on_failure {
            LimitFailure::Closed => {
                tracing::warn!(target: "keyward", error = %e, backend = which, "limit backend failed; refusing");
                Err(AuthError::Unavailable {
                    retry_after: self.unavailable_retry_after,
                })
            }
            LimitFailure::Open => {
                tracing::warn!(target: "keyward", error = %e, backend = which, "limit backend failed; failing open");
                Ok(())
            }
        }
    }
}
