#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::cell::RefCell;
use std::fmt;
use std::future::{Future, Ready, ready};
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use keyward::http::{
    self as kw_http, CredentialSources, FieldCache, Gate, MAX_BODY_LEN, RequestBody, RequestError,
    RequestHeaders, rate_limit_headers, render, static_decimal,
};
use keyward::limit::{BudgetDecision, ClientIpResolver, headers};
use keyward::scope::Requirement;
use keyward::{AuthError, Authenticator, Principal};

pub use keyward::http::DEFAULT_REALM;

mod management;
pub use management::configure_management;

/// An actix-web middleware ([`Transform`]) that authenticates every request of the
/// scope or resource it wraps, and puts the caller's [`Principal`] in the request's
/// extensions.
///
/// It is a configuration value: cheap to clone, built once, applied per scope or
/// resource. Every decision (which headers are read, what each refusal looks like) is
/// keyward's; the middleware only maps actix-web's request and response types. A
/// refused request never reaches the handler.
///
/// The client IP is the connection's peer address (`HttpRequest::peer_addr`). When
/// there is none (some test harnesses, unusual transports) the middleware cannot count
/// failures or check IP allowlists, logs an error and answers `503 auth_unavailable`.
///
/// ```
/// use actix_web::{App, web};
/// use keyward::{Keyward, format::KeyFormat, scope::Catalog, store::MemoryStore};
/// use keyward_actix::{Authenticated, KeywardMiddleware};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let catalog = Catalog::builder()
///     .capabilities(["desktop:read", "desktop:chat"])
///     .default_grants(["desktop:read"])
///     .build()?;
/// let keyward = Keyward::builder(KeyFormat::new("sk_live_")?, catalog.clone())
///     .store(MemoryStore::new())
///     .build()?;
/// let auth = KeywardMiddleware::new(keyward.authenticator()).realm("api");
/// let read = auth.require(catalog.all_of(["desktop:read"])?);
///
/// let app = App::new()
///     .service(web::resource("/v1/me").wrap(auth.clone()).route(web::get().to(me)))
///     .service(web::scope("/v1/desktops").wrap(read).route("", web::get().to(me)));
/// # let _ = app;
/// # Ok(()) }
///
/// async fn me(Authenticated(principal): Authenticated) -> String {
///     principal.owner().to_owned()
/// }
/// ```
#[derive(Clone)]
pub struct KeywardMiddleware {
    gate: Gate,
}

impl KeywardMiddleware {
    /// A middleware over `authenticator`: realm [`DEFAULT_REALM`], every credential
    /// source, the socket peer as the client IP, and no capability required beyond a
    /// valid key.
    pub fn new(authenticator: Authenticator) -> Self {
        KeywardMiddleware {
            gate: Gate::new(authenticator),
        }
    }

    /// The realm named in `WWW-Authenticate` challenges.
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.gate = self.gate.realm(&realm.into());
        self
    }

    /// Where credentials are read from (default: Bearer, `x-api-key` and Basic).
    #[must_use]
    pub fn sources(mut self, sources: CredentialSources) -> Self {
        self.gate = self.gate.sources(sources);
        self
    }

    /// How the client IP is found (default: the socket peer; see
    /// [`ClientIpResolver::trust_forwarded_headers_from`] behind a reverse proxy).
    #[must_use]
    pub fn client_ip(mut self, resolver: ClientIpResolver) -> Self {
        self.gate = self.gate.client_ip(resolver);
        self
    }

    /// A copy of this middleware that also requires `requirement` of the key (403
    /// `insufficient_capability` otherwise). Borrows `self`, so one configured
    /// middleware serves every scope and resource:
    /// `web::resource("/v1/desktops").wrap(auth.require(catalog.all_of(["desktop:read"])?))`.
    ///
    /// Wrap each request in one keyward middleware: nested ones (a scope's and its
    /// resource's) would authenticate (and count against the rate limit) once each.
    #[must_use]
    pub fn require(&self, requirement: Requirement) -> Self {
        KeywardMiddleware {
            gate: self.gate.require(requirement),
        }
    }
}

