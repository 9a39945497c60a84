//! Change events of caller-scoped management: one line per change, naming who acted,
//! never a secret. Its own test binary: a tracing subscriber set for one thread misses
//! events whose call sites another thread registered at the same moment, so no other
//! test may run beside it.

mod common;

use std::time::Duration;

use common::{captured_log, catalog, rig};
use keyward::manage::{Caller, CreateKey, KeyManager};
use tracing::Level;

#[tokio::test]
async fn each_change_is_logged_once_with_who_acted_and_never_a_secret() {
    let rig = rig();
    let manager = KeyManager::new(&rig.keyward);
    let me = Caller::user("u_1", None, catalog().all());
    let ((created, rolled), log) = captured_log(Level::INFO, async {
        let created = manager.create(&me, CreateKey::new("CI")).await.unwrap();
        let id = created.key.id().to_string();
        manager.disable(&me, &id).await.unwrap();
        manager.enable(&me, &id).await.unwrap();
        let rolled = manager
            .roll(&me, &id, Duration::from_secs(60))
            .await
            .unwrap();
        manager.revoke(&me, &id).await.unwrap();
        manager
            .delete(&me, &rolled.new.key.id().to_string())
            .await
            .unwrap();
        (created, rolled)
    })
    .await;
    for event in [
        "key_minted",
        "key_disabled",
        "key_enabled",
        "key_rolled",
        "key_revoked",
        "key_deleted",
    ] {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(event)).collect();
        assert_eq!(lines.len(), 1, "one {event} line in:\n{log}");
        assert!(lines[0].contains("actor=user:u_1"), "{}", lines[0]);
    }
    assert!(log.contains(&format!("key_id={}", rolled.new.key.id())));
    for key in [&created.key, &rolled.new.key] {
        let secret = std::str::from_utf8(key.secret()).unwrap();
        assert!(!log.contains(secret), "a secret leaked into:\n{log}");
        assert!(!log.contains(key.expose()));
    }
}
