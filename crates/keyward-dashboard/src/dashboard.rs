//! The dashboard: its options and the one entry point every mount calls.

use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use keyward::clock::{Clock, SystemClock};
use keyward::format::KeyId;
use keyward::http::{Gate, HttpResponse, RequestHeaders};
use keyward::limit::ClientIpResolver;
use keyward::manage::{Caller, CreateKey, KeyManager, ManageError};
use keyward::scope::{Catalog, Requirement};
use keyward::store::{KeyState, PageRequest};
use keyward::{KeySummary, Keyward};

use crate::assets;
use crate::csrf::SessionKey;
use crate::form::{Fields, is_form};
use crate::pages::{self, Chrome, CreateForm, EXPIRY_CHOICES, Flash, GRACE_CHOICES, ListPage};
use crate::request::MAX_BODY_LEN;
use crate::response::{asset, page, page_with, see_other};
use crate::slots::{ShownKey, Slots, Taken};
use crate::{DashboardRequest, SignedInUser};

/// The signed-in user of one request and the address it came from: its
/// [`caller`](Visitor::caller) is audited as the user, from that address.
struct Visitor<'a> {
    user: &'a SignedInUser,
    client_ip: Option<IpAddr>,
}

impl Visitor<'_> {
    fn caller(&self) -> Caller {
        let caller = self.user.caller();
        match self.client_ip {
            Some(ip) => caller.with_client_ip(ip),
            None => caller,
        }
    }
}

impl Deref for Visitor<'_> {
    type Target = SignedInUser;

    fn deref(&self) -> &SignedInUser {
        self.user
    }
}

/// Keys per page of the list.
const PAGE_SIZE: u32 = 100;

/// The API-keys settings page, framework-neutral: a mount turns each request into a
/// [`DashboardRequest`] and the host's session into a [`SignedInUser`], calls
/// [`handle`](Dashboard::handle) and copies the answer back. Cheap to clone: clones
/// share the CSRF secret and the show-once slots.
#[derive(Clone)]
pub struct Dashboard {
    manager: KeyManager,
    catalog: Catalog,
    settings: Arc<Settings>,
    session_key: Arc<SessionKey>,
    slots: Arc<Slots>,
    clock: Arc<dyn Clock>,
    /// Resolves the client IP changes are audited with, as keyward's authentication
    /// does (only its client-IP resolution is used).
    addresses: Gate,
}

#[derive(Clone)]
struct Settings {
    login_path: String,
    title: String,
    max_grace: Duration,
    retry_after: u64,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("login_path", &self.settings.login_path)
            .field("title", &self.settings.title)
            .finish_non_exhaustive()
    }
}