impl fmt::Debug for KeywardMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeywardMiddleware")
            .field("gate", &self.gate)
            .finish()
    }
}

impl<S, B> Transform<S, ServiceRequest> for KeywardMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = KeywardService<S>;
    type InitError = ();
    type Future = Ready<Result<KeywardService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(KeywardService {
            service: Rc::new(service),
            gate: self.gate.clone(),
        }))
    }
}

/// The [`Service`] a [`KeywardMiddleware`] wraps around a scope or resource.
pub struct KeywardService<S> {
    service: Rc<S>,
    gate: Gate,
}

impl<S> fmt::Debug for KeywardService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeywardService")
            .field("gate", &self.gate)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for KeywardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = KeywardFuture<S::Future, B>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let peer = request.peer_addr().map(|addr| addr.ip());
        // A cached key with in-memory limits is decided here and the inner service is
        // called at once: no boxed future.
        let decided = self
            .gate
            .authenticate_now(peer, &Headers(request.headers()));
        KeywardFuture {
            state: match decided {
                Some(Ok(principal)) => {
                    let decision = principal.rate_limit_budget().copied();
                    request.extensions_mut().insert(principal);
                    State::Inner {
                        inner: self.service.call(request),
                        decision,
                    }
                }
                Some(Err(refusal)) => State::Refused {
                    response: Some(refused(request, refusal)),
                },
                None => State::Waiting {
                    future: self.call_after_waiting(request),
                },
            },
        }
    }
}

impl<S, B> KeywardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    /// The path that waits (a cache miss, a Redis limit): boxed, as it is rare and
    /// costs a store read or a network round trip anyway.
    fn call_after_waiting(&self, request: ServiceRequest) -> Waiting<B> {
        let service = Rc::clone(&self.service);
        let gate = self.gate.clone();
        Box::pin(async move {
            let peer = request.peer_addr().map(|addr| addr.ip());
            let principal = match gate.authenticate(peer, &Headers(request.headers())).await {
                Ok(principal) => principal,
                Err(refusal) => return Ok(refused(request, refusal)),
            };
            let decision = principal.rate_limit_budget().copied();
            request.extensions_mut().insert(principal);
            let response = service.call(request).await?;
            Ok(with_rate_limit_headers(response, decision))
        })
    }
}

type Waiting<B> = Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, Error>>>>;

fn refused<B>(
    request: ServiceRequest,
    refusal: kw_http::HttpResponse,
) -> ServiceResponse<EitherBody<B>> {
    request
        .into_response(to_response(refusal))
        .map_into_right_body()
}

fn with_rate_limit_headers<B>(
    mut response: ServiceResponse<B>,
    decision: Option<BudgetDecision>,
) -> ServiceResponse<EitherBody<B>> {
    if let Some(budget) = decision {
        let headers = response.headers_mut();
        for (name, (_, value)) in RATE_LIMIT_NAMES
            .into_iter()
            .zip(rate_limit_headers(&budget.decision))
        {
            headers.insert(name, number(value));
        }
        // Both values are cached per thread: a response clones the last one built for
        // the same scope and numbers.
        let (policy, rate_limit) = FIELDS.with(|cache| {
            let build = |bytes: &[u8]| HeaderValue::from_bytes(bytes).ok();
            cache.borrow_mut().values(&budget, build)
        });
        if let Some(policy) = policy {
            headers.insert(RATELIMIT_POLICY, policy);
        }
        if let Some(rate_limit) = rate_limit {
            headers.insert(RATELIMIT, rate_limit);
        }
    }
    response.map_into_left_body()
}

