//! The two limits on the request path: the client IP's lockout before anything else,
//! and the rate limits after the capability check: the key's budget and, when
//! configured, its owner's and its tenant's, which a request must all fit in (all or
//! nothing: a request one budget refuses spends none of the others). When one backend holds both
//! ([`RequestLimits`]), a key verified from the cache asks them together, in one call
//! (one round trip to Redis).

use std::net::IpAddr;
use std::sync::Arc;

use keyward_limit::{
    BudgetDecision, Budgets, FailureBudget, FailureGuard, GuardDecision, LimitError, Quota,
    RateLimiter, RequestDecision, RequestLimits,
};

use crate::error::AuthError;
use crate::principal::KeyInfo;

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
    /// The budget every key of one owner shares, if limited.
    pub(crate) owner_quota: Option<Quota>,
    /// The budget every key of one tenant shares, if limited.
    pub(crate) tenant_quota: Option<Quota>,
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

    /// The budgets a request of `key` spends: the key's (its own quota or the default),
    /// and its owner's and tenant's when those are limited.
    #[inline]
    fn budgets<'a>(&self, key: &'a KeyInfo) -> Budgets<'a> {
        let mut budgets = Budgets::key(key.id.as_str(), key.quota.unwrap_or(self.default_quota));
        if let Some(quota) = self.owner_quota {
            budgets = budgets.with_owner(&key.owner, quota);
        }
        if let (Some(quota), Some(tenant)) = (self.tenant_quota, &key.tenant) {
            budgets = budgets.with_tenant(&tenant.team, &tenant.project, quota);
        }
        budgets
    }

    /// Whether only the key's own budget is limited: the plain per-key call then.
    #[inline]
    fn key_only(&self) -> bool {
        self.owner_quota.is_none() && self.tenant_quota.is_none()
    }

    /// The client IP's lockout and the rate limits of a key verified without a slow
    /// hash: one call when one backend holds both, else the lockout, then the rate
    /// limits. A locked-out client spends nothing of any budget.
    pub(crate) async fn check_request(
        &self,
        ip: IpAddr,
        key: &KeyInfo,
    ) -> Result<Option<BudgetDecision>, AuthError> {
        let Some(both) = &self.together else {
            self.check_lockout(ip).await?;
            return self.check_rate(key).await;
        };
        let answer = if self.key_only() {
            let quota = key.quota.unwrap_or(self.default_quota);
            both.check_request(ip, key.id.as_str(), quota)
                .await
                .map(|answer| match answer {
                    RequestDecision::Locked { retry_after } => {
                        RequestDecision::Locked { retry_after }
                    }
                    RequestDecision::Rate(decision) => {
                        RequestDecision::Rate(BudgetDecision::key(quota, decision))
                    }
                })
        } else {
            both.check_request_budgets(ip, &self.budgets(key)).await
        };
        match answer {
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

    /// The rate-limit decision of a request of `key` (its own budget and, when limited,
    /// its owner's and tenant's, all or nothing): `Ok(None)` without a limiter.
    #[inline]
    pub(crate) async fn check_rate(
        &self,
        key: &KeyInfo,
    ) -> Result<Option<BudgetDecision>, AuthError> {
        if let Some(done) = self.check_rate_now(key) {
            return done;
        }
        let Some(limiter) = &self.limiter else {
            return Ok(None);
        };
        if self.key_only() {
            let quota = key.quota.unwrap_or(self.default_quota);
            let decision = limiter.check(key.id.as_str(), quota).await;
            return self.rate(decision.map(|d| BudgetDecision::key(quota, d)));
        }
        self.rate(limiter.check_budgets(&self.budgets(key)).await)
    }

    /// [`check_rate`](Self::check_rate) when the limiter answers without waiting;
    /// `None` when it would wait, and nothing was spent.
    #[inline]
    pub(crate) fn check_rate_now(
        &self,
        key: &KeyInfo,
    ) -> Option<Result<Option<BudgetDecision>, AuthError>> {
        let Some(limiter) = &self.limiter else {
            return Some(Ok(None));
        };
        if self.key_only() {
            let quota = key.quota.unwrap_or(self.default_quota);
            return limiter
                .check_now(key.id.as_str(), quota)
                .map(|decision| self.rate(decision.map(|d| BudgetDecision::key(quota, d))));
        }
        limiter
            .check_budgets_now(&self.budgets(key))
            .map(|decision| self.rate(decision))
    }

    fn rate(
        &self,
        decision: Result<BudgetDecision, LimitError>,
    ) -> Result<Option<BudgetDecision>, AuthError> {
        match decision {
            Ok(limited) if !limited.is_allowed() => Err(AuthError::RateLimited {
                retry_after: limited.decision.retry_after_secs().unwrap_or(1),
                limit: limited.decision.limit(),
                reset: limited.decision.reset_secs(),
                scope: limited.scope,
                period: limited.quota.period(),
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
