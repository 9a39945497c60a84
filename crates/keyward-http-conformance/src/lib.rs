#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt::Write as _;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use keyward::clock::ManualClock;
use keyward::format::ID_LEN;
use keyward::http::management::ManagementApi;
use keyward::http::{
    HttpResponse, MAX_BODY_LEN, MAX_CREDENTIAL_HEADER_LEN, RequestBody, RequestError,
    parse_json_body,
};
use keyward::limit::{ClientIpResolver, parse_network};
use keyward::scope::Requirement;
use keyward::store::KeyStore;
use keyward::{Authenticator, Config, Keyward, MintRequest, Principal};
use keyward_testing::rig;
use serde::Deserialize;
use serde_json::{Value, json};

pub use keyward_testing::SwitchableStore;

mod management;
pub use management::ManagementKeys;

/// The realm every route of the suite's app uses.
pub const REALM: &str = "api";

/// The peer a trusted proxy connects from (inside [`client_ip`]'s trusted network).
pub const PROXY_PEER: &str = "10.9.9.9:443";

/// The client IP resolver every layer of the suite's app uses: the proxies in
/// `10.9.0.0/16` are trusted to set `X-Forwarded-For`.
pub fn client_ip() -> ClientIpResolver {
    ClientIpResolver::trust_forwarded_headers_from([
        parse_network("10.9.0.0/16").expect("a valid network")
    ])
}

/// The requirement of `GET /v1/desktops`.
pub fn desktop_read() -> Requirement {
    rig::catalog()
        .all_of(["desktop:read"])
        .expect("a demo capability")
}

/// The requirement of `POST /v1/jobs`.
pub fn jobs_write() -> Requirement {
    rig::catalog()
        .all_of(["jobs:write"])
        .expect("a demo capability")
}

/// The body every protected handler answers: `{"key_id", "owner"}` of the principal.
pub fn me_body(principal: &Principal) -> String {
    json!({ "key_id": principal.key_id().to_string(), "owner": principal.owner() }).to_string()
}

/// The body `POST /v1/names` takes (optional: an empty body is no name).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Named {
    name: String,
}

/// `POST /v1/names`: parses `body` with [`parse_json_body`] and answers 200
/// `{"name": …}` (`null` for an empty body), or the body's refusal.
pub fn names(body: RequestBody<'_>) -> HttpResponse {
    match parse_json_body::<Named>(body) {
        Ok(named) => HttpResponse {
            status: 200,
            headers: vec![("content-type", "application/json".to_owned())],
            body: json!({ "name": named.map(|n| n.name) }).to_string(),
        },
        Err(refused) => refused.render(),
    }
}

/// The keys the suite presents.
pub struct Keys {
    /// Every demo capability.
    pub admin: String,
    /// The default grants (`desktop:read`, `desktop:chat`).
    pub reader: String,
    /// Two requests per minute.
    pub limited: String,
    /// Revoked before first use.
    pub revoked: String,
    /// Disabled.
    pub disabled: String,
    /// Expires 60 s after the start.
    pub expiring: String,
    /// Usable from `203.0.113.0/24` only.
    pub office: String,
    /// Never presented before the store is switched off.
    pub cold: String,
    /// Checksum-valid, not in the store.
    pub unknown: String,
    /// Checksum-valid, its id stored with another key's hash.
    pub wrong_secret: String,
    /// A honeytoken: answered as `unknown`, and its client locked out.
    pub honeytoken: String,
    /// The keys and ids of the key-management rows.
    pub management: ManagementKeys,
}

impl Keys {
    fn all(&self) -> Vec<&str> {
        let mut all: Vec<&str> = vec![
            &self.admin,
            &self.reader,
            &self.limited,
            &self.revoked,
            &self.disabled,
            &self.expiring,
            &self.office,
            &self.cold,
            &self.unknown,
            &self.wrong_secret,
            &self.honeytoken,
        ];
        all.extend(self.management.secrets());
        all
    }
}

/// The shared test rig ([`keyward_testing::rig`]: a switchable memory store, a manual
/// clock, a fast bcrypt), with [`Keys`] minted and at most 20 live keys per owner.
pub struct Rig {
    /// The configured keyward.
    pub keyward: Keyward,
    /// The store, switchable off.
    pub store: SwitchableStore,
    /// The clock the suite advances.
    pub clock: ManualClock,
    /// The minted keys.
    pub keys: Keys,
}

