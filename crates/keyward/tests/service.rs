//! Key management: mint, list, roll, expire, and the errors of each.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Rig, START, ip, rig, rig_with};
use keyward::clock::{Clock, Timestamp};
use keyward::scope::{Denied, Requirement};
use keyward::store::{KeyState, KeyStore, ListFilter, MemoryStore, PageRequest, Tenant};
use keyward::{
    AuthError, BuildError, Config, ConfigProblem, Credential, Keyward, MintRequest, NameProblem,
    RequestProblem, ServiceError,
};

async fn auth(rig: &Rig, key: &str) -> Result<keyward::Principal, AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(Credential::Key(key), &Requirement::none(), ip("192.0.2.1"))
        .await
}

#[tokio::test]
async fn mint_defaults_validates_and_stores_only_a_hash() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let k = keys.mint(MintRequest::new("CI", "u_1")).await.unwrap();
    assert_eq!(k.summary.capabilities, ["desktop:chat", "desktop:read"]);
    assert_eq!(
        k.summary.key_prefix,
        format!("sk_live_{}", &k.key.id().as_str()[..4])
    );
    assert_eq!(k.summary.last4, &k.key.expose()[k.key.expose().len() - 4..]);
    assert_eq!(k.summary.state, KeyState::Active);

    let record = rig.store.inner.get(&k.key.id()).await.unwrap();
    assert!(record.hash.starts_with("$2b$"), "bcrypt hash stored");
    let secret = std::str::from_utf8(k.key.secret()).unwrap();
    assert!(!record.hash.contains(secret));
    assert!(!format!("{record:?}").contains(secret));

    let e = keys
        .mint(MintRequest::new("x", "u_1").capabilities(["jobs:read", "nope:x", "bad"]))
        .await
        .unwrap_err();
    let ServiceError::UnknownCapabilities(unknown) = e else {
        panic!("{e:?}")
    };
    assert_eq!(unknown.capabilities, ["bad", "nope:x"]);

    for (bad, problem) in [
        (
            MintRequest::new("x", "u_1").expires_at(Timestamp::from_unix_seconds(START - 1)),
            RequestProblem::ExpiryInPast,
        ),
        (
            MintRequest::new("x", "u_1").expires_in(Duration::ZERO),
            RequestProblem::ZeroExpiresIn,
        ),
        (
            MintRequest::new("x", "u_1")
                .expires_in(Duration::from_secs(1))
                .expires_at(Timestamp::from_unix_seconds(START + 10)),
            RequestProblem::TwoExpiries,
        ),
    ] {
        assert!(matches!(
            keys.mint(bad).await,
            Err(ServiceError::InvalidRequest(ref p)) if *p == problem
        ));
    }
}

#[tokio::test]
async fn a_failed_store_write_returns_an_error_and_no_key() {
    let rig = rig();
    rig.store.down.store(true, Ordering::SeqCst);
    let result = rig.keyward.keys().mint(MintRequest::new("CI", "u_1")).await;
    assert!(matches!(result, Err(ServiceError::Store(_))));
    rig.store.down.store(false, Ordering::SeqCst);
    let all = rig
        .store
        .inner
        .list(&ListFilter::all(), PageRequest::first(10))
        .await
        .unwrap();
    assert!(all.records.is_empty());
}

