//! [`MemoryFailureGuard`]: per-address failure counting in process memory, hard-capped;
//! when the table of addresses is full, new addresses are counted under their network.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use dashmap::DashMap;
use keyward_clock::{Clock, SystemClock};

use crate::cleanup::{Cleanup, SweepSchedule};
use crate::error::LimitError;
use crate::ip::group::{IpGroup, Network, Width};
use crate::lockout::config::GuardConfig;
use crate::lockout::guard::{FailureBudget, FailureGuard, GuardDecision};
use crate::time::{nanos, retry_secs};

/// One counter (of an address or of a network): its open window, or its lockout.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// When the current window opened (nanoseconds); meaningless while `failures == 0`.
    window_start: u64,
    /// Until when the counter is locked out (nanoseconds); 0 when it never was.
    locked_until: u64,
    /// Failures in the current window.
    failures: u32,
}

impl Slot {
    fn is_locked(&self, now: u64) -> bool {
        self.locked_until > now
    }

    fn window_open(&self, now: u64, window: u64) -> bool {
        self.failures > 0 && self.window_start.saturating_add(window) > now
    }

    /// Equivalent to a counter never seen: not locked, no failure in an open window.
    fn is_idle(&self, now: u64, window: u64) -> bool {
        !self.is_locked(now) && !self.window_open(now, window)
    }

    /// From when on the counter is idle, if it fails no more.
    fn idle_from(&self, window: u64) -> u64 {
        let window_end = if self.failures > 0 {
            self.window_start.saturating_add(window)
        } else {
            0
        };
        self.locked_until.max(window_end)
    }

    fn budget(&self, now: u64, rules: &Rules) -> FailureBudget {
        if self.is_locked(now) {
            FailureBudget::Locked {
                retry_after: retry_secs(self.locked_until - now),
            }
        } else if self.window_open(now, rules.window) {
            FailureBudget::Open {
                failures_left: rules.max_failures.saturating_sub(self.failures).max(1),
            }
        } else {
            rules.full_budget()
        }
    }

