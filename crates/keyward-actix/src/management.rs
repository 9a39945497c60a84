//! The key-management API of [`keyward::http::management`] as actix-web resources.

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse, Route};
use keyward::http::management::{ManagementApi, ManagementRequest, ManagementRoute};
use keyward::http::{Gate, RequestError};

use crate::{Authenticated, BoundedBody, Headers, KeywardMiddleware, to_response};

/// Every [`ManagementRoute`] of `api` as resources relative to where it is configured
/// (an `App`, or a `web::scope("/v1")`), each route wrapped in `auth` requiring
/// [`ManagementApi::requirement`] of its route.
///
/// The routes hold no rule of their own: each hands the caller, the request's full path
/// (the listing's `Link` header points there), the `{id}` segment, the raw query, the
/// body read by [`BoundedBody`] and the client IP (resolved as `auth` resolves it, so
/// behind trusted proxies the forwarded address) to [`ManagementApi::handle`], which
/// audits changes with it. Another method on one of
/// these paths is 405 `method_not_allowed` as keyward's JSON, with `Allow`, before any
/// authentication.
///
/// The function is `Clone`, so one built outside `HttpServer::new` serves every worker.
///
/// ```
/// use actix_web::{App, web};
/// use keyward::http::management::ManagementApi;
/// use keyward::{Keyward, format::KeyFormat, scope::Catalog, store::MemoryStore};
/// use keyward_actix::{KeywardMiddleware, configure_management};
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
/// let auth = KeywardMiddleware::new(keyward.authenticator()).realm("api");
/// // Reads need `keys:read`, writes `keys:write`.
/// let api = ManagementApi::new(&keyward)?; // takes the realm of `auth`
/// let management = configure_management(api, auth);
///
/// // GET/POST /v1/api_keys, GET/DELETE /v1/api_keys/{id}, POST /v1/api_keys/{id}/roll…
/// let app = App::new().service(web::scope("/v1").configure(management.clone()));
/// # let _ = app;
/// # Ok(()) }
/// ```
pub fn configure_management(
    api: ManagementApi,
    auth: KeywardMiddleware,
) -> impl FnOnce(&mut ServiceConfig) + Clone {
    // One realm for the middleware's challenges and the routes' own 403s.
    let api = api.realm(auth.gate.realm_name());
    move |config: &mut ServiceConfig| {
        let mut paths: Vec<&'static str> = Vec::new();
        for route in ManagementRoute::ALL {
            if !paths.contains(&route.path()) {
                paths.push(route.path());
            }
        }
        for path in paths {
            let routes = ManagementRoute::ALL
                .into_iter()
                .filter(|r| r.path() == path);
            let allow: Vec<&str> = routes.clone().map(ManagementRoute::method).collect();
            let mut resource =
                web::resource(path).default_service(method_not_allowed(allow.join(", ")));
            for route in routes {
                let gate = auth.require(api.requirement(route).clone());
                resource = resource.route(endpoint(&api, route, &auth.gate).wrap(gate));
            }
            config.service(resource);
        }
    }
}

/// The handler of one route, on its method.
fn endpoint(api: &ManagementApi, route: ManagementRoute, gate: &Gate) -> Route {
    let api = api.clone();
    let gate = gate.clone();
    let method = Method::from_bytes(route.method().as_bytes())
        .unwrap_or_else(|e| unreachable!("{} is a method: {e}", route.method()));
    web::method(method).to(
        move |Authenticated(principal): Authenticated, http: HttpRequest, body: BoundedBody| {
            let api = api.clone();
            let peer = http.peer_addr().map(|addr| addr.ip());
            let client_ip = gate.resolve_client_ip(peer, &Headers(http.headers()));
            async move {
                // By name: a scope mounted with parameters of its own (`/orgs/{org}`)
                // adds segments, so the whole path no longer extracts as one string.
                // An undecodable segment names no key whichever way it is read.
                let id = if route.path().contains("{id}") {
                    http.match_info().get("id").map(str::to_owned)
                } else {
                    None
                };
                let request = ManagementRequest {
                    principal: &principal,
                    path: http.uri().path(),
                    id: id.as_deref(),
                    query: http.uri().query(),
                    body: body.as_request_body(),
                    client_ip,
                };
                to_response(api.handle(route, request).await)
            }
        },
    )
}

/// 405 `method_not_allowed` with `Allow: allow`.
fn method_not_allowed(allow: String) -> Route {
    web::route().to(move || {
        let allow = HeaderValue::try_from(allow.as_str());
        async move {
            let mut response: HttpResponse = to_response(RequestError::MethodNotAllowed.render());
            if let Ok(allow) = allow {
                response.headers_mut().insert(header::ALLOW, allow);
            }
            response
        }
    })
}
