//! [`MemoryFailureGuard`]: per-address failure counting in process memory, hard-capped.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use dashmap::DashMap;
use keyward_clock::{Clock, SystemClock};

use crate::cleanup::{Cleanup, SweepSchedule};
use crate::error::LimitError;
use crate::failure_guard::{FailureGuard, GuardDecision};
use crate::guard_config::GuardConfig;
use crate::ip_group::IpGroup;
use crate::time::{nanos, retry_secs};

/// One tracked address: its open window, or its lockout.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// When the current window opened (nanoseconds); meaningless while `failures == 0`.
    window_start: u64,
    /// Until when the address is locked out (nanoseconds); 0 when it never was.
    locked_until: u64,
    /// Failures in the current window.
    failures: u32,
}

impl Slot {
    fn is_locked(&self, now: u64) -> bool {
        self.locked_until > now
    }

    /// Equivalent to an address never seen: not locked, no failure in an open window.
    fn is_idle(&self, now: u64, window: u64) -> bool {
        !self.is_locked(now)
            && (self.failures == 0 || self.window_start.saturating_add(window) <= now)
    }

    fn decision(&self, now: u64) -> GuardDecision {
        if self.is_locked(now) {
            GuardDecision::Locked {
                retry_after: retry_secs(self.locked_until - now),
            }
        } else {
            GuardDecision::Open
        }
    }

    fn fail(&mut self, now: u64, rules: &Rules) -> GuardDecision {
        if self.is_locked(now) {
            // Already locked: a failure does not extend the lockout.
            return self.decision(now);
        }
        if self.failures == 0 || self.window_start.saturating_add(rules.window) <= now {
            self.window_start = now;
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures >= rules.max_failures {
            self.locked_until = now.saturating_add(rules.lockout);
            self.failures = 0;
            self.window_start = 0;
        }
        self.decision(now)
    }
}

/// The config in nanoseconds.
#[derive(Debug, Clone, Copy)]
struct Rules {
    max_failures: u32,
    window: u64,
    lockout: u64,
}

/// State guarded by the insert lock.
#[derive(Debug, Default)]
struct Room {
    /// Before this time no room can be made: every tracked address is locked out.
    full_until: u64,
}

/// A [`FailureGuard`] for one process, its memory hard-capped.
///
/// Counts failures per [`IpGroup`] (IPv4 address, IPv6 `/64`) in a `DashMap`, the clock
/// injected. [`check`](FailureGuard::check), the call on every request, takes one shard
/// read lock and no other.
///
/// **Memory bound.** At most [`GuardConfig::max_tracked`] addresses are tracked
/// (default 100,000; an entry costs a 41-byte table slot, 47–94 bytes with the table's
/// spare room: measured 55–59 bytes, ≈ 5.4 MB at the default cap), however many addresses
/// an attacker rotates through. New
/// addresses are admitted one at a time under a lock; when the table is full the guard
/// makes room, in this order:
///
/// 1. it drops *idle* entries (window closed, not locked out), which changes nothing;
/// 2. it drops unlocked counters with the **fewest failures** first, oldest window
///    first among equals, until the table is 10% below the cap (so the next sweep is
///    at least `max_tracked / 10` admissions away and the cost per admission stays
///    constant). An attacker's flood of one-failure addresses thus mostly evicts itself,
///    while a counter close to the limit survives;
/// 3. **a lockout is never evicted early.** If every tracked address is locked out, a
///    new address is not tracked (its failures go uncounted, [`GuardDecision::Open`])
///    until the earliest lockout ends; the guard does not rescan before then.
///
/// Idle entries are also swept by themselves, amortised, after every
/// `max(1024, len / 2)` new addresses, and on demand with [`Cleanup::retain_recent`].
///
/// ```
/// use std::net::IpAddr;
/// use std::time::Duration;
/// use keyward_clock::{ManualClock, Timestamp};
/// use keyward_limit::{GuardConfig, GuardDecision, MemoryFailureGuard};
///
/// let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
/// let guard = MemoryFailureGuard::with_clock(GuardConfig::default(), clock.clone());
/// let ip: IpAddr = "2001:db8::1".parse()?;
/// for _ in 0..10 {
///     guard.fail(ip);
/// }
/// let neighbour: IpAddr = "2001:db8::2".parse()?; // the same /64
/// assert_eq!(guard.status(neighbour), GuardDecision::Locked { retry_after: 60 });
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(guard.status(ip), GuardDecision::Open);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub struct MemoryFailureGuard<C: Clock = SystemClock> {
    config: GuardConfig,
    rules: Rules,
    clock: C,
    map: DashMap<IpGroup, Slot>,
    room: Mutex<Room>,
    sweeps: SweepSchedule,
}

impl MemoryFailureGuard<SystemClock> {
    /// A guard on the system clock.
    pub fn new(config: GuardConfig) -> Self {
        Self::with_clock(config, SystemClock)
    }
}

impl Default for MemoryFailureGuard<SystemClock> {
    /// [`GuardConfig::default`] on the system clock.
    fn default() -> Self {
        Self::new(GuardConfig::default())
    }
}

impl<C: Clock> MemoryFailureGuard<C> {
    /// A guard reading `clock` (a [`ManualClock`](keyward_clock::ManualClock) in tests).
    pub fn with_clock(config: GuardConfig, clock: C) -> Self {
        MemoryFailureGuard {
            rules: Rules {
                max_failures: config.max_failures(),
                window: nanos(config.window()),
                lockout: nanos(config.lockout()),
            },
            config,
            clock,
            map: DashMap::new(),
            room: Mutex::new(Room::default()),
            sweeps: SweepSchedule::new(),
        }
    }