/// Where a request goes, from its path below the mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'p> {
    List,
    New,
    Css,
    Js,
    Revoke(&'p str),
    Roll(&'p str),
    Usage(&'p str),
    RollToUsed(&'p str),
    Disable(&'p str),
    Enable(&'p str),
    Unknown,
}

impl<'p> Route<'p> {
    fn of(path: &'p str) -> Route<'p> {
        let path = path.strip_prefix('/').unwrap_or(path);
        if path.is_empty() {
            return Route::List;
        }
        match path.split_once('/') {
            None if path == "new" => Route::New,
            Some(("assets", "dashboard.css")) => Route::Css,
            Some(("assets", "dashboard.js")) => Route::Js,
            Some((id, action)) if !id.is_empty() => match action {
                "revoke" => Route::Revoke(id),
                "roll" => Route::Roll(id),
                "usage" => Route::Usage(id),
                "roll-to-used" => Route::RollToUsed(id),
                "disable" => Route::Disable(id),
                "enable" => Route::Enable(id),
                _ => Route::Unknown,
            },
            _ => Route::Unknown,
        }
    }

    /// The methods the route answers, as `Allow` lists them.
    fn allowed(self) -> &'static str {
        match self {
            Route::List | Route::Revoke(_) => "GET, HEAD, POST",
            Route::New | Route::Css | Route::Js | Route::Usage(_) => "GET, HEAD",
            Route::Roll(_) | Route::RollToUsed(_) | Route::Disable(_) | Route::Enable(_) => "POST",
            Route::Unknown => "",
        }
    }
}

impl Dashboard {
    /// The dashboard over `keyward`'s keys and catalog, with a random CSRF secret, the
    /// system clock and `/login` as the login path.
    ///
    /// # Panics
    ///
    /// If the operating system's random generator fails (keyward cannot mint keys
    /// without it either).
    pub fn new(keyward: &Keyward) -> Dashboard {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the OS random generator works");
        let dashboard = Dashboard {
            manager: KeyManager::new(keyward),
            catalog: keyward.catalog().clone(),
            settings: Arc::new(Settings {
                login_path: "/login".to_string(),
                title: "API keys".to_string(),
                max_grace: keyward.config().max_roll_grace,
                retry_after: keyward.config().unavailable_retry_after,
            }),
            session_key: Arc::new(SessionKey::new(secret)),
            slots: Arc::new(Slots::default()),
            clock: Arc::new(SystemClock),
            addresses: Gate::new(keyward.authenticator()),
        };
        zeroize::Zeroize::zeroize(&mut secret);
        dashboard
    }

    /// How the client IP that changes are audited with is found (default: the socket
    /// peer; behind a reverse proxy, the resolver the API's authentication uses, such as
    /// [`ClientIpResolver::trust_forwarded_headers_from`]).
    #[must_use]
    pub fn client_ip(mut self, resolver: ClientIpResolver) -> Dashboard {
        self.addresses = self.addresses.client_ip(resolver);
        self
    }

    /// The client IP of a request from `peer` with `headers`, resolved as configured
    /// with [`client_ip`](Self::client_ip): the mounts put it on
    /// [`DashboardRequest::client_ip`].
    pub fn resolve_client_ip(
        &self,
        peer: Option<IpAddr>,
        headers: &impl RequestHeaders,
    ) -> Option<IpAddr> {
        self.addresses.resolve_client_ip(peer, headers)
    }

    /// Users holding `requirement` and bound to a tenant manage every key of it
    /// ([`KeyManager::tenant_admin`]); the list then shows each key's owner.
    #[must_use]
    pub fn tenant_admin(mut self, requirement: Requirement) -> Dashboard {
        self.manager = self.manager.tenant_admin(requirement);
        self
    }

    /// Where a signed-out visitor is sent (303); `/login` by default.
    #[must_use]
    pub fn login_path(mut self, path: impl Into<String>) -> Dashboard {
        Arc::make_mut(&mut self.settings).login_path = path.into();
        self
    }

    /// The page's heading and title; `API keys` by default.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Dashboard {
        Arc::make_mut(&mut self.settings).title = title.into();
        self
    }

    /// The secret CSRF tokens are derived from, instead of a random one, so several
    /// instances accept each other's forms. (A new key's show-once page still has to be
    /// served by the instance that minted it: see the crate docs.)
    #[must_use]
    pub fn csrf_secret(mut self, secret: [u8; 32]) -> Dashboard {
        self.session_key = Arc::new(SessionKey::new(secret));
        self
    }

    /// The clock show-once slots expire by (the system clock by default; pass the
    /// clock keyward was built with to drive both in tests).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Dashboard {
        self.clock = Arc::new(clock);
        self
    }

    /// Answers one request. `user` is who the host's session says is signed in
    /// (`None`: a 303 to the login path; the stylesheet and script are served to
    /// anyone); `mount` the absolute path the dashboard is mounted at
    /// (`/settings/api-keys`), for links and form actions.
    ///
    /// Every answer is a page, a redirect or an asset: bad input is a 4xx page, never
    /// a panic. A user with an empty `session_id` counts as signed out: CSRF tokens and
    /// show-once slots are bound to it, and one empty id would be shared by every such
    /// session.
    pub async fn handle(
        &self,
        request: DashboardRequest<'_>,
        user: Option<&SignedInUser>,
        mount: &str,
    ) -> HttpResponse {
        let user = user.filter(|u| !u.session_id.is_empty());
        let base = base_path(mount);
        let csrf = user
            .map(|u| self.session_key.csrf_token(&u.session_id))
            .unwrap_or_default();
        let chrome = Chrome {
            title: &self.settings.title,
            base: &base,
            csrf: &csrf,
        };
        let route = Route::of(request.path);
        let method = request.method;
        let read = method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
        let post = method.eq_ignore_ascii_case("POST");
        if route == Route::Unknown {
            return page(
                404,
                pages::message(&chrome, "Page not found", "There is no such page here."),
            );
        }
        let allowed = route.allowed();
        let method_allowed =
            (read && allowed.contains("GET")) || (post && allowed.contains("POST"));
        if !method_allowed {
            return page_with(
                405,
                pages::message(
                    &chrome,
                    "Method not allowed",
                    "This page does not answer that kind of request.",
                ),
                [("allow", allowed.to_string())],
            );
        }
        match route {
            Route::Css => return asset("text/css; charset=utf-8", assets::CSS),
            Route::Js => return asset("text/javascript; charset=utf-8", assets::JS),
            _ => {}
        }
        let Some(user) = user else {
            return see_other(self.settings.login_path.clone());
        };
        let user = &Visitor {
            user,
            client_ip: request.client_ip,
        };
        let query = Fields::query(request.query);
        if read {
            return match route {
                Route::List => self.list(&chrome, user, &query, None, 200, None).await,
                Route::New if method.eq_ignore_ascii_case("HEAD") => {
                    // A HEAD (a link preview, a prefetch) must not use up the slot.
                    page(
                        200,
                        pages::message(&chrome, "New key", "Open this link to see the new key."),
                    )
                }
                Route::New => self.show_new(&chrome, user, &query),
                Route::Revoke(id) => self.confirm_revoke(&chrome, user, id).await,
                Route::Usage(id) => self.usage(&chrome, user, id).await,
                _ => unreachable_route(&chrome),
            };
        }
        let form = match self.read_form(&chrome, &request, user) {
            Ok(form) => form,
            Err(refusal) => return refusal,
        };
        match route {
            Route::List => self.create(&chrome, user, &form).await,
            Route::Revoke(id) => {
                let result = self.manager.revoke(&user.caller(), id).await;
                self.done(&chrome, result, "revoked")
            }
            Route::Disable(id) => {
                let result = self.manager.disable(&user.caller(), id).await;
                self.done(&chrome, result, "disabled")
            }
            Route::Enable(id) => {
                let result = self.manager.enable(&user.caller(), id).await;
                self.done(&chrome, result, "enabled")
            }
            Route::Roll(id) => self.roll(&chrome, user, id, &form, false).await,
            Route::RollToUsed(id) => self.roll(&chrome, user, id, &form, true).await,
            _ => unreachable_route(&chrome),
        }
    }

    /// The fields of a POST's form, once its size, type and CSRF token pass.
    fn read_form(
        &self,
        chrome: &Chrome<'_>,
        request: &DashboardRequest<'_>,
        user: &Visitor<'_>,
    ) -> Result<Fields, HttpResponse> {
        if request.body.len() > MAX_BODY_LEN {
            return Err(page(
                413,
                pages::message(chrome, "Request too large", "The form sent was too large."),
            ));
        }
        if !is_form(request.content_type) {
            return Err(page(
                415,
                pages::message(
                    chrome,
                    "Unsupported form encoding",
                    "Forms here are sent as application/x-www-form-urlencoded.",
                ),
            ));
        }
        let Some(form) = Fields::parse(request.body) else {
            return Err(page(
                400,
                pages::message(chrome, "Bad request", "The form sent could not be read."),
            ));
        };
        if !self
            .session_key
            .csrf_valid(&user.session_id, form.first("csrf"))
        {
            return Err(page(
                403,
                pages::message(
                    chrome,
                    "This form has expired",
                    "The form was not sent from this page in your current session. Reload the page and try again.",
                ),
            ));
        }
        Ok(form)
    }

    /// The list and the create form, with `flash` above them; `refused` keeps what a
    /// refused create form held.
    async fn list(
        &self,
        chrome: &Chrome<'_>,
        user: &Visitor<'_>,
        query: &Fields,
        flash: Option<Flash>,
        status: u16,
        refused: Option<&Fields>,
    ) -> HttpResponse {
        let after = match query.first("after").filter(|a| !a.is_empty()) {
            None => None,
            Some(after) => match KeyId::parse(after) {
                Ok(id) => Some(id),
                Err(_) => {
                    return page(
                        400,
                        pages::message(chrome, "Invalid request", "That page link is not valid."),
                    );
                }
            },
        };
        let caller = user.caller();
        let listing = match self
            .manager
            .list(
                &caller,
                PageRequest {
                    limit: PAGE_SIZE,
                    after,
                },
            )
            .await
        {
            Ok(listing) => listing,
            Err(e) => return error_page(chrome, &e, &self.settings),
        };
        let flash = flash.or_else(|| {
            query.first("done").and_then(|done| match done {
                "revoked" => Some(Flash::Notice("Key revoked.")),
                "disabled" => Some(Flash::Notice(
                    "Key disabled: requests with it are refused until you enable it.",
                )),
                "enabled" => Some(Flash::Notice("Key enabled.")),
                _ => None,
            })
        });
        let effective = self.catalog.effective(&user.capabilities);
        let implicit = self.catalog.implicit();
        let defaults = self.catalog.default_set();
        let chosen: Option<Vec<&str>> = refused.map(|form| form.all("capabilities").collect());
        let offered = self
            .catalog
            .iter()
            .filter(|(cap, _)| effective.contains(*cap) && !implicit.contains(*cap))
            .map(|(cap, name)| pages::Offered {
                name,
                ticked: match &chosen {
                    Some(chosen) => chosen.contains(&name),
                    None => defaults.contains(cap),
                },
            })
            .collect();
        let (graces, default_grace) = self.graces();
        let list_page = ListPage {
            keys: &listing.keys,
            next: listing.next.map(|id| id.to_string()),
            paged: after.is_some(),
            owner: &user.owner,
            show_owner: self.manager.is_tenant_admin(&caller),
            graces,
            default_grace,
            flash,
            create: CreateForm {
                offered,
                implicit: self.catalog.names(&implicit),
                name: refused.and_then(|f| f.first("name")).unwrap_or(""),
                expires: refused.and_then(|f| f.first("expires")).unwrap_or("never"),
                honeytoken: refused.is_some_and(|f| f.first("honeytoken").is_some()),
            },
        };
        page(status, pages::list(chrome, &list_page))
    }

    /// `POST /`: mints a key, then sends the browser to its show-once page.
    async fn create(&self, chrome: &Chrome<'_>, user: &Visitor<'_>, form: &Fields) -> HttpResponse {
        let name = form.first("name").unwrap_or("").to_string();
        let expires = form.first("expires").unwrap_or("never");
        let Some((_, _, days)) = EXPIRY_CHOICES
            .into_iter()
            .find(|(value, _, _)| *value == expires)
        else {
            return self
                .refuse_create(
                    chrome,
                    user,
                    form,
                    400,
                    "Choose an expiry from the list.".to_string(),
                )
                .await;
        };
        let request = CreateKey {
            name: name.clone(),
            capabilities: Some(form.all("capabilities").map(str::to_owned).collect()),
            expires_in: days.map(|d| Duration::from_secs(d * 24 * 3600)),
            honeytoken: form.first("honeytoken").is_some(),
        };
        match self.manager.create(&user.caller(), request).await {
            Ok(new) => {
                let shown = ShownKey {
                    key: zeroize::Zeroizing::new(new.key.expose().to_string()),
                    name: new.summary.name,
                    old_expires_at: None,
                };
                self.show_once(chrome, user, shown, new.summary.id).await
            }
            Err(e) => {
                let (status, _, text) = describe(&e);
                if status >= 500 {
                    error_page(chrome, &e, &self.settings)
                } else {
                    self.refuse_create(chrome, user, form, status, text).await
                }
            }
        }
    }

    async fn refuse_create(
        &self,
        chrome: &Chrome<'_>,
        user: &Visitor<'_>,
        form: &Fields,
        status: u16,
        text: String,
    ) -> HttpResponse {
        self.list(
            chrome,
            user,
            &Fields::default(),
            Some(Flash::Error(format!("The key was not created. {text}"))),
            status,
            Some(form),
        )
        .await
    }

    /// `POST /{id}/roll`: rolls a key with the form's grace, then shows the replacement;
    /// `POST /{id}/roll-to-used` (`to_used`) the same, the replacement granted only what
    /// the key's recorded use needs.
    async fn roll(
        &self,
        chrome: &Chrome<'_>,
        user: &Visitor<'_>,
        id: &str,
        form: &Fields,
        to_used: bool,
    ) -> HttpResponse {
        let Some(grace) = form.first("grace").and_then(|g| g.parse::<u64>().ok()) else {
            return page(
                400,
                pages::message(
                    chrome,
                    "Bad request",
                    "The grace period is a number of seconds: choose one from the list.",
                ),
            );
        };
        let grace = Duration::from_secs(grace);
        let rolled = if to_used {
            self.manager.roll_to_used(&user.caller(), id, grace).await
        } else {
            self.manager.roll(&user.caller(), id, grace).await
        };
        match rolled {
            Ok(rolled) => {
                let shown = ShownKey {
                    key: zeroize::Zeroizing::new(rolled.new.key.expose().to_string()),
                    name: rolled.new.summary.name,
                    old_expires_at: rolled.old.expires_at.or(Some(self.clock.now())),
                };
                self.show_once(chrome, user, shown, rolled.new.summary.id)
                    .await
            }
            Err(e) => error_page(chrome, &e, &self.settings),
        }
    }

    /// `GET /{id}/usage`: what the key was granted and used, and a roll to what it
    /// needs when it is the user's own active key.
    async fn usage(&self, chrome: &Chrome<'_>, user: &Visitor<'_>, id: &str) -> HttpResponse {
        let caller = user.caller();
        let (key, usage) = match self.manager.get(&caller, id).await {
            Ok(key) => match self.manager.usage(&caller, id).await {
                Ok(usage) => (key, usage),
                Err(e) => return error_page(chrome, &e, &self.settings),
            },
            Err(e) => return error_page(chrome, &e, &self.settings),
        };
        let (graces, default_grace) = self.graces();
        let page_data = pages::UsagePage {
            key: &key,
            usage: &usage,
            can_roll: pages::status(&key) == "active" && key.owner == user.owner,
            graces: &graces,
            default_grace,
        };
        page(200, pages::usage(chrome, &page_data))
    }

    /// The grace choices up to the configured maximum, and the one preselected: the
    /// longest up to a day.
    fn graces(&self) -> (Vec<(u64, &'static str)>, u64) {
        let graces: Vec<(u64, &'static str)> = GRACE_CHOICES
            .into_iter()
            .filter(|(seconds, _)| Duration::from_secs(*seconds) <= self.settings.max_grace)
            .collect();
        let default_grace = graces
            .iter()
            .map(|(seconds, _)| *seconds)
            .filter(|seconds| *seconds <= 24 * 3600)
            .max()
            .unwrap_or(0);
        (graces, default_grace)
    }

    /// Puts a new key in a slot of this session and redirects to it.
    async fn show_once(
        &self,
        chrome: &Chrome<'_>,
        user: &Visitor<'_>,
        shown: ShownKey,
        id: KeyId,
    ) -> HttpResponse {
        let session = self.session_key.session_binding(&user.session_id);
        match self.slots.put(session, self.clock.now(), shown) {
            Some(slot) => see_other(chrome.url(&format!("/new?slot={slot}"))),
            None => {
                // Nobody can ever see this key: take it back.
                let _ = self.manager.revoke(&user.caller(), id.as_str()).await;
                tracing::error!(key_id = %id, "no random slot id: the new key was revoked");
                page(
                    500,
                    pages::message(
                        chrome,
                        "The key could not be shown",
                        "It was revoked again. Please try once more.",
                    ),
                )
            }
        }
    }

    /// `GET /new?slot=…`: the key, once.
    fn show_new(&self, chrome: &Chrome<'_>, user: &Visitor<'_>, query: &Fields) -> HttpResponse {
        let session = self.session_key.session_binding(&user.session_id);
        let now = self.clock.now();
        let slot = query.first("slot").unwrap_or("");
        match self.slots.take(slot, session, now) {
            Taken::Key(shown) => page(200, pages::new_key(chrome, &shown, now)),
            Taken::AlreadyShown => page(410, pages::key_not_shown(chrome, true)),
            Taken::Missing => page(404, pages::key_not_shown(chrome, false)),
        }
    }

    /// `GET /{id}/revoke`: what is about to be revoked, and a button to do it.
    async fn confirm_revoke(
        &self,
        chrome: &Chrome<'_>,
        user: &Visitor<'_>,
        id: &str,
    ) -> HttpResponse {
        match self.manager.get(&user.caller(), id).await {
            Ok(key) if key.state == KeyState::Revoked => page(
                409,
                pages::message(chrome, "Already revoked", "This key is already revoked."),
            ),
            Ok(key) => page(200, pages::confirm_revoke(chrome, &key)),
            Err(e) => error_page(chrome, &e, &self.settings),
        }
    }

    /// After a revoke, disable or enable: back to the list, which says what was done.
    fn done(
        &self,
        chrome: &Chrome<'_>,
        result: Result<KeySummary, ManageError>,
        what: &str,
    ) -> HttpResponse {
        match result {
            Ok(_) => see_other(chrome.url(&format!("/?done={what}"))),
            Err(e) => error_page(chrome, &e, &self.settings),
        }
    }
}

/// The routes `handle` dispatches are matched exhaustively above; this only keeps the
/// compiler's match total without a panic.
fn unreachable_route(chrome: &Chrome<'_>) -> HttpResponse {
    page(
        404,
        pages::message(chrome, "Page not found", "There is no such page here."),
    )
}

/// A refused or failed management operation as a page with its status.
fn error_page(chrome: &Chrome<'_>, error: &ManageError, settings: &Settings) -> HttpResponse {
    let (status, heading, text) = describe(error);
    let markup = pages::message(chrome, heading, &text);
    match status {
        503 => page_with(
            503,
            markup,
            [("retry-after", settings.retry_after.to_string())],
        ),
        _ => page(status, markup),
    }
}

/// Status, heading and sentence of a management error. Internal failures are logged
/// and described in general terms only.
fn describe(error: &ManageError) -> (u16, &'static str, String) {
    match error {
        ManageError::NotFound => (
            404,
            "Key not found",
            "There is no such key among yours.".to_string(),
        ),
        ManageError::UnknownCapabilities(unknown) => {
            (400, "Unknown capability", sentence(&unknown.to_string()))
        }
        ManageError::InsufficientCapability(denied) => (
            403,
            "Not allowed",
            format!(
                "You do not hold {}, so no key of yours can hold it or be changed while holding it.",
                denied.required.join(", ")
            ),
        ),
        ManageError::InvalidRequest(problem) => {
            (400, "Invalid request", sentence(&problem.to_string()))
        }
        ManageError::InvalidName { problem, .. } => {
            (400, "Invalid name", format!("The name {problem}."))
        }
        ManageError::GraceTooLong { .. } => {
            (400, "Grace period too long", sentence(&error.to_string()))
        }
        ManageError::NotActive(_)
        | ManageError::NotOwner
        | ManageError::AlreadyRolled
        | ManageError::TooManyKeys { .. } => (409, "Not possible", sentence(&error.to_string())),
        ManageError::CallerRolled => (403, "Not allowed", sentence(&error.to_string())),
        ManageError::Store(e) => {
            tracing::warn!(error = %e, "key store unavailable");
            (
                503,
                "Temporarily unavailable",
                "Keys cannot be reached right now. Please try again in a moment.".to_string(),
            )
        }
        other => {
            tracing::error!(error = %other, "key management failed");
            (
                500,
                "Something went wrong",
                "The operation failed. Please try again.".to_string(),
            )
        }
    }
}

/// `text` with a capital first letter and a final full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// The mount as links use it: one leading `/` (a `//host` would leave the site), no
/// trailing `/`, and every byte a path may not hold as it is percent-encoded, so it is
/// a valid header and stays a path: a `\` would make `/\host`, which browsers read as
/// `//host`, and `?` or `#` would end the path.
fn base_path(mount: &str) -> String {
    let trimmed = mount.trim_matches('/');
    let mut base = String::with_capacity(trimmed.len() + 1);
    if !trimmed.is_empty() {
        base.push('/');
    }
    for byte in trimmed.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&byte) {
            base.push(char::from(byte));
        } else {
            base.push_str(&format!("%{byte:02X}"));
        }
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::of(""), Route::List);
        assert_eq!(Route::of("/"), Route::List);
        assert_eq!(Route::of("/new"), Route::New);
        assert_eq!(Route::of("/assets/dashboard.css"), Route::Css);
        assert_eq!(Route::of("/abc/revoke"), Route::Revoke("abc"));
        assert_eq!(Route::of("/abc/roll"), Route::Roll("abc"));
        assert_eq!(Route::of("/abc/usage"), Route::Usage("abc"));
        assert_eq!(Route::of("/abc/roll-to-used"), Route::RollToUsed("abc"));
        assert_eq!(Route::of("//revoke"), Route::Unknown);
        assert_eq!(Route::of("/abc/revoke/x"), Route::Unknown);
        assert_eq!(Route::of("/new/"), Route::Unknown);
    }

    #[test]
    fn base_paths() {
        assert_eq!(base_path("/settings/api-keys"), "/settings/api-keys");
        assert_eq!(base_path("/settings/api-keys/"), "/settings/api-keys");
        assert_eq!(base_path("//evil.example/x"), "/evil.example/x");
        assert_eq!(base_path("/"), "");
        assert_eq!(base_path(""), "");
        assert_eq!(base_path("/a b\r\n"), "/a%20b%0D%0A");
        assert_eq!(base_path("/\\evil.example"), "/%5Cevil.example");
        assert_eq!(base_path("/a?b#c\"<"), "/a%3Fb%23c%22%3C");
        assert_eq!(base_path("/t%C3%A9am/keys"), "/t%C3%A9am/keys");
    }

    #[test]
    fn sentences() {
        assert_eq!(sentence("no such key"), "No such key.");
        assert_eq!(sentence("done."), "Done.");
        assert_eq!(sentence(""), "");
    }
}