/// The `RateLimit-*` names, in [`rate_limit_headers`]' order, parsed once at compile
/// time rather than per response.
const RATE_LIMIT_NAMES: [HeaderName; 3] = [
    HeaderName::from_static(headers::RATELIMIT_LIMIT),
    HeaderName::from_static(headers::RATELIMIT_REMAINING),
    HeaderName::from_static(headers::RATELIMIT_RESET),
];

/// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-11), parsed
/// at compile time.
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static(headers::RATELIMIT_POLICY);
const RATELIMIT: HeaderName = HeaderName::from_static(headers::RATELIMIT);

/// `x-api-key`, parsed at compile time: looking a header up by a `&str` parses it, and
/// parsing a name that is not a standard header allocates.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

thread_local! {
    /// This thread's `RateLimit-Policy` and `RateLimit` values, one of each per budget
    /// scope.
    static FIELDS: RefCell<FieldCache<HeaderValue>> = const { RefCell::new(FieldCache::new()) };
}

/// `n` as a header value; numbers below 10,000 without allocating.
fn number(n: u64) -> HeaderValue {
    match static_decimal(n) {
        Some(text) => HeaderValue::from_static(text),
        None => HeaderValue::from(n),
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`KeywardService`].
    pub struct KeywardFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProjection]
    enum State<F, B> {
        // Authenticated without waiting: the inner service's response, plus the
        // `RateLimit-*` headers.
        Inner { #[pin] inner: F, decision: Option<BudgetDecision> },
        // Refused without waiting (`None` once returned).
        Refused { response: Option<ServiceResponse<EitherBody<B>>> },
        // Authentication had to wait.
        Waiting { future: Waiting<B> },
    }
}

impl<F, B> Future for KeywardFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProjection::Inner { inner, decision } => inner
                .poll(cx)
                .map_ok(|response| with_rate_limit_headers(response, decision.take())),
            StateProjection::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after it completed: a caller bug; an error, not a panic.
                None => Poll::Ready(Err(actix_web::error::ErrorInternalServerError(
                    "keyward: response future polled after completion",
                ))),
            },
            StateProjection::Waiting { future } => future.as_mut().poll(cx),
        }
    }
}

impl<F, B> fmt::Debug for KeywardFuture<F, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.state {
            State::Inner { .. } => "KeywardFuture::Inner",
            State::Refused { .. } => "KeywardFuture::Refused",
            State::Waiting { .. } => "KeywardFuture::Waiting",
        })
    }
}

/// The request's headers as keyward reads them.
struct Headers<'a>(&'a actix_web::http::header::HeaderMap);

impl RequestHeaders for Headers<'_> {
    fn values(&self, name: &str) -> impl Iterator<Item = &[u8]> {
        let values = match name {
            "authorization" => self.0.get_all(header::AUTHORIZATION),
            "x-api-key" => self.0.get_all(X_API_KEY),
            _ => self.0.get_all(name),
        };
        values.map(HeaderValue::as_bytes)
    }
}

/// Copies keyward's rendering into an actix-web response, changing nothing.
///
/// The middleware answers refusals with it; a handler that answers with keyward's
/// shapes (a 403 `insufficient_capability` for a mint that asks too much, say) uses it
/// too.
///
/// ```
/// use keyward::AuthError;
/// use keyward::http::{DEFAULT_REALM, render};
///
/// let response = keyward_actix::to_response(render(&AuthError::MissingCredential, DEFAULT_REALM));
/// assert_eq!(response.status(), 401);
/// assert!(response.headers().contains_key("www-authenticate"));
/// ```
pub fn to_response(rendered: kw_http::HttpResponse) -> HttpResponse {
    let status = StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in rendered.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            response.append_header((name, value));
        }
    }
    response.body(rendered.body)
}

