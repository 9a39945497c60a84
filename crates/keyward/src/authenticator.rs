use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use keyward_clock::Timestamp;
use keyward_format::{KeyId, PresentedKey};
use keyward_limit::IpGroup;
use keyward_scope::Requirement;
use keyward_store::{Actor, AuditAction, AuditEntry, KeyRecord, StoreError, UsageUpdate};
use zeroize::Zeroizing;

use crate::cache::CacheEntry;
use crate::client_slots::ClientSlot;
use crate::core::Core;
use crate::credential::Credential;
use crate::digest::Digest;
use crate::error::{AuthError, InvalidKeyReason};
use crate::events::KeyEvent;
use crate::hash_pool::{HashRefused, Standing};
use crate::metrics::Lookup;
use crate::principal::Principal;
use crate::unfinished::{UnfinishedVerification, is_failure};

/// The request path: a presented credential in, a [`Principal`] or a typed refusal out.
///
/// A cached valid key costs a parse, one map lookup, a keyed BLAKE3 digest and a
/// constant-time compare: no allocation, no lock held across an await, no slow hash, no
/// store round trip. See `docs/authentication.md` for what is and is not cached.
///
/// Cheap to clone; every clone shares one cache.
#[derive(Clone)]
pub struct Authenticator {
    core: Arc<Core>,
}

/// What the cache can say about a presented key without awaiting.
enum Cached {
    /// Decided from the cache.
    Done(Result<Principal, AuthError>),
    /// The secret matched an entry that is due for a refresh from the store.
    Stale { hash: Box<str> },
    /// No entry.
    Miss,
}

