//! Cleanup: dropping state that no longer changes any decision.
//!
//! Both in-memory stores only ever remove entries that are *equivalent to absent*: a
//! rate-limit entry whose TAT is in the past decides exactly like a key never seen, and a
//! failure counter whose window has closed (and that is not locked out) decides like an
//! address never seen. So cleanup never resets anyone's budget or lockout.
//!
//! Cleanup runs by itself, amortised: after the number of new entries since the last
//! sweep reaches half the map's size (at least [`MIN_SWEEP_INTERVAL`] entries), the
//! thread that inserted the last of them sweeps. A sweep visits every entry once, so the
//! cost per insert stays constant, and the map stays within about 1.5 × the entries
//! that are live. [`Cleanup::retain_recent`] sweeps on demand (a periodic task may call
//! it to return memory after a burst; follow it with [`Cleanup::shrink_to_fit`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Smallest number of inserts between two automatic sweeps.
pub(crate) const MIN_SWEEP_INTERVAL: usize = 1024;

/// Approximate bytes of hash tables holding `capacity` entries of type `T`: hashbrown
/// keeps one control byte per bucket and fills at most 7/8 of its buckets.
pub(crate) fn table_bytes<T>(capacity: usize) -> usize {
    (capacity / 7 * 8) * (std::mem::size_of::<T>() + 1)
}

/// A store that can drop entries which no longer change any decision.
///
/// ```
/// use std::time::Duration;
/// use keyward_clock::{ManualClock, Timestamp};
/// use keyward_limit::{Cleanup, MemoryRateLimiter, Quota};
///
/// let clock = ManualClock::new(Timestamp::from_unix_seconds(1));
/// let limiter = MemoryRateLimiter::with_clock(clock.clone());
/// limiter.decide("a", Quota::per_minute(60));
/// assert_eq!(limiter.tracked(), 1);
/// clock.advance(Duration::from_secs(1)); // its bucket is full again
/// assert_eq!(limiter.retain_recent(), 1);
/// assert_eq!(limiter.tracked(), 0);
/// ```
pub trait Cleanup {
    /// Removes every entry that is equivalent to an absent one; returns how many.
    fn retain_recent(&self) -> usize;

    /// Entries currently held.
    fn tracked(&self) -> usize;

    /// Returns unused capacity to the allocator (after a sweep that freed many entries).
    fn shrink_to_fit(&self);
}

/// When to sweep: counts inserts and elects one sweeping thread.
#[derive(Debug)]
pub(crate) struct SweepSchedule {
    inserts: AtomicUsize,
    threshold: AtomicUsize,
    running: AtomicBool,
}

impl SweepSchedule {
    pub(crate) fn new() -> Self {
        SweepSchedule {
            inserts: AtomicUsize::new(0),
            threshold: AtomicUsize::new(MIN_SWEEP_INTERVAL),
            running: AtomicBool::new(false),
        }
    }

    /// Counts one new entry; `true` means the caller was elected to sweep now and must
    /// call [`SweepSchedule::finished`] afterwards.
    #[inline]
    pub(crate) fn note_insert(&self) -> bool {
        let n = self.inserts.fetch_add(1, Ordering::Relaxed) + 1;
        n >= self.threshold.load(Ordering::Relaxed)
            && self
                .running
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    /// Records a finished sweep that left `len` entries.
    pub(crate) fn finished(&self, len: usize) {
        self.inserts.store(0, Ordering::Relaxed);
        self.threshold
            .store((len / 2).max(MIN_SWEEP_INTERVAL), Ordering::Relaxed);
        self.running.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elects_one_sweeper_after_the_threshold() {
        let s = SweepSchedule::new();
        for _ in 1..MIN_SWEEP_INTERVAL {
            assert!(!s.note_insert());
        }
        assert!(s.note_insert());
        assert!(!s.note_insert(), "a sweep is already running");
        s.finished(10_000);
        for _ in 1..5_000 {
            assert!(!s.note_insert());
        }
        assert!(s.note_insert(), "the next sweep waits for len / 2 inserts");
    }
}
