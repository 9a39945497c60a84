//! [`KeyService::verify_presented`]: whether a key someone reported is one of ours,
//! without using it.

use keyward_store::StoreError;
use zeroize::Zeroizing;

use crate::error::ServiceError;
use crate::hash_pool::{HashRefused, Standing};
use crate::service::{KeyService, KeySummary};

impl KeyService {
    /// Whether `key` is one of this store's keys: it parses as a key of the configured
    /// format (checksum included), its id names a stored key and its secret verifies
    /// against the stored hash. Returns that key's summary, whatever its state
    /// (revoked, disabled, expired, a [honeytoken](crate::MintRequest::honeytoken)),
    /// or `None`.
    ///
    /// For a key *reported* (a secret-scanning alert, a scan of files), never for a
    /// request: the check leaves no trace. It counts toward no lockout or cool-down,
    /// spends no rate limit, fills no cache, records no use (`last_used_at`, used
    /// capabilities) and raises no event. An id that names no key costs a slow hash
    /// too, so neither the answer nor its timing tells an unknown id from a wrong
    /// secret.
    ///
    /// The slow hash runs on the shared slow-hash pool, bounded as the request path's
    /// are, and never in the slot kept for request verifications of keys that have not
    /// failed.
    ///
    /// # Errors
    ///
    /// [`ServiceError::Store`] when the store fails, or when the slow-hash queue is
    /// full or shut down (ask again later).
    pub async fn verify_presented(&self, key: &str) -> Result<Option<KeySummary>, ServiceError> {
        let core = self.core();
        let Ok(presented) = core.format.parse(key) else {
            return Ok(None);
        };
        let id = presented.id();
        let stored = match core.store.get(&id).await {
            Ok(record) => Some(record.hash),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let secret = Zeroizing::new(presented.secret().to_vec());
        let known = stored.is_some();
        let hash = core
            .hashes
            .start_bounded(Standing::Suspect, move |hasher| match stored {
                Some(hash) => hasher.verify(&secret, &hash),
                // As long as verifying a wrong secret: the same work, then no.
                None => hasher.hash(&secret).map(|_| false),
            })
            .await
            .map_err(|refused| {
                ServiceError::Store(StoreError::unavailable(match refused {
                    HashRefused::QueueFull => "the slow-hash queue is full",
                    HashRefused::ShutDown => "the slow-hash pool is shut down",
                }))
            })?;
        let verified = hash.await.map_err(|_| {
            ServiceError::Store(StoreError::unavailable("the slow-hash pool is shut down"))
        })?;
        match verified {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) => {
                if known {
                    tracing::error!(target: "keyward", key_id = %id, error = %e, "stored hash is unreadable");
                }
                return Ok(None);
            }
        }
        // The record as it is now (revoked or deleted meanwhile, say). A key id's
        // secret never changes, so the verified secret still belongs to it.
        match self.get(&id).await {
            Ok(summary) => Ok(Some(summary)),
            Err(ServiceError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
