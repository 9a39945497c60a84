//! Attacks on the key-management surface: what a caller holding one key, a tenant admin
//! or a failing store must not get away with.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Rig, catalog, ip, rig};
use keyward::clock::{Clock, Timestamp};
use keyward::format::KeyId;
use keyward::manage::{Caller, KeyManager, ManageError};
use keyward::scope::CapabilitySet;
use keyward::store::{KeyStore, StoreError, Tenant};
use keyward::{AuthError, Credential, MintRequest};

fn caps(names: &[&str]) -> CapabilitySet {
    let catalog = catalog();
    catalog.effective(&catalog.set(names).unwrap())
}

async fn authenticate(rig: &Rig, key: &str) -> Result<keyward::Principal, AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(
            Credential::Key(key),
            &keyward::scope::Requirement::none(),
            ip("192.0.2.1"),
        )
        .await
}

/// Another process revokes a cached key and says so (`Invalidation::Key`), but this
/// process's store read fails once. The entry may serve through the outage, yet once
/// the store answers again the revocation must hold at once, not a cache refresh later.
#[tokio::test]
async fn a_remote_revoke_holds_as_soon_as_the_store_answers_again() {
    let rig = rig();
    let minted = rig.mint(MintRequest::new("ci", "u_1")).await;
    let key = minted.key.expose().to_owned();
    authenticate(&rig, &key).await.expect("a fresh key");

    // Another process: the store changes, this process only hears of it.
    let id = minted.key.id();
    rig.store
        .inner
        .revoke(&id, rig.clock.now())
        .await
        .expect("revoked elsewhere");
    rig.keyward.authenticator().invalidate(&id);

    rig.store.down.store(true, Ordering::SeqCst);
    let _served_or_not = authenticate(&rig, &key).await;
    rig.store.down.store(false, Ordering::SeqCst);

    assert!(
        matches!(authenticate(&rig, &key).await, Err(AuthError::KeyRevoked)),
        "the store is back and says revoked"
    );
}

fn acme() -> Tenant {
    Tenant::new("acme", "search")
}

/// A tenant admin manages the keys of its tenant, but a new key it obtains always
/// belongs to its own owner: rolling a member's key would hand the admin a working
/// plaintext key that acts as that member.
#[tokio::test]
async fn a_tenant_admin_cannot_obtain_a_key_acting_for_another_owner() {
    let rig = rig();
    let manager =
        KeyManager::new(&rig.keyward).tenant_admin(catalog().all_of(["desktop:control"]).unwrap());
    let member = rig
        .mint(
            MintRequest::new("member's", "u_member")
                .tenant(acme())
                .capabilities(["jobs:read"]),
        )
        .await;
    let admin = Caller::user(
        "u_admin",
        Some(acme()),
        caps(&["desktop:control", "keys:write", "jobs:read"]),
    );
    assert!(manager.is_tenant_admin(&admin));
    let id = member.key.id().to_string();

    match manager.roll(&admin, &id, Duration::from_secs(60)).await {
        Ok(rolled) => panic!(
            "the admin got a key of {} (its owner is u_admin)",
            rolled.new.summary.owner
        ),
        Err(ManageError::NotOwner) => {}
        Err(other) => panic!("expected NotOwner, got {other:?}"),
    }
    let untouched = rig.keyward.keys().get(&member.key.id()).await.unwrap();
    assert_eq!(
        untouched.replaced_by, None,
        "the member's key was not rolled"
    );
    // Revoking, disabling and enabling it stay the admin's to do.
    manager.disable(&admin, &id).await.expect("disable");
    manager.enable(&admin, &id).await.expect("enable");
}

