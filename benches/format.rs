//! `format/*`: minting and parsing keys, and checking a presented key beside the
//! `prefixed-api-key` crate (Seam-style keys) in the same run.

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use keyward::scope::Requirement;
use keyward::store::MemoryStore;
use keyward::{Credential, Keyward, MintRequest};
use keyward_benches::{BenchOnlyHasher, poll_ready};
use keyward_format::KeyFormat;
use keyward_testing::rig;
use prefixed_api_key::PrefixedApiKeyController;

fn format(c: &mut Criterion) {
    let f = KeyFormat::new("sk_live_").unwrap();
    let key = f.mint().unwrap();
    let valid = key.expose().to_owned();
    let mut bad = valid.clone().into_bytes();
    let last = bad.len() - 1;
    bad[last] = if bad[last] == b'0' { b'1' } else { b'0' };
    let bad = String::from_utf8(bad).unwrap();
    assert!(f.parse(&bad).is_err());

    let mut group = c.benchmark_group("format");
    group.bench_function("parse_valid", |b| {
        b.iter(|| f.parse(black_box(&valid)).is_ok())
    });
    group.bench_function("parse_bad_checksum", |b| {
        b.iter(|| f.parse(black_box(&bad)).is_err())
    });
    group.bench_function("mint", |b| b.iter(|| f.mint().unwrap()));
    group.finish();
}

/// Checking a presented key: the peer's parse and SHA-256 verify of its own key (the
/// server's whole check, against a hash it stored), beside keyward's whole check of a
/// cached key (parse, checksum, keyed digest, cache lookup, state and expiry; no limits
/// and no capability, as the peer has neither).
fn check(c: &mut Criterion) {
    let controller = PrefixedApiKeyController::configure()
        .prefix("mycompany".to_owned())
        .seam_defaults()
        .finalize()
        .unwrap();
    let (peer_key, peer_hash) = controller.generate_key_and_hash();
    let peer_key = peer_key.to_string();

    let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), rig::catalog())
        .store(MemoryStore::new())
        .hasher(BenchOnlyHasher)
        .without_rate_limits()
        .without_lockout()
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = rt
        .block_on(keyward.keys().mint(MintRequest::new("bench", "u_1")))
        .unwrap()
        .key
        .expose()
        .to_owned();
    let authenticator = keyward.authenticator();
    let client: IpAddr = "192.0.2.1".parse().unwrap();
    let none = Requirement::none();
    rt.block_on(authenticator.authenticate(Credential::Key(&key), &none, client))
        .unwrap();

    let mut group = c.benchmark_group("format");
    group.bench_function("prefixed_api_key_check", |b| {
        b.iter(|| {
            let parsed =
                prefixed_api_key::PrefixedApiKey::from_string(black_box(&peer_key)).unwrap();
            assert!(controller.check_hash(&parsed, &peer_hash));
        })
    });
    group.bench_function("keyward_cached_check", |b| {
        b.iter(|| {
            poll_ready(authenticator.authenticate(Credential::Key(black_box(&key)), &none, client))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, format, check);
criterion_main!(benches);
