//! [`SwitchableStore`]: a memory store a test can switch off, to see what a service does
//! while its store is unreachable.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use keyward_clock::Timestamp;
use keyward_format::KeyId;

use keyward_store::{
    AuditEntry, AuditQuery, KeyChange, KeyRecord, KeyStore, ListFilter, LiveKeys, MemoryStore,
    Page, PageRequest, StoreError, UsageUpdate,
};

/// A [`MemoryStore`] that answers every call [`StoreError::Unavailable`] while `down`
/// is set, and counts point lookups (to prove a cached path never reaches the store).
///
/// ```
/// use std::sync::atomic::Ordering;
/// use keyward_store::{KeyStore, StoreError};
/// use keyward_testing::SwitchableStore;
/// use keyward_testing::store_conformance::fresh_id;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = SwitchableStore::default();
/// store.down.store(true, Ordering::SeqCst);
/// assert!(matches!(store.get(&fresh_id()).await, Err(StoreError::Unavailable(_))));
/// assert_eq!(store.gets.load(Ordering::SeqCst), 1);
/// # });
/// ```
#[derive(Clone, Default)]
pub struct SwitchableStore {
    /// The records, reachable directly (as another process would change them).
    pub inner: Arc<MemoryStore>,
    /// Set to switch the store off.
    pub down: Arc<AtomicBool>,
    /// Point lookups (`get`) so far, answered or not.
    pub gets: Arc<AtomicUsize>,
    /// Set to have `roll` revoke the old key first, as another process would while the
    /// replacement is being hashed.
    pub revoke_before_roll: Arc<AtomicBool>,
    /// Run once by the next `get`, after it read its answer and before it returns it:
    /// a change committed by someone else just after the read (see [`AfterGet`]).
    pub after_get: Arc<Mutex<Option<AfterGet>>>,
}

/// A one-shot step a [`SwitchableStore`] runs inside its next `get`, between reading the
/// record and returning it, e.g. a revoke through the key service, so a test can place a
/// change exactly in the window between a verification's store read and its cache insert.
pub type AfterGet = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

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
        let answer = self.inner.get(id).await;
        let step = self
            .after_get
            .lock()
            .map(|mut s| s.take())
            .unwrap_or_default();
        if let Some(step) = step {
            step().await;
        }
        answer
    }
    async fn list(&self, filter: &ListFilter, page: PageRequest) -> Result<Page, StoreError> {
        self.check()?;
        self.inner.list(filter, page).await
    }
    async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<KeyRecord, StoreError> {
        self.check()?;
        self.inner.revoke(id, at).await
    }
    async fn delete(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        self.check()?;
        self.inner.delete(id).await
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
        now: Timestamp,
    ) -> Result<KeyRecord, StoreError> {
        self.check()?;
        if self.revoke_before_roll.load(Ordering::SeqCst) {
            self.inner.revoke(old, now).await?;
        }
        self.inner.roll(old, at, new, now).await
    }
    async fn touch_last_used(&self, updates: &[(KeyId, Timestamp)]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.touch_last_used(updates).await
    }
    async fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.record_usage(updates).await
    }
    async fn count_live(&self, owner: &str, now: Timestamp) -> Result<LiveKeys, StoreError> {
        self.check()?;
        self.inner.count_live(owner, now).await
    }
    async fn insert_capped(
        &self,
        record: &KeyRecord,
        max_live: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_capped(record, max_live, now).await
    }
    async fn apply(
        &self,
        change: KeyChange<'_>,
        audit: Option<&AuditEntry>,
    ) -> Result<KeyRecord, StoreError> {
        self.check()?;
        if let KeyChange::Roll { old, now, .. } = change
            && self.revoke_before_roll.load(Ordering::SeqCst)
        {
            self.inner.revoke(old, now).await?;
        }
        self.inner.apply(change, audit).await
    }
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.check()?;
        self.inner.append_audit(entry).await
    }
    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.check()?;
        self.inner.list_audit(query).await
    }
    async fn prune_audit(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.prune_audit(before).await
    }
}

#[cfg(test)]
mod tests {
    use keyward_store::{Actor, AuditAction};

    use super::*;
    use crate::store_conformance::{self, fresh_id};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forwards_every_call_and_passes_the_suite() {
        store_conformance::run(Arc::new(SwitchableStore::default())).await;
    }

    #[tokio::test]
    async fn the_audit_log_is_unreachable_while_switched_off() {
        let store = SwitchableStore::default();
        let entry = AuditEntry::new(
            Timestamp::from_unix_millis(1),
            AuditAction::Revoked,
            fresh_id(),
            Actor::Cli,
        );
        store.append_audit(&entry).await.unwrap();
        store.down.store(true, Ordering::SeqCst);
        let down = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Unavailable(_)));
        assert!(down(store.append_audit(&entry).await));
        assert!(down(store.list_audit(&AuditQuery::all(1)).await.map(drop)));
        assert!(down(store.prune_audit(entry.at).await.map(drop)));
        let change = KeyChange::Revoke {
            id: &entry.key,
            at: entry.at,
        };
        assert!(down(store.apply(change, Some(&entry)).await.map(drop)));
        store.down.store(false, Ordering::SeqCst);
        assert_eq!(
            store.list_audit(&AuditQuery::all(10)).await.unwrap().len(),
            1
        );
    }
}