impl Authenticator {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Authenticator { core }
    }

    /// Authenticates `credential` for a route requiring `requirement`, from `client_ip`.
    ///
    /// Order: client IP lockout (429, before anything else) → parse (401, no store
    /// access) → cache, or store + slow hash within the client's failure budget and the
    /// key id's cool-down (401; 503 when the hash queue is full) → revoked / disabled /
    /// expired (401) → IP allowlist (403) → capability (403) → the key's rate limit
    /// (429). Every 401 counts toward the client IP's lockout; 403 and 429 do not.
    /// Refusals are logged with their reason and client group, never with the key, the
    /// first of each kind at once and then at most one line per interval.
    pub async fn authenticate(
        &self,
        credential: Credential<'_>,
        requirement: &Requirement,
        client_ip: IpAddr,
    ) -> Result<Principal, AuthError> {
        self.authenticate_from(credential, requirement, client_ip, None)
            .await
    }

    /// [`authenticate`](Self::authenticate), with the request's `User-Agent` as sent
    /// (the HTTP gate passes it). It is read only when the key presented is a
    /// honeytoken, to name the client in the alert.
    ///
    /// A honeytoken is answered exactly as a key id that does not exist (401
    /// `invalid_key`, no slow hash), is never cached, and locks its client out at once:
    /// its next request is 429 `too_many_failed_attempts`, whatever key it presents. The
    /// alert is a `warn` line (event `honeytoken_presented`), a
    /// [`KeyEvent::Honeytoken`] and an audit entry (`honeytoken`, by `automatic`, with
    /// the client IP and the user agent), appended off the request path.
    pub async fn authenticate_from(
        &self,
        credential: Credential<'_>,
        requirement: &Requirement,
        client_ip: IpAddr,
        user_agent: Option<&[u8]>,
    ) -> Result<Principal, AuthError> {
        // A cold verification's place in the client's failure budget, held until its
        // failure (if any) is counted below.
        let mut slot = None;
        let mut decoy = None;
        let mut result = self
            .authenticate_inner(credential, requirement, client_ip, &mut slot, &mut decoy)
            .await;
        if let Some(decoy) = decoy {
            // The answer an unknown id gets, a budget spent meanwhile included (429).
            if let Some(locked) = self.core.limits.spent_now(client_ip) {
                result = Err(locked);
            }
            self.core.limits.lock(client_ip).await;
            self.honeytoken_presented(&decoy, client_ip, user_agent);
        } else if let Err(e) = &result
            && e.counts_as_failure()
        {
            match self.core.limits.spent_now(client_ip) {
                Some(locked) => result = Err(locked),
                None => self.core.limits.record_failure(client_ip).await,
            }
        }
        self.observe(&result, credential, client_ip);
        drop(slot);
        result
    }

    /// [`authenticate`](Self::authenticate)'s answer when it can be given without
    /// waiting: a cached key, keyward's in-memory rate limiter (or none) and a lockout
    /// that answers in memory (the defaults). `None` when something would wait (a cache
    /// miss or refresh, a Redis limiter or guard) or the limiter is not keyward's, with
    /// nothing spent or counted: call `authenticate` then.
    ///
    /// What adapters call first, so that a cached key costs no boxed future.
    pub fn authenticate_now(
        &self,
        credential: Credential<'_>,
        requirement: &Requirement,
        client_ip: IpAddr,
    ) -> Option<Result<Principal, AuthError>> {
        let mut result = self.decide_now(credential, requirement, client_ip)?;
        if let Err(e) = &result
            && e.counts_as_failure()
        {
            match self.core.limits.spent_now(client_ip) {
                Some(locked) => result = Err(locked),
                None => self.core.limits.record_failure_now(client_ip)?,
            }
        }
        self.observe(&result, credential, client_ip);
        Some(result)
    }

    #[inline]
    fn decide_now(
        &self,
        credential: Credential<'_>,
        requirement: &Requirement,
        client_ip: IpAddr,
    ) -> Option<Result<Principal, AuthError>> {
        if !self.core.limits.rate_decided_now {
            return None;
        }
        if let Err(e) = self.core.limits.check_lockout_now(client_ip)? {
            return Some(Err(e));
        }
        let presented = match self.parse(credential) {
            Ok(presented) => presented,
            Err(e) => return Some(Err(e)),
        };
        let principal = match self.first_lookup(&presented, client_ip).0 {
            Cached::Done(Ok(principal)) => {
                self.core.metrics.lookup(Lookup::Hit);
                principal
            }
            Cached::Done(Err(e)) => {
                self.core.metrics.lookup(Lookup::Hit);
                return Some(Err(e));
            }
            // Not counted: `authenticate` looks again and counts that.
            Cached::Stale { .. } | Cached::Miss => return None,
        };
        if let Err(e) = check_requirement(&principal, requirement) {
            return Some(Err(e));
        }
        let info = principal.info();
        let decision = self.core.limits.check_rate_now(info)?;
        Some(decision.map(|decision| principal.with_rate_limit(decision)))
    }

    #[inline]
    async fn authenticate_inner(
        &self,
        credential: Credential<'_>,
        requirement: &Requirement,
        client_ip: IpAddr,
        slot: &mut Option<ClientSlot>,
        decoy: &mut Option<Box<KeyRecord>>,
    ) -> Result<Principal, AuthError> {
        if self.core.limits.together()
            && let Some(done) = self
                .cached_together(credential, requirement, client_ip)
                .await
        {
            return done;
        }
        self.core.limits.check_lockout(client_ip).await?;
        let principal = self.verify(credential, client_ip, slot, decoy).await?;
        check_requirement(&principal, requirement)?;
        let info = principal.info();
        let decision = self.core.limits.check_rate(info).await?;
        Ok(principal.with_rate_limit(decision))
    }

    /// With one backend for both limits: a key verified from the cache that meets
    /// `requirement` asks its client's lockout and its rate limit in one call (one round
    /// trip to Redis). `None` for anything else (a refusal, a slow path), which goes the
    /// usual way: the lockout first, before any slow hash.
    async fn cached_together(
        &self,
        credential: Credential<'_>,
        requirement: &Requirement,
        client_ip: IpAddr,
    ) -> Option<Result<Principal, AuthError>> {
        let presented = self.parse(credential).ok()?;
        let Cached::Done(Ok(principal)) = self.first_lookup(&presented, client_ip).0 else {
            return None;
        };
        check_requirement(&principal, requirement).ok()?;
        self.core.metrics.lookup(Lookup::Hit);
        let info = principal.info();
        let decision = self.core.limits.check_request(client_ip, info).await;
        Some(decision.map(|decision| principal.with_rate_limit(decision)))
    }

    /// Verifies `credential` and returns its principal, without a capability check.
    async fn verify(
        &self,
        credential: Credential<'_>,
        client_ip: IpAddr,
        slot: &mut Option<ClientSlot>,
        decoy: &mut Option<Box<KeyRecord>>,
    ) -> Result<Principal, AuthError> {
        let presented = self.parse(credential)?;
        let (cached, digest, now) = self.first_lookup(&presented, client_ip);
        // The slow paths are boxed: inline, their state would make every request's
        // future ~2 KiB to move, cached hits included.
        match cached {
            Cached::Done(result) => {
                self.core.metrics.lookup(Lookup::Hit);
                result
            }
            Cached::Stale { hash } => {
                self.core.metrics.lookup(Lookup::Stale);
                Box::pin(self.refresh(presented, digest, &hash, now, client_ip, slot, decoy)).await
            }
            Cached::Miss => {
                self.core.metrics.lookup(Lookup::Miss);
                Box::pin(self.verify_uncached(presented, digest, now, client_ip, slot, decoy)).await
            }
        }
    }

    #[inline]
    fn parse<'a>(&self, credential: Credential<'a>) -> Result<PresentedKey<'a>, AuthError> {
        let parsed = match credential {
            Credential::Key(key) => self.core.format.parse(key),
            // `-u sk_live_…:` (Stripe's form): the whole key as the Basic user name.
            Credential::Pair { id, secret: "" } => self.core.format.parse(id),
            Credential::Pair { id, secret } => self.core.format.parse_pair(id, secret),
        };
        parsed.map_err(|e| AuthError::InvalidKey(InvalidKeyReason::Malformed(e)))
    }

    /// The first cache lookup of a request. The entry's lines are loaded before the
    /// digest is computed, so at scale the memory misses overlap the hashing instead of
    /// following it.
    #[inline]
    fn first_lookup(
        &self,
        presented: &PresentedKey<'_>,
        client_ip: IpAddr,
    ) -> (Cached, Digest, Timestamp) {
        self.core.cache.with(&presented.id(), |entry| {
            if let Some(entry) = entry {
                entry.prefetch();
            }
            let now = self.core.clock.now();
            let digest = self.core.digest_key.digest(presented.secret());
            let cached = match entry {
                Some(entry) => self.decide(entry, &digest, now, client_ip),
                None => Cached::Miss,
            };
            (cached, digest, now)
        })
    }

    #[inline]
    fn cached(&self, id: KeyId, digest: &Digest, now: Timestamp, client_ip: IpAddr) -> Cached {
        self.core.cache.with(&id, |entry| match entry {
            Some(entry) => self.decide(entry, digest, now, client_ip),
            None => Cached::Miss,
        })
    }

    #[inline]
    fn decide(
        &self,
        entry: &CacheEntry,
        digest: &Digest,
        now: Timestamp,
        client_ip: IpAddr,
    ) -> Cached {
        // A key's secret never changes, so a cached digest is authoritative: a
        // mismatch is a wrong secret, answered without the store or a slow hash.
        if !entry.digest().ct_eq(digest) {
            return Cached::Done(Err(AuthError::InvalidKey(InvalidKeyReason::WrongSecret)));
        }
        if now.saturating_duration_since(entry.loaded_at()) >= self.core.config.cache_refresh {
            return Cached::Stale {
                hash: entry.key().hash.clone(),
            };
        }
        if let Some(after) = self.core.config.expire_unused_after
            && entry.key().unused_for(after, now)
            && !entry.key().unused_for(after, entry.loaded_at())
        {
            // Idle by this entry, read before its deadline: another instance may have
            // used the key since and flushed it. One store read decides; the entry it
            // loads is read after the deadline and refuses from the cache.
            return Cached::Stale {
                hash: entry.key().hash.clone(),
            };
        }
        Cached::Done(entry.admit(now, client_ip, self.core.config.expire_unused_after))
    }

    /// Cache miss: load the record and verify the slow hash, within three bounds.
    ///
    /// 1. The client's failure budget: a slot in [`ClientSlots`] first, so concurrent
    ///    guesses never run more slow hashes than the lockout allows (429 once locked).
    /// 2. One verification per key id at a time, so concurrent first requests with the
    ///    same secret share one slow hash; then the id's cool-down, so guesses at one id
    ///    from many addresses are bounded too.
    /// 3. The hash queue's depth: 503 at once rather than a wait of seconds.
    async fn verify_uncached(
        &self,
        presented: PresentedKey<'_>,
        digest: Digest,
        now: Timestamp,
        client_ip: IpAddr,
        slot: &mut Option<ClientSlot>,
        decoy: &mut Option<Box<KeyRecord>>,
    ) -> Result<Principal, AuthError> {
        if slot.is_none() {
            *slot = self
                .core
                .client_slots
                .acquire(client_ip, &self.core.limits)
                .await?;
        }
        let id = presented.id();
        let ticket = self.core.inflight.join(id);
        let _verifying = ticket.lock().await;
        // Another request may have filled the cache while this one waited.
        match self.cached(id, &digest, now, client_ip) {
            Cached::Done(result) => return result,
            Cached::Stale { .. } | Cached::Miss => {}
        }
        if self.core.key_cooldown.is_cooling(&id, now) {
            return Err(AuthError::InvalidKey(InvalidKeyReason::KeyCoolingDown));
        }
        self.load_and_verify(presented, digest, now, client_ip, slot, decoy)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn load_and_verify(
        &self,
        presented: PresentedKey<'_>,
        digest: Digest,
        now: Timestamp,
        client_ip: IpAddr,
        slot: &mut Option<ClientSlot>,
        decoy: &mut Option<Box<KeyRecord>>,
    ) -> Result<Principal, AuthError> {
        let core = &self.core;
        let id = presented.id();
        let generation = core.cache.generation();
        let record = core
            .store
            .get(&id)
            .await
            .map_err(|e| self.store_failure(e))?;
        if record.honeytoken {
            // Answered as an id that does not exist, before any slow hash: neither the
            // answer nor its timing tells a decoy from a key that was never minted.
            *decoy = Some(Box::new(record));
            return Err(AuthError::InvalidKey(InvalidKeyReason::UnknownKey));
        }

        let secret = Zeroizing::new(presented.secret().to_vec());
        let hash = record.hash.clone();
        let standing = if core.key_cooldown.is_suspect(&id, now) {
            Standing::Suspect
        } else {
            Standing::Clean
        };
        let hash = core
            .hashes
            .start_bounded(standing, move |hasher| hasher.verify(&secret, &hash))
            .await
            .map_err(|refused| {
                if refused == HashRefused::QueueFull {
                    tracing::warn!(target: "keyward", queued = core.hashes.queued(), "slow-hash queue full; refusing a cold verification");
                }
                core.unavailable()
            })?;
        // From here a cancelled request still has its failure counted (and keeps its
        // client's slot until then): hanging up mid-hash is no free guess.
        let unfinished =
            UnfinishedVerification::new(Arc::clone(core), id, now, client_ip, slot.take(), hash);
        let (verified, returned) = unfinished.finish().await;
        *slot = returned;
        if is_failure(&verified) {
            core.key_cooldown.record_failure(id, now);
        }
        match verified {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => return Err(AuthError::InvalidKey(InvalidKeyReason::WrongSecret)),
            Ok(Err(e)) => {
                tracing::error!(target: "keyward", key_id = %id, error = %e, "stored hash is unreadable");
                return Err(AuthError::InvalidKey(InvalidKeyReason::WrongSecret));
            }
            Err(_) => return Err(core.unavailable()),
        }
        if core.hasher.needs_rehash(&record.hash) {
            self.rehash_later(id, Zeroizing::new(presented.secret().to_vec()));
        }

        let effective = core.effective_capabilities(&record).await?;
        let entry = core.cache_entry(&record, digest, effective, now);
        let result = entry.admit(now, client_ip, core.config.expire_unused_after);
        core.cache.insert_loaded(entry, generation);
        result
    }

    /// Stale entry whose secret matched: re-read the record (no slow hash unless the
    /// stored hash changed). When the store is down the entry keeps serving: the secret
    /// is verified, only news of a change made elsewhere is late.
    #[allow(clippy::too_many_arguments)]
    async fn refresh(
        &self,
        presented: PresentedKey<'_>,
        digest: Digest,
        cached_hash: &str,
        now: Timestamp,
        client_ip: IpAddr,
        slot: &mut Option<ClientSlot>,
        decoy: &mut Option<Box<KeyRecord>>,
    ) -> Result<Principal, AuthError> {
        let core = &self.core;
        let id = presented.id();
        let generation = core.cache.generation();
        match core.store.get(&id).await {
            Ok(record) if record.hash == cached_hash => {
                let effective = core.effective_capabilities(&record).await?;
                let entry = core.cache_entry(&record, digest, effective, now);
                let result = entry.admit(now, client_ip, core.config.expire_unused_after);
                core.cache.insert_loaded(entry, generation);
                result
            }
            Ok(_) => {
                core.cache.evict(&id);
                self.verify_uncached(presented, digest, now, client_ip, slot, decoy)
                    .await
            }
            Err(StoreError::NotFound) => {
                core.cache.evict(&id);
                Err(AuthError::InvalidKey(InvalidKeyReason::UnknownKey))
            }
            Err(e) => {
                tracing::warn!(target: "keyward", key_id = %id, error = %e, "cache refresh failed");
                match core.cache.get(&id) {
                    // An entry only due for its refresh keeps serving; one invalidated by
                    // a change made elsewhere may be revoked, so it waits for the store.
                    Some(entry) if entry.digest().ct_eq(&digest) && !entry.is_invalidated() => {
                        entry.set_loaded_at(now);
                        entry.admit(now, client_ip, core.config.expire_unused_after)
                    }
                    _ => Err(core.unavailable()),
                }
            }
        }
    }

    /// The alert for a presented honeytoken: a warning, an event, and an audit entry
    /// appended off the request path, so the answer waits for none of them.
    fn honeytoken_presented(
        &self,
        decoy: &KeyRecord,
        client_ip: IpAddr,
        user_agent: Option<&[u8]>,
    ) {
        let core = &self.core;
        let user_agent = user_agent.map(printable_user_agent);
        tracing::warn!(
            target: "keyward",
            event = "honeytoken_presented",
            key = %decoy.masked(),
            key_id = %decoy.id,
            client_ip = %client_ip,
            user_agent = ?user_agent.as_deref().unwrap_or(""),
            "a honeytoken was presented: where it was planted has leaked"
        );
        core.events.emit(|| KeyEvent::Honeytoken {
            key: decoy.id,
            client: client_ip,
            user_agent: user_agent.clone(),
        });
        let mut entry = AuditEntry::new(
            core.clock.now(),
            AuditAction::Honeytoken,
            decoy.id,
            Actor::Automatic,
        );
        entry.client_ip = Some(client_ip);
        entry.note = user_agent;
        let store = Arc::clone(&core.store);
        let events = core.events.clone();
        tokio::spawn(async move {
            match store.append_audit(&entry).await {
                // Like every entry, published once it is in.
                Ok(()) => events.emit(|| KeyEvent::Changed(entry)),
                Err(e) => {
                    tracing::warn!(target: "keyward", key_id = %entry.key, error = %e, "honeytoken audit entry not appended")
                }
            }
        });
    }

    fn store_failure(&self, e: StoreError) -> AuthError {
        match e {
            StoreError::NotFound => AuthError::InvalidKey(InvalidKeyReason::UnknownKey),
            other => {
                tracing::warn!(target: "keyward", error = %other, "key store failed during authentication");
                self.core.unavailable()
            }
        }
    }

    /// Re-hashes a verified secret with the current parameters, off the request path.
    fn rehash_later(&self, id: KeyId, secret: Zeroizing<Vec<u8>>) {
        let core = Arc::clone(&self.core);
        tokio::spawn(async move {
            let Some(Ok(hash)) = core.run_hash(move |h| h.hash(&secret)).await else {
                return;
            };
            match core.store.update_hash(&id, &hash).await {
                Ok(()) => tracing::info!(target: "keyward", event = "key_rehashed", key_id = %id),
                Err(e) => {
                    tracing::warn!(target: "keyward", key_id = %id, error = %e, "re-hash not stored")
                }
            }
        });
    }

    /// Drops every cached key of `owner`, so a changed role applies on their next
    /// request instead of at the next cache refresh.
    pub fn owner_changed(&self, owner: &str) {
        self.core.cache.evict_owner(owner);
    }

    /// Drops one key from this process's cache (a change made elsewhere). Its next
    /// request is a cache miss: a store read and a slow hash.
    pub fn evict(&self, id: &KeyId) {
        self.core.cache.evict(id);
    }

    /// Makes one cached key re-read its record from the store on its next request, for
    /// a change made elsewhere (another instance revoked or expired it). That request
    /// sees the change and costs one store read but no slow hash, since the stored hash
    /// is the one already verified; a changed hash is verified again. What a
    /// cross-instance invalidation listener should call.
    pub fn invalidate(&self, id: &KeyId) {
        self.core.cache.mark_stale(id);
    }

    /// Drops the whole cache (e.g. after missing invalidation events).
    pub fn clear_cache(&self) {
        self.core.cache.clear();
    }

    /// Counts a refusal answered before a credential reached the authenticator (none
    /// in the request, a malformed header): keyward's HTTP gate reports those here, so
    /// `keyward_auth_requests_total` has every outcome.
    pub(crate) fn refused_before(&self, e: &AuthError) {
        self.core.metrics.refused(e.code());
    }

    /// The `Retry-After` seconds answered when a backend is unavailable.
    pub fn unavailable_retry_after(&self) -> u64 {
        self.core.config.unavailable_retry_after
    }

    /// Cold verifications waiting for a slow-hash slot right now.
    pub fn queued_verifications(&self) -> usize {
        self.core.hashes.queued()
    }

    /// Key ids with a cold verification running or waiting right now.
    pub fn verifications_in_flight(&self) -> usize {
        self.core.inflight.len()
    }

    /// Keys in the verification cache.
    pub fn cached_keys(&self) -> usize {
        self.core.cache.len()
    }

    /// Writes recorded `last_used_at` times to the store in one batch, with the
    /// capabilities each key used for the first time since the last flush
    /// ([`KeyStore::record_usage`](keyward_store::KeyStore::record_usage); only
    /// `last_used_at` when [`crate::Config::record_capability_usage`] is off); returns
    /// how many keys were written. On failure the batch is kept for the next flush.
    pub async fn flush_usage(&self) -> Result<usize, StoreError> {
        self.core.refresh_gauges();
        let batch = self.core.cache.take_usage();
        if batch.is_empty() {
            return Ok(0);
        }
        let written = if self.core.config.record_capability_usage {
            let catalog = &self.core.catalog;
            let updates: Vec<UsageUpdate> = batch
                .iter()
                .map(|(id, pending)| UsageUpdate {
                    id: *id,
                    last_used_at: pending.at,
                    used: crate::least_privilege::names(catalog, &pending.capabilities),
                })
                .collect();
            self.core.store.record_usage(&updates).await
        } else {
            let touches: Vec<(KeyId, Timestamp)> = batch
                .iter()
                .map(|(id, pending)| (*id, pending.at))
                .collect();
            self.core.store.touch_last_used(&touches).await
        };
        match written {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                self.core.cache.restore_usage(batch);
                Err(e)
            }
        }
    }

    /// Flushes usage every `every` on the current tokio runtime until the returned
    /// handle is aborted. Each flush also sets the `keyward_cache_entries` and
    /// `keyward_lockout_tracked_clients` gauges.
    pub fn spawn_usage_flusher(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = this.flush_usage().await {
                    tracing::warn!(target: "keyward", error = %e, "last_used_at flush failed");
                }
            }
        })
    }
}

