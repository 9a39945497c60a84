//! [`ClientSlots`]: a client's cold verifications never outnumber the failures it has
//! left before its lockout.
//!
//! A failure is counted only after its slow hash ends, so without this bound a client
//! that sends many wrong secrets at once would have every one of them hashed before the
//! first failure was counted. Here a cold verification takes a slot first; a client may
//! hold at most as many slots as its lockout budget has failures left, and the rest
//! wait. A slot is released only after its failure (if any) has been counted, so the next
//! waiter sees the smaller budget, or the lockout. Successes cost no budget, so a gateway
//! presenting many valid keys at once is slowed to that concurrency but never refused.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use keyward_limit::{FailureBudget, IpGroup};
use tokio::sync::Notify;

use crate::error::AuthError;
use crate::limits::Limits;
use crate::registry::{Registry, Ticket};

#[derive(Default)]
pub(crate) struct ClientState {
    in_flight: Mutex<u32>,
    released: Notify,
}

impl ClientState {
    /// Takes a slot when fewer than `failures_left` are in flight.
    fn try_take(&self, failures_left: u32) -> bool {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let free = *in_flight < failures_left;
        if free {
            *in_flight += 1;
        }
        free
    }
}

/// Cold verifications in flight, per client group; an entry lives while its client has
/// one in flight or waiting.
pub(crate) struct ClientSlots {
    clients: Arc<Registry<IpGroup, ClientState>>,
}

/// One cold verification's place in its client's budget. It owns its hold, so a
/// verification whose request was cancelled can keep it until its failure is counted.
pub(crate) struct ClientSlot {
    ticket: Ticket<Arc<Registry<IpGroup, ClientState>>, IpGroup, ClientState>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut in_flight = self
            .ticket
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *in_flight -= 1;
        drop(in_flight);
        self.ticket.released.notify_waiters();
    }
}

impl ClientSlots {
    pub(crate) fn new() -> Self {
        ClientSlots {
            clients: Arc::new(Registry::new()),
        }
    }

    /// Waits for a slot of `ip`'s budget. `Ok(None)` without a lockout (nothing to
    /// bound); 429 once the client is locked out.
    pub(crate) async fn acquire(
        &self,
        ip: IpAddr,
        limits: &Limits,
    ) -> Result<Option<ClientSlot>, AuthError> {
        if limits.guard.is_none() {
            return Ok(None);
        }
        let ticket = self.clients.join_owned(IpGroup::of(ip));
        loop {
            let released = ticket.released.notified();
            tokio::pin!(released);
            // Registered before the count is read, so a release in between still wakes us.
            released.as_mut().enable();
            let failures_left = match limits.budget(ip).await? {
                Some(FailureBudget::Open { failures_left }) => failures_left,
                Some(FailureBudget::Locked { retry_after }) => {
                    return Err(AuthError::TooManyFailedAttempts { retry_after });
                }
                // The guard backend failed and the deployment fails open.
                None => return Ok(None),
            };
            if ticket.try_take(failures_left) {
                break;
            }
            // Every slot is taken by a verification whose failure would still count:
            // one of them ends (and is counted) before we look again.
            released.await;
        }
        Ok(Some(ClientSlot { ticket }))
    }
}
