//! The SQLite store against the conformance suite, across re-opens, and on bad files.

use std::sync::Arc;

use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::scope::Catalog;
use keyward::{Credential, Keyward, MintRequest};
use keyward_clock::Timestamp;
use keyward_sqlite::{SCHEMA_VERSION, SqliteError, SqliteStore};
use keyward_store::{KeyStore, StoreError};
use keyward_testing::store_conformance::{self as conformance, fresh_id, sample_record};

fn db_path(dir: &tempfile::TempDir) -> String {
    dir.path().join("keys.db").to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(&dir)).await.unwrap();
    conformance::run(Arc::new(store.clone())).await;
    // Twice on the same file: leftovers never interfere.
    conformance::run(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_url_and_plain_path_open_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let a = SqliteStore::open(&path).await.unwrap();
    let record = sample_record(fresh_id(), "o", Timestamp::from_unix_millis(1_000));
    a.insert(&record).await.unwrap();
    let b = SqliteStore::open(&format!("sqlite:{path}")).await.unwrap();
    assert_eq!(b.get(&record.id).await.unwrap(), record);
    assert!(matches!(b.insert(&record).await, Err(StoreError::Conflict)));
}

/// `jobs:write`, which implies `jobs:read`.
fn catalog() -> Catalog {
    Catalog::builder()
        .capabilities(["jobs:read", "jobs:write"])
        .implies("jobs:write", "jobs:read")
        .build()
        .unwrap()
}

fn keyward(store: SqliteStore) -> Keyward {
    Keyward::builder(KeyFormat::new("sk_live_").unwrap(), catalog())
        .store(store)
        .hasher(BcryptHasher::new(4).unwrap())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_minted_by_one_process_verify_in_another() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let first = keyward(SqliteStore::open(&path).await.unwrap());
    let minted = first
        .keys()
        .mint(MintRequest::new("CI", "u_1").capabilities(["jobs:write"]))
        .await
        .unwrap();
    // The "server" stays open while a second "process" (the CLI) opens the same file.
    let second = keyward(SqliteStore::open(&path).await.unwrap());
    let route = catalog().all_of(["jobs:read"]).unwrap();
    let ip = "203.0.113.7".parse().unwrap();
    let who = second
        .authenticator()
        .authenticate(Credential::Key(minted.key.expose()), &route, ip)
        .await
        .unwrap();
    assert_eq!(who.owner(), "u_1");
    // Revoked through the second; the first sees it on its next store read.
    second.keys().revoke(&minted.summary.id).await.unwrap();
    let seen = first.keys().get(&minted.summary.id).await.unwrap();
    assert!(seen.revoked_at.is_some());
    drop((first, second));

    // And after both are gone, a third open still finds the key.
    let third = keyward(SqliteStore::open(&path).await.unwrap());
    let listed = third
        .keys()
        .list(
            &keyward::store::ListFilter::owner("u_1"),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.keys.len(), 1);
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let junk = b"this is not an SQLite database, just some text that is long enough. ".repeat(100);
    std::fs::write(&path, &junk).unwrap();
    let e = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(e, SqliteError::NotADatabase { .. }), "{e:?}");
    assert!(
        e.to_string().contains("not a keyward SQLite database"),
        "{e}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[tokio::test]
async fn an_unopenable_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be.
    let e = SqliteStore::open(dir.path().to_str().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, SqliteError::CannotOpen { .. }), "{e:?}");
    // A parent directory that does not exist.
    let missing = dir.path().join("no/such/dir/keys.db");
    let e = SqliteStore::open(missing.to_str().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, SqliteError::CannotOpen { .. }), "{e:?}");
    assert!(!missing.exists());
}

