//! `sqlite/*`: the embedded SQLite store. `get_by_id` is a point lookup with 100,000
//! keys in the file; `mint` is `KeyService::mint` with the default bcrypt cost.
//! `poll_changes` is one poll of the change feed that finds nothing (what a server does
//! every 100 ms while no other process writes), on a file of 10,000 keys whose feed
//! table is full; `poll_changes_one` is one poll that finds one change another store
//! made (the change itself is not timed).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::store::KeyStore;
use keyward::{Config, Keyward, MintRequest};
use keyward_benches::{runtime, stored_records};
use keyward_clock::Timestamp;
use keyward_sqlite::{ChangeFeed, SqliteStore};
use keyward_testing::rig;
use keyward_testing::store_conformance::fresh_id;

const KEYS: usize = 100_000;

/// An expiry far ahead (2096), so the keys stay active while the benchmark moves it.
const FAR: u64 = 4_000_000_000_000;

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "keyward-bench-{label}-{}-{}",
            std::process::id(),
            fresh_id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn db(&self) -> String {
        self.0.join("keys.db").to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sqlite(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("sqlite");

    // 100,000 records inserted directly, with a precomputed hash, in batches.
    let dir = TempDir::new("get");
    let store = rt.block_on(SqliteStore::open(&dir.db())).unwrap();
    let mut ids = Vec::with_capacity(KEYS);
    for records in stored_records(KEYS).chunks(10_000) {
        ids.extend(records.iter().map(|r| r.id));
        rt.block_on(store.insert_batch(records)).unwrap();
    }
    let mut next = 0usize;
    group.bench_function("get_by_id", |b| {
        b.iter(|| {
            next = (next + 7919) % KEYS;
            rt.block_on(store.get(black_box(&ids[next]))).unwrap()
        })
    });

    let dir_mint = TempDir::new("mint");
    let store = rt.block_on(SqliteStore::open(&dir_mint.db())).unwrap();
    let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), rig::catalog())
        .store(store)
        .hasher(BcryptHasher::default())
        .without_rate_limits()
        .without_lockout()
        // Every iteration mints for one owner; the cap of live keys would stop it.
        .config(Config {
            max_live_keys_per_owner: u64::MAX,
            ..Config::default()
        })
        .build()
        .unwrap();
    let keys = keyward.keys();
    group.sample_size(10);
    group.bench_function("mint", |b| {
        b.iter(|| {
            rt.block_on(keys.mint(MintRequest::new("bench", "u_1")))
                .unwrap()
        })
    });
    group.finish();
    drop((dir, dir_mint));
}

fn poll_changes(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("sqlite");
    let dir = TempDir::new("feed");
    let store = rt.block_on(SqliteStore::open(&dir.db())).unwrap();
    let records = stored_records(10_000);
    rt.block_on(store.insert_batch(&records)).unwrap();
    // Another process's stand-in: its own pool on the same file. One change per key
    // fills the feed table to the size pruning keeps it at.
    let other = rt.block_on(SqliteStore::open(&dir.db())).unwrap();
    for record in &records {
        rt.block_on(other.set_expiry(&record.id, Some(Timestamp::from_unix_millis(FAR))))
            .unwrap();
    }
    let mut feed = rt.block_on(ChangeFeed::open(&store)).unwrap();
    group.bench_function("poll_changes", |b| {
        b.iter(|| {
            let events = rt.block_on(feed.poll()).unwrap();
            debug_assert!(events.is_empty());
            events
        })
    });
    let id = records[0].id;
    let mut expiry = 0u64;
    group.bench_function("poll_changes_one", |b| {
        b.iter_custom(|iters| {
            let mut polling = Duration::ZERO;
            for _ in 0..iters {
                expiry += 1;
                let at = Timestamp::from_unix_millis(FAR + expiry);
                rt.block_on(other.set_expiry(&id, Some(at))).unwrap();
                let start = Instant::now();
                let events = black_box(rt.block_on(feed.poll()).unwrap());
                polling += start.elapsed();
                assert_eq!(events.len(), 1);
            }
            polling
        })
    });
    group.finish();
    drop(dir);
}

criterion_group!(benches, sqlite, poll_changes);
criterion_main!(benches);
