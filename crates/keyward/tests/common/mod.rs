//! Fixtures shared by keyward's integration tests.
#![allow(dead_code)]

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use keyward::clock::{ManualClock, Timestamp};
use keyward::format::{KeyFormat, KeyId};
use keyward::scope::Catalog;
use keyward::store::{
    BcryptHasher, HashError, KeyRecord, KeyStore, ListFilter, MemoryStore, Page, PageRequest,
    SecretHasher, StoreError,
};
use keyward::{Config, Keyward, KeywardBuilder};

pub const START: u64 = 1_800_000_000;

/// The demo catalog of DESIGN.md's "Surfaces".
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

/// A store that can be switched off, and counts point lookups.
#[derive(Clone, Default)]
pub struct SwitchableStore {
    pub inner: Arc<MemoryStore>,
    pub down: Arc<AtomicBool>,
    pub gets: Arc<AtomicUsize>,
}

impl SwitchableStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::unavailable("switched off by the test"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl KeyStore for SwitchableStore {
    async fn insert(&self, record: &KeyRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert(record).await
    }
    async fn get(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        self.inner.get(id).await
    }
    async fn list(&self, filter: &ListFilter, page: PageRequest) -> Result<Page, StoreError> {
        self.check()?;
        self.inner.list(filter, page).await
    }
    async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<KeyRecord, StoreError> {
        self.check()?;
        self.inner.revoke(id, at).await
    }
    async fn set_expiry(&self, id: &KeyId, at: Option<Timestamp>) -> Result<KeyRecord, StoreError> {
        self.check()?;
        self.inner.set_expiry(id, at).await
    }
    async fn set_disabled(
        &self,
        id: &KeyId,
        at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        self.check()?;
        self.inner.set_disabled(id, at).await
    }
    async fn update_hash(&self, id: &KeyId, hash: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.update_hash(id, hash).await
    }
    async fn roll(
        &self,
        old: &KeyId,
        at: Timestamp,
        new: &KeyRecord,
    ) -> Result<KeyRecord, StoreError> {
        self.check()?;
        self.inner.roll(old, at, new).await
    }
    async fn touch_last_used(&self, updates: &[(KeyId, Timestamp)]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.touch_last_used(updates).await
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
