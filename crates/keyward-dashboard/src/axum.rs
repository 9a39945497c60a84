//! The dashboard mounted in an axum application: [`router`].
//!
//! ```
//! use axum::Router;
//! use axum::http::request::Parts;
//! use keyward_dashboard::{Dashboard, SignedInUser};
//!
//! /// The host's own session: here, whatever its cookie says.
//! fn signed_in(parts: &Parts) -> Option<SignedInUser> {
//!     let _cookies = parts.headers.get_all(axum::http::header::COOKIE);
//!     None // look the session up and describe its user
//! }
//!
//! # fn app(keyward: &keyward::Keyward) -> Router {
//! let dashboard = Dashboard::new(keyward).login_path("/login");
//! let app: Router = Router::new().nest_service(
//!     "/settings/api-keys",
//!     keyward_dashboard::axum::router(dashboard, signed_in),
//! );
//! # app
//! # }
//! ```
//!
//! Mount it with [`Router::nest_service`]: it answers the mount path with and without a
//! trailing `/` (the dashboard's own links and forms use `/settings/api-keys/`), where
//! [`Router::nest`] would leave `/settings/api-keys/` to the outer router.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, OriginalUri, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::any;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use keyward::http::{RequestError, RequestHeaders};

use crate::{Dashboard, DashboardRequest, MAX_BODY_LEN, SignedInUser};

/// Stands in for a body past [`MAX_BODY_LEN`], which the mount stops reading: the
/// dashboard answers its 413 page for it.
static TOO_LARGE: [u8; MAX_BODY_LEN + 1] = [0; MAX_BODY_LEN + 1];

/// The dashboard as a router to mount at its path (`/settings/api-keys`) with
/// [`nest_service`](Router::nest_service). `session` is the host's session: it reads the request's
/// cookie (or whatever the host's session rides on) and says who is signed in; `None`
/// sends the visitor to the dashboard's login path. The dashboard never reads API keys.
///
/// Every path below the mount is the dashboard's (an unknown one is its 404 page); the
/// mount path links and forms use is the one the request came in on, taken from
/// [`OriginalUri`]. Form bodies are read up to [`MAX_BODY_LEN`] (a longer one is 413).
pub fn router<S, F>(dashboard: Dashboard, session: F) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    F: Fn(&Parts) -> Option<SignedInUser> + Clone + Send + Sync + 'static,
{
    let handler = move |request: Request| {
        let dashboard = dashboard.clone();
        let session = session.clone();
        async move { serve(&dashboard, &session, request).await }
    };
    Router::new()
        .route("/", any(handler.clone()))
        .route("/{*rest}", any(handler.clone()))
        .fallback(handler)
}

async fn serve<F>(dashboard: &Dashboard, session: &F, request: Request) -> Response
where
    F: Fn(&Parts) -> Option<SignedInUser>,
{
    let (parts, body) = request.into_parts();
    let user = session(&parts);
    let body = match read_bounded(&parts, body).await {
        Ok(body) => body,
        Err(refused) => return into_axum(refused.render()),
    };
    let path = parts.uri.path();
    let original = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(path, |OriginalUri(uri)| uri.path());
    let request = DashboardRequest {
        method: parts.method.as_str(),
        path,
        query: parts.uri.query(),
        content_type: parts.headers.get(CONTENT_TYPE).map(|v| v.as_bytes()),
        body: body.as_ref().map_or(&TOO_LARGE[..], |b| &b[..]),
        client_ip: dashboard.resolve_client_ip(peer(&parts), &Headers(&parts.headers)),
    };
    let answer = dashboard
        .handle(request, user.as_ref(), mount(original, path))
        .await;
    into_axum(answer)
}

/// The socket peer, where the server provides it (`into_make_service_with_connect_info`).
fn peer(parts: &Parts) -> Option<std::net::IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

struct Headers<'a>(&'a axum::http::HeaderMap);

impl RequestHeaders for Headers<'_> {
    fn values(&self, name: &str) -> impl Iterator<Item = &[u8]> {
        self.0.get_all(name).iter().map(|v| v.as_bytes())
    }
}

/// The body, or `None` when it is longer than [`MAX_BODY_LEN`] (declared or found), or
/// a refusal when it could not be read.
async fn read_bounded(parts: &Parts, body: Body) -> Result<Option<Vec<u8>>, RequestError> {
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_LEN as u64) {
        return Ok(None);
    }
    match Limited::new(body, MAX_BODY_LEN).collect().await {
        Ok(collected) => Ok(Some(collected.to_bytes().to_vec())),
        Err(e) if e.is::<LengthLimitError>() => Ok(None),
        Err(_) => Err(RequestError::UnreadableBody),
    }
}

