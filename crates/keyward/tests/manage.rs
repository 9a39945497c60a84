//! Caller-scoped key management: who sees which keys, who may change them, and what a
//! caller may mint.

mod common;

use std::time::Duration;

use common::{Rig, START, catalog, ip, rig, rig_with};
use keyward::clock::Timestamp;
use keyward::manage::{Caller, CreateKey, KeyManager, ManageError};
use keyward::scope::{CapabilitySet, Denied, Requirement};
use keyward::store::{KeyState, KeyStore, PageRequest, Tenant};
use keyward::{
    AuthError, Config, Credential, InvalidKeyReason, KeySummary, MintRequest, RequestProblem,
};

/// The rig's catalog declares no admin capability: `desktop:control` stands in for one.
const ADMIN: &str = "desktop:control";

const EVERYTHING: [&str; 9] = [
    "desktop:read",
    "desktop:chat",
    "desktop:lifecycle",
    "desktop:control",
    "jobs:read",
    "jobs:write",
    "kb:read",
    "keys:read",
    "keys:write",
];

fn manager(rig: &Rig) -> KeyManager {
    let admin = catalog().all_of([ADMIN]).unwrap();
    KeyManager::new(&rig.keyward).tenant_admin(admin)
}

fn caps(names: &[&str]) -> CapabilitySet {
    let catalog = catalog();
    catalog.effective(&catalog.set(names).unwrap())
}

/// A signed-in user holding `names`.
fn user(owner: &str, tenant: Option<&Tenant>, names: &[&str]) -> Caller {
    Caller::user(owner, tenant.cloned(), caps(names))
}

/// Everything except the admin stand-in.
fn all_but_admin() -> Vec<&'static str> {
    EVERYTHING.into_iter().filter(|c| *c != ADMIN).collect()
}

fn acme() -> Tenant {
    Tenant::new("acme", "search")
}

fn globex() -> Tenant {
    Tenant::new("globex", "billing")
}

/// Mints a key of `owner` (in `tenant`) holding `names` a second after the previous
/// one, so listings show them in minting order; returns its id as text.
async fn seed(rig: &Rig, owner: &str, tenant: Option<&Tenant>, names: &[&str]) -> String {
    rig.clock.advance(Duration::from_secs(1));
    let mut request =
        MintRequest::new(format!("{owner}'s key"), owner).capabilities(names.iter().copied());
    request.tenant = tenant.cloned();
    rig.mint(request).await.key.id().to_string()
}

async fn ids(manager: &KeyManager, caller: &Caller) -> Vec<String> {
    let page = manager
        .list(caller, PageRequest::first(100))
        .await
        .expect("list");
    page.keys.iter().map(|k| k.id.to_string()).collect()
}