impl Rig {
    /// Builds the rig and mints its keys (needs a tokio runtime: hashing runs on the
    /// blocking pool).
    pub async fn new() -> Rig {
        let keyward_testing::rig::Rig {
            keyward,
            store,
            clock,
            ..
        } = rig::Rig::with(|builder| {
            builder.config(Config {
                max_live_keys_per_owner: management::LIVE_KEYS_PER_OWNER,
                ..Config::default()
            })
        });
        let service = keyward.keys();
        let mint = |request: MintRequest| {
            let service = service.clone();
            async move { service.mint(request).await.expect("mint") }
        };
        let catalog = rig::catalog();
        let admin =
            mint(MintRequest::new("admin", "u_1").capabilities(catalog.names(&catalog.all())))
                .await;
        let reader = mint(MintRequest::new("reader", "u_2")).await;
        let limited =
            mint(MintRequest::new("limited", "u_2").rate_limit(2, Duration::from_secs(60))).await;
        let revoked = mint(MintRequest::new("revoked", "u_2")).await;
        service.revoke(&revoked.key.id()).await.expect("revoke");
        let disabled = mint(MintRequest::new("disabled", "u_2")).await;
        service.disable(&disabled.key.id()).await.expect("disable");
        let expiring =
            mint(MintRequest::new("expiring", "u_2").expires_in(Duration::from_secs(60))).await;
        let office = mint(
            MintRequest::new("office", "u_2")
                .ip_allowlist([parse_network("203.0.113.0/24").expect("a valid network")]),
        )
        .await;
        let cold = mint(MintRequest::new("cold", "u_2")).await;
        let honeytoken = mint(MintRequest::new("decoy", "u_2").honeytoken()).await;

        let unknown = rig::format().mint().expect("mint").expose().to_owned();
        let wrong = rig::format().mint().expect("mint");
        let mut record = store.inner.get(&reader.key.id()).await.expect("stored");
        record.id = wrong.id();
        store.inner.insert(&record).await.expect("insert");

        let management = ManagementKeys::mint(&service, admin.summary.id.to_string()).await;
        let keys = Keys {
            admin: admin.key.expose().to_owned(),
            reader: reader.key.expose().to_owned(),
            limited: limited.key.expose().to_owned(),
            revoked: revoked.key.expose().to_owned(),
            disabled: disabled.key.expose().to_owned(),
            expiring: expiring.key.expose().to_owned(),
            office: office.key.expose().to_owned(),
            cold: cold.key.expose().to_owned(),
            unknown,
            wrong_secret: wrong.expose().to_owned(),
            honeytoken: honeytoken.key.expose().to_owned(),
            management,
        };
        Rig {
            keyward,
            store,
            clock,
            keys,
        }
    }

    /// The authenticator the adapter under test wraps.
    pub fn authenticator(&self) -> Authenticator {
        self.keyward.authenticator()
    }

    /// The key-management API the adapter under test mounts at `/v1`: reads need
    /// `keys:read`, writes `keys:write`, challenges name [`REALM`].
    pub fn management(&self) -> ManagementApi {
        ManagementApi::new(&self.keyward)
            .expect("the rig's catalog declares keys:read and keys:write")
            .realm(REALM)
    }
}

/// Where a request comes from.
#[derive(Debug, Clone, Copy)]
pub enum Peer {
    /// A fresh address per request, so failures of one row never lock out another.
    Fresh,
    /// This socket peer.
    Fixed(SocketAddr),
    /// No socket peer known to the adapter (a configuration error: 503).
    Missing,
}

/// A framework-neutral request.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, `DELETE`, or another method a route does not take.
    pub method: &'static str,
    /// The path, with the query.
    pub path: String,
    /// Header names (lower case) and raw values, in order.
    pub headers: Vec<(&'static str, Vec<u8>)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// The socket peer, `None` for none.
    pub peer: Option<SocketAddr>,
}

