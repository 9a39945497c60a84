//! The key-management routes (seeds 001 and 003): list, show, create, revoke, roll,
//! disable and enable the caller's own keys, never granting more than the calling key
//! holds, and never touching a key that holds more.

use std::time::Duration;

use keyward::format::KeyId;
use keyward::http::{HttpResponse, RequestBody, RequestError, parse_json_object, render};
use keyward::store::{ListFilter, PageRequest};
use keyward::{AuthError, KeySummary, MintRequest, NewKey, Principal, ServiceError};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::error;

use crate::api::DemoApi;
use crate::reply;

/// Body of `POST /v1/api_keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    name: String,
    capabilities: Option<Vec<String>>,
    expires_in_seconds: Option<u64>,
}

/// Body of `POST /v1/api_keys/{id}/roll` (may be empty).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollKey {
    #[serde(default)]
    grace_seconds: u64,
}

impl DemoApi {
    /// `GET /v1/api_keys`: the caller's owner's keys, revoked ones included, masked.
    pub async fn list_keys(&self, principal: &Principal) -> HttpResponse {
        let service = self.keyward.keys();
        let filter = ListFilter::owner(principal.owner());
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        let mut keys = Vec::new();
        loop {
            match service.list(&filter, page).await {
                Ok(listed) => {
                    keys.extend(listed.keys.iter().map(listed_key));
                    match listed.next {
                        Some(after) => page.after = Some(after),
                        None => break,
                    }
                }
                Err(e) => return service_failure(self, e),
            }
        }
        reply::json(200, &Value::Array(keys))
    }

    /// `POST /v1/api_keys`: 201 with the plaintext key, shown this once.
    pub async fn create_key(&self, principal: &Principal, body: RequestBody<'_>) -> HttpResponse {
        let request: CreateKey = match parse_body(body, None) {
            Ok(request) => request,
            Err(refusal) => return refusal,
        };
        let catalog = self.keyward.catalog();
        let requested = match &request.capabilities {
            Some(names) => match catalog.set(names) {
                Ok(set) => set,
                Err(unknown) => return reply::unknown_capability(&unknown.capabilities),
            },
            None => catalog.default_set(),
        };
        if let Err(denied) = catalog.check_grant(&requested, principal.capabilities()) {
            return render(&AuthError::InsufficientCapability(denied), self.realm());
        }
        let mut mint = MintRequest::new(request.name, principal.owner());
        if let Some(names) = request.capabilities {
            mint = mint.capabilities(names);
        }
        if let Some(tenant) = principal.tenant() {
            mint = mint.tenant(tenant.clone());
        }
        if let Some(seconds) = request.expires_in_seconds {
            mint = mint.expires_in(Duration::from_secs(seconds));
        }
        match self.keyward.keys().mint(mint).await {
            Ok(new) => reply::json(201, &new_key(&new)),
            Err(e) => service_failure(self, e),
        }
    }

    /// `GET /v1/api_keys/{id}`: one of the caller's owner's keys, in the listing's
    /// shape; another owner's key is 404, as an unknown one.
    pub async fn get_key(&self, principal: &Principal, id: &str) -> HttpResponse {
        match self.own_key(principal, id).await {
            Ok(summary) => reply::json(200, &listed_key(&summary)),
            Err(refusal) => refusal,
        }
    }

    /// `DELETE /v1/api_keys/{id}`: 204; a key of another owner is 404, as an unknown one;
    /// a key holding a capability the caller lacks is 403 `insufficient_capability`.
    pub async fn revoke_key(&self, principal: &Principal, id: &str) -> HttpResponse {
        let id = match self.own_key(principal, id).await {
            Ok(summary) => summary.id,
            Err(refusal) => return refusal,
        };
        match self
            .keyward
            .keys()
            .revoke_as(principal.capabilities(), &id)
            .await
        {
            Ok(_) => reply::empty(204),
            Err(e) => service_failure(self, e),
        }
    }

