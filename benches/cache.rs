//! `cache/*`: the verification cache's own table against `DashMap`, the same lookups
//! in one run.
//!
//! Both hold a million entries behind an `Arc`, as the cache does, and use the same
//! hasher (foldhash) and shard count, so what differs is the layout: the cache's
//! table reads one 64-byte bucket and then the entry; `DashMap` (hashbrown) reads
//! control bytes, a slot, then the entry. Lookups visit the ids in a shuffled order,
//! so the table is mostly out of the CPU caches, as on a server with a million keys.
//!
//! Each lookup reads from its entry where the next lookup's id is, so one lookup's
//! misses cannot overlap the next one's: a request on a server finds its key among
//! other work, not in a tight loop of independent lookups, which the CPU would run
//! several at a time and so hide how many misses each one waits for.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use dashmap::DashMap;
use keyward::bench_support::CacheTable;
use keyward::format::KeyId;

const KEYS: usize = 1_000_000;

/// What a cached entry holds in this benchmark: a 64-byte value, so the entry is a
/// cache line of its own as the real one's hot fields are.
#[derive(Clone, Copy)]
struct Entry {
    /// Where in the lookup order the next id is.
    next: usize,
    _rest: [u64; 7],
}

/// `n` distinct ids from a fixed sequence, so every run looks up the same keys.
fn ids(n: usize) -> Vec<KeyId> {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (mut a, mut b) = (next(), next());
        let text: String = (0..12)
            .map(|i| {
                let word = if i < 6 { &mut a } else { &mut b };
                let c = BASE62[(*word % 62) as usize];
                *word /= 62;
                c as char
            })
            .collect();
        let id = KeyId::parse(&text).expect("base62 text of the right length");
        if seen.insert(id) {
            out.push(id);
        }
    }
    out
}

/// The ids in a fixed shuffled order (Fisher-Yates with a fixed seed).
fn shuffled(ids: &[KeyId]) -> Vec<KeyId> {
    let mut out = ids.to_vec();
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    for i in (1..out.len()).rev() {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.swap(i, (state % (i as u64 + 1)) as usize);
    }
    out
}

/// The entry of the id at `position` in `order`, pointing at the one after it.
fn entry(position: usize, order: &[KeyId]) -> Entry {
    Entry {
        next: (position + 1) % order.len(),
        _rest: [0; 7],
    }
}

fn lookups(c: &mut Criterion) {
    let ids = ids(KEYS);
    let order = shuffled(&ids);

    // Inserted in id order, looked up in the shuffled order.
    let position: std::collections::HashMap<KeyId, usize> =
        order.iter().enumerate().map(|(p, id)| (*id, p)).collect();
    let table = CacheTable::new();
    for id in &ids {
        table.insert(*id, entry(position[id], &order));
    }
    assert_eq!(table.len(), KEYS);

    let shards = std::thread::available_parallelism()
        .map_or(4, |n| n.get() * 4)
        .next_power_of_two();
    let map: DashMap<KeyId, Arc<(KeyId, Entry)>, foldhash::fast::RandomState> =
        DashMap::with_hasher_and_shard_amount(foldhash::fast::RandomState::default(), shards);
    for id in &ids {
        map.insert(*id, Arc::new((*id, entry(position[id], &order))));
    }
    assert_eq!(map.len(), KEYS);

    let mut group = c.benchmark_group("cache");
    let mut at = 0;
    group.bench_function("key_table_1m", |b| {
        b.iter(|| {
            at = table
                .with(&order[at], |e| e.map(|e| e.next))
                .expect("every id is in the table");
        })
    });
    let mut at = 0;
    group.bench_function("dashmap_1m", |b| {
        b.iter(|| {
            at = map
                .get(&order[at])
                .map(|e| e.1.next)
                .expect("every id is in the map");
        })
    });
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
