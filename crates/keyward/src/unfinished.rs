//! [`UnfinishedVerification`]: a slow hash whose failure is counted even if its request
//! is cancelled.
//!
//! A hash cannot be stopped once it runs. If the request awaiting it were dropped and
//! nothing else waited, a client could send a guess, hang up mid-hash and send the next:
//! every guess hashed, none counted, no lockout and no cool-down. Dropped while its hash
//! runs, this hands the hash, the client's slot and what to count to a task that waits
//! for the result and counts a failure as the request would have.

use std::net::IpAddr;
use std::sync::Arc;

use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_hash::HashError;
use tokio::task::{JoinError, JoinHandle};

use crate::client_slots::ClientSlot;
use crate::core::Core;

/// What a verification's hash answered.
pub(crate) type Verified = Result<Result<bool, HashError>, JoinError>;

pub(crate) struct UnfinishedVerification {
    core: Arc<Core>,
    id: KeyId,
    now: Timestamp,
    client_ip: IpAddr,
    slot: Option<ClientSlot>,
    hash: Option<JoinHandle<Result<bool, HashError>>>,
}

impl UnfinishedVerification {
    pub(crate) fn new(
        core: Arc<Core>,
        id: KeyId,
        now: Timestamp,
        client_ip: IpAddr,
        slot: Option<ClientSlot>,
        hash: JoinHandle<Result<bool, HashError>>,
    ) -> Self {
        UnfinishedVerification {
            core,
            id,
            now,
            client_ip,
            slot,
            hash: Some(hash),
        }
    }

    /// Waits for the hash; gives back its answer and the client's slot.
    pub(crate) async fn finish(mut self) -> (Verified, Option<ClientSlot>) {
        let verified = match self.hash.as_mut() {
            Some(hash) => hash.await,
            None => unreachable!("the hash is taken only here or on drop"),
        };
        self.hash = None;
        (verified, self.slot.take())
    }
}

/// Whether a hash's answer is a failure to count: a wrong secret, or a stored hash that
/// cannot be read (answered as a wrong secret).
pub(crate) fn is_failure(verified: &Verified) -> bool {
    matches!(verified, Ok(Ok(false) | Err(_)))
}

impl Drop for UnfinishedVerification {
    fn drop(&mut self) {
        let Some(hash) = self.hash.take() else {
            return;
        };
        let (core, id, now, client_ip) =
            (Arc::clone(&self.core), self.id, self.now, self.client_ip);
        let slot = self.slot.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if is_failure(&hash.await) {
                        core.key_cooldown.record_failure(id, now);
                        core.limits.record_failure(client_ip).await;
                    }
                    drop(slot);
                });
            }
            // No runtime to wait on: count it, as a guess is the likelier reason.
            Err(_) => {
                core.key_cooldown.record_failure(id, now);
                let _ = core.limits.record_failure_now(client_ip);
                drop(slot);
            }
        }
    }
}
