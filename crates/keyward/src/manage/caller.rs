use std::net::IpAddr;

use keyward_format::KeyId;
use keyward_scope::CapabilitySet;
pub use keyward_store::Actor;
use keyward_store::Tenant;

use crate::Principal;

/// Who acts: an owner, the tenant it is bound to, and the capabilities it holds.
///
/// From an API key with [`Caller::from_principal`]; from the host application's
/// signed-in user with [`Caller::user`].
#[derive(Debug, Clone)]
pub struct Caller {
    pub(crate) owner: String,
    pub(crate) tenant: Option<Tenant>,
    pub(crate) capabilities: CapabilitySet,
    pub(crate) actor: Actor,
    /// Set when the calling key was rolled: it manages no keys during its grace.
    pub(crate) replaced_by: Option<KeyId>,
    /// Where the request came from, for the audit log.
    pub(crate) client_ip: Option<IpAddr>,
}

impl Caller {
    /// The caller an authenticated API key is: its owner, tenant and effective
    /// capabilities.
    pub fn from_principal(principal: &Principal) -> Caller {
        Caller {
            owner: principal.owner().to_owned(),
            tenant: principal.tenant().cloned(),
            capabilities: *principal.capabilities(),
            actor: Actor::Key(principal.key_id()),
            replaced_by: principal.replaced_by(),
            client_ip: None,
        }
    }

    /// A signed-in user of the host application: `owner` is the id its keys are minted
    /// for, `capabilities` what the user may grant (a key never holds more).
    pub fn user(
        owner: impl Into<String>,
        tenant: Option<Tenant>,
        capabilities: CapabilitySet,
    ) -> Caller {
        let owner = owner.into();
        Caller {
            actor: Actor::User(owner.clone()),
            owner,
            tenant,
            capabilities,
            replaced_by: None,
            client_ip: None,
        }
    }

    /// The same caller, its actions audited as coming from `ip` (the client address
    /// the request came from, as the gate resolved it).
    pub fn with_client_ip(mut self, ip: IpAddr) -> Caller {
        self.client_ip = Some(ip);
        self
    }

    /// The client address the caller's actions are audited with, if known.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }

    /// For a caller that is a rolled key, its replacement: such a caller manages no keys.
    pub fn replaced_by(&self) -> Option<KeyId> {
        self.replaced_by
    }

    /// The owner the caller's keys belong to.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The tenant the caller is bound to.
    pub fn tenant(&self) -> Option<&Tenant> {
        self.tenant.as_ref()
    }

    /// The capabilities the caller holds.
    pub fn capabilities(&self) -> &CapabilitySet {
        &self.capabilities
    }

    /// Who acts.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}
