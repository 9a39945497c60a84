//! [`WatchedGuard`]: the configured failure guard, reporting each lockout it starts
//! (`keyward_lockouts_total`, [`KeyEvent::LockedOut`]).
//!
//! A guard answers `Locked` to the failure that locks a client out; the request path
//! counts no further failure from a client it already sees locked, so each lockout is
//! reported once (a shared guard may see two concurrent failures lock one client and
//! report it twice).

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use keyward_limit::{Cleanup, FailureBudget, FailureGuard, GuardDecision, IpGroup, LimitError};
use metrics::{Counter, Gauge};

use crate::events::{Events, KeyEvent};

/// The in-memory guard's table, for `keyward_lockout_tracked_clients`.
pub(crate) type TrackedClients = Arc<dyn Cleanup + Send + Sync>;

pub(crate) struct WatchedGuard {
    inner: Arc<dyn FailureGuard>,
    lockouts: Counter,
    tracked: Option<(TrackedClients, Gauge)>,
    events: Events,
}

impl WatchedGuard {
    pub(crate) fn new(
        inner: Arc<dyn FailureGuard>,
        lockouts: Counter,
        tracked: Option<(TrackedClients, Gauge)>,
        events: Events,
    ) -> Self {
        WatchedGuard {
            inner,
            lockouts,
            tracked,
            events,
        }
    }

    fn recorded(
        &self,
        ip: IpAddr,
        decision: Result<GuardDecision, LimitError>,
    ) -> Result<GuardDecision, LimitError> {
        if let Ok(GuardDecision::Locked { retry_after }) = decision {
            self.lockouts.increment(1);
            if let Some((table, gauge)) = &self.tracked {
                gauge.set(table.tracked() as f64);
            }
            let client = IpGroup::of(ip);
            tracing::warn!(
                target: "keyward",
                event = "client_locked_out",
                client = %client,
                retry_after,
                "too many failed attempts; the client is locked out"
            );
            self.events.emit(|| KeyEvent::LockedOut {
                client,
                retry_after,
            });
        }
        decision
    }
}

#[async_trait]
impl FailureGuard for WatchedGuard {
    async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        self.inner.check(ip).await
    }

    async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        let decision = self.inner.record_failure(ip).await;
        self.recorded(ip, decision)
    }

    async fn budget(&self, ip: IpAddr) -> Result<FailureBudget, LimitError> {
        self.inner.budget(ip).await
    }

    async fn lock(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        let decision = self.inner.lock(ip).await;
        self.recorded(ip, decision)
    }

    #[inline]
    fn budget_now(&self, ip: IpAddr) -> Option<Result<FailureBudget, LimitError>> {
        self.inner.budget_now(ip)
    }

    #[inline]
    fn check_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        self.inner.check_now(ip)
    }

    fn record_failure_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        let decision = self.inner.record_failure_now(ip)?;
        Some(self.recorded(ip, decision))
    }
}
