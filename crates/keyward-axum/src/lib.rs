#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use keyward::http::{
    CredentialSources, FieldCache, Gate, HttpResponse, MAX_BODY_LEN, RequestBody, RequestError,
    RequestHeaders, rate_limit_headers, render, static_decimal,
};
use keyward::limit::{BudgetDecision, ClientIpResolver, headers};
use keyward::scope::Requirement;
use keyward::{AuthError, Authenticator, Principal};

pub use keyward::http::DEFAULT_REALM;
use tower::{Layer, Service};

mod management;
pub use management::management_router;

/// A tower [`Layer`] that authenticates every request before the wrapped service sees
/// it, and puts the caller's [`Principal`] in the request's extensions.
///
/// It is a configuration value: cheap to clone, built once, applied per route. Every
/// decision (which headers are read, what each refusal looks like) is keyward's; the
/// layer only maps axum's request and response types. A refused request never reaches
/// the handler.
///
/// The client IP comes from [`ConnectInfo<SocketAddr>`](ConnectInfo), so serve the
/// router with [`into_make_service_with_connect_info::<SocketAddr>`](axum::Router::into_make_service_with_connect_info).
/// Without it the layer cannot count failures or check IP allowlists, logs an error and
/// answers every request `503 auth_unavailable`.
///
/// ```
/// use axum::{Router, routing::get};
/// use keyward::{Keyward, format::KeyFormat, scope::Catalog, store::MemoryStore};
/// use keyward_axum::{Authenticated, KeywardLayer};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let catalog = Catalog::builder()
///     .capabilities(["desktop:read", "desktop:chat"])
///     .default_grants(["desktop:read"])
///     .build()?;
/// let keyward = Keyward::builder(KeyFormat::new("sk_live_")?, catalog.clone())
///     .store(MemoryStore::new())
///     .build()?;
/// let auth = KeywardLayer::new(keyward.authenticator()).realm("api");
///
/// let app: Router = Router::new()
///     .route("/v1/me", get(me).layer(auth.clone()))
///     .route(
///         "/v1/desktops",
///         get(me).layer(auth.require(catalog.all_of(["desktop:read"])?)),
///     );
/// # Ok(()) }
///
/// async fn me(Authenticated(principal): Authenticated) -> String {
///     principal.owner().to_owned()
/// }
/// ```
#[derive(Clone)]
pub struct KeywardLayer {
    gate: Gate,
}

impl KeywardLayer {
    /// A layer over `authenticator`: realm [`DEFAULT_REALM`], every credential source,
    /// the socket peer as the client IP, and no capability required beyond a valid key.
    pub fn new(authenticator: Authenticator) -> Self {
        KeywardLayer {
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

    /// A copy of this layer that also requires `requirement` of the key (403
    /// `insufficient_capability` otherwise). Borrows `self`, so one configured layer
    /// serves every route:
    /// `get(handler).layer(auth.require(catalog.all_of(["desktop:read"])?))`.
    ///
    /// Apply one keyward layer per route: nested layers would authenticate (and count
    /// against the rate limit) once each.
    #[must_use]
    pub fn require(&self, requirement: Requirement) -> Self {
        KeywardLayer {
            gate: self.gate.require(requirement),
        }
    }
}

impl fmt::Debug for KeywardLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeywardLayer")
            .field("gate", &self.gate)
            .finish()
    }
}

impl<S> Layer<S> for KeywardLayer {
    type Service = KeywardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        KeywardService {
            inner,
            gate: self.gate.clone(),
        }
    }
}

/// The [`Service`] a [`KeywardLayer`] wraps around a route.
#[derive(Clone)]
pub struct KeywardService<S> {
    inner: S,
    gate: Gate,
}

