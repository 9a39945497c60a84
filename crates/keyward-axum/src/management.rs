//! The key-management API of [`keyward::http::management`] as an axum [`Router`].

use std::convert::Infallible;
use std::net::IpAddr;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, OriginalUri, Path, RawQuery};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, on};
use keyward::http::management::{ManagementApi, ManagementRequest, ManagementRoute};
use keyward::http::{Gate, RequestError};

use crate::{Authenticated, BoundedBody, Headers, KeywardLayer, peer, to_response};

/// Every [`ManagementRoute`] of `api`, each behind `auth` requiring
/// [`ManagementApi::requirement`] of its route, for [`Router::nest`] (or
/// [`Router::merge`] at the root).
///
/// The routes hold no rule of their own: each hands the caller, the request's full path
/// (the listing's `Link` header points there), the `{id}` segment, the raw query, the
/// body read by [`BoundedBody`] and the client IP (resolved as `auth` resolves it, so
/// behind trusted proxies the forwarded address) to [`ManagementApi::handle`], which
/// audits changes with it. Another method on one of
/// these paths is 405 `method_not_allowed` as keyward's JSON, with `Allow`, before any
/// authentication.
///
/// ```
/// use std::net::SocketAddr;
///
/// use axum::Router;
/// use keyward::http::management::ManagementApi;
/// use keyward::{Keyward, format::KeyFormat, scope::Catalog, store::MemoryStore};
/// use keyward_axum::{KeywardLayer, management_router};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let catalog = Catalog::builder()
///     .capabilities(["desktop:read", "keys:read", "keys:write"])
///     .implies("keys:write", "keys:read")
///     .default_grants(["desktop:read"])
///     .build()?;
/// let keyward = Keyward::builder(KeyFormat::new("sk_live_")?, catalog)
///     .store(MemoryStore::new())
///     .build()?;
/// let auth = KeywardLayer::new(keyward.authenticator()).realm("api");
/// // Reads need `keys:read`, writes `keys:write`.
/// let api = ManagementApi::new(&keyward)?; // takes the realm of `auth`
///
/// // GET/POST /v1/api_keys, GET/DELETE /v1/api_keys/{id}, POST /v1/api_keys/{id}/roll…
/// let app: Router = Router::new().nest("/v1", management_router(api, auth));
/// let _ = app.into_make_service_with_connect_info::<SocketAddr>();
/// # Ok(()) }
/// ```
pub fn management_router<S>(api: ManagementApi, auth: KeywardLayer) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    // One realm for the gate's challenges and the routes' own 403s.
    let api = api.realm(auth.gate.realm_name());
    let mut router = Router::new();
    for route in ManagementRoute::ALL {
        let gate = auth.require(api.requirement(route).clone());
        router = router.route(
            route.path(),
            endpoint(&api, route, auth.gate.clone()).layer(gate),
        );
    }
    router.method_not_allowed_fallback(method_not_allowed)
}

/// The handler of one route, on its method.
fn endpoint<S>(api: &ManagementApi, route: ManagementRoute, gate: Gate) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let api = api.clone();
    let handler = move |Authenticated(principal): Authenticated,
                        OriginalUri(original): OriginalUri,
                        uri: Uri,
                        id: Result<Path<String>, PathRejection>,
                        RawQuery(query): RawQuery,
                        Peer(peer): Peer,
                        headers: HeaderMap,
                        body: BoundedBody| async move {
        let id = route_has_id(route).then(|| match id {
            Ok(Path(id)) => id,
            // Not UTF-8 once decoded, so no key's id: handed over raw, to be answered
            // as any id that names no key.
            Err(_) => raw_id(&uri).to_owned(),
        });
        let request = ManagementRequest {
            principal: &principal,
            path: original.path(),
            id: id.as_deref(),
            query: query.as_deref(),
            body: body.as_request_body(),
            client_ip: gate.resolve_client_ip(peer, &Headers(&headers)),
        };
        to_response(api.handle(route, request).await)
    };
    let method = match route.method() {
        "GET" => MethodFilter::GET,
        "DELETE" => MethodFilter::DELETE,
        "POST" => MethodFilter::POST,
        other => unreachable!("management routes use GET, POST and DELETE, not {other}"),
    };
    on(method, handler)
}

/// The socket peer, as the layer reads it.
struct Peer(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Peer(peer(&parts.extensions)))
    }
}

fn route_has_id(route: ManagementRoute) -> bool {
    route.path().contains("{id}")
}

/// The `{id}` segment of `/api_keys/{id}…`, as sent: `uri` is relative to the mount.
fn raw_id(uri: &Uri) -> &str {
    uri.path().split('/').nth(2).unwrap_or_default()
}

async fn method_not_allowed() -> Response {
    to_response(RequestError::MethodNotAllowed.render())
}