impl Authenticator {
    /// Counts an authentication's outcome; a refusal is also logged and published.
    #[inline]
    fn observe(
        &self,
        result: &Result<Principal, AuthError>,
        credential: Credential<'_>,
        client_ip: IpAddr,
    ) {
        match result {
            Ok(_) => self.core.metrics.ok(),
            Err(e) => self.refused(e, credential, client_ip),
        }
    }

    /// Every refusal: its counters, its log line (sampled) and its events.
    #[inline(never)]
    fn refused(&self, e: &AuthError, credential: Credential<'_>, client_ip: IpAddr) {
        let core = &*self.core;
        let code = e.code();
        core.metrics.refused(code);
        if let AuthError::RateLimited { .. } = e {
            core.metrics.rate_limited.increment(1);
        }
        log_refusal(e, credential, client_ip, core);
        if !core.events.enabled() {
            return;
        }
        let client = IpGroup::of(client_ip);
        let key = key_id(credential, core);
        match (e, key) {
            (AuthError::KeyExpired, Some(key)) => {
                core.events
                    .emit(|| KeyEvent::ExpiredKeyUsed { key, client });
            }
            (AuthError::RateLimited { retry_after, .. }, Some(key)) => {
                core.events.emit(|| KeyEvent::RateLimited {
                    key,
                    client,
                    retry_after: *retry_after,
                });
            }
            _ => {}
        }
        core.events.emit(|| KeyEvent::Refused { code, client, key });
    }
}