impl<S> fmt::Debug for KeywardService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeywardService")
            .field("gate", &self.gate)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<Request<B>> for KeywardService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = KeywardFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // A cached key with in-memory limits is decided here, and the inner service,
        // polled ready, is called at once: no boxed future, no clone of it.
        match self
            .gate
            .authenticate_now(peer(request.extensions()), &Headers(request.headers()))
        {
            Some(Ok(principal)) => {
                let decision = principal.rate_limit_budget().copied();
                request.extensions_mut().insert(principal);
                KeywardFuture::new(State::Inner {
                    inner: self.inner.call(request),
                    decision,
                })
            }
            Some(Err(refusal)) => KeywardFuture::new(State::Refused {
                response: Some(to_response(refusal)),
            }),
            None => KeywardFuture::new(State::Waiting {
                future: self.call_after_waiting(request),
            }),
        }
    }
}

impl<S> KeywardService<S> {
    /// The path that waits (a cache miss, a Redis limit): boxed, as it is rare and
    /// costs a store read or a network round trip anyway.
    fn call_after_waiting<B>(&mut self, request: Request<B>) -> Waiting<S::Error>
    where
        S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
        S::Future: Send + 'static,
        B: Send + 'static,
    {
        let gate = self.gate.clone();
        // The clone is not necessarily ready; the one polled ready goes into the future.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut request = request;
            let principal = match gate
                .authenticate(peer(request.extensions()), &Headers(request.headers()))
                .await
            {
                Ok(principal) => principal,
                Err(refusal) => return Ok(to_response(refusal)),
            };
            let decision = principal.rate_limit_budget().copied();
            request.extensions_mut().insert(principal);
            let response = inner.call(request).await?;
            Ok(with_rate_limit_headers(response, decision))
        })
    }
}

type Waiting<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>;

pin_project_lite::pin_project! {
    /// The response future of [`KeywardService`].
    pub struct KeywardFuture<F, E> {
        #[pin]
        state: State<F, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProjection]
    enum State<F, E> {
        // Authenticated without waiting: the inner service's response, plus the
        // `RateLimit-*` headers.
        Inner { #[pin] inner: F, decision: Option<BudgetDecision> },
        // Refused without waiting (`None` once returned).
        Refused { response: Option<Response> },
        // Authentication had to wait.
        Waiting { future: Waiting<E> },
    }
}

impl<F, E> KeywardFuture<F, E> {
    fn new(state: State<F, E>) -> Self {
        KeywardFuture { state }
    }
}

impl<F, E> Future for KeywardFuture<F, E>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProjection::Inner { inner, decision } => inner
                .poll(cx)
                .map_ok(|response| with_rate_limit_headers(response, decision.take())),
            StateProjection::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after it completed: a caller bug; answer 500, not panic.
                None => Poll::Ready(Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response())),
            },
            StateProjection::Waiting { future } => future.as_mut().poll(cx),
        }
    }
}

impl<F, E> fmt::Debug for KeywardFuture<F, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.state {
            State::Inner { .. } => "KeywardFuture::Inner",
            State::Refused { .. } => "KeywardFuture::Refused",
            State::Waiting { .. } => "KeywardFuture::Waiting",
        })
    }
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

/// `x-api-key`, parsed at compile time: looking a header up by a `&str` parses it.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

fn with_rate_limit_headers(mut response: Response, decision: Option<BudgetDecision>) -> Response {
    if let Some(budget) = decision {
        let headers = response.headers_mut();
        for (name, (_, value)) in RATE_LIMIT_NAMES
            .into_iter()
            .zip(rate_limit_headers(&budget.decision))
        {
            set(headers, name, number(value));
        }
        // Both values are cached per thread: a response clones the last one built for
        // the same scope and numbers.
        let (policy, rate_limit) = FIELDS.with(|cache| {
            let build = |bytes: &[u8]| HeaderValue::from_bytes(bytes).ok();
            cache.borrow_mut().values(&budget, build)
        });
        if let Some(policy) = policy {
            set(headers, RATELIMIT_POLICY, policy);
        }
        if let Some(rate_limit) = rate_limit {
            set(headers, RATELIMIT, rate_limit);
        }
    }
    response
}

