//! The verification cache: everything the hot path needs for a key, in one entry.
//!
//! One map lookup per request (each extra lookup is a memory miss at scale). Only keys
//! whose secret verified are cached, so unknown ids and wrong secrets cannot grow it;
//! it is bounded by [`crate::Config::cache_capacity`].

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dashmap::DashMap;
use keyward_clock::Timestamp;
use keyward_format::KeyId;

use crate::digest::Digest;
use crate::error::AuthError;
use crate::principal::{KeyInfo, Principal};

/// A verified key: the digest of its secret and what the request needs. Small enough
/// that, with its id, it fills one 64-byte map slot.
pub(crate) struct CacheEntry {
    pub(crate) digest: Digest,
    pub(crate) key: Arc<KeyInfo>,
    /// When the record was last read from the store (nanos).
    pub(crate) loaded_at: AtomicU64,
}

impl CacheEntry {
    pub(crate) fn new(digest: Digest, key: Arc<KeyInfo>, now: Timestamp) -> Self {
        CacheEntry {
            digest,
            key,
            loaded_at: AtomicU64::new(now.as_unix_nanos()),
        }
    }

    /// The per-request checks after the secret matched: state, then IP allowlist.
    #[inline]
    pub(crate) fn admit(&self, now: Timestamp, client_ip: IpAddr) -> Result<Principal, AuthError> {
        let key = &*self.key;
        if key.revoked {
            return Err(AuthError::KeyRevoked);
        }
        if key.disabled {
            return Err(AuthError::KeyDisabled);
        }
        if key.expires_at_nanos <= now.as_unix_nanos() {
            return Err(AuthError::KeyExpired);
        }
        if key.has_ip_allowlist && !key.ip_allowlist.allows(client_ip) {
            return Err(AuthError::IpNotAllowed);
        }
        key.mark_used(now);
        Ok(Principal::new(Arc::clone(&self.key)))
    }

    pub(crate) fn loaded_at(&self) -> Timestamp {
        Timestamp::from_unix_nanos(self.loaded_at.load(Ordering::Relaxed))
    }

    fn take_usage(&self) -> Option<Timestamp> {
        self.key.take_usage()
    }
}

pub(crate) struct VerificationCache {
    map: DashMap<KeyId, CacheEntry, foldhash::fast::RandomState>,
    capacity: usize,
    /// Usage of entries evicted before it was flushed.
    evicted_usage: Mutex<Vec<(KeyId, Timestamp)>>,
}

impl VerificationCache {
    pub(crate) fn new(capacity: usize) -> Self {
        VerificationCache {
            map: DashMap::default(),
            capacity,
            evicted_usage: Mutex::new(Vec::new()),
        }
    }

    #[inline]
    pub(crate) fn get(
        &self,
        id: &KeyId,
    ) -> Option<dashmap::mapref::one::Ref<'_, KeyId, CacheEntry>> {
        // foldhash, seeded per process: ~10 ns less than SipHash here. Key ids come from
        // clients, but only verified keys are ever inserted, so a client cannot build
        // collision chains; unknown ids only probe.
        self.map.get(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn insert(&self, id: KeyId, entry: CacheEntry) {
        if !self.map.contains_key(&id) && self.map.len() >= self.capacity {
            self.make_room();
        }
        if let Some(old) = self.map.insert(id, entry) {
            self.keep_usage(id, &old);
        }
    }

    /// Drops an arbitrary 1/64 of the entries (at least one). Shard and hash order is
    /// unrelated to use, so this approximates random eviction without bookkeeping on
    /// the hot path.
    fn make_room(&self) {
        let victims = (self.capacity / 64).max(1);
        let ids: Vec<KeyId> = self.map.iter().take(victims).map(|e| *e.key()).collect();
        for id in ids {
            self.evict(&id);
        }
    }

    pub(crate) fn evict(&self, id: &KeyId) {
        if let Some((id, old)) = self.map.remove(id) {
            self.keep_usage(id, &old);
        }
    }

    /// Makes `id`'s entry due for a refresh from the store on its next use.
    pub(crate) fn mark_stale(&self, id: &KeyId) {
        if let Some(entry) = self.map.get(id) {
            entry.loaded_at.store(0, Ordering::Relaxed);
        }
    }

    /// Evicts every entry whose key belongs to `owner`.
    pub(crate) fn evict_owner(&self, owner: &str) {
        let ids: Vec<KeyId> = self
            .map
            .iter()
            .filter(|e| e.key.owner == owner)
            .map(|e| *e.key())
            .collect();
        for id in ids {
            self.evict(&id);
        }
    }

    pub(crate) fn clear(&self) {
        let ids: Vec<KeyId> = self.map.iter().map(|e| *e.key()).collect();
        for id in ids {
            self.evict(&id);
        }
    }

    fn keep_usage(&self, id: KeyId, entry: &CacheEntry) {
        if let Some(at) = entry.take_usage()
            && let Ok(mut pending) = self.evicted_usage.lock()
        {
            pending.push((id, at));
        }
    }

    /// Every use not yet flushed, marked as flushed.
    pub(crate) fn take_usage(&self) -> Vec<(KeyId, Timestamp)> {
        let mut batch = self
            .evicted_usage
            .lock()
            .map(|mut pending| std::mem::take(&mut *pending))
            .unwrap_or_default();
        for entry in self.map.iter() {
            if let Some(at) = entry.take_usage() {
                batch.push((*entry.key(), at));
            }
        }
        batch
    }

    /// Puts back a batch whose flush failed, to be tried again.
    pub(crate) fn restore_usage(&self, batch: Vec<(KeyId, Timestamp)>) {
        if let Ok(mut pending) = self.evicted_usage.lock() {
            pending.extend(batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::mem::{offset_of, size_of};

    use super::*;

    /// The layout the hot path was measured with: an entry and its id fill one 64-byte
    /// map slot, and everything a request reads of a key sits in `KeyInfo`'s first
    /// cache line (which, being 64-aligned, follows the `Arc`'s counters' line).
    #[test]
    fn hot_data_fits_in_one_cache_line() {
        assert!(size_of::<KeyId>() + size_of::<CacheEntry>() <= 64);
        assert_eq!(std::mem::align_of::<KeyInfo>(), 64);
        for end in [
            offset_of!(KeyInfo, capabilities) + 32,
            offset_of!(KeyInfo, expires_at_nanos) + 8,
            offset_of!(KeyInfo, last_used_secs) + 4,
            offset_of!(KeyInfo, revoked) + 1,
            offset_of!(KeyInfo, disabled) + 1,
            offset_of!(KeyInfo, has_ip_allowlist) + 1,
        ] {
            assert!(end <= 64, "a hot field ends at byte {end} of KeyInfo");
        }
    }
}
