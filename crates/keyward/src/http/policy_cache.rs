//! [`PolicyCache`]: an adapter's `RateLimit-Policy` header values, built once per quota.

use keyward_limit::{BudgetDecision, LimitScope, Quota};

use super::render::rate_limit_policy_field;

/// The last `RateLimit-Policy` header value an adapter built for each budget scope, with
/// the quota and limit it describes. The value depends on nothing else, so a response
/// clones it (for `http`'s and actix-web's header values, a reference count) instead of
/// allocating one of its own. `V` is the framework's header value type; an adapter keeps
/// one cache per thread.
///
/// ```
/// use std::time::Duration;
/// use keyward::http::PolicyCache;
/// use keyward::limit::{BudgetDecision, Decision, LimitScope, Quota};
///
/// let quota = Quota::per_minute(60);
/// let budget = BudgetDecision {
///     scope: LimitScope::Key,
///     quota,
///     decision: Decision::from_debt(quota, Duration::ZERO),
/// };
/// let mut cache = PolicyCache::<String>::new();
/// let mut built = 0;
/// for _ in 0..3 {
///     let value = cache.value(&budget, |bytes| {
///         built += 1;
///         String::from_utf8(bytes.to_vec()).ok()
///     });
///     assert_eq!(value.as_deref(), Some(r#""key";q=60;w=60"#));
/// }
/// assert_eq!(built, 1);
/// ```
#[derive(Debug)]
pub struct PolicyCache<V> {
    slots: [Option<(Quota, u32, V)>; 3],
}

impl<V: Clone> PolicyCache<V> {
    /// An empty cache.
    pub const fn new() -> Self {
        PolicyCache {
            slots: [const { None }; 3],
        }
    }

    /// The `RateLimit-Policy` value of `budget`: the cached one when this cache built it
    /// for the same scope, quota and limit, else `build` applied to the field's bytes
    /// (`None` when `build` refuses them, which a header value of ASCII never does).
    pub fn value(
        &mut self,
        budget: &BudgetDecision,
        build: impl FnOnce(&[u8]) -> Option<V>,
    ) -> Option<V> {
        let slot = &mut self.slots[match budget.scope {
            LimitScope::Key => 0,
            LimitScope::Owner => 1,
            LimitScope::Tenant => 2,
        }];
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
}

impl<V: Clone> Default for PolicyCache<V> {
    fn default() -> Self {
        Self::new()
    }
}