/// A framework-neutral response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a header must be.
#[derive(Debug, Clone)]
enum HeaderIs {
    Exactly(String),
    Containing(&'static str),
    Present,
    Absent,
}

/// What the body must be.
#[derive(Debug, Clone)]
enum BodyIs {
    /// JSON whose field has this value.
    Field(&'static str, Value),
    Exactly(String),
    /// The `message` field contains this.
    MessageContaining(&'static str),
    /// The body does not contain this.
    Without(String),
    /// JSON with this value at this pointer (`/rolled_from/id`; `null` for absent).
    At(&'static str, Value),
    /// A JSON object, or an array of them, each with these fields.
    Fields(&'static [&'static str]),
    /// A JSON array of this length.
    Len(usize),
}

/// One row of the table.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
    peer: Peer,
    status: u16,
    expect_headers: Vec<(&'static str, HeaderIs)>,
    expect_body: Vec<BodyIs>,
}

impl Case {
    fn get(name: &str, path: impl Into<String>) -> Case {
        Case {
            name: name.to_owned(),
            method: "GET",
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
            peer: Peer::Fresh,
            status: 0,
            expect_headers: Vec::new(),
            expect_body: Vec::new(),
        }
    }
    fn post(name: &str, path: impl Into<String>) -> Case {
        Case {
            method: "POST",
            ..Case::get(name, path)
        }
    }
    fn header(mut self, name: &'static str, value: impl Into<Vec<u8>>) -> Case {
        self.headers.push((name, value.into()));
        self
    }
    fn bearer(self, key: &str) -> Case {
        self.header("authorization", format!("Bearer {key}"))
    }
    fn send_body(mut self, body: impl Into<Vec<u8>>) -> Case {
        self.body = body.into();
        self
    }
    fn json(self, body: impl Into<Vec<u8>>) -> Case {
        self.header("content-type", "application/json")
            .send_body(body)
    }
    fn message_containing(mut self, part: &'static str) -> Case {
        self.expect_body.push(BodyIs::MessageContaining(part));
        self
    }
    fn exactly(mut self, body: String) -> Case {
        self.expect_body.push(BodyIs::Exactly(body));
        self
    }
    fn without(mut self, part: String) -> Case {
        self.expect_body.push(BodyIs::Without(part));
        self
    }
    /// A request refused for its shape: [`RequestError::render`]'s bytes exactly.
    fn request_error(self, error: RequestError) -> Case {
        let rendered = error.render();
        self.refused(rendered.status, error.code().as_str())
            .exactly(rendered.body)
    }
    fn peer(mut self, peer: Peer) -> Case {
        self.peer = peer;
        self
    }
    fn expect(mut self, status: u16) -> Case {
        self.status = status;
        self
    }
    fn with_header(mut self, name: &'static str, is: HeaderIs) -> Case {
        self.expect_headers.push((name, is));
        self
    }
    fn body(mut self, field: &'static str, value: Value) -> Case {
        self.expect_body.push(BodyIs::Field(field, value));
        self
    }
    /// A refusal: status, `error` code and JSON content type.
    fn refused(self, status: u16, code: &str) -> Case {
        self.expect(status)
            .body("error", json!(code))
            .with_header("content-type", HeaderIs::Exactly("application/json".into()))
    }
    fn invalid_token(self, status: u16, code: &str) -> Case {
        self.refused(status, code).with_header(
            "www-authenticate",
            HeaderIs::Containing("error=\"invalid_token\""),
        )
    }
    fn bad_request(self) -> Case {
        self.refused(400, "invalid_request").with_header(
            "www-authenticate",
            HeaderIs::Containing("error=\"invalid_request\""),
        )
    }
    /// A 400 for a body: no challenge, as the credential was fine.
    fn bad_request_body(self) -> Case {
        self.refused(400, "invalid_request")
            .with_header("www-authenticate", HeaderIs::Absent)
    }
    fn ok_as_json(self) -> Case {
        self.expect(200)
            .with_header("content-type", HeaderIs::Exactly("application/json".into()))
    }
    fn ok_as(self, owner: &str) -> Case {
        self.expect(200)
            .body("owner", json!(owner))
            .with_header("ratelimit-limit", HeaderIs::Present)
            .with_header("ratelimit-remaining", HeaderIs::Present)
            .with_header("ratelimit-reset", HeaderIs::Present)
            .with_header("ratelimit-policy", HeaderIs::Present)
            .with_header("ratelimit", HeaderIs::Present)
    }
}

/// One step of the suite.
enum Step {
    Send(Case),
    /// Two requests whose answers must be byte-for-byte equal.
    Same(Case, Case),
    StoreDown,
    StoreUp,
    Advance(Duration),
}

fn basic(user_pass: &str) -> Vec<u8> {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_pass)
    )
    .into_bytes()
}

/// `json` padded with spaces to `len` bytes.
fn padded(json: &str, len: usize) -> Vec<u8> {
    let mut body = json.as_bytes().to_vec();
    body.resize(len, b' ');
    body
}

fn socket(s: &str) -> SocketAddr {
    s.parse().expect("a socket address")
}

/// The table: every row of the HTTP contract, and the bad input it must stand, area by
/// area. The order matters: the rate limit and the lockout are spent before time
/// passes, and the store goes down last.
fn steps(keys: &Keys) -> Vec<Step> {
    let areas: [fn(&Keys) -> Vec<Step>; 14] = [
        successes,
        missing_credential,
        invalid_keys,
        ip_allowlist,
        capabilities,
        credential_shape,
        bodies,
        management::steps,
        missing_peer,
        rate_limits,
        lockout,
        honeytokens,
        time_passes,
        store_outage,
    ];
    areas.iter().flat_map(|area| area(keys)).collect()
}

/// The peer the lockout rows fail from, apart from every other row's.
fn lockout_peer() -> Peer {
    Peer::Fixed(socket("192.0.2.66:5000"))
}

/// A valid key through every source and spelling it may come in.
fn successes(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let split = "sk_live_".len() + ID_LEN;
    let (pair_id, pair_secret) = k.admin.split_at(split);
    vec![
        Send(Case::get("bearer", "/v1/me").bearer(&k.admin).ok_as("u_1")),
        Send(
            Case::get("lower-case scheme", "/v1/me")
                .header("authorization", format!("bearer {}", k.admin))
                .ok_as("u_1"),
        ),
        Send(
            Case::get("extra spaces", "/v1/me")
                .header("authorization", format!("Bearer    {}   ", k.admin))
                .ok_as("u_1"),
        ),
        Send(
            Case::get("x-api-key", "/v1/me")
                .header("x-api-key", k.admin.as_str())
                .ok_as("u_1"),
        ),
        Send(
            Case::get("same key twice", "/v1/me")
                .bearer(&k.admin)
                .header("x-api-key", k.admin.as_str())
                .ok_as("u_1"),
        ),
        Send(
            Case::get("basic pair", "/v1/me")
                .header("authorization", basic(&format!("{pair_id}:{pair_secret}")))
                .ok_as("u_1"),
        ),
        Send(
            Case::get("basic whole key, empty password", "/v1/me")
                .header("authorization", basic(&format!("{}:", k.admin)))
                .ok_as("u_1"),
        ),
        Send(
            Case::get("capability held", "/v1/desktops")
                .bearer(&k.reader)
                .ok_as("u_2"),
        ),
        Send(Case::get("unprotected route", "/public").expect(200)),
    ]
}

/// No credential the layer reads: a 401 that teaches how to send one.
fn missing_credential(k: &Keys) -> Vec<Step> {
    use Step::Send;
    vec![
        Send(
            Case::get("no credential", "/v1/me")
                .refused(401, "missing_credential")
                .with_header(
                    "www-authenticate",
                    HeaderIs::Exactly(format!("Bearer realm=\"{REALM}\"")),
                )
                .message_containing("Authorization: Bearer <key>")
                .message_containing("x-api-key: <key>")
                .message_containing("Authorization: Basic"),
        ),
        Send(
            Case::get("other scheme only", "/v1/me")
                .header("authorization", "Digest username=\"x\"")
                .refused(401, "missing_credential")
                .message_containing("Authorization: Bearer <key>")
                .message_containing("the Authorization header was ignored"),
        ),
        Send(
            Case::get("other scheme, oversized", "/v1/me")
                .header("authorization", format!("Negotiate {}", "n".repeat(8192)))
                .refused(401, "missing_credential")
                .message_containing("the Authorization header was ignored"),
        ),
        Send(
            Case::get("extractor without its layer", "/unguarded")
                .bearer(&k.admin)
                .refused(401, "missing_credential")
                .with_header("www-authenticate", HeaderIs::Present),
        ),
    ]
}

/// Keys that do not authenticate: every unknown or wrong key gets the same answer.
fn invalid_keys(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let mut bad_checksum = k.admin.clone();
    let last = bad_checksum.pop().expect("non-empty");
    bad_checksum.push(if last == 'A' { 'B' } else { 'A' });
    vec![
        Send(
            Case::get("malformed", "/v1/me")
                .bearer("sk_live_short")
                .invalid_token(401, "invalid_key"),
        ),
        Send(
            Case::get("wrong prefix", "/v1/me")
                .bearer(&k.admin.replacen("sk_live_", "sk_test_", 1))
                .invalid_token(401, "invalid_key"),
        ),
        Send(
            Case::get("bad checksum", "/v1/me")
                .bearer(&bad_checksum)
                .invalid_token(401, "invalid_key"),
        ),
        Send(
            Case::get("unknown key", "/v1/me")
                .bearer(&k.unknown)
                .invalid_token(401, "invalid_key"),
        ),
        Send(
            Case::get("wrong secret", "/v1/me")
                .bearer(&k.wrong_secret)
                .invalid_token(401, "invalid_key"),
        ),
        Step::Same(
            Case::get("unknown key (again)", "/v1/me").bearer(&k.unknown),
            Case::get("wrong secret (again)", "/v1/me").bearer(&k.wrong_secret),
        ),
        Send(
            Case::get("revoked", "/v1/me")
                .bearer(&k.revoked)
                .invalid_token(401, "key_revoked"),
        ),
        Send(
            Case::get("disabled", "/v1/me")
                .bearer(&k.disabled)
                .invalid_token(401, "key_disabled"),
        ),
    ]
}

/// The IP allowlist, with and without a trusted proxy.
fn ip_allowlist(k: &Keys) -> Vec<Step> {
    use Step::Send;
    vec![
        Send(
            Case::get("outside the allowlist", "/v1/me")
                .bearer(&k.office)
                .invalid_token(403, "ip_not_allowed"),
        ),
        Send(
            Case::get("forwarded-for from an untrusted peer is ignored", "/v1/me")
                .bearer(&k.office)
                .header("x-forwarded-for", "203.0.113.5")
                .invalid_token(403, "ip_not_allowed"),
        ),
        Send(
            Case::get("forwarded-for from a trusted proxy", "/v1/me")
                .bearer(&k.office)
                .header("x-forwarded-for", "198.51.100.1, 203.0.113.5")
                .peer(Peer::Fixed(socket(PROXY_PEER)))
                .ok_as("u_2"),
        ),
    ]
}

/// The route's required capabilities, missing and held.
fn capabilities(k: &Keys) -> Vec<Step> {
    use Step::Send;
    vec![
        Send(
            Case::post("missing capability", "/v1/jobs")
                .bearer(&k.reader)
                .refused(403, "insufficient_capability")
                .with_header(
                    "www-authenticate",
                    HeaderIs::Containing("error=\"insufficient_scope\", scope=\"jobs:write\""),
                )
                .body("required", json!(["jobs:write"]))
                .body("held", json!(["desktop:chat", "desktop:read"])),
        ),
        Send(
            Case::post("capability held (write)", "/v1/jobs")
                .bearer(&k.admin)
                .ok_as("u_1"),
        ),
    ]
}

/// Credentials of a malformed shape: a 400, except an oversized key, which is a
/// malformed key (401).
fn credential_shape(k: &Keys) -> Vec<Step> {
    use Step::Send;
    vec![
        Send(
            Case::get("two different credentials", "/v1/me")
                .bearer(&k.admin)
                .header("x-api-key", k.reader.as_str())
                .bad_request()
                .message_containing("two different credentials"),
        ),
        Send(
            Case::get("two bearer headers", "/v1/me")
                .bearer(&k.admin)
                .bearer(&k.reader)
                .bad_request(),
        ),
        Send(
            Case::get("empty bearer", "/v1/me")
                .header("authorization", "Bearer ")
                .bad_request()
                .message_containing("no key after the scheme"),
        ),
        Send(
            Case::get("bare scheme", "/v1/me")
                .header("authorization", "Bearer")
                .bad_request(),
        ),
        Send(
            Case::get("empty x-api-key", "/v1/me")
                .header("x-api-key", "")
                .bad_request()
                .message_containing("x-api-key header is empty"),
        ),
        Send(
            Case::get("space inside the token", "/v1/me")
                .header("authorization", format!("Bearer {} x", k.admin))
                .bad_request(),
        ),
        Send(
            Case::get("control byte (tab) inside the token", "/v1/me")
                .header(
                    "authorization",
                    format!("Bearer sk_live_\t{}", &k.admin[8..]),
                )
                .bad_request(),
        ),
        Send(
            Case::get("non-ASCII bytes", "/v1/me")
                .header("authorization", "Bearer sk_live_\u{e9}\u{e9}".as_bytes())
                .bad_request(),
        ),
        // An oversized key is a malformed key, not a malformed request.
        Send(
            Case::get("8 KiB bearer key", "/v1/me")
                .header("authorization", format!("Bearer {}", "a".repeat(8192)))
                .invalid_token(401, "invalid_key"),
        ),
        Send(
            Case::get("8 KiB x-api-key", "/v1/me")
                .header("x-api-key", "k".repeat(8192))
                .invalid_token(401, "invalid_key"),
        ),
        Send(
            Case::get("8 KiB basic", "/v1/me")
                .header("authorization", format!("Basic {}", "b".repeat(8192)))
                .invalid_token(401, "invalid_key"),
        ),
        Send(
            Case::get("one byte over the credential bound", "/v1/me")
                .header("x-api-key", "k".repeat(MAX_CREDENTIAL_HEADER_LEN + 1))
                .invalid_token(401, "invalid_key"),
        ),
        Send(
            Case::get("an oversized key and another credential", "/v1/me")
                .header("x-api-key", "k".repeat(8192))
                .bearer(&k.admin)
                .bad_request()
                .message_containing("two different credentials"),
        ),
        Send(
            Case::get("basic without a colon", "/v1/me")
                .header("authorization", basic(&k.admin))
                .bad_request()
                .message_containing("no colon"),
        ),
        Send(
            Case::get("basic not base64", "/v1/me")
                .header("authorization", "Basic !!!")
                .bad_request()
                .message_containing("not valid base64"),
        ),
    ]
}

/// JSON bodies: one size limit, one content type, and no echo of what was sent.
fn bodies(k: &Keys) -> Vec<Step> {
    use Step::Send;
    vec![
        Send(
            Case::post("json body", "/v1/names")
                .bearer(&k.reader)
                .json(r#"{"name":"n1"}"#)
                .ok_as_json()
                .body("name", json!("n1")),
        ),
        Send(
            Case::post("json body with a charset", "/v1/names")
                .bearer(&k.reader)
                .header("content-type", "application/json; charset=utf-8")
                .send_body(r#"{"name":"n2"}"#)
                .ok_as_json()
                .body("name", json!("n2")),
        ),
        Send(
            Case::post("no body where one is optional", "/v1/names")
                .bearer(&k.reader)
                .ok_as_json()
                .body("name", Value::Null),
        ),
        Send(
            Case::post("json sent as text/plain", "/v1/names")
                .bearer(&k.reader)
                .header("content-type", "text/plain")
                .send_body(r#"{"name":"n"}"#)
                .request_error(RequestError::UnsupportedMediaType),
        ),
        Send(
            Case::post("json without a content type", "/v1/names")
                .bearer(&k.reader)
                .send_body(r#"{"name":"n"}"#)
                .request_error(RequestError::UnsupportedMediaType),
        ),
        Send(
            Case::post("a body at the limit", "/v1/names")
                .bearer(&k.reader)
                .json(padded(r#"{"name":"n3"}"#, MAX_BODY_LEN))
                .ok_as_json()
                .body("name", json!("n3")),
        ),
        Send(
            Case::post("a body over the limit", "/v1/names")
                .bearer(&k.reader)
                .json(padded(r#"{"name":"n"}"#, MAX_BODY_LEN + 1))
                .request_error(RequestError::PayloadTooLarge),
        ),
        Send(
            Case::post("a body over the limit, without a key", "/v1/names")
                .json(padded(r#"{"name":"n"}"#, MAX_BODY_LEN + 1))
                .refused(401, "missing_credential"),
        ),
        Send(
            Case::post("an unknown field is not quoted back", "/v1/names")
                .bearer(&k.reader)
                .json(format!(r#"{{"{}": 1}}"#, "f".repeat(1000)))
                .bad_request_body()
                .message_containing("line 1, column")
                .without("f".repeat(16)),
        ),
        Send(
            Case::post("a wrong type is not quoted back", "/v1/names")
                .bearer(&k.reader)
                .json(format!(r#"{{"name": ["{}"]}}"#, "w".repeat(1000)))
                .bad_request_body()
                .without("w".repeat(16)),
        ),
        Send(
            Case::post("not json", "/v1/names")
                .bearer(&k.reader)
                .json(format!("{} not json", "j".repeat(1000)))
                .bad_request_body()
                .message_containing("not valid JSON")
                .without("j".repeat(16)),
        ),
    ]
}

/// A request without a socket peer has no client IP to check or lock out.
fn missing_peer(k: &Keys) -> Vec<Step> {
    use Step::Send;
    vec![Send(
        Case::get("no socket peer", "/v1/me")
            .bearer(&k.admin)
            .peer(Peer::Missing)
            .refused(503, "auth_unavailable")
            .with_header("retry-after", HeaderIs::Present),
    )]
}

/// The per-key rate limit: 2 per minute, with the `RateLimit-Policy` and `RateLimit`
/// fields of draft-ietf-httpapi-ratelimit-headers-11 (`t`: `RateLimit-Reset`, and on
/// the 429 `Retry-After`).
fn rate_limits(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let policy = || HeaderIs::Exactly(r#""key";q=2;w=60"#.into());
    vec![
        Send(
            Case::get("rate limit 1/2", "/v1/me")
                .bearer(&k.limited)
                .ok_as("u_2")
                .with_header("ratelimit-limit", HeaderIs::Exactly("2".into()))
                .with_header("ratelimit-remaining", HeaderIs::Exactly("1".into()))
                .with_header("ratelimit-reset", HeaderIs::Exactly("30".into()))
                .with_header("ratelimit-policy", policy())
                .with_header("ratelimit", HeaderIs::Exactly(r#""key";r=1;t=30"#.into())),
        ),
        Send(
            Case::get("rate limit 2/2", "/v1/me")
                .bearer(&k.limited)
                .ok_as("u_2")
                .with_header("ratelimit-remaining", HeaderIs::Exactly("0".into()))
                .with_header("ratelimit-policy", policy())
                .with_header("ratelimit", HeaderIs::Exactly(r#""key";r=0;t=60"#.into())),
        ),
        Send(
            Case::get("rate limited", "/v1/me")
                .bearer(&k.limited)
                .refused(429, "rate_limited")
                .with_header("retry-after", HeaderIs::Exactly("30".into()))
                .with_header("ratelimit-limit", HeaderIs::Exactly("2".into()))
                .with_header("ratelimit-remaining", HeaderIs::Exactly("0".into()))
                .with_header("ratelimit-reset", HeaderIs::Present)
                .with_header("ratelimit-policy", policy())
                .with_header("ratelimit", HeaderIs::Exactly(r#""key";r=0;t=30"#.into()))
                .with_header("www-authenticate", HeaderIs::Absent)
                .body("retry_after", json!(30))
                .body("limit", json!("key")),
        ),
    ]
}

/// Lockout: the 10th failure is still 401, then even a valid key is refused. An
/// oversized key counts like any malformed key; a bad request does not count.
fn lockout(k: &Keys) -> Vec<Step> {
    use Step::Send;
    let mut steps = Vec::new();
    for i in 1..=10 {
        let case = Case::get(&format!("failure {i}/10"), "/v1/me").peer(lockout_peer());
        let case = if i % 2 == 0 {
            case.header("x-api-key", "k".repeat(8192))
        } else {
            case.bearer(&k.unknown)
        };
        steps.push(Send(case.invalid_token(401, "invalid_key")));
    }
    steps.extend([
        Send(
            Case::get("locked out, valid key", "/v1/me")
                .bearer(&k.admin)
                .peer(lockout_peer())
                .refused(429, "too_many_failed_attempts")
                .with_header("retry-after", HeaderIs::Exactly("60".into()))
                .body("retry_after", json!(60)),
        ),
        Send(
            Case::get("locked out, oversized key", "/v1/me")
                .header("x-api-key", "k".repeat(8192))
                .peer(lockout_peer())
                .refused(429, "too_many_failed_attempts"),
        ),
        Send(
            Case::get("bad request does not count", "/v1/me")
                .header("authorization", "Bearer a b")
                .peer(lockout_peer())
                .bad_request(),
        ),
    ]);
    steps
}

/// The peer the honeytoken rows come from, apart from every other row's.
fn decoy_peer() -> Peer {
    Peer::Fixed(socket("192.0.2.77:5000"))
}

/// A honeytoken is answered byte for byte as an unknown key, user agent and all, and
/// locks its client out at once: its next request is refused even with a valid key.
fn honeytokens(k: &Keys) -> Vec<Step> {
    use Step::Send;
    vec![
        Step::Same(
            Case::get("honeytoken", "/v1/me")
                .bearer(&k.honeytoken)
                .header("user-agent", "curl/8.5.0"),
            Case::get("unknown key (as a honeytoken)", "/v1/me")
                .bearer(&k.unknown)
                .header("user-agent", "curl/8.5.0"),
        ),
        Send(
            Case::get("honeytoken, then", "/v1/me")
                .bearer(&k.honeytoken)
                .peer(decoy_peer())
                .invalid_token(401, "invalid_key"),
        ),
        Send(
            Case::get("after a honeytoken, valid key", "/v1/me")
                .bearer(&k.admin)
                .peer(decoy_peer())
                .refused(429, "too_many_failed_attempts"),
        ),
    ]
}

/// Time passes: the lockout ends, the rate limit refills and a key expires.
fn time_passes(k: &Keys) -> Vec<Step> {
    use Step::Send;
    vec![
        Send(
            Case::get("before expiry", "/v1/me")
                .bearer(&k.expiring)
                .ok_as("u_2"),
        ),
        Step::Advance(Duration::from_secs(61)),
        Send(
            Case::get("lockout over", "/v1/me")
                .bearer(&k.admin)
                .peer(lockout_peer())
                .ok_as("u_1"),
        ),
        Send(
            Case::get("rate limit refilled", "/v1/me")
                .bearer(&k.limited)
                .ok_as("u_2"),
        ),
        Send(
            Case::get("expired", "/v1/me")
                .bearer(&k.expiring)
                .invalid_token(401, "key_expired"),
        ),
    ]
}

/// A store outage: an uncached key cannot be verified until the store is back.
fn store_outage(k: &Keys) -> Vec<Step> {
    use Step::Send;
    vec![
        Step::StoreDown,
        Send(
            Case::get("store unreachable", "/v1/me")
                .bearer(&k.cold)
                .refused(503, "auth_unavailable")
                .with_header("retry-after", HeaderIs::Present),
        ),
        Step::StoreUp,
        Send(
            Case::get("store back", "/v1/me")
                .bearer(&k.cold)
                .ok_as("u_2"),
        ),
    ]
}

/// Runs the suite: `send` sends one request to the adapter under test (serving the
/// [routes](crate#routes) over `rig`'s authenticator) and returns its response.
///
/// # Panics
///
/// With every mismatch listed, when any row fails.
pub async fn run<F, Fut>(rig: &Rig, mut send: F)
where
    F: FnMut(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let mut failures = String::new();
    let mut rows = 0;
    let mut fresh = 0u32;
    let mut request = |case: &Case| {
        let peer = match case.peer {
            Peer::Fixed(addr) => Some(addr),
            Peer::Missing => None,
            Peer::Fresh => {
                fresh += 1;
                let [_, _, a, b] = fresh.to_be_bytes();
                Some(SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::new(198, 18, a, b)),
                    40000,
                ))
            }
        };
        Request {
            method: case.method,
            path: case.path.clone(),
            headers: case.headers.clone(),
            body: case.body.clone(),
            peer,
        }
    };
    for step in steps(&rig.keys) {
        match step {
            Step::Send(case) => {
                rows += 1;
                let response = send(request(&case)).await;
                check(&case, &response, &rig.keys, &mut failures);
            }
            Step::Same(a, b) => {
                rows += 1;
                let ra = send(request(&a)).await;
                let rb = send(request(&b)).await;
                if ra != rb {
                    let _ = writeln!(
                        failures,
                        "[{} / {}] answers differ:\n  {ra:?}\n  {rb:?}",
                        a.name, b.name
                    );
                }
            }
            Step::StoreDown => rig.store.down.store(true, Ordering::SeqCst),
            Step::StoreUp => rig.store.down.store(false, Ordering::SeqCst),
            Step::Advance(d) => rig.clock.advance(d),
        }
    }
    assert!(
        failures.is_empty(),
        "conformance failures ({rows} rows):\n{failures}"
    );
}

fn check(case: &Case, response: &Response, keys: &Keys, failures: &mut String) {
    let mut fail = |what: String| {
        let _ = writeln!(
            failures,
            "[{}] {what}\n    got {} {:?} {}",
            case.name,
            response.status,
            response.headers,
            String::from_utf8_lossy(&response.body)
        );
    };
    if response.status != case.status {
        fail(format!("status: expected {}", case.status));
    }
    for (name, is) in &case.expect_headers {
        let got = response.header(name);
        let ok = match (is, got) {
            (HeaderIs::Exactly(v), Some(g)) => v == g,
            (HeaderIs::Containing(v), Some(g)) => g.contains(v),
            (HeaderIs::Present, Some(_)) | (HeaderIs::Absent, None) => true,
            _ => false,
        };
        if !ok {
            fail(format!("header {name}: expected {is:?}"));
        }
    }
    let text = String::from_utf8_lossy(&response.body);
    let json = serde_json::from_str::<Value>(&text).ok();
    for is in &case.expect_body {
        let ok = match is {
            BodyIs::Field(field, value) => json.as_ref().and_then(|b| b.get(field)) == Some(value),
            BodyIs::Exactly(body) => text == body.as_str(),
            BodyIs::Without(part) => !text.contains(part.as_str()),
            BodyIs::At(pointer, value) => {
                json.as_ref()
                    .map(|b| b.pointer(pointer).unwrap_or(&Value::Null))
                    == Some(value)
            }
            BodyIs::Fields(fields) => json.as_ref().is_some_and(|b| {
                let objects = match b {
                    Value::Array(items) => items.iter().collect(),
                    object => vec![object],
                };
                !objects.is_empty()
                    && objects
                        .iter()
                        .all(|o| fields.iter().all(|f| o.get(f).is_some()))
            }),
            BodyIs::Len(len) => json
                .as_ref()
                .and_then(Value::as_array)
                .is_some_and(|items| items.len() == *len),
            BodyIs::MessageContaining(part) => json
                .as_ref()
                .and_then(|body| Some(body.get("message")?.as_str()?.contains(part)))
                .unwrap_or(false),
        };
        if !ok {
            fail(format!("body: expected {is:?}"));
        }
    }
    // An error body is short, whatever the request carried.
    if response.status >= 400 && response.body.len() > 512 {
        fail(format!("an error body of {} bytes", response.body.len()));
    }
    // Nothing the client presented comes back: no key, no token.
    let mut secrets: Vec<&[u8]> = keys.all().iter().map(|k| k.as_bytes()).collect();
    for (name, value) in &case.headers {
        if matches!(*name, "authorization" | "x-api-key") {
            let token = value
                .iter()
                .position(|&b| b == b' ')
                .map_or(&value[..], |i| &value[i + 1..]);
            if token.len() >= 12 {
                secrets.push(token);
            }
        }
    }
    let echoed = |haystack: &[u8]| {
        secrets
            .iter()
            .any(|s| haystack.windows(s.len()).any(|w| w == *s))
    };
    if echoed(&response.body) || response.headers.iter().any(|(_, v)| echoed(v.as_bytes())) {
        fail("the response echoes a presented credential".into());
    }
}
