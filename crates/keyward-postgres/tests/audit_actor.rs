//! A user id is audited whatever it holds: one with a NUL (which a text column refuses)
//! or other control characters makes no change fail, and is stored with each of them
//! replaced by U+FFFD.
//!
//! Skipped (with a message) when the server is unreachable, unless
//! `KEYWARD_REQUIRE_SERVICES=1`. Each test works in a fresh schema and drops it.

mod common;

use std::time::Duration;

use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::scope::Catalog;
use keyward::store::{Actor, AuditAction, AuditQuery, KeyState, KeyStore};
use keyward::{Keyward, MintRequest};
use keyward_postgres::{PostgresOptions, PostgresStore};

use common::{drop_schema, fresh_schema, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_id_with_a_nul_changes_keys_all_the_same() {
    let Some(url) = server().await else { return };
    let schema = fresh_schema();
    let options = PostgresOptions::new()
        .schema(&schema)
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(2));
    let store = PostgresStore::connect_with(&url, options).await.unwrap();
    let catalog = Catalog::builder().capability("jobs:read").build().unwrap();
    let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), catalog)
        .store(store.clone())
        .hasher(BcryptHasher::new(BcryptHasher::MIN_COST).unwrap())
        .build()
        .unwrap();
    let user = keyward
        .keys()
        .acting(Actor::User("ada\0\u{1b}[2J\nlovelace".to_owned()), None);

    let minted = user
        .mint(MintRequest::new("CI", "u_1").capabilities(["jobs:read"]))
        .await
        .unwrap();
    let id = minted.summary.id;
    user.disable(&id).await.unwrap();
    let revoked = user.revoke(&id).await.unwrap();
    assert_eq!(revoked.state, KeyState::Revoked);

    let entries = store.list_audit(&AuditQuery::key(id, 10)).await.unwrap();
    let actions: Vec<AuditAction> = entries.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::Minted,
            AuditAction::Disabled,
            AuditAction::Revoked
        ]
    );
    for entry in &entries {
        assert_eq!(
            entry.actor,
            Actor::User("ada\u{fffd}\u{fffd}[2J\u{fffd}lovelace".to_owned())
        );
    }
    store.close().await;
    drop_schema(&url, &schema).await;
}
