//! Every audit entry is also published as `KeyEvent::Changed`, the honeytoken's too: a
//! subscriber mirroring the log from events misses none. Published once the entry is
//! in, never when the store refused it.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use common::{Rig, ip, rig_with};
use keyward::scope::Requirement;
use keyward::store::{Actor, AuditAction, AuditEntry};
use keyward::{Credential, KeyEvent, MintRequest};

fn changed_rig() -> (Rig, Arc<Mutex<Vec<AuditEntry>>>) {
    let changed = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&changed);
    let rig = rig_with(|b| {
        b.event_sink(move |event: &KeyEvent| {
            if let KeyEvent::Changed(entry) = event {
                sink.lock().unwrap().push(entry.clone());
            }
        })
    });
    (rig, changed)
}

/// Lets the spawned append run (the test runtime has one thread).
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_honeytoken_entry_is_published_as_a_change_once_appended() {
    let (rig, changed) = changed_rig();
    let decoy = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    let authn = rig.keyward.authenticator();
    let client = ip("203.0.113.9");
    let _ = authn
        .authenticate(
            Credential::Key(decoy.key.expose()),
            &Requirement::none(),
            client,
        )
        .await;
    settle().await;
    let entries = changed.lock().unwrap().clone();
    let actions: Vec<AuditAction> = entries.iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Minted, AuditAction::Honeytoken]);
    assert_eq!(entries[1].key, decoy.summary.id);
    assert_eq!(entries[1].actor, Actor::Automatic);
    assert_eq!(entries[1].client_ip, Some(client));

    // The store refusing the entry: nothing is published.
    rig.store.after_get.lock().unwrap().replace(Box::new({
        let down = Arc::clone(&rig.store.down);
        move || Box::pin(async move { down.store(true, Ordering::SeqCst) })
    }));
    let _ = authn
        .authenticate(
            Credential::Key(decoy.key.expose()),
            &Requirement::none(),
            ip("203.0.113.10"),
        )
        .await;
    settle().await;
    assert_eq!(changed.lock().unwrap().len(), 2);
}
