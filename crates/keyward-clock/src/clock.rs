use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::Timestamp;

/// A source of the current time.
///
/// Implementations must be cheap: the rate limiter reads the clock on every request.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock, read through the CPU's time-stamp counter.
///
/// `SystemTime::now()` costs ~25 ns here and is read up to three times per request
/// (expiry, rate limit, lockout). This clock adds the TSC-measured time since an anchor
/// to the wall-clock time of that anchor (~10 ns), and re-anchors on the wall clock
/// every second, so it never drifts from `SystemTime` by more than the TSC's error over
/// one second, and follows wall-clock steps within a second.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Timestamp {
        anchored_wall_clock()
    }
}

const RESYNC_EVERY_NANOS: u64 = 1_000_000_000;
/// The TSC clock and its raw reading at the anchor. A clock of our own, read raw, rather
/// than `quanta::Instant::now()`, which looks up a thread-local mock clock on every read
/// and goes through a `Duration`.
static SOURCE: OnceLock<(quanta::Clock, u64)> = OnceLock::new();
/// Wall-clock nanos minus monotonic nanos since `BASE`, as of the last re-anchor.
static OFFSET: AtomicU64 = AtomicU64::new(0);
/// Monotonic nanos since `BASE` at which to re-anchor; 0 before the first anchor.
static NEXT_RESYNC: AtomicU64 = AtomicU64::new(0);

#[inline]
fn anchored_wall_clock() -> Timestamp {
    let (clock, base) = SOURCE.get_or_init(|| {
        let clock = quanta::Clock::new();
        let base = clock.raw();
        (clock, base)
    });
    let mono = clock.delta_as_nanos(*base, clock.raw());
    if mono >= NEXT_RESYNC.load(Ordering::Relaxed) {
        return re_anchor(mono);
    }
    Timestamp::from_unix_nanos(mono.wrapping_add(OFFSET.load(Ordering::Relaxed)))
}

/// Once a second: reads the wall clock and re-anchors the TSC to it. Kept out of line so
/// the common read above inlines into its callers.
#[cold]
#[inline(never)]
fn re_anchor(mono: u64) -> Timestamp {
    let wall = Timestamp::from_system_time(std::time::SystemTime::now()).as_unix_nanos();
    OFFSET.store(wall.wrapping_sub(mono), Ordering::Relaxed);
    NEXT_RESYNC.store(
        mono.saturating_add(RESYNC_EVERY_NANOS).max(1),
        Ordering::Relaxed,
    );
    Timestamp::from_unix_nanos(wall)
}

/// A clock that only moves when told to; clones share one time.
///
/// ```
/// use std::time::Duration;
/// use keyward_clock::{Clock, ManualClock, Timestamp};
///
/// let clock = ManualClock::new(Timestamp::from_unix_seconds(100));
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(shared.now(), Timestamp::from_unix_seconds(105));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            nanos: Arc::new(AtomicU64::new(start.as_unix_nanos())),
        }
    }

    /// Moves time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let add = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(add))
            });
    }

    /// Sets the time to `t` (which may be earlier: tests of clock skew need it).
    pub fn set(&self, t: Timestamp) {
        self.nanos.store(t.as_unix_nanos(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > Timestamp::from_unix_seconds(1_577_836_800));
    }

    #[test]
    fn system_clock_stays_within_a_millisecond_of_system_time() {
        for _ in 0..1000 {
            let before = Timestamp::from_system_time(std::time::SystemTime::now());
            let now = SystemClock.now();
            let after = Timestamp::from_system_time(std::time::SystemTime::now());
            let slack = Duration::from_millis(1);
            assert!(now >= before.saturating_sub(slack) && now <= after.saturating_add(slack));
        }
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::from_unix_seconds(1));
        assert_eq!(c.now(), c.now());
        c.advance(Duration::from_millis(1500));
        assert_eq!(c.now().as_unix_millis(), 2500);
        c.set(Timestamp::from_unix_seconds(0));
        assert_eq!(c.now(), Timestamp::UNIX_EPOCH);
    }
}
