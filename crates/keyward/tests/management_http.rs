//! The key-management JSON API through `ManagementApi::handle`, as an adapter calls it:
//! every route's answer, paging by `Link`, and every refusal's status and body.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Rig, ip, rig, rig_with};
use keyward::http::management::{ManagementApi, ManagementRequest, ManagementRoute};
use keyward::http::{HttpResponse, MAX_BODY_LEN, RequestBody};
use keyward::scope::Requirement;
use keyward::store::Tenant;
use keyward::{AuthError, Config, Credential, MintRequest, Principal};
use serde_json::{Value, json};

const LIST_PATH: &str = "/v1/api_keys";

/// The rig, the API over it, and every answer so far (to check none leaks a secret).
struct Api {
    rig: Rig,
    api: ManagementApi,
    answers: std::cell::RefCell<Vec<HttpResponse>>,
}

/// One request as an adapter reads it.
#[derive(Default, Clone, Copy)]
struct Call<'a> {
    id: Option<&'a str>,
    query: Option<&'a str>,
    body: RequestBody<'a>,
}

impl Call<'_> {
    fn id(id: &str) -> Call<'_> {
        Call {
            id: Some(id),
            ..Call::default()
        }
    }
}

fn api_over(rig: Rig) -> Api {
    let api = ManagementApi::new(&rig.keyward).expect("the rig's catalog declares keys:*");
    Api {
        rig,
        api,
        answers: Default::default(),
    }
}

fn api() -> Api {
    api_over(rig())
}

impl Api {
    /// Mints `capabilities` for `owner` directly and authenticates the key: the caller.
    async fn caller(&self, owner: &str, capabilities: &[&str]) -> (String, Principal) {
        self.caller_in(owner, None, capabilities).await
    }

    async fn caller_in(
        &self,
        owner: &str,
        tenant: Option<Tenant>,
        capabilities: &[&str],
    ) -> (String, Principal) {
        let mut request = MintRequest::new("caller", owner).capabilities(capabilities.to_vec());
        if let Some(tenant) = tenant {
            request = request.tenant(tenant);
        }
        let minted = self.rig.mint(request).await;
        let key = minted.key.expose().to_owned();
        let principal = self.authenticate(&key).await.expect("a fresh key");
        (key, principal)
    }

    async fn authenticate(&self, key: &str) -> Result<Principal, AuthError> {
        self.rig
            .keyward
            .authenticator()
            .authenticate(Credential::Key(key), &Requirement::none(), ip("192.0.2.1"))
            .await
    }

    async fn call(
        &self,
        route: ManagementRoute,
        principal: &Principal,
        call: Call<'_>,
    ) -> HttpResponse {
        let path = match call.id {
            Some(id) => format!("/v1{}", route.path().replace("{id}", id)),
            None => format!("/v1{}", route.path()),
        };
        let response = self
            .api
            .handle(
                route,
                ManagementRequest {
                    principal,
                    path: &path,
                    id: call.id,
                    query: call.query,
                    body: call.body,
                    client_ip: None,
                },
            )
            .await;
        self.answers.borrow_mut().push(response.clone());
        response
    }

    /// `POST /api_keys` with `body` as JSON.
    async fn create(&self, principal: &Principal, body: Value) -> HttpResponse {
        let bytes = body.to_string();
        let call = Call {
            body: RequestBody::json(bytes.as_bytes()),
            ..Call::default()
        };
        self.call(ManagementRoute::CreateKey, principal, call).await
    }

