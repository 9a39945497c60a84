//! A set of capabilities of one catalog, as a fixed-size bitset.

use std::fmt;
use std::iter::FusedIterator;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Sub, SubAssign};

use crate::Capability;

const WORDS: usize = 4;

/// A set of capabilities of one [`Catalog`](crate::Catalog): 256 bits, `Copy`, no
/// allocation, so a check is a few word operations.
///
/// Build one from names with [`Catalog::set`](crate::Catalog::set) and close it over
/// implications and implicit grants with [`Catalog::effective`](crate::Catalog::effective);
/// turn it back into names with [`Catalog::names`](crate::Catalog::names). A set only
/// means something together with the catalog it came from (see [`Capability`]): persist
/// names, never sets.
///
/// ```
/// use keyward_scope::Catalog;
///
/// let catalog = Catalog::builder()
///     .capabilities(["jobs:read", "jobs:write", "kb:read"])
///     .build()?;
/// let key = catalog.set(["jobs:read", "kb:read"])?;
/// let owner_now = catalog.set(["jobs:read", "jobs:write"])?;
///
/// // What the key may still do after its owner lost `kb:read`.
/// let usable = key.intersection(&owner_now);
/// assert_eq!(catalog.names(&usable), ["jobs:read"]);
/// assert!(usable.is_subset(&key));
/// assert_eq!(catalog.names(&key.difference(&owner_now)), ["kb:read"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CapabilitySet {
    words: [u64; WORDS],
}

impl CapabilitySet {
    /// The empty set.
    pub const EMPTY: Self = Self { words: [0; WORDS] };

    /// How many 64-bit words a set is: bit `i % 64` of word `i / 64` holds the
    /// capability at index `i`.
    pub const WORDS: usize = WORDS;

    /// The set as its words (see [`WORDS`](Self::WORDS)), for code that keeps a set in
    /// atomics and updates it a word at a time.
    ///
    /// ```
    /// use keyward_scope::{CapabilitySet, Catalog};
    ///
    /// let catalog = Catalog::builder().capabilities(["jobs:read", "jobs:write"]).build()?;
    /// let set = catalog.set(["jobs:write"])?;
    /// assert_eq!(set.words(), [0b10, 0, 0, 0]);
    /// assert_eq!(CapabilitySet::from_words(set.words()), set);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn words(&self) -> [u64; WORDS] {
        self.words
    }

    /// The set whose words are `words`. Bits past a catalog's length name nothing in
    /// it: [`Catalog::names`](crate::Catalog::names) and
    /// [`Catalog::effective`](crate::Catalog::effective) ignore them.
    #[inline]
    #[must_use]
    pub const fn from_words(words: [u64; WORDS]) -> Self {
        Self { words }
    }

    /// The empty set.
    #[inline]
    #[must_use]
    pub const fn new() -> Self {
        Self::EMPTY
    }

    /// The set `{0, 1, …, len - 1}`; `len` is at most 256.
    pub(crate) const fn first(len: usize) -> Self {
        let mut words = [0; WORDS];
        let mut i = 0;
        while i < WORDS {
            let low = i * 64;
            words[i] = if len >= low + 64 {
                u64::MAX
            } else if len > low {
                (1 << (len - low)) - 1
            } else {
                0
            };
            i += 1;
        }
        Self { words }
    }

    /// Whether `capability` is in the set.
    #[inline]
    #[must_use]
    pub const fn contains(&self, capability: Capability) -> bool {
        let i = capability.index();
        self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Adds `capability`; returns whether it was absent.
    #[inline]
    pub fn insert(&mut self, capability: Capability) -> bool {
        let i = capability.index();
        let bit = 1 << (i % 64);
        let absent = self.words[i / 64] & bit == 0;
        self.words[i / 64] |= bit;
        absent
    }

    /// Removes `capability`; returns whether it was present.
    #[inline]
    pub fn remove(&mut self, capability: Capability) -> bool {
        let i = capability.index();
        let bit = 1 << (i % 64);
        let present = self.words[i / 64] & bit != 0;
        self.words[i / 64] &= !bit;
        present
    }

    /// Everything in `self` or in `other`.
    #[inline]
    #[must_use]
    pub const fn union(&self, other: &Self) -> Self {
        let (a, b) = (&self.words, &other.words);
        Self {
            words: [a[0] | b[0], a[1] | b[1], a[2] | b[2], a[3] | b[3]],
        }
    }

    /// Everything in both `self` and `other`.
    #[inline]
    #[must_use]
    pub const fn intersection(&self, other: &Self) -> Self {
        let (a, b) = (&self.words, &other.words);
        Self {
            words: [a[0] & b[0], a[1] & b[1], a[2] & b[2], a[3] & b[3]],
        }
    }

    /// Everything in `self` that is not in `other`.
    #[inline]
    #[must_use]
    pub const fn difference(&self, other: &Self) -> Self {
        let (a, b) = (&self.words, &other.words);
        Self {
            words: [a[0] & !b[0], a[1] & !b[1], a[2] & !b[2], a[3] & !b[3]],
        }
    }

    /// Whether every capability of `self` is in `other`. The empty set is a subset of
    /// every set.
    #[inline]
    #[must_use]
    pub const fn is_subset(&self, other: &Self) -> bool {
        let (a, b) = (&self.words, &other.words);
        (a[0] & !b[0]) | (a[1] & !b[1]) | (a[2] & !b[2]) | (a[3] & !b[3]) == 0
    }

    /// Whether every capability of `other` is in `self`.
    #[inline]
    #[must_use]
    pub const fn is_superset(&self, other: &Self) -> bool {
        other.is_subset(self)
    }

    /// Whether `self` and `other` have at least one capability in common.
    #[inline]
    #[must_use]
    pub const fn intersects(&self, other: &Self) -> bool {
        let (a, b) = (&self.words, &other.words);
        (a[0] & b[0]) | (a[1] & b[1]) | (a[2] & b[2]) | (a[3] & b[3]) != 0
    }

    /// Whether the set is empty.
    #[inline]
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        let w = &self.words;
        w[0] | w[1] | w[2] | w[3] == 0
    }

    /// The number of capabilities in the set.
    #[inline]
    #[must_use]
    pub const fn len(&self) -> usize {
        let w = &self.words;
        (w[0].count_ones() + w[1].count_ones() + w[2].count_ones() + w[3].count_ones()) as usize
    }

    /// The capabilities in the set, in index order, which is the catalog's name order.
    #[inline]
    #[must_use]
    pub fn iter(&self) -> Iter {
        Iter {
            words: self.words,
            word: 0,
        }
    }
}

