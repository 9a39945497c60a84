//! The PostgreSQL store's audit log beyond the conformance suite: a change and its
//! entry commit together or not at all, an entry notifies nobody, entries commit in
//! sequence order, a note holding a NUL fails nothing, rows no keyward writes are
//! refused as corrupt, and an older schema gains the table.
//!
//! Skipped (with a message) when the server is unreachable, unless
//! `KEYWARD_REQUIRE_SERVICES=1`. Each test works in a fresh schema and drops it.

mod common;

use std::time::Duration;

use keyward_format::KeyId;
use keyward_postgres::{Invalidation, ListenerOptions, PostgresStore, SCHEMA_VERSION};
use keyward_store::{Actor, AuditAction, AuditEntry, AuditQuery, KeyChange, KeyStore, StoreError};
use keyward_testing::store_conformance::{fresh_id, sample_record};

use common::{WAIT, admin, at, drop_schema, fresh_schema, listen, next, server, store};

fn entry(action: AuditAction, key: KeyId) -> AuditEntry {
    AuditEntry::new(at(100), action, key, Actor::Cli)
}

async fn entries_about(store: &PostgresStore, key: KeyId) -> Vec<AuditEntry> {
    store.list_audit(&AuditQuery::key(key, 100)).await.unwrap()
}

/// An entry PostgreSQL refuses (here a check constraint standing in for a full disk
/// or a lost connection) undoes the change it records, NOTIFY included: `apply` is one
/// transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_entry_undoes_its_change() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    let (listener, mut events) = listen(&store, ListenerOptions::new()).await;
    let record = sample_record(fresh_id(), "o", at(0));
    store.insert(&record).await.unwrap();
    admin(
        &url,
        format!(
            "ALTER TABLE \"{schema}\".keyward_audit_log ADD CONSTRAINT refuse_audit
                CHECK (note IS DISTINCT FROM 'refuse me')"
        ),
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
    let mut refused = entry(AuditAction::Revoked, record.id);
    refused.note = Some("refuse me".to_owned());
    for change in changes {
        let result = store.apply(change, Some(&refused)).await;
        assert!(
            matches!(result, Err(StoreError::InvalidRequest(_))),
            "{change:?}: {result:?}"
        );
        assert_eq!(store.get(&record.id).await.unwrap(), record, "{change:?}");
    }
    for never in [replacement.id, minted.id] {
        assert!(matches!(store.get(&never).await, Err(StoreError::NotFound)));
    }
    assert!(entries_about(&store, record.id).await.is_empty());

    // Notifications arrive in commit order: the first after the refused changes is
    // this marker's, so none of those notified.
    let marker = sample_record(fresh_id(), "o", at(0));
    store.insert(&marker).await.unwrap();
    store.revoke(&marker.id, at(30)).await.unwrap();
    assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(marker.id));

    listener.stop().await;
    store.close().await;
    drop_schema(&url, &schema).await;
}

/// Appending and pruning entries notify nobody; `apply` notifies the key it changes,
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_is_not_a_key_change() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    let (listener, mut events) = listen(&store, ListenerOptions::new()).await;
    let (record, marker) = (
        sample_record(fresh_id(), "o", at(0)),
        sample_record(fresh_id(), "o", at(0)),
    );
    store.insert(&record).await.unwrap();
    store.insert(&marker).await.unwrap();

    store
        .append_audit(&entry(AuditAction::Honeytoken, record.id))
        .await
        .unwrap();
    assert_eq!(store.prune_audit(at(1_000)).await.unwrap(), 1);
    let revoke = KeyChange::Revoke {
        id: &record.id,
        at: at(10),
    };
    store
        .apply(revoke, Some(&entry(AuditAction::Revoked, record.id)))
        .await
        .unwrap();
    store.revoke(&marker.id, at(10)).await.unwrap();
    // In commit order: the applied revoke, then the marker; nothing before or between.
    assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(record.id));
    assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(marker.id));

    listener.stop().await;
    store.close().await;
    drop_schema(&url, &schema).await;
}

/// A row whose action, actor or address no keyward writes is
/// [`StoreError::Corrupt`], naming the column, not a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_no_keyward_writes_is_corrupt() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    let spoils = [
        ("action", "action = 'exploded'"),
        ("actor_kind", "actor_kind = 'robot'"),
        ("actor_kind", "actor_id = 'someone'"),
        ("client_ip", "client_ip = 'localhost'"),
        ("at", "at = -5"),
    ];
    for (column, spoil) in spoils {
        let key = fresh_id();
        store
            .append_audit(&entry(AuditAction::Revoked, key))
            .await
            .unwrap();
        admin(
            &url,
            format!("UPDATE \"{schema}\".keyward_audit_log SET {spoil} WHERE key_id = '{key}'"),
        )
        .await;
        match store.list_audit(&AuditQuery::key(key, 10)).await {
            Err(StoreError::Corrupt(why)) => assert!(why.starts_with(column), "{spoil}: {why}"),
            other => panic!("{spoil}: {other:?}"),
        }
    }
    store.close().await;
    drop_schema(&url, &schema).await;
}

