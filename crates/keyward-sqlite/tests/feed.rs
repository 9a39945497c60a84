//! The change feed: what one `SqliteStore` changes reaches a subscriber on another one
//! (as another process would), bounded, and recovering with `All` when it fell behind.

use std::sync::Arc;
use std::time::Duration;

use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::scope::Catalog;
use keyward::{Credential, Keyward, MintRequest};
use keyward_clock::Timestamp;
use keyward_sqlite::{
    CHANGES_KEPT, ChangeFeed, Invalidation, SCHEMA_VERSION, SqliteFeedOptions, SqliteStore,
};
use keyward_store::{InvalidationSource, KeyRecord, KeyStore, StoreError, Subscription};
use keyward_testing::store_conformance::{fresh_id, sample_record};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

fn db_path(dir: &tempfile::TempDir) -> String {
    dir.path().join("keys.db").to_str().unwrap().to_owned()
}

fn at(millis: u64) -> Timestamp {
    Timestamp::from_unix_millis(millis)
}

/// A fast poll, so a test waits tens of milliseconds, not the default interval.
fn fast() -> SqliteFeedOptions {
    SqliteFeedOptions::new().poll_interval(Duration::from_millis(20))
}

/// Subscribes to `source`, collecting what it delivers.
fn subscribe(source: &impl InvalidationSource) -> (Subscription, UnboundedReceiver<Invalidation>) {
    let (tx, rx) = unbounded_channel();
    let subscription = source
        .subscribe(Arc::new(move |event| {
            let _ = tx.send(event);
        }))
        .unwrap();
    (subscription, rx)
}

/// The next delivery, waiting at most 5 s for it.
async fn next(rx: &mut UnboundedReceiver<Invalidation>) -> Invalidation {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an invalidation within 5 s")
        .expect("the feed still runs")
}

async fn insert(store: &SqliteStore) -> KeyRecord {
    let record = sample_record(fresh_id(), "o", at(1_000));
    store.insert(&record).await.unwrap();
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_gets_all_first_then_each_key_another_store_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let server = SqliteStore::open(&path).await.unwrap();
    // Another process on the same file: its own pool, its own connections.
    let other = SqliteStore::open(&path).await.unwrap();
    let mut keys = Vec::new();
    for _ in 0..6 {
        keys.push(insert(&other).await);
    }

    let (_subscription, mut rx) = subscribe(&server.invalidations(fast()));
    assert_eq!(next(&mut rx).await, Invalidation::All);

    other.revoke(&keys[0].id, at(2_000)).await.unwrap();
    assert_eq!(next(&mut rx).await, Invalidation::Key(keys[0].id));

    other
        .set_disabled(&keys[1].id, Some(at(2_000)))
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, Invalidation::Key(keys[1].id));
    other.set_disabled(&keys[1].id, None).await.unwrap();
    assert_eq!(next(&mut rx).await, Invalidation::Key(keys[1].id));

    other
        .set_expiry(&keys[2].id, Some(at(3_000)))
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, Invalidation::Key(keys[2].id));

    // A roll changes the old key; the replacement is new, so nothing caches it.
    let replacement = sample_record(fresh_id(), "o", at(2_000));
    other
        .roll(&keys[3].id, at(2_000), &replacement, at(2_000))
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, Invalidation::Key(keys[3].id));

    other.delete(&keys[4].id).await.unwrap();
    assert_eq!(next(&mut rx).await, Invalidation::Key(keys[4].id));

    // Traffic logs nothing: usage flushes, re-hashing, a revoke of a revoked key. The
    // next delivery is the change after them.
    other
        .touch_last_used(&[(keys[5].id, at(4_000))])
        .await
        .unwrap();
    other.update_hash(&keys[5].id, "rehashed").await.unwrap();
    other.revoke(&keys[0].id, at(5_000)).await.unwrap();
    other.revoke(&keys[5].id, at(5_000)).await.unwrap();
    assert_eq!(next(&mut rx).await, Invalidation::Key(keys[5].id));
    assert!(rx.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_returns_changes_in_order_and_nothing_when_idle() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).await.unwrap();
    let other = SqliteStore::open(&path).await.unwrap();
    let a = insert(&store).await;
    let b = insert(&store).await;
    let mut feed = ChangeFeed::open(&store).await.unwrap();
    let start = feed.position();
    assert!(feed.poll().await.unwrap().is_empty());

    other.revoke(&b.id, at(2_000)).await.unwrap();
    // This process's own changes are in the feed too.
    store.set_disabled(&a.id, Some(at(2_000))).await.unwrap();
    other.revoke(&a.id, at(2_000)).await.unwrap();
    assert_eq!(
        feed.poll().await.unwrap(),
        [
            Invalidation::Key(b.id),
            Invalidation::Key(a.id),
            Invalidation::Key(a.id)
        ]
    );
    assert_eq!(feed.position(), start + 3);
    assert!(feed.poll().await.unwrap().is_empty());

    // A usage flush commits (the feed looks) but logs nothing (it finds nothing).
    other.touch_last_used(&[(a.id, at(9_000))]).await.unwrap();
    assert!(feed.poll().await.unwrap().is_empty());
    assert_eq!(feed.position(), start + 3);
}

