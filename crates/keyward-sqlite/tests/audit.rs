//! The SQLite store's audit log beyond the conformance suite: a change and its entry
//! commit together or not at all, an entry never reaches the change feed, rows no
//! keyward writes are refused as corrupt, and an older file gains the table.

mod common;

use keyward_format::KeyId;
use keyward_sqlite::{ChangeFeed, Invalidation, SCHEMA_VERSION, SqliteStore};
use keyward_store::{Actor, AuditAction, AuditEntry, AuditQuery, KeyChange, KeyStore, StoreError};
use keyward_testing::store_conformance::{fresh_id, sample_record};

use common::{at, exec, open};

fn entry(action: AuditAction, key: KeyId) -> AuditEntry {
    AuditEntry::new(at(100), action, key, Actor::Cli)
}

async fn entries_about(store: &SqliteStore, key: KeyId) -> Vec<AuditEntry> {
    store.list_audit(&AuditQuery::key(key, 100)).await.unwrap()
}

/// An entry the database refuses (here a trigger standing in for a full disk or a
/// constraint) undoes the change it records: `apply` is one transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_entry_undoes_its_change() {
    let dir = tempfile::tempdir().unwrap();
    let (store, raw) = open(&dir).await;
    let record = sample_record(fresh_id(), "o", at(0));
    store.insert(&record).await.unwrap();
    let mut feed = ChangeFeed::open(&store).await.unwrap();
    exec(
        &raw,
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON keyward_audit_log
         BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
    )
    .await;

    let replacement = sample_record(fresh_id(), "o", at(10));
    let minted = sample_record(fresh_id(), "o", at(10));
    let changes = [
        KeyChange::Revoke {
            id: &record.id,
            at: at(10),
        },
        KeyChange::SetDisabled {
            id: &record.id,
            disabled_at: Some(at(10)),
        },
        KeyChange::SetExpiry {
            id: &record.id,
            expires_at: Some(at(20)),
        },
        KeyChange::Delete { id: &record.id },
        KeyChange::Roll {
            old: &record.id,
            old_expires_at: at(500),
            replacement: &replacement,
            now: at(10),
        },
        KeyChange::Insert {
            record: &minted,
            max_live: 10,
            now: at(10),
        },
    ];
    for change in changes {
        let e = entry(AuditAction::Revoked, record.id);
        let refused = store.apply(change, Some(&e)).await;
        assert!(refused.is_err(), "{change:?}: {refused:?}");
        assert_eq!(store.get(&record.id).await.unwrap(), record, "{change:?}");
    }
    for never in [replacement.id, minted.id] {
        assert!(matches!(store.get(&never).await, Err(StoreError::NotFound)));
    }
    // Rolled back, the changes never reached the feed either.
    assert_eq!(feed.poll().await.unwrap(), []);

    exec(&raw, "DROP TRIGGER refuse_audit").await;
    let e = entry(AuditAction::Revoked, record.id);
    let revoke = KeyChange::Revoke {
        id: &record.id,
        at: at(10),
    };
    assert_eq!(
        store.apply(revoke, Some(&e)).await.unwrap().revoked_at,
        Some(at(10))
    );
    assert_eq!(entries_about(&store, record.id).await.len(), 1);
}

/// Appending an entry logs no key change: only the change it records reaches the
/// feed, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_is_not_a_key_change() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _raw) = open(&dir).await;
    let record = sample_record(fresh_id(), "o", at(0));
    store.insert(&record).await.unwrap();
    let mut feed = ChangeFeed::open(&store).await.unwrap();
    let start = feed.position();

    store
        .append_audit(&entry(AuditAction::Honeytoken, record.id))
        .await
        .unwrap();
    store.prune_audit(at(1_000)).await.unwrap();
    assert_eq!(feed.poll().await.unwrap(), []);
    assert_eq!(feed.position(), start);

    let revoke = KeyChange::Revoke {
        id: &record.id,
        at: at(10),
    };
    store
        .apply(revoke, Some(&entry(AuditAction::Revoked, record.id)))
        .await
        .unwrap();
    assert_eq!(feed.poll().await.unwrap(), [Invalidation::Key(record.id)]);
    assert_eq!(feed.position(), start + 1);
}

/// A row whose action, actor or capabilities no keyward writes is
/// [`StoreError::Corrupt`], naming the column, not a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_no_keyward_writes_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (store, raw) = open(&dir).await;
    let spoils = [
        ("action", "action = 'exploded'"),
        ("actor_kind", "actor_kind = 'robot'"),
        ("actor_kind", "actor_id = 'someone'"),
        ("capabilities", "capabilities = 'not json'"),
        ("client_ip", "client_ip = 'localhost'"),
        ("at", "at = -5"),
    ];
    for (column, spoil) in spoils {
        let key = fresh_id();
        store
            .append_audit(&entry(AuditAction::Revoked, key))
            .await
            .unwrap();
        exec(
            &raw,
            &format!("UPDATE keyward_audit_log SET {spoil} WHERE key_id = '{key}'"),
        )
        .await;
        match store.list_audit(&AuditQuery::key(key, 10)).await {
            Err(StoreError::Corrupt(why)) => assert!(why.starts_with(column), "{spoil}: {why}"),
            other => panic!("{spoil}: {other:?}"),
        }
    }
}

/// A file from before the audit log gains it on open; its keys are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_3_file_gains_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let (store, raw) = open(&dir).await;
    let record = sample_record(fresh_id(), "o", at(0));
    store.insert(&record).await.unwrap();
    store.close().await;
    exec(
        &raw,
        "DROP TABLE keyward_audit_log;
        ALTER TABLE keyward_keys DROP COLUMN honeytoken;
        ALTER TABLE keyward_keys DROP COLUMN used_capabilities;
        ALTER TABLE keyward_keys DROP COLUMN usage_since;
        DELETE FROM keyward_schema_version WHERE version > 3;",
    )
    .await;

    let (store, raw) = open(&dir).await;
    assert_eq!(store.get(&record.id).await.unwrap(), record);
    let e = entry(AuditAction::Deleted, record.id);
    store
        .apply(KeyChange::Delete { id: &record.id }, Some(&e))
        .await
        .unwrap();
    assert_eq!(entries_about(&store, record.id).await.len(), 1);
    let version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM keyward_schema_version")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}