/// The capabilities of a [`CapabilitySet`], in index (= name) order; see
/// [`CapabilitySet::iter`].
#[derive(Debug, Clone)]
pub struct Iter {
    words: [u64; WORDS],
    word: usize,
}

impl Iterator for Iter {
    type Item = Capability;

    #[inline]
    fn next(&mut self) -> Option<Capability> {
        while self.word < WORDS {
            let w = self.words[self.word];
            if w != 0 {
                self.words[self.word] = w & (w - 1);
                let index = self.word * 64 + w.trailing_zeros() as usize;
                // At most 4 * 64 = 256 positions, so the index fits in a u8.
                return Some(Capability::from_index(index as u8));
            }
            self.word += 1;
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = Self::len_of(&self.words);
        (left, Some(left))
    }
}

impl Iter {
    fn len_of(words: &[u64; WORDS]) -> usize {
        words.iter().map(|w| w.count_ones() as usize).sum()
    }
}

impl ExactSizeIterator for Iter {}
impl FusedIterator for Iter {}

impl IntoIterator for CapabilitySet {
    type Item = Capability;
    type IntoIter = Iter;

    fn into_iter(self) -> Iter {
        self.iter()
    }
}

impl IntoIterator for &CapabilitySet {
    type Item = Capability;
    type IntoIter = Iter;

    fn into_iter(self) -> Iter {
        self.iter()
    }
}

impl FromIterator<Capability> for CapabilitySet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        set.extend(iter);
        set
    }
}

impl Extend<Capability> for CapabilitySet {
    fn extend<I: IntoIterator<Item = Capability>>(&mut self, iter: I) {
        for capability in iter {
            self.insert(capability);
        }
    }
}

impl From<Capability> for CapabilitySet {
    fn from(capability: Capability) -> Self {
        let mut set = Self::EMPTY;
        set.insert(capability);
        set
    }
}

impl BitOr for CapabilitySet {
    type Output = Self;

    #[inline]
    fn bitor(self, rhs: Self) -> Self {
        self.union(&rhs)
    }
}

