//! The verification cache: everything the hot path needs for a key, in one entry.
//!
//! One table lookup per request, then the entry (see [`crate::key_table`] for why that
//! is two memory reads and not three). Only keys whose secret verified are cached, so
//! unknown ids and wrong secrets cannot grow it; it is bounded by
//! [`crate::Config::cache_capacity`].

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyward_clock::Timestamp;
use keyward_format::KeyId;
use metrics::Gauge;

use crate::digest::Digest;
use crate::error::AuthError;
use crate::key_table::{KeyTable, Keyed};
use crate::principal::{KeyInfo, PendingUse, Principal};

/// A verified key: the digest of its secret and what the request needs, shared with
/// the principals handed out for it.
#[derive(Clone)]
pub(crate) struct CacheEntry(Arc<KeyInfo>);

impl Keyed for CacheEntry {
    #[inline]
    fn key_id(&self) -> &KeyId {
        &self.0.id
    }
}

impl CacheEntry {
    pub(crate) fn new(key: KeyInfo) -> Self {
        CacheEntry(Arc::new(key))
    }

    pub(crate) fn key(&self) -> &KeyInfo {
        &self.0
    }

    pub(crate) fn digest(&self) -> &Digest {
        &self.0.digest
    }

    /// Starts loading every line of the entry a request reads, so the memory misses
    /// run in parallel with whatever the request does next instead of one by one.
    #[inline]
    pub(crate) fn prefetch(&self) {
        let key = &*self.0;
        std::hint::black_box((
            key.digest,
            key.expires_at_nanos,
            key.revoked,
            key.quota.is_some(),
        ));
    }

    /// The per-request checks after the secret matched: state, then IP allowlist.
    /// `unused_after` is [`crate::Config::expire_unused_after`].
    #[inline]
    pub(crate) fn admit(
        &self,
        now: Timestamp,
        client_ip: IpAddr,
        unused_after: Option<Duration>,
    ) -> Result<Principal, AuthError> {
        let key = &*self.0;
        if key.revoked {
            return Err(AuthError::KeyRevoked);
        }
        if key.disabled {
            return Err(AuthError::KeyDisabled);
        }
        if key.expires_at_nanos <= now.as_unix_nanos() {
            return Err(AuthError::KeyExpired);
        }
        if let Some(after) = unused_after
            && key.unused_for(after, now)
        {
            return Err(AuthError::KeyExpired);
        }
        if key.has_ip_allowlist && !key.ip_allowlist.allows(client_ip) {
            return Err(AuthError::IpNotAllowed);
        }
        key.mark_used(now);
        Ok(Principal::new(Arc::clone(&self.0)))
    }

    pub(crate) fn loaded_at(&self) -> Timestamp {
        Timestamp::from_unix_nanos(self.0.loaded_at_nanos.load(Ordering::Relaxed))
    }

    /// Counts the entry as read from the store at `at` (a refresh that could not reach
    /// the store keeps serving it), unless it was invalidated: a change was reported
    /// (loaded at 0), and only a store read may clear that, or the change would wait a
    /// whole refresh interval after the store is back.
    /// Whether a change made elsewhere (or a load racing one) marked the entry: its
    /// record must be read again before it serves.
    pub(crate) fn is_invalidated(&self) -> bool {
        self.0.loaded_at_nanos.load(Ordering::Relaxed) == 0
    }

    pub(crate) fn set_loaded_at(&self, at: Timestamp) {
        let at = at.as_unix_nanos();
        let keep_invalidated = |loaded: u64| (loaded != 0).then_some(at);
        let _ = self.0.loaded_at_nanos.fetch_update(
            Ordering::Relaxed,
            Ordering::Relaxed,
            keep_invalidated,
        );
    }
}

pub(crate) struct VerificationCache {
    table: KeyTable<CacheEntry>,
    capacity: usize,
    /// Usage of entries evicted before it was flushed.
    evicted_usage: Mutex<Vec<(KeyId, PendingUse)>>,
    /// Bumped by every invalidation (evict, mark stale, clear), before it takes effect.
    /// A load reads it before its store read: if it moved by the time the entry is in,
    /// the record may predate a revoke, so the entry goes in stale (see [`Self::insert_loaded`]).
    generation: AtomicU64,
    /// `keyward_cache_entries`, set whenever the table grows or shrinks.
    entries: Gauge,
}

impl VerificationCache {
    pub(crate) fn new(capacity: usize, entries: Gauge) -> Self {
        VerificationCache {
            table: KeyTable::new(),
            capacity,
            evicted_usage: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
            entries,
        }
    }

    fn count_entries(&self) {
        self.entries.set(self.table.len() as f64);
    }

    /// The latest use of `id` not yet flushed to the store, whole seconds: from its
    /// entry, or from an evicted entry's usage waiting for the next flush.
    pub(crate) fn unflushed_use(&self, id: &KeyId) -> Option<u32> {
        let cached = self
            .table
            .with(id, |entry| entry.map(|e| e.key().last_used_secs()))
            .filter(|&secs| secs != 0);
        let evicted = self.evicted_usage.lock().ok().and_then(|pending| {
            pending
                .iter()
                .filter(|(used, _)| used == id)
                .map(|(_, pending)| u32::try_from(pending.at.as_unix_seconds()).unwrap_or(u32::MAX))
                .max()
        });
        cached.max(evicted)
    }

