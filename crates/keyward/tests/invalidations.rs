//! `KeywardBuilder::invalidations`: what another process's change does to this cache,
//! and how long the subscription lives, against an in-memory source the test drives.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use common::{Rig, ip, rig_with};
use keyward::clock::Clock;
use keyward::scope::Requirement;
use keyward::store::{
    Invalidation, InvalidationSink, InvalidationSource, KeyStore, StoreError, Subscription,
};
use keyward::{AuthError, BuildError, Credential, Keyward, MintRequest};

/// A source the test delivers through by hand. Its subscription's drop takes the sink
/// back, so the test can see whether anyone still listens.
#[derive(Clone, Default)]
struct FakeSource {
    sink: Arc<Mutex<Option<InvalidationSink>>>,
}

/// Ends a [`FakeSource`] subscription when dropped.
struct Unsubscribe(Arc<Mutex<Option<InvalidationSink>>>);

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        self.0.lock().unwrap().take();
    }
}

impl InvalidationSource for FakeSource {
    fn subscribe(&self, sink: InvalidationSink) -> Result<Subscription, StoreError> {
        *self.sink.lock().unwrap() = Some(sink);
        Ok(Subscription::new(Unsubscribe(Arc::clone(&self.sink))))
    }
}

impl FakeSource {
    fn subscribed(&self) -> bool {
        self.sink.lock().unwrap().is_some()
    }

    /// Delivers as another process's change would (the lock is not held meanwhile).
    fn deliver(&self, event: Invalidation) {
        let sink = self.sink.lock().unwrap().clone().expect("a subscriber");
        sink(event);
    }
}

fn rig(source: &FakeSource) -> Rig {
    let source = source.clone();
    rig_with(move |b| b.invalidations(source))
}

async fn auth(keyward: &Keyward, key: &str) -> Result<keyward::Principal, AuthError> {
    keyward
        .authenticator()
        .authenticate(Credential::Key(key), &Requirement::none(), ip("192.0.2.1"))
        .await
}

/// Revokes in the store itself, as another process would: this keyward is not told.
async fn revoke_elsewhere(rig: &Rig, id: keyward::format::KeyId) {
    rig.store.revoke(&id, rig.clock.now()).await.unwrap();
}

#[tokio::test]
async fn a_key_invalidation_makes_that_key_read_its_change() {
    let source = FakeSource::default();
    let rig = rig(&source);
    assert!(source.subscribed());
    let a = rig.mint(MintRequest::new("a", "u_1")).await;
    let b = rig.mint(MintRequest::new("b", "u_1")).await;
    auth(&rig.keyward, a.key.expose()).await.unwrap();
    auth(&rig.keyward, b.key.expose()).await.unwrap();
    let verifications = rig.verifications.load(Ordering::SeqCst);

    revoke_elsewhere(&rig, a.summary.id).await;
    revoke_elsewhere(&rig, b.summary.id).await;
    // The cache does not know yet (the clock stands still, no refresh is due).
    auth(&rig.keyward, a.key.expose()).await.unwrap();

    source.deliver(Invalidation::Key(a.summary.id));
    let refused = auth(&rig.keyward, a.key.expose()).await.unwrap_err();
    assert!(matches!(refused, AuthError::KeyRevoked), "{refused:?}");
    // Only the named key: the other is still served from the cache.
    auth(&rig.keyward, b.key.expose()).await.unwrap();
    // A store read, not a second slow hash.
    assert_eq!(rig.verifications.load(Ordering::SeqCst), verifications);
}

#[tokio::test]
async fn an_all_invalidation_empties_the_cache() {
    let source = FakeSource::default();
    let rig = rig(&source);
    let keys = [
        rig.mint(MintRequest::new("a", "u_1")).await,
        rig.mint(MintRequest::new("b", "u_2")).await,
    ];
    for k in &keys {
        auth(&rig.keyward, k.key.expose()).await.unwrap();
        revoke_elsewhere(&rig, k.summary.id).await;
        auth(&rig.keyward, k.key.expose()).await.unwrap();
    }
    assert_eq!(rig.keyward.authenticator().cached_keys(), 2);

    source.deliver(Invalidation::All);
    assert_eq!(rig.keyward.authenticator().cached_keys(), 0);
    for k in &keys {
        let refused = auth(&rig.keyward, k.key.expose()).await.unwrap_err();
        assert!(matches!(refused, AuthError::KeyRevoked), "{refused:?}");
    }
}

#[tokio::test]
async fn the_subscription_ends_with_the_last_user_of_keyward() {
    let source = FakeSource::default();
    let Rig { keyward, .. } = rig(&source);
    let copy = keyward.clone();
    let authenticator = keyward.authenticator();
    drop(keyward);
    drop(copy);
    // An authenticator taken from it still relies on the invalidations.
    assert!(source.subscribed());
    source.deliver(Invalidation::All);
    drop(authenticator);
    assert!(
        !source.subscribed(),
        "the subscription outlived every Keyward: a reference cycle?"
    );
}

struct Refusing;

impl InvalidationSource for Refusing {
    fn subscribe(&self, _sink: InvalidationSink) -> Result<Subscription, StoreError> {
        Err(StoreError::InvalidRequest("no runtime".to_owned()))
    }
}

#[test]
fn a_source_that_cannot_subscribe_fails_the_build() {
    let err = match Keyward::builder(keyward_testing::rig::format(), common::catalog())
        .store(keyward::store::MemoryStore::new())
        .invalidations(Refusing)
        .build()
    {
        Ok(_) => panic!("built without its invalidations"),
        Err(e) => e,
    };
    assert!(matches!(err, BuildError::Invalidations(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "cannot subscribe to cache invalidations: invalid store request: no runtime"
    );
}
