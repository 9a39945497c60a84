//! The per-key rate limiter through its public API, time driven by a `ManualClock`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use keyward_clock::{ManualClock, Timestamp};
use keyward_limit::{Cleanup, Decision, MemoryRateLimiter, Quota, RateLimiter};

/// Polls a future that never waits (the memory backends' futures are ready at once).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn setup() -> (ManualClock, MemoryRateLimiter<ManualClock>) {
    let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
    (clock.clone(), MemoryRateLimiter::with_clock(clock))
}

#[test]
fn sixty_pass_the_sixty_first_waits_one_second() {
    let (clock, limiter) = setup();
    let quota: Quota = "60/min".parse().unwrap();
    for i in 0..60u32 {
        let d = limiter.decide("key_a", quota);
        assert_eq!(
            d,
            Decision::Allowed {
                limit: 60,
                remaining: 59 - i,
                reset: Duration::from_secs(u64::from(i) + 1),
            }
        );
    }
    let d = limiter.decide("key_a", quota);
    assert_eq!(
        d,
        Decision::Limited {
            limit: 60,
            retry_after: 1,
            reset: Duration::from_secs(60)
        }
    );
    let h = d.headers();
    assert_eq!(
        (h.limit, h.remaining, h.reset, h.retry_after),
        (60, 0, 60, Some(1))
    );

    clock.advance(Duration::from_secs(1));
    assert_eq!(
        limiter.decide("key_a", quota),
        Decision::Allowed {
            limit: 60,
            remaining: 0,
            reset: Duration::from_secs(60)
        }
    );
    assert!(!limiter.decide("key_a", quota).is_allowed());

    // A refused request is not counted: waiting 1 s still buys exactly one.
    for _ in 0..100 {
        limiter.decide("key_a", quota);
    }
    clock.advance(Duration::from_secs(1));
    assert!(limiter.decide("key_a", quota).is_allowed());
}

#[test]
fn a_full_period_of_rest_restores_the_full_burst() {
    let (clock, limiter) = setup();
    let quota = Quota::per_minute(60);
    for _ in 0..60 {
        limiter.decide("k", quota);
    }
    clock.advance(Duration::from_secs(60));
    for _ in 0..60 {
        assert!(limiter.decide("k", quota).is_allowed());
    }
    assert!(!limiter.decide("k", quota).is_allowed());
}

#[test]
fn steady_traffic_at_the_rate_is_never_refused() {
    let (clock, limiter) = setup();
    let quota = Quota::per_second(10);
    for _ in 0..10_000 {
        assert!(limiter.decide("k", quota).is_allowed());
        clock.advance(Duration::from_millis(100));
    }
}

#[test]
fn keys_are_independent() {
    let (_, limiter) = setup();
    let quota = Quota::per_minute(2);
    assert!(limiter.decide("a", quota).is_allowed());
    assert!(limiter.decide("a", quota).is_allowed());
    assert!(!limiter.decide("a", quota).is_allowed());
    assert!(limiter.decide("b", quota).is_allowed());
    assert_eq!(limiter.decide("b", quota).remaining(), 0);
    assert!(limiter.decide("ab", quota).is_allowed());
    assert!(limiter.decide("", quota).is_allowed());
}

#[test]
fn a_per_key_quota_overrides_the_default() {
    let (_, limiter) = setup();
    let default = Quota::per_minute(60);
    let premium = Quota::per_minute(600);
    let mut allowed = 0;
    while limiter.decide("premium", premium).is_allowed() {
        allowed += 1;
    }
    assert_eq!(allowed, 600);
    let mut allowed = 0;
    while limiter.decide("basic", default).is_allowed() {
        allowed += 1;
    }
    assert_eq!(allowed, 60);
    assert_eq!(limiter.decide("premium", premium).limit(), 600);
}

#[test]
fn changing_a_keys_quota_carries_its_consumed_time() {
    let (clock, limiter) = setup();
    for _ in 0..30 {
        limiter.decide("k", Quota::per_minute(60));
    }
    // 30 s of 60 used; at 120/min that is half the bucket.
    assert_eq!(limiter.decide("k", Quota::per_minute(120)).remaining(), 59);

    // Lowering 600/min to 60/min after 300 requests (30 s used) leaves 30.
    for _ in 0..300 {
        limiter.decide("m", Quota::per_minute(600));
    }
    let mut allowed = 0;
    while limiter.decide("m", Quota::per_minute(60)).is_allowed() {
        allowed += 1;
    }
    assert_eq!(allowed, 30);

    // A whole day of 10/day spent, then moved to 60/min: the day is waited out, never
    // less (a quota change hands out no extra requests) and never more.
    for _ in 0..10 {
        limiter.decide("d", Quota::per_day(10));
    }
    let d = limiter.decide("d", Quota::per_minute(60));
    assert_eq!(d.retry_after_secs(), Some(86_400 - 59));
    clock.advance(Duration::from_secs(86_400 - 59));
    assert!(limiter.decide("d", Quota::per_minute(60)).is_allowed());
}