    /// The capabilities requests recorded for `id` in this process: its entry's, and
    /// those of evicted entries waiting for the next flush.
    pub(crate) fn unflushed_capabilities(&self, id: &KeyId) -> keyward_scope::CapabilitySet {
        let mut used = self
            .table
            .with(id, |entry| entry.map(|e| e.key().used_capabilities()))
            .unwrap_or_default();
        if let Ok(pending) = self.evicted_usage.lock() {
            for (_, evicted) in pending.iter().filter(|(used, _)| used == id) {
                used |= evicted.capabilities;
            }
        }
        used
    }

    /// The invalidation generation; read it before the store read a load caches.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Inserts an entry loaded from a store read made after [`Self::generation`] returned
    /// `seen`. Had any invalidation started since, the record may be older than a revoke
    /// whose eviction ran before this insert, and the entry would wrongly serve until its
    /// refresh: it is then left stale, so its next request re-reads the store (no slow
    /// hash). Checking after the insert closes the gap: an invalidation either bumped the
    /// generation before this check or removes the entry after it.
    pub(crate) fn insert_loaded(&self, entry: CacheEntry, seen: u64) {
        let id = *entry.key_id();
        self.insert(entry);
        if self.generation() != seen {
            self.mark_stale_now(&id);
        }
    }

    fn invalidating(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Calls `f` with the entry for `id` (the hot path: no reference count is taken
    /// unless `f` takes one). `f` must not call back into the cache.
    #[inline]
    pub(crate) fn with<R>(&self, id: &KeyId, f: impl FnOnce(Option<&CacheEntry>) -> R) -> R {
        self.table.with(id, f)
    }

    pub(crate) fn get(&self, id: &KeyId) -> Option<CacheEntry> {
        self.table.with(id, |entry| entry.cloned())
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    pub(crate) fn insert(&self, entry: CacheEntry) {
        let present = self.table.with(entry.key_id(), |e| e.is_some());
        if !present && self.table.len() >= self.capacity {
            // An arbitrary 1/64 of the entries (at least one), so a full cache does
            // not evict on every insert.
            let evicted = self.table.remove_some((self.capacity / 64).max(1));
            evicted.iter().for_each(|old| self.keep_usage(old));
        }
        if let Some(old) = self.table.insert(entry) {
            self.keep_usage(&old);
        }
        self.count_entries();
    }

    pub(crate) fn evict(&self, id: &KeyId) {
        self.invalidating();
        if let Some(old) = self.table.remove(id) {
            self.keep_usage(&old);
            self.count_entries();
        }
    }

    /// Makes `id`'s entry due for a refresh from the store on its next use.
    pub(crate) fn mark_stale(&self, id: &KeyId) {
        self.invalidating();
        self.mark_stale_now(id);
    }

    fn mark_stale_now(&self, id: &KeyId) {
        self.table.with(id, |entry| {
            if let Some(entry) = entry {
                entry.set_loaded_at(Timestamp::from_unix_nanos(0));
            }
        });
    }

    /// Evicts every entry whose key belongs to `owner`.
    pub(crate) fn evict_owner(&self, owner: &str) {
        self.invalidating();
        for old in self.table.remove_where(|e| e.key().owner == owner) {
            self.keep_usage(&old);
        }
        self.count_entries();
    }

    pub(crate) fn clear(&self) {
        self.invalidating();
        for old in self.table.remove_where(|_| true) {
            self.keep_usage(&old);
        }
        self.count_entries();
    }

    fn keep_usage(&self, entry: &CacheEntry) {
        if let Some(usage) = entry.key().take_usage()
            && let Ok(mut pending) = self.evicted_usage.lock()
        {
            pending.push((*entry.key_id(), usage));
        }
    }

    /// Every use not yet flushed, marked as flushed.
    pub(crate) fn take_usage(&self) -> Vec<(KeyId, PendingUse)> {
        let mut batch = self
            .evicted_usage
            .lock()
            .map(|mut pending| std::mem::take(&mut *pending))
            .unwrap_or_default();
        self.table.for_each(|entry| {
            if let Some(usage) = entry.key().take_usage() {
                batch.push((*entry.key_id(), usage));
            }
        });
        batch
    }

    /// Puts back a batch whose flush failed, to be tried again.
    pub(crate) fn restore_usage(&self, batch: Vec<(KeyId, PendingUse)>) {
        if let Ok(mut pending) = self.evicted_usage.lock() {
            pending.extend(batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::mem::{offset_of, size_of};

    use super::*;

    /// The layout the hot path was measured with: everything a request reads of a key
    /// sits in the first 144 bytes of `KeyInfo`, right after the `Arc`'s 16 bytes of
    /// counters, so at most three cache lines, all loaded at once by `prefetch`.
    #[test]
    fn hot_data_is_at_the_front_of_the_entry() {
        assert_eq!(size_of::<CacheEntry>(), 8);
        for end in [
            offset_of!(KeyInfo, digest) + size_of::<Digest>(),
            offset_of!(KeyInfo, capabilities) + 32,
            offset_of!(KeyInfo, expires_at_nanos) + 8,
            offset_of!(KeyInfo, loaded_at_nanos) + 8,
            offset_of!(KeyInfo, id) + 12,
            offset_of!(KeyInfo, last_used_secs) + 4,
            offset_of!(KeyInfo, revoked) + 1,
            offset_of!(KeyInfo, disabled) + 1,
            offset_of!(KeyInfo, has_ip_allowlist) + 1,
            offset_of!(KeyInfo, unused_since_secs) + 4,
            offset_of!(KeyInfo, quota) + size_of::<Option<keyward_limit::Quota>>(),
        ] {
            assert!(end <= 144, "a hot field ends at byte {end} of KeyInfo");
        }
    }
}
