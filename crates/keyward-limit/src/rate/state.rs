//! The keyed GCRA state: one `AtomicU64` TAT per key in a `DashMap`.
//!
//! Keys of up to [`INLINE_KEY_LEN`] bytes (every keyward key id) are stored inline in
//! the map's slot, so tracking a key allocates nothing beyond the table itself and a
//! lookup compares bytes without chasing a pointer. Longer keys go on the heap.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

/// Longest key stored without a heap allocation.
pub(crate) const INLINE_KEY_LEN: usize = 22;

/// A map key: the bytes of a rate-limit key, inline when short.
#[derive(Clone)]
pub(crate) enum KeyBytes {
    Inline {
        len: u8,
        bytes: [u8; INLINE_KEY_LEN],
    },
    Heap(Box<[u8]>),
}

impl KeyBytes {
    pub(crate) fn new(key: &[u8]) -> Self {
        if key.len() <= INLINE_KEY_LEN {
            let mut bytes = [0; INLINE_KEY_LEN];
            bytes[..key.len()].copy_from_slice(key);
            KeyBytes::Inline {
                len: key.len() as u8,
                bytes,
            }
        } else {
            KeyBytes::Heap(key.into())
        }
    }

    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            KeyBytes::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeyBytes::Heap(b) => b,
        }
    }
}

// Hash and Eq go through the byte slice, so `map.get(&[u8])` finds a `KeyBytes`.
impl Hash for KeyBytes {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for KeyBytes {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for KeyBytes {}

impl Borrow<[u8]> for KeyBytes {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Marks a slot inserted but not yet written. Never a real TAT: every write stores at
/// least `now + 1 ns`.
const FRESH: u64 = 0;

/// TATs by key.
#[derive(Default)]
pub(crate) struct KeyedState {
    // Seeded per process. Only verified keys reach the limiter in keyward, and the
    // seed keeps anyone else from predicting collisions.
    map: DashMap<KeyBytes, AtomicU64, foldhash::fast::RandomState>,
}

/// The outcome of [`KeyedState::update`].
pub(crate) struct Updated<R> {
    pub(crate) result: R,
    /// The key was not tracked before this call.
    pub(crate) inserted: bool,
}

impl KeyedState {
    /// Runs `f` on the key's TAT (`None` when untracked) in a compare-and-swap loop and
    /// stores what it returns, if anything. No lock is held beyond the map shard's read
    /// lock (write lock only when the key is new).
    #[inline]
    pub(crate) fn update<R>(
        &self,
        key: &str,
        f: impl Fn(Option<u64>) -> (R, Option<u64>),
    ) -> Updated<R> {
        match self.update_tracked(key, &f) {
            Some(result) => Updated {
                result,
                inserted: false,
            },
            None => self.insert(key, f),
        }
    }

    /// [`KeyedState::update`] of a key already tracked; `None` (and `f` not called) when
    /// it is not. Small enough to inline into the caller, which then keeps the result
    /// in registers instead of merging it through memory with the insert path.
    #[inline(always)]
    pub(crate) fn update_tracked<R>(
        &self,
        key: &str,
        f: impl Fn(Option<u64>) -> (R, Option<u64>),
    ) -> Option<R> {
        let cell = self.map.get(key.as_bytes())?;
        Some(cas(&cell, f))
    }

    /// [`KeyedState::update`] of a key [`KeyedState::update_tracked`] did not find.
    #[cold]
    #[inline(never)]
    pub(crate) fn insert<R>(
        &self,
        key: &str,
        f: impl Fn(Option<u64>) -> (R, Option<u64>),
    ) -> Updated<R> {
        let (first, write) = f(None);
        let Some(write) = write else {
            // Nothing to remember (a refusal of an untracked key): keep the map as is.
            return Updated {
                result: first,
                inserted: false,
            };
        };
        let mut inserted = false;
        let cell = self
            .map
            .entry(KeyBytes::new(key.as_bytes()))
            .or_insert_with(|| {
                inserted = true;
                AtomicU64::new(write)
            });
        if inserted {
            // The entry's write lock is held, so nobody saw the slot before `write`.
            return Updated {
                result: first,
                inserted,
            };
        }
        // Another thread inserted the key meanwhile: decide again on its state.
        Updated {
            result: cas(&cell, f),
            inserted,
        }
    }

    /// Gives back `t` nanoseconds a request spent of `key`'s budget, for a request
    /// refused by another budget after this one allowed it. GCRA debt adds up, so
    /// taking `t` off the TAT undoes exactly that request's spending, whatever others
    /// spent meanwhile.
    pub(crate) fn refund(&self, key: &str, t: u64) {
        if let Some(cell) = self.map.get(key.as_bytes()) {
            let _ = cell.fetch_update(Ordering::AcqRel, Ordering::Acquire, |tat| {
                (tat != FRESH).then(|| tat.saturating_sub(t).max(1))
            });
        }
    }

    /// Removes every entry whose TAT is at or before `now`; returns how many.
    pub(crate) fn retain_recent(&self, now: u64) -> usize {
        let before = self.map.len();
        self.map.retain(|_, tat| tat.load(Ordering::Relaxed) > now);
        before.saturating_sub(self.map.len())
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }

    /// Approximate bytes the map's tables reserve, excluding heap keys.
    pub(crate) fn table_bytes(&self) -> usize {
        crate::cleanup::table_bytes::<(KeyBytes, AtomicU64)>(self.map.capacity())
    }
}

#[inline]
fn cas<R>(cell: &AtomicU64, f: impl Fn(Option<u64>) -> (R, Option<u64>)) -> R {
    let mut current = cell.load(Ordering::Acquire);
    loop {
        let (result, write) = f((current != FRESH).then_some(current));
        let Some(write) = write else {
            return result;
        };
        match cell.compare_exchange_weak(current, write, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return result,
            Err(actual) => current = actual,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_inline_and_slots_are_small() {
        assert_eq!(std::mem::size_of::<KeyBytes>(), 24);
        assert_eq!(std::mem::size_of::<(KeyBytes, AtomicU64)>(), 32);
        assert!(matches!(
            KeyBytes::new(b"0123456789abcdefghijkl"),
            KeyBytes::Inline { .. }
        ));
        assert!(matches!(
            KeyBytes::new(b"0123456789abcdefghijklm"),
            KeyBytes::Heap(_)
        ));
    }

    #[test]
    fn inline_and_heap_keys_are_found_by_bytes() {
        let s = KeyedState::default();
        let long = "k".repeat(100);
        for key in ["", "a", "key_0123456789", long.as_str()] {
            let up = s.update(key, |tat| (tat, Some(7)));
            assert_eq!((up.result, up.inserted), (None, true), "{key:?}");
            let up = s.update(key, |tat| (tat, None));
            assert_eq!((up.result, up.inserted), (Some(7), false), "{key:?}");
        }
        assert_eq!(s.len(), 4);
        assert!(s.update("a\0", |tat| (tat, None)).result.is_none());
    }

    #[test]
    fn nothing_is_stored_for_an_untracked_refusal() {
        let s = KeyedState::default();
        let up = s.update("k", |_| ((), None));
        assert!(!up.inserted);
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn retain_recent_drops_only_past_tats() {
        let s = KeyedState::default();
        s.update("past", |_| ((), Some(10)));
        s.update("now", |_| ((), Some(20)));
        s.update("future", |_| ((), Some(30)));
        assert_eq!(s.retain_recent(20), 2);
        assert_eq!(s.len(), 1);
        assert!(s.update("future", |t| (t, None)).result == Some(30));
    }
}
