//! Who the host application says is signed in.

use std::fmt;

use keyward::manage::Caller;
use keyward::scope::CapabilitySet;
use keyward::store::Tenant;

/// The signed-in user of a request, as the host application knows it from its own
/// session (a cookie): the dashboard never reads API keys.
///
/// `session_id` identifies the host's session: CSRF tokens and show-once slots are bound
/// to it, so it must differ between sessions and stay secret (the session cookie's value,
/// or a server-side session id); an empty one counts as signed out. `owner` is the id
/// the user's keys are minted for; `capabilities` what the user may grant (a key never
/// holds more).
#[derive(Clone)]
pub struct SignedInUser {
    /// The host's session identifier.
    pub session_id: String,
    /// The owner id the user's keys belong to.
    pub owner: String,
    /// The tenant the user acts in, if the host has tenants.
    pub tenant: Option<Tenant>,
    /// What the user holds, and so may grant.
    pub capabilities: CapabilitySet,
}

impl SignedInUser {
    /// A user bound to no tenant.
    pub fn new(
        session_id: impl Into<String>,
        owner: impl Into<String>,
        capabilities: CapabilitySet,
    ) -> SignedInUser {
        SignedInUser {
            session_id: session_id.into(),
            owner: owner.into(),
            tenant: None,
            capabilities,
        }
    }

    /// The same user acting in `tenant`.
    #[must_use]
    pub fn in_tenant(mut self, tenant: Tenant) -> SignedInUser {
        self.tenant = Some(tenant);
        self
    }

    /// The caller key management runs every operation for.
    pub fn caller(&self) -> Caller {
        Caller::user(self.owner.clone(), self.tenant.clone(), self.capabilities)
    }
}

/// Leaves the session id out: it may be the session cookie itself.
impl fmt::Debug for SignedInUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedInUser")
            .field("session_id", &"<redacted>")
            .field("owner", &self.owner)
            .field("tenant", &self.tenant)
            .field("capabilities", &self.capabilities)
            .finish()
    }
}
