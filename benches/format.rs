//! `format/*`: minting and parsing keys.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use keyward_format::KeyFormat;

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

criterion_group!(benches, format);
criterion_main!(benches);
