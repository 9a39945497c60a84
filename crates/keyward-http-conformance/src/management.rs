//! The key-management rows: every route of [`keyward::http::management`] mounted at
//! `/v1`, behind the adapter's gate, and every refusal.

use std::time::Duration;

use keyward::clock::Timestamp;
use keyward::http::{MAX_BODY_LEN, RequestError};
use keyward::{KeyService, MintRequest};
use keyward_testing::rig;
use serde_json::{Value, json};

use crate::{BodyIs, Case, HeaderIs, Keys, PROXY_PEER, Peer, Step, padded, socket};

/// Most live keys one owner may hold in the rig: `u_3` holds that many.
pub(crate) const LIVE_KEYS_PER_OWNER: u64 = 20;

/// Every field of a listed key.
const LISTED: &[&str] = &[
    "id",
    "name",
    "key_prefix",
    "last4",
    "owner",
    "tenant",
    "capabilities",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
    "disabled_at",
    "replaced_by",
    "state",
    "expired_reason",
    "honeytoken",
];

/// Every field of an audit trail entry.
const EVENT: &[&str] = &[
    "seq",
    "at",
    "action",
    "key_id",
    "actor",
    "client_ip",
    "capabilities",
    "replacement",
    "note",
];

/// Every field of a key's usage report.
const USAGE: &[&str] = &["granted", "used", "since", "suggested"];

/// The client a trusted proxy forwards the disable and enable rows for: the audit trail
/// must name it, not the proxy.
const FORWARDED_CLIENT: &str = "203.0.113.77";

/// Every field of a new key, the one answer that carries a key.
const CREATED: &[&str] = &["id", "key", "name", "capabilities", "expires_at"];

/// The keys and key ids the management rows use.
pub struct ManagementKeys {
    /// `keys:write` (so `keys:read`) and `desktop:read`, owner `u_2`, 1,000 requests a
    /// minute: the caller of the management rows.
    pub manager: String,
    /// The id of [`manager`](Self::manager).
    pub manager_id: String,
    /// `keys:write` and the default grants, owner `u_3`, who holds the rig's cap of
    /// live keys.
    pub crowded: String,
    /// `desktop:read`, owner `u_2`: disabled, then enabled again.
    pub switched: String,
    /// The id of [`switched`](Self::switched).
    pub switched_id: String,
    /// A `desktop:lifecycle` key of `u_2`, which the manager may not change.
    pub stronger_id: String,
    /// `desktop:read`, owner `u_2`: rolled with a grace period.
    pub to_roll_id: String,
    /// `desktop:read`, owner `u_2`: rolled without a body.
    pub to_roll_bare_id: String,
    /// `desktop:read`, owner `u_2`: revoked.
    pub to_revoke_id: String,
    /// `desktop:read`, owner `u_2`: deleted for good.
    pub to_delete_id: String,
    /// The admin key's id (owner `u_1`): another owner's key.
    pub other_owner_id: String,
    /// A well-formed id no key has.
    pub unknown_id: String,
    /// A listing cursor with a key of the manager's after it: the lesser of
    /// [`stronger_id`](Self::stronger_id) and [`switched_id`](Self::switched_id), both
    /// minted at the same instant, so listed in id order and never deleted.
    pub cursor_id: String,
}

