//! Per-key rate limiting: keyward-limit's GCRA against governor's keyed GCRA.
//!
//! Both use a DashMap with std's SipHash `RandomState`, both are pre-filled with `n`
//! keys (12-character strings, like keyward key ids) and checked round-robin, with a
//! quota so large that every check is allowed. keyward-limit runs its synchronous
//! `check_now` on the system clock; governor its `check_key` on its default (quanta)
//! clock. Nothing is allocated in the timed loop.
//!
//! `cargo bench -p keyward-benches --bench limit -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use keyward_limit::{MemoryRateLimiter, Quota, RateLimiter};

const SIZES: [usize; 2] = [1, 100_000];

fn key_ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("k{:011}", i * 7919 % 1_000_003))
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("limit");

    for n in SIZES {
        let keys = key_ids(n);
        let quota = Quota::new(u32::MAX, Duration::from_secs(1)).expect("valid quota");
        let limiter = MemoryRateLimiter::new();
        for k in &keys {
            let d = limiter
                .check_now(k, quota)
                .expect("fast path")
                .expect("memory");
            assert!(d.is_allowed());
        }
        group.bench_with_input(BenchmarkId::new("gcra_check", n), &keys, |b, keys| {
            let mut i = 0;
            b.iter(|| {
                let key = &keys[i];
                i += 1;
                if i == keys.len() {
                    i = 0;
                }
                black_box(limiter.check_now(black_box(key), quota))
            });
        });
        assert!(limiter.decide(&keys[0], quota).is_allowed());
    }

    for n in SIZES {
        let keys = key_ids(n);
        let quota = governor::Quota::per_second(NonZeroU32::MAX);
        let limiter = governor::RateLimiter::<String, _, _>::dashmap(quota);
        for k in &keys {
            assert!(limiter.check_key(k).is_ok());
        }
        group.bench_with_input(BenchmarkId::new("governor_check", n), &keys, |b, keys| {
            let mut i = 0;
            b.iter(|| {
                let key = &keys[i];
                i += 1;
                if i == keys.len() {
                    i = 0;
                }
                black_box(limiter.check_key(black_box(key)))
            });
        });
        assert!(limiter.check_key(&keys[0]).is_ok());
    }

    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
