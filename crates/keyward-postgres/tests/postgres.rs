//! The PostgreSQL store against a real server: the conformance suite, migrations,
//! typed connect errors, outages, and cross-instance invalidation.
//!
//! The server is `KEYWARD_TEST_DATABASE_URL` (default
//! `postgres://postgres:postgres@127.0.0.1:5432/test`). When it cannot be reached each
//! test prints `skipped: …` and passes, unless `KEYWARD_REQUIRE_SERVICES=1`. Every test
//! works in a fresh schema of its own and drops it at the end, so tests run in parallel.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::scope::Catalog;
use keyward::{Credential, Keyward, MintRequest};
use keyward_postgres::{
    Invalidation, InvalidationListener, ListenerOptions, PostgresError, PostgresOptions,
    PostgresStore, SCHEMA_VERSION,
};
use keyward_store::{KeyRecord, KeyStore, StoreError};
use keyward_testing::fault_proxy::FaultProxy;
use keyward_testing::services;
use keyward_testing::store_conformance::{self as conformance, fresh_id, sample_record};
use tokio::sync::mpsc;

use common::{WAIT, admin, at, drop_schema, fresh_schema, listen, next, options, server, store};

/// Waits up to 5 s for `store` to serve `record` again after an outage; until then
/// every call must be `Unavailable`.
async fn assert_recovers(store: &PostgresStore, record: &KeyRecord) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match store.get(&record.id).await {
            Ok(got) => {
                assert_eq!(&got, record);
                return;
            }
            Err(StoreError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("store did not recover: {e:?}"),
        }
    }
}