/// The presented key's public id, when it parses (never the key).
fn key_id(credential: Credential<'_>, core: &Core) -> Option<KeyId> {
    match credential {
        Credential::Key(key) => core.format.parse(key).ok().map(|p| p.id()),
        Credential::Pair { id, secret: "" } => core.format.parse(id).ok().map(|p| p.id()),
        Credential::Pair { id, secret } => core.format.parse_pair(id, secret).ok().map(|p| p.id()),
    }
}

/// A user agent as the alert keeps it: text, without control characters (PostgreSQL
/// refuses NUL in text, and a terminal should not run what a client sent), at most the
/// audit note's length.
fn printable_user_agent(raw: &[u8]) -> String {
    let mut printable = String::new();
    for c in String::from_utf8_lossy(raw)
        .chars()
        .filter(|c| !c.is_control())
    {
        if printable.len() + c.len_utf8() > AuditEntry::MAX_NOTE_LEN {
            break;
        }
        printable.push(c);
    }
    printable
}

/// 403 `insufficient_capability` naming what was missing, when `principal` falls short;
/// otherwise records the capabilities the requirement used (see `KeyInfo::record_use`).
#[inline]
fn check_requirement(principal: &Principal, requirement: &Requirement) -> Result<(), AuthError> {
    if requirement.is_met_by(principal.capabilities()) {
        principal.info().record_use(requirement);
        return Ok(());
    }
    Err(requirement
        .check(principal.capabilities())
        .map_or_else(AuthError::InsufficientCapability, |()| {
            AuthError::InvalidRequest("requirement check disagreed")
        }))
}

