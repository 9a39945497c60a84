use std::time::Duration;

use keyward_format::KeyId;
use keyward_scope::Requirement;
use keyward_store::{AuditQuery, PageRequest};

use super::visibility::Visibility;
use super::{Caller, ManageError};
use crate::error::{RequestProblem, ServiceError};
use crate::service::Acting;
use crate::{
    AuditPage, KeyPage, KeyService, KeySummary, KeyUsage, Keyward, MintRequest, NewKey, RolledKey,
};

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
    /// A decoy key ([`crate::MintRequest::honeytoken`]).
    pub honeytoken: bool,
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

    /// Makes the key a honeytoken ([`crate::MintRequest::honeytoken`]).
    pub fn honeytoken(mut self) -> Self {
        self.honeytoken = true;
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
    /// tenant, not only its owner's (the no-escalation rules still apply, and it rolls
    /// only its owner's keys: see [`roll`](Self::roll)).
    #[must_use]
    pub fn tenant_admin(mut self, requirement: Requirement) -> KeyManager {
        self.tenant_admin = Some(requirement);
        self
    }

    /// Whether `caller` manages its whole tenant: it is bound to a tenant and its
    /// capabilities (after implications) meet the [`tenant_admin`](Self::tenant_admin)
    /// requirement. A caller holding it but bound to no tenant is an ordinary caller.
    pub fn is_tenant_admin(&self, caller: &Caller) -> bool {
        caller.tenant.is_some()
            && self.tenant_admin.as_ref().is_some_and(|requirement| {
                requirement.is_met_by(&self.keys.catalog().effective(&caller.capabilities))
            })
    }

    /// A page of the keys `caller` sees, oldest first, revoked ones included.
    ///
    /// A cursor (`page.after`) naming a key the caller does not see is refused exactly
    /// as one naming no key, so a listing cannot tell whether another owner's id exists.
    pub async fn list(&self, caller: &Caller, page: PageRequest) -> Result<KeyPage, ManageError> {
        not_rolled(caller)?;
        page.validate().map_err(ServiceError::from)?;
        let visibility = self.visibility(caller);
        if let Some(after) = &page.after {
            match self.keys.get(after).await {
                Ok(key) if visibility.sees(&key) => {}
                Ok(_) | Err(ServiceError::NotFound) => {
                    return Err(ManageError::InvalidRequest(RequestProblem::Store(format!(
                        "page cursor {after} names no key"
                    ))));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.keys.list(&visibility.filter(), page).await?)
    }

    /// One key `caller` sees. `id` is as the client sent it: a malformed id is
    /// [`ManageError::NotFound`].
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<KeySummary, ManageError> {
        not_rolled(caller)?;
        let id = KeyId::parse(id).map_err(|_| ManageError::NotFound)?;
        let key = self.keys.get(&id).await?;
        if self.visibility(caller).sees(&key) {
            Ok(key)
        } else {
            Err(ManageError::NotFound)
        }
    }

    /// A page of the audit trail of one key `caller` sees (the key as the target or as
    /// the replacement of a roll), oldest first: at most `limit` entries after the
    /// sequence number `after`. Another owner's key, an unknown and a malformed id
    /// are all [`ManageError::NotFound`], as for [`get`](Self::get); so is a deleted
    /// key, whose trail stays in the log.
    pub async fn events(
        &self,
        caller: &Caller,
        id: &str,
        after: Option<u64>,
        limit: u32,
    ) -> Result<AuditPage, ManageError> {
        let key = self.get(caller, id).await?;
        let query = AuditQuery {
            after_seq: after,
            ..AuditQuery::key(key.id, limit)
        };
        Ok(self.keys.audit(&query).await?)
    }

    /// Mints a key for the caller's owner and tenant.
    ///
    /// Unknown capability names are refused first, all of them listed; then any
    /// capability the caller does not hold (the catalog's default set when none are
    /// named), so a key never holds more than the caller who minted it.
    pub async fn create(&self, caller: &Caller, request: CreateKey) -> Result<NewKey, ManageError> {
        not_rolled(caller)?;
        let catalog = self.keys.catalog();
        let requested = match &request.capabilities {
            Some(names) => catalog
                .set(names)
                .map_err(ManageError::UnknownCapabilities)?,
            None => catalog.default_set(),
        };
        catalog
            .check_grant(&requested, &caller.capabilities)
            .map_err(ManageError::InsufficientCapability)?;
        let mint = MintRequest {
            name: request.name,
            owner: caller.owner.clone(),
            tenant: caller.tenant.clone(),
            capabilities: request.capabilities,
            expires_in: request.expires_in,
            honeytoken: request.honeytoken,
            ..MintRequest::default()
        };
        Ok(self.keys.mint_by(mint, Acting::caller(caller)).await?)
    }

    /// Revokes a key: it stays listed, as revoked.
    pub async fn revoke(&self, caller: &Caller, id: &str) -> Result<KeySummary, ManageError> {
        let id = self.changeable(caller, id).await?;
        Ok(self.keys.revoke_by(&id, Acting::caller(caller)).await?)
    }

    /// Deletes a key's record for good.
    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<(), ManageError> {
        let id = self.changeable(caller, id).await?;
        self.keys.delete_by(&id, Acting::caller(caller)).await?;
        Ok(())
    }

    /// Disables a key until it is enabled.
    pub async fn disable(&self, caller: &Caller, id: &str) -> Result<KeySummary, ManageError> {
        let id = self.changeable(caller, id).await?;
        Ok(self.keys.disable_by(&id, Acting::caller(caller)).await?)
    }

    /// Enables a disabled key (a revoked key stays revoked).
    pub async fn enable(&self, caller: &Caller, id: &str) -> Result<KeySummary, ManageError> {
        let id = self.changeable(caller, id).await?;
        Ok(self.keys.enable_by(&id, Acting::caller(caller)).await?)
    }

    /// Rolls a key: a replacement with the same capabilities and expiry, while the old
    /// key works for `grace`.
    ///
    /// Only the caller's own owner's keys roll: the caller gets the replacement's
    /// plaintext, which acts for the key's owner, so a tenant admin rolling a member's
    /// key would hold a key acting as that member ([`ManageError::NotOwner`]; it may
    /// revoke or disable the key instead). A key granted a name the catalog does not
    /// declare does not roll either ([`ManageError::InsufficientCapability`] naming it).
    pub async fn roll(
        &self,
        caller: &Caller,
        id: &str,
        grace: Duration,
    ) -> Result<RolledKey, ManageError> {
        let key = self.get(caller, id).await?;
        self.keys.check_change(&caller.capabilities, &key)?;
        if key.owner != caller.owner {
            return Err(ManageError::NotOwner);
        }
        self.keys
            .check_undeclared(&caller.capabilities, &key.capabilities)?;
        Ok(self
            .keys
            .roll_by(&key.id, grace, Acting::caller(caller))
            .await?)
    }

    /// What one key `caller` sees was granted and used, and the grants its use
    /// suggests ([`KeyService::usage`]); not found as for [`get`](Self::get).
    pub async fn usage(&self, caller: &Caller, id: &str) -> Result<KeyUsage, ManageError> {
        let key = self.get(caller, id).await?;
        Ok(self.keys.usage(&key.id).await?)
    }

    /// [`roll`](Self::roll), the replacement granted only what the key's recorded use
    /// suggests ([`KeyService::roll_to_used`]), under the same rules.
    pub async fn roll_to_used(
        &self,
        caller: &Caller,
        id: &str,
        grace: Duration,
    ) -> Result<RolledKey, ManageError> {
        let key = self.get(caller, id).await?;
        self.keys.check_change(&caller.capabilities, &key)?;
        if key.owner != caller.owner {
            return Err(ManageError::NotOwner);
        }
        Ok(self
            .keys
            .roll_to_used_by(&key.id, grace, Acting::caller(caller))
            .await?)
    }

    fn visibility<'c>(&self, caller: &'c Caller) -> Visibility<'c> {
        match &caller.tenant {
            Some(tenant) if self.is_tenant_admin(caller) => Visibility::Tenant(tenant),
            tenant => Visibility::Owner {
                owner: &caller.owner,
                tenant: tenant.as_ref(),
            },
        }
    }

    /// The id of a key `caller` sees and holds every capability of.
    async fn changeable(&self, caller: &Caller, id: &str) -> Result<KeyId, ManageError> {
        let key = self.get(caller, id).await?;
        self.keys.check_change(&caller.capabilities, &key)?;
        Ok(key.id)
    }
}

/// A rolled key manages nothing during its grace ([`ManageError::CallerRolled`]): rolling
/// is how an owner contains a leaked key, and the old key must not outlive that by
/// minting a permanent key or revoking its replacement. Every operation goes through
/// [`KeyManager::list`], [`KeyManager::get`] or [`KeyManager::create`], which check this.
fn not_rolled(caller: &Caller) -> Result<(), ManageError> {
    match caller.replaced_by {
        Some(_) => Err(ManageError::CallerRolled),
        None => Ok(()),
    }
}
