//! [`MemoryRateLimiter`]: GCRA per key in process memory.

use std::fmt;

use async_trait::async_trait;
use keyward_clock::{Clock, SystemClock};

use crate::cleanup::{Cleanup, SweepSchedule};
use crate::error::LimitError;
use crate::rate::budget::{Budget, BudgetDecision, Budgets, SubjectKey};
use crate::rate::decision::Decision;
use crate::rate::gcra::Gcra;
use crate::rate::limiter::RateLimiter;
use crate::rate::quota::Quota;
use crate::rate::state::{KeyedState, Spent};

/// A [`RateLimiter`] for one process: GCRA with one `AtomicU64` per key in a `DashMap`,
/// updated by compare-and-swap (no lock is held while deciding), the clock injected.
///
/// - **Burst = limit.** A fresh key may make `limit` requests at once, then one more
///   every `period / limit`.
/// - **Memory is bounded by activity.** A key whose bucket has refilled is removed by
///   the next sweep (removing it changes nothing: an absent key starts full). Sweeps run
///   by themselves after every `max(1024, len / 2)` new keys, or on demand with
///   [`Cleanup::retain_recent`]; so memory tracks the keys used within one period, at
///   38–75 bytes each depending on the table's fill (measured: 70 bytes resident per
///   key at 1,000,000 keys). Keys of up to 22 bytes (every keyward key id) are stored
///   inline, without an allocation of their own.
/// - **A quota change applies at once.** The state is a time, not a count: the time the
///   key has consumed carries over to the new quota. Raising 60/min to 120/min after 30
///   requests leaves 60 of 120; lowering 600/min to 60/min after 300 requests leaves 30
///   of 60. A lowered quota may refuse until the consumed time has passed, at most the
///   old quota's period (a key that spent all of 10/day and is moved to 60/min waits out
///   that day): the limiter never lets a quota change hand out extra requests.
///
/// The keys are the authenticated key ids: this limiter runs after authentication, so an
/// attacker cannot make it track keys that do not exist. Per-address limits on
/// unauthenticated traffic are [`MemoryFailureGuard`](crate::MemoryFailureGuard)'s job,
/// which has a hard cap.
///
/// ```
/// use std::time::Duration;
/// use keyward_clock::{ManualClock, Timestamp};
/// use keyward_limit::{MemoryRateLimiter, Quota};
///
/// let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
/// let limiter = MemoryRateLimiter::with_clock(clock.clone());
/// let quota = Quota::per_minute(60);
/// for _ in 0..60 {
///     assert!(limiter.decide("key_a", quota).is_allowed());
/// }
/// assert_eq!(limiter.decide("key_a", quota).retry_after_secs(), Some(1));
/// assert!(limiter.decide("key_b", quota).is_allowed(), "keys are independent");
/// clock.advance(Duration::from_secs(1));
/// assert!(limiter.decide("key_a", quota).is_allowed());
/// ```
pub struct MemoryRateLimiter<C: Clock = SystemClock> {
    clock: C,
    state: KeyedState,
    sweeps: SweepSchedule,
}

impl MemoryRateLimiter<SystemClock> {
    /// A limiter on the system clock.
    pub fn new() -> Self {
        Self::with_clock(SystemClock)
    }
}

impl Default for MemoryRateLimiter<SystemClock> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Clock> MemoryRateLimiter<C> {
    /// A limiter reading `clock` (a [`ManualClock`](keyward_clock::ManualClock) in tests).
    pub fn with_clock(clock: C) -> Self {
        MemoryRateLimiter {
            clock,
            state: KeyedState::default(),
            sweeps: SweepSchedule::new(),
        }
    }

    /// Decides one request of `key` under `quota` and counts it if allowed.
    ///
    /// The infallible form of [`RateLimiter::check_now`].
    #[inline(always)]
    pub fn decide(&self, key: &str, quota: Quota) -> Decision {
        let gcra = Gcra::new(quota);
        gcra.decision(self.spend_now(key, &gcra))
    }

