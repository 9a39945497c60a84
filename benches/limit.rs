//! Per-key rate limiting: keyward-limit's GCRA against governor's keyed GCRA.
//!
//! Both keep one atomic per key in a DashMap hashed with foldhash (keyward-limit's own
//! choice; governor is given the same hasher through `dashmap_with_clock_and_hasher`, so
//! neither pays for SipHash where the other does not). Both are pre-filled with `n` keys
//! (12-character strings, like keyward key ids) and checked round-robin by `&str`/`&String`,
//! under the same quota: an emission interval of 73 ms (2³² − 1 requests per ten years)
//! and a burst so large that every check is allowed, while every key stays tracked
//! (its bucket never refills between two of its checks, so keyward-limit's sweeps, which
//! drop full buckets, find nothing to drop, and governor never drops anything). keyward-limit runs its synchronous
//! `check_now` on the system clock; governor its `check_key` on its default quanta
//! clock. Nothing is allocated in the timed loop.
//!
//! `limit/gcra_allow` is keyward-limit's check answering only whether the request may
//! proceed (`MemoryRateLimiter::allow`), which is all governor's `check_key` answers on
//! an allowed check; `limit/gcra_check` also builds the `Decision` with its numbers.
//!
//! `limit/governor_check_remaining` is governor doing what keyward-limit's decision
//! does on every check: reporting the requests left (through its
//! `StateInformationMiddleware` and `remaining_burst_capacity`), which keyward sends as
//! `RateLimit-Remaining`; `limit/governor_check` reports nothing on an allowed check.
//!
//! `limit/clock_now` and `limit/governor_clock_now` read each limiter's clock alone.
//!
//! `limit/gcra_budgets` is keyward-limit's check of one request against its key's, its
//! owner's and its tenant's budgets (`check_budgets_now`, all or nothing), the keys
//! spread over owners of ten keys and tenants of a hundred, under the same quota.
//!
//! `cargo bench -p keyward-benches --bench limit -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use keyward_limit::{Budgets, Cleanup, MemoryRateLimiter, Quota, RateLimiter};

const SIZES: [usize; 2] = [1, 100_000];

/// 2³² − 1 requests per ten years: one every 73 ms, a burst neither run can spend.
fn quota() -> Quota {
    Quota::new(u32::MAX, Duration::from_secs(10 * 365 * 86_400)).expect("valid quota")
}

fn key_ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("k{:011}", i * 7919 % 1_000_003))
        .collect()
}

/// The keys one after another, from the first again after the last.
fn round_robin<'a>(keys: &'a [String]) -> impl FnMut() -> &'a String {
    let mut i = 0;
    move || {
        let key = &keys[i];
        i += 1;
        if i == keys.len() {
            i = 0;
        }
        key
    }
}

type Governor = governor::RateLimiter<
    String,
    governor::state::keyed::DashMapStateStore<String, foldhash::fast::RandomState>,
    governor::clock::QuantaClock,
>;

/// governor's keyed GCRA under the same quota and hasher, every one of `keys` tracked.
fn governor_tracking(keys: &[String]) -> Governor {
    let quota = governor::Quota::with_period(quota().emission_interval())
        .expect("a non-zero interval")
        .allow_burst(NonZeroU32::MAX);
    let limiter = Governor::dashmap_with_clock_and_hasher(
        quota,
        governor::clock::QuantaClock::default(),
        foldhash::fast::RandomState::default(),
    );
    for k in keys {
        assert!(limiter.check_key(k).is_ok());
    }
    limiter
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("limit");

    for n in SIZES {
        let keys = key_ids(n);
        let quota = quota();
        let limiter = MemoryRateLimiter::new();
        for k in &keys {
            let d = limiter
                .check_now(k, quota)
                .expect("fast path")
                .expect("memory");
            assert!(d.is_allowed());
        }
        group.bench_with_input(BenchmarkId::new("gcra_check", n), &keys, |b, keys| {
            let mut next = round_robin(keys);
            b.iter(|| black_box(limiter.check_now(black_box(next()), quota)));
        });
        assert!(limiter.decide(&keys[0], quota).is_allowed());
        assert_eq!(limiter.tracked(), n, "every key stayed tracked");

        // The same check answering only allowed or refused, as governor's does.
        group.bench_with_input(BenchmarkId::new("gcra_allow", n), &keys, |b, keys| {
            let mut next = round_robin(keys);
            b.iter(|| black_box(limiter.allow(black_box(next()), quota)));
        });
        assert!(limiter.allow(&keys[0], quota));
        assert_eq!(limiter.tracked(), n, "every key stayed tracked");
    }

    for n in SIZES {
        let keys = key_ids(n);
        let owners: Vec<String> = (0..n).map(|i| format!("owner_{}", i / 10)).collect();
        let teams: Vec<String> = (0..n).map(|i| format!("team_{}", i / 100)).collect();
        let quota = quota();
        let limiter = MemoryRateLimiter::new();
        let budgets = |i: usize| {
            Budgets::key(&keys[i], quota)
                .with_owner(&owners[i], quota)
                .with_tenant(&teams[i], "project", quota)
        };
        for i in 0..n {
            let d = limiter
                .check_budgets_now(&budgets(i))
                .expect("fast path")
                .expect("memory");
            assert!(d.is_allowed());
        }
        group.bench_with_input(BenchmarkId::new("gcra_budgets", n), &n, |b, &n| {
            let mut i = 0;
            b.iter(|| {
                let checked = limiter.check_budgets_now(black_box(&budgets(i)));
                i += 1;
                if i == n {
                    i = 0;
                }
                black_box(checked)
            });
        });
    }

    for n in SIZES {
        let keys = key_ids(n);
        let limiter = governor_tracking(&keys);
        group.bench_with_input(BenchmarkId::new("governor_check", n), &keys, |b, keys| {
            let mut next = round_robin(keys);
            b.iter(|| black_box(limiter.check_key(black_box(next()))));
        });
        assert!(limiter.check_key(&keys[0]).is_ok());
    }

    // governor again, reporting what keyward-limit's decision reports: its state
    // snapshot on every allowed check (`StateInformationMiddleware`) and the requests
    // left, which keyward sends as `RateLimit-Remaining`.
    for n in SIZES {
        let keys = key_ids(n);
        let limiter = governor_tracking(&keys)
            .with_middleware::<governor::middleware::StateInformationMiddleware>();
        group.bench_with_input(
            BenchmarkId::new("governor_check_remaining", n),
            &keys,
            |b, keys| {
                let mut next = round_robin(keys);
                b.iter(|| {
                    let checked = limiter.check_key(black_box(next()));
                    black_box(checked.map(|snapshot| snapshot.remaining_burst_capacity()))
                });
            },
        );
    }

    // The clocks the two limiters read: keyward-limit's `SystemClock` (the TSC against
    // a wall-clock anchor) and governor's quanta clock.
    group.bench_function("clock_now", |b| {
        b.iter(|| black_box(keyward_clock::Clock::now(&keyward_clock::SystemClock)))
    });
    let quanta = governor::clock::QuantaClock::default();
    group.bench_function("governor_clock_now", |b| {
        b.iter(|| black_box(governor::clock::Clock::now(&quanta)))
    });

    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