impl BitOrAssign for CapabilitySet {
    #[inline]
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(&rhs);
    }
}

impl BitAnd for CapabilitySet {
    type Output = Self;

    #[inline]
    fn bitand(self, rhs: Self) -> Self {
        self.intersection(&rhs)
    }
}

impl BitAndAssign for CapabilitySet {
    #[inline]
    fn bitand_assign(&mut self, rhs: Self) {
        *self = self.intersection(&rhs);
    }
}

impl Sub for CapabilitySet {
    type Output = Self;

    #[inline]
    fn sub(self, rhs: Self) -> Self {
        self.difference(&rhs)
    }
}

impl SubAssign for CapabilitySet {
    #[inline]
    fn sub_assign(&mut self, rhs: Self) {
        *self = self.difference(&rhs);
    }
}

/// Shows indices (`{0, 5}`): a set does not know its catalog's names; use
/// [`Catalog::names`](crate::Catalog::names) for those.
impl fmt::Debug for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Capability::index))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(indices: &[u8]) -> CapabilitySet {
        indices.iter().map(|&i| Capability::from_index(i)).collect()
    }

    #[test]
    fn first_covers_word_boundaries() {
        for len in [0, 1, 63, 64, 65, 127, 128, 200, 255, 256] {
            let s = CapabilitySet::first(len);
            assert_eq!(s.len(), len, "{len}");
            assert_eq!(
                s.iter().map(Capability::index).collect::<Vec<_>>(),
                (0..len).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn insert_remove_contains_across_words() {
        let mut s = CapabilitySet::new();
        for i in [0u8, 63, 64, 127, 128, 191, 192, 255] {
            let c = Capability::from_index(i);
            assert!(!s.contains(c));
            assert!(s.insert(c));
            assert!(!s.insert(c));
            assert!(s.contains(c));
        }
        assert_eq!(s.len(), 8);
        assert!(s.remove(Capability::from_index(64)));
        assert!(!s.remove(Capability::from_index(64)));
        assert_eq!(s.len(), 7);
        assert_eq!(
            s.iter().map(Capability::index).collect::<Vec<_>>(),
            [0, 63, 127, 128, 191, 192, 255]
        );
        assert_eq!(s.iter().len(), 7);
    }

    #[test]
    fn operations() {
        let a = set(&[1, 2, 70, 200]);
        let b = set(&[2, 3, 200]);
        assert_eq!(a.union(&b), set(&[1, 2, 3, 70, 200]));
        assert_eq!(a | b, a.union(&b));
        assert_eq!(a.intersection(&b), set(&[2, 200]));
        assert_eq!(a & b, a.intersection(&b));
        assert_eq!(a.difference(&b), set(&[1, 70]));
        assert_eq!(a - b, a.difference(&b));
        assert!(a.intersects(&b));
        assert!(!set(&[1]).intersects(&set(&[65])));
        assert!(set(&[2, 200]).is_subset(&a));
        assert!(a.is_superset(&set(&[2, 200])));
        assert!(!b.is_subset(&a));
        assert!(CapabilitySet::EMPTY.is_subset(&CapabilitySet::EMPTY));
        assert!(CapabilitySet::EMPTY.is_empty());
        assert!(!a.is_empty());

        let mut c = a;
        c |= b;
        c &= set(&[1, 3, 9]);
        c -= set(&[3]);
        assert_eq!(c, set(&[1]));
    }

    #[test]
    fn words_round_trip_across_words() {
        let s = set(&[0, 63, 64, 255]);
        assert_eq!(s.words(), [1 | 1 << 63, 1, 0, 1 << 63]);
        assert_eq!(CapabilitySet::from_words(s.words()), s);
        assert_eq!(
            CapabilitySet::from_words([0; CapabilitySet::WORDS]),
            CapabilitySet::EMPTY
        );
    }

    #[test]
    fn debug_shows_indices() {
        assert_eq!(format!("{:?}", set(&[3, 64])), "{3, 64}");
        assert_eq!(format!("{:?}", CapabilitySet::EMPTY), "{}");
    }

    #[test]
    fn is_small_and_copy() {
        assert_eq!(std::mem::size_of::<CapabilitySet>(), 32);
        let a = set(&[1]);
        let b = a;
        assert_eq!(a, b);
    }
}
