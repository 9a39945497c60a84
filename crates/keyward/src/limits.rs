//! The two limits on the request path: the client IP's lockout before anything else,
//! and the key's rate limit after the capability check.

use std::net::IpAddr;
use std::sync::Arc;

use keyward_limit::{Decision, FailureGuard, GuardDecision, LimitError, Quota, RateLimiter};

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
    pub(crate) on_failure: LimitFailure,
    pub(crate) unavailable_retry_after: u64,
}

impl Limits {
    /// Refuses a locked-out client IP before its credential is even parsed.
    #[inline]
    pub(crate) async fn check_lockout(&self, ip: IpAddr) -> Result<(), AuthError> {
        let Some(guard) = &self.guard else {
            return Ok(());
        };
        let decision = match guard.check_now(ip) {
            Some(decision) => decision,
            None => guard.check(ip).await,
        };
        match decision {
            Ok(GuardDecision::Open) => Ok(()),
            Ok(GuardDecision::Locked { retry_after }) => {
                Err(AuthError::TooManyFailedAttempts { retry_after })
            }
            Err(e) => self.backend_failed(e, "failure guard"),
        }
    }

    /// Counts a refusal toward the client IP's lockout.
    pub(crate) async fn record_failure(&self, ip: IpAddr) {
        let Some(guard) = &self.guard else {
            return;
        };
        let result = match guard.record_failure_now(ip) {
            Some(result) => result,
            None => guard.record_failure(ip).await,
        };
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
        let Some(limiter) = &self.limiter else {
            return Ok(None);
        };
        let quota = quota.unwrap_or(self.default_quota);
        let decision = match limiter.check_now(key_id, quota) {
            Some(decision) => decision,
            None => limiter.check(key_id, quota).await,
        };
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
