use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use keyward_clock::Timestamp;
use keyward_format::{KeyId, MintedKey};
use keyward_scope::{CapabilitySet, Catalog, Denied};
use keyward_store::{
    AuditAction, AuditEntry, AuditQuery, KeyChange, KeyRecord, KeyState, ListFilter, PageRequest,
    RateLimitOverride, StoreError, Tenant,
};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::core::Core;
use crate::error::{NameProblem, RequestProblem, ServiceError};
use crate::events::KeyEvent;
use crate::least_privilege::{KeyUsage, declared, names};
use crate::manage::{Actor, Caller};

/// The longest key name or owner accepted, in characters (Unicode scalar values).
pub const MAX_KEY_NAME_LEN: usize = 200;

/// Key management: mint, list, revoke, delete, roll, expire, disable and enable.
///
/// Every change that stops a key evicts it from this process's verification cache at
/// once. Capabilities of an existing key cannot be edited: roll or mint anew.
///
/// Every change is audited: the store appends an [`AuditEntry`] naming who acted (this
/// handle's [`actor`](Self::actor), see [`acting`](Self::acting)) with the change, and a
/// [`KeyEvent::Changed`] goes to the event sink once it succeeded. A change that fails
/// appends nothing.
///
/// When a *key* manages keys (an API route authenticated by an API key), use
/// [`crate::manage::KeyManager`]: it applies every rule, which keys the caller may see
/// (its owner's, its tenant's) included. The `_as` methods
/// ([`revoke_as`](Self::revoke_as), [`delete_as`](Self::delete_as),
/// [`roll_as`](Self::roll_as), [`disable_as`](Self::disable_as),
/// [`enable_as`](Self::enable_as)) apply the capability rule alone: they refuse to touch
/// a key holding capabilities the caller does not, as minting refuses to grant them, but
/// check no owner or tenant, so a route calling them with an id from the request must
/// first check the key is the caller's (or any key with enough capabilities could
/// revoke, or roll and so obtain, another owner's). The plain methods are for operators
/// (the CLI, an admin console).
#[derive(Clone)]
pub struct KeyService {
    core: Arc<Core>,
    /// Who the changes made through this handle are audited as.
    actor: Actor,
    /// The client address they are audited with.
    client_ip: Option<IpAddr>,
}

/// Who makes one change and from where: the handle's actor, or a [`Caller`]'s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Acting<'a> {
    actor: &'a Actor,
    client_ip: Option<IpAddr>,
}

impl<'a> Acting<'a> {
    /// The caller's actor and client address.
    pub(crate) fn caller(caller: &'a Caller) -> Self {
        Acting {
            actor: caller.actor(),
            client_ip: caller.client_ip(),
        }
    }

    /// The entry for `action` on `key` at `at` by this actor.
    fn entry(self, at: Timestamp, action: AuditAction, key: KeyId) -> AuditEntry {
        let mut entry = AuditEntry::new(at, action, key, self.actor.clone());
        entry.client_ip = self.client_ip;
        entry
    }
}

/// What to mint. Only a name and an owner are required.
///
/// ```
/// use std::time::Duration;
/// use keyward::MintRequest;
/// use keyward_store::Tenant;
///
/// let request = MintRequest::new("Production CI", "u_1")
///     .tenant(Tenant::new("acme", "search"))
///     .capabilities(["jobs:read"])
///     .expires_in(Duration::from_secs(30 * 24 * 3600))
///     .metadata("team", "platform");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct MintRequest {
    /// A human name ("Production CI").
    pub name: String,
    /// The user or service account the key acts for.
    pub owner: String,
    /// The (team, project) the key is bound to.
    pub tenant: Option<Tenant>,
    /// Capability names; `None` gives the catalog's default set.
    pub capabilities: Option<Vec<String>>,
    /// An absolute expiry.
    pub expires_at: Option<Timestamp>,
    /// An expiry relative to the mint (exclusive with `expires_at`).
    pub expires_in: Option<Duration>,
    /// Metadata handed to handlers with the principal.
    pub metadata: BTreeMap<String, String>,
    /// A rate limit replacing the default for this key.
    pub rate_limit: Option<RateLimitOverride>,
    /// Networks the key may be used from; empty means anywhere.
    pub ip_allowlist: Vec<ipnet::IpNet>,
    /// A decoy key (see [`MintRequest::honeytoken`]).
    pub honeytoken: bool,
}

impl MintRequest {
    /// A key named `name` for `owner`, with the catalog's default capabilities.
    pub fn new(name: impl Into<String>, owner: impl Into<String>) -> Self {
        MintRequest {
            name: name.into(),
            owner: owner.into(),
            ..MintRequest::default()
        }
    }