    fn now(&self) -> u64 {
        self.clock.now().as_unix_nanos()
    }

    /// Whether `ip` may attempt authentication now: the infallible form of
    /// [`FailureGuard::check_now`].
    pub fn status(&self, ip: IpAddr) -> GuardDecision {
        // The clock is read only for a tracked address: most requests come from
        // addresses that never failed, and pay one map lookup.
        match self.map.get(&IpGroup::of(ip)) {
            Some(slot) => slot.decision(self.now()),
            None => GuardDecision::Open,
        }
    }

    /// Counts one failure from `ip`: the infallible form of
    /// [`FailureGuard::record_failure_now`].
    pub fn fail(&self, ip: IpAddr) -> GuardDecision {
        let group = IpGroup::of(ip);
        let now = self.now();
        if let Some(mut slot) = self.map.get_mut(&group) {
            return slot.fail(now, &self.rules);
        }
        self.admit(group, now)
    }

    /// Forgets `ip`'s failures and lifts its lockout (an operator's "unlock");
    /// `true` if it was tracked.
    pub fn clear(&self, ip: IpAddr) -> bool {
        self.map.remove(&IpGroup::of(ip)).is_some()
    }

    /// The configuration.
    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// The clock this guard reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Approximate bytes of the map's tables (slots plus control bytes).
    pub fn table_bytes(&self) -> usize {
        crate::cleanup::table_bytes::<(IpGroup, Slot)>(self.map.capacity())
    }

    /// The first failure of an untracked group: admit it if there is room.
    fn admit(&self, group: IpGroup, now: u64) -> GuardDecision {
        let mut room = self.room.lock().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have admitted it while we waited.
        if let Some(mut slot) = self.map.get_mut(&group) {
            return slot.fail(now, &self.rules);
        }
        if self.map.len() >= self.config.max_tracked() {
            self.make_room(now, &mut room);
            if self.map.len() >= self.config.max_tracked() {
                // Full of lockouts: this address goes uncounted for now.
                return GuardDecision::Open;
            }
        }
        let mut slot = Slot::default();
        let decision = slot.fail(now, &self.rules);
        self.map.insert(group, slot);
        if self.sweeps.note_insert() {
            self.sweep_idle(now);
            self.sweeps.finished(self.map.len());
        }
        decision
    }

    fn sweep_idle(&self, now: u64) -> usize {
        let before = self.map.len();
        let window = self.rules.window;
        self.map.retain(|_, slot| !slot.is_idle(now, window));
        before.saturating_sub(self.map.len())
    }

    /// Frees room for at least one admission if anything may be dropped (see the type's
    /// documentation for the order). Called with the insert lock held.
    fn make_room(&self, now: u64, room: &mut Room) {
        if now < room.full_until {
            return;
        }
        self.sweep_idle(now);
        let cap = self.config.max_tracked();
        let target = cap.saturating_sub((cap / 10).max(1));
        let len = self.map.len();
        if len > target {
            let excess = len - target;
            let mut victims: Vec<(u32, u64, IpGroup)> = self
                .map
                .iter()
                .filter(|e| !e.value().is_locked(now))
                .map(|e| (e.value().failures, e.value().window_start, *e.key()))
                .collect();
            if victims.len() > excess {
                victims.select_nth_unstable(excess);
                victims.truncate(excess);
            }
            for (_, _, group) in victims {
                self.map.remove_if(&group, |_, slot| !slot.is_locked(now));
            }
        }
        if self.map.len() >= cap {
            room.full_until = self
                .map
                .iter()
                .map(|e| e.value().locked_until)
                .min()
                .unwrap_or(0);
        }
    }
}

impl<C: Clock> Cleanup for MemoryFailureGuard<C> {
    /// Removes every address that is neither locked out nor inside an open window.
    fn retain_recent(&self) -> usize {
        let _room = self.room.lock().unwrap_or_else(PoisonError::into_inner);
        self.sweep_idle(self.now())
    }

    fn tracked(&self) -> usize {
        self.map.len()
    }

    fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }
}