#[cfg(unix)]
#[tokio::test]
async fn an_unreadable_file_or_read_only_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores permissions: then there is nothing to test here.
    let probe = ro.join("probe");
    if std::fs::write(&probe, b"x").is_ok() {
        std::fs::remove_file(&probe).unwrap();
        eprintln!("running with privileges that ignore permissions; skipped");
        return;
    }
    let path = ro.join("keys.db");
    let e = SqliteStore::open(path.to_str().unwrap()).await.unwrap_err();
    assert!(
        matches!(
            e,
            SqliteError::CannotOpen { .. } | SqliteError::ReadOnly { .. }
        ),
        "{e:?}"
    );
    assert!(!path.exists());

    let file = dir.path().join("locked.db");
    drop(SqliteStore::open(file.to_str().unwrap()).await.unwrap());
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let e = SqliteStore::open(file.to_str().unwrap()).await.unwrap_err();
    assert!(
        matches!(
            e,
            SqliteError::CannotOpen { .. } | SqliteError::ReadOnly { .. }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).await.unwrap();
    let record = sample_record(fresh_id(), "o", Timestamp::from_unix_millis(1_000));
    store.insert(&record).await.unwrap();
    store.close().await;

    // A future keyward recorded a newer version.
    let bump = raw_pool(&path).await;
    sqlx_bump(&bump, SCHEMA_VERSION + 1).await;

    let before = std::fs::read(&path).unwrap();
    let e = SqliteStore::open(&path).await.unwrap_err();
    match &e {
        SqliteError::NewerSchema {
            found, supported, ..
        } => {
            assert_eq!(*found, SCHEMA_VERSION + 1);
            assert_eq!(*supported, SCHEMA_VERSION);
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert!(e.to_string().contains("upgrade keyward"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn a_row_that_does_not_decode_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).await.unwrap();
    let record = sample_record(fresh_id(), "o", Timestamp::from_unix_millis(1_000));
    store.insert(&record).await.unwrap();
    let raw = raw_pool(&path).await;
    sqlx::query("UPDATE keyward_keys SET capabilities = 'not json' WHERE id = ?1")
        .bind(record.id.as_str())
        .execute(&raw)
        .await
        .unwrap();
    assert!(matches!(
        store.get(&record.id).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(&dir)).await.unwrap();
    store.close().await;
    assert!(matches!(
        store.get(&fresh_id()).await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn insert_batch_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(&dir)).await.unwrap();
    let at = Timestamp::from_unix_millis(5);
    let a = sample_record(fresh_id(), "batch", at);
    let b = sample_record(fresh_id(), "batch", at);
    store.insert(&b).await.unwrap();
    let fresh = sample_record(fresh_id(), "batch", at);
    assert!(matches!(
        store.insert_batch(&[a.clone(), b.clone()]).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(store.get(&a.id).await, Err(StoreError::NotFound)));
    store
        .insert_batch(&[a.clone(), fresh.clone()])
        .await
        .unwrap();
    assert_eq!(store.get(&fresh.id).await.unwrap(), fresh);
}

async fn sqlx_bump(pool: &sqlx::SqlitePool, version: i64) {
    sqlx::query("INSERT INTO keyward_schema_version (version, applied_at) VALUES (?1, 0)")
        .bind(version)
        .execute(pool)
        .await
        .unwrap();
    pool.close().await;
}

async fn raw_pool(path: &str) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    sqlx::SqlitePool::connect_with(options).await.unwrap()
}

#[tokio::test]
async fn read_only_mode_opens_a_current_file_and_refuses_one_needing_migration() {
    // SQLite's own read-only mode: works even where permissions are ignored (root).
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let writer = SqliteStore::open(&path).await.unwrap();
    let record = sample_record(fresh_id(), "o", Timestamp::from_unix_millis(1_000));
    writer.insert(&record).await.unwrap();
    writer.close().await;
    let reader = SqliteStore::open(&format!("sqlite:{path}?mode=ro"))
        .await
        .unwrap();
    assert_eq!(reader.get(&record.id).await.unwrap(), record);
    let other = sample_record(fresh_id(), "o", Timestamp::from_unix_millis(2_000));
    assert!(matches!(
        reader.insert(&other).await,
        Err(StoreError::Unavailable(_))
    ));

    // An empty file opened read-only cannot be migrated: refused, left empty.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let e = SqliteStore::open(&format!("sqlite:{}?mode=ro", empty.display()))
        .await
        .unwrap_err();
    assert!(matches!(e, SqliteError::ReadOnly { .. }), "{e:?}");
    assert!(e.to_string().contains("read-only"), "{e}");
    assert_eq!(std::fs::read(&empty).unwrap(), b"");
}

/// The keys table as the first release wrote it (schema version 1), with one key.
const VERSION_1: &str = "CREATE TABLE keyward_schema_version (
        version INTEGER PRIMARY KEY NOT NULL,
        applied_at INTEGER NOT NULL
    );
    INSERT INTO keyward_schema_version (version, applied_at) VALUES (1, 0);
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
        ON keyward_keys (tenant_team, tenant_project, created_at, id);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_file_is_migrated_and_its_keys_roll_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let raw = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::raw_sql(VERSION_1).execute(&raw).await.unwrap();
    let old = sample_record(fresh_id(), "o", Timestamp::from_unix_millis(1_000));
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
    let replacement = sample_record(fresh_id(), "o", Timestamp::from_unix_millis(2_000));
    let rolled = store
        .roll(
            &old.id,
            Timestamp::from_unix_millis(9_000),
            &replacement,
            Timestamp::from_unix_millis(2_000),
        )
        .await
        .unwrap();
    assert_eq!(rolled.replaced_by, Some(replacement.id));
    let again = sample_record(fresh_id(), "o", Timestamp::from_unix_millis(3_000));
    assert!(matches!(
        store
            .roll(
                &old.id,
                Timestamp::from_unix_millis(9_000),
                &again,
                Timestamp::from_unix_millis(3_000),
            )
            .await,
        Err(StoreError::AlreadyRolled)
    ));
    let live = store
        .count_live("o", Timestamp::from_unix_millis(5_000))
        .await
        .unwrap();
    assert_eq!((live.live, live.in_grace), (2, 1));
    store.close().await;

    let raw = raw_pool(&path).await;
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM keyward_schema_version ORDER BY version")
            .fetch_all(&raw)
            .await
            .unwrap();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
}
