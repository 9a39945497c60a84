//! A signed-in user's id is audited as every store keeps it: control characters (a
//! NUL, which PostgreSQL text refuses, a terminal escape, a newline) replaced by U+FFFD,
//! so the log reads the same whichever store holds it, and the change goes through.

mod common;

use common::rig;
use keyward::MintRequest;
use keyward::manage::{Caller, KeyManager};
use keyward::store::{Actor, AuditAction, AuditQuery, Tenant};

#[tokio::test]
async fn a_user_id_with_control_characters_is_kept_with_them_replaced() {
    let rig = rig();
    let catalog = rig.keyward.catalog();
    let tenant = Tenant::new("acme", "search");
    let member = rig
        .mint(MintRequest::new("CI", "u_1").tenant(tenant.clone()))
        .await;
    let id = member.summary.id;

    // A tenant admin (the dashboard's caller) whose id the host let hold controls.
    let manager =
        KeyManager::new(&rig.keyward).tenant_admin(catalog.all_of(["keys:write"]).unwrap());
    let admin = Caller::user("boss\0\u{1b}[2J\n", Some(tenant), catalog.all());
    manager.disable(&admin, id.as_str()).await.unwrap();
    // The library's own handle, acting as such a user.
    rig.keyward
        .keys()
        .acting(Actor::User("ada\0lovelace".to_owned()), None)
        .revoke(&id)
        .await
        .unwrap();

    let page = rig
        .keyward
        .keys()
        .audit(&AuditQuery::key(id, 10))
        .await
        .unwrap();
    let by: Vec<(AuditAction, Actor)> = page
        .entries
        .into_iter()
        .map(|e| (e.action, e.actor))
        .collect();
    assert_eq!(
        by,
        [
            (AuditAction::Minted, Actor::Service),
            (
                AuditAction::Disabled,
                Actor::User("boss\u{fffd}\u{fffd}[2J\u{fffd}".to_owned())
            ),
            (
                AuditAction::Revoked,
                Actor::User("ada\u{fffd}lovelace".to_owned())
            ),
        ]
    );
}