    /// `POST /v1/api_keys/{id}/disable`: 200 with the key in the listing's shape; it
    /// answers 401 `key_disabled` until enabled. Refused as a revoke is.
    pub async fn disable_key(&self, principal: &Principal, id: &str) -> HttpResponse {
        let id = match self.own_key(principal, id).await {
            Ok(summary) => summary.id,
            Err(refusal) => return refusal,
        };
        match self
            .keyward
            .keys()
            .disable_as(principal.capabilities(), &id)
            .await
        {
            Ok(summary) => reply::json(200, &listed_key(&summary)),
            Err(e) => service_failure(self, e),
        }
    }

    /// `POST /v1/api_keys/{id}/enable`: 200 with the key in the listing's shape (a
    /// revoked key stays revoked). Refused as a revoke is.
    pub async fn enable_key(&self, principal: &Principal, id: &str) -> HttpResponse {
        let id = match self.own_key(principal, id).await {
            Ok(summary) => summary.id,
            Err(refusal) => return refusal,
        };
        match self
            .keyward
            .keys()
            .enable_as(principal.capabilities(), &id)
            .await
        {
            Ok(summary) => reply::json(200, &listed_key(&summary)),
            Err(e) => service_failure(self, e),
        }
    }

    /// `POST /v1/api_keys/{id}/roll`: 201 with the replacement; the old key works for
    /// `grace_seconds` (default 0). A revoked or expired key, or one already rolled (in
    /// its grace), is 409 `conflict`; a key holding a capability the caller lacks is 403.
    pub async fn roll_key(
        &self,
        principal: &Principal,
        id: &str,
        body: RequestBody<'_>,
    ) -> HttpResponse {
        let request: RollKey = match parse_body(body, Some(RollKey::default())) {
            Ok(request) => request,
            Err(refusal) => return refusal,
        };
        let old = match self.own_key(principal, id).await {
            Ok(summary) => summary,
            Err(refusal) => return refusal,
        };
        // No escalation: the replacement carries the old key's grants, so `roll_as`
        // refuses a caller that does not hold them.
        let grace = Duration::from_secs(request.grace_seconds);
        match self
            .keyward
            .keys()
            .roll_as(principal.capabilities(), &old.id, grace)
            .await
        {
            Ok(rolled) => {
                let mut body = new_key(&rolled.new);
                body["rolled_from"] = json!({
                    "id": rolled.old.id.as_str(),
                    "expires_at": rolled.old.expires_at,
                });
                reply::json(201, &body)
            }
            Err(e) => service_failure(self, e),
        }
    }

    /// The caller's owner's key `id`; 404 for a malformed id, an unknown key and another
    /// owner's key alike, so ids of other owners cannot be probed.
    async fn own_key(&self, principal: &Principal, id: &str) -> Result<KeySummary, HttpResponse> {
        let not_found = || reply::error(404, "not_found", "no such key");
        let id = KeyId::parse(id).map_err(|_| not_found())?;
        match self.keyward.keys().get(&id).await {
            Ok(summary) if summary.owner == principal.owner() => Ok(summary),
            Ok(_) | Err(ServiceError::NotFound) => Err(not_found()),
            Err(e) => Err(service_failure(self, e)),
        }
    }
}

/// A JSON body, or the refusal that says what is wrong with it (413, 415 or 400, never
/// quoting the body); an empty body is `empty` when that is `Some`.
fn parse_body<T: serde::de::DeserializeOwned>(
    body: RequestBody<'_>,
    empty: Option<T>,
) -> Result<T, HttpResponse> {
    match parse_json_object(body) {
        Ok(Some(parsed)) => Ok(parsed),
        Ok(None) => empty.ok_or_else(|| RequestError::BodyRequired.render()),
        Err(refused) => Err(refused.render()),
    }
}

