//! Least privilege from observed use: the capabilities requirements use are recorded on
//! the request path and flushed with `last_used_at`; `KeyService::usage` reports them
//! beside the grants with the fewest names covering them; a roll narrows a key to those.

mod common;

use std::time::Duration;

use common::{Rig, START, ip, mint, rig, rig_with};
use keyward::clock::Timestamp;
use keyward::http::RequestBody;
use keyward::http::management::{ManagementApi, ManagementRequest, ManagementRoute};
use keyward::scope::Requirement;
use keyward::store::{AuditAction, AuditQuery, KeyStore};
use keyward::{
    AuthError, Config, Credential, MintRequest, Principal, RequestProblem, ServiceError,
};
use serde_json::{Value, json};

async fn auth(rig: &Rig, key: &str, requirement: &Requirement) -> Result<Principal, AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(Credential::Key(key), requirement, ip("192.0.2.1"))
        .await
}

fn all_of(names: &[&str]) -> Requirement {
    common::catalog().all_of(names).unwrap()
}

fn any_of(names: &[&str]) -> Requirement {
    common::catalog().any_of(names).unwrap()
}

/// A key of `u_1` granted `capabilities`: its plaintext and id.
async fn key(rig: &Rig, capabilities: &[&str]) -> (String, keyward::format::KeyId) {
    let minted = mint(
        rig,
        MintRequest::new("worker", "u_1").capabilities(capabilities.to_vec()),
    )
    .await;
    (minted.key.expose().to_owned(), minted.key.id())
}

async fn stored_use(rig: &Rig, id: &keyward::format::KeyId) -> Vec<String> {
    rig.store.get(id).await.unwrap().used_capabilities
}

#[tokio::test]
async fn what_requirements_use_is_recorded_and_flushed_once() {
    let rig = rig();
    let (key, id) = key(&rig, &["jobs:write", "kb:read", "desktop:read"]).await;
    let authn = rig.keyward.authenticator();

    // The first request is a cache miss, the second a hit: both record.
    auth(&rig, &key, &all_of(&["jobs:read"])).await.unwrap();
    auth(&rig, &key, &all_of(&["jobs:read"])).await.unwrap();
    auth(&rig, &key, &Requirement::none()).await.unwrap();
    // Refused: nothing used.
    let refused = auth(&rig, &key, &all_of(&["keys:read"])).await;
    assert!(matches!(refused, Err(AuthError::InsufficientCapability(_))));

    // Before a flush the store has nothing; the report counts this process's use.
    assert!(stored_use(&rig, &id).await.is_empty());
    let usage = rig.keyward.keys().usage(&id).await.unwrap();
    assert_eq!(usage.used, ["jobs:read"]);
    assert_eq!(usage.since, Some(Timestamp::from_unix_seconds(START)));

    assert_eq!(authn.flush_usage().await.unwrap(), 1);
    let record = rig.store.get(&id).await.unwrap();
    assert_eq!(record.used_capabilities, ["jobs:read"]);
    assert_eq!(
        record.last_used_at,
        Some(Timestamp::from_unix_seconds(START))
    );
    // Nothing new: nothing to write.
    auth(&rig, &key, &all_of(&["jobs:read"])).await.unwrap();
    assert_eq!(authn.flush_usage().await.unwrap(), 0);

    // A capability used for the first time is flushed, even within the same second.
    auth(&rig, &key, &all_of(&["kb:read"])).await.unwrap();
    assert_eq!(authn.flush_usage().await.unwrap(), 1);
    assert_eq!(stored_use(&rig, &id).await, ["jobs:read", "kb:read"]);
}

#[tokio::test]
async fn an_any_of_requirement_records_every_alternative_the_key_holds() {
    let rig = rig();
    let (both, both_id) = key(&rig, &["jobs:write", "kb:read"]).await;
    let (one, one_id) = key(&rig, &["kb:read", "desktop:read"]).await;
    let either = any_of(&["jobs:read", "kb:read", "keys:read"]);
    auth(&rig, &both, &either).await.unwrap();
    auth(&rig, &one, &either).await.unwrap();
    rig.keyward.authenticator().flush_usage().await.unwrap();
    // jobs:read through jobs:write's implication; keys:read is held by neither.
    assert_eq!(stored_use(&rig, &both_id).await, ["jobs:read", "kb:read"]);
    assert_eq!(stored_use(&rig, &one_id).await, ["kb:read"]);
}