/// Inserts `n` keys in one transaction.
async fn insert_many(store: &SqliteStore, n: usize) -> Vec<KeyRecord> {
    let records: Vec<_> = (0..n)
        .map(|_| sample_record(fresh_id(), "bulk", at(1_000)))
        .collect();
    store.insert_batch(&records).await.unwrap();
    records
}

async fn raw_pool(path: &str) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    sqlx::SqlitePool::connect_with(options).await.unwrap()
}

/// Rows kept, the oldest kept and the newest sequence number.
async fn kept(raw: &sqlx::SqlitePool) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT COUNT(*), (SELECT MIN(seq) FROM keyward_changes),
            (SELECT MAX(seq) FROM keyward_changes) FROM keyward_changes",
    )
    .fetch_one(raw)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_keeps_the_newest_rows_and_a_feed_behind_them_gets_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).await.unwrap();
    let raw = raw_pool(&path).await;
    let extra = 50;
    let records = insert_many(&store, CHANGES_KEPT as usize + extra).await;
    let mut behind = ChangeFeed::open(&store).await.unwrap();
    assert_eq!(behind.position(), 0);

    // One statement changes every key: more changes than the table keeps.
    sqlx::query("UPDATE keyward_keys SET disabled_at = 7")
        .execute(&raw)
        .await
        .unwrap();
    let total = CHANGES_KEPT + extra as i64;
    assert_eq!(
        kept(&raw).await,
        (CHANGES_KEPT, total - CHANGES_KEPT + 1, total)
    );

    // The first `extra` changes are gone: the feed cannot say which keys they were.
    assert_eq!(behind.poll().await.unwrap(), [Invalidation::All]);
    assert_eq!(behind.position(), total);
    assert!(behind.poll().await.unwrap().is_empty());

    // A feed within the kept range reads every change, in batches.
    let mut within = ChangeFeed::open(&store).await.unwrap();
    sqlx::query(
        "UPDATE keyward_keys SET disabled_at = NULL
        WHERE id IN (SELECT id FROM keyward_keys ORDER BY id LIMIT 2500)",
    )
    .execute(&raw)
    .await
    .unwrap();
    let events = within.poll().await.unwrap();
    assert_eq!(events.len(), 2_500);
    let mut ids: Vec<_> = records.iter().map(|r| r.id.as_str().to_owned()).collect();
    ids.sort();
    let mut seen: Vec<_> = events
        .iter()
        .map(|e| match e {
            Invalidation::Key(id) => id.as_str().to_owned(),
            Invalidation::All => panic!("a feed within range got All"),
        })
        .collect();
    seen.sort();
    assert_eq!(seen, ids[..2_500]);
    assert_eq!(kept(&raw).await.0, CHANGES_KEPT);

    // The feed that was behind carries on from the newest, and the table stays bounded.
    assert_eq!(behind.poll().await.unwrap().len(), 2_500);
    store.revoke(&records[0].id, at(9_000)).await.unwrap();
    assert_eq!(
        behind.poll().await.unwrap(),
        [Invalidation::Key(records[0].id)]
    );
    assert_eq!(kept(&raw).await.0, CHANGES_KEPT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_fell_behind_the_kept_range_gets_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let server = SqliteStore::open(&path).await.unwrap();
    let other = SqliteStore::open(&path).await.unwrap();
    let records = insert_many(&other, CHANGES_KEPT as usize + 1).await;
    let (_subscription, mut rx) = subscribe(&server.invalidations(fast()));
    assert_eq!(next(&mut rx).await, Invalidation::All);

    // One commit of more changes than are kept: the subscriber cannot name them all.
    let raw = raw_pool(&path).await;
    sqlx::query("UPDATE keyward_keys SET revoked_at = 7")
        .execute(&raw)
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, Invalidation::All);
    other.delete(&records[0].id).await.unwrap();
    assert_eq!(next(&mut rx).await, Invalidation::Key(records[0].id));
    assert!(rx.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_emptied_by_hand_is_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).await.unwrap();
    let a = insert(&store).await;
    let mut feed = ChangeFeed::open(&store).await.unwrap();
    let raw = raw_pool(&path).await;
    store.revoke(&a.id, at(2_000)).await.unwrap();
    sqlx::query("DELETE FROM keyward_changes")
        .execute(&raw)
        .await
        .unwrap();
    assert_eq!(feed.poll().await.unwrap(), [Invalidation::All]);
    store.delete(&a.id).await.unwrap();
    assert_eq!(feed.poll().await.unwrap(), [Invalidation::Key(a.id)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_subscription_stops_its_task() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(&dir)).await.unwrap();
    let (subscription, mut rx) = subscribe(&store.invalidations(fast()));
    assert_eq!(next(&mut rx).await, Invalidation::All);
    drop(subscription);
    // The task held the only sender: the channel closes once the task is gone.
    let closed = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(
        closed,
        Ok(None),
        "the polling task outlived its subscription"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_store_stops_the_task_and_refuses_new_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(&dir)).await.unwrap();
    let (_subscription, mut rx) = subscribe(&store.invalidations(fast()));
    assert_eq!(next(&mut rx).await, Invalidation::All);
    store.close().await;
    let closed = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(closed, Ok(None), "the polling task outlived its store");
    let refused = store.subscribe(Arc::new(|_| {}));
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{refused:?}"
    );
    assert!(matches!(
        ChangeFeed::open(&store).await,
        Err(StoreError::Unavailable(_))
    ));
}