#[test]
fn retry_after_is_whole_seconds_rounded_up() {
    let (clock, limiter) = setup();
    let quota = Quota::new(1, Duration::from_millis(2_500)).unwrap();
    assert!(limiter.decide("k", quota).is_allowed());
    assert_eq!(limiter.decide("k", quota).retry_after_secs(), Some(3));
    clock.advance(Duration::from_millis(600));
    assert_eq!(limiter.decide("k", quota).retry_after_secs(), Some(2));
    clock.advance(Duration::from_millis(1_899));
    assert_eq!(limiter.decide("k", quota).retry_after_secs(), Some(1));
    clock.advance(Duration::from_millis(1));
    assert!(limiter.decide("k", quota).is_allowed());
}

#[test]
fn threads_hammering_one_key_never_exceed_the_limit() {
    let (_, limiter) = setup();
    let limiter = Arc::new(limiter);
    let quota = Quota::per_minute(1_000);
    let allowed = Arc::new(AtomicU32::new(0));
    // Half the threads ask with `decide`, half with `allow`: one budget either way.
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (limiter, allowed) = (limiter.clone(), allowed.clone());
            std::thread::spawn(move || {
                for _ in 0..5_000 {
                    let ok = if i % 2 == 0 {
                        limiter.decide("hot", quota).is_allowed()
                    } else {
                        limiter.allow("hot", quota)
                    };
                    if ok {
                        allowed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(allowed.load(Ordering::Relaxed), 1_000);
}

#[test]
fn threads_with_a_moving_clock_admit_at_most_burst_plus_refill() {
    let (clock, limiter) = setup();
    let limiter = Arc::new(limiter);
    let quota = Quota::per_second(100); // 10 ms per request
    let allowed = Arc::new(AtomicU32::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (limiter, allowed) = (limiter.clone(), allowed.clone());
            std::thread::spawn(move || {
                for _ in 0..20_000 {
                    if limiter.decide("hot", quota).is_allowed() {
                        allowed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    // 500 ms pass in 1 ms steps while the workers run: at most 100 + 50 fit.
    for _ in 0..500 {
        clock.advance(Duration::from_millis(1));
        std::thread::yield_now();
    }
    for w in workers {
        w.join().unwrap();
    }
    let n = allowed.load(Ordering::Relaxed);
    assert!((100..=150).contains(&n), "{n} allowed");
}

#[test]
fn the_trait_is_object_safe_and_the_fast_path_agrees() {
    let (_, limiter) = setup();
    let limiter: Arc<dyn RateLimiter> = Arc::new(limiter);
    let quota = Quota::per_minute(3);
    let fast = limiter
        .check_now("k", quota)
        .expect("memory has a fast path");
    assert_eq!(fast.unwrap().remaining(), 2);
    let slow = block_on(limiter.check("k", quota)).unwrap();
    assert_eq!(slow.remaining(), 1);
    let boxed: Box<dyn RateLimiter> = Box::new(limiter.clone());
    assert_eq!(block_on(boxed.check("k", quota)).unwrap().remaining(), 0);
    assert!(!boxed.check_now("k", quota).unwrap().unwrap().is_allowed());
}

#[test]
fn a_backend_without_a_fast_path_says_so() {
    struct Remote;
    #[async_trait::async_trait]
    impl RateLimiter for Remote {
        async fn check(&self, _: &str, _: Quota) -> Result<Decision, keyward_limit::LimitError> {
            Err(keyward_limit::LimitError::Unavailable(
                "connection refused".into(),
            ))
        }
    }
    let r: &dyn RateLimiter = &Remote;
    assert!(r.check_now("k", Quota::default()).is_none());
    let err = block_on(r.check("k", Quota::default())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "rate limit backend unavailable: connection refused"
    );
}

#[test]
fn idle_keys_go_and_busy_keys_stay() {
    let (clock, limiter) = setup();
    let quota = Quota::per_minute(60);
    for i in 0..5_000 {
        limiter.decide(&format!("idle{i}"), quota);
    }
    for _ in 0..60 {
        limiter.decide("busy", quota);
    }
    clock.advance(Duration::from_secs(2));
    // The automatic sweeps already ran during the inserts (nothing was idle then).
    assert_eq!(limiter.tracked(), 5_001);
    assert_eq!(limiter.retain_recent(), 5_000);
    limiter.shrink_to_fit();
    assert_eq!(limiter.tracked(), 1);
    // "busy" kept its debt: 58 s left, so two fit and the third does not.
    assert!(limiter.decide("busy", quota).is_allowed());
    assert!(limiter.decide("busy", quota).is_allowed());
    assert!(!limiter.decide("busy", quota).is_allowed());
}

#[test]
fn memory_stays_bounded_by_the_active_keys_without_manual_cleanup() {
    let (clock, limiter) = setup();
    let quota = Quota::per_second(10);
    // 200,000 distinct keys, 2,000 per simulated second, each used once: at any time at
    // most the last 100 ms of keys (200) are still refilling; the automatic sweeps keep
    // the map near its sweep threshold instead of 200,000.
    let mut peak = 0;
    for i in 0..200_000 {
        limiter.decide(&format!("key_{i:08}"), quota);
        if i % 2 == 0 {
            clock.advance(Duration::from_millis(1));
        }
        peak = peak.max(limiter.tracked());
    }
    assert!(peak <= 2_048, "peak {peak}");
}
