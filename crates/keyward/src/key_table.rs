//! A concurrent map from key id to a shared entry, laid out for one memory miss per
//! lookup before the entry itself.
//!
//! A general hash map keeps its control bytes and its slots apart, and a slot holding a
//! pointer to the entry adds a third place to read: at a million cached keys each is a
//! memory miss, one after the other. Here a bucket is one 64-byte line holding five
//! (tag, entry pointer) pairs, so a lookup reads that line and then the entry it points
//! to. Buckets are probed linearly; an insert that passes a full bucket flags it, so a
//! lookup stops at the first unflagged bucket, and removals need no tombstones.
//!
//! A shard doubles above half load, and also when flags pile up (removals never clear
//! them) above a quarter load; below it, it is rebuilt at the same size. Shards never
//! shrink: under steady churn a shard settles between an eighth and a half full, at
//! 64 bytes per five slots.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use keyward_format::KeyId;

/// What the table stores: a cheap handle (an `Arc`) that knows its own key id.
pub(crate) trait Keyed {
    /// The id this entry is filed under.
    fn key_id(&self) -> &KeyId;
}

const WAYS: usize = 5;
/// The share of a shard's slots in use before it doubles: one half, so overflow
/// chains stay short.
const MAX_LOAD_NUMERATOR_OF_SLOTS: usize = 1;
const MAX_LOAD_DENOMINATOR: usize = 2;
const INITIAL_BUCKETS: usize = 4;

/// One cache line: with `Arc`-sized entries, 5 × 4-byte tags, the overflow flag and
/// 5 × 8-byte pointers fill exactly 64 bytes.
#[repr(C, align(64))]
struct Bucket<V> {
    tags: [u32; WAYS],
    /// An insert passed this bucket because it was full, so an entry filed here may
    /// sit further on: a lookup that does not find its id here goes on to the next.
    overflowed: bool,
    entries: [Option<V>; WAYS],
}

impl<V> Bucket<V> {
    fn empty() -> Self {
        Bucket {
            tags: [0; WAYS],
            overflowed: false,
            entries: std::array::from_fn(|_| None),
        }
    }
}

struct Shard<V> {
    buckets: Vec<Bucket<V>>,
    len: usize,
    /// Buckets with the overflow flag set; rebuilt when too many are, since removals
    /// never clear a flag and each one lengthens lookups of absent ids.
    overflowed: usize,
}

/// Aligned so that two shards' locks never share a cache line.
#[repr(align(64))]
struct ShardLock<V>(RwLock<Shard<V>>);

pub(crate) struct KeyTable<V> {
    shards: Box<[ShardLock<V>]>,
    /// Seeded per process: ids come from clients, but only verified keys are inserted,
    /// so a client cannot choose what collides; unknown ids only probe.
    hasher: foldhash::fast::RandomState,
    shard_shift: u32,
    len: AtomicUsize,
    /// Where the next [`KeyTable::remove_some`] starts, so evictions move around.
    cursor: AtomicUsize,
}

/// Bits 16..48 of the hash: apart from the shard index (the top bits) and the home
/// bucket (the low bits).
fn tag(hash: u64) -> u32 {
    (hash >> 16) as u32
}

impl<V: Keyed> Shard<V> {
    fn new(buckets: usize) -> Self {
        Shard {
            buckets: (0..buckets).map(|_| Bucket::empty()).collect(),
            len: 0,
            overflowed: 0,
        }
    }

    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    /// The bucket and way holding `id`.
    #[inline]
    fn position(&self, hash: u64, id: &KeyId) -> Option<(usize, usize)> {
        let tag = tag(hash);
        let mask = self.mask();
        let mut b = hash as usize & mask;
        // Bounded by the table size; flags never cover every bucket (load ≤ 1/2).
        for _ in 0..self.buckets.len() {
            let bucket = &self.buckets[b];
            for w in 0..WAYS {
                if bucket.tags[w] == tag
                    && let Some(entry) = &bucket.entries[w]
                    && entry.key_id() == id
                {
                    return Some((b, w));
                }
            }
            if !bucket.overflowed {
                return None;
            }
            b = (b + 1) & mask;
        }
        None
    }

    #[inline]
    fn get(&self, hash: u64, id: &KeyId) -> Option<&V> {
        let (b, w) = self.position(hash, id)?;
        self.buckets[b].entries[w].as_ref()
    }

    /// Files `entry` in the first free way from its home bucket; `false` if there was
    /// none, which cannot happen below the maximum load that `insert` keeps.
    fn place(&mut self, hash: u64, entry: V) -> bool {
        let tag = tag(hash);
        let mask = self.mask();
        let mut b = hash as usize & mask;
        let mut entry = Some(entry);
        for _ in 0..self.buckets.len() {
            let bucket = &mut self.buckets[b];
            if let Some(w) = bucket.entries.iter().position(Option::is_none) {
                bucket.tags[w] = tag;
                bucket.entries[w] = entry.take();
                self.len += 1;
                return true;
            }
            if !bucket.overflowed {
                bucket.overflowed = true;
                self.overflowed += 1;
            }
            b = (b + 1) & mask;
        }
        debug_assert!(false, "a shard below half load had no free way");
        false
    }

