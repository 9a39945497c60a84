//! What the authenticator and the key service share.

use std::sync::Arc;

use keyward_clock::{Clock, Timestamp};
use keyward_format::{KeyFormat, KeyId};
use keyward_hash::SecretHasher;
use keyward_scope::{CapabilitySet, Catalog};
use keyward_store::{KeyRecord, KeyStore, Subscription};

use crate::cache::{CacheEntry, VerificationCache};
use crate::client_slots::ClientSlots;
use crate::config::Config;
use crate::digest::{Digest, DigestKey};
use crate::error::AuthError;
use crate::events::Events;
use crate::hash_pool::HashPool;
use crate::key_cooldown::KeyCooldown;
use crate::limits::Limits;
use crate::lockout_watch::TrackedClients;
use crate::metrics::Metrics;
use crate::owner::OwnerPermissions;
use crate::principal::KeyInfo;
use crate::refusal_log::RefusalLog;
use crate::registry::Registry;

/// The store, hasher, clock, cache and limits that an [`crate::Authenticator`] and a
/// [`crate::KeyService`] built by one [`crate::Keyward`] share.
pub(crate) struct Core {
    pub(crate) format: KeyFormat,
    pub(crate) catalog: Catalog,
    pub(crate) store: Arc<dyn KeyStore>,
    pub(crate) hasher: Arc<dyn SecretHasher>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) owners: Option<Arc<dyn OwnerPermissions>>,
    pub(crate) config: Config,
    pub(crate) cache: VerificationCache,
    pub(crate) digest_key: DigestKey,
    /// One lock per key id being verified, so concurrent first requests for a key
    /// run the slow hash once. Entries live only while a request holds or awaits one.
    pub(crate) inflight: Registry<KeyId, tokio::sync::Mutex<()>>,
    pub(crate) hashes: HashPool,
    pub(crate) client_slots: ClientSlots,
    pub(crate) key_cooldown: KeyCooldown,
    pub(crate) refusal_log: RefusalLog,
    pub(crate) limits: Limits,
    /// Where events go; nowhere (one branch) unless a sink is configured.
    pub(crate) events: Events,
    /// The request path's metric handles, registered by `build`.
    pub(crate) metrics: Metrics,
    /// The in-memory lockout's table, for `keyward_lockout_tracked_clients`.
    pub(crate) lockout_table: Option<TrackedClients>,
    /// Delivery of other processes' invalidations into `cache`, held (never read) so it
    /// ends with the core; its sink holds only a `Weak` to the core.
    pub(crate) _invalidations: Option<Subscription>,
}

impl Core {
    /// Runs a slow hash on the blocking pool, at most `max_concurrent_hashes` at once,
    /// however long the wait (mints and re-hashes; verifications use the bounded queue).
    pub(crate) async fn run_hash<T, F>(&self, f: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SecretHasher) -> T + Send + 'static,
    {
        self.hashes.run(f).await.ok()
    }

    /// The effective capabilities of `record`: its grants with what they imply and the
    /// implicit grants, narrowed to its owner's when owner permissions are configured.
    pub(crate) async fn effective_capabilities(
        &self,
        record: &KeyRecord,
    ) -> Result<CapabilitySet, AuthError> {
        let granted = self.granted_set(record);
        let mut effective = self.catalog.effective(&granted);
        if let Some(owners) = &self.owners {
            let held = owners.capabilities(&record.owner).await.map_err(|e| {
                tracing::warn!(target: "keyward", error = %e, "owner permission lookup failed");
                self.unavailable()
            })?;
            effective = effective.intersection(&self.catalog.effective(&held));
        }
        Ok(effective)
    }

    /// The record's granted names as a set. A name the catalog no longer declares
    /// grants nothing (and is logged): stored keys outlive catalog changes.
    fn granted_set(&self, record: &KeyRecord) -> CapabilitySet {
        let mut set = CapabilitySet::EMPTY;
        for name in &record.capabilities {
            match self.catalog.capability(name) {
                Some(c) => {
                    set.insert(c);
                }
                None => tracing::warn!(
                    target: "keyward",
                    key_id = %record.id,
                    capability = %name,
                    "stored key names a capability the catalog does not declare; ignored"
                ),
            }
        }
        set
    }

    pub(crate) fn cache_entry(
        &self,
        record: &KeyRecord,
        digest: Digest,
        effective: CapabilitySet,
        now: Timestamp,
    ) -> CacheEntry {
        let mut key = KeyInfo::from_record(record, effective, digest, now);
        if self.config.record_capability_usage {
            let stored = crate::least_privilege::declared(&self.catalog, &record.used_capabilities);
            key.record_use_from(stored);
        }
        if self.config.expire_unused_after.is_some() {
            // A use this process has not flushed yet is as good as a stored one.
            if let Some(used) = self.cache.unflushed_use(&record.id) {
                key.unused_since_secs = key.unused_since_secs.max(used);
            }
        }
        CacheEntry::new(key)
    }

    /// Sets the gauges that are not kept current as they change (the lockout's table
    /// is swept by the guard itself): on each usage flush.
    pub(crate) fn refresh_gauges(&self) {
        self.metrics.cache_entries.set(self.cache.len() as f64);
        if let Some(table) = &self.lockout_table {
            self.metrics.lockout_tracked.set(table.tracked() as f64);
        }
    }

    pub(crate) fn unavailable(&self) -> AuthError {
        AuthError::Unavailable {
            retry_after: self.config.unavailable_retry_after,
        }
    }
}
