//! Which keys a caller sees: one rule for single keys and for listings, so the two
//! never disagree.

use keyward_store::{ListFilter, Tenant};

use crate::KeySummary;

/// The keys a caller may see (and, capabilities permitting, change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Visibility<'a> {
    /// A tenant admin bound to this tenant: every key of the tenant, whoever owns it.
    Tenant(&'a Tenant),
    /// Any other caller: its owner's keys, only those of its tenant when it is bound
    /// to one.
    Owner {
        owner: &'a str,
        tenant: Option<&'a Tenant>,
    },
}

impl Visibility<'_> {
    /// Whether `key` is one the caller sees.
    pub(super) fn sees(&self, key: &KeySummary) -> bool {
        match *self {
            Visibility::Tenant(tenant) => key.tenant.as_ref() == Some(tenant),
            Visibility::Owner { owner, tenant } => {
                key.owner == owner && tenant.is_none_or(|t| key.tenant.as_ref() == Some(t))
            }
        }
    }

    /// The listing of exactly the keys [`sees`](Self::sees) accepts, revoked included.
    pub(super) fn filter(&self) -> ListFilter {
        match *self {
            Visibility::Tenant(tenant) => ListFilter::tenant(tenant.clone()),
            Visibility::Owner { owner, tenant } => ListFilter {
                owner: Some(owner.to_owned()),
                tenant: tenant.cloned(),
                include_revoked: true,
            },
        }
    }
}