/// `headers[name] = value`, replacing any value the handler set. Through the entry API,
/// which skips `insert`'s handling of a replaced value when there is none (the usual
/// case).
fn set(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) {
    match headers.entry(name) {
        header::Entry::Occupied(mut occupied) => {
            occupied.insert(value);
        }
        header::Entry::Vacant(vacant) => {
            vacant.insert(value);
        }
    }
}

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

struct Headers<'a>(&'a axum::http::HeaderMap);

impl RequestHeaders for Headers<'_> {
    fn values(&self, name: &str) -> impl Iterator<Item = &[u8]> {
        let values = match name {
            "authorization" => self.0.get_all(header::AUTHORIZATION),
            "x-api-key" => self.0.get_all(X_API_KEY),
            _ => self.0.get_all(name),
        };
        values.into_iter().map(HeaderValue::as_bytes)
    }
}

fn peer(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// Copies keyward's rendering into an axum response, changing nothing.
///
/// The layer answers refusals with it; a handler that answers with keyward's shapes
/// (a 403 `insufficient_capability` for a mint that asks too much, say) uses it too.
///
/// ```
/// use keyward::AuthError;
/// use keyward::http::{DEFAULT_REALM, render};
///
/// let response = keyward_axum::to_response(render(&AuthError::MissingCredential, DEFAULT_REALM));
/// assert_eq!(response.status(), 401);
/// assert!(response.headers().contains_key("www-authenticate"));
/// ```
pub fn to_response(rendered: HttpResponse) -> Response {
    let mut response = Response::new(Body::from(rendered.body));
    *response.status_mut() =
        StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in rendered.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// The authenticated caller, extracted in a handler behind a [`KeywardLayer`].
///
/// ```
/// use keyward_axum::Authenticated;
///
/// async fn me(Authenticated(principal): Authenticated) -> String {
///     format!("{} ({})", principal.name(), principal.key_id())
/// }
/// ```
///
/// Without a layer on the route there is no principal, and the handler is refused
/// with [`NotAuthenticated`] (401 `missing_credential`): a route that forgot its layer
/// stays closed.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl Deref for Authenticated {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = NotAuthenticated;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Principal>() {
            Some(principal) => Ok(Authenticated(principal.clone())),
            None => {
                tracing::error!(
                    target: "keyward",
                    path = %parts.uri.path(),
                    "Authenticated extractor on a route without a KeywardLayer"
                );
                Err(NotAuthenticated)
            }
        }
    }
}

/// The [`Authenticated`] extractor's rejection: no [`KeywardLayer`] ran for the
/// request. Answers keyward's 401 `missing_credential` with realm [`DEFAULT_REALM`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAuthenticated;

impl IntoResponse for NotAuthenticated {
    fn into_response(self) -> Response {
        to_response(render(&AuthError::MissingCredential, DEFAULT_REALM))
    }
}

impl fmt::Display for NotAuthenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no keyward layer authenticated this request")
    }
}

impl std::error::Error for NotAuthenticated {}

/// A request body read up to [`MAX_BODY_LEN`] bytes, with its `Content-Type`: what a
/// JSON route hands to [`keyward::http::parse_json_body`] through
/// [`as_request_body`](Self::as_request_body).
///
/// A body declared (`Content-Length`) or found longer than the limit is refused with
/// [`BodyRejection`], 413 `payload_too_large`, without reading on. `keyward-actix`'s
/// `BoundedBody` has the same limit and answers the same bytes.
///
/// ```
/// use keyward::http::parse_json_body;
/// use keyward_axum::BoundedBody;
///
/// async fn create(body: BoundedBody) -> String {
///     match parse_json_body::<serde_json::Value>(body.as_request_body()) {
///         Ok(value) => format!("{value:?}"),
///         Err(refused) => refused.to_string(),
///     }
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::post(create);
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

