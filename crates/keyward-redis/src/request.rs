//! [`RedisRequestLimits`]: the lockout and the rate limit of a request in one round trip.

use std::fmt;
use std::net::IpAddr;
use std::sync::LazyLock;

use async_trait::async_trait;
use keyward_limit::{
    BudgetDecision, Budgets, Decision, FailureBudget, FailureGuard, GuardDecision, LimitError,
    Quota, RateLimiter, RequestDecision, RequestLimits,
};
use redis::Script;

use crate::guard::{RedisFailureGuard, decision};
use crate::limiter::{GCRA_LUA, RedisRateLimiter, budgets_from_reply};

/// The lockout check, then gcra.lua's budgets: one script, one round trip.
static REQUEST: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        &[
            include_str!("scripts/request_lockout.lua"),
            GCRA_LUA,
            "\nreturn gcra_budgets(2)\n",
        ]
        .concat(),
    )
});

/// What request_lockout.lua answers first when the client is locked out.
const LOCKED: &str = "2";

/// [`RedisFailureGuard`] and [`RedisRateLimiter`] as one backend, which decides an
/// authenticated request's lockout and rate limits in **one script, one round trip**:
/// the client address's lockout first and, only while it is open, the GCRA decision of
/// the key's budget and, when limited, its owner's and tenant's, all or nothing. A
/// locked-out client, or a request one budget refuses, spends nothing.
///
/// Give it to `KeywardBuilder::request_limits` (in place of `rate_limiter` and
/// `failure_guard`): keyward then asks Redis once per request whose key it verified
/// from its cache, the common case. A cold request still asks the lockout on its own
/// first, before any slow hash, and the rate limit after verifying.
///
/// Every other answer is the guard's or the limiter's own, on the same keys, so
/// instances using either form share one state.
///
/// Made by [`RedisLimits::request_limits`](crate::RedisLimits::request_limits).
#[derive(Clone)]
pub struct RedisRequestLimits {
    guard: RedisFailureGuard,
    limiter: RedisRateLimiter,
}

impl RedisRequestLimits {
    pub(crate) fn new(guard: RedisFailureGuard, limiter: RedisRateLimiter) -> Self {
        RedisRequestLimits { guard, limiter }
    }
}

impl fmt::Debug for RedisRequestLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRequestLimits")
            .field("namespace", &self.limiter.connection().namespace())
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RequestLimits for RedisRequestLimits {
    async fn check_request(
        &self,
        ip: IpAddr,
        key: &str,
        quota: Quota,
    ) -> Result<RequestDecision, LimitError> {
        Ok(
            match self
                .check_request_budgets(ip, &Budgets::key(key, quota))
                .await?
            {
                RequestDecision::Locked { retry_after } => RequestDecision::Locked { retry_after },
                RequestDecision::Rate(budget) => RequestDecision::Rate(budget.decision),
            },
        )
    }

    async fn check_request_budgets(
        &self,
        ip: IpAddr,
        budgets: &Budgets<'_>,
    ) -> Result<RequestDecision<BudgetDecision>, LimitError> {
        let mut invocation = REQUEST.prepare_invoke();
        invocation.key(self.guard.key(ip));
        self.limiter.add_budgets(&mut invocation, budgets);
        let reply: Vec<String> = self.limiter.connection().run(&invocation).await?;
        if reply.first().map(String::as_str) != Some(LOCKED) {
            return budgets_from_reply(budgets, &reply).map(RequestDecision::Rate);
        }
        let micros_left: u64 = reply
            .get(1)
            .and_then(|micros| micros.parse().ok())
            .ok_or_else(|| {
                LimitError::Unavailable(format!("redis: unexpected lockout answer {reply:?}"))
            })?;
        match decision(micros_left) {
            GuardDecision::Locked { retry_after } => Ok(RequestDecision::Locked { retry_after }),
            // The script answers "locked" only with time left.
            GuardDecision::Open => Err(LimitError::Unavailable(
                "redis: a lockout with no time left".to_owned(),
            )),
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRequestLimits {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError> {
        self.limiter.check(key, quota).await
    }

    async fn check_budgets(&self, budgets: &Budgets<'_>) -> Result<BudgetDecision, LimitError> {
        self.limiter.check_budgets(budgets).await
    }
}

#[async_trait]
impl FailureGuard for RedisRequestLimits {
    async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        self.guard.check(ip).await
    }

    async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        self.guard.record_failure(ip).await
    }

    async fn budget(&self, ip: IpAddr) -> Result<FailureBudget, LimitError> {
        self.guard.budget(ip).await
    }

    async fn lock(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        self.guard.lock(ip).await
    }
}
