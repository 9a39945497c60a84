use async_trait::async_trait;
use keyward_scope::CapabilitySet;

/// What a key's owner may do now, supplied by the service.
///
/// A key may grant no more than its owner may do now: the permissions of the owner's
/// session, or the role of the member who created it. With this trait configured a key's
/// effective capabilities are its own intersected with its owner's, so demoting an owner
/// narrows every key they hold without a re-mint.
///
/// The answer is cached with the key and re-read when the cache entry is refreshed;
/// call [`crate::Authenticator::owner_changed`] after changing an owner's role for the
/// change to apply at once.
///
/// ```
/// use keyward::{OwnerPermissions, OwnerLookupError};
/// use keyward_scope::{CapabilitySet, Catalog};
///
/// struct Roles { catalog: Catalog }
///
/// #[async_trait::async_trait]
/// impl OwnerPermissions for Roles {
///     async fn capabilities(&self, owner: &str) -> Result<CapabilitySet, OwnerLookupError> {
///         // Look the owner's role up in your user database.
///         let names: &[&str] = if owner == "u_1" { &["jobs:write"] } else { &["jobs:read"] };
///         self.catalog.set(names).map_err(OwnerLookupError::new)
///     }
/// }
/// ```
#[async_trait]
pub trait OwnerPermissions: Send + Sync + 'static {
    /// The capabilities `owner` holds now; the empty set for an owner who no longer
    /// exists.
    async fn capabilities(&self, owner: &str) -> Result<CapabilitySet, OwnerLookupError>;
}

/// The owner lookup failed; authentication answers 503 `auth_unavailable`.
#[derive(Debug, thiserror::Error)]
#[error("owner permission lookup failed: {0}")]
pub struct OwnerLookupError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl OwnerLookupError {
    /// Wraps any error.
    pub fn new(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        OwnerLookupError(e.into())
    }
}
