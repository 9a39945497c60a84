//! Fixtures shared by keyward's integration tests.
#![allow(dead_code)]

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use keyward::clock::{ManualClock, Timestamp};
use keyward::format::KeyFormat;
use keyward::hash::{BcryptHasher, HashError, SecretHasher};
use keyward::scope::Catalog;
pub use keyward::store::SwitchableStore;
use keyward::{Config, Keyward, KeywardBuilder, MintRequest, NewKey};

pub const START: u64 = 1_800_000_000;

/// The example servers' catalog.
pub fn catalog() -> Catalog {
    Catalog::demo()
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Counts slow-hash verifications, delegating to a fast bcrypt.
pub struct CountingHasher {
    pub inner: BcryptHasher,
    pub verifications: Arc<AtomicUsize>,
}

impl SecretHasher for CountingHasher {
    fn hash(&self, secret: &[u8]) -> Result<String, HashError> {
        self.inner.hash(secret)
    }
    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(secret, hash)
    }
    fn needs_rehash(&self, hash: &str) -> bool {
        self.inner.needs_rehash(hash)
    }
}

/// A test rig: keyward over a switchable memory store, a manual clock and a counting
/// fast hasher.
pub struct Rig {
    pub keyward: Keyward,
    pub store: SwitchableStore,
    pub clock: ManualClock,
    pub verifications: Arc<AtomicUsize>,
}

pub fn rig() -> Rig {
    rig_with(|b| b)
}

pub fn rig_with(configure: impl FnOnce(KeywardBuilder) -> KeywardBuilder) -> Rig {
    let store = SwitchableStore::default();
    let clock = ManualClock::new(Timestamp::from_unix_seconds(START));
    let verifications = Arc::new(AtomicUsize::new(0));
    let builder = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), catalog())
        .store(store.clone())
        .clock(clock.clone())
        .hasher(CountingHasher {
            inner: BcryptHasher::new(4).unwrap(),
            verifications: Arc::clone(&verifications),
        })
        .config(Config::default());
    Rig {
        keyward: configure(builder).build().unwrap(),
        store,
        clock,
        verifications,
    }
}

/// Mints through the rig's key service.
pub async fn mint(rig: &Rig, request: MintRequest) -> NewKey {
    rig.keyward.keys().mint(request).await.unwrap()
}
