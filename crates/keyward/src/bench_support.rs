//! The verification cache's table, reachable from `benches/cache.rs` so that it can be
//! measured against `DashMap` in one run. Hidden and unstable: not part of the API.

use std::sync::Arc;

use keyward_format::KeyId;

use crate::key_table::{KeyTable, Keyed};

/// An entry filed under its key id, behind an `Arc` as the cache's entries are, so a
/// lookup reads the table and then the entry.
struct Filed<T> {
    id: KeyId,
    value: T,
}

impl<T> Keyed for Arc<Filed<T>> {
    #[inline]
    fn key_id(&self) -> &KeyId {
        &self.id
    }
}

/// The cache's concurrent table from key id to a shared `T`.
pub struct CacheTable<T>(KeyTable<Arc<Filed<T>>>);

impl<T> Default for CacheTable<T> {
    fn default() -> Self {
        CacheTable(KeyTable::new())
    }
}

impl<T> CacheTable<T> {
    /// An empty table sharded as the cache's is.
    pub fn new() -> Self {
        Self::default()
    }

    /// Files `value` under `id`, replacing any entry there.
    pub fn insert(&self, id: KeyId, value: T) {
        self.0.insert(Arc::new(Filed { id, value }));
    }

    /// Calls `f` with the value under `id`, under its shard's read lock.
    #[inline]
    pub fn with<R>(&self, id: &KeyId, f: impl FnOnce(Option<&T>) -> R) -> R {
        self.0.with(id, |entry| f(entry.map(|e| &e.value)))
    }

    /// How many entries the table holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filed_value_is_found_under_its_id_only() {
        let table = CacheTable::new();
        let id: KeyId = "AbCd12345678".parse().unwrap();
        let other: KeyId = "AbCd12345679".parse().unwrap();
        table.insert(id, 7_u64);
        assert_eq!(table.with(&id, |v| v.copied()), Some(7));
        assert_eq!(table.with(&other, |v| v.copied()), None);
        assert_eq!(table.len(), 1);
    }
}
