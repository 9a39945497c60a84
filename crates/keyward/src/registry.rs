//! [`Registry`]: entries that exist only while someone holds a [`Ticket`] for them.

use std::hash::Hash;
use std::ops::Deref;
use std::sync::Arc;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

/// A map whose entries live exactly as long as their tickets.
///
/// [`join`](Registry::join) finds or creates the entry for a key and hands out a
/// [`Ticket`]; the last ticket of a key to drop removes its entry, whether its request
/// finished or was cancelled mid-wait. Every clone and every release of an entry's `Arc`
/// happens under the map's shard lock, so "am I the last holder" is never raced.
pub(crate) struct Registry<K: Eq + Hash, V> {
    map: DashMap<K, Arc<V>>,
}

/// A hold on one registry entry; derefs to its value. `R` is how the registry is
/// held: borrowed, or an `Arc` for a ticket that must outlive the borrow.
pub(crate) struct Ticket<R, K, V>
where
    R: Deref<Target = Registry<K, V>>,
    K: Eq + Hash + Clone,
{
    registry: R,
    key: K,
    value: Option<Arc<V>>,
}

impl<K: Eq + Hash + Clone, V: Default> Registry<K, V> {
    pub(crate) fn new() -> Self {
        Registry {
            map: DashMap::new(),
        }
    }

    /// A ticket for `key`'s entry, created empty when nobody holds one.
    pub(crate) fn join(&self, key: K) -> Ticket<&Self, K, V> {
        let value = self.value_of(&key);
        Ticket {
            registry: self,
            key,
            value: Some(value),
        }
    }

    /// [`join`](Self::join) for a ticket that owns its hold on the registry.
    pub(crate) fn join_owned(self: &Arc<Self>, key: K) -> Ticket<Arc<Self>, K, V> {
        let value = self.value_of(&key);
        Ticket {
            registry: Arc::clone(self),
            key,
            value: Some(value),
        }
    }

    fn value_of(&self, key: &K) -> Arc<V> {
        Arc::clone(self.map.entry(key.clone()).or_default().value())
    }

    /// Entries held right now.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

impl<R, K, V> Deref for Ticket<R, K, V>
where
    R: Deref<Target = Registry<K, V>>,
    K: Eq + Hash + Clone,
{
    type Target = V;

    fn deref(&self) -> &V {
        self.value
            .as_deref()
            .expect("a ticket holds its value until dropped")
    }
}

impl<R, K, V> Drop for Ticket<R, K, V>
where
    R: Deref<Target = Registry<K, V>>,
    K: Eq + Hash + Clone,
{
    fn drop(&mut self) {
        let Some(mine) = self.value.take() else {
            return;
        };
        if let Entry::Occupied(entry) = self.registry.map.entry(self.key.clone()) {
            let same = Arc::ptr_eq(entry.get(), &mine);
            drop(mine);
            if same && Arc::strong_count(entry.get()) == 1 {
                entry.remove();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn the_last_ticket_removes_the_entry() {
        let registry: Registry<u32, AtomicUsize> = Registry::new();
        let a = registry.join(1);
        let b = registry.join(1);
        a.fetch_add(1, Ordering::SeqCst);
        assert_eq!(b.load(Ordering::SeqCst), 1, "both tickets share one value");
        drop(a);
        assert_eq!(registry.len(), 1);
        drop(b);
        assert_eq!(registry.len(), 0);
        assert_eq!(registry.join(1).load(Ordering::SeqCst), 0, "a fresh entry");
    }

    #[test]
    fn tickets_dropped_from_many_threads_leave_nothing() {
        let registry: Registry<u32, AtomicUsize> = Registry::new();
        std::thread::scope(|s| {
            for t in 0..4 {
                let registry = &registry;
                s.spawn(move || {
                    for i in 0..5_000u32 {
                        let ticket = registry.join(i % 7 + t);
                        ticket.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(registry.len(), 0);
    }
}
