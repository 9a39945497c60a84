//! Per-client-IP lockout through the public API, including the memory bound under a
//! flood of distinct addresses.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use keyward_clock::{ManualClock, Timestamp};
use keyward_limit::{
    Cleanup, FailureBudget, FailureGuard, GuardConfig, GuardDecision, MemoryFailureGuard,
};

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn setup(config: GuardConfig) -> (ManualClock, MemoryFailureGuard<ManualClock>) {
    let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
    (clock.clone(), MemoryFailureGuard::with_clock(config, clock))
}

fn v4(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

/// The `n`th /64 under 2001:db8::/32.
fn v6_net(n: u32, host: u64) -> IpAddr {
    let prefix = (0x2001_0db8_u128 << 96) | (u128::from(n) << 64);
    IpAddr::V6(Ipv6Addr::from(prefix | u128::from(host)))
}

#[test]
fn the_tenth_failure_is_answered_then_the_address_is_locked() {
    let (clock, guard) = setup(GuardConfig::default());
    let guard: Arc<dyn FailureGuard> = Arc::new(guard);
    let ip = v4(0xCB00_7107);
    for _ in 0..9 {
        assert_eq!(block_on(guard.record_failure(ip)), Ok(GuardDecision::Open));
        assert_eq!(block_on(guard.check(ip)), Ok(GuardDecision::Open));
    }
    // The 10th failure: the caller still answers it 401; the guard reports the lockout.
    assert_eq!(
        block_on(guard.record_failure(ip)),
        Ok(GuardDecision::Locked { retry_after: 60 })
    );
    assert_eq!(
        guard.check_now(ip),
        Some(Ok(GuardDecision::Locked { retry_after: 60 }))
    );
    clock.advance(Duration::from_millis(30_500));
    assert_eq!(
        guard.check_now(ip).unwrap().unwrap().retry_after_secs(),
        Some(30),
        "29.5 s rounds up to 30"
    );
    clock.advance(Duration::from_millis(29_500));
    assert_eq!(guard.check_now(ip), Some(Ok(GuardDecision::Open)));
}

#[test]
fn the_budget_is_what_is_left_of_the_limit_in_the_window() {
    let (clock, guard) = setup(GuardConfig::default());
    let guard: Arc<dyn FailureGuard> = Arc::new(guard);
    let ip = v4(0xCB00_7108);
    for k in 0..10 {
        let expected = FailureBudget::Open {
            failures_left: 10 - k,
        };
        assert_eq!(guard.budget_now(ip), Some(Ok(expected)), "after {k}");
        assert_eq!(block_on(guard.budget(ip)), Ok(expected), "after {k}");
        block_on(guard.record_failure(ip)).unwrap();
    }
    assert_eq!(
        block_on(guard.budget(ip)),
        Ok(FailureBudget::Locked { retry_after: 60 })
    );
    clock.advance(Duration::from_millis(20_500));
    assert_eq!(
        guard.budget_now(ip),
        Some(Ok(FailureBudget::Locked { retry_after: 40 }))
    );
    clock.advance(Duration::from_millis(39_500));
    assert_eq!(
        guard.budget_now(ip),
        Some(Ok(FailureBudget::Open { failures_left: 10 }))
    );
    // Three failures, then the window closes: the whole budget is back.
    for _ in 0..3 {
        block_on(guard.record_failure(ip)).unwrap();
    }
    assert_eq!(
        guard.budget_now(ip),
        Some(Ok(FailureBudget::Open { failures_left: 7 }))
    );
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        guard.budget_now(ip),
        Some(Ok(FailureBudget::Open { failures_left: 10 }))
    );
}

#[test]
fn under_pressure_the_budget_is_the_networks() {
    let config = GuardConfig::default().with_max_tracked(10).unwrap();
    let (_, guard) = setup(config);
    for n in 0..10 {
        for _ in 0..10 {
            guard.fail(v4(n));
        }
    }
    // The table is full of lockouts: 198.51.100.0/24 counts these.
    for n in 1..=4 {
        assert_eq!(guard.fail(v4(0xC633_6400 + n)), GuardDecision::Open);
    }
    let member = v4(0xC633_64FE);
    assert_eq!(
        guard.budget_of(member),
        FailureBudget::Open { failures_left: 6 }
    );
    assert_eq!(guard.status(member), GuardDecision::Open);
    for _ in 0..6 {
        guard.fail(member);
    }
    assert_eq!(
        guard.budget_of(v4(0xC633_6477)),
        FailureBudget::Locked { retry_after: 60 }
    );
    // Another /24 has a budget of its own.
    assert_eq!(
        guard.budget_of(v4(0xC633_6500)),
        FailureBudget::Open { failures_left: 10 }
    );
}

