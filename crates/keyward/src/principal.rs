use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_limit::{BudgetDecision, Decision, Quota};
use keyward_scope::{CapabilitySet, Denied, Requirement};
use keyward_store::{KeyRecord, RateLimitOverride, Tenant};

use crate::digest::Digest;
use crate::used_capabilities::{FlushedCapabilities, UsedCapabilities};

/// Who is calling: the authenticated key, handed to the handler.
///
/// Cheap to clone (one reference count). Exposes no secret and no hash.
#[derive(Clone)]
pub struct Principal {
    key: Arc<KeyInfo>,
    rate_limit: Option<BudgetDecision>,
}

/// Everything known about one verified key: the verification cache's entry, shared
/// with every principal handed out for it.
///
/// `repr(C)` with the fields a request reads first (digest, capabilities, expiry, load
/// time, id, state flags, last use, quota): at a million cached keys each cache line
/// touched is a memory miss, and these ~140 bytes start next to the `Arc`'s counters,
/// which handing out a principal bumps. The authenticator touches them all before
/// hashing the presented secret, so the misses overlap the hashing.
#[repr(C)]
pub(crate) struct KeyInfo {
    /// The keyed digest of the verified secret.
    pub(crate) digest: Digest,
    pub(crate) capabilities: CapabilitySet,
    /// Expiry in nanoseconds since the epoch; `u64::MAX` for never.
    pub(crate) expires_at_nanos: u64,
    /// When the record was last read from the store (nanos); 0 forces a refresh.
    pub(crate) loaded_at_nanos: AtomicU64,
    pub(crate) id: KeyId,
    /// Last successful use, whole seconds since the epoch; 0 for none since cached.
    pub(crate) last_used_secs: AtomicU32,
    pub(crate) revoked: bool,
    pub(crate) disabled: bool,
    pub(crate) has_ip_allowlist: bool,
    /// Whether requests record the capabilities they use in `used`
    /// ([`crate::Config::record_capability_usage`]).
    pub(crate) records_use: bool,
    /// Start of the key's idle period in whole seconds (rounded up), before any use
    /// this entry records: its stored last use, its mint when never used, or a use an
    /// entry it replaced had not flushed. Read only with `expire_unused_after` set.
    pub(crate) unused_since_secs: u32,
    /// The override as a checked quota (`None`: the deployment's default).
    pub(crate) quota: Option<Quota>,
    /// The capabilities requests used: read by every request that checks a
    /// requirement, written only when one uses a capability for the first time.
    pub(crate) used: UsedCapabilities,
    // Read only off the hot path.
    pub(crate) flushed_secs: AtomicU32,
    pub(crate) flushed_used: FlushedCapabilities,
    pub(crate) ip_allowlist: keyward_limit::IpAllowlist,
    /// The stored hash the secret was verified against; a refresh that finds another
    /// one verifies again.
    pub(crate) hash: Box<str>,
    pub(crate) name: String,
    pub(crate) owner: String,
    pub(crate) tenant: Option<Tenant>,
    pub(crate) granted: Vec<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) created_at: Timestamp,
    pub(crate) expires_at: Option<Timestamp>,
    pub(crate) rate_limit: Option<RateLimitOverride>,
    pub(crate) replaced_by: Option<KeyId>,
}

impl KeyInfo {
    /// The entry for `record`, whose secret hashed to `digest`, read from the store
    /// at `loaded_at`.
    pub(crate) fn from_record(
        record: &KeyRecord,
        capabilities: CapabilitySet,
        digest: Digest,
        loaded_at: Timestamp,
    ) -> Self {
        KeyInfo {
            digest,
            capabilities,
            expires_at_nanos: record.expires_at.map_or(u64::MAX, Timestamp::as_unix_nanos),
            loaded_at_nanos: AtomicU64::new(loaded_at.as_unix_nanos()),
            id: record.id,
            last_used_secs: AtomicU32::new(0),
            revoked: record.revoked_at.is_some(),
            disabled: record.disabled_at.is_some(),
            has_ip_allowlist: !record.ip_allowlist.is_empty(),
            records_use: false,
            unused_since_secs: ceil_secs(crate::unused::unused_since(record)),
            flushed_secs: AtomicU32::new(0),
            used: UsedCapabilities::default(),
            flushed_used: FlushedCapabilities::default(),
            ip_allowlist: keyward_limit::IpAllowlist::new(record.ip_allowlist.iter().copied()),
            hash: record.hash.as_str().into(),
            name: record.name.clone(),
            owner: record.owner.clone(),
            tenant: record.tenant.clone(),
            granted: record.capabilities.clone(),
            metadata: record.metadata.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            rate_limit: record.rate_limit,
            replaced_by: record.replaced_by,
            quota: record.rate_limit.and_then(|o| match Quota::new(o.limit, o.period) {
                Ok(quota) => Some(quota),
                Err(e) => {
                    tracing::warn!(target: "keyward", key_id = %record.id, error = %e, "stored rate limit is invalid; using the default");
                    None
                }
            }),
        }
    }
}

impl KeyInfo {
    /// Records a use at `now`, writing at most once per second so a hot key does not
    /// bounce its cache line between cores on every request.
    #[inline]
    pub(crate) fn mark_used(&self, now: Timestamp) {
        let secs = u32::try_from(now.as_unix_seconds()).unwrap_or(u32::MAX);
        if self.last_used_secs.load(Ordering::Relaxed) != secs {
            self.last_used_secs.store(secs, Ordering::Relaxed);
        }
    }