impl ManagementKeys {
    /// Mints the keys through `service`; `other_owner_id` is the admin key's id.
    pub(crate) async fn mint(service: &KeyService, other_owner_id: String) -> ManagementKeys {
        let mint = |request: MintRequest| async move {
            let new = service.mint(request).await.expect("mint");
            (new.summary.id.to_string(), new.key.expose().to_owned())
        };
        let reads = |name: &str| MintRequest::new(name, "u_2").capabilities(["desktop:read"]);
        let (manager_id, manager) = mint(
            MintRequest::new("manager", "u_2")
                .capabilities(["keys:write", "desktop:read"])
                .rate_limit(1000, Duration::from_secs(60)),
        )
        .await;
        let (stronger_id, _) =
            mint(MintRequest::new("production", "u_2").capabilities(["desktop:lifecycle"])).await;
        let (switched_id, switched) = mint(reads("switched")).await;
        let (to_roll_id, _) = mint(reads("to roll")).await;
        let (to_roll_bare_id, _) = mint(reads("to roll bare")).await;
        let (to_revoke_id, _) = mint(reads("to revoke")).await;
        let (to_delete_id, _) = mint(reads("to delete")).await;
        let catalog = rig::catalog();
        let crowded_grants = catalog
            .names(&catalog.default_set())
            .into_iter()
            .chain(["keys:write"]);
        let (_, crowded) =
            mint(MintRequest::new("crowded", "u_3").capabilities(crowded_grants)).await;
        for n in 1..LIVE_KEYS_PER_OWNER {
            mint(MintRequest::new(format!("filler {n}"), "u_3")).await;
        }
        let unknown_id = rig::format().mint().expect("mint").id().to_string();
        let cursor_id = stronger_id.clone().min(switched_id.clone());
        ManagementKeys {
            manager,
            manager_id,
            crowded,
            switched,
            switched_id,
            stronger_id,
            to_roll_id,
            to_roll_bare_id,
            to_revoke_id,
            to_delete_id,
            other_owner_id,
            unknown_id,
            cursor_id,
        }
    }

    /// The secrets the rows present.
    pub(crate) fn secrets(&self) -> [&str; 3] {
        [&self.manager, &self.crowded, &self.switched]
    }
}

/// The rig's clock `seconds` after its start, as a key's timestamps are rendered.
fn time(seconds: u64) -> Value {
    json!(Timestamp::from_unix_seconds(rig::START + seconds).to_string())
}

/// `/v1/api_keys/{id}` followed by `tail`.
fn key_path(id: &str, tail: &str) -> String {
    format!("/v1/api_keys/{id}{tail}")
}

impl Case {
    fn delete(name: &str, path: impl Into<String>) -> Case {
        Case {
            method: "DELETE",
            ..Case::get(name, path)
        }
    }
    fn fields(mut self, fields: &'static [&'static str]) -> Case {
        self.expect_body.push(BodyIs::Fields(fields));
        self
    }
    fn at(mut self, pointer: &'static str, value: Value) -> Case {
        self.expect_body.push(BodyIs::At(pointer, value));
        self
    }
    fn len(mut self, len: usize) -> Case {
        self.expect_body.push(BodyIs::Len(len));
        self
    }
    /// 403 `insufficient_capability` naming `required`.
    fn lacks(self, required: &[&str]) -> Case {
        self.refused(403, "insufficient_capability")
            .body("required", json!(required))
            .with_header(
                "www-authenticate",
                HeaderIs::Containing("error=\"insufficient_scope\""),
            )
    }
    /// 201 with a new key, never cached.
    fn created(self) -> Case {
        self.expect(201)
            .fields(CREATED)
            .with_header("content-type", HeaderIs::Exactly("application/json".into()))
            .with_header("cache-control", HeaderIs::Exactly("no-store".into()))
    }
    /// 204 with no body.
    fn no_content(self) -> Case {
        self.expect(204).exactly(String::new())
    }
}

/// Every management area, in order; the store goes down (and back up) last.
pub(crate) fn steps(k: &Keys) -> Vec<Step> {
    let areas: [fn(&Keys) -> Vec<Step>; 8] = [
        gate, methods, reads, creating, changes, events, usage, outage,
    ];
    areas.iter().flat_map(|area| area(k)).collect()
}

