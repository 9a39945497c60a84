//! A request's key, owner and tenant budgets through the memory limiter's public API,
//! time driven by a `ManualClock`.

use std::time::Duration;

use keyward_clock::{ManualClock, Timestamp};
use keyward_limit::{Budgets, LimitScope, MemoryRateLimiter, Quota, RateLimiter};

fn setup() -> (ManualClock, MemoryRateLimiter<ManualClock>) {
    let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
    (clock.clone(), MemoryRateLimiter::with_clock(clock))
}

const KEY: Quota = Quota::per_minute(60);

#[test]
fn keys_of_one_owner_share_the_owner_budget() {
    let (clock, limiter) = setup();
    let owner = Quota::per_minute(3);
    for key in ["k1", "k2", "k3"] {
        let d = limiter.decide_budgets(&Budgets::key(key, KEY).with_owner("alice", owner));
        assert!(d.is_allowed(), "{key}");
    }
    // A fourth key, a new one (a rolled key has a new id): the owner's budget is spent.
    let refused = limiter.decide_budgets(&Budgets::key("k4", KEY).with_owner("alice", owner));
    assert_eq!(refused.scope, LimitScope::Owner);
    assert_eq!(refused.quota, owner);
    assert_eq!(refused.decision.retry_after_secs(), Some(20));
    // Another owner is not affected.
    assert!(
        limiter
            .decide_budgets(&Budgets::key("k5", KEY).with_owner("bob", owner))
            .is_allowed()
    );
    clock.advance(Duration::from_secs(20));
    assert!(
        limiter
            .decide_budgets(&Budgets::key("k4", KEY).with_owner("alice", owner))
            .is_allowed()
    );
}

#[test]
fn the_tenant_budget_is_shared_across_owners() {
    let (_, limiter) = setup();
    let tenant = Quota::per_minute(2);
    let owner = Quota::per_minute(100);
    let request = |key, who| {
        limiter.decide_budgets(
            &Budgets::key(key, KEY)
                .with_owner(who, owner)
                .with_tenant("acme", "search", tenant),
        )
    };
    assert!(request("k1", "alice").is_allowed());
    assert!(request("k2", "bob").is_allowed());
    let refused = request("k3", "carol");
    assert_eq!(refused.scope, LimitScope::Tenant);
    assert!(!refused.is_allowed());
    // Another project of the same team has its own budget.
    assert!(
        limiter
            .decide_budgets(&Budgets::key("k3", KEY).with_tenant("acme", "other", tenant))
            .is_allowed()
    );
}

#[test]
fn a_request_refused_by_one_budget_spends_none_of_the_others() {
    let (_, limiter) = setup();
    let key = Quota::per_minute(2);
    let owner = Quota::per_minute(1);
    let both = Budgets::key("k1", key).with_owner("alice", owner);
    assert!(limiter.decide_budgets(&both).is_allowed());
    // The owner refuses: the key's second request is given back.
    for _ in 0..5 {
        let refused = limiter.decide_budgets(&both);
        assert_eq!(refused.scope, LimitScope::Owner);
    }
    assert_eq!(
        limiter.decide("k1", key).remaining(),
        0,
        "one of the key's two requests was still left"
    );

    // The key refuses first: the owner's budget is not touched either.
    let (_, limiter) = setup();
    let key = Quota::per_minute(1);
    let owner = Quota::per_minute(2);
    let both = Budgets::key("k1", key).with_owner("alice", owner);
    assert!(limiter.decide_budgets(&both).is_allowed());
    for _ in 0..5 {
        assert_eq!(limiter.decide_budgets(&both).scope, LimitScope::Key);
    }
    assert_eq!(limiter.decide("owner:alice", owner).remaining(), 0);

    // The tenant refuses last: key and owner are both given back.
    let (_, limiter) = setup();
    let tenant = Quota::per_minute(1);
    let all = Budgets::key("k1", Quota::per_minute(5))
        .with_owner("alice", Quota::per_minute(5))
        .with_tenant("acme", "search", tenant);
    assert!(limiter.decide_budgets(&all).is_allowed());
    for _ in 0..10 {
        assert_eq!(limiter.decide_budgets(&all).scope, LimitScope::Tenant);
    }
    assert_eq!(limiter.decide("k1", Quota::per_minute(5)).remaining(), 3);
    assert_eq!(
        limiter
            .decide("owner:alice", Quota::per_minute(5))
            .remaining(),
        3
    );
}

#[test]
fn an_allowed_request_reports_the_budget_closest_to_running_out() {
    let (_, limiter) = setup();
    let key = Quota::per_minute(60);
    let owner = Quota::per_minute(10);
    let first = limiter.decide_budgets(&Budgets::key("k1", key).with_owner("alice", owner));
    assert_eq!(first.scope, LimitScope::Owner);
    assert_eq!(first.decision.remaining(), 9);
    // The key alone reports the key.
    let alone = limiter.decide_budgets(&Budgets::key("k2", key));
    assert_eq!(
        (alone.scope, alone.decision.remaining()),
        (LimitScope::Key, 59)
    );
}

#[test]
fn an_owner_id_never_shares_a_budget_with_a_key_of_that_name() {
    let (_, limiter) = setup();
    let one = Quota::per_minute(1);
    // A key whose id is "alice" and an owner named "alice".
    assert!(limiter.decide("alice", one).is_allowed());
    assert!(
        limiter
            .decide_budgets(&Budgets::key("k1", KEY).with_owner("alice", one))
            .is_allowed()
    );
}

/// Polls a future that never waits (the memory backends' futures are ready at once).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[test]
fn through_the_trait_with_or_without_a_future() {
    let (_, limiter) = setup();
    let limiter: &dyn RateLimiter = &limiter;
    let owner = Quota::per_minute(2);
    let budgets = Budgets::key("k1", KEY).with_owner("alice", owner);
    let now = limiter.check_budgets_now(&budgets).unwrap().unwrap();
    assert_eq!(now.decision.remaining(), 1);
    let later = block_on(limiter.check_budgets(&budgets)).unwrap();
    assert_eq!(later.decision.remaining(), 0);
}