    /// Whether the key went unused for `after` by `now`: since the later of
    /// `unused_since_secs` and its last use through this entry.
    #[inline]
    pub(crate) fn unused_for(&self, after: std::time::Duration, now: Timestamp) -> bool {
        let since = self
            .unused_since_secs
            .max(self.last_used_secs.load(Ordering::Relaxed));
        let after = u64::try_from(after.as_nanos()).unwrap_or(u64::MAX);
        u64::from(since)
            .saturating_mul(1_000_000_000)
            .saturating_add(after)
            <= now.as_unix_nanos()
    }

    /// The last use recorded through this entry, whole seconds (0: none).
    pub(crate) fn last_used_secs(&self) -> u32 {
        self.last_used_secs.load(Ordering::Relaxed)
    }

    /// Makes requests record the capabilities they use, starting from `stored` (the
    /// record's recorded use, known to the store already: not flushed again).
    pub(crate) fn record_use_from(&mut self, stored: CapabilitySet) {
        self.records_use = true;
        self.used = UsedCapabilities::new(stored);
        self.flushed_used = FlushedCapabilities::new(stored);
    }

    /// Records that a request met `requirement` with this key: for an all-of
    /// requirement its capabilities, for an any-of one every alternative the key holds
    /// (a handler may act on which it holds, so keeping only one could change what the
    /// key gets). A load and a compare per word unless a capability is new.
    #[inline]
    pub(crate) fn record_use(&self, requirement: &Requirement) {
        if self.records_use {
            self.used
                .record(&requirement.capabilities().intersection(&self.capabilities));
        }
    }

    /// What requests recorded through this entry, flushed or not.
    pub(crate) fn used_capabilities(&self) -> CapabilitySet {
        self.used.load()
    }

    /// Use not yet flushed to the store, marking it flushed: the last use, and the
    /// capabilities used for the first time since the last flush.
    pub(crate) fn take_usage(&self) -> Option<PendingUse> {
        let used = self.last_used_secs.load(Ordering::Relaxed);
        let flushed = self.flushed_secs.swap(used, Ordering::Relaxed);
        let capabilities = if self.records_use {
            self.flushed_used.take_new(&self.used)
        } else {
            CapabilitySet::EMPTY
        };
        (used > flushed || !capabilities.is_empty()).then(|| PendingUse {
            at: Timestamp::from_unix_seconds(u64::from(used)),
            capabilities,
        })
    }
}

/// One key's use not yet flushed to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingUse {
    /// The last use, whole seconds.
    pub(crate) at: Timestamp,
    /// Capabilities used for the first time since the last flush.
    pub(crate) capabilities: CapabilitySet,
}

/// `at` in whole seconds since the epoch, rounded up (so an idle period never starts
/// before the stored time), at most `u32::MAX`.
fn ceil_secs(at: Timestamp) -> u32 {
    let secs = at.as_unix_nanos().div_ceil(1_000_000_000);
    u32::try_from(secs).unwrap_or(u32::MAX)
}

impl Principal {
    pub(crate) fn new(key: Arc<KeyInfo>) -> Self {
        Principal {
            key,
            rate_limit: None,
        }
    }

    pub(crate) fn with_rate_limit(mut self, decision: Option<BudgetDecision>) -> Self {
        self.rate_limit = decision;
        self
    }

    pub(crate) fn info(&self) -> &KeyInfo {
        &self.key
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

    /// The key that replaced this one in a roll: this one works only until its grace
    /// ends, and manages no keys meanwhile (see [`crate::manage`]).
    pub fn replaced_by(&self) -> Option<KeyId> {
        self.key.replaced_by
    }

    /// The capabilities the key may use now: its grants, what they imply and the
    /// implicit grants, narrowed to what its owner holds when owner permissions are
    /// configured.
    pub fn capabilities(&self) -> &CapabilitySet {
        &self.key.capabilities
    }

    /// Checks `requirement` against the key's capabilities, as a route's requirement is
    /// checked, for a handler that decides more once it runs (an action only some keys
    /// may take). What it uses counts toward the key's recorded use like a route's
    /// requirement ([`crate::KeyService::usage`]); a check of
    /// [`capabilities`](Self::capabilities) directly does not.
    pub fn require(&self, requirement: &Requirement) -> Result<(), Denied> {
        requirement.check(&self.key.capabilities)?;
        self.key.record_use(requirement);
        Ok(())
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

    /// The key's own rate limit, when it overrides the deployment's default.
    pub fn rate_limit_override(&self) -> Option<RateLimitOverride> {
        self.key.rate_limit
    }

    /// This request's rate-limit decision (limit, remaining, reset) for the
    /// `RateLimit-*` response headers; `None` when no limiter is configured.
    pub fn rate_limit(&self) -> Option<&Decision> {
        self.rate_limit.as_ref().map(|budget| &budget.decision)
    }

    /// [`rate_limit`](Self::rate_limit) with the budget it describes (the key's, its
    /// owner's or its tenant's: the one closest to running out) and that budget's
    /// quota, for the `RateLimit-Policy` and `RateLimit` response headers.
    pub fn rate_limit_budget(&self) -> Option<&BudgetDecision> {
        self.rate_limit.as_ref()
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
