use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use keyward_limit::ClientIpResolver;
use keyward_scope::Requirement;

use super::render::render_with_message;
use super::{CredentialSources, ExtractedCredential, HttpResponse, extract, render};
use crate::{AuthError, Authenticator, Principal};

/// The realm of `WWW-Authenticate` challenges unless one is configured.
pub const DEFAULT_REALM: &str = "api";

/// The header values of one request, by lower-case name: all an adapter supplies.
pub trait RequestHeaders {
    /// Every value of the header called `name` (lower case), in order.
    fn values(&self, name: &str) -> impl Iterator<Item = &[u8]>;
}

/// One route's authentication, for an adapter: which credentials to read, how to find
/// the client IP, what the route requires, and the realm of its challenges. An adapter
/// hands it the socket peer and the request's headers and gets a [`Principal`] or the
/// finished refusal; it decides nothing itself.
///
/// Cheap to clone. [`Gate::require`] derives a gate for another route from a shared one.
///
/// ```
/// use keyward::http::{Gate, RequestHeaders};
/// # use keyward::{Keyward, MintRequest, format::KeyFormat, scope::Catalog, store::MemoryStore, hash::BcryptHasher};
///
/// struct Headers(Vec<(&'static str, Vec<u8>)>);
/// impl RequestHeaders for Headers {
///     fn values(&self, name: &str) -> impl Iterator<Item = &[u8]> {
///         self.0.iter().filter(move |(n, _)| *n == name).map(|(_, v)| v.as_slice())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let catalog = Catalog::builder().capability("desktop:read").build()?;
/// # let keyward = Keyward::builder(KeyFormat::new("sk_live_")?, catalog)
/// #     .store(MemoryStore::new()).hasher(BcryptHasher::new(4)?).build()?;
/// let gate = Gate::new(keyward.authenticator());
/// let refused = gate
///     .authenticate(Some("192.0.2.1".parse()?), &Headers(vec![]))
///     .await
///     .unwrap_err();
/// assert_eq!(refused.status, 401);
/// assert!(refused.body.contains("missing_credential"));
/// # Ok(()) }
/// ```
///
/// Cheap to clone (one reference count), so an adapter clones it into every request's
/// future instead of sharing it some other way.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<GateConfig>,
}

#[derive(Clone)]
struct GateConfig {
    authenticator: Authenticator,
    realm: String,
    sources: CredentialSources,
    client_ip: ClientIpResolver,
    requirement: Requirement,
}

impl Gate {
    /// A gate over `authenticator`: realm [`DEFAULT_REALM`], every credential source,
    /// the socket peer as the client IP, no capability required beyond a valid key.
    pub fn new(authenticator: Authenticator) -> Self {
        Gate {
            inner: Arc::new(GateConfig {
                authenticator,
                realm: DEFAULT_REALM.to_owned(),
                sources: CredentialSources::default(),
                client_ip: ClientIpResolver::peer_only(),
                requirement: Requirement::none(),
            }),
        }
    }

    /// The realm named in `WWW-Authenticate` challenges.
    #[must_use]
    pub fn realm(mut self, realm: &str) -> Self {
        Arc::make_mut(&mut self.inner).realm = realm.to_owned();
        self
    }

    /// Which credential sources are read.
    #[must_use]
    pub fn sources(mut self, sources: CredentialSources) -> Self {
        Arc::make_mut(&mut self.inner).sources = sources;
        self
    }

    /// How the client IP is found (default: the socket peer only).
    #[must_use]
    pub fn client_ip(mut self, resolver: ClientIpResolver) -> Self {
        Arc::make_mut(&mut self.inner).client_ip = resolver;
        self
    }

    /// This gate with another route's requirement.
    #[must_use]
    pub fn require(&self, requirement: Requirement) -> Self {
        Gate {
            inner: Arc::new(GateConfig {
                requirement,
                ..GateConfig::clone(&self.inner)
            }),
        }
    }

    /// The configured realm.
    pub fn realm_name(&self) -> &str {
        &self.inner.realm
    }

