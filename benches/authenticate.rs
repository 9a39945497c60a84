//! `authenticate/*`: the whole `Authenticator` path, capability check included.

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use keyward::format::KeyFormat;
use keyward::store::{Argon2idHasher, BcryptHasher, MemoryStore, SecretHasher};
use keyward::{Config, Credential, Keyward, MintRequest};
use keyward_benches::{BenchOnlyHasher, demo_catalog, poll_ready};

fn keyward_with(hasher: impl SecretHasher, capacity: usize) -> Keyward {
    Keyward::builder(KeyFormat::new("sk_live_").unwrap(), demo_catalog())
        .store(MemoryStore::new())
        .hasher(hasher)
        .config(Config {
            cache_capacity: capacity,
            ..Config::default()
        })
        .build()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn cached(c: &mut Criterion) {
    let rt = runtime();
    let client: IpAddr = "192.0.2.1".parse().unwrap();
    let requirement = demo_catalog().all_of(["desktop:read"]).unwrap();
    let mut group = c.benchmark_group("authenticate");

    let kw = keyward_with(BcryptHasher::new(4).unwrap(), 100_000);
    let key = rt.block_on(kw.keys().mint(MintRequest::new("bench", "u_1"))).unwrap();
    let key = key.key.expose().to_owned();
    let authn = kw.authenticator();
    rt.block_on(authn.authenticate(Credential::Key(&key), &requirement, client))
        .unwrap();
    group.bench_function("cached_valid", |b| {
        b.iter(|| {
            poll_ready(authn.authenticate(
                Credential::Key(black_box(&key)),
                &requirement,
                client,
            ))
            .unwrap()
        })
    });

    const KEYS: usize = 1_000_000;
    let kw = keyward_with(BenchOnlyHasher, KEYS + 1);
    let authn = kw.authenticator();
    let keys: Vec<String> = rt.block_on(async {
        let mut keys = Vec::with_capacity(KEYS);
        for i in 0..KEYS {
            let minted = kw
                .keys()
                .mint(MintRequest::new(format!("k{i}"), "u_1"))
                .await
                .unwrap();
            let key = minted.key.expose().to_owned();
            authn
                .authenticate(Credential::Key(&key), &requirement, client)
                .await
                .unwrap();
            keys.push(key);
        }
        keys
    });
    assert_eq!(authn.cached_keys(), KEYS);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    group.bench_function("cached_valid_1m", |b| {
        b.iter(|| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let key = &keys[(state % KEYS as u64) as usize];
            poll_ready(authn.authenticate(Credential::Key(key), &requirement, client)).unwrap()
        })
    });
    group.finish();
}

fn cold(c: &mut Criterion) {
    let rt = runtime();
    let client: IpAddr = "192.0.2.1".parse().unwrap();
    let requirement = demo_catalog().all_of(["desktop:read"]).unwrap();
    let mut group = c.benchmark_group("authenticate");
    group.sample_size(10);
    for (id, kw) in [
        ("cold_bcrypt", keyward_with(BcryptHasher::default(), 16)),
        ("cold_argon2id", keyward_with(Argon2idHasher::default(), 16)),
    ] {
        let key = rt.block_on(kw.keys().mint(MintRequest::new("bench", "u_1"))).unwrap();
        let (id_of_key, key) = (key.key.id(), key.key.expose().to_owned());
        let authn = kw.authenticator();
        group.bench_function(id, |b| {
            b.iter(|| {
                authn.evict(&id_of_key);
                rt.block_on(authn.authenticate(Credential::Key(&key), &requirement, client))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, cached, cold);
criterion_main!(benches);