#[test]
fn subscribing_outside_a_runtime_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime.block_on(SqliteStore::open(&db_path(&dir))).unwrap();
    let refused = store.subscribe(Arc::new(|_| {}));
    match refused {
        Err(StoreError::InvalidRequest(message)) => {
            assert!(message.contains("Tokio runtime"), "{message}")
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

/// A file as schema version 2 left it (before the change feed), with one key.
const VERSION_2: &str = "CREATE TABLE keyward_schema_version (
        version INTEGER PRIMARY KEY NOT NULL,
        applied_at INTEGER NOT NULL
    );
    INSERT INTO keyward_schema_version (version, applied_at) VALUES (1, 0), (2, 0);
    CREATE TABLE keyward_keys (
        id TEXT PRIMARY KEY NOT NULL,
        prefix TEXT NOT NULL,
        last4 TEXT NOT NULL,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        tenant_team TEXT,
        tenant_project TEXT,
        capabilities TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        last_used_at INTEGER,
        revoked_at INTEGER,
        disabled_at INTEGER,
        hash TEXT NOT NULL,
        metadata TEXT NOT NULL,
        rate_limit INTEGER,
        rate_period_ms INTEGER,
        ip_allowlist TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX keyward_keys_by_created ON keyward_keys (created_at, id);
    CREATE INDEX keyward_keys_by_owner ON keyward_keys (owner, created_at, id);
    CREATE INDEX keyward_keys_by_tenant
        ON keyward_keys (tenant_team, tenant_project, created_at, id);
    ALTER TABLE keyward_keys ADD COLUMN replaced_by TEXT;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_file_is_migrated_and_feeds_its_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let raw = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::raw_sql(VERSION_2).execute(&raw).await.unwrap();
    let old = sample_record(fresh_id(), "o", at(1_000));
    sqlx::query(
        "INSERT INTO keyward_keys (id, prefix, last4, name, owner, capabilities, created_at,
            hash, metadata, ip_allowlist)
        VALUES (?1, ?2, ?3, ?4, ?5, '[\"keys:read\"]', 1000, ?6, '{}', '[]')",
    )
    .bind(old.id.as_str())
    .bind(&old.prefix)
    .bind(&old.last4)
    .bind(&old.name)
    .bind(&old.owner)
    .bind(&old.hash)
    .execute(&raw)
    .await
    .unwrap();
    raw.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.get(&old.id).await.unwrap(), old);
    let mut feed = ChangeFeed::open(&store).await.unwrap();
    assert_eq!(feed.position(), 0);
    let other = SqliteStore::open(&path).await.unwrap();
    other.revoke(&old.id, at(2_000)).await.unwrap();
    assert_eq!(feed.poll().await.unwrap(), [Invalidation::Key(old.id)]);
    store.close().await;

    let raw = raw_pool(&path).await;
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM keyward_schema_version ORDER BY version")
            .fetch_all(&raw)
            .await
            .unwrap();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    assert_eq!(SCHEMA_VERSION, 5);
}

/// `jobs:read` only.
fn catalog() -> Catalog {
    Catalog::builder()
        .capabilities(["jobs:read"])
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_through_another_store_is_refused_by_a_subscribed_keyward() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).await.unwrap();
    let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), catalog())
        .shared_store(Arc::new(store.clone()))
        .invalidations(store.invalidations(fast()))
        .hasher(BcryptHasher::new(4).unwrap())
        .without_rate_limits()
        .without_lockout()
        .build()
        .unwrap();
    let minted = keyward
        .keys()
        .mint(MintRequest::new("CI", "u_1").capabilities(["jobs:read"]))
        .await
        .unwrap();
    let route = catalog().all_of(["jobs:read"]).unwrap();
    let ip = "203.0.113.7".parse().unwrap();
    let auth = keyward.authenticator();
    let key = minted.key.expose();
    auth.authenticate(Credential::Key(key), &route, ip)
        .await
        .unwrap();

    let other = SqliteStore::open(&path).await.unwrap();
    other.revoke(&minted.summary.id, at(2_000)).await.unwrap();
    // Cached as valid until the feed says otherwise: then refused on a store read.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match auth.authenticate(Credential::Key(key), &route, ip).await {
            Err(e) => {
                assert_eq!(e.code().as_str(), "key_revoked");
                break;
            }
            Ok(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(5)).await
            }
            Ok(_) => panic!("a key revoked through another store was still accepted after 5 s"),
        }
    }
}