#[tokio::test]
async fn a_handlers_own_check_through_the_principal_is_recorded() {
    let rig = rig();
    let (key, id) = key(&rig, &["jobs:write", "desktop:read"]).await;
    let principal = auth(&rig, &key, &Requirement::none()).await.unwrap();
    principal.require(&all_of(&["jobs:write"])).unwrap();
    let denied = principal.require(&all_of(&["kb:read"])).unwrap_err();
    assert_eq!(denied.required, ["kb:read"]);
    // Looking at the capabilities directly records nothing.
    assert!(!principal.capabilities().is_empty());
    rig.keyward.authenticator().flush_usage().await.unwrap();
    assert_eq!(stored_use(&rig, &id).await, ["jobs:write"]);
}

#[tokio::test]
async fn use_recorded_by_an_evicted_entry_is_reported_and_flushed() {
    let rig = rig();
    let (key, id) = key(&rig, &["jobs:read", "kb:read"]).await;
    let authn = rig.keyward.authenticator();
    auth(&rig, &key, &all_of(&["jobs:read"])).await.unwrap();
    authn.evict(&id);
    assert_eq!(
        rig.keyward.keys().usage(&id).await.unwrap().used,
        ["jobs:read"],
        "an evicted entry's unflushed use still counts"
    );
    assert_eq!(authn.flush_usage().await.unwrap(), 1);
    assert_eq!(stored_use(&rig, &id).await, ["jobs:read"]);

    // The reloaded entry starts from the stored use (its last use is written again).
    auth(&rig, &key, &all_of(&["jobs:read"])).await.unwrap();
    assert_eq!(authn.flush_usage().await.unwrap(), 1);
    assert_eq!(stored_use(&rig, &id).await, ["jobs:read"]);
}

#[tokio::test]
async fn with_recording_off_only_the_last_use_is_stored() {
    let rig = rig_with(|b| {
        b.config(Config {
            record_capability_usage: false,
            ..Config::default()
        })
    });
    let (key, id) = key(&rig, &["jobs:read"]).await;
    auth(&rig, &key, &all_of(&["jobs:read"])).await.unwrap();
    assert!(rig.keyward.keys().usage(&id).await.unwrap().used.is_empty());
    assert_eq!(rig.keyward.authenticator().flush_usage().await.unwrap(), 1);
    let record = rig.store.get(&id).await.unwrap();
    assert!(record.used_capabilities.is_empty());
    assert_eq!(
        record.last_used_at,
        Some(Timestamp::from_unix_seconds(START))
    );
}

#[tokio::test]
async fn the_suggestion_drops_what_another_used_capability_implies() {
    let rig = rig();
    let (key, id) = key(&rig, &["jobs:write", "kb:read", "desktop:read"]).await;
    auth(&rig, &key, &all_of(&["jobs:read"])).await.unwrap();
    let usage = rig.keyward.keys().usage(&id).await.unwrap();
    assert_eq!(usage.granted, ["desktop:read", "jobs:write", "kb:read"]);
    assert_eq!(usage.suggested, ["jobs:read"]);

    // jobs:write implies jobs:read: using both needs jobs:write alone.
    auth(&rig, &key, &all_of(&["jobs:write"])).await.unwrap();
    rig.keyward.authenticator().flush_usage().await.unwrap();
    let usage = rig.keyward.keys().usage(&id).await.unwrap();
    assert_eq!(usage.used, ["jobs:read", "jobs:write"]);
    assert_eq!(usage.suggested, ["jobs:write"]);
}

