//! The generic cell rate algorithm: a token bucket without a timer.
//!
//! A key's whole state is one number, its *theoretical arrival time* (TAT): the instant
//! at which the key's bucket will be full again. A request at `now` costs one emission
//! interval `t = period / limit` and is allowed while the key's debt, `tat - now`, stays
//! within the bucket's capacity `limit × t`: allowed when `tat - now ≤ (limit - 1) × t`,
//! and then `tat` moves to `max(tat, now) + t`.
//!
//! Everything here is a pure function of the stored TAT, the quota and `now`, so the
//! tests need no clock and no map. [`crate::MemoryRateLimiter`] keeps the TAT in an
//! `AtomicU64`; a Redis backend keeps it in a key and runs the same arithmetic in a
//! script.

use std::time::Duration;

use crate::rate::decision::Decision;
use crate::rate::quota::Quota;
use crate::time::retry_secs;

/// The GCRA arithmetic of one [`Quota`], in nanoseconds: the emission interval
/// `t` (what one request costs, at least 1 ns) and the bucket's capacity `limit × t`
/// (the most debt a key may carry), both computed when the quota was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gcra {
    quota: Quota,
}

impl Gcra {
    pub(crate) const fn new(quota: Quota) -> Self {
        Gcra { quota }
    }

    /// Decides one request at `now` for a key whose stored TAT is `tat` (`None`: a key
    /// never seen, or evicted after going idle, which is the same thing).
    ///
    /// Returns the decision and, when allowed, the TAT to store. A refusal stores
    /// nothing, so the stored TAT only ever moves forward, by at least `t` per allowed
    /// request: whatever `now` concurrent callers read (even a stale one), no interval
    /// admits more than `limit + elapsed / t` requests.
    ///
    /// The TAT is a time, not a count, so a quota change applies at once and the time the
    /// key has consumed carries over: raising the limit gives room at once; lowering it
    /// (or shortening the period) may refuse until the consumed time has passed, which
    /// is at most the old quota's period.
    #[cfg(test)]
    pub(crate) fn decide(&self, tat: Option<u64>, now: u64) -> (Decision, Option<u64>) {
        let debt = debt(tat.unwrap_or(now), now);
        (self.decision(debt), self.next_tat(debt, now))
    }

    /// The TAT to store after allowing a request of a key `debt` away from full at
    /// `now`; `None` when the request is refused (nothing is stored).
    #[inline(always)]
    pub(crate) fn next_tat(&self, debt: u64, now: u64) -> Option<u64> {
        let after = debt.saturating_add(self.quota.interval_nanos());
        (after <= self.quota.capacity_nanos()).then(|| now.saturating_add(after))
    }

    /// The TAT to store for the first request of a key not tracked (no debt), which
    /// every quota allows: a full bucket holds at least one request (`capacity ≥ t`).
    #[inline]
    pub(crate) fn first_tat(&self, now: u64) -> u64 {
        now.saturating_add(self.quota.interval_nanos())
    }

    /// Whether a request of a key `debt` away from full fits: what
    /// [`Gcra::next_tat`] and [`Gcra::decision`] decide, without their numbers.
    #[inline(always)]
    pub(crate) fn allows(&self, debt: u64) -> bool {
        debt.saturating_add(self.quota.interval_nanos()) <= self.quota.capacity_nanos()
    }

    /// The decision for a request of a key `debt` away from full: what
    /// [`Gcra::next_tat`] allowed or refused, with the numbers the response reports.
    /// Only arithmetic, so [`crate::MemoryRateLimiter`] runs it after the key's
    /// compare-and-swap, outside the map's lock.
    #[inline(always)]
    pub(crate) fn decision(&self, debt: u64) -> Decision {
        let (limit, capacity) = (self.quota.limit(), self.quota.capacity_nanos());
        let after = debt.saturating_add(self.quota.interval_nanos());
        if after <= capacity {
            let remaining = if debt == 0 {
                // A full bucket, the usual case: no division on the hot path.
                u64::from(limit - 1)
            } else {
                self.quota.intervals_in(capacity - after)
            };
            Decision::Allowed {
                limit,
                remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
                reset: Duration::from_nanos(after),
            }
        } else {
            // One more request fits once the debt has shrunk to `capacity - t`.
            let wait = after - capacity;
            Decision::Limited {
                limit,
                retry_after: retry_secs(wait),
                reset: Duration::from_nanos(debt),
            }
        }
    }
}

/// A key's debt at `now`: how far its bucket, full again at `tat`, is from full. A TAT
/// in the past (or none, passed as `now`) is no debt.
#[inline(always)]
pub(crate) fn debt(tat: u64, now: u64) -> u64 {
    tat.saturating_sub(now)
}