    /// Binds the key to a (team, project).
    pub fn tenant(mut self, tenant: Tenant) -> Self {
        self.tenant = Some(tenant);
        self
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

    /// Expires the key at `at`.
    pub fn expires_at(mut self, at: Timestamp) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Expires the key `after` the mint.
    pub fn expires_in(mut self, after: Duration) -> Self {
        self.expires_in = Some(after);
        self
    }

    /// Adds one metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Overrides the default rate limit for this key.
    pub fn rate_limit(mut self, limit: u32, period: Duration) -> Self {
        self.rate_limit = Some(RateLimitOverride { limit, period });
        self
    }

    /// Restricts the key to these networks.
    pub fn ip_allowlist(mut self, networks: impl IntoIterator<Item = ipnet::IpNet>) -> Self {
        self.ip_allowlist = networks.into_iter().collect();
        self
    }

    /// Makes the key a honeytoken: a decoy, to plant where only a leak would find it
    /// (a repository, a CI variable, a configuration file). It looks like any other
    /// key and authenticates nothing: a request presenting it is answered as for an
    /// unknown key, its client is locked out, and an alert is raised (a `warn` line, a
    /// [`crate::KeyEvent::Honeytoken`], an audit entry).
    pub fn honeytoken(mut self) -> Self {
        self.honeytoken = true;
        self
    }
}

/// A key as listings show it: masked, never the secret or the hash.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct KeySummary {
    /// The public key id.
    pub id: KeyId,
    /// The key's name.
    pub name: String,
    /// Prefix plus the first 4 characters of the id (`sk_live_AbCd`).
    pub key_prefix: String,
    /// The last 4 characters of the key.
    pub last4: String,
    /// Who the key acts for.
    pub owner: String,
    /// The (team, project) the key is bound to.
    pub tenant: Option<Tenant>,
    /// Granted capability names, sorted.
    pub capabilities: Vec<String>,
    /// When it was minted.
    pub created_at: Timestamp,
    /// When it was last used (flushed in batches, so up to a flush interval late).
    pub last_used_at: Option<Timestamp>,
    /// When it expires.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    /// When it was disabled.
    pub disabled_at: Option<Timestamp>,
    /// The key that replaced it in a roll; such a key works until its grace ends and
    /// cannot be rolled again.
    pub replaced_by: Option<KeyId>,
    /// Its state at the time of the listing: `Expired` also when it went unused for
    /// [`crate::Config::expire_unused_after`].
    pub state: KeyState,
    /// Why it is expired, when [`state`](Self::state) is `Expired`.
    pub expired_reason: Option<ExpiredReason>,
    /// Its metadata.
    pub metadata: BTreeMap<String, String>,
    /// A decoy key ([`MintRequest::honeytoken`]).
    pub honeytoken: bool,
}

/// Why a key is expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum ExpiredReason {
    /// Its `expires_at` passed (or its roll grace ended).
    ExpiresAt,
    /// It went unused for [`crate::Config::expire_unused_after`].
    Unused,
}

impl ExpiredReason {
    /// `expires_at` or `unused`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiredReason::ExpiresAt => "expires_at",
            ExpiredReason::Unused => "unused",
        }
    }
}

/// `record`'s state at `now` and, when expired, why: an `expires_at` that passed wins
/// over disuse; revoked and disabled win over both.
fn state_of(
    record: &KeyRecord,
    config: &crate::Config,
    now: Timestamp,
) -> (KeyState, Option<ExpiredReason>) {
    match record.state(now) {
        KeyState::Expired => (KeyState::Expired, Some(ExpiredReason::ExpiresAt)),
        KeyState::Active if config.is_expired_unused(record, now) => {
            (KeyState::Expired, Some(ExpiredReason::Unused))
        }
        state => (state, None),
    }
}

impl KeySummary {
    fn of(record: &KeyRecord, now: Timestamp, config: &crate::Config) -> Self {
        let masked = record.masked();
        let (state, expired_reason) = state_of(record, config, now);
        KeySummary {
            id: record.id,
            name: record.name.clone(),
            key_prefix: masked.key_prefix,
            last4: masked.last4,
            owner: record.owner.clone(),
            tenant: record.tenant.clone(),
            capabilities: record.capabilities.clone(),
            created_at: record.created_at,
            last_used_at: record.last_used_at,
            expires_at: record.expires_at,
            revoked_at: record.revoked_at,
            disabled_at: record.disabled_at,
            replaced_by: record.replaced_by,
            state,
            expired_reason,
            metadata: record.metadata.clone(),
            honeytoken: record.honeytoken,
        }
    }
}

/// A freshly minted key: the plaintext, shown exactly once, and its summary.
#[derive(Debug)]
pub struct NewKey {
    /// The plaintext key. Show it once; it cannot be recovered.
    pub key: MintedKey,
    /// The stored key, masked.
    pub summary: KeySummary,
}

/// The result of a roll: the replacement and the old key with its new expiry and
/// `replaced_by`.
#[derive(Debug)]
pub struct RolledKey {
    /// The replacement key.
    pub new: NewKey,
    /// The old key, now expiring at the end of the grace period.
    pub old: KeySummary,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPage {
    /// The keys, oldest first.
    pub keys: Vec<KeySummary>,
    /// Cursor of the next page.
    pub next: Option<KeyId>,
}

/// One page of a key's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    /// The entries, oldest first.
    pub entries: Vec<AuditEntry>,
    /// Cursor of the next page: the last entry's sequence number, while more remain.
    pub next: Option<u64>,
}

