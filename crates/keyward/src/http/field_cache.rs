//! [`FieldCache`]: an adapter's `RateLimit-Policy` and `RateLimit` header values, built
//! once per distinct value on each thread.

use keyward_limit::{BudgetDecision, LimitScope, Quota};

use super::render::{rate_limit_numbers, rate_limit_policy_field, service_limit_field};

/// The last `RateLimit-Policy` and `RateLimit` header values an adapter built for each
/// budget scope, with what each was built from, so that a response whose value is the
/// same clones it (for `http`'s and actix-web's header values, a reference count)
/// instead of formatting, checking and allocating one of its own.
///
/// `RateLimit-Policy` depends only on the scope, quota and limit, so it is built once per
/// quota. `RateLimit` depends on the requests left and the seconds to refill, which
/// repeat from one response to the next whenever requests find their bucket in the
/// same state: every request of a key used less often than its quota allows finds
/// it full (`r` one below the limit), whichever key of that quota it is. `V` is the
/// framework's header value type; an adapter keeps one cache per thread.
///
/// ```
/// use std::time::Duration;
/// use keyward::http::FieldCache;
/// use keyward::limit::{BudgetDecision, Decision, LimitScope, Quota};
///
/// let quota = Quota::per_minute(60);
/// let budget = BudgetDecision {
///     scope: LimitScope::Key,
///     quota,
///     decision: Decision::from_debt(quota, Duration::ZERO),
/// };
/// let mut cache = FieldCache::<String>::new();
/// let mut built = 0;
/// let mut build = |bytes: &[u8]| {
///     built += 1;
///     String::from_utf8(bytes.to_vec()).ok()
/// };
/// for _ in 0..3 {
///     assert_eq!(cache.policy(&budget, &mut build).as_deref(), Some(r#""key";q=60;w=60"#));
///     assert_eq!(cache.rate_limit(&budget, &mut build).as_deref(), Some(r#""key";r=59;t=1"#));
/// }
/// assert_eq!(built, 2);
/// ```
#[derive(Debug)]
pub struct FieldCache<V> {
    policies: [Option<(Quota, u32, V)>; 3],
    rate_limits: [Option<(u32, u64, V)>; 3],
}

impl<V: Clone> FieldCache<V> {
    /// An empty cache.
    pub const fn new() -> Self {
        FieldCache {
            policies: [const { None }; 3],
            rate_limits: [const { None }; 3],
        }
    }

    /// The `RateLimit-Policy` and `RateLimit` values of `budget`, in that order: what an
    /// adapter writes beside the three `RateLimit-*` numbers.
    pub fn values(
        &mut self,
        budget: &BudgetDecision,
        build: impl Fn(&[u8]) -> Option<V>,
    ) -> (Option<V>, Option<V>) {
        (self.policy(budget, &build), self.rate_limit(budget, &build))
    }

    /// The `RateLimit-Policy` value of `budget`: the cached one when this cache built it
    /// for the same scope, quota and limit, else `build` applied to the field's bytes
    /// (`None` when `build` refuses them, which a header value of ASCII never does).
    pub fn policy(
        &mut self,
        budget: &BudgetDecision,
        build: impl FnOnce(&[u8]) -> Option<V>,
    ) -> Option<V> {
        let slot = &mut self.policies[index(budget.scope)];
        let limit = budget.decision.limit();
        if let Some((quota, cached_limit, value)) = slot
            && *quota == budget.quota
            && *cached_limit == limit
        {
            return Some(value.clone());
        }
        let value = build(rate_limit_policy_field(budget).as_bytes())?;
        *slot = Some((budget.quota, limit, value.clone()));
        Some(value)
    }

    /// The `RateLimit` value of `budget`: the cached one when this cache last built the
    /// same scope's value for the same requests left and seconds to refill, else `build`
    /// applied to the field's bytes.
    pub fn rate_limit(
        &mut self,
        budget: &BudgetDecision,
        build: impl FnOnce(&[u8]) -> Option<V>,
    ) -> Option<V> {
        let slot = &mut self.rate_limits[index(budget.scope)];
        let (remaining, t) = rate_limit_numbers(budget);
        if let Some((cached_remaining, cached_t, value)) = slot
            && *cached_remaining == remaining
            && *cached_t == t
        {
            return Some(value.clone());
        }
        let value = build(service_limit_field(budget.scope, remaining, t).as_bytes())?;
        *slot = Some((remaining, t, value.clone()));
        Some(value)
    }
}

fn index(scope: LimitScope) -> usize {
    match scope {
        LimitScope::Key => 0,
        LimitScope::Owner => 1,
        LimitScope::Tenant => 2,
    }
}

impl<V: Clone> Default for FieldCache<V> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use keyward_limit::Decision;

    use super::*;

    fn budget(scope: LimitScope, quota: Quota, debt: Duration) -> BudgetDecision {
        BudgetDecision {
            scope,
            quota,
            decision: Decision::from_debt(quota, debt),
        }
    }

    fn text(bytes: &[u8]) -> Option<String> {
        String::from_utf8(bytes.to_vec()).ok()
    }

    #[test]
    fn a_rate_limit_value_is_reused_only_for_the_same_scope_and_numbers() {
        let quota = Quota::per_minute(60);
        let mut cache = FieldCache::new();
        let full = budget(LimitScope::Key, quota, Duration::ZERO);
        let spent = budget(LimitScope::Key, quota, Duration::from_secs(10));
        let owner = budget(LimitScope::Owner, quota, Duration::ZERO);
        assert_eq!(cache.rate_limit(&full, text).unwrap(), r#""key";r=59;t=1"#);
        // A cached value never answers for other numbers or another scope.
        assert_eq!(
            cache.rate_limit(&spent, text).unwrap(),
            r#""key";r=49;t=11"#
        );
        assert_eq!(
            cache.rate_limit(&owner, text).unwrap(),
            r#""owner";r=59;t=1"#
        );
        assert_eq!(
            cache.rate_limit(&full, |_| None::<String>),
            None,
            "the key's slot holds the spent value now, so the full one is built again"
        );
        assert_eq!(
            cache.rate_limit(&owner, |_| None).unwrap(),
            r#""owner";r=59;t=1"#,
            "the owner's own slot still holds its value"
        );
    }

    #[test]
    fn a_policy_value_follows_a_quota_change() {
        let mut cache = FieldCache::new();
        let before = budget(LimitScope::Tenant, Quota::per_minute(60), Duration::ZERO);
        let after = budget(LimitScope::Tenant, Quota::per_minute(120), Duration::ZERO);
        assert_eq!(
            cache.policy(&before, text).unwrap(),
            r#""tenant";q=60;w=60"#
        );
        assert_eq!(
            cache.policy(&after, text).unwrap(),
            r#""tenant";q=120;w=60"#
        );
    }
}