#[async_trait]
impl<C: Clock> FailureGuard for MemoryFailureGuard<C> {
    async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        Ok(self.status(ip))
    }

    async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        Ok(self.fail(ip))
    }

    fn check_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        Some(Ok(self.status(ip)))
    }

    fn record_failure_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        Some(Ok(self.fail(ip)))
    }
}

impl<C: Clock + fmt::Debug> fmt::Debug for MemoryFailureGuard<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryFailureGuard")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .field("tracked", &self.map.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use keyward_clock::{ManualClock, Timestamp};

    use super::*;

    fn guard(config: GuardConfig) -> (ManualClock, MemoryFailureGuard<ManualClock>) {
        let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
        (clock.clone(), MemoryFailureGuard::with_clock(config, clock))
    }

    fn v4(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    #[test]
    fn tenth_failure_locks_for_sixty_seconds() {
        let (clock, g) = guard(GuardConfig::default());
        let ip = v4(1);
        for _ in 0..9 {
            assert_eq!(g.fail(ip), GuardDecision::Open);
            assert_eq!(g.status(ip), GuardDecision::Open);
        }
        assert_eq!(g.fail(ip), GuardDecision::Locked { retry_after: 60 });
        assert_eq!(g.status(ip), GuardDecision::Locked { retry_after: 60 });
        clock.advance(Duration::from_millis(59_001));
        assert_eq!(g.status(ip), GuardDecision::Locked { retry_after: 1 });
        clock.advance(Duration::from_millis(999));
        assert_eq!(g.status(ip), GuardDecision::Open);
        // A fresh start: nine more failures do not lock.
        for _ in 0..9 {
            assert_eq!(g.fail(ip), GuardDecision::Open);
        }
    }

    #[test]
    fn failures_in_a_lockout_do_not_extend_it() {
        let (clock, g) = guard(GuardConfig::default());
        for _ in 0..10 {
            g.fail(v4(1));
        }
        clock.advance(Duration::from_secs(30));
        assert_eq!(g.fail(v4(1)), GuardDecision::Locked { retry_after: 30 });
        clock.advance(Duration::from_secs(30));
        assert_eq!(g.status(v4(1)), GuardDecision::Open);
    }

    #[test]
    fn a_window_that_closes_below_the_limit_is_forgotten() {
        let (clock, g) = guard(GuardConfig::default());
        for _ in 0..9 {
            g.fail(v4(1));
        }
        clock.advance(Duration::from_secs(59));
        assert!(g.fail(v4(1)).is_locked(), "the 10th within 60 s locks");

        let (clock, g) = guard(GuardConfig::default());
        for _ in 0..9 {
            g.fail(v4(1));
        }
        clock.advance(Duration::from_secs(60));
        assert_eq!(g.fail(v4(1)), GuardDecision::Open, "the window has closed");
    }

    #[test]
    fn addresses_are_independent() {
        let (_, g) = guard(GuardConfig::default());
        for _ in 0..10 {
            g.fail(v4(1));
        }
        assert!(g.status(v4(1)).is_locked());
        assert_eq!(g.status(v4(2)), GuardDecision::Open);
    }

    #[test]
    fn clear_lifts_a_lockout() {
        let (_, g) = guard(GuardConfig::default());
        for _ in 0..10 {
            g.fail(v4(1));
        }
        assert!(g.clear(v4(1)));
        assert_eq!(g.status(v4(1)), GuardDecision::Open);
        assert!(!g.clear(v4(1)));
    }

    #[test]
    fn retain_recent_keeps_open_windows_and_lockouts() {
        let (clock, g) = guard(GuardConfig::default());
        for _ in 0..10 {
            g.fail(v4(1));
        }
        g.fail(v4(2));
        clock.advance(Duration::from_secs(30));
        g.fail(v4(3));
        assert_eq!(g.retain_recent(), 0);
        clock.advance(Duration::from_secs(30));
        // v4(1)'s lockout and v4(2)'s window ended; v4(3)'s window is open.
        assert_eq!(g.retain_recent(), 2);
        assert_eq!(g.tracked(), 1);
    }

    #[test]
    fn full_of_lockouts_admits_nothing_until_one_ends() {
        let config = GuardConfig::new(1, Duration::from_secs(60), Duration::from_secs(60))
            .unwrap()
            .with_max_tracked(3)
            .unwrap();
        let (clock, g) = guard(config);
        for n in 1..=3 {
            assert!(g.fail(v4(n)).is_locked());
        }
        assert_eq!(g.fail(v4(4)), GuardDecision::Open, "untracked");
        assert_eq!(g.tracked(), 3);
        for n in 1..=3 {
            assert!(g.status(v4(n)).is_locked(), "no lockout was evicted");
        }
        clock.advance(Duration::from_secs(60));
        assert!(g.fail(v4(4)).is_locked(), "room again once lockouts end");
        assert!(g.tracked() <= 3);
    }
}