impl Decision {
    /// The GCRA decision for one request of a key whose bucket is `debt` away from full
    /// (its stored arrival time minus now; zero for a key never seen or long idle).
    ///
    /// This is the arithmetic [`crate::MemoryRateLimiter`] applies, for a shared backend
    /// whose server computes the debt on its own clock (keyward-redis does it in one
    /// script), so every backend answers with the same `remaining`, `reset` and
    /// `retry_after`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use keyward_limit::{Decision, Quota};
    ///
    /// let quota = Quota::per_minute(60);
    /// assert_eq!(
    ///     Decision::from_debt(quota, Duration::ZERO),
    ///     Decision::Allowed { limit: 60, remaining: 59, reset: Duration::from_secs(1) }
    /// );
    /// // 60 requests in the same instant leave a debt of 60 s: the 61st waits 1 s.
    /// assert_eq!(
    ///     Decision::from_debt(quota, Duration::from_secs(60)),
    ///     Decision::Limited { limit: 60, retry_after: 1, reset: Duration::from_secs(60) }
    /// );
    /// ```
    #[must_use]
    pub fn from_debt(quota: Quota, debt: Duration) -> Decision {
        let debt = u64::try_from(debt.as_nanos()).unwrap_or(u64::MAX);
        Gcra::new(quota).decision(debt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;
    const NOW: u64 = 1_700_000_000 * SEC;

    /// Runs `n` requests at `now`, threading the TAT; returns the last decision.
    fn run(g: &Gcra, tat: &mut Option<u64>, now: u64, n: u32) -> Decision {
        let mut last = None;
        for _ in 0..n {
            let (d, next) = g.decide(*tat, now);
            if next.is_some() {
                *tat = next;
            }
            last = Some(d);
        }
        last.unwrap()
    }

    #[test]
    fn burst_equals_limit_then_one_per_interval() {
        let g = Gcra::new(Quota::per_minute(60));
        let mut tat = None;
        let first = run(&g, &mut tat, NOW, 1);
        assert_eq!(
            first,
            Decision::Allowed {
                limit: 60,
                remaining: 59,
                reset: Duration::from_secs(1)
            }
        );
        let sixtieth = run(&g, &mut tat, NOW, 59);
        assert_eq!(
            sixtieth,
            Decision::Allowed {
                limit: 60,
                remaining: 0,
                reset: Duration::from_secs(60)
            }
        );
        let refused = run(&g, &mut tat, NOW, 1);
        assert_eq!(
            refused,
            Decision::Limited {
                limit: 60,
                retry_after: 1,
                reset: Duration::from_secs(60)
            }
        );
        // 999 ms later: still refused, still "1".
        assert_eq!(
            run(&g, &mut tat, NOW + SEC - 1_000_000, 1).retry_after_secs(),
            Some(1)
        );
        // One second later exactly one more fits.
        assert!(run(&g, &mut tat, NOW + SEC, 1).is_allowed());
        assert!(!run(&g, &mut tat, NOW + SEC, 1).is_allowed());
    }

    #[test]
    fn allows_agrees_with_the_decision_and_the_next_tat_and_a_first_request_fits() {
        for quota in [
            Quota::per_second(4),
            Quota::per_minute(60),
            Quota::per_hour(1),
            Quota::new(u32::MAX, Duration::from_secs(1)).unwrap(),
        ] {
            let g = Gcra::new(quota);
            let t = quota.interval_nanos();
            let capacity = quota.capacity_nanos();
            for debt in [
                0,
                1,
                t - 1,
                t,
                capacity - t,
                capacity - t + 1,
                capacity,
                u64::MAX,
            ] {
                assert_eq!(g.next_tat(0, NOW), Some(g.first_tat(NOW)), "{quota}");
                let allowed = g.allows(debt);
                assert_eq!(allowed, g.decision(debt).is_allowed(), "{quota} {debt}");
                assert_eq!(allowed, g.next_tat(debt, NOW).is_some(), "{quota} {debt}");
                assert_eq!(allowed, debt <= capacity - t, "{quota} {debt}");
            }
        }
    }

    #[test]
    fn a_refusal_does_not_consume() {
        let g = Gcra::new(Quota::per_second(1));
        let (d, next) = g.decide(Some(NOW + SEC), NOW);
        assert!(!d.is_allowed());
        assert_eq!(next, None);
    }

    #[test]
    fn idle_key_refills_to_the_full_burst() {
        let g = Gcra::new(Quota::per_minute(60));
        let mut tat = None;
        run(&g, &mut tat, NOW, 60);
        let d = run(&g, &mut tat, NOW + 60 * SEC, 1);
        assert_eq!(d.remaining(), 59);
        // A TAT in the past is the same as no TAT: eviction is safe.
        assert_eq!(
            g.decide(tat, NOW + 3600 * SEC),
            g.decide(None, NOW + 3600 * SEC)
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        // 1 per 90 s: after one request the next fits in 90 s.
        let g = Gcra::new(Quota::new(1, Duration::from_secs(90)).unwrap());
        let mut tat = None;
        run(&g, &mut tat, NOW, 1);
        assert_eq!(run(&g, &mut tat, NOW, 1).retry_after_secs(), Some(90));
        assert_eq!(
            run(&g, &mut tat, NOW + 500_000_000, 1).retry_after_secs(),
            Some(90),
            "89.5 s rounds up"
        );
        assert_eq!(
            run(&g, &mut tat, NOW + 89 * SEC + 1, 1).retry_after_secs(),
            Some(1),
            "a nanosecond short of the next slot still says 1, never 0"
        );
        // 4 per second: the interval is 250 ms and Retry-After still says 1.
        let g = Gcra::new(Quota::per_second(4));
        let mut tat = None;
        run(&g, &mut tat, NOW, 4);
        let d = run(&g, &mut tat, NOW, 1);
        assert_eq!(d.retry_after_secs(), Some(1));
        assert_eq!(d.reset(), Duration::from_secs(1));
    }

    #[test]
    fn remaining_counts_down_and_reset_grows() {
        let g = Gcra::new(Quota::per_second(10));
        let mut tat = None;
        for i in 1..=10u32 {
            let d = run(&g, &mut tat, NOW, 1);
            assert_eq!(d.remaining(), 10 - i);
            assert_eq!(d.reset(), Duration::from_millis(100 * u64::from(i)));
        }
    }

    #[test]
    fn lowering_a_quota_keeps_the_consumed_time() {
        let g600 = Gcra::new(Quota::per_minute(600));
        let mut tat = None;
        run(&g600, &mut tat, NOW, 300); // 30 s of the minute used
        let g60 = Gcra::new(Quota::per_minute(60));
        // 30 s used of a 60 s bucket: 30 remain at 60/min, one is taken now.
        assert_eq!(run(&g60, &mut tat, NOW, 1).remaining(), 29);

        // A whole day used at 10/day: refused until that day has passed.
        let daily = Gcra::new(Quota::per_day(10));
        let mut tat = None;
        run(&daily, &mut tat, NOW, 10);
        let per_min = Gcra::new(Quota::per_minute(60));
        let d = run(&per_min, &mut tat, NOW, 1);
        assert_eq!(d.retry_after_secs(), Some(86_400 - 59));
        assert_eq!(d.reset(), Duration::from_secs(86_400));
        assert!(run(&per_min, &mut tat, NOW + (86_400 - 59) * SEC, 1).is_allowed());
    }

    #[test]
    fn raising_a_quota_keeps_the_consumed_time() {
        let g60 = Gcra::new(Quota::per_minute(60));
        let mut tat = None;
        run(&g60, &mut tat, NOW, 30); // 30 s of a 60 s bucket used
        let g120 = Gcra::new(Quota::per_minute(120));
        // Half the new bucket is used: 60 of 120 remain, one is taken now.
        assert_eq!(run(&g120, &mut tat, NOW, 1).remaining(), 59);
    }

    #[test]
    fn a_limit_of_one_allows_one_per_period() {
        let g = Gcra::new(Quota::per_hour(1));
        let mut tat = None;
        assert_eq!(run(&g, &mut tat, NOW, 1).remaining(), 0);
        assert_eq!(run(&g, &mut tat, NOW, 1).retry_after_secs(), Some(3600));
        assert!(run(&g, &mut tat, NOW + 3600 * SEC, 1).is_allowed());
    }

    #[test]
    fn huge_limits_and_far_clocks_do_not_overflow() {
        let g = Gcra::new(Quota::new(u32::MAX, Duration::from_secs(1)).unwrap());
        let mut tat = None;
        assert!(run(&g, &mut tat, u64::MAX - 5, 10).is_allowed());
        let g = Gcra::new(Quota::new(1, Duration::from_nanos(u64::MAX)).unwrap());
        let (d, next) = g.decide(None, u64::MAX - 1);
        assert!(d.is_allowed());
        assert_eq!(next, Some(u64::MAX));
        let _ = g.decide(next, u64::MAX - 1);
        let _ = g.decide(Some(u64::MAX), 0);
    }
}
