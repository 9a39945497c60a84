//! A key store that can be switched off.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use keyward::clock::Timestamp;
use keyward::format::KeyId;
use keyward::store::{KeyRecord, KeyStore, ListFilter, MemoryStore, Page, PageRequest, StoreError};

/// A memory store that answers every call with "unavailable" while `down` is set.
#[derive(Clone, Default)]
pub struct SwitchableStore {
    /// The records.
    pub inner: Arc<MemoryStore>,
    /// Set to switch the store off.
    pub down: Arc<AtomicBool>,
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