/// The authenticated caller, extracted in a handler behind a [`KeywardMiddleware`].
///
/// ```
/// use keyward_actix::Authenticated;
///
/// async fn me(Authenticated(principal): Authenticated) -> String {
///     format!("{} ({})", principal.name(), principal.key_id())
/// }
/// ```
///
/// Without a middleware on the route there is no principal, and the handler is
/// refused with [`NotAuthenticated`] (401 `missing_credential`): a route that forgot
/// its middleware stays closed.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl Deref for Authenticated {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequest for Authenticated {
    type Error = NotAuthenticated;
    type Future = Ready<Result<Self, NotAuthenticated>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let principal = request.extensions().get::<Principal>().cloned();
        ready(match principal {
            Some(principal) => Ok(Authenticated(principal)),
            None => {
                tracing::error!(
                    target: "keyward",
                    path = %request.path(),
                    "Authenticated extractor on a route without a KeywardMiddleware"
                );
                Err(NotAuthenticated)
            }
        })
    }
}

/// The [`Authenticated`] extractor's rejection: no [`KeywardMiddleware`] ran for the
/// request. Answers keyward's 401 `missing_credential` with realm [`DEFAULT_REALM`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAuthenticated;

impl fmt::Display for NotAuthenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no keyward middleware authenticated this request")
    }
}

impl std::error::Error for NotAuthenticated {}

impl ResponseError for NotAuthenticated {
    fn status_code(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }

    fn error_response(&self) -> HttpResponse {
        to_response(render(&AuthError::MissingCredential, DEFAULT_REALM))
    }
}

/// A request body read up to [`MAX_BODY_LEN`] bytes, with its `Content-Type`: what a
/// JSON route hands to [`keyward::http::parse_json_body`] through
/// [`as_request_body`](Self::as_request_body).
///
/// A body declared (`Content-Length`) or found longer than the limit is refused with
/// [`BodyRejection`], 413 `payload_too_large` as keyward's JSON, without reading on
/// (actix-web's own `Bytes` extractor would answer a plain-text 413 at 256 KiB).
/// `keyward-axum`'s `BoundedBody` has the same limit and answers the same bytes.
///
/// ```
/// use keyward::http::parse_json_body;
/// use keyward_actix::BoundedBody;
///
/// async fn create(body: BoundedBody) -> String {
///     match parse_json_body::<serde_json::Value>(body.as_request_body()) {
///         Ok(value) => format!("{value:?}"),
///         Err(refused) => refused.to_string(),
///     }
/// }
/// # let _ = actix_web::web::post().to(create);
/// ```
#[derive(Debug, Clone, Default)]
pub struct BoundedBody {
    content_type: Option<HeaderValue>,
    bytes: Bytes,
}

impl BoundedBody {
    /// The body and its content type, for [`keyward::http::parse_json_body`].
    pub fn as_request_body(&self) -> RequestBody<'_> {
        RequestBody {
            content_type: self.content_type.as_ref().map(HeaderValue::as_bytes),
            bytes: &self.bytes,
        }
    }
}

impl FromRequest for BoundedBody {
    type Error = BodyRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, BodyRejection>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = request.headers().get(header::CONTENT_TYPE).cloned();
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|len| len > MAX_BODY_LEN as u64) {
            return Box::pin(ready(Err(BodyRejection(RequestError::PayloadTooLarge))));
        }
        let Ok(payload) = actix_web::web::Payload::from_request(request, payload).into_inner()
        else {
            return Box::pin(ready(Err(BodyRejection(RequestError::UnreadableBody))));
        };
        Box::pin(async move {
            match payload.to_bytes_limited(MAX_BODY_LEN).await {
                Ok(Ok(bytes)) => Ok(BoundedBody {
                    content_type,
                    bytes,
                }),
                Ok(Err(_)) => Err(BodyRejection(RequestError::UnreadableBody)),
                Err(_) => Err(BodyRejection(RequestError::PayloadTooLarge)),
            }
        })
    }
}

/// [`BoundedBody`]'s rejection: keyward's rendering of the [`RequestError`] (413
/// `payload_too_large`, or 400 `invalid_request` for a body that could not be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRejection(pub RequestError);

