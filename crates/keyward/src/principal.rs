use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_scope::CapabilitySet;
use keyward_store::{KeyRecord, RateLimitOverride, Tenant};

/// Who is calling: the authenticated key, handed to the handler.
///
/// Cheap to clone (one reference count). Holds no secret and no hash.
#[derive(Clone)]
pub struct Principal {
    key: Arc<KeyInfo>,
    capabilities: CapabilitySet,
}

/// What a principal knows about its key: the record without its hash.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct KeyInfo {
    pub(crate) id: KeyId,
    pub(crate) name: String,
    pub(crate) owner: String,
    pub(crate) tenant: Option<Tenant>,
    pub(crate) granted: Vec<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) created_at: Timestamp,
    pub(crate) expires_at: Option<Timestamp>,
    pub(crate) rate_limit: Option<RateLimitOverride>,
}

impl KeyInfo {
    pub(crate) fn from_record(record: &KeyRecord) -> Self {
        KeyInfo {
            id: record.id,
            name: record.name.clone(),
            owner: record.owner.clone(),
            tenant: record.tenant.clone(),
            granted: record.capabilities.clone(),
            metadata: record.metadata.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            rate_limit: record.rate_limit,
        }
    }
}

impl Principal {
    pub(crate) fn new(key: Arc<KeyInfo>, capabilities: CapabilitySet) -> Self {
        Principal { key, capabilities }
    }

    /// The key's public id.
    pub fn key_id(&self) -> KeyId {
        self.key.id
    }

    /// The key's name ("Production CI").
    pub fn name(&self) -> &str {
        &self.key.name
    }

    /// The user or service account the key acts for.
    pub fn owner(&self) -> &str {
        &self.key.owner
    }

    /// The (team, project) the key is bound to.
    pub fn tenant(&self) -> Option<&Tenant> {
        self.key.tenant.as_ref()
    }

    /// The capabilities the key may use now: its grants, what they imply and the
    /// implicit grants, narrowed to what its owner holds when owner permissions are
    /// configured.
    pub fn capabilities(&self) -> &CapabilitySet {
        &self.capabilities
    }

    /// The capability names granted at mint time, sorted (what `/v1/me` shows).
    pub fn granted(&self) -> &[String] {
        &self.key.granted
    }

    /// The key's metadata.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.key.metadata
    }

    /// When the key was minted.
    pub fn created_at(&self) -> Timestamp {
        self.key.created_at
    }

    /// When the key expires, if ever.
    pub fn expires_at(&self) -> Option<Timestamp> {
        self.key.expires_at
    }

    /// The key's own rate limit, when it overrides the default.
    pub fn rate_limit(&self) -> Option<RateLimitOverride> {
        self.key.rate_limit
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("key_id", &self.key.id)
            .field("name", &self.key.name)
            .field("owner", &self.key.owner)
            .field("tenant", &self.key.tenant)
            .field("granted", &self.key.granted)
            .finish_non_exhaustive()
    }
}
