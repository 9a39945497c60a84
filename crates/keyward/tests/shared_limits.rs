//! Owner-wide and tenant-wide rate limits on the request path (`owner_quota`,
//! `tenant_quota`), in memory, time driven by the rig's manual clock.

mod common;

use std::time::Duration;

use common::{Rig, mint, rig_with};
use keyward::http::render;
use keyward::limit::{LimitScope, Quota};
use keyward::scope::Requirement;
use keyward::store::Tenant;
use keyward::{AuthError, Credential, MintRequest, Principal};

async fn auth(rig: &Rig, key: &str) -> Result<Principal, AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(
            Credential::Key(key),
            &Requirement::none(),
            "192.0.2.1".parse().unwrap(),
        )
        .await
}

fn scope_of(e: &AuthError) -> Option<LimitScope> {
    match e {
        AuthError::RateLimited { scope, .. } => Some(*scope),
        _ => None,
    }
}

#[tokio::test]
async fn two_keys_of_one_owner_share_the_owner_budget() {
    let rig = rig_with(|b| b.owner_quota(Quota::per_minute(4)));
    let a = mint(&rig, MintRequest::new("a", "alice")).await;
    let b = mint(&rig, MintRequest::new("b", "alice")).await;
    let other = mint(&rig, MintRequest::new("c", "bob")).await;
    for key in [&a, &b, &a, &b] {
        auth(&rig, key.key.expose()).await.unwrap();
    }
    let e = auth(&rig, a.key.expose()).await.unwrap_err();
    assert_eq!(scope_of(&e), Some(LimitScope::Owner), "{e:?}");
    assert!(matches!(
        e,
        AuthError::RateLimited {
            retry_after: 15,
            limit: 4,
            ..
        }
    ));
    assert!(auth(&rig, b.key.expose()).await.is_err());
    // Another owner's keys have their own budget.
    auth(&rig, other.key.expose()).await.unwrap();
    rig.clock.advance(Duration::from_secs(15));
    auth(&rig, b.key.expose()).await.unwrap();
}

#[tokio::test]
async fn rolling_a_key_does_not_reset_the_owner_budget() {
    let rig = rig_with(|b| b.owner_quota(Quota::per_minute(2)));
    let old = mint(&rig, MintRequest::new("a", "alice")).await;
    auth(&rig, old.key.expose()).await.unwrap();
    auth(&rig, old.key.expose()).await.unwrap();
    assert!(auth(&rig, old.key.expose()).await.is_err());
    let rolled = rig
        .keyward
        .keys()
        .roll(&old.summary.id, Duration::from_secs(3600))
        .await
        .unwrap();
    let e = auth(&rig, rolled.new.key.expose()).await.unwrap_err();
    assert_eq!(scope_of(&e), Some(LimitScope::Owner), "{e:?}");
}

#[tokio::test]
async fn the_tenant_budget_is_shared_by_its_owners_and_keys() {
    let rig = rig_with(|b| b.tenant_quota(Quota::per_minute(2)));
    let acme = || Tenant::new("acme", "search");
    let a = mint(&rig, MintRequest::new("a", "alice").tenant(acme())).await;
    let b = mint(&rig, MintRequest::new("b", "bob").tenant(acme())).await;
    let untenanted = mint(&rig, MintRequest::new("c", "carol")).await;
    auth(&rig, a.key.expose()).await.unwrap();
    auth(&rig, b.key.expose()).await.unwrap();
    let e = auth(&rig, a.key.expose()).await.unwrap_err();
    assert_eq!(scope_of(&e), Some(LimitScope::Tenant), "{e:?}");
    // A key without a tenant has no tenant budget.
    for _ in 0..5 {
        auth(&rig, untenanted.key.expose()).await.unwrap();
    }
}

#[tokio::test]
async fn a_request_refused_by_the_owner_spends_nothing_of_its_key() {
    // The key: 2 a minute (one per 30 s). The owner: 1 per 10 s.
    let rig = rig_with(|b| {
        b.default_quota(Quota::per_minute(2))
            .owner_quota(Quota::new(1, Duration::from_secs(10)).unwrap())
    });
    let a = mint(&rig, MintRequest::new("a", "alice")).await;
    let first = auth(&rig, a.key.expose()).await.unwrap();
    // The owner's budget is the one closer to running out: the headers describe it.
    let budget = first.rate_limit_budget().unwrap();
    assert_eq!(
        (budget.scope, budget.decision.remaining()),
        (LimitScope::Owner, 0)
    );
    for _ in 0..5 {
        let e = auth(&rig, a.key.expose()).await.unwrap_err();
        assert_eq!(scope_of(&e), Some(LimitScope::Owner));
    }
    // Had the refusals spent the key's budget, it would refuse now.
    rig.clock.advance(Duration::from_secs(10));
    let next = rig
        .keyward
        .authenticator()
        .authenticate_now(
            Credential::Key(a.key.expose()),
            &Requirement::none(),
            "192.0.2.1".parse().unwrap(),
        )
        .unwrap()
        .unwrap();
    let budget = next.rate_limit_budget().unwrap();
    assert_eq!(
        (budget.scope, budget.decision.remaining()),
        (LimitScope::Key, 0),
        "both spent; a tie names the key"
    );
    // Now the key's second request of the minute is spent: the key refuses first.
    rig.clock.advance(Duration::from_secs(10));
    let e = auth(&rig, a.key.expose()).await.unwrap_err();
    assert_eq!(scope_of(&e), Some(LimitScope::Key), "{e:?}");
}

#[tokio::test]
async fn the_429_names_the_limit_and_describes_it() {
    let rig = rig_with(|b| b.owner_quota(Quota::per_minute(1)));
    let a = mint(&rig, MintRequest::new("a", "alice")).await;
    auth(&rig, a.key.expose()).await.unwrap();
    let e = auth(&rig, a.key.expose()).await.unwrap_err();
    let response = render(&e, "api");
    assert_eq!(response.status, 429);
    let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(body["limit"], "owner");
    assert_eq!(body["retry_after"], 60);
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("ratelimit-limit"), Some("1"));
    assert_eq!(header("ratelimit-policy"), Some(r#""owner";q=1;w=60"#));
    assert_eq!(header("ratelimit"), Some(r#""owner";r=0;t=60"#));
    assert_eq!(header("retry-after"), Some("60"));

    // Without owner or tenant limits a 429 names the key.
    let rig = rig_with(|b| b.default_quota(Quota::per_minute(1)));
    let k = mint(&rig, MintRequest::new("k", "bob")).await;
    auth(&rig, k.key.expose()).await.unwrap();
    let e = auth(&rig, k.key.expose()).await.unwrap_err();
    let body: serde_json::Value = serde_json::from_str(&render(&e, "api").body).unwrap();
    assert_eq!(body["limit"], "key");
}