impl KeyService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        KeyService {
            core,
            actor: Actor::Service,
            client_ip: None,
        }
    }

    /// The same service, its changes audited as made by `actor` from `client_ip`
    /// (the CLI passes [`Actor::Cli`]). Without this, changes are audited as
    /// [`Actor::Service`]: the host service's own code.
    pub fn acting(&self, actor: Actor, client_ip: Option<IpAddr>) -> KeyService {
        KeyService {
            core: Arc::clone(&self.core),
            actor,
            client_ip,
        }
    }

    /// Who this handle's changes are audited as.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// This handle's actor and client address.
    fn acting_self(&self) -> Acting<'_> {
        Acting {
            actor: &self.actor,
            client_ip: self.client_ip,
        }
    }

    /// Mints a key. Returns the plaintext exactly once; when the store write fails the
    /// error is returned and the plaintext is dropped (zeroized), never shown.
    ///
    /// [`ServiceError::TooManyKeys`] when the owner already holds
    /// [`crate::Config::max_live_keys_per_owner`] live keys (neither revoked nor
    /// expired). The store counts and inserts in one step, so concurrent mints never
    /// pass the cap.
    ///
    /// With [`crate::Config::max_lifetime`] set, a request without an expiry gets one
    /// that far out, and one further out is [`RequestProblem::LifetimeTooLong`].
    pub async fn mint(&self, request: MintRequest) -> Result<NewKey, ServiceError> {
        self.mint_by(request, self.acting_self()).await
    }

    /// [`mint`](Self::mint), audited as `acting`.
    pub(crate) async fn mint_by(
        &self,
        request: MintRequest,
        acting: Acting<'_>,
    ) -> Result<NewKey, ServiceError> {
        let now = self.core.clock.now();
        let expires_at = self.resolve_expiry(&request, now)?;
        validate_name("name", &request.name)?;
        validate_name("owner", &request.owner)?;
        let capabilities = self.resolve_capabilities(request.capabilities.as_deref())?;
        if let Some(o) = request.rate_limit {
            keyward_limit::Quota::new(o.limit, o.period)
                .map_err(|e| ServiceError::InvalidRequest(RequestProblem::RateLimit(e)))?;
        }
        // Refused before the slow hash, so minting at the cap costs no hashing.
        let max = self.core.config.max_live_keys_per_owner;
        if self.core.store.count_live(&request.owner, now).await?.live >= max {
            return Err(ServiceError::TooManyKeys { max });
        }
        let (key, record) = self
            .new_record(
                KeyDetails {
                    name: request.name,
                    owner: request.owner,
                    tenant: request.tenant,
                    capabilities,
                    expires_at,
                    metadata: request.metadata,
                    rate_limit: request.rate_limit,
                    ip_allowlist: request.ip_allowlist,
                    honeytoken: request.honeytoken,
                },
                now,
            )
            .await?;
        let mut entry = acting.entry(now, AuditAction::Minted, record.id);
        entry.capabilities = record.capabilities.clone();
        let change = KeyChange::Insert {
            record: &record,
            max_live: max,
            now,
        };
        self.core.store.apply(change, Some(&entry)).await?;
        tracing::info!(
            target: "keyward",
            event = "key_minted",
            key_id = %record.id,
            key = %key.masked(),
            owner = %record.owner,
            name = %record.name,
            actor = %acting.actor,
        );
        self.changed(entry);
        Ok(NewKey {
            key,
            summary: self.summary(&record, now),
        })
    }

    /// One key, masked.
    pub async fn get(&self, id: &KeyId) -> Result<KeySummary, ServiceError> {
        let record = self.core.store.get(id).await?;
        Ok(self.summary(&record, self.core.clock.now()))
    }

    /// A page of keys matching `filter`, masked.
    pub async fn list(
        &self,
        filter: &ListFilter,
        page: PageRequest,
    ) -> Result<KeyPage, ServiceError> {
        let page = self.core.store.list(filter, page).await?;
        let now = self.core.clock.now();
        Ok(KeyPage {
            keys: page.records.iter().map(|r| self.summary(r, now)).collect(),
            next: page.next,
        })
    }

    /// A page of the audit log: the entries `query` selects, oldest first, and the
    /// cursor of the next page (pass it as `query.after_seq`).
    ///
    /// [`ServiceError::Store`] with [`StoreError::Unsupported`] when the store keeps no
    /// audit log.
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, ServiceError> {
        query.validate()?;
        // One more than asked for tells whether a next page exists.
        let probe = AuditQuery {
            limit: query.limit.saturating_add(1).min(AuditQuery::MAX_LIMIT),
            ..query.clone()
        };
        let mut entries = self.core.store.list_audit(&probe).await?;
        let more = entries.len() > query.limit as usize
            || (probe.limit == query.limit && entries.len() == query.limit as usize);
        entries.truncate(query.limit as usize);
        let next = if more {
            entries.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage { entries, next })
    }

    /// Removes the audit entries older than [`crate::Config::audit_retention`]; returns
    /// how many went. Without a retention it keeps everything: `Ok(0)`.
    pub async fn prune_audit(&self) -> Result<u64, ServiceError> {
        let Some(keep) = self.core.config.audit_retention else {
            return Ok(0);
        };
        let before = self.core.clock.now().saturating_sub(keep);
        let pruned = self.core.store.prune_audit(before).await?;
        if pruned > 0 {
            tracing::info!(target: "keyward", event = "audit_pruned", entries = pruned);
        }
        Ok(pruned)
    }

    /// Runs [`prune_audit`](Self::prune_audit) every `every` on the current tokio
    /// runtime until the returned handle is aborted (the first run at once). Without
    /// [`crate::Config::audit_retention`] the task ends at once.
    pub fn spawn_audit_pruner(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            if this.core.config.audit_retention.is_none() {
                return;
            }
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = this.prune_audit().await {
                    tracing::warn!(target: "keyward", error = %e, "audit log pruning failed");
                }
            }
        })
    }

    /// Revokes a key, permanently and at once: its next request is 401 `key_revoked`.
    pub async fn revoke(&self, id: &KeyId) -> Result<KeySummary, ServiceError> {
        self.revoke_by(id, self.acting_self()).await
    }

    /// [`revoke`](Self::revoke), audited as `acting`.
    pub(crate) async fn revoke_by(
        &self,
        id: &KeyId,
        acting: Acting<'_>,
    ) -> Result<KeySummary, ServiceError> {
        self.revoke_noting(id, acting, AuditAction::Revoked, None)
            .await
    }

    /// Revokes a key reported leaked (a secret-scanning alert, `keyward scan
    /// --revoke`), audited as `leaked` with `note` (where it was found).
    pub async fn revoke_leaked(
        &self,
        id: &KeyId,
        note: Option<&str>,
    ) -> Result<KeySummary, ServiceError> {
        self.revoke_noting(id, self.acting_self(), AuditAction::Leaked, note)
            .await
    }

    async fn revoke_noting(
        &self,
        id: &KeyId,
        acting: Acting<'_>,
        action: AuditAction,
        note: Option<&str>,
    ) -> Result<KeySummary, ServiceError> {
        let now = self.core.clock.now();
        let mut entry = acting.entry(now, action, *id);
        entry.note = note.map(str::to_owned);
        let revoked = self
            .core
            .store
            .apply(KeyChange::Revoke { id, at: now }, Some(&entry))
            .await;
        self.evict_after_change(id);
        let record = revoked?;
        tracing::info!(
            target: "keyward",
            event = "key_revoked",
            key_id = %id,
            actor = %acting.actor,
            leaked = action == AuditAction::Leaked,
        );
        self.changed(entry);
        Ok(self.summary(&record, now))
    }

    /// Deletes a key's record for good and returns what it was: its next request is
    /// 401 `invalid_key`, as for an id never minted, and listings no longer show it.
    /// Prefer [`revoke`](Self::revoke), which keeps the key listed as revoked; delete
    /// to drop what should not be kept (a key minted by mistake). Its audit trail stays.
    ///
    /// A key it replaced in a roll keeps working until its grace ends.
    pub async fn delete(&self, id: &KeyId) -> Result<KeySummary, ServiceError> {
        self.delete_by(id, self.acting_self()).await
    }

    /// [`delete`](Self::delete), audited as `acting`.
    pub(crate) async fn delete_by(
        &self,
        id: &KeyId,
        acting: Acting<'_>,
    ) -> Result<KeySummary, ServiceError> {
        let now = self.core.clock.now();
        let entry = acting.entry(now, AuditAction::Deleted, *id);
        let deleted = self
            .core
            .store
            .apply(KeyChange::Delete { id }, Some(&entry))
            .await;
        self.evict_after_change(id);
        let record = deleted?;
        tracing::info!(
            target: "keyward",
            event = "key_deleted",
            key_id = %id,
            actor = %acting.actor,
        );
        self.changed(entry);
        Ok(self.summary(&record, self.core.clock.now()))
    }

    /// Rolls a key (Stripe's key roll): a replacement with the same name, capabilities,
    /// owner, tenant, expiry, metadata and limits, while the old key keeps working for
    /// `grace` (zero: it stops now). The grace never outlasts the old key's own expiry
    /// and may not exceed [`crate::Config::max_roll_grace`].
    ///
    /// Only an active key that was never rolled rolls: a key in its grace is
    /// [`ServiceError::AlreadyRolled`] (roll its replacement), so a replacement always
    /// keeps the expiry of the key first minted, never a grace deadline. A roll does not
    /// count against [`crate::Config::max_live_keys_per_owner`] (it replaces a key); it
    /// is [`ServiceError::TooManyKeys`] only when that many of the owner's keys are
    /// already in a roll's grace, so rolling in a loop cannot multiply working keys.
    ///
    /// With [`crate::Config::max_lifetime`] set, the replacement expires within it of
    /// the roll: a key minted before the setting, or under a longer one, cannot pass a
    /// longer life on.
    pub async fn roll(&self, id: &KeyId, grace: Duration) -> Result<RolledKey, ServiceError> {
        self.roll_by(id, grace, self.acting_self()).await
    }

    /// [`roll`](Self::roll), audited as `acting`.
    pub(crate) async fn roll_by(
        &self,
        id: &KeyId,
        grace: Duration,
        acting: Acting<'_>,
    ) -> Result<RolledKey, ServiceError> {
        let old = self.core.store.get(id).await?;
        self.roll_record(old, grace, acting).await
    }

    async fn roll_record(
        &self,
        old: KeyRecord,
        grace: Duration,
        acting: Acting<'_>,
    ) -> Result<RolledKey, ServiceError> {
        self.roll_into(old, None, grace, acting).await
    }

    /// Rolls `old` to a replacement carrying its capabilities, or `narrowed` ones.
    async fn roll_into(
        &self,
        old: KeyRecord,
        narrowed: Option<Vec<String>>,
        grace: Duration,
        acting: Acting<'_>,
    ) -> Result<RolledKey, ServiceError> {
        let longest = self.core.config.max_roll_grace;
        if grace > longest {
            return Err(ServiceError::GraceTooLong {
                max_seconds: longest.as_secs(),
            });
        }
        let now = self.core.clock.now();
        if old.replaced_by.is_some() {
            return Err(ServiceError::AlreadyRolled);
        }
        let (state, _) = state_of(&old, &self.core.config, now);
        if state != KeyState::Active {
            return Err(ServiceError::NotActive(state));
        }
        let max = self.core.config.max_live_keys_per_owner;
        if self.core.store.count_live(&old.owner, now).await?.in_grace >= max {
            return Err(ServiceError::TooManyKeys { max });
        }
        let id = old.id;
        let grace_end = now.saturating_add(grace);
        let old_expires_at = old.expires_at.map_or(grace_end, |at| at.min(grace_end));
        let mut details = KeyDetails::copied_from(&old);
        // The replacement is a new key: within `max_lifetime` of now, even when the old
        // key was minted before the setting (no expiry) or under a longer one.
        if let Some(longest) = self.core.config.max_lifetime {
            let latest = now.saturating_add(longest);
            details.expires_at = Some(details.expires_at.map_or(latest, |at| at.min(latest)));
        }
        let narrowed_from = narrowed.map(|capabilities| {
            details.capabilities = capabilities;
            format!("capabilities narrowed from {}", old.capabilities.join(","))
        });
        let (key, record) = self.new_record(details, now).await?;
        // The checks above read the record before the slow hash: the store checks
        // again, in the roll itself, that the key is still active.
        let rolled_at = self.core.clock.now();
        let mut entry = acting.entry(rolled_at, AuditAction::Rolled, id);
        entry.capabilities = record.capabilities.clone();
        entry.replacement = Some(record.id);
        entry.note = narrowed_from;
        let change = KeyChange::Roll {
            old: &id,
            old_expires_at,
            replacement: &record,
            now: rolled_at,
        };
        let rolled = self.core.store.apply(change, Some(&entry)).await;
        self.evict_after_change(&id);
        let old = rolled.map_err(|e| match e {
            StoreError::NotActive(state) => ServiceError::NotActive(state),
            other => ServiceError::from(other),
        })?;
        tracing::info!(
            target: "keyward",
            event = "key_rolled",
            key_id = %id,
            new_key_id = %record.id,
            old_expires_at = %old_expires_at,
            actor = %acting.actor,
        );
        self.changed(entry);
        Ok(RolledKey {
            new: NewKey {
                key,
                summary: self.summary(&record, now),
            },
            old: self.summary(&old, now),
        })
    }

    /// What `id` was granted, which capabilities its requests used and since when, and
    /// the fewest grants that cover that use: see [`KeyUsage`]. The use recorded in the
    /// store is joined by what this process's cache saw and has not flushed yet.
    pub async fn usage(&self, id: &KeyId) -> Result<KeyUsage, ServiceError> {
        let record = self.core.store.get(id).await?;
        let unflushed = self.core.cache.unflushed_capabilities(id);
        Ok(KeyUsage::of(&self.core.catalog, &record, unflushed))
    }

    /// [`roll`](Self::roll) to a replacement granted `capabilities` instead of the old
    /// key's: least privilege for a key granted more than it uses. Each must lie within
    /// the old key's grants (held directly, through an implication or implicitly);
    /// otherwise [`RequestProblem::BeyondGrants`] names those that do not. An empty list
    /// is [`RequestProblem::NoCapabilities`], an undeclared name
    /// [`ServiceError::UnknownCapabilities`]. Audited as a roll whose note names the old
    /// grants.
    pub async fn roll_narrowed(
        &self,
        id: &KeyId,
        grace: Duration,
        capabilities: &[String],
    ) -> Result<RolledKey, ServiceError> {
        self.roll_narrowed_by(id, grace, capabilities, self.acting_self())
            .await
    }

    /// [`roll_narrowed`](Self::roll_narrowed), audited as `acting`.
    pub(crate) async fn roll_narrowed_by(
        &self,
        id: &KeyId,
        grace: Duration,
        capabilities: &[String],
        acting: Acting<'_>,
    ) -> Result<RolledKey, ServiceError> {
        let old = self.core.store.get(id).await?;
        let narrowed = self.narrowed(&old, capabilities)?;
        self.roll_into(old, Some(narrowed), grace, acting).await
    }

    /// [`roll_narrowed`](Self::roll_narrowed) to the capabilities the key's use suggests
    /// ([`KeyUsage::suggested`]). With none recorded it is
    /// [`RequestProblem::NoRecordedUse`], never a key that can do nothing.
    pub async fn roll_to_used(
        &self,
        id: &KeyId,
        grace: Duration,
    ) -> Result<RolledKey, ServiceError> {
        self.roll_to_used_by(id, grace, self.acting_self()).await
    }

    /// [`roll_to_used`](Self::roll_to_used), audited as `acting`.
    pub(crate) async fn roll_to_used_by(
        &self,
        id: &KeyId,
        grace: Duration,
        acting: Acting<'_>,
    ) -> Result<RolledKey, ServiceError> {
        let usage = self.usage(id).await?;
        if usage.suggested.is_empty() {
            return Err(ServiceError::InvalidRequest(RequestProblem::NoRecordedUse));
        }
        self.roll_narrowed_by(id, grace, &usage.suggested, acting)
            .await
    }

    /// `capabilities` sorted, once each, if `old` may be narrowed to them.
    fn narrowed(
        &self,
        old: &KeyRecord,
        capabilities: &[String],
    ) -> Result<Vec<String>, ServiceError> {
        let catalog = &self.core.catalog;
        let requested = catalog.set(capabilities)?;
        if requested.is_empty() {
            return Err(ServiceError::InvalidRequest(RequestProblem::NoCapabilities));
        }
        let beyond = catalog.missing(&requested, &declared(catalog, &old.capabilities));
        if !beyond.is_empty() {
            return Err(ServiceError::InvalidRequest(RequestProblem::BeyondGrants {
                capabilities: names(catalog, &beyond),
            }));
        }
        Ok(names(catalog, &requested))
    }

    /// Expires a key now.
    pub async fn expire(&self, id: &KeyId) -> Result<KeySummary, ServiceError> {
        let now = self.core.clock.now();
        self.set_expiry(id, Some(now)).await
    }

    /// Sets or clears a key's expiry, audited as `expiry_set` with the new expiry in
    /// its note.
    pub async fn set_expiry(
        &self,
        id: &KeyId,
        expires_at: Option<Timestamp>,
    ) -> Result<KeySummary, ServiceError> {
        let now = self.core.clock.now();
        let mut entry = self.acting_self().entry(now, AuditAction::ExpirySet, *id);
        entry.note = Some(match expires_at {
            Some(at) => format!("expires_at {at}"),
            None => "expiry cleared".to_owned(),
        });
        let set = self
            .core
            .store
            .apply(KeyChange::SetExpiry { id, expires_at }, Some(&entry))
            .await;
        self.evict_after_change(id);
        let record = set?;
        match expires_at {
            Some(at) => {
                tracing::info!(target: "keyward", event = "key_expired", key_id = %id, expires_at = %at, actor = %self.actor)
            }
            None => {
                tracing::info!(target: "keyward", event = "key_expiry_cleared", key_id = %id, actor = %self.actor)
            }
        }
        self.changed(entry);
        Ok(self.summary(&record, self.core.clock.now()))
    }

    /// Disables a key until [`enable`](Self::enable): 401 `key_disabled` meanwhile.
    pub async fn disable(&self, id: &KeyId) -> Result<KeySummary, ServiceError> {
        self.disable_by(id, self.acting_self()).await
    }

    /// [`disable`](Self::disable), audited as `acting`.
    pub(crate) async fn disable_by(
        &self,
        id: &KeyId,
        acting: Acting<'_>,
    ) -> Result<KeySummary, ServiceError> {
        let now = self.core.clock.now();
        let entry = acting.entry(now, AuditAction::Disabled, *id);
        let change = KeyChange::SetDisabled {
            id,
            disabled_at: Some(now),
        };
        let disabled = self.core.store.apply(change, Some(&entry)).await;
        self.evict_after_change(id);
        let record = disabled?;
        tracing::info!(
            target: "keyward",
            event = "key_disabled",
            key_id = %id,
            actor = %acting.actor,
        );
        self.changed(entry);
        Ok(self.summary(&record, now))
    }

    /// Enables a disabled key. A revoked key stays revoked.
    pub async fn enable(&self, id: &KeyId) -> Result<KeySummary, ServiceError> {
        self.enable_by(id, self.acting_self()).await
    }

    /// [`enable`](Self::enable), audited as `acting`.
    pub(crate) async fn enable_by(
        &self,
        id: &KeyId,
        acting: Acting<'_>,
    ) -> Result<KeySummary, ServiceError> {
        let now = self.core.clock.now();
        let entry = acting.entry(now, AuditAction::Enabled, *id);
        let change = KeyChange::SetDisabled {
            id,
            disabled_at: None,
        };
        let enabled = self.core.store.apply(change, Some(&entry)).await;
        self.evict_after_change(id);
        let record = enabled?;
        tracing::info!(
            target: "keyward",
            event = "key_enabled",
            key_id = %id,
            actor = %acting.actor,
        );
        self.changed(entry);
        Ok(self.summary(&record, self.core.clock.now()))
    }

    /// Tells the event sink about a change that succeeded, with the entry as the log
    /// keeps it (note and user id cleaned), so a subscriber never gets what the log
    /// would not show.
    fn changed(&self, mut entry: AuditEntry) {
        self.core.events.emit(|| {
            entry.note = entry.stored_note().map(String::from);
            entry.actor = entry.actor.stored().into_owned();
            KeyEvent::Changed(entry)
        });
    }

    /// `record` masked, its state as of `now` under this service's policies.
    fn summary(&self, record: &KeyRecord, now: Timestamp) -> KeySummary {
        KeySummary::of(record, now, &self.core.config)
    }
    /// Whether a key holding `held` may revoke, delete, roll, disable or enable
    /// `target`: it must hold every capability `target` holds (after implications and
    /// implicit grants), as minting may not grant what the minting key lacks. Otherwise
    /// [`ServiceError::InsufficientCapability`], whose `required` names what is missing.
    ///
    /// `held` is the calling key's [`crate::Principal::capabilities`]. A stored name the
    /// catalog no longer declares grants nothing, so it is not required either.
    pub fn check_change(
        &self,
        held: &CapabilitySet,
        target: &KeySummary,
    ) -> Result<(), ServiceError> {
        self.check_capabilities(held, &target.capabilities)
    }

    /// [`revoke`](Self::revoke) for a caller holding `held`, under the rule of
    /// [`check_change`](Self::check_change).
    pub async fn revoke_as(
        &self,
        held: &CapabilitySet,
        id: &KeyId,
    ) -> Result<KeySummary, ServiceError> {
        self.changeable(held, id).await?;
        self.revoke(id).await
    }

    /// [`delete`](Self::delete) for a caller holding `held`, under the rule of
    /// [`check_change`](Self::check_change).
    pub async fn delete_as(
        &self,
        held: &CapabilitySet,
        id: &KeyId,
    ) -> Result<KeySummary, ServiceError> {
        self.changeable(held, id).await?;
        self.delete(id).await
    }

    /// [`roll`](Self::roll) for a caller holding `held`, under the rule of
    /// [`check_change`](Self::check_change): the replacement carries the old key's
    /// capabilities, so the caller must hold them. A name the catalog no longer declares
    /// is refused too ([`ServiceError::InsufficientCapability`] naming it): the caller
    /// could never be granted it, yet the new key, whose plaintext the caller gets, would
    /// carry it to wherever it is declared (again, or by another service on the store).
    pub async fn roll_as(
        &self,
        held: &CapabilitySet,
        id: &KeyId,
        grace: Duration,
    ) -> Result<RolledKey, ServiceError> {
        let old = self.changeable(held, id).await?;
        self.check_undeclared(held, &old.capabilities)?;
        self.roll_record(old, grace, self.acting_self()).await
    }

    /// [`disable`](Self::disable) for a caller holding `held`, under the rule of
    /// [`check_change`](Self::check_change).
    pub async fn disable_as(
        &self,
        held: &CapabilitySet,
        id: &KeyId,
    ) -> Result<KeySummary, ServiceError> {
        self.changeable(held, id).await?;
        self.disable(id).await
    }

    /// [`enable`](Self::enable) for a caller holding `held`, under the rule of
    /// [`check_change`](Self::check_change).
    pub async fn enable_as(
        &self,
        held: &CapabilitySet,
        id: &KeyId,
    ) -> Result<KeySummary, ServiceError> {
        self.changeable(held, id).await?;
        self.enable(id).await
    }

    /// Drops `id` from this process's cache once a change to it was tried, whatever the
    /// store answered: a failure may come after the commit (its reply lost on the way
    /// back), and a key evicted for nothing costs only one more verification.
    fn evict_after_change(&self, id: &KeyId) {
        self.core.cache.evict(id);
    }

    /// The catalog capability names are checked against.
    pub(crate) fn catalog(&self) -> &Catalog {
        &self.core.catalog
    }

    /// What this service shares with its authenticator.
    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// The record of `id`, if a caller holding `held` may change it.
    async fn changeable(
        &self,
        held: &CapabilitySet,
        id: &KeyId,
    ) -> Result<KeyRecord, ServiceError> {
        let record = self.core.store.get(id).await?;
        self.check_capabilities(held, &record.capabilities)?;
        Ok(record)
    }

    /// Refuses a roll by a caller holding `held` of a key granted `target` when the
    /// catalog does not declare some of those names: no caller holds them, yet the
    /// replacement would carry them.
    pub(crate) fn check_undeclared(
        &self,
        held: &CapabilitySet,
        target: &[String],
    ) -> Result<(), ServiceError> {
        let catalog = &self.core.catalog;
        let mut undeclared: Vec<String> = target
            .iter()
            .filter(|name| catalog.capability(name).is_none())
            .cloned()
            .collect();
        if undeclared.is_empty() {
            return Ok(());
        }
        undeclared.sort();
        undeclared.dedup();
        let held = catalog.effective(held);
        Err(ServiceError::InsufficientCapability(Denied {
            required: undeclared,
            held: catalog
                .names(&held)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }))
    }

    fn check_capabilities(
        &self,
        held: &CapabilitySet,
        target: &[String],
    ) -> Result<(), ServiceError> {
        let catalog = &self.core.catalog;
        let mut holds = CapabilitySet::EMPTY;
        for capability in target.iter().filter_map(|name| catalog.capability(name)) {
            holds.insert(capability);
        }
        catalog
            .check_grant(&holds, held)
            .map_err(ServiceError::InsufficientCapability)
    }

    fn resolve_expiry(
        &self,
        request: &MintRequest,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, ServiceError> {
        let at = match (request.expires_at, request.expires_in) {
            (Some(_), Some(_)) => {
                return Err(ServiceError::InvalidRequest(RequestProblem::TwoExpiries));
            }
            (Some(at), None) => Some(at),
            (None, Some(after)) if after.is_zero() => {
                return Err(ServiceError::InvalidRequest(RequestProblem::ZeroExpiresIn));
            }
            (None, Some(after)) => Some(now.saturating_add(after)),
            (None, None) => None,
        };
        if at.is_some_and(|at| at <= now) {
            return Err(ServiceError::InvalidRequest(RequestProblem::ExpiryInPast));
        }
        let Some(longest) = self.core.config.max_lifetime else {
            return Ok(at);
        };
        let latest = now.saturating_add(longest);
        match at {
            None => Ok(Some(latest)),
            Some(at) if at > latest => Err(ServiceError::InvalidRequest(
                RequestProblem::LifetimeTooLong {
                    max_seconds: longest.as_secs(),
                },
            )),
            at => Ok(at),
        }
    }

    /// Checks names against the catalog and returns them sorted and deduplicated.
    fn resolve_capabilities(&self, names: Option<&[String]>) -> Result<Vec<String>, ServiceError> {
        let catalog = &self.core.catalog;
        let set = match names {
            Some(names) => catalog.set(names)?,
            None => catalog.default_set(),
        };
        Ok(catalog.names(&set).into_iter().map(str::to_owned).collect())
    }

    /// Mints a key and hashes its secret into a record created at `now`.
    async fn new_record(
        &self,
        details: KeyDetails,
        now: Timestamp,
    ) -> Result<(MintedKey, KeyRecord), ServiceError> {
        let KeyDetails {
            name,
            owner,
            tenant,
            capabilities,
            expires_at,
            metadata,
            rate_limit,
            ip_allowlist,
            honeytoken,
        } = details;
        let key = self.core.format.mint()?;
        let secret = zeroize::Zeroizing::new(key.secret().to_vec());
        let hash = self
            .core
            .run_hash(move |h| h.hash(&secret))
            .await
            .ok_or_else(|| {
                ServiceError::Store(StoreError::unavailable("the hashing pool is shut down"))
            })??;
        let record = KeyRecord {
            id: key.id(),
            prefix: self.core.format.prefix().to_owned(),
            last4: key.masked().last4,
            name,
            owner,
            tenant,
            capabilities,
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
            disabled_at: None,
            replaced_by: None,
            hash,
            metadata,
            rate_limit,
            ip_allowlist,
            honeytoken,
            used_capabilities: Vec::new(),
            usage_since: Some(now),
        };
        Ok((key, record))
    }
}

