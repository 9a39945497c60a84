use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use keyward_clock::Timestamp;
use keyward_format::{KeyId, MaskedKey};

/// Where a key belongs: a team and a project within it (every key targets exactly one
/// project).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Tenant {
    /// The team (organisation, workspace, account).
    pub team: String,
    /// The project within the team.
    pub project: String,
}

impl Tenant {
    /// A tenant from a team and a project.
    pub fn new(team: impl Into<String>, project: impl Into<String>) -> Self {
        Tenant {
            team: team.into(),
            project: project.into(),
        }
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.team, self.project)
    }
}

/// A per-key rate limit that replaces the deployment's default for this key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RateLimitOverride {
    /// Requests allowed per period (also the burst).
    pub limit: u32,
    /// The period.
    pub period: Duration,
}

/// Everything stored about one key. Never the plaintext: only its slow hash.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KeyRecord {
    /// The public key id (the lookup key).
    pub id: KeyId,
    /// The key format's prefix (`sk_live_`), kept for masked previews.
    pub prefix: String,
    /// The last four characters of the key, kept for masked previews.
    pub last4: String,
    /// A human name ("Production CI").
    pub name: String,
    /// Who the key acts for: a user or service account id.
    pub owner: String,
    /// The (team, project) the key is bound to, if any.
    pub tenant: Option<Tenant>,
    /// Granted capability names, sorted.
    pub capabilities: Vec<String>,
    /// When the key was minted.
    pub created_at: Timestamp,
    /// When the key stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When the key last authenticated successfully (flushed in batches).
    pub last_used_at: Option<Timestamp>,
    /// When the key was revoked; revocation is permanent.
    pub revoked_at: Option<Timestamp>,
    /// When the key was disabled; unlike revocation this can be undone.
    pub disabled_at: Option<Timestamp>,
    /// The key that replaced this one in a roll. Set once: a rolled key works only
    /// until the roll's grace ends and is never rolled again.
    pub replaced_by: Option<KeyId>,
    /// The slow hash of the secret: a self-describing PHC or modular-crypt string.
    pub hash: String,
    /// Free-form metadata handed to the handler with the principal.
    pub metadata: BTreeMap<String, String>,
    /// A per-key rate limit replacing the default.
    pub rate_limit: Option<RateLimitOverride>,
    /// Networks the key may be used from; empty means anywhere.
    pub ip_allowlist: Vec<ipnet::IpNet>,
    /// A decoy: planted where a leak would be found, never handed to a client. It
    /// authenticates nothing; presenting it raises an alert.
    #[cfg_attr(feature = "serde", serde(default))]
    pub honeytoken: bool,
    /// The capability names observed in use, sorted: a union that only grows
    /// (see [`KeyStore::record_usage`](crate::KeyStore::record_usage)).
    #[cfg_attr(feature = "serde", serde(default))]
    pub used_capabilities: Vec<String>,
    /// Since when `used_capabilities` is recorded: the mint time for keys minted
    /// with usage tracking, else the first recorded use; `None` until then.
    #[cfg_attr(feature = "serde", serde(default))]
    pub usage_since: Option<Timestamp>,
}

/// Whether a key works, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum KeyState {
    /// The key authenticates.
    Active,
    /// Revoked: permanent.
    Revoked,
    /// Disabled: reversible.
    Disabled,
    /// Past its `expires_at`.
    Expired,
}

impl KeyState {
    /// Lower-case name for listings: `active`, `revoked`, `disabled`, `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Revoked => "revoked",
            KeyState::Disabled => "disabled",
            KeyState::Expired => "expired",
        }
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl KeyRecord {
    /// The key's state at `now`. Revocation wins over disabling, which wins over expiry.
    pub fn state(&self, now: Timestamp) -> KeyState {
        if self.revoked_at.is_some() {
            KeyState::Revoked
        } else if self.disabled_at.is_some() {
            KeyState::Disabled
        } else if self.expires_at.is_some_and(|at| at <= now) {
            KeyState::Expired
        } else {
            KeyState::Active
        }
    }

    /// Whether the key counts as live at `now`: not revoked and not expired. A disabled
    /// key is live (it can be enabled again), and so is a rolled key in its grace.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }

    /// The masked preview: `key_prefix` (prefix + first 4 of the id) and `last4`.
    pub fn masked(&self) -> MaskedKey {
        let id = self.id.as_str();
        MaskedKey {
            key_prefix: format!("{}{}", self.prefix, &id[..4]),
            last4: self.last4.clone(),
        }
    }
}

/// The hash is left out: it is not a secret, but it has no business in logs.
impl fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRecord")
            .field("id", &self.id)
            .field("masked", &self.masked())
            .field("name", &self.name)
            .field("owner", &self.owner)
            .field("tenant", &self.tenant)
            .field("capabilities", &self.capabilities)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("last_used_at", &self.last_used_at)
            .field("revoked_at", &self.revoked_at)
            .field("disabled_at", &self.disabled_at)
            .field("replaced_by", &self.replaced_by)
            .field("hash", &"[redacted]")
            .field("metadata", &self.metadata)
            .field("rate_limit", &self.rate_limit)
            .field("ip_allowlist", &self.ip_allowlist)
            .field("honeytoken", &self.honeytoken)
            .field("used_capabilities", &self.used_capabilities)
            .field("usage_since", &self.usage_since)
            .finish()
    }
}
