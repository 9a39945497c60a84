use std::net::IpAddr;
use std::time::Duration;

use keyward_scope::{Requirement, UnknownCapabilities};
use keyward_store::PageRequest;

use super::openapi::DocumentLimits;
use super::render::{json, render_manage_error};
use super::request::{self, QueryProblem};
use super::shapes::{ApiKey, ApiKeyUsage, AuditEvent, CreatedApiKey, RolledApiKey};
use crate::http::{DEFAULT_REALM, HttpResponse, RequestBody};
use crate::manage::{Caller, CreateKey, KeyManager, ManageError};
use crate::{Authenticator, Keyward, Principal};

/// One route of the management API. Paths are relative to where it is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManagementRoute {
    /// `GET /api_keys`: the caller's keys, paged.
    ListKeys,
    /// `POST /api_keys`: 201 with the new key, shown once.
    CreateKey,
    /// `GET /api_keys/{id}`: one key.
    ShowKey,
    /// `GET /api_keys/{id}/events`: the key's audit trail, paged.
    KeyEvents,
    /// `GET /api_keys/{id}/usage`: what the key was granted, what it used, and the
    /// grants its use suggests.
    KeyUsage,
    /// `DELETE /api_keys/{id}`: 204; revokes, or with `?permanent=true` deletes.
    RevokeKey,
    /// `POST /api_keys/{id}/roll`: 201 with the replacement.
    RollKey,
    /// `POST /api_keys/{id}/disable`: 200 with the key.
    DisableKey,
    /// `POST /api_keys/{id}/enable`: 200 with the key.
    EnableKey,
}

impl ManagementRoute {
    /// Every route.
    pub const ALL: [ManagementRoute; 9] = [
        ManagementRoute::ListKeys,
        ManagementRoute::CreateKey,
        ManagementRoute::ShowKey,
        ManagementRoute::KeyEvents,
        ManagementRoute::KeyUsage,
        ManagementRoute::RevokeKey,
        ManagementRoute::RollKey,
        ManagementRoute::DisableKey,
        ManagementRoute::EnableKey,
    ];

    /// The HTTP method.
    pub const fn method(self) -> &'static str {
        match self {
            ManagementRoute::ListKeys
            | ManagementRoute::ShowKey
            | ManagementRoute::KeyEvents
            | ManagementRoute::KeyUsage => "GET",
            ManagementRoute::RevokeKey => "DELETE",
            _ => "POST",
        }
    }

    /// The path relative to the mount point, with `{id}` for the key id (the syntax
    /// axum 0.8 and actix-web share).
    pub const fn path(self) -> &'static str {
        match self {
            ManagementRoute::ListKeys | ManagementRoute::CreateKey => "/api_keys",
            ManagementRoute::ShowKey | ManagementRoute::RevokeKey => "/api_keys/{id}",
            ManagementRoute::KeyEvents => "/api_keys/{id}/events",
            ManagementRoute::KeyUsage => "/api_keys/{id}/usage",
            ManagementRoute::RollKey => "/api_keys/{id}/roll",
            ManagementRoute::DisableKey => "/api_keys/{id}/disable",
            ManagementRoute::EnableKey => "/api_keys/{id}/enable",
        }
    }

    /// Whether the route changes keys (and so takes the write requirement).
    pub const fn writes(self) -> bool {
        !matches!(
            self,
            ManagementRoute::ListKeys
                | ManagementRoute::ShowKey
                | ManagementRoute::KeyEvents
                | ManagementRoute::KeyUsage
        )
    }
}

