//! `KeyService::verify_presented`: a reported key checked against the stored hash,
//! whatever its state, leaving no trace a request would (lockout, cool-down, rate
//! limit, cache, recorded use).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Rig, ip, rig, rig_with};
use keyward::format::KeyId;
use keyward::hash::{BcryptHasher, HashError, SecretHasher};
use keyward::scope::Requirement;
use keyward::store::{KeyState, KeyStore};
use keyward::{AuthError, Credential, KeyService, MintRequest, ServiceError};

async fn authenticate(rig: &Rig, key: &str, from: &str) -> Result<(), AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(Credential::Key(key), &Requirement::none(), ip(from))
        .await
        .map(|_| ())
}

/// The id of the key `token` verified as, if any.
async fn found(keys: &KeyService, token: &str) -> Option<KeyId> {
    let found = keys.verify_presented(token).await.expect("a decision");
    found.map(|summary| summary.id)
}

#[tokio::test]
async fn a_key_whose_secret_verifies_is_found_in_any_state() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let active = rig.mint(MintRequest::new("active", "u_1")).await;
    let revoked = rig.mint(MintRequest::new("revoked", "u_1")).await;
    keys.revoke(&revoked.summary.id).await.unwrap();
    let disabled = rig.mint(MintRequest::new("disabled", "u_1")).await;
    keys.disable(&disabled.summary.id).await.unwrap();
    let decoy = rig
        .mint(MintRequest::new("decoy", "security").honeytoken())
        .await;
    for (minted, state) in [
        (&active, KeyState::Active),
        (&revoked, KeyState::Revoked),
        (&disabled, KeyState::Disabled),
        (&decoy, KeyState::Active),
    ] {
        let found = keys.verify_presented(minted.key.expose()).await.unwrap();
        let found = found.expect("the key verifies");
        assert_eq!((found.id, found.state), (minted.summary.id, state));
    }
    let found = keys.verify_presented(decoy.key.expose()).await.unwrap();
    assert!(found.unwrap().honeytoken);
}

#[tokio::test]
async fn anything_but_a_verifying_secret_is_none() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let live = rig.mint(MintRequest::new("live", "u_1")).await;
    let forged = rig.keyward.format().mint_for(&live.summary.id).unwrap();
    let unknown = rig.keyward.format().mint().unwrap();
    let mut bad_checksum = live.key.expose().to_owned();
    let last = bad_checksum.pop().unwrap();
    bad_checksum.push(if last == 'A' { 'B' } else { 'A' });
    for token in [
        forged.expose(),
        unknown.expose(),
        &bad_checksum,
        "ghp_not_ours",
        "",
    ] {
        assert_eq!(found(&keys, token).await, None, "{token:.12}");
    }
}

#[tokio::test]
async fn a_check_leaves_no_trace_of_a_request() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let limited = rig
        .mint(MintRequest::new("limited", "u_1").rate_limit(1, Duration::from_secs(60)))
        .await;
    let victim = rig.mint(MintRequest::new("victim", "u_1")).await;
    let forged = rig.keyward.format().mint_for(&victim.summary.id).unwrap();

    // More wrong secrets for one id than the lockout and the cool-down allow.
    for _ in 0..12 {
        assert_eq!(found(&keys, forged.expose()).await, None);
    }
    for _ in 0..3 {
        let id = found(&keys, limited.key.expose()).await;
        assert_eq!(id, Some(limited.summary.id));
    }
    // Nothing cached, no use to flush.
    let authenticator = rig.keyward.authenticator();
    assert_eq!(authenticator.cached_keys(), 0);
    assert_eq!(authenticator.flush_usage().await.unwrap(), 0);
    let stored = rig.store.inner.get(&limited.summary.id).await.unwrap();
    assert_eq!(stored.last_used_at, None);

    // No address is locked out and the forged id is not cooling down: the victim's
    // key works from anywhere, the unspecified address included.
    assert_eq!(authenticate(&rig, victim.key.expose(), "::").await, Ok(()));
    assert_eq!(
        authenticate(&rig, victim.key.expose(), "198.51.100.7").await,
        Ok(())
    );
    // The rate budget is whole: one request passes, the next is limited.
    assert_eq!(
        authenticate(&rig, limited.key.expose(), "198.51.100.7").await,
        Ok(())
    );
    assert!(matches!(
        authenticate(&rig, limited.key.expose(), "198.51.100.7").await,
        Err(AuthError::RateLimited { .. })
    ));
}

/// Counts every slow hash, made or verified.
struct SlowHashes {
    inner: BcryptHasher,
    done: Arc<AtomicUsize>,
}

impl SecretHasher for SlowHashes {
    fn hash(&self, secret: &[u8]) -> Result<String, HashError> {
        self.done.fetch_add(1, Ordering::SeqCst);
        self.inner.hash(secret)
    }
    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError> {
        self.done.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(secret, hash)
    }
    fn needs_rehash(&self, hash: &str) -> bool {
        self.inner.needs_rehash(hash)
    }
}

#[tokio::test]
async fn an_unknown_id_costs_the_slow_hash_a_wrong_secret_does() {
    let done = Arc::new(AtomicUsize::new(0));
    let hasher = SlowHashes {
        inner: BcryptHasher::new(BcryptHasher::MIN_COST).unwrap(),
        done: Arc::clone(&done),
    };
    let rig = rig_with(|b| b.hasher(hasher));
    let keys = rig.keyward.keys();
    let live = rig.mint(MintRequest::new("live", "u_1")).await;
    let forged = rig.keyward.format().mint_for(&live.summary.id).unwrap();
    let unknown = rig.keyward.format().mint().unwrap();
    for token in [forged.expose(), unknown.expose()] {
        let before = done.load(Ordering::SeqCst);
        assert_eq!(found(&keys, token).await, None);
        assert_eq!(done.load(Ordering::SeqCst), before + 1, "{token:.12}");
    }
}

#[tokio::test]
async fn a_store_failure_is_an_error_not_an_answer() {
    let rig = rig();
    let live = rig.mint(MintRequest::new("live", "u_1")).await;
    rig.store.down.store(true, Ordering::SeqCst);
    let answer = rig.keyward.keys().verify_presented(live.key.expose()).await;
    rig.store.down.store(false, Ordering::SeqCst);
    assert!(matches!(answer, Err(ServiceError::Store(_))), "{answer:?}");
}