#[tokio::test]
async fn a_roll_to_used_capabilities_narrows_the_replacement() {
    let rig = rig();
    let (key, id) = key(&rig, &["jobs:write", "kb:read", "desktop:read"]).await;
    auth(&rig, &key, &all_of(&["jobs:read"])).await.unwrap();
    rig.keyward.authenticator().flush_usage().await.unwrap();

    let rolled = rig
        .keyward
        .keys()
        .roll_to_used(&id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(rolled.new.summary.capabilities, ["jobs:read"]);
    assert_eq!(rolled.old.replaced_by, Some(rolled.new.summary.id));
    let new = rolled.new.key.expose();
    auth(&rig, new, &all_of(&["jobs:read"])).await.unwrap();
    for more in ["jobs:write", "kb:read"] {
        let refused = auth(&rig, new, &all_of(&[more])).await;
        assert!(
            matches!(refused, Err(AuthError::InsufficientCapability(_))),
            "{more}"
        );
    }
    // The old key works through its grace, with all it had.
    auth(&rig, &key, &all_of(&["kb:read"])).await.unwrap();

    let trail = rig
        .store
        .list_audit(&AuditQuery::key(id, 10))
        .await
        .unwrap();
    let roll = trail
        .iter()
        .find(|e| e.action == AuditAction::Rolled)
        .expect("the roll is audited");
    assert_eq!(roll.capabilities, ["jobs:read"]);
    assert_eq!(
        roll.note.as_deref(),
        Some("capabilities narrowed from desktop:read,jobs:write,kb:read")
    );
}

#[tokio::test]
async fn a_narrowed_roll_refuses_nothing_recorded_and_anything_beyond_the_grants() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let (_, id) = key(&rig, &["jobs:write", "kb:read"]).await;
    let grace = Duration::ZERO;
    assert!(matches!(
        keys.roll_to_used(&id, grace).await,
        Err(ServiceError::InvalidRequest(RequestProblem::NoRecordedUse))
    ));
    assert!(matches!(
        keys.roll_narrowed(&id, grace, &[]).await,
        Err(ServiceError::InvalidRequest(RequestProblem::NoCapabilities))
    ));
    match keys
        .roll_narrowed(&id, grace, &["keys:write".into(), "jobs:read".into()])
        .await
    {
        Err(ServiceError::InvalidRequest(RequestProblem::BeyondGrants { capabilities })) => {
            assert_eq!(capabilities, ["keys:write"]);
        }
        other => panic!("not refused as beyond the grants: {other:?}"),
    }
    assert!(matches!(
        keys.roll_narrowed(&id, grace, &["jobs:raed".into()]).await,
        Err(ServiceError::UnknownCapabilities(_))
    ));
    // Nothing was rolled by the refusals; an implied capability is within the grants.
    assert_eq!(rig.store.get(&id).await.unwrap().replaced_by, None);
    let rolled = keys
        .roll_narrowed(&id, grace, &["jobs:read".into(), "kb:read".into()])
        .await
        .unwrap();
    assert_eq!(rolled.new.summary.capabilities, ["jobs:read", "kb:read"]);
}

#[tokio::test]
async fn the_usage_route_shows_only_keys_the_caller_sees() {
    let rig = rig();
    let api = ManagementApi::new(&rig.keyward).unwrap();
    let (manager, manager_id) = key(&rig, &["keys:write", "jobs:write"]).await;
    let other = mint(
        &rig,
        MintRequest::new("other", "u_2").capabilities(["jobs:read"]),
    )
    .await;
    // The caller passed the route's gate, which records keys:read.
    let me = auth(&rig, &manager, &all_of(&["keys:read"])).await.unwrap();
    let usage = |id: String| {
        let api = api.clone();
        let me = me.clone();
        async move {
            let path = format!("/v1/api_keys/{id}/usage");
            api.handle(
                ManagementRoute::KeyUsage,
                ManagementRequest {
                    principal: &me,
                    path: &path,
                    id: Some(&id),
                    query: None,
                    body: RequestBody::default(),
                    client_ip: None,
                },
            )
            .await
        }
    };
    let own = usage(manager_id.to_string()).await;
    assert_eq!(own.status, 200, "{}", own.body);
    let body: Value = serde_json::from_str(&own.body).unwrap();
    assert_eq!(
        body,
        json!({
            "granted": ["jobs:write", "keys:write"],
            "used": ["keys:read"],
            "since": Timestamp::from_unix_seconds(START).to_string(),
            "suggested": ["keys:read"],
        })
    );
    for id in [other.key.id().to_string(), "not-an-id".to_owned()] {
        let refused = usage(id).await;
        assert_eq!(refused.status, 404, "{}", refused.body);
        assert!(refused.body.contains("not_found"));
    }
    assert!(!ManagementRoute::KeyUsage.writes());
    assert_eq!(ManagementRoute::KeyUsage.method(), "GET");
}
