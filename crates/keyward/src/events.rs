//! [`KeyEvent`]: what keyward tells a subscriber, as it happens.
//!
//! Subscribe with [`crate::KeywardBuilder::event_sink`]: a closure, a
//! [`tokio::sync::broadcast::Sender`] or any [`EventSink`]. Without a sink no event is
//! built, so the request path pays nothing. An event never holds a key or a hash.

use std::net::IpAddr;
use std::sync::Arc;

use keyward_format::KeyId;
use keyward_limit::IpGroup;
use keyward_store::AuditEntry;

use crate::error::ErrorCode;

/// One thing that happened to a key or a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyEvent {
    /// A management action succeeded (minted, rolled, revoked, deleted, disabled,
    /// enabled, expiry set, honeytoken tripped, leaked): the entry the audit log got.
    Changed(AuditEntry),
    /// A request presented a key past its expiry (or its grace, or unused for too long).
    ExpiredKeyUsed {
        /// The expired key.
        key: KeyId,
        /// The client's group, as lockout counts it.
        client: IpGroup,
    },
    /// A request was refused: every refusal, including the expired-key ones above.
    Refused {
        /// The contract error code answered.
        code: ErrorCode,
        /// The client's group, as lockout counts it.
        client: IpGroup,
        /// The presented key's public id, when it parsed.
        key: Option<KeyId>,
    },
    /// A key went over its rate limit (answered 429 `rate_limited`).
    RateLimited {
        /// The key.
        key: KeyId,
        /// The client's group.
        client: IpGroup,
        /// Seconds until a request would pass.
        retry_after: u64,
    },
    /// A client group was locked out after failed attempts (the first 429
    /// `too_many_failed_attempts` of a lockout).
    LockedOut {
        /// The client's group.
        client: IpGroup,
        /// Seconds until it may try again.
        retry_after: u64,
    },
    /// A request presented a honeytoken: a decoy key, planted where only a leak would
    /// find it. It was answered as an unknown key and its client locked out.
    Honeytoken {
        /// The honeytoken.
        key: KeyId,
        /// The client's address (not its group: this is an alert about one client).
        client: IpAddr,
        /// The request's `User-Agent`, without control characters.
        user_agent: Option<String>,
    },
}

impl KeyEvent {
    /// A short name for the kind of event: `changed`, `expired_key_used`, `refused`,
    /// `rate_limited`, `locked_out`, `honeytoken`.
    pub fn kind(&self) -> &'static str {
        match self {
            KeyEvent::Changed(_) => "changed",
            KeyEvent::ExpiredKeyUsed { .. } => "expired_key_used",
            KeyEvent::Refused { .. } => "refused",
            KeyEvent::RateLimited { .. } => "rate_limited",
            KeyEvent::LockedOut { .. } => "locked_out",
            KeyEvent::Honeytoken { .. } => "honeytoken",
        }
    }
}

/// Receives [`KeyEvent`]s. Called inline on the request path: it must not block (send
/// to a channel, bump a counter).
pub trait EventSink: Send + Sync + 'static {
    /// One event.
    fn publish(&self, event: &KeyEvent);
}

impl<F> EventSink for F
where
    F: Fn(&KeyEvent) + Send + Sync + 'static,
{
    fn publish(&self, event: &KeyEvent) {
        self(event)
    }
}

/// Every receiver gets a clone; with none, or when they lag, events are dropped.
impl EventSink for tokio::sync::broadcast::Sender<KeyEvent> {
    fn publish(&self, event: &KeyEvent) {
        let _ = self.send(event.clone());
    }
}

/// Events go nowhere unless a sink is configured; the check is one branch.
#[derive(Clone, Default)]
pub(crate) struct Events {
    sink: Option<Arc<dyn EventSink>>,
}

impl Events {
    pub(crate) fn new(sink: Option<Arc<dyn EventSink>>) -> Self {
        Events { sink }
    }

    /// Whether anyone listens (build the event only then).
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.sink.is_some()
    }

    /// Publishes the event `make` builds, when a sink is configured.
    #[inline]
    pub(crate) fn emit(&self, make: impl FnOnce() -> KeyEvent) {
        if let Some(sink) = &self.sink {
            sink.publish(&make());
        }
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("sink", &self.sink.is_some())
            .finish()
    }
}
