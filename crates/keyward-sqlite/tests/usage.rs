//! The SQLite store's honeytoken and usage columns beyond the conformance suite: a file
//! from before them gains them with the values its keys had (real keys, no use
//! recorded), and recording use is traffic, not a key change: it never reaches the
//! change feed.

mod common;

use keyward_sqlite::{ChangeFeed, SCHEMA_VERSION};
use keyward_store::{KeyStore, UsageUpdate};
use keyward_testing::store_conformance::{fresh_id, sample_record};

use common::{at, exec, open};

fn usage(id: keyward_format::KeyId, ms: u64, used: &[&str]) -> UsageUpdate {
    UsageUpdate {
        id,
        last_used_at: at(ms),
        used: used.iter().map(|&c| c.to_owned()).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_4_file_gains_the_columns_with_its_keys_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let (store, raw) = open(&dir).await;
    let mut record = sample_record(fresh_id(), "o", at(0));
    record.last_used_at = Some(at(5));
    store.insert(&record).await.unwrap();
    store.close().await;
    exec(
        &raw,
        "ALTER TABLE keyward_keys DROP COLUMN honeytoken;
        ALTER TABLE keyward_keys DROP COLUMN used_capabilities;
        ALTER TABLE keyward_keys DROP COLUMN usage_since;
        DELETE FROM keyward_schema_version WHERE version > 4;",
    )
    .await;

    let (store, raw) = open(&dir).await;
    let got = store.get(&record.id).await.unwrap();
    assert_eq!(got, record);
    assert!(!got.honeytoken);
    assert_eq!((got.used_capabilities.len(), got.usage_since), (0, None));
    let version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM keyward_schema_version")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);

    // Its first recorded use starts its record of use.
    store
        .record_usage(&[usage(record.id, 50, &["keys:read"])])
        .await
        .unwrap();
    let got = store.get(&record.id).await.unwrap();
    assert_eq!(got.usage_since, Some(at(50)));
    assert_eq!(got.used_capabilities, ["keys:read"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_use_is_no_key_change() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _raw) = open(&dir).await;
    let mut decoy = sample_record(fresh_id(), "o", at(0));
    decoy.honeytoken = true;
    store.insert(&decoy).await.unwrap();
    let mut feed = ChangeFeed::open(&store).await.unwrap();
    store
        .record_usage(&[
            usage(decoy.id, 10, &["jobs:read", "keys:read"]),
            usage(decoy.id, 20, &["jobs:read"]),
        ])
        .await
        .unwrap();
    assert_eq!(feed.poll().await.unwrap(), []);
    let got = store.get(&decoy.id).await.unwrap();
    assert!(got.honeytoken);
    assert_eq!(got.used_capabilities, ["jobs:read", "keys:read"]);
    assert_eq!(
        (got.last_used_at, got.usage_since),
        (Some(at(20)), Some(at(20)))
    );
}
