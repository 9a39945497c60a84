use std::fmt;

use keyward_format::KeyId;
use keyward_scope::CapabilitySet;
use keyward_store::Tenant;

use crate::Principal;

/// Who acts in a management operation, for logs and (later) the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Actor {
    /// An API key, by id.
    Key(KeyId),
    /// A signed-in user of the host application, by its id.
    User(String),
}

/// `key:<id>` or `user:<id>`, as change events log it; a user id's control characters
/// are escaped, so it cannot forge a log line.
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Key(id) => write!(f, "key:{id}"),
            Actor::User(id) => write!(f, "user:{}", id.escape_debug()),
        }
    }
}

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
        }
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
