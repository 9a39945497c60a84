//! `redis/*`: the shared limits on Redis, against `KEYWARD_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`), in a fresh namespace. Prints `skipped: …` and exits
//! cleanly when Redis is unreachable.
//!
//! - `redis/gcra_check`: one rate-limit decision, a script round trip on loopback.
//! - `redis/guard_check`: one lockout check (a read-only script).

use std::hint::black_box;
use std::net::IpAddr;

use criterion::Criterion;
use keyward::limit::{FailureGuard, GuardConfig, Quota, RateLimiter};
use keyward_redis::RedisLimits;

fn main() {
    let url = std::env::var("KEYWARD_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let namespace = format!("kwb:{}", std::process::id());
    let redis = match rt.block_on(RedisLimits::connect(&url, &namespace)) {
        Ok(redis) => redis,
        Err(e) => {
            println!("skipped: Redis unreachable at {url}: {e}");
            return;
        }
    };
    let limiter = redis.rate_limiter();
    let guard = redis.failure_guard(GuardConfig::default());
    // A budget the benchmark never exhausts: every decision is an allowed one.
    let quota = Quota::per_second(u32::MAX);
    let client: IpAddr = "192.0.2.1".parse().unwrap();

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("redis");
    group.bench_function("gcra_check", |b| {
        b.iter(|| {
            let decision = rt
                .block_on(limiter.check(black_box("key_1"), quota))
                .unwrap();
            assert!(decision.is_allowed());
        })
    });
    group.bench_function("guard_check", |b| {
        b.iter(|| rt.block_on(guard.check(black_box(client))).unwrap())
    });
    group.finish();
    c.final_summary();
}
