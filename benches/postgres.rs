//! `postgres/*`: the PostgreSQL store, against `KEYWARD_TEST_DATABASE_URL` (default
//! `postgres://postgres:postgres@127.0.0.1:5432/test`), in a fresh schema dropped at the
//! end. Prints `skipped: …` and exits cleanly when the server is unreachable.
//!
//! - `postgres/get_by_id` (criterion): a point lookup with 10,000 keys in the table.
//! - `postgres/revocation_propagation` (a plain timed loop, not criterion: each sample is
//!   one event crossing two connections): 100 revocations committed through store A,
//!   each timed until the invalidation listener on store B delivers it; prints median
//!   and max, measured both from issuing the revoke and from its commit returning.

use std::hint::black_box;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use keyward::clock::Timestamp;
use keyward::format::KeyId;
use keyward::store::KeyStore;
use keyward_benches::{runtime, stored_records};
use keyward_postgres::{Invalidation, InvalidationListener, PostgresOptions, PostgresStore};
use keyward_testing::store_conformance::{fresh_id, sample_record};

const KEYS: usize = 10_000;
const REVOCATIONS: usize = 100;

fn main() {
    let url = std::env::var("KEYWARD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/test".to_owned());
    let rt = runtime();
    let schema = format!("kwb_{}", fresh_id().as_str().to_ascii_lowercase());
    let options = PostgresOptions::new()
        .schema(&schema)
        .acquire_timeout(Duration::from_secs(3));
    let store = match rt.block_on(PostgresStore::connect_with(&url, options.clone())) {
        Ok(store) => store,
        Err(e) => {
            // The error names host:port/database, never the password.
            eprintln!("skipped: PostgreSQL unreachable: {e}");
            return;
        }
    };

    let mut criterion = Criterion::default().configure_from_args();
    get_by_id(&mut criterion, &rt, &store);
    if wanted("postgres/revocation_propagation") {
        let other = rt
            .block_on(PostgresStore::connect_with(&url, options))
            .unwrap();
        revocation_propagation(&rt, &store, &other);
        rt.block_on(other.close());
    }
    criterion.final_summary();

    let drop_schema = format!("DROP SCHEMA \"{schema}\" CASCADE");
    rt.block_on(async {
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop_schema))
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
}

/// Whether a benchmark filter given on the command line (if any) selects `name`.
fn wanted(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

fn get_by_id(c: &mut Criterion, rt: &tokio::runtime::Runtime, store: &PostgresStore) {
    // 10,000 records inserted directly, with a precomputed hash, in batches.
    let mut ids = Vec::with_capacity(KEYS);
    for records in stored_records(KEYS).chunks(1_000) {
        ids.extend(records.iter().map(|r| r.id));
        rt.block_on(store.insert_batch(records)).unwrap();
    }
    let mut group = c.benchmark_group("postgres");
    let mut next = 0usize;
    group.bench_function("get_by_id", |b| {
        b.iter(|| {
            next = (next + 7919) % KEYS;
            rt.block_on(store.get(black_box(&ids[next]))).unwrap()
        })
    });
    group.finish();
}

fn revocation_propagation(rt: &tokio::runtime::Runtime, a: &PostgresStore, b: &PostgresStore) {
    let (tx, rx) = mpsc::channel::<(KeyId, Instant)>();
    let listener = rt
        .block_on(InvalidationListener::start(b, move |event| {
            if let Invalidation::Key(id) = event {
                let _ = tx.send((id, Instant::now()));
            }
        }))
        .unwrap();
    let mut from_issue = Vec::with_capacity(REVOCATIONS);
    let mut from_commit = Vec::with_capacity(REVOCATIONS);
    for i in 0..REVOCATIONS {
        let record = sample_record(
            fresh_id(),
            "propagation",
            Timestamp::from_unix_millis(i as u64),
        );
        rt.block_on(a.insert(&record)).unwrap();
        let issued = Instant::now();
        rt.block_on(a.revoke(&record.id, Timestamp::from_unix_millis(1)))
            .unwrap();
        let committed = Instant::now();
        let received = loop {
            let (id, at) = rx
                .recv_timeout(Duration::from_secs(5))
                .expect("no invalidation within 5 s");
            if id == record.id {
                break at;
            }
        };
        from_issue.push(received.saturating_duration_since(issued));
        from_commit.push(received.saturating_duration_since(committed));
    }
    drop(listener);
    let summary = |name: &str, mut samples: Vec<Duration>| {
        samples.sort();
        println!(
            "postgres/revocation_propagation ({name}, {REVOCATIONS} revocations, timed loop): median {:?}, max {:?}",
            samples[samples.len() / 2],
            samples[samples.len() - 1]
        );
    };
    summary("revoke issued -> listener", from_issue);
    summary("revoke returned -> listener", from_commit);
}
