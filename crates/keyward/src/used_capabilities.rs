//! Which of a cached key's capabilities its requests used: a bitset of atomics that a
//! request updates only when it uses a capability for the first time.

use std::sync::atomic::{AtomicU64, Ordering};

use keyward_scope::CapabilitySet;

const WORDS: usize = CapabilitySet::WORDS;

/// The capabilities a key used, as atomic words, and those already flushed.
///
/// Recording is a load and a compare per word; only a bit not yet set costs a
/// `fetch_or`, so a key's steady traffic never writes its cache line. Relaxed ordering
/// throughout: a bit set late only reaches the store one flush later, and the flush
/// reads every word with an atomic `fetch_or` on the flushed side, so no bit is lost.
#[derive(Debug, Default)]
pub(crate) struct UsedCapabilities {
    used: [AtomicU64; WORDS],
}

impl UsedCapabilities {
    /// Starts from `stored`: use already in the store is neither recorded nor flushed
    /// again.
    pub(crate) fn new(stored: CapabilitySet) -> Self {
        UsedCapabilities {
            used: stored.words().map(AtomicU64::new),
        }
    }

    /// Adds `set`.
    #[inline]
    pub(crate) fn record(&self, set: &CapabilitySet) {
        for (slot, word) in self.used.iter().zip(set.words()) {
            if slot.load(Ordering::Relaxed) & word != word {
                slot.fetch_or(word, Ordering::Relaxed);
            }
        }
    }

    /// Everything recorded so far.
    pub(crate) fn load(&self) -> CapabilitySet {
        CapabilitySet::from_words(std::array::from_fn(|i| {
            self.used[i].load(Ordering::Relaxed)
        }))
    }
}

/// The part of [`UsedCapabilities`] already handed to a flush.
#[derive(Debug, Default)]
pub(crate) struct FlushedCapabilities {
    flushed: [AtomicU64; WORDS],
}

impl FlushedCapabilities {
    /// Starts from `stored`, as [`UsedCapabilities::new`].
    pub(crate) fn new(stored: CapabilitySet) -> Self {
        FlushedCapabilities {
            flushed: stored.words().map(AtomicU64::new),
        }
    }

    /// What of `used` no flush took yet, now marked taken. Concurrent takers (a flush
    /// and an eviction) each get a disjoint part.
    pub(crate) fn take_new(&self, used: &UsedCapabilities) -> CapabilitySet {
        CapabilitySet::from_words(std::array::from_fn(|i| {
            let now = used.used[i].load(Ordering::Relaxed);
            let before = self.flushed[i].fetch_or(now, Ordering::Relaxed);
            now & !before
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: [u64; WORDS]) -> CapabilitySet {
        CapabilitySet::from_words(words)
    }

    #[test]
    fn records_a_union_and_flushes_each_bit_once() {
        let used = UsedCapabilities::new(set([0b1, 0, 0, 0]));
        let flushed = FlushedCapabilities::new(set([0b1, 0, 0, 0]));
        assert_eq!(flushed.take_new(&used), CapabilitySet::EMPTY);
        used.record(&set([0b110, 0, 1, 0]));
        used.record(&set([0b100, 0, 0, 0]));
        assert_eq!(used.load(), set([0b111, 0, 1, 0]));
        assert_eq!(flushed.take_new(&used), set([0b110, 0, 1, 0]));
        assert_eq!(flushed.take_new(&used), CapabilitySet::EMPTY);
        used.record(&set([0, 0, 0, 1 << 63]));
        assert_eq!(flushed.take_new(&used), set([0, 0, 0, 1 << 63]));
    }
}