    /// Re-files every entry into `buckets` fresh buckets, clearing all flags.
    fn rebuild(&mut self, buckets: usize, hasher: &impl BuildHasher) {
        let old = std::mem::replace(self, Shard::new(buckets));
        for bucket in old.buckets {
            for entry in bucket.entries.into_iter().flatten() {
                let hash = hasher.hash_one(entry.key_id());
                // Fewer entries than before in at least as many buckets: always placed.
                self.place(hash, entry);
            }
        }
    }

    fn take(&mut self, b: usize, w: usize) -> Option<V> {
        let entry = self.buckets[b].entries[w].take();
        if entry.is_some() {
            self.len -= 1;
        }
        entry
    }
}

impl<V: Keyed> KeyTable<V> {
    /// Four shards per CPU, as `DashMap`, so that concurrent requests rarely share a
    /// shard lock.
    pub(crate) fn new() -> Self {
        Self::with_shards(
            std::thread::available_parallelism()
                .map_or(4, |n| n.get() * 4)
                .next_power_of_two(),
        )
    }

    /// `shards` rounded up to a power of two, at least 2.
    fn with_shards(shards: usize) -> Self {
        let shards = shards.next_power_of_two().max(2);
        KeyTable {
            shards: (0..shards)
                .map(|_| ShardLock(RwLock::new(Shard::new(INITIAL_BUCKETS))))
                .collect(),
            hasher: foldhash::fast::RandomState::default(),
            shard_shift: 64 - shards.trailing_zeros(),
            len: AtomicUsize::new(0),
            cursor: AtomicUsize::new(0),
        }
    }

    #[inline]
    fn hash(&self, id: &KeyId) -> u64 {
        self.hasher.hash_one(id)
    }

    #[inline]
    fn shard(&self, hash: u64) -> &RwLock<Shard<V>> {
        &self.shards[(hash >> self.shard_shift) as usize].0
    }