/// The `authentication_failed` event: the code, the reason, the client's group and,
/// when the credential parsed, the public key id. Never the key. The first of each
/// reason from a client group is written at once, then one line per interval with the
/// count of those it stands for.
fn log_refusal(e: &AuthError, credential: Credential<'_>, client_ip: IpAddr, core: &Core) {
    let reason = match e {
        AuthError::InvalidKey(reason) => reason.as_str(),
        other => other.code().as_str(),
    };
    let group = IpGroup::of(client_ip);
    let Some(due) = core.refusal_log.admit(group, reason, core.clock.now()) else {
        return;
    };
    let key_id = key_id(credential, core);
    let code = e.code().as_str();
    let suppressed = due.suppressed;
    match (due.overflow, key_id) {
        (true, _) => tracing::info!(
            target: "keyward",
            event = "authentication_failed",
            code,
            reason,
            client = "other clients",
            suppressed,
        ),
        (false, Some(key_id)) => tracing::info!(
            target: "keyward",
            event = "authentication_failed",
            code,
            reason,
            client = %group,
            key_id = %key_id,
            suppressed,
        ),
        (false, None) => tracing::info!(
            target: "keyward",
            event = "authentication_failed",
            code,
            reason,
            client = %group,
            suppressed,
        ),
    }
}