#[tokio::test]
async fn list_is_masked_paginated_and_filtered() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let team = Tenant::new("acme", "search");
    for i in 0..5 {
        rig.clock.advance(Duration::from_secs(1));
        keys.mint(MintRequest::new(format!("k{i}"), "u_1").tenant(team.clone()))
            .await
            .unwrap();
    }
    let other = keys.mint(MintRequest::new("other", "u_2")).await.unwrap();
    keys.revoke(&other.key.id()).await.unwrap();

    let first = keys
        .list(&ListFilter::owner("u_1"), PageRequest::first(3))
        .await
        .unwrap();
    let names: Vec<_> = first.keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["k0", "k1", "k2"]);
    let second = keys
        .list(
            &ListFilter::owner("u_1"),
            PageRequest {
                limit: 3,
                after: first.next,
            },
        )
        .await
        .unwrap();
    assert_eq!(second.keys.len(), 2);
    assert_eq!(second.next, None);

    let by_tenant = keys
        .list(&ListFilter::tenant(team), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(by_tenant.keys.len(), 5);
    let u2 = keys
        .list(&ListFilter::owner("u_2"), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(u2.keys[0].state, KeyState::Revoked);
    assert!(u2.keys[0].revoked_at.is_some());
    assert!(matches!(
        keys.list(&ListFilter::all(), PageRequest::first(0)).await,
        Err(ServiceError::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn roll_keeps_everything_and_the_old_key_works_until_the_grace_ends() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let old = keys
        .mint(
            MintRequest::new("CI", "u_1")
                .capabilities(["jobs:write"])
                .tenant(Tenant::new("acme", "search"))
                .metadata("env", "prod"),
        )
        .await
        .unwrap();
    auth(&rig, old.key.expose()).await.unwrap();

    let rolled = keys
        .roll(&old.key.id(), Duration::from_secs(3600))
        .await
        .unwrap();
    let new = &rolled.new.summary;
    assert_ne!(new.id, old.key.id());
    assert_eq!(
        (
            &new.name,
            &new.owner,
            &new.tenant,
            &new.capabilities,
            &new.metadata
        ),
        (
            &old.summary.name,
            &old.summary.owner,
            &old.summary.tenant,
            &old.summary.capabilities,
            &old.summary.metadata
        )
    );
    assert_eq!(
        rolled.old.expires_at,
        Some(rig.clock.now().saturating_add(Duration::from_secs(3600)))
    );

    auth(&rig, rolled.new.key.expose()).await.unwrap();
    rig.clock.advance(Duration::from_secs(3599));
    auth(&rig, old.key.expose()).await.unwrap();
    rig.clock.advance(Duration::from_secs(1));
    assert_eq!(
        auth(&rig, old.key.expose()).await.unwrap_err(),
        AuthError::KeyExpired
    );
    auth(&rig, rolled.new.key.expose()).await.unwrap();
}

#[tokio::test]
async fn roll_without_grace_stops_the_old_key_at_once() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let old = keys.mint(MintRequest::new("CI", "u_1")).await.unwrap();
    auth(&rig, old.key.expose()).await.unwrap();
    keys.roll(&old.key.id(), Duration::ZERO).await.unwrap();
    assert_eq!(
        auth(&rig, old.key.expose()).await.unwrap_err(),
        AuthError::KeyExpired
    );
}

#[tokio::test]
async fn roll_grace_is_capped_and_never_outlasts_the_old_expiry() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let short = keys
        .mint(MintRequest::new("short", "u_1").expires_in(Duration::from_secs(60)))
        .await
        .unwrap();
    let rolled = keys
        .roll(&short.key.id(), Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(rolled.old.expires_at, short.summary.expires_at);
    assert_eq!(
        rolled.new.summary.expires_at, short.summary.expires_at,
        "the new key keeps the expiry"
    );

    let k = keys.mint(MintRequest::new("k", "u_1")).await.unwrap();
    let e = keys
        .roll(&k.key.id(), Duration::from_secs(8 * 24 * 3600))
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        ServiceError::GraceTooLong {
            max_seconds: 604_800
        }
    ));

    keys.revoke(&k.key.id()).await.unwrap();
    let e = keys.roll(&k.key.id(), Duration::ZERO).await.unwrap_err();
    assert!(matches!(e, ServiceError::NotActive(KeyState::Revoked)));
    let unknown = rig.keyward.format().mint().unwrap();
    assert!(matches!(
        keys.roll(&unknown.id(), Duration::ZERO).await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn expire_set_expiry_and_unknown_ids() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let k = keys.mint(MintRequest::new("k", "u_1")).await.unwrap();
    auth(&rig, k.key.expose()).await.unwrap();
    keys.expire(&k.key.id()).await.unwrap();
    assert_eq!(
        auth(&rig, k.key.expose()).await.unwrap_err(),
        AuthError::KeyExpired
    );
    keys.set_expiry(&k.key.id(), None).await.unwrap();
    auth(&rig, k.key.expose()).await.unwrap();

    let unknown = rig.keyward.format().mint().unwrap().id();
    assert!(matches!(
        keys.revoke(&unknown).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        keys.get(&unknown).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        keys.disable(&unknown).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        keys.expire(&unknown).await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn names_and_owners_must_be_visible_text_on_one_line() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let cases = [
        ("", NameProblem::Empty),
        ("  ", NameProblem::Empty),
        (&*"x".repeat(201), NameProblem::TooLong),
        ("a\nb", NameProblem::ControlCharacter),
        ("a\u{7}b", NameProblem::ControlCharacter),
        // Bidirectional override: "CI \u{202E}dorp" shows as "CI prod".
        ("CI \u{202E}dorp", NameProblem::FormatCharacter),
        ("a\u{200B}b", NameProblem::FormatCharacter),
        ("\u{FEFF}prod", NameProblem::FormatCharacter),
        ("a\u{2066}b", NameProblem::FormatCharacter),
        ("a\u{2028}b", NameProblem::LineSeparator),
        ("a\u{2029}b", NameProblem::LineSeparator),
    ];
    for (bad, problem) in cases {
        for (request, field) in [
            (MintRequest::new(bad, "u_1"), "name"),
            (MintRequest::new("CI", bad), "owner"),
        ] {
            let e = keys.mint(request).await.unwrap_err();
            assert!(bad.trim().is_empty() || !e.to_string().contains(bad), "{e}");
            let ServiceError::InvalidName {
                field: f,
                problem: p,
            } = e
            else {
                panic!("{bad:?} as {field}: {e:?}")
            };
            assert_eq!((f, p), (field, problem), "{bad:?}");
        }
    }
    let all = rig
        .store
        .inner
        .list(&ListFilter::all(), PageRequest::first(10))
        .await
        .unwrap();
    assert!(all.records.is_empty(), "nothing was stored");

    // Letters, marks, symbols and emoji of any script are fine.
    for good in [
        "Déploiement 🚀 CI",
        "生产环境",
        "naïve café",
        "Prod (EU) – v2",
        // The limit counts characters, as a JSON schema's maxLength does: 200 of them
        // in 400 bytes is a valid name.
        &"é".repeat(200),
    ] {
        keys.mint(MintRequest::new(good, "u_1")).await.unwrap();
    }
}

#[tokio::test]
async fn a_key_in_its_grace_cannot_be_rolled_and_replacements_keep_the_first_expiry() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let grace = Duration::from_secs(4);

    // Without an expiry: the second roll used to give a replacement that expired with
    // the first roll's grace.
    let first = keys.mint(MintRequest::new("CI", "u_1")).await.unwrap();
    let rolled = keys.roll(&first.key.id(), grace).await.unwrap();
    assert_eq!(rolled.old.replaced_by, Some(rolled.new.key.id()));
    assert_eq!(rolled.new.summary.expires_at, None);
    assert!(matches!(
        keys.roll(&first.key.id(), grace).await,
        Err(ServiceError::AlreadyRolled)
    ));
    rig.clock.advance(Duration::from_secs(5));
    auth(&rig, rolled.new.key.expose()).await.unwrap();
    assert_eq!(
        auth(&rig, first.key.expose()).await.unwrap_err(),
        AuthError::KeyExpired
    );
    // After the grace the old key is expired; it stays un-rollable for that reason too.
    assert!(matches!(
        keys.roll(&first.key.id(), grace).await,
        Err(ServiceError::AlreadyRolled)
    ));

    // With an expiry: every replacement down the chain keeps the first key's.
    let month = Duration::from_secs(30 * 24 * 3600);
    let a = keys
        .mint(MintRequest::new("CI", "u_1").expires_in(month))
        .await
        .unwrap();
    let original = a.summary.expires_at;
    let b = keys.roll(&a.key.id(), grace).await.unwrap();
    assert_eq!(b.new.summary.expires_at, original);
    let c = keys.roll(&b.new.key.id(), grace).await.unwrap();
    assert_eq!(c.new.summary.expires_at, original);
    assert_eq!(
        b.old.expires_at,
        Some(rig.clock.now().saturating_add(grace)),
        "the rolled key's grace"
    );
    rig.clock.advance(Duration::from_secs(5));
    auth(&rig, c.new.key.expose()).await.unwrap();
    for expired in [&a.key, &b.new.key] {
        assert_eq!(
            auth(&rig, expired.expose()).await.unwrap_err(),
            AuthError::KeyExpired
        );
    }
    // The listing shows the chain.
    let listed = keys.get(&b.new.key.id()).await.unwrap();
    assert_eq!(listed.replaced_by, Some(c.new.key.id()));
}

/// A key of the owner holding only `keys:write`, and its principal.
async fn weak_and_strong(rig: &Rig) -> (keyward::Principal, keyward::NewKey) {
    let keys = rig.keyward.keys();
    let weak = keys
        .mint(MintRequest::new("weak", "u_1").capabilities(["keys:write"]))
        .await
        .unwrap();
    let strong = keys
        .mint(
            MintRequest::new("production", "u_1").capabilities(["desktop:lifecycle", "keys:read"]),
        )
        .await
        .unwrap();
    (auth(rig, weak.key.expose()).await.unwrap(), strong)
}

#[tokio::test]
async fn a_weak_key_cannot_revoke_roll_disable_or_enable_a_stronger_one() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let (weak, strong) = weak_and_strong(&rig).await;
    let id = strong.key.id();
    let held = weak.capabilities();
    let refused = |e: ServiceError| match e {
        ServiceError::InsufficientCapability(Denied { required, held }) => {
            assert_eq!(required, ["desktop:lifecycle"]);
            assert_eq!(held, ["keys:read", "keys:write"]);
        }
        other => panic!("{other:?}"),
    };
    refused(keys.revoke_as(held, &id).await.unwrap_err());
    refused(keys.roll_as(held, &id, Duration::ZERO).await.unwrap_err());
    refused(keys.disable_as(held, &id).await.unwrap_err());
    refused(keys.enable_as(held, &id).await.unwrap_err());
    refused(keys.check_change(held, &strong.summary).unwrap_err());
    // Nothing changed: the strong key still works and was never rolled.
    auth(&rig, strong.key.expose()).await.unwrap();
    assert_eq!(keys.get(&id).await.unwrap().replaced_by, None);

    // A caller holding as much (through an implication, too) may.
    let peer = keys
        .mint(MintRequest::new("peer", "u_1").capabilities(["desktop:lifecycle", "keys:write"]))
        .await
        .unwrap();
    let peer = auth(&rig, peer.key.expose()).await.unwrap();
    let held = peer.capabilities();
    keys.check_change(held, &strong.summary).unwrap();
    assert_eq!(
        keys.disable_as(held, &id).await.unwrap().state,
        KeyState::Disabled
    );
    assert_eq!(
        auth(&rig, strong.key.expose()).await.unwrap_err(),
        AuthError::KeyDisabled
    );
    assert_eq!(
        keys.enable_as(held, &id).await.unwrap().state,
        KeyState::Active
    );
    let rolled = keys.roll_as(held, &id, Duration::ZERO).await.unwrap();
    let replacement = rolled.new.key.id();
    assert_eq!(
        keys.revoke_as(held, &replacement).await.unwrap().state,
        KeyState::Revoked
    );
    // A key may always manage itself and keys of less.
    keys.revoke_as(weak.capabilities(), &weak.key_id())
        .await
        .unwrap();
    let unknown = rig.keyward.format().mint().unwrap().id();
    assert!(matches!(
        keys.revoke_as(held, &unknown).await,
        Err(ServiceError::NotFound)
    ));
}

fn capped(max: u64) -> Rig {
    rig_with(|b| {
        b.config(Config {
            max_live_keys_per_owner: max,
            ..Config::default()
        })
    })
}

#[tokio::test]
async fn live_keys_per_owner_are_capped_and_revoked_or_expired_ones_make_room() {
    let rig = capped(3);
    let keys = rig.keyward.keys();
    let mut minted = Vec::new();
    for i in 0..3 {
        minted.push(
            keys.mint(MintRequest::new(format!("k{i}"), "u_1"))
                .await
                .unwrap(),
        );
    }
    let too_many = || async {
        match keys.mint(MintRequest::new("one more", "u_1")).await {
            Err(ServiceError::TooManyKeys { max: 3 }) => {}
            other => panic!("{other:?}"),
        }
    };
    too_many().await;
    // Disabling frees nothing: a disabled key can be enabled again.
    keys.disable(&minted[0].key.id()).await.unwrap();
    too_many().await;
    // Other owners have their own count.
    keys.mint(MintRequest::new("k", "u_2")).await.unwrap();

    keys.revoke(&minted[0].key.id()).await.unwrap();
    keys.mint(MintRequest::new("after a revoke", "u_1"))
        .await
        .unwrap();
    too_many().await;
    keys.set_expiry(
        &minted[1].key.id(),
        Some(rig.clock.now().saturating_add(Duration::from_secs(10))),
    )
    .await
    .unwrap();
    too_many().await;
    rig.clock.advance(Duration::from_secs(10));
    keys.mint(MintRequest::new("after an expiry", "u_1"))
        .await
        .unwrap();
    too_many().await;
    let live = rig
        .store
        .inner
        .count_live("u_1", rig.clock.now())
        .await
        .unwrap();
    assert_eq!(live.live, 3);
}

#[tokio::test]
async fn a_roll_at_the_cap_works_and_rolls_cannot_multiply_keys() {
    let rig = capped(2);
    let keys = rig.keyward.keys();
    let a = keys.mint(MintRequest::new("a", "u_1")).await.unwrap();
    let b = keys.mint(MintRequest::new("b", "u_1")).await.unwrap();
    let hour = Duration::from_secs(3600);
    // At the cap, each key rolls: the old one in its grace does not block the roll.
    let a2 = keys.roll(&a.key.id(), hour).await.unwrap();
    let b2 = keys.roll(&b.key.id(), hour).await.unwrap();
    for key in [&a.key, &b.key, &a2.new.key, &b2.new.key] {
        auth(&rig, key.expose()).await.unwrap();
    }
    // Two keys in their grace: a third roll would add a working key past the bound.
    assert!(matches!(
        keys.roll(&a2.new.key.id(), hour).await,
        Err(ServiceError::TooManyKeys { max: 2 })
    ));
    assert!(matches!(
        keys.mint(MintRequest::new("c", "u_1")).await,
        Err(ServiceError::TooManyKeys { max: 2 })
    ));
    // Once the graces end the replacements roll again, and the cap still holds.
    rig.clock.advance(hour);
    keys.roll(&a2.new.key.id(), Duration::ZERO).await.unwrap();
    assert!(matches!(
        keys.mint(MintRequest::new("c", "u_1")).await,
        Err(ServiceError::TooManyKeys { max: 2 })
    ));
}

#[test]
fn a_cap_of_zero_live_keys_is_refused() {
    let Err(e) = Keyward::builder(
        keyward::format::KeyFormat::new("sk_live_").unwrap(),
        common::catalog(),
    )
    .store(MemoryStore::new())
    .config(Config {
        max_live_keys_per_owner: 0,
        ..Config::default()
    })
    .build() else {
        panic!("a cap of zero was accepted")
    };
    assert!(
        matches!(
            e,
            BuildError::InvalidConfig {
                field: "max_live_keys_per_owner",
                problem: ConfigProblem::ZeroCount,
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn a_key_revoked_while_its_replacement_is_hashed_does_not_roll() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let k = keys.mint(MintRequest::new("CI", "u_1")).await.unwrap();
    // The revocation lands between the service's read and the store's roll.
    rig.store.revoke_before_roll.store(true, Ordering::SeqCst);
    let e = keys
        .roll(&k.key.id(), Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ServiceError::NotActive(KeyState::Revoked)),
        "{e:?}"
    );
    // The old key alone, revoked and never rolled: no replacement was stored.
    let listed = keys
        .list(&ListFilter::owner("u_1"), PageRequest::default())
        .await
        .unwrap();
    let states: Vec<_> = listed.keys.iter().map(|s| (s.id, s.state)).collect();
    assert_eq!(states, [(k.key.id(), KeyState::Revoked)]);
}