    fn read(lock: &RwLock<Shard<V>>) -> RwLockReadGuard<'_, Shard<V>> {
        lock.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(lock: &RwLock<Shard<V>>) -> RwLockWriteGuard<'_, Shard<V>> {
        lock.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Calls `f` with the entry for `id`, under its shard's read lock: `f` must not
    /// call back into the table.
    #[inline]
    pub(crate) fn with<R>(&self, id: &KeyId, f: impl FnOnce(Option<&V>) -> R) -> R {
        let hash = self.hash(id);
        let shard = Self::read(self.shard(hash));
        f(shard.get(hash, id))
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Files `entry` under its id, returning the entry it replaced.
    pub(crate) fn insert(&self, entry: V) -> Option<V> {
        let hash = self.hash(entry.key_id());
        let mut shard = Self::write(self.shard(hash));
        if let Some((b, w)) = shard.position(hash, entry.key_id()) {
            return shard.buckets[b].entries[w].replace(entry);
        }
        let buckets = shard.buckets.len();
        let slots = buckets * WAYS;
        if (shard.len + 1) * MAX_LOAD_DENOMINATOR > slots * MAX_LOAD_NUMERATOR_OF_SLOTS {
            shard.rebuild(buckets * 2, &self.hasher);
        } else if shard.overflowed * 8 > buckets {
            // Flags piled up through removals. Above a quarter load a clean rebuild
            // could flag as many again at once, so double instead; below it, few
            // buckets are ever full and a same-size rebuild clears them for long.
            let grow = shard.len * 4 > slots;
            shard.rebuild(if grow { buckets * 2 } else { buckets }, &self.hasher);
        }
        if shard.place(hash, entry) {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
        None
    }

    pub(crate) fn remove(&self, id: &KeyId) -> Option<V> {
        let hash = self.hash(id);
        let mut shard = Self::write(self.shard(hash));
        let (b, w) = shard.position(hash, id)?;
        let removed = shard.take(b, w);
        if removed.is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Removes and returns every entry `pred` selects.
    pub(crate) fn remove_where(&self, mut pred: impl FnMut(&V) -> bool) -> Vec<V> {
        let mut removed = Vec::new();
        for lock in self.shards.iter() {
            let mut shard = Self::write(&lock.0);
            for b in 0..shard.buckets.len() {
                for w in 0..WAYS {
                    if shard.buckets[b].entries[w].as_ref().is_some_and(&mut pred)
                        && let Some(entry) = shard.take(b, w)
                    {
                        removed.push(entry);
                    }
                }
            }
        }
        self.len.fetch_sub(removed.len(), Ordering::Relaxed);
        removed
    }

    /// Removes and returns up to `n` entries from one shard, starting where the last
    /// call stopped: hash order is unrelated to use, so this approximates random
    /// eviction with no bookkeeping on the hot path.
    pub(crate) fn remove_some(&self, n: usize) -> Vec<V> {
        let mut removed = Vec::new();
        for _ in 0..self.shards.len() {
            if removed.len() >= n {
                break;
            }
            let at = self.cursor.fetch_add(1, Ordering::Relaxed);
            let mut shard = Self::write(&self.shards[at % self.shards.len()].0);
            let buckets = shard.buckets.len();
            // A different starting bucket each round through the shards.
            let start = (at / self.shards.len()).wrapping_mul(0x9e37_79b9) % buckets;
            'buckets: for i in 0..buckets {
                if shard.len == 0 {
                    break;
                }
                let b = (start + i) % buckets;
                for w in 0..WAYS {
                    if removed.len() >= n {
                        break 'buckets;
                    }
                    if let Some(entry) = shard.take(b, w) {
                        removed.push(entry);
                    }
                }
            }
        }
        self.len.fetch_sub(removed.len(), Ordering::Relaxed);
        removed
    }

    #[cfg(test)]
    fn buckets(&self) -> usize {
        self.shards
            .iter()
            .map(|l| Self::read(&l.0).buckets.len())
            .sum()
    }

    /// Calls `f` on every entry, one shard's read lock at a time.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&V)) {
        for lock in self.shards.iter() {
            let shard = Self::read(&lock.0);
            for bucket in &shard.buckets {
                bucket.entries.iter().flatten().for_each(&mut f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    #[derive(Debug)]
    struct Entry {
        id: KeyId,
        value: usize,
    }

    impl Keyed for Arc<Entry> {
        fn key_id(&self) -> &KeyId {
            &self.id
        }
    }

    fn id(i: usize) -> KeyId {
        KeyId::parse(&format!("{i:0>12}")).unwrap()
    }

    fn entry(i: usize, value: usize) -> Arc<Entry> {
        Arc::new(Entry { id: id(i), value })
    }

    fn value(table: &KeyTable<Arc<Entry>>, i: usize) -> Option<usize> {
        table.with(&id(i), |e| e.map(|e| e.value))
    }

    /// The table's own rules: every entry is reachable from its home bucket through
    /// flagged buckets only, its tag is its hash's, and the counters match the buckets.
    fn check_invariants(table: &KeyTable<Arc<Entry>>) {
        let mut total = 0;
        for lock in table.shards.iter() {
            let shard = lock.0.read().unwrap();
            let mut entries = 0;
            for (b, bucket) in shard.buckets.iter().enumerate() {
                for (w, entry) in bucket.entries.iter().enumerate() {
                    let Some(entry) = entry else { continue };
                    entries += 1;
                    let hash = table.hash(&entry.id);
                    assert_eq!(bucket.tags[w], tag(hash));
                    let mut at = hash as usize & shard.mask();
                    while at != b {
                        assert!(shard.buckets[at].overflowed, "unflagged gap before {b}");
                        at = (at + 1) & shard.mask();
                    }
                }
            }
            assert_eq!(entries, shard.len);
            let flagged = shard.buckets.iter().filter(|b| b.overflowed).count();
            assert_eq!(flagged, shard.overflowed);
            assert!(flagged < shard.buckets.len());
            total += entries;
        }
        assert_eq!(total, table.len());
    }

    /// Random inserts, replacements and every kind of removal against a `HashMap`, on
    /// tables with few shards so that growth, overflow and rebuilds all happen.
    #[test]
    fn agrees_with_a_hash_map_under_random_operations() {
        for shards in [2, 4, 16] {
            for seed in 1..4u64 {
                let table = KeyTable::with_shards(shards);
                let mut model = std::collections::HashMap::new();
                let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                let mut random = move |below: u64| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % below) as usize
                };
                let ids = 50 + seed as usize * 400;
                for step in 0..30_000 {
                    let i = random(ids as u64);
                    match random(100) {
                        0..55 => {
                            let old = table.insert(entry(i, step)).map(|e| e.value);
                            assert_eq!(old, model.insert(i, step));
                        }
                        55..95 => {
                            let removed = table.remove(&id(i)).map(|e| e.value);
                            assert_eq!(removed, model.remove(&i));
                        }
                        95..99 => {
                            let n = random(20);
                            let removed = table.remove_some(n);
                            assert!(removed.len() <= n);
                            for e in removed {
                                let i = e.id.as_str().parse::<usize>().unwrap();
                                assert_eq!(model.remove(&i), Some(e.value));
                            }
                        }
                        _ => {
                            let modulus = 2 + random(5);
                            for e in table.remove_where(|e| e.value % modulus == 0) {
                                let i = e.id.as_str().parse::<usize>().unwrap();
                                assert_eq!(model.remove(&i), Some(e.value));
                            }
                        }
                    }
                    if step % 997 == 0 {
                        check_invariants(&table);
                    }
                }
                check_invariants(&table);
                assert_eq!(table.len(), model.len());
                for (&i, &v) in &model {
                    assert_eq!(value(&table, i), Some(v), "id {i}");
                }
            }
        }
    }

    #[test]
    fn a_bucket_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Bucket<Arc<Entry>>>(), 64);
    }

    #[test]
    fn finds_what_was_inserted_through_growth() {
        let table = KeyTable::new();
        for i in 0..20_000 {
            assert!(table.insert(entry(i, i)).is_none());
        }
        assert_eq!(table.len(), 20_000);
        for i in 0..20_000 {
            assert_eq!(value(&table, i), Some(i));
        }
        assert_eq!(value(&table, 20_000), None);
    }

    #[test]
    fn insert_replaces_an_entry_with_the_same_id() {
        let table = KeyTable::new();
        table.insert(entry(7, 1));
        let old = table.insert(entry(7, 2)).unwrap();
        assert_eq!(old.value, 1);
        assert_eq!(value(&table, 7), Some(2));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn removal_keeps_entries_filed_past_full_buckets_reachable() {
        let table = KeyTable::new();
        for i in 0..5_000 {
            table.insert(entry(i, i));
        }
        // Remove every other entry, then check the rest: an entry that overflowed past
        // a bucket whose entries are now gone must still be found.
        for i in (0..5_000).step_by(2) {
            assert_eq!(table.remove(&id(i)).map(|e| e.value), Some(i));
            assert!(table.remove(&id(i)).is_none());
        }
        for i in 0..5_000 {
            let expected = (i % 2 == 1).then_some(i);
            assert_eq!(value(&table, i), expected, "id {i}");
        }
        assert_eq!(table.len(), 2_500);
    }

    #[test]
    fn churn_does_not_lose_entries() {
        // Many inserts and removals at a steady size exercise the flag rebuilds.
        let table = KeyTable::new();
        let mut live = HashSet::new();
        for round in 0..20_000usize {
            let i = round.wrapping_mul(7919) % 3_000;
            if live.remove(&i) {
                assert!(table.remove(&id(i)).is_some());
            } else {
                table.insert(entry(i, round));
                live.insert(i);
            }
        }
        assert_eq!(table.len(), live.len());
        for i in 0..3_000 {
            assert_eq!(value(&table, i).is_some(), live.contains(&i), "id {i}");
        }
    }

    #[test]
    fn churn_at_a_steady_size_keeps_the_table_small() {
        let table = KeyTable::new();
        for i in 0..3_000 {
            table.insert(entry(i, i));
        }
        let grown = table.buckets();
        // 300,000 removals and inserts, never more than 3,000 entries.
        for round in 0..300_000 {
            table.remove(&id(round));
            table.insert(entry(round + 3_000, round));
        }
        assert_eq!(table.len(), 3_000);
        assert!(
            table.buckets() <= grown * 2,
            "{} buckets after churn, {grown} before",
            table.buckets()
        );
        for i in 300_000..303_000 {
            assert!(value(&table, i).is_some(), "id {i}");
        }
    }

    #[test]
    fn remove_some_and_remove_where_take_what_they_return() {
        let table = KeyTable::new();
        for i in 0..1_000 {
            table.insert(entry(i, i));
        }
        let some = table.remove_some(100);
        assert_eq!(some.len(), 100);
        assert_eq!(table.len(), 900);
        for e in &some {
            assert_eq!(value(&table, e.value), None);
        }
        let odd = table.remove_where(|e| e.value % 2 == 1);
        assert!(odd.iter().all(|e| e.value % 2 == 1));
        assert_eq!(table.len(), 900 - odd.len());
        let mut seen = 0;
        table.for_each(|e| {
            assert_eq!(e.value % 2, 0);
            seen += 1;
        });
        assert_eq!(seen, table.len());
    }

    #[test]
    fn concurrent_readers_and_writers_agree() {
        let table = Arc::new(KeyTable::new());
        std::thread::scope(|s| {
            for t in 0..4 {
                let table = &table;
                s.spawn(move || {
                    for i in (t * 5_000)..((t + 1) * 5_000) {
                        table.insert(entry(i, i));
                        assert_eq!(value(table, i), Some(i));
                    }
                });
            }
        });
        assert_eq!(table.len(), 20_000);
        for i in 0..20_000 {
            assert_eq!(value(&table, i), Some(i));
        }
    }
}
