//! The keyed GCRA state: one `AtomicU64` TAT per key in a `DashMap`.
//!
//! Keys of up to [`INLINE_KEY_LEN`] bytes (every keyward key id) are stored inline in
//! the map's slot, so tracking a key allocates nothing beyond the table itself and a
//! lookup compares bytes without chasing a pointer. Longer keys go on the heap.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

use crate::rate::gcra::{self, Gcra};

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

/// The outcome of [`KeyedState::spend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spent {
    /// The key's debt when the request arrived, which its decision is computed from.
    pub(crate) debt: u64,
    /// The key was not tracked before this call.
    pub(crate) inserted: bool,
}

impl KeyedState {
    /// One GCRA request of `key` at `now`: its debt, and the TAT moved on when `gcra`
    /// allows the request, by compare-and-swap. No lock is held beyond the map
    /// shard's read lock (write lock only when the key is new).
    #[inline]
    pub(crate) fn spend(&self, key: &str, gcra: &Gcra, now: u64) -> Spent {
        match self.spend_tracked(key, gcra, now) {
            Some(debt) => Spent {
                debt,
                inserted: false,
            },
            None => self.spend_untracked(key, gcra, now),
        }
    }

    /// [`KeyedState::spend`] of a key already tracked; `None` (and nothing spent) when
    /// it is not. Small enough to inline into the caller, which computes the decision
    /// from the debt in registers, after the shard's lock is released.
    #[inline(always)]
    pub(crate) fn spend_tracked(&self, key: &str, gcra: &Gcra, now: u64) -> Option<u64> {
        let cell = self.map.get(key.as_bytes())?;
        Some(spend_on(&cell, gcra, now))
    }

    /// [`KeyedState::spend`] of a key [`KeyedState::spend_tracked`] did not find.
    #[cold]
    #[inline(never)]
    pub(crate) fn spend_untracked(&self, key: &str, gcra: &Gcra, now: u64) -> Spent {
        // An untracked key has no debt, and its first request always fits.
        let write = gcra.first_tat(now);
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
            return Spent { debt: 0, inserted };
        }
        // Another thread inserted the key meanwhile: spend from its state.
        Spent {
            debt: spend_on(&cell, gcra, now),
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

/// The GCRA step on one key's TAT: the debt it had at `now`, and the TAT moved on if
/// the request is allowed. A refusal writes nothing. The loop keeps the TAT in
/// registers: it retries only when another request moved the TAT meanwhile.
#[inline(always)]
fn spend_on(cell: &AtomicU64, gcra: &Gcra, now: u64) -> u64 {
    let mut tat = cell.load(Ordering::Acquire);
    loop {
        // An unwritten slot (`FRESH`, 0) is no debt, like an untracked key.
        let debt = gcra::debt(tat, now);
        let Some(next) = gcra.next_tat(debt, now) else {
            return debt;
        };
        match cell.compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return debt,
            Err(actual) => tat = actual,
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

    const SEC: u64 = 1_000_000_000;

    /// One request per second: a request costs one second of debt, and a key with any
    /// debt is refused.
    fn one_per_second() -> Gcra {
        Gcra::new(crate::Quota::per_second(1))
    }

    #[test]
    fn inline_and_heap_keys_are_found_by_bytes() {
        let s = KeyedState::default();
        let g = one_per_second();
        let long = "k".repeat(100);
        for key in ["", "a", "key_0123456789", long.as_str()] {
            let first = s.spend(key, &g, 5 * SEC);
            assert_eq!(
                first,
                Spent {
                    debt: 0,
                    inserted: true
                },
                "{key:?}"
            );
            let second = s.spend(key, &g, 5 * SEC);
            assert_eq!(
                second,
                Spent {
                    debt: SEC,
                    inserted: false
                },
                "{key:?}"
            );
        }
        assert_eq!(s.len(), 4);
        assert_eq!(s.spend_tracked("a\0", &g, 5 * SEC), None);
    }

    #[test]
    fn a_refusal_moves_nothing_and_an_allowed_request_moves_the_tat() {
        let s = KeyedState::default();
        let g = one_per_second();
        s.spend("k", &g, 10 * SEC);
        // Refused half a second later: the debt is what is left of the second.
        assert_eq!(s.spend_tracked("k", &g, 10 * SEC + SEC / 2), Some(SEC / 2));
        assert_eq!(s.spend_tracked("k", &g, 10 * SEC + SEC / 2), Some(SEC / 2));
        // Allowed once the second has passed, which starts a new one.
        assert_eq!(s.spend_tracked("k", &g, 11 * SEC), Some(0));
        assert_eq!(s.spend_tracked("k", &g, 11 * SEC), Some(SEC));
    }

    #[test]
    fn retain_recent_drops_only_past_tats() {
        let s = KeyedState::default();
        let g = one_per_second();
        s.spend("past", &g, 0); // full again at 1 s
        s.spend("now", &g, SEC); // at 2 s
        s.spend("future", &g, 2 * SEC); // at 3 s
        assert_eq!(s.retain_recent(2 * SEC), 2);
        assert_eq!(s.len(), 1);
        assert_eq!(s.spend_tracked("future", &g, 2 * SEC), Some(SEC));
        assert_eq!(s.spend_tracked("past", &g, 2 * SEC), None);
    }
}
