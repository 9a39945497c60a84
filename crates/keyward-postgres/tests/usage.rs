//! The PostgreSQL store's honeytoken and usage columns beyond the conformance suite: a
//! schema from before them gains them with the values its keys had (real keys, no use
//! recorded), and recording use is traffic, not a key change: it notifies nobody.
//!
//! Skipped (with a message) when the server is unreachable, unless
//! `KEYWARD_REQUIRE_SERVICES=1`. Each test works in a fresh schema and drops it.

mod common;

use keyward_format::KeyId;
use keyward_postgres::{Invalidation, ListenerOptions, SCHEMA_VERSION};
use keyward_store::{KeyStore, UsageUpdate};
use keyward_testing::store_conformance::{fresh_id, sample_record};

use common::{WAIT, admin, at, drop_schema, fresh_schema, listen, server, store};

fn usage(id: KeyId, ms: u64, used: &[&str]) -> UsageUpdate {
    UsageUpdate {
        id,
        last_used_at: at(ms),
        used: used.iter().map(|&c| c.to_owned()).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_3_schema_gains_the_columns_with_its_keys_as_they_were() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let first = store(&url, &schema).await;
    let mut record = sample_record(fresh_id(), "o", at(0));
    record.last_used_at = Some(at(5));
    first.insert(&record).await.unwrap();
    first.close().await;
    admin(
        &url,
        format!(
            "ALTER TABLE \"{schema}\".keyward_keys DROP COLUMN honeytoken,
                DROP COLUMN used_capabilities, DROP COLUMN usage_since;
            DELETE FROM \"{schema}\".keyward_schema_version WHERE version > 3"
        ),
    )
    .await;

    let migrated = store(&url, &schema).await;
    let got = migrated.get(&record.id).await.unwrap();
    assert_eq!(got, record);
    assert!(!got.honeytoken);
    assert_eq!((got.used_capabilities.len(), got.usage_since), (0, None));
    let version: i32 = sqlx::query_scalar("SELECT MAX(version) FROM keyward_schema_version")
        .fetch_one(migrated.pool())
        .await
        .unwrap();
    assert_eq!(i64::from(version), SCHEMA_VERSION);

    migrated
        .record_usage(&[usage(record.id, 50, &["keys:read"])])
        .await
        .unwrap();
    let got = migrated.get(&record.id).await.unwrap();
    assert_eq!(got.usage_since, Some(at(50)));
    assert_eq!(got.used_capabilities, ["keys:read"]);
    migrated.close().await;
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_use_notifies_nobody() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    let (listener, mut events) = listen(&store, ListenerOptions::new()).await;
    let mut decoy = sample_record(fresh_id(), "o", at(0));
    decoy.honeytoken = true;
    let marker = sample_record(fresh_id(), "o", at(0));
    store.insert(&decoy).await.unwrap();
    store.insert(&marker).await.unwrap();

    store
        .record_usage(&[
            usage(decoy.id, 10, &["jobs:read", "keys:read"]),
            usage(decoy.id, 20, &["jobs:read"]),
        ])
        .await
        .unwrap();
    store.revoke(&marker.id, at(30)).await.unwrap();
    // Notifications arrive in commit order: the first is the marker's.
    let first = tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("no invalidation in time");
    assert_eq!(first, Some(Invalidation::Key(marker.id)));
    let got = store.get(&decoy.id).await.unwrap();
    assert!(got.honeytoken);
    assert_eq!(got.used_capabilities, ["jobs:read", "keys:read"]);
    assert_eq!(
        (got.last_used_at, got.usage_since),
        (Some(at(20)), Some(at(20)))
    );

    listener.stop().await;
    store.close().await;
    drop_schema(&url, &schema).await;
}