async fn summary(rig: &Rig, id: &str) -> KeySummary {
    rig.keyward
        .keys()
        .get(&id.parse().unwrap())
        .await
        .expect("the key is still there")
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(what: &str, result: Result<T, ManageError>) {
    match result {
        Err(ManageError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

#[track_caller]
fn assert_denied<T: std::fmt::Debug>(what: &str, result: Result<T, ManageError>, missing: &[&str]) {
    match result {
        Err(ManageError::InsufficientCapability(Denied { required, .. })) => {
            assert_eq!(required, missing, "{what}")
        }
        other => panic!("{what}: expected InsufficientCapability, got {other:?}"),
    }
}

/// Every operation that addresses one key, each expected to be NotFound for `id`.
async fn every_operation_is_not_found(manager: &KeyManager, caller: &Caller, id: &str) {
    assert_not_found("get", manager.get(caller, id).await);
    assert_not_found("revoke", manager.revoke(caller, id).await);
    assert_not_found("delete", manager.delete(caller, id).await);
    assert_not_found("disable", manager.disable(caller, id).await);
    assert_not_found("enable", manager.enable(caller, id).await);
    assert_not_found(
        "roll",
        manager.roll(caller, id, Duration::from_secs(60)).await,
    );
}

/// Every change, each expected to be refused naming `missing`.
async fn every_change_is_denied(manager: &KeyManager, caller: &Caller, id: &str, missing: &[&str]) {
    assert_denied("revoke", manager.revoke(caller, id).await, missing);
    assert_denied("delete", manager.delete(caller, id).await, missing);
    assert_denied("disable", manager.disable(caller, id).await, missing);
    assert_denied("enable", manager.enable(caller, id).await, missing);
    assert_denied(
        "roll",
        manager.roll(caller, id, Duration::from_secs(60)).await,
        missing,
    );
}

// ----- visibility -------------------------------------------------------------------

#[tokio::test]
async fn a_caller_sees_and_changes_only_its_owners_keys() {
    let rig = rig();
    let manager = manager(&rig);
    let mine = seed(&rig, "u_1", None, &["jobs:read"]).await;
    let theirs = seed(&rig, "u_2", None, &["jobs:read"]).await;
    let me = user("u_1", None, &all_but_admin());

    assert_eq!(ids(&manager, &me).await, std::slice::from_ref(&mine));
    assert_eq!(manager.get(&me, &mine).await.unwrap().owner, "u_1");
    every_operation_is_not_found(&manager, &me, &theirs).await;
    let untouched = summary(&rig, &theirs).await;
    assert_eq!(untouched.state, KeyState::Active);
    assert_eq!(untouched.replaced_by, None);

    // The owner changes its own key; a revoked key stays listed, as revoked.
    assert_eq!(
        manager.disable(&me, &mine).await.unwrap().state,
        KeyState::Disabled
    );
    assert_eq!(
        manager.enable(&me, &mine).await.unwrap().state,
        KeyState::Active
    );
    assert_eq!(
        manager.revoke(&me, &mine).await.unwrap().state,
        KeyState::Revoked
    );
    let listed = manager.list(&me, PageRequest::first(10)).await.unwrap();
    assert_eq!(listed.keys.len(), 1);
    assert_eq!(listed.keys[0].state, KeyState::Revoked);
}

#[tokio::test]
async fn a_caller_bound_to_a_tenant_sees_only_that_tenants_keys() {
    let rig = rig();
    let manager = manager(&rig);
    let in_acme = seed(&rig, "u_1", Some(&acme()), &["jobs:read"]).await;
    let in_globex = seed(&rig, "u_1", Some(&globex()), &["jobs:read"]).await;
    let unbound = seed(&rig, "u_1", None, &["jobs:read"]).await;

    let bound = user("u_1", Some(&acme()), &all_but_admin());
    assert_eq!(ids(&manager, &bound).await, std::slice::from_ref(&in_acme));
    manager.get(&bound, &in_acme).await.unwrap();
    every_operation_is_not_found(&manager, &bound, &in_globex).await;
    every_operation_is_not_found(&manager, &bound, &unbound).await;

    // The same owner unbound sees all of its keys, whatever their tenant.
    let everywhere = user("u_1", None, &all_but_admin());
    assert_eq!(
        ids(&manager, &everywhere).await,
        [in_acme, in_globex, unbound]
    );
}

#[tokio::test]
async fn a_tenant_admin_manages_every_key_of_its_tenant_and_no_other() {
    let rig = rig();
    let manager = manager(&rig);
    let u1_acme = seed(&rig, "u_1", Some(&acme()), &["jobs:read"]).await;
    let u2_acme = seed(&rig, "u_2", Some(&acme()), &["kb:read"]).await;
    let u1_globex = seed(&rig, "u_1", Some(&globex()), &["jobs:read"]).await;
    let u3_unbound = seed(&rig, "u_3", None, &["jobs:read"]).await;

    let admin = user("root", Some(&acme()), &EVERYTHING);
    assert!(manager.is_tenant_admin(&admin));
    assert_eq!(
        ids(&manager, &admin).await,
        [u1_acme.clone(), u2_acme.clone()]
    );
    assert_eq!(manager.get(&admin, &u2_acme).await.unwrap().owner, "u_2");
    assert_eq!(
        manager.disable(&admin, &u1_acme).await.unwrap().state,
        KeyState::Disabled
    );
    assert_eq!(
        manager.revoke(&admin, &u2_acme).await.unwrap().state,
        KeyState::Revoked
    );
    every_operation_is_not_found(&manager, &admin, &u1_globex).await;
    every_operation_is_not_found(&manager, &admin, &u3_unbound).await;

    // Without the admin capability, or bound to no tenant, or with no admin
    // requirement configured, the same caller sees its own keys only (it has none).
    let not_admin = user("root", Some(&acme()), &all_but_admin());
    let unbound_admin = user("root", None, &EVERYTHING);
    let plain = KeyManager::new(&rig.keyward);
    for (manager, caller) in [
        (&manager, &not_admin),
        (&manager, &unbound_admin),
        (&plain, &admin),
    ] {
        assert!(!manager.is_tenant_admin(caller), "{caller:?}");
        assert_eq!(ids(manager, caller).await, Vec::<String>::new());
        assert_not_found("get", manager.get(caller, &u1_acme).await);
    }
}

#[tokio::test]
async fn the_admin_requirement_counts_implied_capabilities() {
    let rig = rig();
    // Held only through `keys:write`, which implies it.
    let manager =
        KeyManager::new(&rig.keyward).tenant_admin(catalog().all_of(["keys:read"]).unwrap());
    let other = seed(&rig, "u_2", Some(&acme()), &["jobs:read"]).await;
    let admin = Caller::user(
        "root",
        Some(acme()),
        catalog().set(["keys:write", "jobs:read"]).unwrap(),
    );
    assert!(manager.is_tenant_admin(&admin));
    manager.get(&admin, &other).await.unwrap();
}

#[tokio::test]
async fn a_tenant_admin_cannot_change_a_key_holding_more_than_it() {
    let rig = rig();
    let manager = manager(&rig);
    let stronger = seed(&rig, "u_1", Some(&acme()), &["jobs:write", "kb:read"]).await;
    let admin = user("root", Some(&acme()), &[ADMIN, "keys:write", "kb:read"]);

    assert_eq!(ids(&manager, &admin).await, std::slice::from_ref(&stronger));
    every_change_is_denied(&manager, &admin, &stronger, &["jobs:write"]).await;
    let untouched = summary(&rig, &stronger).await;
    assert_eq!(untouched.state, KeyState::Active);
    assert_eq!(untouched.replaced_by, None);
}

#[tokio::test]
async fn malformed_unknown_and_foreign_ids_are_the_same_not_found() {
    let rig = rig();
    let manager = manager(&rig);
    let foreign = seed(&rig, "u_2", None, &["jobs:read"]).await;
    let unknown = rig.keyward.format().mint().unwrap().id().to_string();
    let me = user("u_1", None, &all_but_admin());
    let full_key = rig.mint(MintRequest::new("k", "u_1")).await;
    let mut messages = Vec::new();
    for id in [
        "",
        "not-an-id",
        "AbCd1234567",
        "../../etc/passwd",
        full_key.key.expose(),
        &unknown,
        &foreign,
    ] {
        every_operation_is_not_found(&manager, &me, id).await;
        messages.push(manager.get(&me, id).await.unwrap_err().to_string());
    }
    messages.dedup();
    assert_eq!(messages, ["no such key"]);
}

// ----- listing ----------------------------------------------------------------------

#[tokio::test]
async fn a_cursor_the_caller_cannot_see_is_refused_like_an_unknown_cursor() {
    let rig = rig();
    let manager = manager(&rig);
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(seed(&rig, "u_1", Some(&acme()), &["jobs:read"]).await);
    }
    let foreign = seed(&rig, "u_2", Some(&acme()), &["jobs:read"]).await;
    let other_tenant = seed(&rig, "u_3", Some(&globex()), &["jobs:read"]).await;
    let unknown = rig.keyward.format().mint().unwrap().id().to_string();
    let me = user("u_1", Some(&acme()), &all_but_admin());
    let admin = user("root", Some(&acme()), &EVERYTHING);

    // One's own cursor pages on.
    let first = manager.list(&me, PageRequest::first(2)).await.unwrap();
    assert_eq!(first.next.map(|id| id.to_string()), Some(mine[1].clone()));
    let rest = manager
        .list(
            &me,
            PageRequest {
                limit: 2,
                after: first.next,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.keys.len(), 1);
    assert_eq!(rest.keys[0].id.to_string(), mine[2]);

    let refusal = |caller: &Caller, after: &str| {
        let manager = manager.clone();
        let caller = caller.clone();
        let after = after.to_owned();
        async move {
            let page = PageRequest {
                limit: 10,
                after: Some(after.parse().unwrap()),
            };
            match manager.list(&caller, page).await {
                Err(e @ ManageError::InvalidRequest(RequestProblem::Store(_))) => {
                    // The same words, whichever id was sent.
                    e.to_string().replace(&after, "<cursor>")
                }
                other => panic!("cursor {after}: expected InvalidRequest, got {other:?}"),
            }
        }
    };
    let expected = refusal(&me, &unknown).await;
    assert_eq!(refusal(&me, &foreign).await, expected);
    assert_eq!(refusal(&me, &other_tenant).await, expected);
    assert_eq!(refusal(&admin, &other_tenant).await, expected);
    assert_eq!(refusal(&admin, &unknown).await, expected);
    // The admin sees u_2's key, so its cursor is fine for the admin.
    manager
        .list(
            &admin,
            PageRequest {
                limit: 10,
                after: Some(foreign.parse().unwrap()),
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_page_size_out_of_range_is_an_invalid_request() {
    let rig = rig();
    let manager = manager(&rig);
    let me = user("u_1", None, &all_but_admin());
    for limit in [0, PageRequest::MAX_LIMIT + 1] {
        assert!(
            matches!(
                manager.list(&me, PageRequest::first(limit)).await,
                Err(ManageError::InvalidRequest(_))
            ),
            "limit {limit}"
        );
    }
    manager
        .list(&me, PageRequest::first(PageRequest::MAX_LIMIT))
        .await
        .unwrap();
}

// ----- create -----------------------------------------------------------------------

#[tokio::test]
async fn create_takes_owner_and_tenant_from_the_caller_and_defaults_from_the_catalog() {
    let rig = rig();
    let manager = manager(&rig);
    let bound = user("u_1", Some(&acme()), &all_but_admin());
    let created = manager
        .create(
            &bound,
            CreateKey::new("CI").expires_in(Duration::from_secs(3600)),
        )
        .await
        .unwrap();
    let summary = &created.summary;
    assert_eq!(summary.owner, "u_1");
    assert_eq!(summary.tenant, Some(acme()));
    assert_eq!(summary.capabilities, ["desktop:chat", "desktop:read"]);
    assert_eq!(
        summary.expires_at,
        Some(Timestamp::from_unix_seconds(START + 3600))
    );
    let stored = rig.store.inner.get(&created.key.id()).await.unwrap();
    assert_eq!(
        (stored.owner.as_str(), stored.tenant),
        ("u_1", Some(acme()))
    );

    let unbound = user("u_2", None, &all_but_admin());
    let created = manager
        .create(&unbound, CreateKey::new("CI"))
        .await
        .unwrap();
    assert_eq!(created.summary.owner, "u_2");
    assert_eq!(created.summary.tenant, None);
    assert_eq!(created.summary.expires_at, None);
}

#[tokio::test]
async fn the_default_set_is_not_granted_to_a_caller_lacking_it() {
    let rig = rig();
    let manager = manager(&rig);
    let narrow = user("u_1", None, &["jobs:read", "desktop:read"]);
    assert_denied(
        "create with the default set",
        manager.create(&narrow, CreateKey::new("CI")).await,
        &["desktop:chat"],
    );
    assert_eq!(ids(&manager, &narrow).await, Vec::<String>::new());
}

#[tokio::test]
async fn unknown_capabilities_are_all_listed_and_win_over_missing_ones() {
    let rig = rig();
    let manager = manager(&rig);
    let narrow = user("u_1", None, &["jobs:read"]);
    let e = manager
        .create(
            &narrow,
            CreateKey::new("CI").capabilities(["jobs:write", "nope:x", "keys:write", "bad"]),
        )
        .await
        .unwrap_err();
    let ManageError::UnknownCapabilities(unknown) = e else {
        panic!("expected UnknownCapabilities, got {e:?}")
    };
    assert_eq!(unknown.capabilities, ["bad", "nope:x"]);
    assert_eq!(ids(&manager, &narrow).await, Vec::<String>::new());
}

#[tokio::test]
async fn create_never_grants_more_than_the_caller_holds() {
    let rig = rig();
    let manager = manager(&rig);
    let writer = user("u_1", None, &["jobs:write"]);
    // Held through an implication: may be handed out.
    let created = manager
        .create(
            &writer,
            CreateKey::new("reader").capabilities(["jobs:read"]),
        )
        .await
        .unwrap();
    assert_eq!(created.summary.capabilities, ["jobs:read"]);
    assert_denied(
        "create asking for more",
        manager
            .create(
                &writer,
                CreateKey::new("more").capabilities(["jobs:write", "keys:write", "kb:read"]),
            )
            .await,
        &["kb:read", "keys:write"],
    );
    assert_eq!(ids(&manager, &writer).await, [created.key.id().to_string()]);
}

#[tokio::test]
async fn create_refuses_bad_input_with_typed_errors() {
    let rig = rig_with(|b| {
        b.config(Config {
            max_live_keys_per_owner: 1,
            ..Config::default()
        })
    });
    let manager = manager(&rig);
    let me = user("u_1", None, &all_but_admin());
    assert!(matches!(
        manager
            .create(&me, CreateKey::new("CI").expires_in(Duration::ZERO))
            .await,
        Err(ManageError::InvalidRequest(RequestProblem::ZeroExpiresIn))
    ));
    assert!(matches!(
        manager.create(&me, CreateKey::new("\u{202e}CI")).await,
        Err(ManageError::InvalidName { field: "name", .. })
    ));
    manager.create(&me, CreateKey::new("CI")).await.unwrap();
    assert!(matches!(
        manager.create(&me, CreateKey::new("CI 2")).await,
        Err(ManageError::TooManyKeys { max: 1 })
    ));
}

// ----- changes ----------------------------------------------------------------------

#[tokio::test]
async fn a_caller_cannot_change_its_own_key_holding_more_than_it() {
    let rig = rig();
    let manager = manager(&rig);
    let stronger = seed(&rig, "u_1", None, &["jobs:write", "keys:write"]).await;
    let weaker = seed(&rig, "u_1", None, &["jobs:read"]).await;
    let me = user("u_1", None, &["jobs:write", "keys:read"]);

    // It sees the key, and may not touch it.
    manager.get(&me, &stronger).await.unwrap();
    every_change_is_denied(&manager, &me, &stronger, &["keys:write"]).await;
    let untouched = summary(&rig, &stronger).await;
    assert_eq!(untouched.state, KeyState::Active);
    assert_eq!(untouched.replaced_by, None);

    // A key holding no more than the caller is its to change.
    manager
        .roll(&me, &weaker, Duration::from_secs(60))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_deleted_key_is_gone_and_its_next_request_is_invalid_key() {
    let rig = rig();
    let manager = manager(&rig);
    let authn = rig.keyward.authenticator();
    let authenticate = |key: String| {
        let authn = authn.clone();
        async move {
            authn
                .authenticate(Credential::Key(&key), &Requirement::none(), ip("192.0.2.1"))
                .await
        }
    };
    let admin_key = rig
        .mint(MintRequest::new("admin", "u_1").capabilities(["keys:write", "jobs:write"]))
        .await;
    let doomed = rig
        .mint(MintRequest::new("doomed", "u_1").capabilities(["jobs:read"]))
        .await;
    let doomed_id = doomed.key.id().to_string();
    // Authenticated once, so it sits in the cache.
    authenticate(doomed.key.expose().to_owned()).await.unwrap();

    let principal = authenticate(admin_key.key.expose().to_owned())
        .await
        .unwrap();
    let caller = Caller::from_principal(&principal);
    manager.delete(&caller, &doomed_id).await.unwrap();

    assert!(matches!(
        authenticate(doomed.key.expose().to_owned()).await,
        Err(AuthError::InvalidKey(InvalidKeyReason::UnknownKey))
    ));
    assert_not_found("get", manager.get(&caller, &doomed_id).await);
    assert_not_found("second delete", manager.delete(&caller, &doomed_id).await);
    assert_eq!(
        ids(&manager, &caller).await,
        [admin_key.key.id().to_string()]
    );
}

#[tokio::test]
async fn roll_rules_reach_through() {
    let rig = rig_with(|b| {
        b.config(Config {
            max_roll_grace: Duration::from_secs(3600),
            max_live_keys_per_owner: 2,
            ..Config::default()
        })
    });
    let manager = manager(&rig);
    let me = user("u_1", None, &all_but_admin());
    let first = seed(&rig, "u_1", None, &["jobs:read"]).await;
    let second = seed(&rig, "u_1", None, &["jobs:read"]).await;

    assert!(matches!(
        manager.roll(&me, &first, Duration::from_secs(3601)).await,
        Err(ManageError::GraceTooLong { max_seconds: 3600 })
    ));
    let rolled = manager
        .roll(&me, &first, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        rolled.old.replaced_by,
        Some(rolled.new.key.id()),
        "the old key names its replacement"
    );
    assert!(matches!(
        manager.roll(&me, &first, Duration::from_secs(60)).await,
        Err(ManageError::AlreadyRolled)
    ));

    // Two keys of the owner in their grace: a third roll would pass the cap.
    manager
        .roll(&me, &second, Duration::from_secs(60))
        .await
        .unwrap();
    let replacement = rolled.new.key.id().to_string();
    assert!(matches!(
        manager
            .roll(&me, &replacement, Duration::from_secs(60))
            .await,
        Err(ManageError::TooManyKeys { max: 2 })
    ));

    manager.revoke(&me, &replacement).await.unwrap();
    assert!(matches!(
        manager.roll(&me, &replacement, Duration::ZERO).await,
        Err(ManageError::NotActive(KeyState::Revoked))
    ));
}

/// Rolling contains a leaked key: during its grace the old key still authenticates, but
/// manages nothing, so it cannot mint a permanent key or revoke its replacement.
#[tokio::test]
async fn a_rolled_key_manages_nothing_during_its_grace() {
    let rig = rig();
    let manager = manager(&rig);
    let leaked = rig
        .mint(MintRequest::new("leaked", "u_1").capabilities(["keys:write", "desktop:read"]))
        .await;
    let rolled = rig
        .keyward
        .keys()
        .roll(&leaked.key.id(), Duration::from_secs(3600))
        .await
        .unwrap();
    let principal = rig
        .keyward
        .authenticator()
        .authenticate(
            Credential::Key(leaked.key.expose()),
            &Requirement::none(),
            ip("192.0.2.1"),
        )
        .await
        .expect("the old key works during its grace");
    assert_eq!(principal.replaced_by(), Some(rolled.new.summary.id));
    let old = Caller::from_principal(&principal);
    let replacement = rolled.new.summary.id.to_string();
    assert!(matches!(
        manager.create(&old, CreateKey::new("permanent")).await,
        Err(ManageError::CallerRolled)
    ));
    assert!(matches!(
        manager.revoke(&old, &replacement).await,
        Err(ManageError::CallerRolled)
    ));
    assert!(matches!(
        manager.list(&old, PageRequest::first(10)).await,
        Err(ManageError::CallerRolled)
    ));
    // The replacement manages as the old key did.
    let new = rig
        .keyward
        .authenticator()
        .authenticate(
            Credential::Key(rolled.new.key.expose()),
            &Requirement::none(),
            ip("192.0.2.1"),
        )
        .await
        .unwrap();
    let listed = manager
        .list(&Caller::from_principal(&new), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(listed.keys.len(), 2);
}
