//! `authenticate/*`: the whole `Authenticator` path, capability check included.

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use keyward::format::KeyFormat;
use keyward::hash::{Argon2idHasher, BcryptHasher, SecretHasher};
use keyward::limit::Quota;
use keyward::store::MemoryStore;
use keyward::{Config, Credential, Keyward, KeywardBuilder, MintRequest};
use keyward_benches::{BenchOnlyHasher, poll_ready, runtime};
use keyward_testing::rig;
use metrics_exporter_prometheus::PrometheusBuilder;

/// Keyward without limits: `authenticate/cached_valid*` measure verification alone.
fn keyward_with(hasher: impl SecretHasher, capacity: usize) -> Keyward {
    builder(hasher, capacity)
        .without_rate_limits()
        .without_lockout()
        .build()
        .unwrap()
}

fn builder(hasher: impl SecretHasher, capacity: usize) -> KeywardBuilder {
    Keyward::builder(KeyFormat::new("sk_live_").unwrap(), rig::catalog())
        .store(MemoryStore::new())
        .hasher(hasher)
        .config(Config {
            cache_capacity: capacity,
            // Filling a million keys takes longer than the default refresh interval;
            // these benchmarks measure fresh entries (a refresh is a store read).
            cache_refresh: std::time::Duration::from_secs(3600),
            ..Config::default()
        })
}

fn cached(c: &mut Criterion) {
    let rt = runtime();
    let client: IpAddr = "192.0.2.1".parse().unwrap();
    let requirement = rig::catalog().all_of(["desktop:read"]).unwrap();
    let mut group = c.benchmark_group("authenticate");

    let kw = keyward_with(BcryptHasher::new(4).unwrap(), 100_000);
    // A minted key, verified once so the benchmarks below see it cached.
    let cached = |kw: &Keyward| {
        let key = rt
            .block_on(kw.keys().mint(MintRequest::new("bench", "u_1")))
            .unwrap();
        let key = key.key.expose().to_owned();
        let authn = kw.authenticator();
        rt.block_on(authn.authenticate(Credential::Key(&key), &requirement, client))
            .unwrap();
        (authn, key)
    };
    let (authn, key) = cached(&kw);
    group.bench_function("cached_valid", |b| {
        b.iter(|| {
            poll_ready(authn.authenticate(Credential::Key(black_box(&key)), &requirement, client))
                .unwrap()
        })
    });

    // The same with a Prometheus recorder, installed (for this thread) while building,
    // as a service installs its exporter before `build()`: what metrics cost a request.
    let recorder = PrometheusBuilder::new().build_recorder();
    let kw = metrics::with_local_recorder(&recorder, || {
        keyward_with(BcryptHasher::new(4).unwrap(), 100_000)
    });
    let (authn, key) = cached(&kw);
    group.bench_function("cached_valid_recorder", |b| {
        b.iter(|| {
            poll_ready(authn.authenticate(Credential::Key(black_box(&key)), &requirement, client))
                .unwrap()
        })
    });
    let counted = recorder.handle().render();
    assert!(
        counted.contains(r#"keyward_auth_requests_total{outcome="ok"}"#),
        "the recorder saw the requests"
    );

    // The full path with the default in-memory limiter and lockout; a quota no
    // benchmark exhausts keeps every check allowed.
    let kw = builder(BcryptHasher::new(4).unwrap(), 100_000)
        .default_quota(Quota::per_second(1_000_000_000))
        .build()
        .unwrap();
    let (authn, key) = cached(&kw);
    group.bench_function("cached_valid_limited", |b| {
        b.iter(|| {
            poll_ready(authn.authenticate(Credential::Key(black_box(&key)), &requirement, client))
                .unwrap()
        })
    });

    // A cached key checked against a requirement, its use recorded (the default) and
    // not: the ratio of the two is what recording costs a request.
    let jobs = rig::catalog().any_of(["jobs:read", "jobs:write"]).unwrap();
    for (id, record) in [
        ("cached_require", true),
        ("cached_require_unrecorded", false),
    ] {
        let kw = builder(BcryptHasher::new(4).unwrap(), 100_000)
            .config(Config {
                cache_refresh: std::time::Duration::from_secs(3600),
                record_capability_usage: record,
                ..Config::default()
            })
            .without_rate_limits()
            .without_lockout()
            .build()
            .unwrap();
        let key = rt
            .block_on(
                kw.keys()
                    .mint(MintRequest::new("bench", "u_1").capabilities(["jobs:write"])),
            )
            .unwrap();
        let key = key.key.expose().to_owned();
        let authn = kw.authenticator();
        rt.block_on(authn.authenticate(Credential::Key(&key), &jobs, client))
            .unwrap();
        group.bench_function(id, |b| {
            b.iter(|| {
                poll_ready(authn.authenticate(Credential::Key(black_box(&key)), &jobs, client))
                    .unwrap()
            })
        });
    }

    const KEYS: usize = 1_000_000;
    let kw = keyward_with(BenchOnlyHasher, KEYS + 1);
    let authn = kw.authenticator();
    // One contiguous buffer: a request's key is one memory read, not a pointer chase.
    let keys: String = rt.block_on(async {
        let mut keys = String::with_capacity(KEYS * 58);
        for i in 0..KEYS {
            let minted = kw
                .keys()
                // An owner per key: owners hold at most `max_live_keys_per_owner`.
                .mint(MintRequest::new(format!("k{i}"), format!("u_{i}")))
                .await
                .unwrap();
            keys.push_str(minted.key.expose());
        }
        keys
    });
    // Cached in a second pass, as a server fills its cache from an external store:
    // the entries are not interleaved with the in-memory store's records.
    let key_len = kw.format().key_len();
    rt.block_on(async {
        for i in 0..KEYS {
            let key = &keys[i * key_len..(i + 1) * key_len];
            authn
                .authenticate(Credential::Key(key), &requirement, client)
                .await
                .unwrap();
        }
    });
    assert_eq!(authn.cached_keys(), KEYS);
    // Requests arrive in a random order over the million keys, and each request's key
    // is in a freshly read buffer: lay the keys out shuffled and read them in sequence,
    // so every lookup hits a random cache entry but reading the key itself is not a
    // memory miss that a real request would not have.
    let mut order: Vec<usize> = (0..KEYS).collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next_random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in (1..KEYS).rev() {
        order.swap(i, (next_random() % (i as u64 + 1)) as usize);
    }
    let requests: String = order
        .iter()
        .map(|&i| &keys[i * key_len..(i + 1) * key_len])
        .collect();
    drop(keys);
    let mut at = 0;
    group.bench_function("cached_valid_1m", |b| {
        b.iter(|| {
            let key = &requests[at * key_len..(at + 1) * key_len];
            at = if at + 1 == KEYS { 0 } else { at + 1 };
            poll_ready(authn.authenticate(Credential::Key(key), &requirement, client)).unwrap()
        })
    });
    group.finish();
}

fn cold(c: &mut Criterion) {
    let rt = runtime();
    let client: IpAddr = "192.0.2.1".parse().unwrap();
    let requirement = rig::catalog().all_of(["desktop:read"]).unwrap();
    let mut group = c.benchmark_group("authenticate");
    group.sample_size(10);
    for (id, kw) in [
        ("cold_bcrypt", keyward_with(BcryptHasher::default(), 16)),
        ("cold_argon2id", keyward_with(Argon2idHasher::default(), 16)),
    ] {
        let key = rt
            .block_on(kw.keys().mint(MintRequest::new("bench", "u_1")))
            .unwrap();
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
