//! `cache/*`: the verification cache's own table against `DashMap`, the same lookups
//! in one run.
//!
//! Both hold a million entries behind an `Arc`, as the cache does, and use the same
//! hasher (foldhash) and shard count, so what differs is the layout: the cache's
//! table reads one 64-byte bucket and then the entry; `DashMap` (hashbrown) reads
//! control bytes, a slot, then the entry. Each lookup reads a field of the entry, as
//! a request does. Lookups visit the ids in a shuffled order, so the table is mostly
//! out of the CPU caches, as it is on a server with a million keys.

use std::hint::black_box;
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
    expires_at: u64,
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

fn entry(i: usize) -> Entry {
    Entry {
        expires_at: i as u64,
        _rest: [0; 7],
    }
}

fn lookups(c: &mut Criterion) {
    let ids = ids(KEYS);
    let order = shuffled(&ids);

    let table = CacheTable::new();
    for (i, id) in ids.iter().enumerate() {
        table.insert(*id, entry(i));
    }
    assert_eq!(table.len(), KEYS);

    let shards = std::thread::available_parallelism()
        .map_or(4, |n| n.get() * 4)
        .next_power_of_two();
    let map: DashMap<KeyId, Arc<(KeyId, Entry)>, foldhash::fast::RandomState> =
        DashMap::with_hasher_and_shard_amount(foldhash::fast::RandomState::default(), shards);
    for (i, id) in ids.iter().enumerate() {
        map.insert(*id, Arc::new((*id, entry(i))));
    }
    assert_eq!(map.len(), KEYS);

    let mut group = c.benchmark_group("cache");
    let mut next = order.iter().cycle();
    group.bench_function("key_table_1m", |b| {
        b.iter(|| {
            let id = next.next().expect("a cycle never ends");
            table.with(black_box(id), |e| e.map(|e| black_box(e.expires_at)))
        })
    });
    let mut next = order.iter().cycle();
    group.bench_function("dashmap_1m", |b| {
        b.iter(|| {
            let id = next.next().expect("a cycle never ends");
            map.get(black_box(id)).map(|e| black_box(e.1.expires_at))
        })
    });
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
