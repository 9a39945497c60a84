//! [`RateLimiter`]: the trait every per-key rate-limit backend implements.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::LimitError;
use crate::rate::budget::{BudgetDecision, Budgets, Subject};
use crate::rate::decision::Decision;
use crate::rate::quota::Quota;

/// Decides whether a key may make one more request now, and counts it if so.
///
/// Keyed by the key's public id (`&str`), with the quota passed on every call so that a
/// key record may carry its own quota instead of the default. Object safe:
/// `Arc<dyn RateLimiter>` is how the authenticator holds one.
///
/// Backends that need I/O (Redis) implement the `async` [`check`](RateLimiter::check).
/// Backends that never wait (memory) also override
/// [`check_now`](RateLimiter::check_now), which callers try first to skip the boxed
/// future:
///
/// ```
/// use keyward_limit::{Decision, LimitError, MemoryRateLimiter, Quota, RateLimiter};
///
/// async fn decide(limiter: &dyn RateLimiter, key: &str, quota: Quota) -> Result<Decision, LimitError> {
///     match limiter.check_now(key, quota) {
///         Some(answer) => answer,
///         None => limiter.check(key, quota).await,
///     }
/// }
///
/// let limiter = MemoryRateLimiter::new();
/// let answer = limiter.check_now("key_1", Quota::per_minute(60));
/// assert!(answer.unwrap()?.is_allowed());
/// # Ok::<(), LimitError>(())
/// ```
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Decides one request of `key` under `quota`; an allowed request is counted, a
    /// refused one is not.
    ///
    /// # Errors
    ///
    /// [`LimitError::Unavailable`] when the backend cannot decide; the caller applies its
    /// configured fail-open or fail-closed policy.
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError>;

    /// The same decision without a future, for backends that never wait; `None` (the
    /// default) means "call [`check`](RateLimiter::check)".
    fn check_now(&self, key: &str, quota: Quota) -> Option<Result<Decision, LimitError>> {
        let _ = (key, quota);
        None
    }

    /// Decides one request that must fit in every one of `budgets` (its key's, its
    /// owner's, its tenant's): allowed only if each allows it, and then counted in each.
    ///
    /// keyward's backends (memory, Redis) decide **all or nothing**: a request refused
    /// by one budget spends none of the others. The default asks
    /// [`check`](RateLimiter::check) for each budget in turn under its
    /// [`Subject`]'s key and stops at the first refusal, so the budgets checked before
    /// it stay spent; a backend that can do better overrides it.
    ///
    /// # Errors
    ///
    /// [`LimitError::Unavailable`] when the backend cannot decide.
    async fn check_budgets(&self, budgets: &Budgets<'_>) -> Result<BudgetDecision, LimitError> {
        let mut binding: Option<BudgetDecision> = None;
        for budget in budgets.iter() {
            let decision = match budget.subject {
                Subject::Key(id) => self.check(id, budget.quota).await?,
                other => self.check(&other.to_string(), budget.quota).await?,
            };
            let this = BudgetDecision {
                scope: budget.subject.scope(),
                quota: budget.quota,
                decision,
            };
            if !decision.is_allowed() {
                return Ok(this);
            }
            binding = Some(binding.map_or(this, |b| b.tighter(this)));
        }
        let key = budgets.key_budget();
        binding.ok_or_else(|| {
            LimitError::Unavailable(format!("no budget decided for {}", key.subject))
        })
    }

    /// [`check_budgets`](RateLimiter::check_budgets) without a future, for backends
    /// that never wait; `None` (the default) means "call `check_budgets`".
    fn check_budgets_now(
        &self,
        budgets: &Budgets<'_>,
    ) -> Option<Result<BudgetDecision, LimitError>> {
        let _ = budgets;
        None
    }
}

#[async_trait]
impl<T: RateLimiter + ?Sized> RateLimiter for Arc<T> {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError> {
        (**self).check(key, quota).await
    }

    fn check_now(&self, key: &str, quota: Quota) -> Option<Result<Decision, LimitError>> {
        (**self).check_now(key, quota)
    }

    async fn check_budgets(&self, budgets: &Budgets<'_>) -> Result<BudgetDecision, LimitError> {
        (**self).check_budgets(budgets).await
    }

    fn check_budgets_now(
        &self,
        budgets: &Budgets<'_>,
    ) -> Option<Result<BudgetDecision, LimitError>> {
        (**self).check_budgets_now(budgets)
    }
}

#[async_trait]
impl<T: RateLimiter + ?Sized> RateLimiter for Box<T> {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError> {
        (**self).check(key, quota).await
    }

    fn check_now(&self, key: &str, quota: Quota) -> Option<Result<Decision, LimitError>> {
        (**self).check_now(key, quota)
    }

    async fn check_budgets(&self, budgets: &Budgets<'_>) -> Result<BudgetDecision, LimitError> {
        (**self).check_budgets(budgets).await
    }

    fn check_budgets_now(
        &self,
        budgets: &Budgets<'_>,
    ) -> Option<Result<BudgetDecision, LimitError>> {
        (**self).check_budgets_now(budgets)
    }
}