/// Where the dashboard is mounted: the original path without the part below the mount
/// the nested router saw (`/settings/api-keys/new` less `/new`). Trailing slashes do not
/// count, so `/settings/api-keys/` mounts at `/settings/api-keys` too.
fn mount<'a>(original: &'a str, nested: &str) -> &'a str {
    let original = original.trim_end_matches('/');
    let below = nested.trim_end_matches('/');
    original.strip_suffix(below).unwrap_or(original)
}

/// keyward's response as axum's: status, headers (in order, repeats kept), body.
fn into_axum(answer: keyward::http::HttpResponse) -> Response {
    use axum::http::{HeaderName, HeaderValue, StatusCode};
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::request::Parts;
    use axum::http::{Request, Response};
    use http_body_util::BodyExt;
    use keyward_testing::rig::rig;
    use tower::ServiceExt;

    use super::{mount, router};
    use crate::{Dashboard, MAX_BODY_LEN, SignedInUser};

    /// The app a host builds: the dashboard at `at` behind a session cookie `s=1`.
    fn app(at: &str) -> Router {
        let rig = rig();
        let holds = rig.keyward.catalog().all();
        let session = move |parts: &Parts| {
            let cookie = parts.headers.get("cookie")?;
            (cookie == "s=1").then(|| SignedInUser::new("session-1", "u_1", holds))
        };
        Router::new().nest_service(at, router(Dashboard::new(&rig.keyward), session))
    }

    async fn send(app: &Router, request: Request<Body>) -> (Response<Body>, String) {
        let response = app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (
            Response::from_parts(parts, Body::empty()),
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    fn get(path: &str) -> Request<Body> {
        Request::get(path)
            .header("cookie", "s=1")
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn the_mount_path_is_where_the_host_nested_it() {
        let app = app("/account/keys");
        for path in ["/account/keys", "/account/keys/"] {
            let (response, body) = send(&app, get(path)).await;
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(
                response.headers()["content-type"],
                "text/html; charset=utf-8"
            );
            assert_eq!(response.headers()["x-frame-options"], "DENY");
            assert!(body.contains(r#"action="/account/keys/""#), "{body}");
        }
        let (response, _) = send(&app, get("/account/keys/no/such/page")).await;
        assert_eq!(response.status(), 404);
        let (response, _) = send(&app, get("/account/keys/assets/dashboard.css")).await;
        assert_eq!(response.status(), 200);
    }

    #[tokio::test]
    async fn a_signed_out_visitor_is_sent_to_the_login_path() {
        let app = app("/settings/api-keys");
        let request = Request::get("/settings/api-keys")
            .body(Body::empty())
            .unwrap();
        let (response, _) = send(&app, request).await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/login");
    }

    #[tokio::test]
    async fn a_body_past_the_limit_is_not_read_and_answered_413() {
        let app = app("/settings/api-keys");
        let big = vec![b'a'; MAX_BODY_LEN + 1];
        for declared in [true, false] {
            let mut request = Request::post("/settings/api-keys/")
                .header("cookie", "s=1")
                .header("content-type", "application/x-www-form-urlencoded");
            if declared {
                request = request.header("content-length", big.len());
            }
            let (response, body) = send(&app, request.body(Body::from(big.clone())).unwrap()).await;
            assert_eq!(response.status(), 413, "declared: {declared}");
            assert!(body.contains("too large"), "{body}");
        }
        // At the limit, the form is read (and refused for its missing CSRF token).
        let request = Request::post("/settings/api-keys/")
            .header("cookie", "s=1")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(vec![b'a'; MAX_BODY_LEN]))
            .unwrap();
        let (response, _) = send(&app, request).await;
        assert_eq!(response.status(), 403);
    }

    #[test]
    fn the_mount_is_the_original_path_less_the_nested_one() {
        assert_eq!(mount("/settings/api-keys", "/"), "/settings/api-keys");
        assert_eq!(mount("/settings/api-keys/", "/"), "/settings/api-keys");
        assert_eq!(
            mount("/settings/api-keys/new", "/new"),
            "/settings/api-keys"
        );
        assert_eq!(
            mount("/settings/api-keys/AbC/revoke", "/AbC/revoke"),
            "/settings/api-keys"
        );
        // Not nested: mounted at the root.
        assert_eq!(mount("/new", "/new"), "");
    }
}
