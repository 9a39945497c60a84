use std::time::Duration;

use keyward_scope::Requirement;
use keyward_store::PageRequest;

use super::{Caller, ManageError};
use crate::{KeyPage, KeyService, KeySummary, Keyward, NewKey, RolledKey};

/// What a caller asks to mint: a name, and optionally capabilities and an expiry. The
/// owner and tenant are the caller's.
///
/// ```
/// use std::time::Duration;
/// use keyward::manage::CreateKey;
///
/// let request = CreateKey::new("Production CI")
///     .capabilities(["jobs:read"])
///     .expires_in(Duration::from_secs(90 * 24 * 3600));
/// # let _ = request;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct CreateKey {
    /// A human name ("Production CI").
    pub name: String,
    /// Capability names; `None` gives the catalog's default set.
    pub capabilities: Option<Vec<String>>,
    /// An expiry relative to the mint.
    pub expires_in: Option<Duration>,
}

impl CreateKey {
    /// A key named `name` with the catalog's default capabilities and no expiry.
    pub fn new(name: impl Into<String>) -> Self {
        CreateKey {
            name: name.into(),
            ..CreateKey::default()
        }
    }

    /// Grants these capabilities instead of the default set.
    pub fn capabilities<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.capabilities = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Expires the key `after` the mint.
    pub fn expires_in(mut self, after: Duration) -> Self {
        self.expires_in = Some(after);
        self
    }
}

/// Caller-scoped key management: every operation of [`KeyService`], for a [`Caller`],
/// under the rules of [`crate::manage`]. Cheap to clone.
#[derive(Clone)]
pub struct KeyManager {
    keys: KeyService,
    tenant_admin: Option<Requirement>,
}

impl std::fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyManager")
            .field("tenant_admin", &self.tenant_admin.is_some())
            .finish_non_exhaustive()
    }
}

impl KeyManager {
    /// Management over `keyward`'s keys, with no tenant admins.
    pub fn new(keyward: &Keyward) -> KeyManager {
        KeyManager {
            keys: keyward.keys(),
            tenant_admin: None,
        }
    }

    /// A caller holding `requirement` and bound to a tenant manages every key of that
    /// tenant, not only its owner's (the no-escalation rules still apply).
    #[must_use]
    pub fn tenant_admin(mut self, requirement: Requirement) -> KeyManager {
        self.tenant_admin = Some(requirement);
        self
    }

    /// Whether `caller` manages its whole tenant.
    pub fn is_tenant_admin(&self, caller: &Caller) -> bool {
        let _ = caller;
        todo!()
    }

    /// A page of the keys `caller` sees, oldest first, revoked ones included.
    pub async fn list(&self, caller: &Caller, page: PageRequest) -> Result<KeyPage, ManageError> {
        let _ = (caller, page);
        todo!()
    }

    /// One key `caller` sees. `id` is as the client sent it: a malformed id is
    /// [`ManageError::NotFound`].
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<KeySummary, ManageError> {
        let _ = (caller, id);
        todo!()
    }

    /// Mints a key for the caller's owner and tenant.
    pub async fn create(&self, caller: &Caller, request: CreateKey) -> Result<NewKey, ManageError> {
        let _ = (caller, request);
        todo!()
    }

    /// Revokes a key: it stays listed, as revoked.
    pub async fn revoke(&self, caller: &Caller, id: &str) -> Result<KeySummary, ManageError> {
        let _ = (caller, id);
        todo!()
    }

    /// Deletes a key's record for good.
    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<(), ManageError> {
        let _ = (caller, id);
        todo!()
    }

    /// Disables a key until it is enabled.
    pub async fn disable(&self, caller: &Caller, id: &str) -> Result<KeySummary, ManageError> {
        let _ = (caller, id);
        todo!()
    }

    /// Enables a disabled key (a revoked key stays revoked).
    pub async fn enable(&self, caller: &Caller, id: &str) -> Result<KeySummary, ManageError> {
        let _ = (caller, id);
        todo!()
    }

    /// Rolls a key: a replacement with the same capabilities and expiry, while the old
    /// key works for `grace`.
    pub async fn roll(
        &self,
        caller: &Caller,
        id: &str,
        grace: Duration,
    ) -> Result<RolledKey, ManageError> {
        let _ = (caller, id, grace);
        todo!()
    }
}