    /// Decides one request of `key` under `quota` and counts it if allowed, like
    /// [`decide`](MemoryRateLimiter::decide), answering only whether it may proceed.
    ///
    /// For a caller that sends no rate-limit headers: it skips computing the
    /// [`Decision`]'s numbers and handing the decision back, which is all a check
    /// costs beyond the lookup and the compare-and-swap.
    ///
    /// ```
    /// use keyward_clock::{ManualClock, Timestamp};
    /// use keyward_limit::{MemoryRateLimiter, Quota};
    ///
    /// let limiter = MemoryRateLimiter::with_clock(ManualClock::new(Timestamp::from_unix_seconds(1)));
    /// let quota = Quota::per_minute(2);
    /// assert!(limiter.allow("k", quota));
    /// assert!(limiter.allow("k", quota));
    /// assert!(!limiter.allow("k", quota));
    /// // The same budget as `decide`'s: the refusal above spent nothing.
    /// assert_eq!(limiter.decide("k", quota).retry_after_secs(), Some(30));
    /// ```
    #[inline(always)]
    pub fn allow(&self, key: &str, quota: Quota) -> bool {
        let gcra = Gcra::new(quota);
        gcra.allows(self.spend_now(key, &gcra))
    }

    /// Spends one request of `key` at the clock's now, if `gcra` has room for it;
    /// returns the key's debt before it, which the answer is computed from in
    /// registers. A tracked key's path inlines into the caller; an untracked key's
    /// stays out of line.
    #[inline(always)]
    fn spend_now(&self, key: &str, gcra: &Gcra) -> u64 {
        let now = self.clock.now().as_unix_nanos();
        match self.state.spend_tracked(key, gcra, now) {
            Some(debt) => debt,
            None => self.spend_untracked(key, gcra, now),
        }
    }

    /// The debt of a key not tracked yet (spending it, when allowed, inserts it), out
    /// of line so the tracked path inlines into callers.
    #[cold]
    #[inline(never)]
    fn spend_untracked(&self, key: &str, gcra: &Gcra, now: u64) -> u64 {
        let spent = self.state.spend_untracked(key, gcra, now);
        self.note_spent(spent);
        spent.debt
    }

    /// Counts an insert towards the next sweep, and runs it when due.
    #[inline]
    fn note_spent(&self, spent: Spent) {
        if spent.inserted && self.sweeps.note_insert() {
            self.sweep();
        }
    }

    /// Decides one request against every one of `budgets`, all or nothing: each budget
    /// is spent in turn (key, owner, tenant) and, at the first that refuses, those
    /// already spent are given back, so a refused request spends nothing. A request
    /// racing it may see those budgets spent for that instant and be refused: the
    /// limiter errs strict, never generous.
    ///
    /// The infallible form of [`RateLimiter::check_budgets_now`].
    ///
    /// ```
    /// use keyward_clock::{ManualClock, Timestamp};
    /// use keyward_limit::{Budgets, LimitScope, MemoryRateLimiter, Quota};
    ///
    /// let limiter = MemoryRateLimiter::with_clock(ManualClock::new(Timestamp::from_unix_seconds(1)));
    /// let (key, owner) = (Quota::per_minute(60), Quota::per_minute(2));
    /// // Two keys of one owner share the owner's two requests a minute.
    /// assert!(limiter.decide_budgets(&Budgets::key("k1", key).with_owner("alice", owner)).is_allowed());
    /// assert!(limiter.decide_budgets(&Budgets::key("k2", key).with_owner("alice", owner)).is_allowed());
    /// let refused = limiter.decide_budgets(&Budgets::key("k1", key).with_owner("alice", owner));
    /// assert_eq!(refused.scope, LimitScope::Owner);
    /// assert!(!refused.is_allowed());
    /// ```
    pub fn decide_budgets(&self, budgets: &Budgets<'_>) -> BudgetDecision {
        let now = self.clock.now().as_unix_nanos();
        let mut binding = self.spend(budgets.key_budget(), now);
        if !binding.is_allowed() {
            return binding;
        }
        for (i, budget) in budgets.iter().enumerate().skip(1) {
            let this = self.spend(budget, now);
            if !this.is_allowed() {
                for spent in budgets.iter().take(i) {
                    let key = SubjectKey::new(&spent.subject);
                    self.state
                        .refund(key.as_str(), spent.quota.interval_nanos());
                }
                return this;
            }
            binding = binding.tighter(this);
        }
        binding
    }