    /// Creates a key named `name` with `capabilities`; its body.
    async fn created(&self, principal: &Principal, name: &str, capabilities: &[&str]) -> Value {
        let r = self
            .create(
                principal,
                json!({"name": name, "capabilities": capabilities}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        body(&r)
    }

    async fn list(&self, principal: &Principal, query: Option<&str>) -> HttpResponse {
        let call = Call {
            query,
            ..Call::default()
        };
        self.call(ManagementRoute::ListKeys, principal, call).await
    }

    /// Every id in the caller's listing (one page of the maximum).
    async fn listed_ids(&self, principal: &Principal) -> Vec<String> {
        let r = self.list(principal, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        body(&r)
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn body(r: &HttpResponse) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {:?}", r.body))
}

fn header<'a>(r: &'a HttpResponse, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn keys_of(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// The listing's shape, sorted.
const KEY_FIELDS: [&str; 16] = [
    "capabilities",
    "created_at",
    "disabled_at",
    "expired_reason",
    "expires_at",
    "honeytoken",
    "id",
    "key_prefix",
    "last4",
    "last_used_at",
    "name",
    "owner",
    "replaced_by",
    "revoked_at",
    "state",
    "tenant",
];

fn assert_error(r: &HttpResponse, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(header(r, "content-type"), Some("application/json"));
    assert_eq!(body(r)["error"], code, "{}", r.body);
    assert!(body(r)["message"].is_string(), "{}", r.body);
}

#[tokio::test]
async fn every_route_answers_its_status_and_shape() {
    let api = api();
    let (_, me) = api
        .caller_in(
            "u_1",
            Some(Tenant::new("acme", "web")),
            &["keys:write", "jobs:write", "desktop:read"],
        )
        .await;

    // Create: 201, the key shown this once, not to be cached.
    let r = api
        .create(
            &me,
            json!({"name": "CI", "capabilities": ["jobs:read"], "expires_in_seconds": 3600}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    let created = body(&r);
    assert_eq!(
        keys_of(&created),
        ["capabilities", "expires_at", "id", "key", "name"]
    );
    assert_eq!(created["name"], "CI");
    assert_eq!(created["capabilities"], json!(["jobs:read"]));
    assert_eq!(created["expires_at"], "2027-01-15T09:00:00Z");
    let id = created["id"].as_str().unwrap().to_owned();
    let key = created["key"].as_str().unwrap().to_owned();
    let principal = api.authenticate(&key).await.unwrap();
    assert_eq!(principal.key_id().as_str(), id);
    assert_eq!(principal.owner(), "u_1");
    assert_eq!(principal.tenant(), Some(&Tenant::new("acme", "web")));

    // Show: 200, the listing's shape, masked.
    let r = api.call(ManagementRoute::ShowKey, &me, Call::id(&id)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let shown = body(&r);
    assert_eq!(keys_of(&shown), KEY_FIELDS);
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["owner"], "u_1");
    assert_eq!(shown["tenant"], json!({"team": "acme", "project": "web"}));
    assert_eq!(shown["state"], "active");
    assert_eq!(shown["created_at"], "2027-01-15T08:00:00Z");
    assert_eq!(shown["expires_at"], "2027-01-15T09:00:00Z");
    assert_eq!(shown["key_prefix"], format!("sk_live_{}", &id[..4]));
    assert_eq!(shown["last4"], &key[key.len() - 4..]);
    for absent in [
        "last_used_at",
        "revoked_at",
        "disabled_at",
        "replaced_by",
        "expired_reason",
    ] {
        assert!(shown[absent].is_null(), "{absent}");
    }

    // List: the caller's own key and the new one, in the same shape.
    let r = api.list(&me, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "link"), None);
    let listed = body(&r);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|k| k["id"] == me.key_id().as_str()));
    assert!(listed.contains(&shown));

    // Disable, enable: 200 with the key.
    let r = api
        .call(ManagementRoute::DisableKey, &me, Call::id(&id))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(keys_of(&body(&r)), KEY_FIELDS);
    assert_eq!(body(&r)["state"], "disabled");
    assert_eq!(body(&r)["disabled_at"], "2027-01-15T08:00:00Z");
    assert_eq!(
        api.authenticate(&key).await.unwrap_err(),
        AuthError::KeyDisabled
    );
    let r = api
        .call(ManagementRoute::EnableKey, &me, Call::id(&id))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(body(&r)["state"], "active");
    assert!(body(&r)["disabled_at"].is_null());
    api.authenticate(&key).await.unwrap();

    // Roll: 201 with the replacement and the key it replaces.
    let roll_body = br#"{"grace_seconds": 60}"#;
    let call = Call {
        id: Some(&id),
        body: RequestBody::json(roll_body),
        ..Call::default()
    };
    let r = api.call(ManagementRoute::RollKey, &me, call).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    let rolled = body(&r);
    assert_eq!(
        keys_of(&rolled),
        [
            "capabilities",
            "expires_at",
            "id",
            "key",
            "name",
            "rolled_from"
        ]
    );
    assert_eq!(
        rolled["rolled_from"],
        json!({"id": id, "expires_at": "2027-01-15T08:01:00Z"})
    );
    assert_eq!(rolled["capabilities"], json!(["jobs:read"]));
    assert_eq!(rolled["expires_at"], "2027-01-15T09:00:00Z");
    let new_id = rolled["id"].as_str().unwrap().to_owned();
    let new_key = rolled["key"].as_str().unwrap();
    assert_eq!(
        api.authenticate(new_key).await.unwrap().key_id().as_str(),
        new_id
    );
    let r = api.call(ManagementRoute::ShowKey, &me, Call::id(&id)).await;
    assert_eq!(body(&r)["replaced_by"], new_id.as_str());

    // Revoke: 204, listed as revoked, refused as revoked.
    let r = api
        .call(ManagementRoute::RevokeKey, &me, Call::id(&new_id))
        .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert!(r.headers.is_empty(), "{:?}", r.headers);
    let r = api
        .call(ManagementRoute::ShowKey, &me, Call::id(&new_id))
        .await;
    assert_eq!(body(&r)["state"], "revoked");
    assert_eq!(body(&r)["revoked_at"], "2027-01-15T08:00:00Z");
    assert!(api.listed_ids(&me).await.contains(&new_id));
    assert_eq!(
        api.authenticate(new_key).await.unwrap_err(),
        AuthError::KeyRevoked
    );

    // Delete for good: 204, gone from the listing, and the key is just invalid.
    let call = Call {
        id: Some(&new_id),
        query: Some("permanent=true"),
        ..Call::default()
    };
    let r = api.call(ManagementRoute::RevokeKey, &me, call).await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert!(!api.listed_ids(&me).await.contains(&new_id));
    assert!(matches!(
        api.authenticate(new_key).await,
        Err(AuthError::InvalidKey(_))
    ));
    let r = api
        .call(ManagementRoute::ShowKey, &me, Call::id(&new_id))
        .await;
    assert_error(&r, 404, "not_found");

    // `permanent=false` revokes, as no parameter does.
    let call = Call {
        id: Some(&id),
        query: Some("permanent=false"),
        ..Call::default()
    };
    let r = api.call(ManagementRoute::RevokeKey, &me, call).await;
    assert_eq!(r.status, 204);
    assert!(api.listed_ids(&me).await.contains(&id));

    assert_no_secret_leaks(&api, &[]);
}

#[tokio::test]
async fn the_listing_pages_by_its_link_header() {
    let api = api();
    let (_, me) = api.caller("u_1", &["keys:write"]).await;
    // Keys minted in the same second list in id order; a second apart, in mint order.
    for i in 0..5 {
        api.rig.clock.advance(Duration::from_secs(1));
        api.created(&me, &format!("key {i}"), &[]).await;
    }
    // Another owner's keys are never listed.
    let (_, other) = api.caller("u_2", &["keys:write"]).await;
    api.created(&other, "theirs", &[]).await;

    let mut query = Some("limit=2".to_owned());
    let mut pages = Vec::new();
    while let Some(q) = query.take() {
        let r = api.list(&me, Some(&q)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let names: Vec<String> = body(&r)
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_owned())
            .collect();
        pages.push(names);
        if let Some(link) = header(&r, "link") {
            let target = link
                .strip_prefix('<')
                .and_then(|l| l.strip_suffix(">; rel=\"next\""))
                .unwrap_or_else(|| panic!("{link}"));
            let (path, next) = target.split_once('?').unwrap();
            assert_eq!(path, LIST_PATH);
            assert!(next.starts_with("limit=2&after="), "{next}");
            query = Some(next.to_owned());
        }
        assert!(pages.len() <= 3, "{pages:?}");
    }
    assert_eq!(
        pages,
        [
            vec!["caller", "key 0"],
            vec!["key 1", "key 2"],
            vec!["key 3", "key 4"],
        ]
    );

    // Without a limit: one page of the default.
    let r = api.list(&me, Some("utm_source=x")).await;
    assert_eq!(body(&r).as_array().unwrap().len(), 6);
    assert_eq!(header(&r, "link"), None);
}

#[tokio::test]
async fn query_parameters_it_cannot_take_are_400_naming_the_parameter() {
    let api = api();
    let (_, me) = api.caller("u_1", &["keys:write"]).await;
    let (_, other) = api.caller("u_2", &["keys:write"]).await;
    let theirs = other.key_id();
    let long = "9".repeat(300);
    let after_theirs = format!("after={}", theirs.as_str());
    let limit_long = format!("limit={long}");
    let after_long = format!("after={long}");
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=", "limit"),
        ("limit=-3", "limit"),
        (limit_long.as_str(), "limit"),
        ("limit=1&limit=2", "limit"),
        ("after=abc", "after"),
        ("after=AAAAAAAAAAAA", "after"),
        (after_theirs.as_str(), "after"),
        (after_long.as_str(), "after"),
    ] {
        let r = api.list(&me, Some(query)).await;
        assert_error(&r, 400, "invalid_request");
        let message = body(&r)["message"].as_str().unwrap().to_owned();
        assert!(message.starts_with(parameter), "{query}: {message}");
        assert!(!r.body.contains("999"), "{query}: {}", r.body);
        assert!(!r.body.contains(theirs.as_str()), "{}", r.body);
    }
    // The other owner's cursor is refused exactly as an unknown one.
    let unknown = api.list(&me, Some("after=AAAAAAAAAAAA")).await;
    assert_eq!(api.list(&me, Some(&after_theirs)).await, unknown);

    let mine = me.key_id();
    for query in [
        "permanent=yes",
        "permanent=TRUE",
        "permanent=",
        "permanent=1",
    ] {
        let call = Call {
            id: Some(mine.as_str()),
            query: Some(query),
            ..Call::default()
        };
        let r = api.call(ManagementRoute::RevokeKey, &me, call).await;
        assert_error(&r, 400, "invalid_request");
        assert_eq!(body(&r)["message"], "permanent must be true or false");
    }
    // Nothing was revoked.
    api.assert_still_active(&me).await;
}

impl Api {
    async fn assert_still_active(&self, principal: &Principal) {
        let r = self
            .call(
                ManagementRoute::ShowKey,
                principal,
                Call::id(principal.key_id().as_str()),
            )
            .await;
        assert_eq!(body(&r)["state"], "active", "{}", r.body);
    }
}

#[tokio::test]
async fn nothing_escalates_and_a_denial_is_the_authentication_403() {
    let api = api();
    let (_, me) = api.caller("u_1", &["keys:write", "desktop:read"]).await;
    let r = api
        .create(
            &me,
            json!({"name": "x", "capabilities": ["jobs:write", "desktop:read"]}),
        )
        .await;
    assert_error(&r, 403, "insufficient_capability");
    assert_eq!(body(&r)["required"], json!(["jobs:write"]));
    assert_eq!(
        body(&r)["held"],
        json!(["desktop:read", "keys:read", "keys:write"])
    );
    assert_eq!(
        header(&r, "www-authenticate"),
        Some("Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"jobs:write\"")
    );
    // The default set (desktop:read, desktop:chat) holds more than the caller too.
    let r = api.create(&me, json!({"name": "x"})).await;
    assert_error(&r, 403, "insufficient_capability");
    assert_eq!(body(&r)["required"], json!(["desktop:chat"]));

    // A key of the same owner holding more cannot be changed by this caller.
    let stronger = api
        .rig
        .mint(MintRequest::new("admin", "u_1").capabilities(["keys:write", "jobs:write"]))
        .await;
    let id = stronger.key.id();
    for route in [
        ManagementRoute::RevokeKey,
        ManagementRoute::RollKey,
        ManagementRoute::DisableKey,
        ManagementRoute::EnableKey,
    ] {
        let r = api.call(route, &me, Call::id(id.as_str())).await;
        assert_error(&r, 403, "insufficient_capability");
        assert_eq!(body(&r)["required"], json!(["jobs:write"]), "{route:?}");
    }
    api.authenticate(stronger.key.expose()).await.unwrap();

    // The realm is the one configured.
    let api_realm = ManagementApi::new(&api.rig.keyward).unwrap().realm("admin");
    let request = ManagementRequest {
        principal: &me,
        path: LIST_PATH,
        id: None,
        query: None,
        body: RequestBody::json(br#"{"name": "x", "capabilities": ["jobs:read"]}"#),
        client_ip: None,
    };
    let r = api_realm.handle(ManagementRoute::CreateKey, request).await;
    assert!(
        header(&r, "www-authenticate")
            .unwrap()
            .starts_with("Bearer realm=\"admin\""),
        "{:?}",
        r.headers
    );
}

#[tokio::test]
async fn unknown_capabilities_are_400_listing_them() {
    let api = api();
    let (_, me) = api.caller("u_1", &["keys:write", "jobs:write"]).await;
    let r = api
        .create(
            &me,
            json!({"name": "x", "capabilities": ["nope", "jobs:raed", "jobs:read"]}),
        )
        .await;
    assert_error(&r, 400, "unknown_capability");
    assert_eq!(body(&r)["capabilities"], json!(["jobs:raed", "nope"]));
    assert!(body(&r).get("more").is_none());
    // Unknown wins over missing: the caller lacks kb:read too.
    let r = api
        .create(
            &me,
            json!({"name": "x", "capabilities": ["kb:read", "kb:wirte"]}),
        )
        .await;
    assert_error(&r, 400, "unknown_capability");
    assert_eq!(body(&r)["capabilities"], json!(["kb:wirte"]));

    // A flood of long names comes back capped.
    let names: Vec<String> = (0..100)
        .map(|i| format!("{i:03}{}", "x".repeat(100)))
        .collect();
    let r = api
        .create(&me, json!({"name": "x", "capabilities": names}))
        .await;
    assert_error(&r, 400, "unknown_capability");
    let shown = body(&r)["capabilities"].as_array().unwrap().len();
    assert_eq!(shown, 4);
    assert_eq!(body(&r)["more"], 100 - 4);
    // Two capped lists: the unknown names and the catalog's valid ones.
    assert!(
        body(&r)["valid"]
            .as_array()
            .unwrap()
            .contains(&json!("jobs:read"))
    );
    assert!(r.body.len() < 1024, "{}", r.body.len());
}

#[tokio::test]
async fn unknown_malformed_and_other_owners_ids_are_the_same_404() {
    let api = api();
    let (_, me) = api
        .caller("u_1", &["keys:write", "desktop:read", "desktop:chat"])
        .await;
    let (_, other) = api.caller("u_2", &["keys:write"]).await;
    let theirs = other.key_id();
    let routes = [
        ManagementRoute::ShowKey,
        ManagementRoute::RevokeKey,
        ManagementRoute::RollKey,
        ManagementRoute::DisableKey,
        ManagementRoute::EnableKey,
    ];
    for route in routes {
        let expected = api.call(route, &me, Call::id("AAAAAAAAAAAA")).await;
        assert_error(&expected, 404, "not_found");
        assert_eq!(body(&expected)["message"], "no such key");
        let long = "x".repeat(5000);
        for id in [
            theirs.as_str(),
            "x",
            "",
            "../../etc",
            long.as_str(),
            "AAAAAAAAAAA\u{e9}",
        ] {
            let r = api.call(route, &me, Call::id(id)).await;
            assert_eq!(r, expected, "{route:?} {id:.20}");
        }
        // An adapter that passed no id at all gets the same.
        let r = api.call(route, &me, Call::default()).await;
        assert_eq!(r, expected, "{route:?} without an id");
    }
    let permanent = Call {
        id: Some(theirs.as_str()),
        query: Some("permanent=true"),
        ..Call::default()
    };
    assert_error(
        &api.call(ManagementRoute::RevokeKey, &me, permanent).await,
        404,
        "not_found",
    );
    // Their key is untouched.
    api.assert_still_active(&other).await;
}

#[tokio::test]
async fn rolling_a_key_that_cannot_roll_is_409() {
    let api = api();
    let (_, me) = api.caller("u_1", &["keys:write", "jobs:write"]).await;
    let id = api.created(&me, "CI", &["jobs:read"]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = api.call(ManagementRoute::RollKey, &me, Call::id(&id)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Already rolled: roll its replacement.
    let r = api.call(ManagementRoute::RollKey, &me, Call::id(&id)).await;
    assert_error(&r, 409, "conflict");
    assert_eq!(
        body(&r)["message"],
        "the key was already rolled; roll its replacement instead"
    );

    let revoked = api.created(&me, "old", &["jobs:read"]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = api
        .call(ManagementRoute::RevokeKey, &me, Call::id(&revoked))
        .await;
    assert_eq!(r.status, 204);
    let r = api
        .call(ManagementRoute::RollKey, &me, Call::id(&revoked))
        .await;
    assert_error(&r, 409, "conflict");
    assert_eq!(
        body(&r)["message"],
        "the key is revoked; only an active key can be rolled"
    );

    let r = api
        .call(
            ManagementRoute::RollKey,
            &me,
            Call {
                id: Some(&id),
                body: RequestBody::json(br#"{"grace_seconds": 99999999999}"#),
                ..Call::default()
            },
        )
        .await;
    // Refused for its grace before its state.
    assert_error(&r, 400, "invalid_request");
    assert!(
        body(&r)["message"]
            .as_str()
            .unwrap()
            .starts_with("grace period exceeds the maximum"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn creating_past_the_owners_maximum_is_409_too_many_keys() {
    let api = api_over(rig_with(|b| {
        b.config(Config {
            max_live_keys_per_owner: 2,
            ..Config::default()
        })
    }));
    let (_, me) = api.caller("u_1", &["keys:write"]).await;
    api.created(&me, "second", &[]).await;
    let r = api
        .create(&me, json!({"name": "third", "capabilities": []}))
        .await;
    assert_error(&r, 409, "too_many_keys");
    assert_eq!(
        body(&r)["message"],
        "the owner already has the maximum of 2 live keys; revoke one first"
    );
}

#[tokio::test]
async fn bodies_are_checked_before_anything_else() {
    let api = api();
    let (_, me) = api.caller("u_1", &["keys:write"]).await;
    let id = me.key_id();
    let long = vec![b' '; MAX_BODY_LEN + 1];
    let cases: [(RequestBody<'_>, u16, &str); 9] = [
        (RequestBody::json(&long), 413, "payload_too_large"),
        (
            RequestBody {
                content_type: Some(b"text/plain"),
                bytes: br#"{"name": "x"}"#,
            },
            415,
            "unsupported_media_type",
        ),
        (
            RequestBody {
                content_type: None,
                bytes: br#"{"name": "x"}"#,
            },
            415,
            "unsupported_media_type",
        ),
        (RequestBody::json(b"{"), 400, "invalid_request"),
        (RequestBody::json(b"not json"), 400, "invalid_request"),
        (RequestBody::json(br#"["x"]"#), 400, "invalid_request"),
        (RequestBody::json(br#"{"name": 1}"#), 400, "invalid_request"),
        (
            RequestBody::json(br#"{"name": "x", "owner": "u_2"}"#),
            400,
            "invalid_request",
        ),
        (RequestBody::json(b""), 400, "invalid_request"),
    ];
    for (request_body, status, code) in cases {
        let call = Call {
            body: request_body,
            ..Call::default()
        };
        let r = api.call(ManagementRoute::CreateKey, &me, call).await;
        assert_error(&r, status, code);
        assert!(!r.body.contains("owner\""), "{}", r.body);
    }
    // Roll: the same checks, but no body is the defaults; `id` is checked after the body.
    for (request_body, status) in [
        (RequestBody::json(&long), 413),
        (
            RequestBody {
                content_type: Some(b"text/plain"),
                bytes: b"{}",
            },
            415,
        ),
        (RequestBody::json(br#"{"grace": 5}"#), 400),
        (RequestBody::json(br#"{"grace_seconds": -1}"#), 400),
        (RequestBody::json(b"[]"), 400),
    ] {
        let call = Call {
            id: Some("AAAAAAAAAAAA"),
            body: request_body,
            ..Call::default()
        };
        let r = api.call(ManagementRoute::RollKey, &me, call).await;
        assert_eq!(r.status, status, "{}", r.body);
    }
    // A body on a route that takes none is ignored.
    let call = Call {
        id: Some(id.as_str()),
        body: RequestBody {
            content_type: Some(b"text/plain"),
            bytes: b"whatever",
        },
        ..Call::default()
    };
    assert_eq!(
        api.call(ManagementRoute::ShowKey, &me, call).await.status,
        200
    );
    // Invalid names and expiries are 400 with the reason.
    for (request, message) in [
        (json!({"name": "  "}), "name is empty"),
        (
            json!({"name": "x\u{202e}y"}),
            "name contains an invisible formatting character (such as a direction override or a zero-width space)",
        ),
        (
            json!({"name": "x", "expires_in_seconds": 0}),
            "invalid request: expires_in must be longer than zero",
        ),
    ] {
        let mut request = request;
        request["capabilities"] = json!([]);
        let r = api.create(&me, request).await;
        assert_error(&r, 400, "invalid_request");
        assert_eq!(body(&r)["message"], message);
    }
    // The largest expiry saturates rather than failing.
    let r = api
        .create(
            &me,
            json!({"name": "x", "capabilities": [], "expires_in_seconds": u64::MAX}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn a_store_that_is_down_is_503_with_retry_after() {
    let api = api_over(rig_with(|b| {
        b.config(Config {
            unavailable_retry_after: 7,
            ..Config::default()
        })
    }));
    let (_, me) = api.caller("u_1", &["keys:write"]).await;
    let id = me.key_id();
    api.rig.store.down.store(true, Ordering::SeqCst);
    let id_call = Call::id(id.as_str());
    for (route, call) in [
        (ManagementRoute::ListKeys, Call::default()),
        (
            ManagementRoute::CreateKey,
            Call {
                body: RequestBody::json(br#"{"name": "x", "capabilities": []}"#),
                ..Call::default()
            },
        ),
        (ManagementRoute::ShowKey, id_call),
        (ManagementRoute::RevokeKey, id_call),
        (ManagementRoute::RollKey, id_call),
        (ManagementRoute::DisableKey, id_call),
        (ManagementRoute::EnableKey, id_call),
    ] {
        let r = api.call(route, &me, call).await;
        assert_error(&r, 503, "auth_unavailable");
        assert_eq!(header(&r, "retry-after"), Some("7"), "{route:?}");
        assert!(!r.body.contains("switched off"), "{}", r.body);
    }
    api.rig.store.down.store(false, Ordering::SeqCst);
    assert_eq!(api.list(&me, None).await.status, 200);
}

#[tokio::test]
async fn no_answer_repeats_a_secret_but_the_one_that_mints_it() {
    let api = api();
    let (my_key, me) = api
        .caller(
            "u_1",
            &["keys:write", "jobs:write", "desktop:read", "desktop:chat"],
        )
        .await;
    let created = api.created(&me, "a", &["jobs:read"]).await;
    let id = created["id"].as_str().unwrap().to_owned();
    for route in [
        ManagementRoute::ShowKey,
        ManagementRoute::DisableKey,
        ManagementRoute::EnableKey,
        ManagementRoute::RollKey,
    ] {
        api.call(route, &me, Call::id(&id)).await;
    }
    api.list(&me, None).await;
    api.list(&me, Some("limit=1")).await;
    api.create(&me, json!({"name": "b", "capabilities": ["jobs:raed"]}))
        .await;
    api.call(
        ManagementRoute::ShowKey,
        &me,
        Call::id(me.key_id().as_str()),
    )
    .await;
    api.call(ManagementRoute::RevokeKey, &me, Call::id(&id))
        .await;
    assert_no_secret_leaks(&api, &[&my_key]);
}

/// Every answer so far: no presented key appears anywhere, and each minted key only in
/// the one 201 that minted it.
fn assert_no_secret_leaks(api: &Api, presented: &[&str]) {
    let answers = api.answers.borrow();
    let secret_of = |key: &str| {
        let format = keyward_testing::rig::format();
        let parsed = format.parse(key).expect("a key of the rig's format");
        String::from_utf8(parsed.secret().to_vec()).unwrap()
    };
    let text = |r: &HttpResponse| {
        let headers: Vec<&str> = r.headers.iter().map(|(_, v)| v.as_str()).collect();
        format!("{} {}", r.body, headers.join(" "))
    };
    for key in presented {
        let secret = secret_of(key);
        for r in answers.iter() {
            assert!(!text(r).contains(&secret), "{}", r.body);
        }
    }
    let minted: Vec<(usize, String)> = answers
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == 201)
        .map(|(i, r)| (i, body(r)["key"].as_str().unwrap().to_owned()))
        .collect();
    assert!(!minted.is_empty());
    for (at, key) in &minted {
        let secret = secret_of(key);
        for (i, r) in answers.iter().enumerate() {
            assert_eq!(
                text(r).contains(&secret),
                i == *at,
                "answer {i}: {}",
                r.body
            );
        }
    }
}

#[tokio::test]
async fn a_rolled_key_is_403_key_rolled_on_every_route() {
    let api = api();
    let (key, principal) = api.caller("u_1", &["keys:write", "desktop:read"]).await;
    let roll = json!({"grace_seconds": 3600}).to_string();
    let rolled = api
        .call(
            ManagementRoute::RollKey,
            &principal,
            Call {
                id: Some(&principal.key_id().to_string()),
                body: RequestBody::json(roll.as_bytes()),
                ..Call::default()
            },
        )
        .await;
    assert_eq!(rolled.status, 201, "{}", rolled.body);
    let old = api
        .authenticate(&key)
        .await
        .expect("works during its grace");
    let replacement = body(&rolled)["id"].as_str().unwrap().to_owned();
    for (route, call) in [
        (ManagementRoute::ListKeys, Call::default()),
        (ManagementRoute::ShowKey, Call::id(&replacement)),
        (ManagementRoute::RevokeKey, Call::id(&replacement)),
        (ManagementRoute::DisableKey, Call::id(&replacement)),
        (
            ManagementRoute::CreateKey,
            Call {
                body: RequestBody::json(br#"{"name": "permanent"}"#),
                ..Call::default()
            },
        ),
    ] {
        let r = api.call(route, &old, call).await;
        assert_error(&r, 403, "key_rolled");
        assert!(
            header(&r, "www-authenticate")
                .unwrap()
                .contains("error=\"insufficient_scope\""),
            "{route:?}"
        );
    }
    // The replacement is untouched and still active.
    let new = api
        .authenticate(body(&rolled)["key"].as_str().unwrap())
        .await;
    assert!(new.is_ok());
}

#[tokio::test]
async fn a_honeytoken_is_created_by_its_flag_and_marked_where_keys_are_shown() {
    let api = api();
    let (_, me) = api.caller("u_1", &["keys:write", "jobs:read"]).await;
    let r = api
        .create(
            &me,
            json!({"name": "decoy", "capabilities": ["jobs:read"], "honeytoken": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = body(&r);
    let (id, key) = (
        created["id"].as_str().unwrap().to_owned(),
        created["key"].as_str().unwrap().to_owned(),
    );
    // It looks like any key of the format, and authenticates nothing.
    assert!(key.starts_with("sk_live_"));
    assert_eq!(
        api.authenticate(&key).await.unwrap_err(),
        AuthError::InvalidKey(keyward::InvalidKeyReason::UnknownKey)
    );
    let plain = api.created(&me, "plain", &["jobs:read"]).await;

    let shown = body(&api.call(ManagementRoute::ShowKey, &me, Call::id(&id)).await);
    assert_eq!(shown["honeytoken"], true);
    let r = api.list(&me, None).await;
    let listed = body(&r);
    let flag_of = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id)
            .map(|k| k["honeytoken"].clone())
    };
    assert_eq!(flag_of(&id), Some(json!(true)));
    assert_eq!(flag_of(plain["id"].as_str().unwrap()), Some(json!(false)));

    // Not a boolean: 400, as any mistyped field.
    let r = api
        .create(
            &me,
            json!({"name": "decoy", "capabilities": ["jobs:read"], "honeytoken": "yes"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}