/// One request to a management route, as the adapter read it.
#[derive(Debug, Clone, Copy)]
pub struct ManagementRequest<'a> {
    /// The authenticated caller (the adapter checked the route's requirement).
    pub principal: &'a Principal,
    /// The request's path as the client sent it, mount point included: the listing's
    /// `Link` header points there.
    pub path: &'a str,
    /// The `{id}` path segment, percent-decoded; `None` on routes without one.
    pub id: Option<&'a str>,
    /// The raw query string (without `?`), `None` without one.
    pub query: Option<&'a str>,
    /// The body, read up to [`crate::http::MAX_BODY_LEN`].
    pub body: RequestBody<'a>,
    /// The client address, resolved as the authentication in front resolved it
    /// ([`crate::http::Gate::resolve_client_ip`]): changes are audited with it.
    pub client_ip: Option<IpAddr>,
}

/// The management API over one [`Keyward`]: which requirement gates reads and writes,
/// who is a tenant admin, and the realm of its challenges. Cheap to clone.
#[derive(Clone)]
pub struct ManagementApi {
    manager: KeyManager,
    authenticator: Authenticator,
    read: Requirement,
    write: Requirement,
    realm: String,
    /// What this API's document declares beyond the generic one.
    limits: DocumentLimits,
}

impl std::fmt::Debug for ManagementApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagementApi")
            .field("manager", &self.manager)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl ManagementApi {
    /// The API over `keyward`, reads gated by `keys:read` and writes by `keys:write`.
    ///
    /// # Errors
    ///
    /// When the catalog does not declare `keys:read` and `keys:write`: use
    /// [`with_requirements`](Self::with_requirements) with names it declares.
    pub fn new(keyward: &Keyward) -> Result<ManagementApi, UnknownCapabilities> {
        let catalog = keyward.catalog();
        let read = catalog.all_of(["keys:read"])?;
        let write = catalog.all_of(["keys:write"])?;
        Ok(ManagementApi::with_requirements(keyward, read, write))
    }

    /// The API over `keyward`, reads gated by `read` and writes by `write`.
    pub fn with_requirements(
        keyward: &Keyward,
        read: Requirement,
        write: Requirement,
    ) -> ManagementApi {
        ManagementApi {
            manager: KeyManager::new(keyward),
            authenticator: keyward.authenticator(),
            read,
            write,
            realm: DEFAULT_REALM.to_owned(),
            limits: DocumentLimits::of(keyward),
        }
    }

    /// Callers holding `requirement` manage every key of their tenant
    /// ([`KeyManager::tenant_admin`]).
    #[must_use]
    pub fn tenant_admin(mut self, requirement: Requirement) -> ManagementApi {
        self.manager = self.manager.tenant_admin(requirement);
        self
    }

    /// The realm of `WWW-Authenticate` challenges (default [`DEFAULT_REALM`]). The
    /// adapters' mounts set it to the realm of the layer in front of the routes.
    #[must_use]
    pub fn realm(mut self, realm: &str) -> ManagementApi {
        self.realm = realm.to_owned();
        self
    }

    /// The caller-scoped operations behind the routes.
    pub fn manager(&self) -> &KeyManager {
        &self.manager
    }

    /// The OpenAPI 3.1 document of these routes mounted at `mount`: [`openapi`]'s, with
    /// what this instance accepts spelled out, so a client (or a generated test) can
    /// tell a valid request from the schema alone: the catalog's capability names as
    /// the `enum` of `capabilities`, and [`crate::Config::max_roll_grace`] as the
    /// `maximum` of `grace_seconds`.
    ///
    /// [`openapi`]: super::openapi
    pub fn openapi(&self, mount: &str) -> String {
        super::openapi::document_for(mount, &self.limits)
    }

    /// What `route` requires of the calling key.
    pub fn requirement(&self, route: ManagementRoute) -> &Requirement {
        if route.writes() {
            &self.write
        } else {
            &self.read
        }
    }

    /// Answers one request to `route`, for the key that authenticated it (the adapter
    /// checked [`requirement`](Self::requirement) first). Every answer is JSON but a
    /// 204's; a body sent to a route that takes none is ignored.
    pub async fn handle(
        &self,
        route: ManagementRoute,
        request: ManagementRequest<'_>,
    ) -> HttpResponse {
        let mut caller = Caller::from_principal(request.principal);
        if let Some(ip) = request.client_ip {
            caller = caller.with_client_ip(ip);
        }
        let answer = match route {
            ManagementRoute::ListKeys => self.list(&caller, &request).await,
            ManagementRoute::KeyEvents => self.events(&caller, &request).await,
            ManagementRoute::CreateKey => self.create(&caller, request.body).await,
            ManagementRoute::ShowKey => self.show(&caller, request.id).await,
            ManagementRoute::KeyUsage => self.usage(&caller, request.id).await,
            ManagementRoute::RevokeKey => self.revoke(&caller, &request).await,
            ManagementRoute::RollKey => self.roll(&caller, &request).await,
            ManagementRoute::DisableKey => self.set_enabled(&caller, request.id, false).await,
            ManagementRoute::EnableKey => self.set_enabled(&caller, request.id, true).await,
        };
        answer.unwrap_or_else(|refusal| refusal)
    }

    /// `GET /api_keys`: a page of the caller's keys and, while more remain, a `Link` to
    /// the next page.
    async fn list(
        &self,
        caller: &Caller,
        request: &ManagementRequest<'_>,
    ) -> Result<HttpResponse, HttpResponse> {
        let query = request::list_query(request.query).map_err(QueryProblem::render)?;
        let page = PageRequest {
            limit: query.limit,
            after: query.after,
        };
        let listed = match self.manager.list(caller, page).await {
            Ok(listed) => listed,
            // The limit is in range, so the cursor is what the listing refused: it names
            // no key the caller sees (another owner's is refused alike).
            Err(ManageError::InvalidRequest(_)) if query.after.is_some() => {
                return Err(QueryProblem::After.render());
            }
            Err(e) => return Err(self.refuse(&e)),
        };
        let keys: Vec<ApiKey> = listed.keys.iter().map(ApiKey::from).collect();
        let mut response = json(200, &keys);
        if let Some(next) = listed.next {
            response
                .headers
                .push(next_link(request.path, query.limit, next.as_str()));
        }
        Ok(response)
    }

    /// `GET /api_keys/{id}/events`: a page of the key's audit trail, oldest first, and
    /// while more remain, a `Link` to the next page.
    async fn events(
        &self,
        caller: &Caller,
        request: &ManagementRequest<'_>,
    ) -> Result<HttpResponse, HttpResponse> {
        let query = request::events_query(request.query).map_err(QueryProblem::render)?;
        let id = request
            .id
            .ok_or_else(|| self.refuse(&ManageError::NotFound))?;
        let page = self
            .manager
            .events(caller, id, query.after, query.limit)
            .await
            .map_err(|e| self.refuse(&e))?;
        let events: Vec<AuditEvent> = page.entries.iter().map(AuditEvent::from).collect();
        let mut response = json(200, &events);
        if let Some(next) = page.next {
            response
                .headers
                .push(next_link(request.path, query.limit, &next.to_string()));
        }
        Ok(response)
    }

    /// `POST /api_keys`: 201 with the new key, shown this once.
    async fn create(
        &self,
        caller: &Caller,
        body: RequestBody<'_>,
    ) -> Result<HttpResponse, HttpResponse> {
        let body = request::create_body(body)?;
        let mut create = CreateKey::new(body.name);
        create.capabilities = body.capabilities;
        create.expires_in = body.expires_in_seconds.map(Duration::from_secs);
        create.honeytoken = body.honeytoken;
        let new = self
            .manager
            .create(caller, create)
            .await
            .map_err(|e| self.refuse(&e))?;
        Ok(shown_once(json(201, &CreatedApiKey::from(&new))))
    }

    /// `GET /api_keys/{id}`.
    async fn show(&self, caller: &Caller, id: Option<&str>) -> Result<HttpResponse, HttpResponse> {
        let id = id.ok_or_else(|| self.refuse(&ManageError::NotFound))?;
        let key = self
            .manager
            .get(caller, id)
            .await
            .map_err(|e| self.refuse(&e))?;
        Ok(json(200, &ApiKey::from(&key)))
    }

    /// `GET /api_keys/{id}/usage`: granted, used, since, suggested.
    async fn usage(&self, caller: &Caller, id: Option<&str>) -> Result<HttpResponse, HttpResponse> {
        let id = id.ok_or_else(|| self.refuse(&ManageError::NotFound))?;
        let usage = self
            .manager
            .usage(caller, id)
            .await
            .map_err(|e| self.refuse(&e))?;
        Ok(json(200, &ApiKeyUsage::from(&usage)))
    }

    /// `DELETE /api_keys/{id}`: 204; revokes, or with `?permanent=true` deletes.
    async fn revoke(
        &self,
        caller: &Caller,
        request: &ManagementRequest<'_>,
    ) -> Result<HttpResponse, HttpResponse> {
        let permanent = request::permanent(request.query).map_err(QueryProblem::render)?;
        let id = request
            .id
            .ok_or_else(|| self.refuse(&ManageError::NotFound))?;
        let done = if permanent {
            self.manager.delete(caller, id).await
        } else {
            self.manager.revoke(caller, id).await.map(drop)
        };
        done.map_err(|e| self.refuse(&e))?;
        Ok(HttpResponse {
            status: 204,
            headers: Vec::new(),
            body: String::new(),
        })
    }

    /// `POST /api_keys/{id}/disable` and `…/enable`: 200 with the key.
    async fn set_enabled(
        &self,
        caller: &Caller,
        id: Option<&str>,
        enabled: bool,
    ) -> Result<HttpResponse, HttpResponse> {
        let id = id.ok_or_else(|| self.refuse(&ManageError::NotFound))?;
        let key = if enabled {
            self.manager.enable(caller, id).await
        } else {
            self.manager.disable(caller, id).await
        };
        let key = key.map_err(|e| self.refuse(&e))?;
        Ok(json(200, &ApiKey::from(&key)))
    }

    /// `POST /api_keys/{id}/roll`: 201 with the replacement, shown this once.
    async fn roll(
        &self,
        caller: &Caller,
        request: &ManagementRequest<'_>,
    ) -> Result<HttpResponse, HttpResponse> {
        let body = request::roll_body(request.body)?;
        let id = request
            .id
            .ok_or_else(|| self.refuse(&ManageError::NotFound))?;
        let grace = Duration::from_secs(body.grace_seconds);
        let rolled = self
            .manager
            .roll(caller, id, grace)
            .await
            .map_err(|e| self.refuse(&e))?;
        Ok(shown_once(json(201, &RolledApiKey::from(&rolled))))
    }

    fn refuse(&self, error: &ManageError) -> HttpResponse {
        render_manage_error(
            error,
            &self.realm,
            self.authenticator.unavailable_retry_after(),
        )
    }
}

/// A response carrying a plaintext key: no cache may keep it.
fn shown_once(mut response: HttpResponse) -> HttpResponse {
    response
        .headers
        .push(("cache-control", "no-store".to_owned()));
    response
}

/// `Link: <path?limit=…&after=…>; rel="next"`.
fn next_link(path: &str, limit: u32, after: &str) -> (&'static str, String) {
    (
        "link",
        format!(
            "<{}?limit={limit}&after={after}>; rel=\"next\"",
            link_target(path)
        ),
    )
}

/// `path` as a `Link` target: bytes outside a URI path's characters percent-encoded, so
/// the header can neither break out of its `<>` nor carry a control byte.
fn link_target(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_targets_escape_what_a_path_cannot_hold() {
        assert_eq!(link_target("/v1/api_keys"), "/v1/api_keys");
        assert_eq!(link_target("/a b>\r\n<é"), "/a%20b%3E%0D%0A%3C%C3%A9");
    }
}
