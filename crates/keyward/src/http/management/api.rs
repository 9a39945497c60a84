use keyward_scope::{Requirement, UnknownCapabilities};

use crate::http::{DEFAULT_REALM, HttpResponse, RequestBody};
use crate::manage::KeyManager;
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
    pub const ALL: [ManagementRoute; 7] = [
        ManagementRoute::ListKeys,
        ManagementRoute::CreateKey,
        ManagementRoute::ShowKey,
        ManagementRoute::RevokeKey,
        ManagementRoute::RollKey,
        ManagementRoute::DisableKey,
        ManagementRoute::EnableKey,
    ];

    /// The HTTP method.
    pub const fn method(self) -> &'static str {
        match self {
            ManagementRoute::ListKeys | ManagementRoute::ShowKey => "GET",
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
            ManagementRoute::RollKey => "/api_keys/{id}/roll",
            ManagementRoute::DisableKey => "/api_keys/{id}/disable",
            ManagementRoute::EnableKey => "/api_keys/{id}/enable",
        }
    }

    /// Whether the route changes keys (and so takes the write requirement).
    pub const fn writes(self) -> bool {
        !matches!(self, ManagementRoute::ListKeys | ManagementRoute::ShowKey)
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
        }
    }

    /// Callers holding `requirement` manage every key of their tenant
    /// ([`KeyManager::tenant_admin`]).
    #[must_use]
    pub fn tenant_admin(mut self, requirement: Requirement) -> ManagementApi {
        self.manager = self.manager.tenant_admin(requirement);
        self
    }

    /// The realm of `WWW-Authenticate` challenges (default [`DEFAULT_REALM`]); use the
    /// realm of the layer in front of the routes.
    #[must_use]
    pub fn realm(mut self, realm: &str) -> ManagementApi {
        self.realm = realm.to_owned();
        self
    }

    /// The caller-scoped operations behind the routes.
    pub fn manager(&self) -> &KeyManager {
        &self.manager
    }

    /// What `route` requires of the calling key.
    pub fn requirement(&self, route: ManagementRoute) -> &Requirement {
        if route.writes() {
            &self.write
        } else {
            &self.read
        }
    }

    /// Answers one request to `route`.
    pub async fn handle(
        &self,
        route: ManagementRoute,
        request: ManagementRequest<'_>,
    ) -> HttpResponse {
        let _ = (route, request, &self.authenticator);
        todo!()
    }
}