/// What a new record takes from its request (a mint) or from the key it replaces (a
/// roll); the id, secret, hash and timestamps are made fresh.
struct KeyDetails {
    name: String,
    owner: String,
    tenant: Option<Tenant>,
    capabilities: Vec<String>,
    expires_at: Option<Timestamp>,
    metadata: BTreeMap<String, String>,
    rate_limit: Option<RateLimitOverride>,
    ip_allowlist: Vec<ipnet::IpNet>,
    honeytoken: bool,
}

impl KeyDetails {
    /// A replacement's details: the same as the old key's, expiry included.
    fn copied_from(old: &KeyRecord) -> Self {
        KeyDetails {
            name: old.name.clone(),
            owner: old.owner.clone(),
            tenant: old.tenant.clone(),
            capabilities: old.capabilities.clone(),
            expires_at: old.expires_at,
            metadata: old.metadata.clone(),
            rate_limit: old.rate_limit,
            ip_allowlist: old.ip_allowlist.clone(),
            // A decoy's replacement is a decoy.
            honeytoken: old.honeytoken,
        }
    }
}

/// A name or owner is shown in listings and logs: it must be visible text on one line.
fn validate_name(field: &'static str, value: &str) -> Result<(), ServiceError> {
    match name_problem(value) {
        Some(problem) => Err(ServiceError::InvalidName { field, problem }),
        None => Ok(()),
    }
}

/// What is wrong with `value` as a key name or owner, if anything. Its length is counted
/// in characters, as JSON Schema's `maxLength` counts, so the published schema can state
/// the rule exactly.
pub(crate) fn name_problem(value: &str) -> Option<NameProblem> {
    if value.trim().is_empty() {
        Some(NameProblem::Empty)
    } else if value.chars().count() > MAX_KEY_NAME_LEN {
        Some(NameProblem::TooLong)
    } else {
        value.chars().find_map(unsuitable)
    }
}

/// Controls (Cc), invisible format characters (Cf: bidirectional overrides, zero-width
/// spaces, byte-order marks) and line or paragraph separators (Zl, Zp).
pub(crate) fn unsuitable(c: char) -> Option<NameProblem> {
    match c.general_category() {
        GeneralCategory::Control => Some(NameProblem::ControlCharacter),
        GeneralCategory::Format => Some(NameProblem::FormatCharacter),
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
            Some(NameProblem::LineSeparator)
        }
        _ => None,
    }
}