/// Two services share one store, each with its own catalog. A key of `u_1` holds
/// `billing:admin`, which only the billing service declares. On the other service that
/// name grants nothing, so changing the key does not require it; but a roll mints a new
/// key carrying it and hands its plaintext to the caller, who could never be granted it.
#[tokio::test]
async fn a_roll_never_hands_out_a_capability_the_catalog_does_not_declare() {
    let rig = rig();
    let billing_catalog = keyward::scope::Catalog::builder()
        .capabilities(["billing:admin", "jobs:read"])
        .build()
        .unwrap();
    let billing = keyward::Keyward::builder(keyward_testing::rig::format(), billing_catalog)
        .store(rig.store.clone())
        .clock(rig.clock.clone())
        .hasher(keyward::hash::BcryptHasher::new(keyward::hash::BcryptHasher::MIN_COST).unwrap())
        .build()
        .unwrap();
    let strong = billing
        .keys()
        .mint(MintRequest::new("billing", "u_1").capabilities(["billing:admin", "jobs:read"]))
        .await
        .unwrap();

    let manager = KeyManager::new(&rig.keyward);
    let weak = Caller::user("u_1", None, caps(&["keys:write", "jobs:read"]));
    let id = strong.key.id().to_string();
    match manager.roll(&weak, &id, Duration::ZERO).await {
        Ok(rolled) => panic!(
            "a caller holding no billing:admin got a key granted {:?}",
            rolled.new.summary.capabilities
        ),
        Err(ManageError::InsufficientCapability(denied)) => {
            assert_eq!(denied.required, ["billing:admin"]);
        }
        Err(other) => panic!("expected a 403, got {other:?}"),
    }
    let held = caps(&["keys:write", "jobs:read"]);
    assert!(matches!(
        rig.keyward
            .keys()
            .roll_as(&held, &strong.key.id(), Duration::ZERO)
            .await,
        Err(keyward::ServiceError::InsufficientCapability(_))
    ));
    // Revoking it takes nothing away from anyone: still the caller's to do.
    manager.revoke(&weak, &id).await.expect("revoke");
}

/// The same through the JSON API: 409 `conflict`, and no key in the answer.
#[tokio::test]
async fn the_api_answers_a_tenant_admins_roll_of_a_members_key_with_409() {
    use keyward::http::RequestBody;
    use keyward::http::management::{ManagementApi, ManagementRequest, ManagementRoute};

    let rig = rig();
    let api = ManagementApi::new(&rig.keyward)
        .unwrap()
        .tenant_admin(catalog().all_of(["desktop:control"]).unwrap());
    let member = rig
        .mint(
            MintRequest::new("member's", "u_member")
                .tenant(acme())
                .capabilities(["jobs:read"]),
        )
        .await;
    let admin = rig
        .mint(
            MintRequest::new("admin", "u_admin")
                .tenant(acme())
                .capabilities(["desktop:control", "keys:write", "jobs:read"]),
        )
        .await;
    let principal = authenticate(&rig, admin.key.expose()).await.unwrap();
    let id = member.key.id().to_string();
    let path = format!("/v1/api_keys/{id}/roll");
    let response = api
        .handle(
            ManagementRoute::RollKey,
            ManagementRequest {
                principal: &principal,
                path: &path,
                id: Some(&id),
                query: None,
                body: RequestBody::json(br#"{"grace_seconds": 60}"#),
                client_ip: None,
            },
        )
        .await;
    assert_eq!(response.status, 409, "{}", response.body);
    let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["error"], "conflict");
    assert!(body.get("key").is_none(), "{}", response.body);
}

