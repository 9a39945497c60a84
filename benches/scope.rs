//! `scope/*`: checking a route's capability requirement against a key's effective set.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use keyward_testing::rig;

fn scope(c: &mut Criterion) {
    // The example servers' catalog.
    let catalog = rig::catalog();
    let requirement = catalog.all_of(["jobs:read", "desktop:read"]).unwrap();
    let allowed = catalog.effective(&catalog.set(["desktop:read", "jobs:write"]).unwrap());
    let denied = catalog.effective(&catalog.default_set());
    assert!(requirement.is_met_by(&allowed));
    assert!(!requirement.is_met_by(&denied));

    let mut group = c.benchmark_group("scope");
    // Both ids time the same boolean fast check, so they compare like with like.
    group.bench_function("check_allowed", |b| {
        b.iter(|| black_box(&requirement).is_met_by(black_box(&allowed)))
    });
    group.bench_function("check_denied", |b| {
        b.iter(|| black_box(&requirement).is_met_by(black_box(&denied)))
    });
    // The slow path only: building the names of the 403 body.
    group.bench_function("denied_body", |b| {
        b.iter(|| black_box(&requirement).check(black_box(&denied)))
    });
    group.finish();
}

criterion_group!(benches, scope);
criterion_main!(benches);