    /// One GCRA decision of `budget` at `now`, counted if allowed.
    #[inline]
    fn spend(&self, budget: Budget<'_>, now: u64) -> BudgetDecision {
        let gcra = Gcra::new(budget.quota);
        let key = SubjectKey::new(&budget.subject);
        let spent = self.state.spend(key.as_str(), &gcra, now);
        self.note_spent(spent);
        BudgetDecision {
            scope: budget.subject.scope(),
            quota: budget.quota,
            decision: gcra.decision(spent.debt),
        }
    }

    #[cold]
    fn sweep(&self) {
        self.state.retain_recent(self.clock.now().as_unix_nanos());
        self.sweeps.finished(self.state.len());
    }

    /// The clock this limiter reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Approximate bytes of the map's tables: slots and control bytes, keys of up to 22
    /// bytes included (longer keys add a heap allocation each). Grows in steps as the
    /// tables double.
    pub fn table_bytes(&self) -> usize {
        self.state.table_bytes()
    }
}

impl<C: Clock> Cleanup for MemoryRateLimiter<C> {
    /// Removes every key whose bucket is full again (its TAT is not after now).
    fn retain_recent(&self) -> usize {
        self.state.retain_recent(self.clock.now().as_unix_nanos())
    }

    fn tracked(&self) -> usize {
        self.state.len()
    }

    fn shrink_to_fit(&self) {
        self.state.shrink_to_fit();
    }
}

#[async_trait]
impl<C: Clock> RateLimiter for MemoryRateLimiter<C> {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError> {
        Ok(self.decide(key, quota))
    }

    #[inline]
    fn check_now(&self, key: &str, quota: Quota) -> Option<Result<Decision, LimitError>> {
        Some(Ok(self.decide(key, quota)))
    }

    async fn check_budgets(&self, budgets: &Budgets<'_>) -> Result<BudgetDecision, LimitError> {
        Ok(self.decide_budgets(budgets))
    }

    fn check_budgets_now(
        &self,
        budgets: &Budgets<'_>,
    ) -> Option<Result<BudgetDecision, LimitError>> {
        Some(Ok(self.decide_budgets(budgets)))
    }
}

impl<C: Clock + fmt::Debug> fmt::Debug for MemoryRateLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRateLimiter")
            .field("clock", &self.clock)
            .field("tracked", &self.state.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use keyward_clock::{ManualClock, Timestamp};

    use super::*;
    use crate::cleanup::MIN_SWEEP_INTERVAL;

    fn limiter() -> (ManualClock, MemoryRateLimiter<ManualClock>) {
        let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
        (clock.clone(), MemoryRateLimiter::with_clock(clock))
    }

    #[test]
    fn idle_keys_are_swept_automatically() {
        let (clock, limiter) = limiter();
        let quota = Quota::per_second(1);
        for i in 0..MIN_SWEEP_INTERVAL - 1 {
            limiter.decide(&format!("old{i}"), quota);
        }
        assert_eq!(limiter.tracked(), MIN_SWEEP_INTERVAL - 1);
        clock.advance(Duration::from_secs(1));
        limiter.decide("new", quota); // the 1024th insert sweeps
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn active_keys_survive_a_sweep() {
        let (clock, limiter) = limiter();
        let quota = Quota::per_minute(60);
        for _ in 0..60 {
            limiter.decide("busy", quota);
        }
        clock.advance(Duration::from_secs(30));
        assert_eq!(limiter.retain_recent(), 0);
        // Still 30 s of debt: 30 requests fit, the 31st does not.
        for _ in 0..30 {
            assert!(limiter.decide("busy", quota).is_allowed());
        }
        assert!(!limiter.decide("busy", quota).is_allowed());
    }

    #[test]
    fn debug_shows_the_count_not_the_keys() {
        let (_, limiter) = limiter();
        limiter.decide("secretish", Quota::per_minute(1));
        let shown = format!("{limiter:?}");
        assert!(shown.contains("tracked: 1"), "{shown}");
        assert!(!shown.contains("secretish"));
    }
}