/// A store whose next change is made and then answered as a failure: the reply of a
/// committed change lost on the way back (a dropped connection after the commit).
#[derive(Clone, Default)]
struct LostReply {
    inner: std::sync::Arc<keyward::store::MemoryStore>,
    lose_next: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl LostReply {
    fn answer<T>(
        &self,
        done: Result<T, keyward::store::StoreError>,
    ) -> Result<T, keyward::store::StoreError> {
        if self.lose_next.swap(false, Ordering::SeqCst) {
            done?;
            Err(keyward::store::StoreError::unavailable("reply lost"))
        } else {
            done
        }
    }
}

#[async_trait::async_trait]
impl KeyStore for LostReply {
    async fn insert(&self, record: &keyward::store::KeyRecord) -> Result<(), StoreError> {
        self.inner.insert(record).await
    }
    async fn get(&self, id: &KeyId) -> Result<keyward::store::KeyRecord, StoreError> {
        self.inner.get(id).await
    }
    async fn list(
        &self,
        filter: &keyward::store::ListFilter,
        page: keyward::store::PageRequest,
    ) -> Result<keyward::store::Page, StoreError> {
        self.inner.list(filter, page).await
    }
    async fn revoke(
        &self,
        id: &KeyId,
        at: Timestamp,
    ) -> Result<keyward::store::KeyRecord, StoreError> {
        self.answer(self.inner.revoke(id, at).await)
    }
    async fn delete(&self, id: &KeyId) -> Result<keyward::store::KeyRecord, StoreError> {
        self.answer(self.inner.delete(id).await)
    }
    async fn set_expiry(
        &self,
        id: &KeyId,
        expires_at: Option<Timestamp>,
    ) -> Result<keyward::store::KeyRecord, StoreError> {
        self.answer(self.inner.set_expiry(id, expires_at).await)
    }
    async fn set_disabled(
        &self,
        id: &KeyId,
        disabled_at: Option<Timestamp>,
    ) -> Result<keyward::store::KeyRecord, StoreError> {
        self.answer(self.inner.set_disabled(id, disabled_at).await)
    }
    async fn update_hash(&self, id: &KeyId, hash: &str) -> Result<(), StoreError> {
        self.inner.update_hash(id, hash).await
    }
    async fn roll(
        &self,
        old: &KeyId,
        old_expires_at: Timestamp,
        replacement: &keyward::store::KeyRecord,
        now: Timestamp,
    ) -> Result<keyward::store::KeyRecord, StoreError> {
        self.answer(self.inner.roll(old, old_expires_at, replacement, now).await)
    }
    async fn touch_last_used(&self, updates: &[(KeyId, Timestamp)]) -> Result<(), StoreError> {
        self.inner.touch_last_used(updates).await
    }
}

/// A change whose store reply is lost may still have been made: this process must not
/// keep serving the key from its cache as it was (nothing else would tell it, without
/// an invalidation source, for a whole refresh interval).
#[tokio::test]
async fn a_change_whose_reply_was_lost_does_not_leave_the_key_cached() {
    type Change = for<'a> fn(
        &'a keyward::KeyService,
        &'a KeyId,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), keyward::ServiceError>> + Send + 'a>,
    >;
    type Refused = fn(&AuthError) -> bool;
    let changes: [(&str, Change, Refused); 5] = [
        (
            "revoke",
            |keys, id| Box::pin(async move { keys.revoke(id).await.map(drop) }),
            |e| matches!(e, AuthError::KeyRevoked),
        ),
        (
            "delete",
            |keys, id| Box::pin(async move { keys.delete(id).await.map(drop) }),
            |e| matches!(e, AuthError::InvalidKey(_)),
        ),
        (
            "disable",
            |keys, id| Box::pin(async move { keys.disable(id).await.map(drop) }),
            |e| matches!(e, AuthError::KeyDisabled),
        ),
        (
            "expire",
            |keys, id| Box::pin(async move { keys.expire(id).await.map(drop) }),
            |e| matches!(e, AuthError::KeyExpired),
        ),
        (
            "roll without grace",
            |keys, id| Box::pin(async move { keys.roll(id, Duration::ZERO).await.map(drop) }),
            |e| matches!(e, AuthError::KeyExpired),
        ),
    ];
    for (what, change, refused) in changes {
        let store = LostReply::default();
        let clock = keyward::clock::ManualClock::new(Timestamp::from_unix_seconds(common::START));
        let keyward = keyward::Keyward::builder(keyward_testing::rig::format(), catalog())
            .store(store.clone())
            .clock(clock.clone())
            .hasher(
                keyward::hash::BcryptHasher::new(keyward::hash::BcryptHasher::MIN_COST).unwrap(),
            )
            .build()
            .unwrap();
        let minted = keyward
            .keys()
            .mint(MintRequest::new("ci", "u_1"))
            .await
            .unwrap();
        let authenticator = keyward.authenticator();
        let requirement = keyward::scope::Requirement::none();
        let authenticate = || {
            authenticator.authenticate(
                Credential::Key(minted.key.expose()),
                &requirement,
                ip("192.0.2.1"),
            )
        };
        authenticate().await.expect("a fresh key");
        // A second on: the change is in the past by the next request.
        clock.advance(Duration::from_secs(1));

        store.lose_next.store(true, Ordering::SeqCst);
        let id = minted.key.id();
        assert!(
            change(&keyward.keys(), &id).await.is_err(),
            "{what}: the reply was lost"
        );
        clock.advance(Duration::from_secs(1));
        match authenticate().await {
            Err(e) if refused(&e) => {}
            other => panic!("{what}: the change was made, yet {other:?}"),
        }
    }
}