    /// Locked from `now` for the whole lockout; a longer lockout already running stays.
    fn lock(&mut self, now: u64, rules: &Rules) -> GuardDecision {
        self.locked_until = self.locked_until.max(now.saturating_add(rules.lockout));
        self.failures = 0;
        self.window_start = 0;
        self.decision(now)
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
        if !self.window_open(now, rules.window) {
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

impl Rules {
    fn full_budget(&self) -> FailureBudget {
        FailureBudget::Open {
            failures_left: self.max_failures,
        }
    }
}

fn decision_of(budget: FailureBudget) -> GuardDecision {
    match budget {
        FailureBudget::Open { .. } => GuardDecision::Open,
        FailureBudget::Locked { retry_after } => GuardDecision::Locked { retry_after },
    }
}

/// The stricter of two budgets: any lockout (the longer one), else the fewer failures.
fn stricter(a: FailureBudget, b: FailureBudget) -> FailureBudget {
    use FailureBudget::{Locked, Open};
    match (a, b) {
        (Locked { retry_after: x }, Locked { retry_after: y }) => Locked {
            retry_after: x.max(y),
        },
        (locked @ Locked { .. }, Open { .. }) | (Open { .. }, locked @ Locked { .. }) => locked,
        (Open { failures_left: x }, Open { failures_left: y }) => Open {
            failures_left: x.min(y),
        },
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// When a full table may next be scanned for idle counters. Kept under the insert lock.
#[derive(Debug, Default)]
struct ScanGate {
    /// No counter of the table can become idle before this instant.
    not_before: u64,
    /// Admissions the table refused since its last scan.
    refused: usize,
    /// When the table was last scanned.
    scanned_at: u64,
}

/// A capped map of counters. Counters are admitted under the insert lock and are never
/// dropped before they are idle, so a full table refuses new keys instead.
struct Table<K> {
    map: DashMap<K, Slot>,
    cap: usize,
}

impl<K: Eq + Hash + Copy> Table<K> {
    fn new(cap: usize) -> Self {
        Table {
            map: DashMap::new(),
            cap,
        }
    }

    /// Counts a failure of `key`, admitting it if it is new and there is room; answers
    /// the counter after the failure and whether it was admitted now, or `None` when
    /// the table is full. Called with the insert lock held.
    fn fail(&self, key: K, now: u64, rules: &Rules, gate: &mut ScanGate) -> Option<(Slot, bool)> {
        if let Some(mut slot) = self.map.get_mut(&key) {
            slot.fail(now, rules);
            return Some((*slot, false));
        }
        if self.map.len() >= self.cap && !self.make_room(now, rules.window, gate) {
            return None;
        }
        let mut slot = Slot::default();
        slot.fail(now, rules);
        self.map.insert(key, slot);
        Some((slot, true))
    }

    /// Drops idle counters if the table may have any; `true` if there is room now.
    ///
    /// A scan visits every counter, so it runs only once some counter can have become
    /// idle, and then at most once per `cap / 10` refused admissions or per window: the
    /// cost per admission stays constant however long a flood lasts.
    fn make_room(&self, now: u64, window: u64, gate: &mut ScanGate) -> bool {
        gate.refused += 1;
        let due =
            gate.refused >= (self.cap / 10).max(1) || now >= gate.scanned_at.saturating_add(window);
        if now < gate.not_before || !due {
            return false;
        }
        let mut not_before = u64::MAX;
        self.map.retain(|_, slot| {
            let idle = slot.is_idle(now, window);
            if !idle {
                not_before = not_before.min(slot.idle_from(window));
            }
            !idle
        });
        gate.refused = 0;
        gate.scanned_at = now;
        gate.not_before = not_before;
        self.map.len() < self.cap
    }

    fn sweep_idle(&self, now: u64, window: u64) -> usize {
        let before = self.map.len();
        self.map.retain(|_, slot| !slot.is_idle(now, window));
        before.saturating_sub(self.map.len())
    }

    fn table_bytes(&self) -> usize {
        crate::cleanup::table_bytes::<(K, Slot)>(self.map.capacity())
    }
}

/// Counters in the last tier: fixed arrays, so they are never full. Every IPv4 `/16`
/// has its own counter (65,536 of them), so a flood spread over the IPv4 space locks
/// only the blocks it actually comes from. IPv6 `/32`s are too many for that: several
/// may share one of 4,096 counters, and the seeded hash keeps anyone from choosing which.
struct Blocks {
    v4: Box<[Mutex<Slot>]>,
    v6: Box<[Mutex<Slot>]>,
    hasher: foldhash::fast::RandomState,
}

impl Blocks {
    /// IPv4 `/16`s.
    const V4_SLOTS: usize = 1 << 16;
    /// Counters shared by IPv6 `/32`s; a power of two.
    const V6_SLOTS: usize = 4096;

    fn new() -> Self {
        Blocks {
            v4: (0..Self::V4_SLOTS).map(|_| Mutex::default()).collect(),
            v6: (0..Self::V6_SLOTS).map(|_| Mutex::default()).collect(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    fn slot(&self, block: Network) -> MutexGuard<'_, Slot> {
        match block.v4_number() {
            // A /16's number is its top 16 bits: always an index.
            Some(n) => lock(&self.v4[n as usize & (Self::V4_SLOTS - 1)]),
            None => {
                // Truncating the hash keeps its low bits, which index the array.
                let i = self.hasher.hash_one(block) as usize & (Self::V6_SLOTS - 1);
                lock(&self.v6[i])
            }
        }
    }

    fn reset(&self) {
        for slot in self.v4.iter().chain(self.v6.iter()) {
            *lock(slot) = Slot::default();
        }
    }

    const fn table_bytes() -> usize {
        (Self::V4_SLOTS + Self::V6_SLOTS) * std::mem::size_of::<Mutex<Slot>>()
    }
}

/// State guarded by the insert lock.
#[derive(Debug, Default)]
struct Room {
    addresses: ScanGate,
    sites: ScanGate,
}

/// A [`FailureGuard`] for one process, its memory hard-capped, its lockout kept under
/// any flood of addresses.
///
/// Counts failures per [`IpGroup`] (IPv4 address, IPv6 `/64`) in a `DashMap`, the clock
/// injected. [`check`](FailureGuard::check), the call on every request, takes one shard
/// read lock and reads one atomic: for an address that never failed, while the guard is
/// not under pressure, that is all.
///
/// **Tiers.** Three tables, each with a fixed bound, count failures with the same rule
/// (the window, the limit, the lockout):
///
/// 1. **addresses**: at most [`GuardConfig::max_tracked`] groups (default 100,000);
/// 2. **sites** (IPv4 `/24`, IPv6 `/48`): at most `max_tracked / 10` (default 10,000);
/// 3. **blocks** (IPv4 `/16`, IPv6 `/32`): fixed arrays, never full: a counter for each
///    IPv4 `/16`, and 4,096 counters shared by IPv6 `/32`s.
///
/// A counter is never dropped before it is *idle* (its window closed and no lockout),
/// so nothing an attacker sends can reset a count. A new address goes to the addresses
/// table if it has room, else its failures count under its site, or under its block
/// when the sites table is full too. Every failure is counted somewhere, so **a full
/// table never turns the lockout off**: an address that is not in the addresses table
/// has no failure budget while its site or its block is locked out, and at most
/// [`GuardConfig::max_failures`] of its own failures lock that network (it may be locked
/// already). The price is paid only under pressure, by the networks the failures come
/// from, and only where guessing costs something: such an address gets no slow hash and
/// its failed attempts are answered 429, but [`check`](FailureGuard::check) answers only
/// an address's *own* lockout, so a client that never failed keeps its cached key
/// working while a flood locks its network. Addresses in the first table keep their own
/// count.
///
/// A full table is scanned for idle counters once any can have become idle, and then
/// at most once per window or per refused admissions numbering a tenth of its cap, so a
/// flood costs constant time per request. When every network counter is idle again, the network
/// tables are emptied and [`check`](FailureGuard::check) is down to one lookup.
/// Idle addresses are also swept by themselves, amortised, after every
/// `max(1024, len / 2)` new addresses, and on demand with [`Cleanup::retain_recent`].
///
/// **Memory bound.** At the default config the three tables take at most **12.4 MB**
/// ([`table_bytes`](MemoryFailureGuard::table_bytes)), however many addresses an
/// attacker rotates through: 100,000 addresses at 41 bytes a table slot and 10,000
/// sites at 33 bytes, each table up to 2 × 8/7 slots per entry in the worst case of
/// its doubling cycle, plus 2.1 MiB of blocks (a counter for each of the 65,536 IPv4
/// `/16`s and 4,096 shared by IPv6 `/32`s). Measured with both tables full: 8.1 MB
/// (`tests/failure_guard.rs`, a flood of 1,000,000 addresses).
///
/// ```
/// use std::net::IpAddr;
/// use std::time::Duration;
/// use keyward_clock::{ManualClock, Timestamp};
/// use keyward_limit::{FailureBudget, GuardConfig, GuardDecision, MemoryFailureGuard};
///
/// let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
/// let guard = MemoryFailureGuard::with_clock(GuardConfig::default(), clock.clone());
/// let ip: IpAddr = "2001:db8::1".parse()?;
/// for _ in 0..3 {
///     guard.fail(ip);
/// }
/// assert_eq!(guard.budget_of(ip), FailureBudget::Open { failures_left: 7 });
/// for _ in 0..7 {
///     guard.fail(ip);
/// }
/// let neighbour: IpAddr = "2001:db8::2".parse()?; // the same /64
/// assert_eq!(guard.status(neighbour), GuardDecision::Locked { retry_after: 60 });
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(guard.status(ip), GuardDecision::Open);
/// assert_eq!(guard.budget_of(ip), FailureBudget::Open { failures_left: 10 });
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub struct MemoryFailureGuard<C: Clock = SystemClock> {
    config: GuardConfig,
    rules: Rules,
    clock: C,
    addresses: Table<IpGroup>,
    sites: Table<Network>,
    blocks: Blocks,
    /// 0 while no network counts anything; else the instant from which every network
    /// counter is idle.
    networks_busy_until: AtomicU64,
    /// 0 while no address was ever locked out; else an instant no address's own
    /// lockout lasts beyond. Lets [`own_status`](Self::own_status), asked on every
    /// request, answer with one atomic load while nobody is locked out.
    lockouts_until: AtomicU64,
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
            addresses: Table::new(config.max_tracked()),
            sites: Table::new((config.max_tracked() / 10).max(1)),
            blocks: Blocks::new(),
            config,
            clock,
            networks_busy_until: AtomicU64::new(0),
            lockouts_until: AtomicU64::new(0),
            room: Mutex::new(Room::default()),
            sweeps: SweepSchedule::new(),
        }
    }

    fn now(&self) -> u64 {
        self.clock.now().as_unix_nanos()
    }

    /// Whether `ip` may make another failed attempt now: its own lockout, or under
    /// pressure its network's. The decision form of [`budget_of`](Self::budget_of).
    pub fn status(&self, ip: IpAddr) -> GuardDecision {
        decision_of(self.budget_of(ip))
    }

    /// Whether `ip` is locked out by its own failures: the infallible form of
    /// [`FailureGuard::check_now`], asked before anything else on every request.
    ///
    /// A network's lockout (under pressure) is not refused here but by the budget:
    /// an address that never failed keeps its cached key working while its network
    /// is locked, but gets no slow hash, and each failure it makes is answered 429.
    pub fn own_status(&self, ip: IpAddr) -> GuardDecision {
        // While no address is locked out, one atomic load answers: no map lookup, no
        // clock. Then the clock, still no lookup, until the last lockout has ended.
        let lockouts_until = self.lockouts_until.load(Ordering::Acquire);
        if lockouts_until == 0 {
            return GuardDecision::Open;
        }
        let now = self.now();
        if now >= lockouts_until {
            return GuardDecision::Open;
        }
        match self.addresses.map.get(&IpGroup::of(ip)) {
            Some(slot) => slot.decision(now),
            None => GuardDecision::Open,
        }
    }

    /// Widens [`lockouts_until`](Self::lockouts_until) to cover a lockout `decision`
    /// made at `now` may have started: none lasts beyond `now + lockout`.
    fn note_lockout(&self, decision: GuardDecision, now: u64) {
        if decision.is_locked() {
            self.lockouts_until
                .fetch_max(now.saturating_add(self.rules.lockout), Ordering::AcqRel);
        }
    }

    /// How many more failures `ip` may make before its lockout, or the lockout: the
    /// infallible form of [`FailureGuard::budget_now`].
    ///
    /// An address in the addresses table answers its own count. Any other address, while
    /// networks are counted, answers the stricter of its site's and its block's: that is
    /// where its next failure may be counted, and every address of the network shares
    /// that budget.
    pub fn budget_of(&self, ip: IpAddr) -> FailureBudget {
        let group = IpGroup::of(ip);
        // The clock is read only for a tracked address or under pressure: most requests
        // come from addresses that never failed, and pay one map lookup.
        if let Some(slot) = self.addresses.map.get(&group) {
            return slot.budget(self.now(), &self.rules);
        }
        let busy_until = self.networks_busy_until.load(Ordering::Acquire);
        if busy_until == 0 {
            return self.rules.full_budget();
        }
        let now = self.now();
        if now >= busy_until {
            return self.rules.full_budget();
        }
        self.network_budget(group, now)
    }

    /// The stricter budget of `group`'s site and block.
    fn network_budget(&self, group: IpGroup, now: u64) -> FailureBudget {
        let site = match self.sites.map.get(&group.within(Width::SITE)) {
            Some(slot) => slot.budget(now, &self.rules),
            None => self.rules.full_budget(),
        };
        let block = self
            .blocks
            .slot(group.within(Width::BLOCK))
            .budget(now, &self.rules);
        stricter(site, block)
    }

    /// Counts one failure from `ip`: the infallible form of
    /// [`FailureGuard::record_failure_now`].
    pub fn fail(&self, ip: IpAddr) -> GuardDecision {
        let group = IpGroup::of(ip);
        let now = self.now();
        let tracked = self
            .addresses
            .map
            .get_mut(&group)
            .map(|mut slot| slot.fail(now, &self.rules));
        let decision = match tracked {
            Some(decision) => decision,
            None => self.fail_untracked(group, now),
        };
        self.note_lockout(decision, now);
        decision
    }

    /// Locks `ip` out at once for the configured lockout: the infallible form of
    /// [`FailureGuard::lock`]. An address the table has no room for is counted under
    /// its network, as its failures would be, until that locks.
    pub fn lock_out(&self, ip: IpAddr) -> GuardDecision {
        let now = self.now();
        let decision = self.lock_out_at(IpGroup::of(ip), now);
        self.note_lockout(decision, now);
        decision
    }

    fn lock_out_at(&self, group: IpGroup, now: u64) -> GuardDecision {
        if let Some(mut slot) = self.addresses.map.get_mut(&group) {
            return slot.lock(now, &self.rules);
        }
        // A failure admits the address if there is room; then lock its own counter.
        let mut decision = self.fail_untracked(group, now);
        if let Some(mut slot) = self.addresses.map.get_mut(&group) {
            return slot.lock(now, &self.rules);
        }
        for _ in 1..self.rules.max_failures {
            if decision.is_locked() {
                break;
            }
            decision = self.fail_untracked(group, now);
        }
        decision
    }

    /// Forgets `ip`'s own failures and lifts its own lockout (an operator's "unlock");
    /// `true` if it was tracked. A lockout of its network (under pressure) stays.
    pub fn clear(&self, ip: IpAddr) -> bool {
        self.addresses.map.remove(&IpGroup::of(ip)).is_some()
    }

    /// The configuration.
    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// The clock this guard reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Approximate bytes of the guard's tables (slots plus control bytes, and the fixed
    /// array of blocks): at most 12.4 MB at the default config.
    pub fn table_bytes(&self) -> usize {
        self.addresses.table_bytes() + self.sites.table_bytes() + Blocks::table_bytes()
    }

    /// A failure of an address the addresses table does not hold: admit it if there is
    /// room, else count it under its network.
    fn fail_untracked(&self, group: IpGroup, now: u64) -> GuardDecision {
        let mut room = lock(&self.room);
        self.relieve(now, &mut room);
        if self.networks_busy_until.load(Ordering::Relaxed) != 0 {
            // A member of a locked network is refused, and its failure not counted,
            // whether or not the addresses table has room now.
            let network = self.network_budget(group, now);
            if let FailureBudget::Locked { .. } = network {
                return decision_of(network);
            }
        }
        if let Some((slot, admitted)) =
            self.addresses
                .fail(group, now, &self.rules, &mut room.addresses)
        {
            if admitted && self.sweeps.note_insert() {
                self.addresses.sweep_idle(now, self.rules.window);
                self.sweeps.finished(self.addresses.map.len());
            }
            return slot.decision(now);
        }
        let slot =
            match self
                .sites
                .fail(group.within(Width::SITE), now, &self.rules, &mut room.sites)
            {
                Some((slot, _)) => slot,
                None => {
                    let mut slot = self.blocks.slot(group.within(Width::BLOCK));
                    slot.fail(now, &self.rules);
                    *slot
                }
            };
        self.networks_busy_until
            .fetch_max(slot.idle_from(self.rules.window), Ordering::Release);
        slot.decision(now)
    }

    /// Empties the network tables once every counter in them is idle. Called with the
    /// insert lock held.
    fn relieve(&self, now: u64, room: &mut Room) {
        let busy_until = self.networks_busy_until.load(Ordering::Relaxed);
        if busy_until == 0 || now < busy_until {
            return;
        }
        self.sites.map.clear();
        self.blocks.reset();
        room.sites = ScanGate::default();
        self.networks_busy_until.store(0, Ordering::Release);
    }
}

impl<C: Clock> Cleanup for MemoryFailureGuard<C> {
    /// Removes every address and network that is neither locked out nor inside an open
    /// window.
    fn retain_recent(&self) -> usize {
        let mut room = lock(&self.room);
        let now = self.now();
        let swept = self.addresses.sweep_idle(now, self.rules.window)
            + self.sites.sweep_idle(now, self.rules.window);
        self.relieve(now, &mut room);
        swept
    }

    /// Addresses and networks held (the fixed array of blocks is not counted).
    fn tracked(&self) -> usize {
        self.addresses.map.len() + self.sites.map.len()
    }

    fn shrink_to_fit(&self) {
        self.addresses.map.shrink_to_fit();
        self.sites.map.shrink_to_fit();
    }
}

#[async_trait]
impl<C: Clock> FailureGuard for MemoryFailureGuard<C> {
    async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        Ok(self.own_status(ip))
    }

    async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        Ok(self.fail(ip))
    }

    async fn budget(&self, ip: IpAddr) -> Result<FailureBudget, LimitError> {
        Ok(self.budget_of(ip))
    }

    fn budget_now(&self, ip: IpAddr) -> Option<Result<FailureBudget, LimitError>> {
        Some(Ok(self.budget_of(ip)))
    }

    fn check_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        Some(Ok(self.own_status(ip)))
    }

    fn record_failure_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        Some(Ok(self.fail(ip)))
    }

    async fn lock(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        Ok(self.lock_out(ip))
    }
}

impl<C: Clock + fmt::Debug> fmt::Debug for MemoryFailureGuard<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryFailureGuard")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .field("addresses", &self.addresses.map.len())
            .field("sites", &self.sites.map.len())
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