/// A management route whose JSON body [`parse_management_body`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagementBody {
    /// `POST /v1/api_keys`: `{"name", "capabilities"?, "expires_in_seconds"?}`, required.
    CreateKey,
    /// `POST /v1/api_keys/{id}/roll`: `{"grace_seconds"?}`, or no body.
    RollKey,
}

/// Checks `body` as `route` does before it touches the store: size, content type, JSON
/// fields, and (for a new key) capability names against
/// [`keyward_cli::demo_catalog`]. `Ok(())` when the route would go on, or the refusal it
/// would answer.
///
/// Takes any bytes: a fuzz target calls it. A refusal never panics, never quotes serde's
/// message, and carries at most 256 bytes of the body.
///
/// ```
/// use keyward::http::RequestBody;
/// use keyward_demo_api::{ManagementBody, parse_management_body};
///
/// assert!(parse_management_body(ManagementBody::RollKey, RequestBody::default()).is_ok());
/// let text = RequestBody { content_type: Some(b"text/plain"), bytes: b"{}" };
/// assert_eq!(parse_management_body(ManagementBody::CreateKey, text).unwrap_err().status, 415);
/// ```
pub fn parse_management_body(
    route: ManagementBody,
    body: RequestBody<'_>,
) -> Result<(), HttpResponse> {
    match route {
        ManagementBody::CreateKey => {
            let request: CreateKey = parse_body(body, None)?;
            match &request.capabilities {
                Some(names) => keyward_cli::demo_catalog()
                    .set(names)
                    .map(drop)
                    .map_err(|unknown| reply::unknown_capability(&unknown.capabilities)),
                None => Ok(()),
            }
        }
        ManagementBody::RollKey => parse_body(body, Some(RollKey::default())).map(drop),
    }
}

/// Seed 003's listing shape: never a secret or a hash.
fn listed_key(key: &KeySummary) -> Value {
    json!({
        "id": key.id.as_str(),
        "name": key.name,
        "key_prefix": key.key_prefix,
        "last4": key.last4,
        "capabilities": key.capabilities,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "disabled_at": key.disabled_at,
        "replaced_by": key.replaced_by.map(|id| id.as_str().to_owned()),
        "state": key.state.as_str(),
    })
}

/// The one answer that carries a plaintext key.
fn new_key(new: &NewKey) -> Value {
    json!({
        "id": new.summary.id.as_str(),
        "key": new.key.expose(),
        "name": new.summary.name,
        "capabilities": new.summary.capabilities,
        "expires_at": new.summary.expires_at,
    })
}

fn service_failure(api: &DemoApi, e: ServiceError) -> HttpResponse {
    match e {
        ServiceError::NotFound => reply::error(404, "not_found", "no such key"),
        ServiceError::InvalidRequest(why) => reply::error(400, "invalid_request", why),
        ServiceError::GraceTooLong { .. } => reply::error(400, "invalid_request", e),
        ServiceError::InvalidName { .. } => reply::error(400, "invalid_request", e),
        ServiceError::NotActive(state) => reply::error(
            409,
            "conflict",
            format!(
                "the key is {}; only an active key can be rolled",
                state.as_str()
            ),
        ),
        ServiceError::AlreadyRolled => reply::error(409, "conflict", e),
        ServiceError::TooManyKeys { .. } => reply::error(409, "too_many_keys", e),
        ServiceError::InsufficientCapability(denied) => {
            render(&AuthError::InsufficientCapability(denied), api.realm())
        }
        ServiceError::UnknownCapabilities(unknown) => {
            reply::unknown_capability(&unknown.capabilities)
        }
        ServiceError::Store(store) => {
            error!(target: "keyward_demo", error = %store, "key store failed");
            let retry_after = api.keyward.authenticator().unavailable_retry_after();
            render(&AuthError::Unavailable { retry_after }, api.realm())
        }
        other => {
            error!(target: "keyward_demo", error = %other, "key management failed");
            reply::error(500, "internal_error", "the key could not be created")
        }
    }
}