impl<S: Send + Sync> FromRequest<S> for BoundedBody {
    type Rejection = BodyRejection;

    async fn from_request(
        request: axum::extract::Request,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let content_type = request.headers().get(header::CONTENT_TYPE).cloned();
        if declared_length(request.headers()).is_some_and(|len| len > MAX_BODY_LEN as u64) {
            return Err(BodyRejection(RequestError::PayloadTooLarge));
        }
        match Limited::new(request.into_body(), MAX_BODY_LEN)
            .collect()
            .await
        {
            Ok(collected) => Ok(BoundedBody {
                content_type,
                bytes: collected.to_bytes(),
            }),
            Err(e) if e.is::<LengthLimitError>() => {
                Err(BodyRejection(RequestError::PayloadTooLarge))
            }
            Err(_) => Err(BodyRejection(RequestError::UnreadableBody)),
        }
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// [`BoundedBody`]'s rejection: keyward's rendering of the [`RequestError`] (413
/// `payload_too_large`, or 400 `invalid_request` for a body that could not be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRejection(pub RequestError);

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        to_response(self.0.render())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use keyward::limit::{Decision, LimitScope, Quota};

    use super::*;

    fn written(budget: BudgetDecision) -> Vec<(String, String)> {
        let response = with_rate_limit_headers(Response::new(Body::empty()), Some(budget));
        response
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn rate_limit_headers_carry_the_decision_small_or_large() {
        let small = Decision::Allowed {
            limit: 60,
            remaining: 0,
            reset: Duration::from_millis(9_998_500),
        };
        let large = Decision::Allowed {
            limit: u32::MAX,
            remaining: 10_000,
            reset: Duration::from_secs(u64::from(u32::MAX)),
        };
        let pairs = |values: [&str; 5]| {
            [
                "ratelimit-limit",
                "ratelimit-remaining",
                "ratelimit-reset",
                "ratelimit-policy",
                "ratelimit",
            ]
            .into_iter()
            .zip(values)
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect::<Vec<_>>()
        };
        assert_eq!(
            written(BudgetDecision::key(Quota::per_minute(60), small)),
            pairs([
                "60",
                "0",
                "9999",
                r#""key";q=60;w=60"#,
                r#""key";r=0;t=9999"#
            ])
        );
        let owner = BudgetDecision {
            scope: LimitScope::Owner,
            quota: Quota::new(u32::MAX, Duration::from_secs(86_400)).unwrap(),
            decision: large,
        };
        assert_eq!(
            written(owner),
            pairs([
                "4294967295",
                "10000",
                "4294967295",
                r#""owner";q=4294967295;w=86400"#,
                r#""owner";r=10000;t=4294967295"#,
            ])
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
            written(BudgetDecision::key(quota, allowed))
                .into_iter()
                .find(|(n, _)| n == "ratelimit-policy")
                .unwrap()
                .1
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
        let mut map = HeaderMap::new();
        map.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer a"));
        map.append("x-api-key", HeaderValue::from_static("b"));
        map.append("x-api-key", HeaderValue::from_static("c"));
        map.append("x-forwarded-for", HeaderValue::from_static("192.0.2.7"));
        let headers = Headers(&map);
        let read = |name: &str| headers.values(name).collect::<Vec<_>>();
        assert_eq!(read("authorization"), [b"Bearer a"]);
        assert_eq!(read("x-api-key"), [&b"b"[..], b"c"]);
        assert_eq!(read("x-forwarded-for"), [b"192.0.2.7"]);
        assert!(read("forwarded").is_empty());
    }
}

/// The guide `docs/axum.md`, compiled with the doctests so its examples keep working.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/axum.md")]
struct Guide;

/// The guide `docs/key-management.md`, compiled here with its actix-web example too
/// (actix-web and keyward-actix are dev-dependencies for this alone).
#[cfg(doctest)]
#[doc = include_str!("../../../docs/key-management.md")]
struct KeyManagementGuide;