impl fmt::Display for BodyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BodyRejection {}

impl ResponseError for BodyRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.code().status()).unwrap_or(StatusCode::BAD_REQUEST)
    }

    fn error_response(&self) -> HttpResponse {
        to_response(self.0.render())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use keyward::limit::{Decision, LimitScope, Quota};

    use actix_web::test::TestRequest;

    use super::*;

    fn written(budget: BudgetDecision) -> [String; 5] {
        let response = TestRequest::default()
            .to_srv_request()
            .into_response(HttpResponse::Ok().finish());
        let response = with_rate_limit_headers(response, Some(budget));
        [
            "ratelimit-limit",
            "ratelimit-remaining",
            "ratelimit-reset",
            "ratelimit-policy",
            "ratelimit",
        ]
        .map(|name| {
            let values: Vec<_> = response.headers().get_all(name).collect();
            assert_eq!(values.len(), 1, "{name}");
            values[0].to_str().unwrap().to_owned()
        })
    }

    #[test]
    fn rate_limit_headers_carry_the_decision_small_or_large() {
        let small = Decision::Allowed {
            limit: 60,
            remaining: 0,
            reset: Duration::from_millis(9_998_500),
        };
        assert_eq!(
            written(BudgetDecision::key(Quota::per_minute(60), small)),
            [
                "60",
                "0",
                "9999",
                r#""key";q=60;w=60"#,
                r#""key";r=0;t=9999"#
            ]
        );
        let large = Decision::Allowed {
            limit: u32::MAX,
            remaining: 10_000,
            reset: Duration::from_secs(u64::from(u32::MAX)),
        };
        let tenant = BudgetDecision {
            scope: LimitScope::Tenant,
            quota: Quota::new(u32::MAX, Duration::from_secs(86_400)).unwrap(),
            decision: large,
        };
        assert_eq!(
            written(tenant),
            [
                "4294967295",
                "10000",
                "4294967295",
                r#""tenant";q=4294967295;w=86400"#,
                r#""tenant";r=10000;t=4294967295"#,
            ]
        );
    }

    #[test]
    fn the_cached_policy_follows_the_quota() {
        let policy = |quota: Quota| {
            let allowed = Decision::Allowed {
                limit: quota.limit(),
                remaining: 0,
                reset: Duration::from_secs(1),
            };
            written(BudgetDecision::key(quota, allowed))[3].clone()
        };
        // Same scope, changing quotas: each response describes its own.
        assert_eq!(policy(Quota::per_minute(60)), r#""key";q=60;w=60"#);
        assert_eq!(policy(Quota::per_minute(60)), r#""key";q=60;w=60"#);
        assert_eq!(policy(Quota::per_hour(60)), r#""key";q=60;w=3600"#);
        assert_eq!(policy(Quota::per_minute(60)), r#""key";q=60;w=60"#);
        assert_eq!(policy(Quota::per_minute(61)), r#""key";q=61;w=60"#);
    }

    #[test]
    fn credentials_are_read_by_name() {
        let request = TestRequest::default()
            .append_header(("authorization", "Bearer a"))
            .append_header(("x-api-key", "b"))
            .append_header(("x-api-key", "c"))
            .append_header(("x-forwarded-for", "192.0.2.7"))
            .to_srv_request();
        let headers = Headers(request.headers());
        let read = |name: &str| headers.values(name).collect::<Vec<_>>();
        assert_eq!(read("authorization"), [b"Bearer a"]);
        assert_eq!(read("x-api-key"), [&b"b"[..], b"c"]);
        assert_eq!(read("x-forwarded-for"), [b"192.0.2.7"]);
        assert!(read("forwarded").is_empty());
    }
}

/// The guide `docs/actix.md`, compiled with the doctests so its examples keep working.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/actix.md")]
struct Guide;
