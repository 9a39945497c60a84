//! `redis/*`: the shared limits on Redis, against `KEYWARD_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`), in a fresh namespace. Prints `skipped: …` and exits
//! cleanly when Redis is unreachable.
//!
//! - `redis/gcra_check`: one rate-limit decision, a script round trip on loopback.
//! - `redis/guard_check`: one lockout check (a read-only script).
//! - `redis/authenticate_limited`: a whole authenticated request of a cached key with
//!   the lockout and the rate limit on Redis as one backend (`request_limits`): one
//!   script, one round trip.

use std::hint::black_box;
use std::net::IpAddr;

use criterion::Criterion;
use keyward::limit::{FailureGuard, GuardConfig, Quota, RateLimiter};
use keyward::scope::Requirement;
use keyward::{Credential, MintRequest};
use keyward_redis::RedisLimits;
use keyward_testing::rig::Rig;

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

    let rig = Rig::with(|b| {
        b.request_limits(redis.request_limits(GuardConfig::default()))
            .default_quota(quota)
    });
    let key = rt.block_on(rig.mint(MintRequest::new("bench", "u_1")));
    let authenticator = rig.keyward.authenticator();
    let requirement = Requirement::none();
    let cached = || {
        rt.block_on(authenticator.authenticate(
            Credential::Key(black_box(key.key.expose())),
            &requirement,
            client,
        ))
        .unwrap()
    };
    // The first request verifies the key and fills the cache.
    assert!(cached().rate_limit().is_some());
    group.bench_function("authenticate_limited", |b| b.iter(cached));
    group.finish();
    c.final_summary();
}
