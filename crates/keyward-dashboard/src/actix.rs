//! The dashboard mounted in an actix-web application: [`configure`].
//!
//! ```
//! use actix_web::{App, HttpRequest, web};
//! use keyward_dashboard::{Dashboard, SignedInUser};
//!
//! /// The host's own session: here, whatever its cookie says.
//! fn signed_in(request: &HttpRequest) -> Option<SignedInUser> {
//!     let _cookie = request.headers().get(actix_web::http::header::COOKIE);
//!     None // look the session up and describe its user
//! }
//!
//! # fn app(keyward: &keyward::Keyward) {
//! let dashboard = Dashboard::new(keyward).login_path("/login");
//! let routes = keyward_dashboard::actix::configure(dashboard, signed_in);
//! let _app = App::new().service(web::scope("/settings/api-keys").configure(routes));
//! # }
//! ```

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::{self, Payload, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use keyward::http::RequestHeaders;

use crate::{Dashboard, DashboardRequest, MAX_BODY_LEN, SignedInUser};

/// Stands in for a body past [`MAX_BODY_LEN`], which the mount stops reading: the
/// dashboard answers its 413 page for it.
static TOO_LARGE: [u8; MAX_BODY_LEN + 1] = [0; MAX_BODY_LEN + 1];

/// The dashboard for `web::scope("/settings/api-keys").configure(…)`. `session` is the
/// host's session: it reads the request's cookie (or whatever the host's session rides
/// on) and says who is signed in; `None` sends the visitor to the dashboard's login
/// path. The dashboard never reads API keys.
///
/// It answers every path of the scope (as the scope's default service: an unknown path
/// is its 404 page), so configure it into a scope of its own, not the whole
/// application. Links and forms use the scope's path as the request matched it. Form
/// bodies are read up to [`MAX_BODY_LEN`] (a longer one is 413).
pub fn configure<F>(dashboard: Dashboard, session: F) -> impl FnOnce(&mut ServiceConfig) + Clone
where
    F: Fn(&HttpRequest) -> Option<SignedInUser> + Clone + 'static,
{
    move |config: &mut ServiceConfig| {
        config.default_service(web::to(move |request: HttpRequest, payload: Payload| {
            let dashboard = dashboard.clone();
            let session = session.clone();
            async move { serve(&dashboard, &session, request, payload).await }
        }));
    }
}

async fn serve<F>(
    dashboard: &Dashboard,
    session: &F,
    request: HttpRequest,
    payload: Payload,
) -> HttpResponse
where
    F: Fn(&HttpRequest) -> Option<SignedInUser>,
{
    let user = session(&request);
    let body = match read_bounded(&request, payload).await {
        Ok(body) => body,
        Err(refused) => return into_actix(refused.render()),
    };
    // The scope matched the start of the path; the rest is the dashboard's.
    let matched = request.match_info();
    let below = matched.unprocessed();
    let full = matched.as_str();
    let mount = full[..full.len() - below.len()].trim_end_matches('/');
    let request = DashboardRequest {
        method: request.method().as_str(),
        path: below,
        query: Some(request.query_string()).filter(|q| !q.is_empty()),
        content_type: request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(HeaderValue::as_bytes),
        body: body.as_deref().unwrap_or(&TOO_LARGE[..]),
        client_ip: dashboard.resolve_client_ip(
            request.peer_addr().map(|addr| addr.ip()),
            &Headers(request.headers()),
        ),
    };
    into_actix(dashboard.handle(request, user.as_ref(), mount).await)
}

struct Headers<'a>(&'a actix_web::http::header::HeaderMap);

impl RequestHeaders for Headers<'_> {
    fn values(&self, name: &str) -> impl Iterator<Item = &[u8]> {
        self.0.get_all(name).map(HeaderValue::as_bytes)
    }
}