#[test]
fn successes_do_not_reset_the_count() {
    // There is no record_success: only failures are reported, and checks between them
    // (what a valid key's request does) change nothing.
    let (_, guard) = setup(GuardConfig::default());
    let ip = v4(7);
    for _ in 0..9 {
        guard.fail(ip);
        assert_eq!(guard.status(ip), GuardDecision::Open);
    }
    assert!(guard.fail(ip).is_locked());
}

#[test]
fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
    let (_, guard) = setup(GuardConfig::default());
    for host in 0..10 {
        guard.fail(v6_net(1, host * 0x1_0000_0001));
    }
    assert!(guard.status(v6_net(1, 0xdead_beef)).is_locked());
    assert_eq!(guard.status(v6_net(2, 1)), GuardDecision::Open);

    for _ in 0..10 {
        guard.fail("::ffff:192.0.2.9".parse().unwrap());
    }
    assert!(guard.status("192.0.2.9".parse().unwrap()).is_locked());
}

#[test]
fn a_million_addresses_in_one_64_are_one_entry() {
    let (_, guard) = setup(GuardConfig::default());
    for host in 0..1_000_000u64 {
        guard.fail(v6_net(9, host.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    }
    assert_eq!(guard.tracked(), 1);
    assert!(guard.status(v6_net(9, 12345)).is_locked());
}

/// What [`MemoryFailureGuard::table_bytes`] may reach at the default config, as the
/// type's documentation states it.
const DEFAULT_TABLE_CAP: usize = 12_400_000;

#[test]
fn a_flood_of_a_million_addresses_stays_under_the_cap_and_keeps_real_lockouts() {
    let config = GuardConfig::default();
    assert_eq!(config.max_tracked(), 100_000);
    let (clock, guard) = setup(config);

    // Before the flood: one address locked out, one close to it.
    let locked = v4(0x0A00_0001);
    let suspicious = v4(0x0A00_0002);
    for _ in 0..10 {
        guard.fail(locked);
    }
    for _ in 0..8 {
        guard.fail(suspicious);
    }

    // 1,000,000 distinct attacker addresses, one failure each (half IPv4, half IPv6
    // /64s), spread over 20 s.
    for n in 0..1_000_000u32 {
        let ip = if n % 2 == 0 {
            v4(0x6400_0000 + n)
        } else {
            v6_net(n, 1)
        };
        guard.fail(ip);
        if n % 50_000 == 0 {
            clock.advance(Duration::from_secs(1));
            assert!(guard.table_bytes() <= DEFAULT_TABLE_CAP);
        }
    }
    assert!(guard.tracked() <= 100_000 + 10_000);
    assert!(
        guard.table_bytes() <= DEFAULT_TABLE_CAP,
        "table {} bytes",
        guard.table_bytes()
    );

    // The lockout survived, with its original deadline.
    assert_eq!(
        guard.status(locked),
        GuardDecision::Locked { retry_after: 40 }
    );
    // The counter with 8 failures survived too: two more lock it.
    assert_eq!(guard.fail(suspicious), GuardDecision::Open);
    assert!(guard.fail(suspicious).is_locked());
}

/// Fails `ip` until it is refused; the failures that took.
fn failures_until_locked(guard: &MemoryFailureGuard<ManualClock>, ip: IpAddr) -> u32 {
    let mut failures = 0;
    while !guard.status(ip).is_locked() {
        guard.fail(ip);
        failures += 1;
        assert!(failures <= 10, "{ip} failed {failures} times, never locked");
    }
    failures
}

/// Locks out every address of `flood` with failures of its own (unless it is refused
/// already), watching the memory bound.
fn lock_out_a_flood(flood: impl Iterator<Item = IpAddr>) -> MemoryFailureGuard<ManualClock> {
    let (_, guard) = setup(GuardConfig::default());
    let mut addresses = 0;
    for ip in flood {
        failures_until_locked(&guard, ip);
        addresses += 1;
        if addresses % 65_536 == 0 {
            assert!(guard.table_bytes() <= DEFAULT_TABLE_CAP);
        }
    }
    assert_eq!(addresses, 1_000_000);
    assert!(
        guard.table_bytes() <= DEFAULT_TABLE_CAP,
        "table {} bytes",
        guard.table_bytes()
    );
    guard
}

#[test]
fn a_million_ipv6_addresses_from_one_47_cannot_turn_the_lockout_off() {
    // 2001:db8:4::/47 holds 131,072 /64s: every one of them is used, by several
    // addresses each, and more of them than the addresses table holds.
    let base = 0x2001_0db8_0004_u128 << 80;
    let flood = (0..1_000_000u128).map(move |n| {
        let net = n % (1 << 17);
        let host = n / (1 << 17) + 1;
        IpAddr::V6(Ipv6Addr::from(base | (net << 64) | host))
    });
    let guard = lock_out_a_flood(flood);
    println!("ipv6 flood: table {} bytes", guard.table_bytes());
    // Any address of the /47 is refused, whether counted on its own or by its /48.
    assert!(guard.status("2001:db8:4:1::1".parse().unwrap()).is_locked());
    assert!(
        guard
            .status("2001:db8:5:ffff::9".parse().unwrap())
            .is_locked()
    );
    // Elsewhere, a fresh address is counted (under its /48 or its /24) and locked by
    // its own 10 failures.
    for fresh in ["2001:db8:6::1", "2001:db9::1", "203.0.113.7"] {
        let ip = fresh.parse().unwrap();
        assert_eq!(guard.status(ip), GuardDecision::Open, "{ip}");
        assert_eq!(failures_until_locked(&guard, ip), 10, "{ip}");
    }
}

#[test]
fn a_million_ipv4_addresses_cannot_turn_the_lockout_off() {
    // Spread over the whole IPv4 space: more /24s than the sites table holds, so /16s
    // count the rest, and every /16 is locked out in the end. A fresh address is then
    // refused at once: with bounded memory that is the price of counting every failure.
    let flood = (0..1_000_000u32).map(|n| v4(n.wrapping_mul(0x9E37_79B1)));
    let guard = lock_out_a_flood(flood);
    println!("ipv4 flood: table {} bytes", guard.table_bytes());
    for ip in [v4(0xCB00_7107), "2001:db8::1".parse().unwrap()] {
        assert!(failures_until_locked(&guard, ip) <= 10, "{ip}");
    }
}

#[test]
fn a_flood_cannot_flush_lockouts_even_when_they_fill_the_table() {
    let config = GuardConfig::new(2, Duration::from_secs(60), Duration::from_secs(60))
        .unwrap()
        .with_max_tracked(1_000)
        .unwrap();
    let (clock, guard) = setup(config);
    for n in 0..1_000 {
        guard.fail(v4(n));
        assert!(guard.fail(v4(n)).is_locked());
    }
    // The table is full of lockouts: new addresses count under their /24 (or /16),
    // and lock after two failures at most.
    for n in 1_000..200_000 {
        let ip = v4(n << 8);
        if !guard.status(ip).is_locked() {
            guard.fail(ip);
        }
        assert!(guard.fail(ip).is_locked(), "{ip}");
    }
    for n in 0..1_000 {
        assert!(guard.status(v4(n)).is_locked());
    }
    clock.advance(Duration::from_secs(60));
    assert_eq!(guard.fail(v4(5_000_000)), GuardDecision::Open);
    assert!(guard.fail(v4(5_000_000)).is_locked(), "tracked again");
}

#[test]
fn idle_addresses_are_swept_without_pressure() {
    let (clock, guard) = setup(GuardConfig::default());
    for n in 0..5_000 {
        guard.fail(v4(n));
    }
    clock.advance(Duration::from_secs(60));
    for n in 10_000..12_000 {
        guard.fail(v4(n));
    }
    // The automatic sweeps dropped the closed windows while admitting new addresses.
    assert!(guard.tracked() <= 2_000 + 1_024, "{}", guard.tracked());
    clock.advance(Duration::from_secs(60));
    assert!(guard.retain_recent() > 0);
    assert_eq!(guard.tracked(), 0);
}

#[test]
fn concurrent_failures_lock_exactly_once_per_window() {
    let (_, guard) = setup(GuardConfig::default());
    let guard = Arc::new(guard);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let guard = guard.clone();
            std::thread::spawn(move || {
                let mut locks = 0;
                for n in 0..2_500u32 {
                    // Everyone hits address 1 and a private range of its own.
                    if guard.fail(v4(1)).is_locked() {
                        locks += 1;
                    }
                    guard.fail(v4(1_000_000 * (t + 1) + n));
                }
                locks
            })
        })
        .collect();
    let locked_answers: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    // From the 10th failure on, every failure of address 1 answers Locked.
    assert_eq!(locked_answers, 10_000 - 9);
    assert_eq!(guard.tracked(), 1 + 10_000);
}
