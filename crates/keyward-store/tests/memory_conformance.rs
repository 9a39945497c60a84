//! `MemoryStore` passes the conformance suite every `KeyStore` must pass.

use std::sync::Arc;

use async_trait::async_trait;
use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_store::{
    KeyRecord, KeyStore, ListFilter, LiveKeys, MemoryStore, Page, PageRequest, StoreError,
    UsageUpdate,
};
use keyward_testing::store_conformance as conformance;

/// `impl KeyStore for $store`, a wrapper of a `MemoryStore` (`self.0`): every required
/// method but `revoke` delegated, then `$items` (`revoke`, and the default methods the
/// wrapper delegates too). Every other method keeps the trait's default, which is what
/// these tests judge.
macro_rules! over_memory {
    ($store:ident, $($items:tt)*) => {
        #[async_trait]
        impl KeyStore for $store {
            async fn insert(&self, r: &KeyRecord) -> Result<(), StoreError> {
                self.0.insert(r).await
            }
            async fn get(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
                self.0.get(id).await
            }
            async fn list(&self, f: &ListFilter, p: PageRequest) -> Result<Page, StoreError> {
                self.0.list(f, p).await
            }
            async fn delete(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
                self.0.delete(id).await
            }
            async fn set_expiry(
                &self,
                id: &KeyId,
                at: Option<Timestamp>,
            ) -> Result<KeyRecord, StoreError> {
                self.0.set_expiry(id, at).await
            }
            async fn set_disabled(
                &self,
                id: &KeyId,
                at: Option<Timestamp>,
            ) -> Result<KeyRecord, StoreError> {
                self.0.set_disabled(id, at).await
            }
            async fn update_hash(&self, id: &KeyId, hash: &str) -> Result<(), StoreError> {
                self.0.update_hash(id, hash).await
            }
            async fn roll(
                &self,
                old: &KeyId,
                at: Timestamp,
                new: &KeyRecord,
                now: Timestamp,
            ) -> Result<KeyRecord, StoreError> {
                self.0.roll(old, at, new, now).await
            }
            async fn touch_last_used(&self, u: &[(KeyId, Timestamp)]) -> Result<(), StoreError> {
                self.0.touch_last_used(u).await
            }
            $($items)*
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    conformance::run(Arc::new(MemoryStore::new())).await;
}

/// The suite must not assume an empty store: a second run over the first run's
/// leftovers (as when test binaries share one database) passes too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_runs_twice_on_one_store() {
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    conformance::run(Arc::clone(&store)).await;
    conformance::run(store).await;
}

/// A store that breaks the contract fails the suite with a message naming the check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "conformance check `revoke_is_idempotent`")]
async fn a_broken_store_fails_with_the_check_name() {
    /// Delegates to a `MemoryStore`, except that revoking again moves `revoked_at`.
    struct LastRevokeWins(MemoryStore);

    over_memory! {
        LastRevokeWins,
        async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<KeyRecord, StoreError> {
            self.0.revoke(id, at).await?;
            let mut r = self.0.get(id).await?;
            r.revoked_at = Some(at);
            Ok(r)
        }
    }

    conformance::run(Arc::new(LastRevokeWins(MemoryStore::new()))).await;
}

/// A store without an audit log (the trait's defaults) passes every other check and
/// fails the audit group, which runs last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "conformance check `audit_append_assigns_increasing_seq`")]
async fn a_store_without_an_audit_log_fails_the_audit_checks() {
    /// Delegates every key method to a `MemoryStore`; keeps the audit defaults.
    struct NoAuditLog(MemoryStore);

    over_memory! {
        NoAuditLog,
        async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<KeyRecord, StoreError> {
            self.0.revoke(id, at).await
        }
        async fn record_usage(&self, u: &[UsageUpdate]) -> Result<(), StoreError> {
            self.0.record_usage(u).await
        }
        async fn count_live(&self, owner: &str, now: Timestamp) -> Result<LiveKeys, StoreError> {
            self.0.count_live(owner, now).await
        }
        async fn insert_capped(
            &self,
            r: &KeyRecord,
            max_live: u64,
            now: Timestamp,
        ) -> Result<(), StoreError> {
            self.0.insert_capped(r, max_live, now).await
        }
    }

    conformance::run(Arc::new(NoAuditLog(MemoryStore::new()))).await;
}

/// A store written before usage was recorded (the trait's `record_usage` default, which
/// only touches `last_used_at`) keeps working, and fails the usage check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "conformance check `record_usage_unions_and_never_goes_back`")]
async fn a_store_keeping_the_usage_default_fails_the_usage_check() {
    use keyward_testing::store_conformance::{fresh_id, sample_record};

    /// Delegates the required methods to a `MemoryStore`; keeps every default.
    struct Older(MemoryStore);

    over_memory! {
        Older,
        async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<KeyRecord, StoreError> {
            self.0.revoke(id, at).await
        }
    }

    let older = Older(MemoryStore::new());
    let record = sample_record(fresh_id(), "o", Timestamp::from_unix_millis(0));
    older.insert(&record).await.unwrap();
    let used = UsageUpdate {
        id: record.id,
        last_used_at: Timestamp::from_unix_millis(7),
        used: vec!["keys:read".to_owned()],
    };
    older.record_usage(&[used]).await.unwrap();
    let got = older.get(&record.id).await.unwrap();
    assert_eq!(got.last_used_at, Some(Timestamp::from_unix_millis(7)));
    assert!(got.used_capabilities.is_empty());

    let store: Arc<dyn KeyStore> = Arc::new(older);
    conformance::record_usage_unions_and_never_goes_back(&store).await;
}
