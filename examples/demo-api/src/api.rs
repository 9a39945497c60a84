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

/// The capability each demo route requires, built once from the demo catalog (the
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

impl Requirements {
    fn of(catalog: &Catalog) -> Requirements {
        let all_of = |name: &str| {
            catalog
                .all_of([name])
                .unwrap_or_else(|e| unreachable!("the demo catalog declares {name}: {e}"))
        };
        Requirements {
            desktop_read: all_of("desktop:read"),
            desktop_chat: all_of("desktop:chat"),
            desktop_lifecycle: all_of("desktop:lifecycle"),
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
    requirements: Requirements,
}

impl std::fmt::Debug for DemoApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoApi")
            .field("desktops", &self.desktops)
            .finish_non_exhaustive()
    }
}

impl DemoApi {
    /// The API over `keyward`, whose catalog must be [`keyward_cli::demo_catalog`].
    pub fn new(keyward: Keyward) -> DemoApi {
        let requirements = Requirements::of(keyward.catalog());
        let management = ManagementApi::new(&keyward)
            .unwrap_or_else(|e| unreachable!("the demo catalog declares keys:read/write: {e}"))
            .realm(DEFAULT_REALM);
        DemoApi {
            keyward,
            management,
            desktops: Desktops::default(),
            requirements,
        }
    }

    /// The keyward instance (authenticator, key service).
    pub fn keyward(&self) -> &Keyward {
        &self.keyward
    }

    /// What each demo route requires.
    pub fn requirements(&self) -> &Requirements {
        &self.requirements
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