/// A schema from before the audit log gains it at connect; its keys are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_schema_gains_the_audit_log() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let first = store(&url, &schema).await;
    let record = sample_record(fresh_id(), "o", at(0));
    first.insert(&record).await.unwrap();
    first.close().await;
    admin(
        &url,
        format!(
            "DROP TABLE \"{schema}\".keyward_audit_log;
            ALTER TABLE \"{schema}\".keyward_keys DROP COLUMN honeytoken,
                DROP COLUMN used_capabilities, DROP COLUMN usage_since;
            DELETE FROM \"{schema}\".keyward_schema_version WHERE version > 2"
        ),
    )
    .await;

    let migrated = store(&url, &schema).await;
    assert_eq!(migrated.get(&record.id).await.unwrap(), record);
    let e = entry(AuditAction::Deleted, record.id);
    migrated
        .apply(KeyChange::Delete { id: &record.id }, Some(&e))
        .await
        .unwrap();
    assert_eq!(entries_about(&migrated, record.id).await.len(), 1);
    let version: i32 = sqlx::query_scalar("SELECT MAX(version) FROM keyward_schema_version")
        .fetch_one(migrated.pool())
        .await
        .unwrap();
    assert_eq!(i64::from(version), SCHEMA_VERSION);
    migrated.close().await;
    drop_schema(&url, &schema).await;
}

/// A note from an untrusted source holding a NUL (which a text column refuses) and
/// other control characters makes no change fail: the note is stored without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_with_a_nul_revokes_all_the_same() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    let record = sample_record(fresh_id(), "o", at(0));
    store.insert(&record).await.unwrap();
    let mut leaked = entry(AuditAction::Leaked, record.id);
    leaked.note = Some("https://github.com/a/b/commit/\0x\r\n\u{1b}[2J".to_owned());
    let revoke = KeyChange::Revoke {
        id: &record.id,
        at: at(10),
    };
    let revoked = store.apply(revoke, Some(&leaked)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(at(10)));
    let listed = entries_about(&store, record.id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].note.as_deref(),
        Some("https://github.com/a/b/commit/x[2J")
    );
    store.close().await;
    drop_schema(&url, &schema).await;
}

/// Whether `sql` (a boolean query) holds, asked on `conn` until it does or [`WAIT`]
/// passes.
async fn eventually(conn: &mut sqlx::PgConnection, sql: &'static str) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if sqlx::query_scalar::<_, bool>(sql)
            .fetch_one(&mut *conn)
            .await
            .unwrap()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

/// Entries become visible in the order of their sequence numbers: while an append is
/// still to commit, a later one waits, so a reader paging by `after_seq` never passes
/// an entry that commits afterwards below its mark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_commit_in_seq_order() {
    use sqlx::Connection;

    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    // An append whose note is `hold` stalls in its commit until the test lets it go: a
    // deferred trigger waits for an advisory lock the test holds.
    admin(
        &url,
        format!(
            "CREATE FUNCTION \"{schema}\".hold() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NULL; END $$;
             CREATE CONSTRAINT TRIGGER hold AFTER INSERT ON \"{schema}\".keyward_audit_log
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.note = 'hold')
                 EXECUTE FUNCTION \"{schema}\".hold();"
        ),
    )
    .await;
    let mut gate = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock(4242)")
        .execute(&mut gate)
        .await
        .unwrap();

    let (first, second) = (fresh_id(), fresh_id());
    let mut held = entry(AuditAction::Revoked, first);
    held.note = Some("hold".to_owned());
    let appending = {
        let store = store.clone();
        tokio::spawn(async move { store.append_audit(&held).await })
    };
    // The first append has its sequence number and waits in its commit.
    assert!(
        eventually(
            &mut gate,
            "SELECT EXISTS (SELECT 1 FROM pg_locks
                 WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted)"
        )
        .await,
        "the held append never reached its commit"
    );
    let later = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .append_audit(&entry(AuditAction::Revoked, second))
                .await
        })
    };
    // The later append either waits for the first, in a statement on the audit log,
    // or has committed: only the first is right.
    let waiting = eventually(
        &mut gate,
        "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE NOT l.granted AND a.query LIKE '%keyward_audit_log%')",
    )
    .await;
    let visible = entries_about(&store, second).await;
    assert!(
        waiting && visible.is_empty() && !later.is_finished(),
        "a later entry became visible while an earlier one was still to commit: {visible:?}"
    );

    sqlx::query("SELECT pg_advisory_unlock(4242)")
        .execute(&mut gate)
        .await
        .unwrap();
    appending.await.unwrap().unwrap();
    later.await.unwrap().unwrap();
    let (first, second) = (
        entries_about(&store, first).await,
        entries_about(&store, second).await,
    );
    assert!(first[0].seq < second[0].seq, "{first:?} {second:?}");
    gate.close().await.unwrap();
    store.close().await;
    drop_schema(&url, &schema).await;
}