/// The gate in front of the routes: reads need `keys:read`, writes `keys:write`.
fn gate(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let m = &k.management;
    vec![
        Send(Case::get("management: no key", "/v1/api_keys").refused(401, "missing_credential")),
        Send(
            Case::get("management: listing needs keys:read", "/v1/api_keys")
                .bearer(&k.reader)
                .lacks(&["keys:read"])
                .with_header(
                    "www-authenticate",
                    HeaderIs::Containing("scope=\"keys:read\""),
                ),
        ),
        Send(
            Case::get(
                "management: showing needs keys:read",
                key_path(&m.stronger_id, ""),
            )
            .bearer(&k.reader)
            .lacks(&["keys:read"]),
        ),
        Send(
            Case::get(
                "management: a key's events need keys:read",
                key_path(&m.switched_id, "/events"),
            )
            .bearer(&k.reader)
            .lacks(&["keys:read"]),
        ),
        Send(
            Case::post("management: creating needs keys:write", "/v1/api_keys")
                .bearer(&k.reader)
                .json(r#"{"name":"x"}"#)
                .lacks(&["keys:write"]),
        ),
        Send(
            Case::delete(
                "management: revoking needs keys:write",
                key_path(&m.to_revoke_id, ""),
            )
            .bearer(&k.reader)
            .lacks(&["keys:write"]),
        ),
        Send(
            Case::post(
                "management: rolling needs keys:write",
                key_path(&m.to_roll_id, "/roll"),
            )
            .bearer(&k.reader)
            .lacks(&["keys:write"]),
        ),
        Send(
            Case::delete(
                "management: a revoked caller",
                key_path(&m.to_revoke_id, ""),
            )
            .bearer(&k.revoked)
            .invalid_token(401, "key_revoked"),
        ),
    ]
}

/// Another method on a management path: keyward's 405, with `Allow`, before any
/// authentication.
fn methods(k: &Keys) -> Vec<Step> {
    let m = &k.management;
    let id = key_path(&m.stronger_id, "");
    [
        ("PUT", "/v1/api_keys".to_owned(), ["GET", "POST"].as_slice()),
        ("PATCH", id.clone(), &["GET", "DELETE"]),
        ("POST", id.clone(), &["GET", "DELETE"]),
        ("GET", key_path(&m.stronger_id, "/roll"), &["POST"]),
        ("DELETE", key_path(&m.stronger_id, "/disable"), &["POST"]),
        ("GET", key_path(&m.stronger_id, "/enable"), &["POST"]),
        ("POST", key_path(&m.stronger_id, "/events"), &["GET"]),
        ("POST", key_path(&m.stronger_id, "/usage"), &["GET"]),
    ]
    .into_iter()
    .flat_map(|(method, path, allowed)| {
        [None, Some(&m.manager)].map(|key| {
            let name = format!("management: {method} {path}, key: {}", key.is_some());
            let mut case = Case {
                method,
                ..Case::get(&name, path.clone())
            };
            if let Some(key) = key {
                case = case.bearer(key);
            }
            for allow in allowed {
                case = case.with_header("allow", HeaderIs::Containing(allow));
            }
            Step::Send(case.request_error(RequestError::MethodNotAllowed))
        })
    })
    .collect()
}

/// Listing and showing: the caller's own keys, paged; any other id is 404.
fn reads(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let m = &k.management;
    let mut steps = vec![
        Send(
            Case::get("management: list", "/v1/api_keys")
                .bearer(&m.manager)
                .ok_as_json()
                .fields(LISTED)
                .with_header("link", HeaderIs::Absent)
                .without(m.other_owner_id.clone()),
        ),
        Send(
            Case::get("management: a page", "/v1/api_keys?limit=2")
                .bearer(&m.manager)
                .ok_as_json()
                .len(2)
                .fields(LISTED)
                .with_header("link", HeaderIs::Containing("</v1/api_keys?limit=2&after="))
                .with_header("link", HeaderIs::Containing("rel=\"next\"")),
        ),
        Send(
            Case::get(
                "management: a page after an id",
                format!("/v1/api_keys?limit=1&after={}", m.cursor_id),
            )
            .bearer(&m.manager)
            .ok_as_json()
            .fields(LISTED),
        ),
    ];
    for query in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=ten",
        "after=not-an-id",
        "limit=1&after=",
    ] {
        steps.push(Send(
            Case::get(
                &format!("management: list with {query}"),
                format!("/v1/api_keys?{query}"),
            )
            .bearer(&m.manager)
            .refused(400, "invalid_request")
            .with_header("www-authenticate", HeaderIs::Absent),
        ));
    }
    steps.push(Send(
        Case::get("management: show", key_path(&m.stronger_id, ""))
            .bearer(&m.manager)
            .ok_as_json()
            .fields(LISTED)
            .body("id", json!(m.stronger_id))
            .body("owner", json!("u_2"))
            .body("capabilities", json!(["desktop:lifecycle"]))
            .body("state", json!("active"))
            .at("/key", Value::Null),
    ));
    for (what, id) in [
        ("another owner's key", m.other_owner_id.as_str()),
        ("an unknown id", m.unknown_id.as_str()),
        ("a malformed id", "not-an-id"),
        ("an id that is not UTF-8", "%FF%FE"),
    ] {
        steps.push(Send(
            Case::get(&format!("management: show {what}"), key_path(id, ""))
                .bearer(&m.manager)
                .refused(404, "not_found"),
        ));
    }
    steps
}

