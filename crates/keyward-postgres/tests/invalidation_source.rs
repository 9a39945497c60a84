//! The store as an `InvalidationSource` against a real server: what a subscription
//! delivers, that it needs a runtime, and keyward instances wired with one builder call.
//!
//! The server is `KEYWARD_TEST_DATABASE_URL` (default
//! `postgres://postgres:postgres@127.0.0.1:5432/test`). When it cannot be reached each
//! test prints `skipped: …` and passes, unless `KEYWARD_REQUIRE_SERVICES=1`. Every test
//! works in a fresh schema of its own and drops it at the end.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::scope::Catalog;
use keyward::{Credential, Keyward, MintRequest};
use keyward_clock::Timestamp;
use keyward_postgres::{ListenerOptions, PostgresStore};
use keyward_store::{Invalidation, InvalidationSource, KeyStore, StoreError};
use keyward_testing::store_conformance::{fresh_id, sample_record};
use tokio::sync::mpsc;

use common::{WAIT, fresh_schema, server, store};

async fn drop_schema(store: PostgresStore, schema: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
}

/// Waits up to 3 s for the backends named `application_name` to be gone.
async fn assert_backend_gone(store: &PostgresStore, application_name: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
                .bind(application_name)
                .fetch_one(store.pool())
                .await
                .unwrap();
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the listening backend outlived its subscription"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Invalidation>, within: Duration) -> Invalidation {
    tokio::time::timeout(within, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no invalidation within {within:?}"))
        .expect("sink dropped")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_clears_everything_once_listening_then_names_keys() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    let name = format!("kwt-source-{schema}");
    let (tx, mut events) = mpsc::unbounded_channel();
    let subscription = store
        .invalidations(ListenerOptions::new().application_name(&name))
        .subscribe(Arc::new(move |event| {
            let _ = tx.send(event);
        }))
        .unwrap();

    // Whatever was cached before the LISTEN was in place is dropped.
    assert_eq!(
        next(&mut events, Duration::from_secs(5)).await,
        Invalidation::All
    );
    let record = sample_record(fresh_id(), "o", Timestamp::from_unix_seconds(1));
    store.insert(&record).await.unwrap();
    store
        .revoke(&record.id, Timestamp::from_unix_seconds(2))
        .await
        .unwrap();
    assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(record.id));

    drop(subscription);
    assert_backend_gone(&store, &name).await;
    drop_schema(store, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_outside_a_runtime_is_an_error_not_a_panic() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    let outside = store.clone();
    let result = std::thread::spawn(move || outside.subscribe(Arc::new(|_| {})))
        .join()
        .expect("no panic");
    let err = result.unwrap_err();
    assert!(matches!(err, StoreError::InvalidRequest(_)), "{err:?}");
    assert!(err.to_string().contains("Tokio runtime"), "{err}");
    drop_schema(store, &schema).await;
}

fn catalog() -> Catalog {
    Catalog::builder()
        .capabilities(["jobs:read", "jobs:write"])
        .implies("jobs:write", "jobs:read")
        .build()
        .unwrap()
}

/// keyward over `store`, subscribed to its invalidations: the one builder call.
fn keyward(store: &PostgresStore, options: ListenerOptions) -> Keyward {
    Keyward::builder(KeyFormat::new("sk_live_").unwrap(), catalog())
        .store(store.clone())
        .invalidations(store.invalidations(options))
        .hasher(BcryptHasher::new(4).unwrap())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_through_one_keyward_is_refused_by_another_within_a_second() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let first_store = store(&url, &schema).await;
    let second_store = store(&url, &schema).await;
    let first = keyward(&first_store, ListenerOptions::new());
    let name = format!("kwt-second-{schema}");
    let second = keyward(
        &second_store,
        ListenerOptions::new().application_name(&name),
    );

    let minted = first
        .keys()
        .mint(MintRequest::new("CI", "u_1").capabilities(["jobs:write"]))
        .await
        .unwrap();
    let route = catalog().all_of(["jobs:read"]).unwrap();
    let ip = "203.0.113.7".parse().unwrap();
    let auth = second.authenticator();
    let key = Credential::Key(minted.key.expose());
    assert_eq!(
        auth.authenticate(key, &route, ip).await.unwrap().owner(),
        "u_1"
    );
    assert_eq!(auth.cached_keys(), 1, "the second instance caches the key");

    first.keys().revoke(&minted.summary.id).await.unwrap();
    // Delivery is asynchronous: poll, within a bound far below the cache's 30 s refresh.
    let deadline = Instant::now() + WAIT;
    loop {
        match auth.authenticate(key, &route, ip).await {
            Err(refused) => {
                assert_eq!(refused.code().as_str(), "key_revoked");
                break;
            }
            Ok(_) => assert!(
                Instant::now() < deadline,
                "still accepted {WAIT:?} after the revocation"
            ),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The subscription ends with the last user of the keyward.
    drop(auth);
    drop(second);
    assert_backend_gone(&second_store, &name).await;

    drop(first);
    second_store.close().await;
    drop_schema(first_store, &schema).await;
}
