//! `KeyEvent::Changed` carries the entry as the audit log keeps it: a note without
//! control characters, a user id with them replaced, so what a subscriber mirrors or
//! prints is what `keyward audit` shows, never a client's terminal escapes.

mod common;

use std::sync::{Arc, Mutex};

use common::rig_with;
use keyward::store::{Actor, AuditAction, AuditEntry, AuditQuery};
use keyward::{KeyEvent, MintRequest};

#[tokio::test]
async fn a_change_event_holds_the_entry_as_stored() {
    let changed = Arc::new(Mutex::new(Vec::<AuditEntry>::new()));
    let sink = Arc::clone(&changed);
    let rig = rig_with(|b| {
        b.event_sink(move |event: &KeyEvent| {
            if let KeyEvent::Changed(entry) = event {
                sink.lock().unwrap().push(entry.clone());
            }
        })
    });
    let key = rig.mint(MintRequest::new("CI", "u_1")).await;
    let keys = rig
        .keyward
        .keys()
        .acting(Actor::User("ada\u{1b}[2J".to_owned()), None);
    keys.revoke_leaked(&key.summary.id, Some("src/\0app.env\n:3\u{1b}[31m"))
        .await
        .unwrap();

    let published = changed.lock().unwrap().clone();
    let leaked = published
        .iter()
        .find(|e| e.action == AuditAction::Leaked)
        .expect("the leak's change event");
    assert_eq!(leaked.note.as_deref(), Some("src/app.env:3[31m"));
    assert_eq!(leaked.actor, Actor::User("ada\u{fffd}[2J".to_owned()));

    let stored = rig
        .keyward
        .keys()
        .audit(&AuditQuery::key(key.summary.id, 10))
        .await
        .unwrap()
        .entries;
    let stored = stored
        .iter()
        .find(|e| e.action == AuditAction::Leaked)
        .unwrap();
    assert_eq!((&leaked.note, &leaked.actor), (&stored.note, &stored.actor));
}