    fn small(max_failures: u32, max_tracked: usize) -> GuardConfig {
        GuardConfig::new(
            max_failures,
            Duration::from_secs(60),
            Duration::from_secs(60),
        )
        .unwrap()
        .with_max_tracked(max_tracked)
        .unwrap()
    }

    #[test]
    fn own_status_is_one_load_until_someone_is_locked_out() {
        let (clock, g) = guard(GuardConfig::default());
        for _ in 0..9 {
            assert_eq!(g.fail(v4(1)), GuardDecision::Open);
        }
        assert_eq!(
            g.lockouts_until.load(Ordering::Relaxed),
            0,
            "failures alone"
        );
        assert_eq!(g.own_status(v4(1)), GuardDecision::Open);
        assert_eq!(g.fail(v4(1)), GuardDecision::Locked { retry_after: 60 });
        assert_ne!(g.lockouts_until.load(Ordering::Relaxed), 0);
        assert_eq!(
            g.own_status(v4(1)),
            GuardDecision::Locked { retry_after: 60 }
        );
        assert_eq!(g.own_status(v4(2)), GuardDecision::Open);
        clock.advance(Duration::from_secs(30));
        // A lock_out is noted too, and extends the fast path's horizon.
        assert_eq!(g.lock_out(v4(3)), GuardDecision::Locked { retry_after: 60 });
        clock.advance(Duration::from_secs(30));
        assert_eq!(g.own_status(v4(1)), GuardDecision::Open);
        assert_eq!(
            g.own_status(v4(3)),
            GuardDecision::Locked { retry_after: 30 }
        );
        clock.advance(Duration::from_secs(30));
        assert_eq!(g.own_status(v4(3)), GuardDecision::Open);
        // A lockout after the horizon passed is seen at once.
        for _ in 0..10 {
            g.fail(v4(4));
        }
        assert!(g.own_status(v4(4)).is_locked());
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
    fn the_budget_counts_down_and_comes_back() {
        let (clock, g) = guard(GuardConfig::default());
        let ip = v4(1);
        assert_eq!(g.budget_of(ip), FailureBudget::Open { failures_left: 10 });
        for k in 1..10 {
            g.fail(ip);
            assert_eq!(
                g.budget_of(ip),
                FailureBudget::Open {
                    failures_left: 10 - k
                }
            );
        }
        g.fail(ip);
        assert_eq!(g.budget_of(ip), FailureBudget::Locked { retry_after: 60 });
        clock.advance(Duration::from_millis(59_500));
        assert_eq!(g.budget_of(ip), FailureBudget::Locked { retry_after: 1 });
        clock.advance(Duration::from_millis(500));
        assert_eq!(g.budget_of(ip), FailureBudget::Open { failures_left: 10 });
        // A window that closes below the limit gives the whole budget back.
        for _ in 0..4 {
            g.fail(ip);
        }
        assert_eq!(g.budget_of(ip), FailureBudget::Open { failures_left: 6 });
        clock.advance(Duration::from_secs(60));
        assert_eq!(g.budget_of(ip), FailureBudget::Open { failures_left: 10 });
    }

    #[test]
    fn a_full_table_counts_new_addresses_under_their_site() {
        // Room for three addresses; each locks at its first failure.
        let (clock, g) = guard(small(2, 3));
        for n in 1..=3 {
            g.fail(v4(n));
            assert!(g.fail(v4(n)).is_locked());
        }
        // 0.0.0.4 finds no room: it counts under 0.0.0.0/24, with the same limit.
        assert_eq!(g.fail(v4(4)), GuardDecision::Open);
        assert_eq!(g.budget_of(v4(4)), FailureBudget::Open { failures_left: 1 });
        assert_eq!(
            g.budget_of(v4(200)),
            FailureBudget::Open { failures_left: 1 },
            "the same site"
        );
        assert!(g.fail(v4(5)).is_locked(), "the site's second failure");
        // The whole /24 is refused now, except the addresses counted on their own.
        assert_eq!(g.status(v4(99)), GuardDecision::Locked { retry_after: 60 });
        assert_eq!(g.fail(v4(99)), GuardDecision::Locked { retry_after: 60 });
        // Its own status is clear: a member that never failed is not refused a valid
        // key for its neighbours' failures, only further failures and slow hashes.
        assert_eq!(g.own_status(v4(99)), GuardDecision::Open);
        assert_eq!(g.check_now(v4(99)), Some(Ok(GuardDecision::Open)));
        // Another /24 finds the sites table (room for one) full of that lockout: it
        // counts under its /16.
        assert_eq!(g.status(v4(0x100)), GuardDecision::Open);
        assert_eq!(g.fail(v4(0x100)), GuardDecision::Open);
        assert!(g.fail(v4(0x101)).is_locked());
        assert!(g.status(v4(0xFF00)).is_locked(), "0.0.0.0/16");
        assert_eq!(g.status(v4(0x1_0000)), GuardDecision::Open, "0.1.0.0/16");
        for n in 1..=3 {
            assert!(g.status(v4(n)).is_locked(), "no lockout was evicted");
        }
        assert_eq!(g.tracked(), 3 + 1);

        // Once everything is idle, addresses are counted on their own again.
        clock.advance(Duration::from_secs(60));
        assert_eq!(g.status(v4(99)), GuardDecision::Open);
        assert_eq!(g.fail(v4(99)), GuardDecision::Open);
        assert_eq!(g.sites.map.len(), 0, "the network tables were emptied");
        assert_eq!(g.networks_busy_until.load(Ordering::Relaxed), 0);
        assert!(g.addresses.map.contains_key(&IpGroup::of(v4(99))));
    }

    #[test]
    fn a_full_table_of_open_windows_is_not_evicted_either() {
        // An evicted counter would hand its address a fresh count.
        let (_, g) = guard(small(3, 2));
        g.fail(v4(1));
        g.fail(v4(2));
        g.fail(v4(0x300)); // no room: counted under 0.0.3.0/24
        assert!(g.fail(v4(1)) == GuardDecision::Open && g.fail(v4(1)).is_locked());
        assert_eq!(g.budget_of(v4(2)), FailureBudget::Open { failures_left: 2 });
        assert_eq!(
            g.budget_of(v4(0x3ff)),
            FailureBudget::Open { failures_left: 2 }
        );
    }

    #[test]
    fn full_sites_fall_back_to_blocks_which_are_never_full() {
        // One address, one site; then blocks.
        let (_, g) = guard(small(1, 1));
        assert!(g.fail(v4(0x0A00_0001)).is_locked()); // the address
        assert!(g.fail(v4(0x0B00_0001)).is_locked()); // 11.0.0.0/24
        // 12.0.0.0/24 finds the sites table full: 12.0.0.0/16 counts it.
        assert!(g.fail(v4(0x0C00_0001)).is_locked());
        assert!(g.status(v4(0x0C00_FF01)).is_locked(), "the same /16");
        // Thousands of further blocks: each is counted (and locked) all the same.
        for n in 0..10_000u32 {
            let ip = v4(0x2000_0000 + (n << 16));
            assert!(g.fail(ip).is_locked(), "{ip}");
        }
        assert_eq!(g.tracked(), 2);
        // Every IPv4 /16 has a counter of its own: the ones the flood missed are open.
        for n in 0..1_000u32 {
            let untouched = v4(0x6000_0000 + (n << 16));
            assert_eq!(g.budget_of(untouched), g.rules.full_budget(), "{untouched}");
        }
    }

    #[test]
    fn a_full_table_is_rescanned_only_when_a_counter_can_have_become_idle() {
        let (clock, g) = guard(small(5, 100));
        for n in 0..100 {
            g.fail(v4(n << 8));
        }
        g.fail(v4(0xFFFF_0000)); // full: the scan finds nothing idle before 60 s
        assert_eq!(lock(&g.room).addresses.not_before, g.now() + 60_000_000_000);
        for n in 0..50 {
            g.fail(v4(0xFF00_0000 + (n << 16)));
        }
        assert_eq!(lock(&g.room).addresses.refused, 50, "no scan before then");
        clock.advance(Duration::from_secs(60));
        g.fail(v4(0xEE00_0000));
        assert_eq!(lock(&g.room).addresses.refused, 0, "scanned");
        assert!(g.addresses.map.contains_key(&IpGroup::of(v4(0xEE00_0000))));
    }

    #[test]
    fn lock_out_locks_at_once_for_the_whole_lockout() {
        let (clock, g) = guard(GuardConfig::default());
        // A new address: locked by one call, its count irrelevant.
        assert_eq!(g.lock_out(v4(1)), GuardDecision::Locked { retry_after: 60 });
        assert_eq!(
            g.own_status(v4(1)),
            GuardDecision::Locked { retry_after: 60 }
        );
        // An address with failures counted: locked too.
        g.fail(v4(2));
        assert!(g.lock_out(v4(2)).is_locked());
        // A lockout half over starts again in full.
        clock.advance(Duration::from_secs(30));
        assert_eq!(
            g.own_status(v4(1)),
            GuardDecision::Locked { retry_after: 30 }
        );
        assert_eq!(g.lock_out(v4(1)), GuardDecision::Locked { retry_after: 60 });
        clock.advance(Duration::from_secs(60));
        assert_eq!(g.own_status(v4(1)), GuardDecision::Open);
        assert_eq!(g.own_status(v4(3)), GuardDecision::Open, "nobody else");
    }

    #[test]
    fn lock_out_of_an_address_with_no_room_locks_its_network() {
        let (_, g) = guard(small(3, 10));
        for n in 0..10 {
            g.fail(v4(0x0A00_0000 + (n << 8)));
        }
        let newcomer = v4(0x0B00_0001);
        assert!(g.lock_out(newcomer).is_locked());
        assert!(g.status(newcomer).is_locked());
    }

    /// A guard with only the required methods: `lock`'s default fails until locked.
    struct Required(MemoryFailureGuard<ManualClock>);

    #[async_trait]
    impl FailureGuard for Required {
        async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
            Ok(self.0.own_status(ip))
        }
        async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
            Ok(self.0.fail(ip))
        }
    }

    fn ready<F: std::future::Future>(f: F) -> F::Output {
        // The memory guard never waits: one poll finishes the future.
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("the memory guard waited"),
        }
    }

    #[test]
    fn the_default_lock_records_failures_until_locked() {
        let (_, g) = guard(GuardConfig::default());
        let g = Required(g);
        assert_eq!(
            ready(g.lock(v4(1))).unwrap(),
            GuardDecision::Locked { retry_after: 60 }
        );
        assert!(ready(g.check(v4(1))).unwrap().is_locked());
        assert!(!ready(g.check(v4(2))).unwrap().is_locked());
    }
}
