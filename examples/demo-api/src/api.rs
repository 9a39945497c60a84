//! [`DemoApi`]: the demo API's routes (the table in the example servers' READMEs),
//! framework-neutral.

use keyward::http::management::ManagementApi;
use keyward::http::{DEFAULT_REALM, HttpResponse};
use keyward::scope::{Catalog, Requirement};
use keyward::{Keyward, Principal};
use serde::Serialize;
use serde_json::json;

use crate::directory::{self, DesktopAction, Desktops};
use crate::reply;

/// The body of `GET /v1/me`, borrowed from the principal: the route every client calls
/// first builds no intermediate JSON tree.
#[derive(Serialize)]
struct Me<'a> {
    user_id: &'a str,
    email: Option<&'a str>,
    role: Option<&'a str>,
    tier: Option<&'a str>,
    key: MeKey<'a>,
}

#[derive(Serialize)]
struct MeKey<'a> {
    id: &'a str,
    name: &'a str,
    capabilities: &'a [String],
}

/// The capability each demo route requires, built once from the catalog (the
/// key-management routes' are [`DemoApi::management`]'s).
#[derive(Debug, Clone)]
pub struct Requirements {
    /// `GET /v1/desktops`: `desktop:read`.
    pub desktop_read: Requirement,
    /// `POST /v1/desktops/{id}/chat`: `desktop:chat`.
    pub desktop_chat: Requirement,
    /// `POST /v1/desktops/{id}/start|stop`: `desktop:lifecycle`.
    pub desktop_lifecycle: Requirement,
}

/// The capabilities the desktop routes require.
pub const DESKTOP_CAPABILITIES: [&str; 3] = ["desktop:read", "desktop:chat", "desktop:lifecycle"];

impl Requirements {
    /// The desktop routes' requirements, or the capabilities `catalog` lacks for them:
    /// a catalog of its own (from `keyward.toml`) need not declare the demo's.
    fn of(catalog: &Catalog) -> Result<Requirements, Vec<String>> {
        let [read, chat, lifecycle] =
            DESKTOP_CAPABILITIES.map(|name| catalog.all_of([name]).map_err(|_| name));
        match (read, chat, lifecycle) {
            (Ok(desktop_read), Ok(desktop_chat), Ok(desktop_lifecycle)) => Ok(Requirements {
                desktop_read,
                desktop_chat,
                desktop_lifecycle,
            }),
            (read, chat, lifecycle) => Err([read.err(), chat.err(), lifecycle.err()]
                .into_iter()
                .flatten()
                .map(str::to_owned)
                .collect()),
        }
    }
}

/// The demo API: every handler takes the caller's [`Principal`] (the adapter has
/// authenticated the request and checked the route's [`Requirements`]) and returns an
/// [`HttpResponse`] the adapter copies into its framework's response. The
/// key-management routes are keyward's own ([`DemoApi::management`]).
pub struct DemoApi {
    keyward: Keyward,
    management: ManagementApi,
    desktops: Desktops,
    requirements: Result<Requirements, Vec<String>>,
}

impl std::fmt::Debug for DemoApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoApi")
            .field("desktops", &self.desktops)
            .finish_non_exhaustive()
    }
}

impl DemoApi {
    /// The API over `keyward`, with `management` (over the same instance) answering the
    /// key-management routes. The desktop routes are served only when the catalog
    /// declares their capabilities ([`DESKTOP_CAPABILITIES`]).
    pub fn new(keyward: Keyward, management: ManagementApi) -> DemoApi {
        let requirements = Requirements::of(keyward.catalog());
        DemoApi {
            keyward,
            management: management.realm(DEFAULT_REALM),
            desktops: Desktops::default(),
            requirements,
        }
    }

    /// The keyward instance (authenticator, key service).
    pub fn keyward(&self) -> &Keyward {
        &self.keyward
    }

    /// What each desktop route requires; `None` when the catalog lacks one of
    /// [`DESKTOP_CAPABILITIES`], and the adapters then leave those routes out (404).
    pub fn requirements(&self) -> Option<&Requirements> {
        self.requirements.as_ref().ok()
    }

    /// The desktop capabilities the catalog lacks (empty when the routes are served).
    pub fn missing_desktop_capabilities(&self) -> &[String] {
        self.requirements.as_ref().err().map_or(&[], Vec::as_slice)
    }

    /// The key-management routes (`/v1/api_keys…`): reads need `keys:read`, writes
    /// `keys:write`; the adapters mount keyward's router for them at `/v1`.
    pub fn management(&self) -> &ManagementApi {
        &self.management
    }

    /// The realm of every challenge.
    pub fn realm(&self) -> &'static str {
        DEFAULT_REALM
    }

    /// `GET /healthz`: no authentication, for load balancers (and the `wrk` baseline).
    pub fn health(&self) -> HttpResponse {
        reply::json(200, &json!({"status": "ok"}))
    }

    /// `GET /v1/me`: the user the key acts for and the key itself.
    pub fn me(&self, principal: &Principal) -> HttpResponse {
        let user = directory::user(principal.owner());
        let id = principal.key_id();
        reply::json(
            200,
            &Me {
                user_id: principal.owner(),
                email: user.map(|u| u.email),
                role: user.map(|u| u.role),
                tier: user.map(|u| u.tier),
                key: MeKey {
                    id: id.as_str(),
                    name: principal.name(),
                    capabilities: principal.granted(),
                },
            },
        )
    }

    /// `GET /v1/desktops`.
    pub fn desktops(&self, _principal: &Principal) -> HttpResponse {
        reply::json(200, &json!(self.desktops.list()))
    }

    /// `POST /v1/desktops/{id}/chat|start|stop`: 202, or 404 for an unknown desktop.
    pub fn desktop_action(
        &self,
        _principal: &Principal,
        id: &str,
        action: DesktopAction,
    ) -> HttpResponse {
        match self.desktops.act(id, action) {
            Some(desktop) => reply::json(
                202,
                &json!({"desktop": desktop, "action": action.as_str(), "status": "accepted"}),
            ),
            None => reply::error(404, "not_found", "no such desktop"),
        }
    }
}