/// The body, or `None` when it is longer than [`MAX_BODY_LEN`] (declared or found), or
/// a refusal when it could not be read.
async fn read_bounded(
    request: &HttpRequest,
    payload: Payload,
) -> Result<Option<web::Bytes>, keyward::http::RequestError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_LEN as u64) {
        return Ok(None);
    }
    match payload.to_bytes_limited(MAX_BODY_LEN).await {
        Ok(Ok(bytes)) => Ok(Some(bytes)),
        Ok(Err(_)) => Err(keyward::http::RequestError::UnreadableBody),
        Err(_) => Ok(None),
    }
}

/// keyward's response as actix-web's: status, headers (in order, repeats kept), body.
fn into_actix(answer: keyward::http::HttpResponse) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            response.append_header((name, value));
        }
    }
    response.body(answer.body)
}

#[cfg(test)]
mod tests {
    use actix_web::test::{TestRequest, call_service, init_service, read_body};
    use actix_web::{App, HttpRequest, web};
    use keyward_testing::rig::rig;

    use super::configure;
    use crate::{Dashboard, MAX_BODY_LEN, SignedInUser};

    /// The dashboard at `at` behind a session cookie `s=1`, as a host configures it.
    macro_rules! app {
        ($at:expr) => {{
            let rig = rig();
            let holds = rig.keyward.catalog().all();
            let session = move |request: &HttpRequest| {
                let cookie = request.headers().get("cookie")?;
                (cookie == "s=1").then(|| SignedInUser::new("session-1", "u_1", holds))
            };
            let routes = configure(Dashboard::new(&rig.keyward), session);
            init_service(App::new().service(web::scope($at).configure(routes))).await
        }};
    }

    #[actix_web::test]
    async fn the_mount_path_is_the_scope_the_host_configured() {
        let app = app!("/account/keys");
        for path in ["/account/keys", "/account/keys/"] {
            let request = TestRequest::get()
                .uri(path)
                .insert_header(("cookie", "s=1"))
                .to_request();
            let response = call_service(&app, request).await;
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(
                response.headers().get("content-type").unwrap(),
                "text/html; charset=utf-8"
            );
            assert_eq!(response.headers().get("x-frame-options").unwrap(), "DENY");
            let body = read_body(response).await;
            let body = String::from_utf8_lossy(&body);
            assert!(body.contains(r#"action="/account/keys/""#), "{body}");
        }
        for (path, status) in [
            ("/account/keys/no/such/page", 404),
            ("/account/keys/assets/dashboard.css", 200),
        ] {
            let request = TestRequest::get()
                .uri(path)
                .insert_header(("cookie", "s=1"))
                .to_request();
            assert_eq!(call_service(&app, request).await.status(), status, "{path}");
        }
    }

    #[actix_web::test]
    async fn a_signed_out_visitor_is_sent_to_the_login_path() {
        let app = app!("/settings/api-keys");
        let request = TestRequest::get().uri("/settings/api-keys").to_request();
        let response = call_service(&app, request).await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers().get("location").unwrap(), "/login");
    }

    #[actix_web::test]
    async fn a_body_past_the_limit_is_not_read_and_answered_413() {
        let app = app!("/settings/api-keys");
        for len in [MAX_BODY_LEN + 1, 4 * MAX_BODY_LEN] {
            let request = TestRequest::post()
                .uri("/settings/api-keys/")
                .insert_header(("cookie", "s=1"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(vec![b'a'; len])
                .to_request();
            let response = call_service(&app, request).await;
            assert_eq!(response.status(), 413, "{len} bytes");
            let body = read_body(response).await;
            assert!(String::from_utf8_lossy(&body).contains("too large"));
        }
        // At the limit, the form is read (and refused for its missing CSRF token).
        let request = TestRequest::post()
            .uri("/settings/api-keys/")
            .insert_header(("cookie", "s=1"))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(vec![b'a'; MAX_BODY_LEN])
            .to_request();
        assert_eq!(call_service(&app, request).await.status(), 403);
    }
}
