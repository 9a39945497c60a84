//! Per-key rate limits: a [`Quota`], the GCRA arithmetic, the [`RateLimiter`] trait a
//! backend implements and the in-memory [`MemoryRateLimiter`].

pub(crate) mod budget;
pub(crate) mod decision;
pub(crate) mod gcra;
pub(crate) mod limiter;
pub(crate) mod memory;
pub(crate) mod quota;
pub(crate) mod state;

pub use budget::{Budget, BudgetDecision, Budgets, LimitScope, Subject};
pub use decision::{Decision, RateLimitHeaders, headers};
pub use limiter::RateLimiter;
pub use memory::MemoryRateLimiter;
pub use quota::Quota;