/// Creating: the caller's owner, never more than the caller holds, within the cap; and
/// every body refusal.
fn creating(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let m = &k.management;
    let create = |name: &str| Case::post(&format!("management: {name}"), "/v1/api_keys");
    vec![
        Send(
            create("create")
                .bearer(&m.manager)
                .json(r#"{"name":"ci","capabilities":["desktop:read"],"expires_in_seconds":3600}"#)
                .created()
                .body("name", json!("ci"))
                .body("capabilities", json!(["desktop:read"]))
                .at("/expires_at", time(3600)),
        ),
        Send(
            create("create with a capability the caller lacks")
                .bearer(&m.manager)
                .json(r#"{"name":"x","capabilities":["desktop:read","desktop:lifecycle"]}"#)
                .lacks(&["desktop:lifecycle"])
                .body("held", json!(["desktop:read", "keys:read", "keys:write"])),
        ),
        Send(
            create("create with the default set the caller lacks")
                .bearer(&m.manager)
                .json(r#"{"name":"x"}"#)
                .lacks(&["desktop:chat"]),
        ),
        Send(
            create("an unknown capability wins over a missing one")
                .bearer(&m.manager)
                .json(r#"{"name":"x","capabilities":["jobs:raed","desktop:lifecycle"]}"#)
                .refused(400, "unknown_capability")
                .body("capabilities", json!(["jobs:raed"]))
                .body(
                    "valid",
                    json!([
                        "desktop:chat",
                        "desktop:control",
                        "desktop:lifecycle",
                        "desktop:read",
                        "jobs:read",
                        "jobs:write",
                        "kb:read",
                        "keys:read",
                        "keys:write"
                    ]),
                ),
        ),
        Send(
            create("create past the owner's cap")
                .bearer(&m.crowded)
                .json(r#"{"name":"one too many"}"#)
                .refused(409, "too_many_keys"),
        ),
        Send(
            create("create without a body")
                .bearer(&m.manager)
                .header("content-type", "application/json")
                .bad_request_body(),
        ),
        Send(
            create("create as text/plain")
                .bearer(&m.manager)
                .header("content-type", "text/plain")
                .send_body(r#"{"name":"x"}"#)
                .request_error(RequestError::UnsupportedMediaType),
        ),
        Send(
            create("create without a content type")
                .bearer(&m.manager)
                .send_body(r#"{"name":"x"}"#)
                .request_error(RequestError::UnsupportedMediaType),
        ),
        Send(
            create("create with a body over the limit")
                .bearer(&m.manager)
                .json(padded(r#"{"name":"x"}"#, MAX_BODY_LEN + 1))
                .request_error(RequestError::PayloadTooLarge),
        ),
        Send(
            create("create with not JSON")
                .bearer(&m.manager)
                .json(format!("{} not json", "j".repeat(1000)))
                .bad_request_body()
                .without("j".repeat(16)),
        ),
        Send(
            create("create with an unknown field")
                .bearer(&m.manager)
                .json(format!(r#"{{"name":"x","{}":1}}"#, "f".repeat(1000)))
                .bad_request_body()
                .without("f".repeat(16)),
        ),
        Send(
            create("create without a name")
                .bearer(&m.manager)
                .json("{}")
                .bad_request_body(),
        ),
        Send(
            create("create with an empty name")
                .bearer(&m.manager)
                .json(r#"{"name":"","capabilities":["desktop:read"]}"#)
                .bad_request_body(),
        ),
        Send(
            create("create with a negative expiry")
                .bearer(&m.manager)
                .json(r#"{"name":"x","expires_in_seconds":-1}"#)
                .bad_request_body(),
        ),
    ]
}

/// Revoking, deleting, rolling, disabling and enabling the caller's keys; never a key
/// holding more than the caller, never another owner's.
fn changes(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let m = &k.management;
    let manager = |case: Case| case.bearer(&m.manager);
    let mut steps = vec![
        // Revoke: 204, still listed, as revoked; it cannot be rolled.
        Send(
            manager(Case::delete(
                "management: revoke",
                key_path(&m.to_revoke_id, ""),
            ))
            .no_content(),
        ),
        Send(
            manager(Case::get(
                "management: a revoked key stays listed",
                key_path(&m.to_revoke_id, ""),
            ))
            .ok_as_json()
            .body("state", json!("revoked"))
            .body("revoked_at", time(0)),
        ),
        Send(
            manager(Case::post(
                "management: rolling a revoked key",
                key_path(&m.to_revoke_id, "/roll"),
            ))
            .refused(409, "conflict"),
        ),
        // Delete for good: 204, then gone.
        Send(
            manager(Case::delete(
                "management: delete for good",
                key_path(&m.to_delete_id, "?permanent=true"),
            ))
            .no_content(),
        ),
        Send(
            manager(Case::get(
                "management: a deleted key is gone",
                key_path(&m.to_delete_id, ""),
            ))
            .refused(404, "not_found"),
        ),
        // Roll: 201 with the replacement; once only.
        Send(
            manager(Case::post(
                "management: roll with a grace period",
                key_path(&m.to_roll_id, "/roll"),
            ))
            .json(r#"{"grace_seconds":60}"#)
            .created()
            .body("capabilities", json!(["desktop:read"]))
            .at("/rolled_from/id", json!(m.to_roll_id))
            .at("/rolled_from/expires_at", time(60)),
        ),
        Send(
            manager(Case::post(
                "management: rolling a key twice",
                key_path(&m.to_roll_id, "/roll"),
            ))
            .refused(409, "conflict"),
        ),
        Send(
            manager(Case::post(
                "management: roll without a body",
                key_path(&m.to_roll_bare_id, "/roll"),
            ))
            .created()
            .at("/rolled_from/id", json!(m.to_roll_bare_id)),
        ),
        Send(
            manager(Case::post(
                "management: a grace period past the cap",
                key_path(&m.switched_id, "/roll"),
            ))
            .json(r#"{"grace_seconds":99999999}"#)
            .bad_request_body(),
        ),
        Send(
            manager(Case::post(
                "management: roll with a text/plain body",
                key_path(&m.switched_id, "/roll"),
            ))
            .header("content-type", "text/plain")
            .send_body(r#"{"grace_seconds":1}"#)
            .request_error(RequestError::UnsupportedMediaType),
        ),
        // Disable and enable: 200 with the key; the key is refused meanwhile.
        Send(
            Case::get("management: before disable", "/v1/me")
                .bearer(&m.switched)
                .ok_as("u_2"),
        ),
        Send(
            manager(Case::post(
                "management: disable",
                key_path(&m.switched_id, "/disable"),
            ))
            .peer(Peer::Fixed(socket(PROXY_PEER)))
            .header("x-forwarded-for", FORWARDED_CLIENT)
            .ok_as_json()
            .fields(LISTED)
            .body("state", json!("disabled"))
            .body("disabled_at", time(0)),
        ),
        Send(
            Case::get("management: a disabled key", "/v1/me")
                .bearer(&m.switched)
                .invalid_token(401, "key_disabled"),
        ),
        Send(
            manager(Case::post(
                "management: enable",
                key_path(&m.switched_id, "/enable"),
            ))
            .peer(Peer::Fixed(socket(PROXY_PEER)))
            .header("x-forwarded-for", FORWARDED_CLIENT)
            .ok_as_json()
            .fields(LISTED)
            .body("state", json!("active"))
            .body("disabled_at", Value::Null),
        ),
        Send(
            Case::get("management: enabled again", "/v1/me")
                .bearer(&m.switched)
                .ok_as("u_2"),
        ),
    ];
    // A key holding a capability the caller lacks: 403; another owner's key: 404.
    for tail in ["", "/roll", "/disable", "/enable"] {
        let method = if tail.is_empty() { "DELETE" } else { "POST" };
        let on = |what: &str, id: &str| Case {
            method,
            ..manager(Case::get(
                &format!("management: {method} {tail} {what}"),
                key_path(id, tail),
            ))
        };
        steps.push(Send(
            on("a key holding more", &m.stronger_id).lacks(&["desktop:lifecycle"]),
        ));
        steps.push(Send(
            on("another owner's key", &m.other_owner_id).refused(404, "not_found"),
        ));
        steps.push(Send(
            on("an unknown key", &m.unknown_id).refused(404, "not_found"),
        ));
    }
    steps.push(Send(
        manager(Case::get(
            "management: the stronger key is untouched",
            key_path(&m.stronger_id, ""),
        ))
        .ok_as_json()
        .body("state", json!("active")),
    ));
    steps
}

/// A key's audit trail: every change to the caller's key, naming who made it and from
/// where (the client a trusted proxy forwarded for); a change refused appends nothing.
/// Another owner's key is 404, as for showing it.
fn events(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let m = &k.management;
    let manager = |case: Case| case.bearer(&m.manager);
    let trail = key_path(&m.switched_id, "/events");
    let mut steps = vec![
        // Minted by the host service, then disabled and enabled by the manager's key;
        // the roll refused for its grace left nothing.
        Send(
            manager(Case::get("management: a key's events", trail.clone()))
                .ok_as_json()
                .len(3)
                .fields(EVENT)
                .with_header("link", HeaderIs::Absent)
                .at("/0/action", json!("minted"))
                .at("/0/key_id", json!(m.switched_id))
                .at("/0/capabilities", json!(["desktop:read"]))
                .at("/0/actor", json!({"kind": "service", "id": null}))
                .at("/0/client_ip", Value::Null)
                .at("/0/at", time(0))
                .at("/1/action", json!("disabled"))
                .at("/1/actor", json!({"kind": "key", "id": m.manager_id}))
                .at("/1/client_ip", json!(FORWARDED_CLIENT))
                .at("/1/capabilities", json!([]))
                .at("/2/action", json!("enabled"))
                .at("/2/actor/id", json!(m.manager_id))
                .at("/2/client_ip", json!(FORWARDED_CLIENT)),
        ),
        Send(
            manager(Case::get(
                "management: a page of a key's events",
                format!("{trail}?limit=2"),
            ))
            .ok_as_json()
            .len(2)
            .fields(EVENT)
            .at("/1/action", json!("disabled"))
            .with_header("link", HeaderIs::Containing("/events?limit=2&after="))
            .with_header("link", HeaderIs::Containing("rel=\"next\"")),
        ),
        Send(
            manager(Case::get(
                "management: a roll's events name the replacement",
                key_path(&m.to_roll_id, "/events"),
            ))
            .ok_as_json()
            .len(2)
            .at("/1/action", json!("rolled"))
            .at("/1/key_id", json!(m.to_roll_id))
            .at("/1/capabilities", json!(["desktop:read"]))
            .at("/1/actor/id", json!(m.manager_id)),
        ),
        Send(
            manager(Case::get(
                "management: a revoke's event",
                key_path(&m.to_revoke_id, "/events"),
            ))
            .ok_as_json()
            .len(2)
            .at("/1/action", json!("revoked"))
            .at("/1/actor/kind", json!("key")),
        ),
    ];
    for query in ["limit=0", "limit=101", "after=x", "after=-1"] {
        steps.push(Send(
            manager(Case::get(
                &format!("management: events with {query}"),
                format!("{trail}?{query}"),
            ))
            .refused(400, "invalid_request")
            .with_header("www-authenticate", HeaderIs::Absent),
        ));
    }
    for (what, id) in [
        ("another owner's key", m.other_owner_id.as_str()),
        ("an unknown id", m.unknown_id.as_str()),
        ("a deleted key", m.to_delete_id.as_str()),
        ("a malformed id", "not-an-id"),
    ] {
        steps.push(Send(
            manager(Case::get(
                &format!("management: events of {what}"),
                key_path(id, "/events"),
            ))
            .refused(404, "not_found"),
        ));
    }
    steps
}

/// A key's usage: the manager's key, granted `keys:write` and `desktop:read`, used
/// `keys:read` (the reads' requirement, implied by `keys:write`) and `keys:write` on the
/// routes above, so `keys:write` alone covers its use. Use this server saw and has not
/// flushed counts. Another owner's key is 404, as for showing it.
fn usage(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let m = &k.management;
    vec![
        Send(
            Case::get(
                "management: a key's usage needs keys:read",
                key_path(&m.manager_id, "/usage"),
            )
            .bearer(&k.reader)
            .lacks(&["keys:read"]),
        ),
        Send(
            Case::get(
                "management: a key's usage",
                key_path(&m.manager_id, "/usage"),
            )
            .bearer(&m.manager)
            .ok_as_json()
            .fields(USAGE)
            .at("/granted", json!(["desktop:read", "keys:write"]))
            .at("/used", json!(["keys:read", "keys:write"]))
            .at("/since", time(0))
            .at("/suggested", json!(["keys:write"])),
        ),
        Send(
            Case::get(
                "management: usage of another owner's key",
                key_path(&m.other_owner_id, "/usage"),
            )
            .bearer(&m.manager)
            .refused(404, "not_found"),
        ),
    ]
}

/// The store down: the cached caller passes the gate, and the route answers 503.
fn outage(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let m = &k.management;
    vec![
        Send(
            Case::get("management: the caller, cached", "/v1/me")
                .bearer(&m.manager)
                .ok_as("u_2"),
        ),
        Step::StoreDown,
        Send(
            Case::get("management: list, store down", "/v1/api_keys")
                .bearer(&m.manager)
                .refused(503, "auth_unavailable")
                .with_header("retry-after", HeaderIs::Present),
        ),
        Send(
            Case::get(
                "management: events, store down",
                key_path(&m.switched_id, "/events"),
            )
            .bearer(&m.manager)
            .refused(503, "auth_unavailable")
            .with_header("retry-after", HeaderIs::Present),
        ),
        Send(
            Case::post("management: create, store down", "/v1/api_keys")
                .bearer(&m.manager)
                .json(r#"{"name":"x","capabilities":["desktop:read"]}"#)
                .refused(503, "auth_unavailable")
                .with_header("retry-after", HeaderIs::Present),
        ),
        Step::StoreUp,
    ]
}