// ----- the store --------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    assert_eq!(store.schema(), schema);
    conformance::run(Arc::new(store.clone())).await;
    // Twice on the same schema: leftovers never interfere.
    conformance::run(Arc::new(store.clone())).await;
    store.close().await;
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent_and_safe_to_race() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    // Four instances start at once on a schema that does not exist yet: the advisory
    // lock makes one migrate and the others find nothing to do.
    let racing = (0..4).map(|_| {
        let (url, schema) = (url.clone(), schema.clone());
        tokio::spawn(async move { store(&url, &schema).await })
    });
    let mut stores = Vec::new();
    for handle in racing {
        stores.push(handle.await.unwrap());
    }
    let record = sample_record(fresh_id(), "o", at(1));
    stores[0].insert(&record).await.unwrap();
    // And again, sequentially: the data survives, nothing is re-applied.
    let again = store(&url, &schema).await;
    assert_eq!(again.get(&record.id).await.unwrap(), record);
    let versions: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM keyward_schema_version ORDER BY version")
            .fetch_all(again.pool())
            .await
            .unwrap();
    assert_eq!(versions, (1..=SCHEMA_VERSION as i32).collect::<Vec<_>>());
    for s in stores {
        s.close().await;
    }
    again.close().await;
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_schema_is_migrated_and_its_keys_roll_once() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let first = store(&url, &schema).await;
    let old = sample_record(fresh_id(), "o", at(1));
    first.insert(&old).await.unwrap();
    first.close().await;
    // Back to what the first release left: no `replaced_by`, no audit log, no usage
    // columns, version 1.
    admin(
        &url,
        format!(
            "ALTER TABLE \"{schema}\".keyward_keys DROP COLUMN replaced_by,
                DROP COLUMN honeytoken, DROP COLUMN used_capabilities, DROP COLUMN usage_since;
            DROP TABLE \"{schema}\".keyward_audit_log;
            DELETE FROM \"{schema}\".keyward_schema_version WHERE version > 1"
        ),
    )
    .await;

    let migrated = store(&url, &schema).await;
    assert_eq!(migrated.get(&old.id).await.unwrap(), old);
    let replacement = sample_record(fresh_id(), "o", at(2));
    let rolled = migrated
        .roll(&old.id, at(9), &replacement, at(2))
        .await
        .unwrap();
    assert_eq!(rolled.replaced_by, Some(replacement.id));
    let again = sample_record(fresh_id(), "o", at(3));
    assert!(matches!(
        migrated.roll(&old.id, at(9), &again, at(3)).await,
        Err(StoreError::AlreadyRolled)
    ));
    let live = migrated.count_live("o", at(5)).await.unwrap();
    assert_eq!((live.live, live.in_grace), (2, 1));
    let versions: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM keyward_schema_version ORDER BY version")
            .fetch_all(migrated.pool())
            .await
            .unwrap();
    assert_eq!(versions, (1..=SCHEMA_VERSION as i32).collect::<Vec<_>>());
    migrated.close().await;
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused_and_untouched() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let first = store(&url, &schema).await;
    first.close().await;
    admin(
        &url,
        format!(
            "INSERT INTO \"{schema}\".keyward_schema_version (version) VALUES ({})",
            SCHEMA_VERSION + 1
        ),
    )
    .await;
    let e = PostgresStore::connect_with(&url, options(&schema))
        .await
        .unwrap_err();
    match &e {
        PostgresError::NewerSchema {
            schema: s,
            found,
            supported,
        } => {
            assert_eq!(s, &schema);
            assert_eq!(*found, SCHEMA_VERSION + 1);
            assert_eq!(*supported, SCHEMA_VERSION);
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert!(e.to_string().contains("upgrade keyward"), "{e}");
    drop_schema(&url, &schema).await;
}

#[tokio::test]
async fn a_bad_schema_name_is_refused_before_connecting() {
    // No server needed: the name is checked first (this URL would not connect).
    for bad in [
        "Public",
        "a-b",
        "x\"; DROP SCHEMA public; --",
        "pg_catalog",
        "",
    ] {
        let started = Instant::now();
        let e = PostgresStore::connect_with(
            "postgres://u:p@127.0.0.1:1/db",
            PostgresOptions::new().schema(bad),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(e, PostgresError::InvalidSchema { ref name, .. } if name == bad),
            "{e:?}"
        );
        assert!(started.elapsed() < Duration::from_millis(100));
    }
}

#[tokio::test]
async fn an_invalid_url_is_a_typed_error_without_the_password() {
    for bad in [
        "mysql://user:hunter2@localhost/db",
        "postgres://user:hunter2@localhost:notaport/db",
        "postgres://user:hunter2@localhost/db?sslmode=sometimes",
    ] {
        let e = PostgresStore::connect(bad).await.unwrap_err();
        assert!(
            matches!(e, PostgresError::InvalidUrl { .. }),
            "{bad}: {e:?}"
        );
        assert!(!format!("{e} {e:?}").contains("hunter2"), "{e:?}");
    }
}

#[tokio::test]
async fn an_unreachable_server_fails_quickly_and_typed() {
    let started = Instant::now();
    let e = PostgresStore::connect_with(
        "postgres://keyward:hunter2@127.0.0.1:1/keyward",
        PostgresOptions::new().acquire_timeout(Duration::from_secs(1)),
    )
    .await
    .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, PostgresError::Unreachable { .. }), "{e:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("127.0.0.1:1/keyward"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_rejected() {
    let Some(url) = server().await else { return };
    let Some(at) = url.rfind('@') else { return };
    let bad = format!("postgres://keyward_no_such_user:wrong{}", &url[at..]);
    let e = PostgresStore::connect(&bad).await.unwrap_err();
    assert!(
        matches!(e, PostgresError::Rejected { .. }),
        "expected Rejected, got {e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_that_does_not_decode_is_corrupt() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    let record = sample_record(fresh_id(), "o", at(1));
    store.insert(&record).await.unwrap();
    admin(
        &url,
        format!(
            "UPDATE \"{schema}\".keyward_keys SET ip_allowlist = '{{not-a-network}}' WHERE id = '{}'",
            record.id
        ),
    )
    .await;
    assert!(matches!(
        store.get(&record.id).await,
        Err(StoreError::Corrupt(_))
    ));
    store.close().await;
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_postgres_refuses_is_an_invalid_request() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    let mut record = sample_record(fresh_id(), "o", at(1));
    record.name = "nul \0 inside".to_owned();
    assert!(matches!(
        store.insert(&record).await,
        Err(StoreError::InvalidRequest(_))
    ));
    store.close().await;
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_store_is_unavailable() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    store.close().await;
    assert!(matches!(
        store.get(&fresh_id()).await,
        Err(StoreError::Unavailable(_))
    ));
    drop_schema(&url, &schema).await;
}

// ----- outages ----------------------------------------------------------------------

/// A [`FaultProxy`] in front of the server at `url`, to play outages.
async fn proxy(url: &str) -> FaultProxy {
    FaultProxy::start(services::socket_addr(url).expect("the server's address")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_unavailable_and_recovery_needs_no_restart() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let proxy = proxy(&url).await;
    let through = proxy.url(&url);
    let store = PostgresStore::connect_with(
        &through,
        options(&schema).acquire_timeout(Duration::from_secs(1)),
    )
    .await
    .unwrap();
    let record = sample_record(fresh_id(), "o", at(1));
    store.insert(&record).await.unwrap();
    let (listener, mut events) = listen(
        &store,
        ListenerOptions::new().max_backoff(Duration::from_millis(200)),
    )
    .await;

    proxy.cut();
    for _ in 0..2 {
        let started = Instant::now();
        let e = store.get(&record.id).await.unwrap_err();
        assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
    }
    // Unknown keys are unavailable too, not "not found": the store cannot know.
    assert!(matches!(
        store.get(&fresh_id()).await,
        Err(StoreError::Unavailable(_))
    ));

    proxy.restore();
    // The pool makes new connections by itself.
    assert_recovers(&store, &record).await;
    // The listener reconnected and said it may have missed events. Bounds after an
    // outage are generous: under a loaded CI machine reconnecting takes a while.
    loop {
        match next(&mut events, Duration::from_secs(15)).await {
            Invalidation::All => break,
            Invalidation::Key(_) => {}
        }
    }
    assert!(listener.is_running());
    // And it is subscribed again.
    store.revoke(&record.id, at(2)).await.unwrap();
    assert_eq!(
        next(&mut events, Duration::from_secs(10)).await,
        Invalidation::Key(record.id)
    );
    listener.stop().await;
    store.close().await;
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ping_before_use_the_pool_still_recovers() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let proxy = proxy(&url).await;
    let store = PostgresStore::connect_with(
        &proxy.url(&url),
        options(&schema)
            .acquire_timeout(Duration::from_secs(1))
            .ping_before_use(false),
    )
    .await
    .unwrap();
    let record = sample_record(fresh_id(), "o", at(1));
    store.insert(&record).await.unwrap();
    proxy.cut();
    assert!(matches!(
        store.get(&record.id).await,
        Err(StoreError::Unavailable(_))
    ));
    proxy.restore();
    // Stale pooled connections may fail a call each, then are replaced.
    assert_recovers(&store, &record).await;
    store.close().await;
    drop_schema(&url, &schema).await;
}

// ----- invalidation -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_through_one_instance_reach_another() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let a = store(&url, &schema).await;
    let b = store(&url, &schema).await;
    assert_eq!(a.channel(), b.channel());
    assert_eq!(a.channel(), format!("keyward_keys.{schema}"));
    let (listener, mut events) = listen(&b, ListenerOptions::new()).await;
    assert_eq!(listener.channel(), b.channel());

    let keys: Vec<_> = (0..4)
        .map(|i| sample_record(fresh_id(), "o", at(i)))
        .collect();
    for k in &keys {
        a.insert(k).await.unwrap();
    }
    // Inserting is no invalidation; usage and re-hashing are none either (checked by
    // what arrives first below: notifications arrive in commit order).
    a.touch_last_used(&[(keys[0].id, at(10))]).await.unwrap();
    a.update_hash(&keys[0].id, "$2b$04$another").await.unwrap();

    let started = Instant::now();
    a.revoke(&keys[0].id, at(20)).await.unwrap();
    assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(keys[0].id));
    let latency = started.elapsed();
    assert!(latency < WAIT, "{latency:?}");

    a.set_disabled(&keys[1].id, Some(at(21))).await.unwrap();
    assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(keys[1].id));
    a.set_disabled(&keys[1].id, None).await.unwrap();
    assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(keys[1].id));
    a.set_expiry(&keys[2].id, Some(at(22))).await.unwrap();
    assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(keys[2].id));

    // A roll notifies the old key, once; a failed roll notifies nothing.
    let replacement = sample_record(fresh_id(), "o", at(23));
    a.roll(&keys[3].id, at(24), &replacement, at(23))
        .await
        .unwrap();
    assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(keys[3].id));
    // (At a time before keys[2]'s expiry, so the roll reaches the insert.)
    assert!(matches!(
        a.roll(&keys[2].id, at(25), &replacement, at(21)).await,
        Err(StoreError::Conflict)
    ));
    // Revoking a revoked key changes nothing and says nothing.
    a.revoke(&keys[0].id, at(26)).await.unwrap();
    // A delete notifies the deleted key; deleting an unknown id says nothing.
    a.delete(&keys[1].id).await.unwrap();
    assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(keys[1].id));
    assert!(matches!(
        a.delete(&fresh_id()).await,
        Err(StoreError::NotFound)
    ));

    // An operator's change in psql notifies too (the trigger, not the store, sends).
    admin(
        &url,
        format!(
            "UPDATE \"{schema}\".keyward_keys SET revoked_at = 1 WHERE id = '{}'",
            replacement.id
        ),
    )
    .await;
    assert_eq!(
        next(&mut events, WAIT).await,
        Invalidation::Key(replacement.id)
    );
    admin(&url, format!("TRUNCATE \"{schema}\".keyward_keys")).await;
    assert_eq!(next(&mut events, WAIT).await, Invalidation::All);

    listener.stop().await;
    a.close().await;
    b.close().await;
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_do_not_hear_each_other() {
    let Some(url) = server().await else { return };
    let x = fresh_schema();
    // The longest name allowed: its channel is hashed to fit PostgreSQL's 63 bytes.
    let y = format!("{}{}", fresh_schema(), "y".repeat(63 - 16));
    assert_eq!(y.len(), 63);
    let store_x = store(&url, &x).await;
    let store_y = store(&url, &y).await;
    assert_ne!(store_x.channel(), store_y.channel());
    assert!(store_y.channel().len() <= 63, "{}", store_y.channel());
    let (listener_x, mut events_x) = listen(&store_x, ListenerOptions::new()).await;
    let (listener_y, mut events_y) = listen(&store_y, ListenerOptions::new()).await;

    let in_x = sample_record(fresh_id(), "o", at(1));
    let in_y = sample_record(fresh_id(), "o", at(1));
    store_x.insert(&in_x).await.unwrap();
    store_y.insert(&in_y).await.unwrap();
    store_y.revoke(&in_y.id, at(2)).await.unwrap();
    store_x.revoke(&in_x.id, at(2)).await.unwrap();
    // Y's revocation committed first; X's listener hears only X's.
    assert_eq!(next(&mut events_x, WAIT).await, Invalidation::Key(in_x.id));
    assert_eq!(next(&mut events_y, WAIT).await, Invalidation::Key(in_y.id));
    assert!(events_x.try_recv().is_err());

    listener_x.stop().await;
    listener_y.stop().await;
    store_x.close().await;
    store_y.close().await;
    drop_schema(&url, &x).await;
    drop_schema(&url, &y).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listener_connection_reconnects_and_clears_everything() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let store = store(&url, &schema).await;
    let name = format!("kwt-listener-{schema}");
    let (listener, mut events) = listen(
        &store,
        ListenerOptions::new()
            .application_name(&name)
            .max_backoff(Duration::from_millis(200)),
    )
    .await;
    for round in 0..2 {
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(&name)
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(killed, [true], "round {round}: one listener backend");
        assert_eq!(
            next(&mut events, Duration::from_secs(5)).await,
            Invalidation::All,
            "round {round}"
        );
        let record = sample_record(fresh_id(), "o", at(round));
        store.insert(&record).await.unwrap();
        store.revoke(&record.id, at(10)).await.unwrap();
        assert_eq!(next(&mut events, WAIT).await, Invalidation::Key(record.id));
    }
    assert!(listener.is_running());
    listener.stop().await;
    // Stopping releases the listening connection.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
                .bind(&name)
                .fetch_one(store.pool())
                .await
                .unwrap();
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the listener's backend is still there"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    store.close().await;
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_dead_connection_is_noticed_by_the_heartbeat() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let direct = store(&url, &schema).await;
    let proxy = proxy(&url).await;
    let proxied = PostgresStore::connect_with(
        &proxy.url(&url),
        options(&schema).acquire_timeout(Duration::from_millis(500)),
    )
    .await
    .unwrap();
    let (listener, mut events) = listen(
        &proxied,
        ListenerOptions::new()
            .heartbeat(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(200)),
    )
    .await;
    let record = sample_record(fresh_id(), "o", at(1));
    direct.insert(&record).await.unwrap();

    // No reset, no error: the connection just goes quiet. Only the missing heartbeats
    // (three, 300 ms) can tell; this sleep lets them be missed.
    proxy.stall(true);
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Had the listener kept its old connection, it would now resume as if nothing
    // happened, and never clear the caches for what it missed.
    proxy.stall(false);
    assert_eq!(
        next(&mut events, Duration::from_secs(5)).await,
        Invalidation::All
    );
    direct.revoke(&record.id, at(2)).await.unwrap();
    loop {
        match next(&mut events, WAIT).await {
            Invalidation::Key(id) if id == record.id => break,
            Invalidation::All => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    listener.stop().await;
    proxied.close().await;
    direct.close().await;
    drop_schema(&url, &schema).await;
}

// ----- end to end -------------------------------------------------------------------

/// `jobs:write`, which implies `jobs:read`.
fn catalog() -> Catalog {
    Catalog::builder()
        .capabilities(["jobs:read", "jobs:write"])
        .implies("jobs:write", "jobs:read")
        .build()
        .unwrap()
}

fn keyward(store: PostgresStore) -> Keyward {
    Keyward::builder(KeyFormat::new("sk_live_").unwrap(), catalog())
        .store(store)
        .hasher(BcryptHasher::new(4).unwrap())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_instance_is_refused_by_another_at_once() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let first = keyward(store(&url, &schema).await);
    let minted = first
        .keys()
        .mint(MintRequest::new("CI", "u_1").capabilities(["jobs:write"]))
        .await
        .unwrap();
    let id = minted.summary.id;

    let second_store = store(&url, &schema).await;
    let second = keyward(second_store.clone());
    let auth = second.authenticator();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let wired = auth.clone();
    let listener = InvalidationListener::start(&second_store, move |event| {
        match event {
            Invalidation::Key(id) => wired.evict(&id),
            Invalidation::All => wired.clear_cache(),
        }
        let _ = seen_tx.send(event);
    })
    .await
    .unwrap();

    let route = catalog().all_of(["jobs:read"]).unwrap();
    let ip = "203.0.113.7".parse().unwrap();
    let who = auth
        .authenticate(Credential::Key(minted.key.expose()), &route, ip)
        .await
        .unwrap();
    assert_eq!(who.owner(), "u_1");
    assert_eq!(auth.cached_keys(), 1, "the second instance caches the key");

    first.keys().revoke(&id).await.unwrap();
    let started = Instant::now();
    loop {
        if next(&mut seen, WAIT).await == Invalidation::Key(id) {
            break;
        }
    }
    assert_eq!(auth.cached_keys(), 0);
    let refused = auth
        .authenticate(Credential::Key(minted.key.expose()), &route, ip)
        .await
        .unwrap_err();
    assert_eq!(refused.code().as_str(), "key_revoked");
    assert!(started.elapsed() < WAIT, "{:?}", started.elapsed());

    listener.stop().await;
    second_store.close().await;
    drop_schema(&url, &schema).await;
}