    /// Authenticates one request from its socket `peer` and `headers`.
    ///
    /// No peer address means the server was set up without one (axum without
    /// `ConnectInfo`): a configuration error, answered 503 and logged, never guessed.
    pub async fn authenticate(
        &self,
        peer: Option<IpAddr>,
        headers: &impl RequestHeaders,
    ) -> Result<Principal, HttpResponse> {
        self.authenticate_inner(peer, headers)
            .await
            .map_err(|e| self.refusal(&e, headers))
    }

    /// [`authenticate`](Gate::authenticate)'s answer when it needs no waiting (see
    /// [`Authenticator::authenticate_now`]); `None`: call `authenticate`.
    ///
    /// Adapters call this first: a cached key then costs no boxed future.
    pub fn authenticate_now(
        &self,
        peer: Option<IpAddr>,
        headers: &impl RequestHeaders,
    ) -> Option<Result<Principal, HttpResponse>> {
        let result = match self.request(peer, headers) {
            Ok((credential, client_ip)) => self.inner.authenticator.authenticate_now(
                credential.credential(),
                &self.inner.requirement,
                client_ip,
            )?,
            Err(e) => {
                self.inner.authenticator.refused_before(&e);
                Err(e)
            }
        };
        Some(result.map_err(|e| self.refusal(&e, headers)))
    }

    /// `error` rendered; a missing credential's message names the forms this gate
    /// reads and the headers it ignored.
    fn refusal(&self, error: &AuthError, headers: &impl RequestHeaders) -> HttpResponse {
        if !matches!(error, AuthError::MissingCredential) {
            return render(error, &self.inner.realm);
        }
        // No credential was found, so any header of these was ignored.
        let sources = self.inner.sources;
        let message = sources.missing_credential_message(
            headers.values("authorization").next().is_some(),
            !sources.x_api_key && headers.values("x-api-key").next().is_some(),
        );
        render_with_message(error, &self.inner.realm, &message)
    }

    async fn authenticate_inner(
        &self,
        peer: Option<IpAddr>,
        headers: &impl RequestHeaders,
    ) -> Result<Principal, AuthError> {
        let (credential, client_ip) = self
            .request(peer, headers)
            .inspect_err(|e| self.inner.authenticator.refused_before(e))?;
        // Named in the alert if the key is a honeytoken; otherwise never read.
        let user_agent = headers.values("user-agent").next();
        self.inner
            .authenticator
            .authenticate_from(
                credential.credential(),
                &self.inner.requirement,
                client_ip,
                user_agent,
            )
            .await
    }

    /// The request's credential and client IP, or why there is none.
    fn request<'h>(
        &self,
        peer: Option<IpAddr>,
        headers: &'h impl RequestHeaders,
    ) -> Result<(ExtractedCredential<'h>, IpAddr), AuthError> {
        let Some(peer) = peer else {
            tracing::error!(
                target: "keyward",
                "the request has no socket peer address; configure the server to provide it \
                 (axum: into_make_service_with_connect_info::<SocketAddr>())"
            );
            return Err(AuthError::Unavailable {
                retry_after: self.inner.authenticator.unavailable_retry_after(),
            });
        };
        let credential = extract(
            self.inner.sources,
            headers.values("authorization"),
            headers.values("x-api-key"),
        )?
        .ok_or(AuthError::MissingCredential)?;
        Ok((credential, self.client_ip_of(peer, headers)))
    }

    /// The client IP of a request from `peer` with `headers`, as this gate resolves it
    /// for authentication (the peer, or what trusted proxies' forwarded headers name);
    /// `None` without a peer. The management mounts audit changes with it.
    pub fn resolve_client_ip(
        &self,
        peer: Option<IpAddr>,
        headers: &impl RequestHeaders,
    ) -> Option<IpAddr> {
        peer.map(|peer| self.client_ip_of(peer, headers))
    }

    fn client_ip_of(&self, peer: IpAddr, headers: &impl RequestHeaders) -> IpAddr {
        match self.inner.client_ip.header() {
            None => peer,
            // A line that is not text is an unreadable hop: the walk stops there.
            Some(h) => self.inner.client_ip.resolve(
                peer,
                headers
                    .values(h.name())
                    .map(|v| std::str::from_utf8(v).unwrap_or("unknown")),
            ),
        }
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("realm", &self.inner.realm)
            .field("sources", &self.inner.sources)
            .field("client_ip", &self.inner.client_ip)
            .finish_non_exhaustive()
    }
}
