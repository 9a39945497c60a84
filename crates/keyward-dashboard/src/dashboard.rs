//! The dashboard: its options and the one entry point every mount calls.

use std::sync::Arc;

use keyward::Keyward;
use keyward::http::HttpResponse;
use keyward::manage::KeyManager;
use keyward::scope::{Catalog, Requirement};
use keyward::store::PageRequest;
use maud::html;
use zeroize::Zeroizing;

use crate::response::{page, see_other};
use crate::{DashboardRequest, SignedInUser};

/// The API-keys settings page, framework-neutral: a mount turns each request into a
/// [`DashboardRequest`] and the host's session into a [`SignedInUser`], calls
/// [`handle`](Dashboard::handle) and copies the answer back. Cheap to clone.
#[derive(Clone)]
pub struct Dashboard {
    manager: KeyManager,
    catalog: Catalog,
    settings: Arc<Settings>,
    csrf_secret: Arc<Zeroizing<[u8; 32]>>,
}

#[derive(Clone)]
struct Settings {
    login_path: String,
    title: String,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("login_path", &self.settings.login_path)
            .field("title", &self.settings.title)
            .finish_non_exhaustive()
    }
}

impl Dashboard {
    /// The dashboard over `keyward`'s keys and catalog, with a random CSRF secret.
    ///
    /// # Panics
    ///
    /// If the operating system's random generator fails (keyward cannot mint keys
    /// without it either).
    pub fn new(keyward: &Keyward) -> Dashboard {
        let mut secret = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut secret[..]).expect("the OS random generator works");
        Dashboard {
            manager: KeyManager::new(keyward),
            catalog: keyward.catalog().clone(),
            settings: Arc::new(Settings {
                login_path: "/login".to_string(),
                title: "API keys".to_string(),
            }),
            csrf_secret: Arc::new(secret),
        }
    }

    /// Users holding `requirement` and bound to a tenant manage every key of it
    /// ([`KeyManager::tenant_admin`]).
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
    /// instances behind one load balancer accept each other's forms.
    #[must_use]
    pub fn csrf_secret(mut self, secret: [u8; 32]) -> Dashboard {
        self.csrf_secret = Arc::new(Zeroizing::new(secret));
        self
    }

    /// Answers one request. `user` is who the host's session says is signed in
    /// (`None`: a 303 to the login path); `mount` the absolute path the dashboard is
    /// mounted at (`/settings/api-keys`), for links and form actions.
    pub async fn handle(
        &self,
        request: DashboardRequest<'_>,
        user: Option<&SignedInUser>,
        mount: &str,
    ) -> HttpResponse {
        let _ = (mount, request);
        let Some(user) = user else {
            return see_other(self.settings.login_path.clone());
        };
        let _ = &self.catalog;
        match self
            .manager
            .list(&user.caller(), PageRequest::first(100))
            .await
        {
            Ok(keys) => page(
                200,
                html! {
                    ul { @for key in &keys.keys { li data-key-id=(key.id.to_string()) { (key.name) } } }
                },
            ),
            Err(e) => page(500, html! { p { (e.to_string()) } }),
        }
    }
}
